// Package webchat is the watch page's live chat over websockets: one hub
// per live session fans the session's events out to its viewers'
// connections, and what viewers write goes to the chat pipeline.
//
// # Protocol
//
// JSON text frames, at most 4 KB each from the client (a larger frame is
// refused with an error frame; one above 64 KB closes the connection with
// 1009). The first client frame must be a join:
//
//	{"type":"join","nick":"小王","key":"<random key kept in localStorage>","after":0}
//
// key identifies the browser: the server derives the viewer's anonymous id
// from it (HMAC-SHA256 with a server secret, "w-" and 16 hex digits), so
// the id is stable across reconnects and reveals nothing. nick is trimmed,
// stripped of control characters and cut to 20 runes; empty, it becomes
// "观众" and four digits of the id. after is the id of the last post the
// client saw (0 on a first visit). The server answers
//
//	{"type":"welcome","viewer":"w-…","nick":"小王","pinned":"…","segment":2,"history":[post…]}
//
// history is the last 50 visible posts, oldest first; on a resume
// (after > 0) it is exactly the visible posts with id > after, and no event
// of the connection repeats a post of history. When more than 500 posts
// were missed, history is the last 50 again and "reset":true tells the
// client to drop what it shows. Then the client may send
//
//	{"type":"say","text":"…","ref":"client nonce"}   → {"type":"ack","ref":"…","id":N} or {"type":"ack","ref":"…","refused":"原因"}
//	{"type":"plus","id":N}                           (+1 a question)
//	{"type":"rate","id":N,"up":true}                 (👍/👎 a reply)
//	{"type":"rate","id":N,"level":5}                 (好差评 1–5; ≥3 counts 👍)
//	{"type":"ping"}                                  → {"type":"pong"}
//
// and receives every public event of the session, and the notices
// addressed to its viewer id, as
//
//	{"type":"event","event":{bot.Event}}
//
// A frame the server cannot take is answered with {"type":"error","error":"中文说明"}
// and the connection stays; a first frame that is not a valid join is
// answered so and the connection closed (1008). The server pings every
// PingInterval. A connection that falls SendQueue frames behind is closed
// (1013: reconnect and resume); on shutdown every connection is closed
// with 1012.
//
// Texts are carried as JSON strings and never interpreted: the page
// escapes them when it renders.
package webchat

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"govlive/bot"
	"govlive/content"
)

// Chat is the pipeline behind the hub: it takes the viewers' messages,
// +1s and ratings, and answers a joining client's questions.
type Chat interface {
	Submit(ctx context.Context, in bot.Inbound) (bot.Submitted, error)
	// Plus +1s a viewer's question.
	Plus(ctx context.Context, session content.SessionID, post bot.MessageID, by bot.Sender) error
	// Rate rates a bot reply 👍 (up) or 👎.
	Rate(ctx context.Context, session content.SessionID, reply bot.MessageID, by bot.Sender, up bool, level int) error
	// History returns the session's public posts (not hidden), oldest
	// first: with after == 0 the last limit; else the first limit with
	// id > after.
	History(ctx context.Context, session content.SessionID, after bot.MessageID, limit int) ([]bot.Post, error)
	State(ctx context.Context, session content.SessionID) (bot.SessionState, error)
	// Rated returns the 好差评 levels (1–5) viewer gave the session's
	// replies, by reply.
	Rated(ctx context.Context, session content.SessionID, viewer string) (map[bot.MessageID]int, error)
}

// Limits of the protocol.
const (
	MaxFrame     = 4 << 10  // a larger client frame is refused
	hardFrame    = 64 << 10 // a larger one closes the connection
	historySize  = 50       // posts in a first welcome
	resumeSize   = 500      // posts a resume may catch up on
	maxKey       = 128
	maxRef       = 64
	maxNick      = 20
	closeGrace   = time.Second // to write a close frame
	dropLogEvery = 10 * time.Second
)

// ErrRunning is returned by a second call of Run.
var ErrRunning = errors.New("webchat: already running")

// Config is what NewHubs needs. Chat and Allow are required; zero values
// of the rest take the defaults noted.
type Config struct {
	Chat Chat
	// Allow is called before a connection is upgraded: an error refuses it
	// and is returned to fiber's error handler (which chooses the status).
	Allow func(c *fiber.Ctx, session content.SessionID) error
	Log   *slog.Logger     // default: discard
	Now   func() time.Time // default: time.Now; paces the log of dropped events
	// Secret keys the viewer ids; default: random per process (viewer ids
	// then change when the process restarts).
	Secret             []byte
	SendQueue          int           // frames queued per connection; default 256
	Inbox              int           // events queued per hub; default 1024
	WriteTimeout       time.Duration // default 10s
	PingInterval       time.Duration // default 25s; a client silent for twice as long is closed
	IdleGrace          time.Duration // how long a hub outlives its last connection; default 10s
	MaxConnsPerSession int           // default 5000
	// Origins, when not empty, are the only Origin headers accepted.
	Origins []string
}

// Stats are the hubs' counters.
type Stats struct {
	Connections int    `json:"connections"` // joined connections
	Sessions    int    `json:"sessions"`    // live hubs
	Delivered   uint64 `json:"delivered"`   // event frames written to clients
	CutOff      uint64 `json:"cut_off"`     // clients closed for falling behind
	Dropped     uint64 `json:"dropped"`     // events dropped at a full hub inbox
}

const (
	stateNew = iota
	stateRunning
	stateStopped
)

// Hubs holds one hub per live session and implements bot.Publisher.
type Hubs struct {
	cfg Config
	log *slog.Logger
	ws  fiber.Handler

	mu    sync.RWMutex
	state int
	hubs  map[content.SessionID]*hub
	conns map[*conn]struct{} // every connection handler, joined or not
	stop  chan struct{}      // closed when Run's ctx is done
	wg    sync.WaitGroup     // hubs and connection handlers

	connections atomic.Int64
	sessions    atomic.Int64
	delivered   atomic.Uint64
	cutOff      atomic.Uint64
	dropped     atomic.Uint64
	lastDropLog atomic.Int64 // unix nanoseconds
}

var _ bot.Publisher = (*Hubs)(nil)

// NewHubs checks cfg and returns the hubs; Run starts them.
func NewHubs(cfg Config) (*Hubs, error) {
	if cfg.Chat == nil {
		return nil, errors.New("webchat: Config.Chat is required")
	}
	if cfg.Allow == nil {
		return nil, errors.New("webchat: Config.Allow is required")
	}
	if cfg.SendQueue < 0 || cfg.Inbox < 0 || cfg.WriteTimeout < 0 || cfg.PingInterval < 0 ||
		cfg.IdleGrace < 0 || cfg.MaxConnsPerSession < 0 {
		return nil, errors.New("webchat: negative limit in Config")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Secret) == 0 {
		cfg.Secret = make([]byte, 32)
		if _, err := rand.Read(cfg.Secret); err != nil {
			return nil, fmt.Errorf("webchat: viewer secret: %w", err)
		}
	}
	if cfg.SendQueue == 0 {
		cfg.SendQueue = 256
	}
	if cfg.Inbox == 0 {
		cfg.Inbox = 1024
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = 25 * time.Second
	}
	if cfg.IdleGrace == 0 {
		cfg.IdleGrace = 10 * time.Second
	}
	if cfg.MaxConnsPerSession == 0 {
		cfg.MaxConnsPerSession = 5000
	}
	h := &Hubs{
		cfg:   cfg,
		log:   cfg.Log,
		hubs:  make(map[content.SessionID]*hub),
		conns: make(map[*conn]struct{}),
		stop:  make(chan struct{}),
	}
	h.ws = websocket.New(h.serve, websocket.Config{
		Origins:         cfg.Origins,
		ReadBufferSize:  2048,
		WriteBufferSize: 2048,
		WriteBufferPool: &sync.Pool{},
		RecoverHandler: func(*websocket.Conn) {
			if r := recover(); r != nil {
				h.log.Error("chat connection panicked", "panic", r)
			}
		},
	})
	return h, nil
}

// Run runs the hubs until ctx is done, then closes every connection and
// returns when every hub and connection goroutine has ended.
func (h *Hubs) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.state != stateNew {
		h.mu.Unlock()
		return ErrRunning
	}
	h.state = stateRunning
	h.mu.Unlock()

	<-ctx.Done()

	h.mu.Lock()
	h.state = stateStopped
	close(h.stop)
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.hubs = make(map[content.SessionID]*hub)
	h.mu.Unlock()
	for _, c := range conns {
		c.abort(websocket.CloseServiceRestart, "服务重启，请稍后重连")
	}
	h.wg.Wait()
	return nil
}

// Publish routes e to its session's hub without blocking; with nobody
// watching the session it is discarded.
func (h *Hubs) Publish(e bot.Event) {
	h.mu.RLock()
	hb := h.hubs[e.Session]
	h.mu.RUnlock()
	if hb == nil {
		return
	}
	select {
	case hb.inbox <- e:
	default:
		n := h.dropped.Add(1)
		now := h.cfg.Now().UnixNano()
		last := h.lastDropLog.Load()
		if now-last >= int64(dropLogEvery) && h.lastDropLog.CompareAndSwap(last, now) {
			h.log.Warn("chat hub inbox full, event dropped", "session", e.Session, "kind", e.Kind, "dropped", n)
		}
	}
}

// Stats returns the current counters.
func (h *Hubs) Stats() Stats {
	return Stats{
		Connections: int(h.connections.Load()),
		Sessions:    int(h.sessions.Load()),
		Delivered:   h.delivered.Load(),
		CutOff:      h.cutOff.Load(),
		Dropped:     h.dropped.Load(),
	}
}

// Handler is the websocket route; it reads the session id from the
// route parameter "id" and asks Config.Allow before upgrading.
func (h *Hubs) Handler() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUpgradeRequired
		}
		h.mu.RLock()
		running := h.state == stateRunning
		h.mu.RUnlock()
		if !running {
			return fiber.ErrServiceUnavailable
		}
		id := c.Params("id")
		if id == "" {
			return fiber.ErrBadRequest
		}
		if err := h.cfg.Allow(c, content.SessionID(utils.CopyString(id))); err != nil {
			return err
		}
		return h.ws(c)
	}
}

// Upgrade is middleware that answers 426 to anything but a websocket
// upgrade.
func Upgrade() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUpgradeRequired
		}
		return c.Next()
	}
}

// enter registers a connection handler while the hubs run.
func (h *Hubs) enter(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != stateRunning {
		return false
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	return true
}

func (h *Hubs) exit(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.wg.Done()
}

var errStopped = errors.New("webchat: stopped")

// acquire returns the session's hub, starting it if need be, and holds it
// until release.
func (h *Hubs) acquire(session content.SessionID) (*hub, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != stateRunning {
		return nil, errStopped
	}
	hb := h.hubs[session]
	if hb == nil {
		hb = newHub(h, session)
		h.hubs[session] = hb
		h.sessions.Add(1)
		h.wg.Add(1)
		go hb.run()
	}
	hb.refs++
	return hb, nil
}

func (h *Hubs) release(hb *hub, c *conn) {
	h.mu.Lock()
	hb.refs--
	h.mu.Unlock()
	select {
	case hb.leaves <- c:
	case <-hb.done:
	}
}

// retire removes an idle hub unless a handler holds it.
func (h *Hubs) retire(hb *hub) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hb.refs > 0 {
		return false
	}
	if h.hubs[hb.session] == hb {
		delete(h.hubs, hb.session)
	}
	return true
}
