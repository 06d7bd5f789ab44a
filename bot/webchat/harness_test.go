package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"

	"govlive/bot"
	"govlive/content"
)

// fakeChat is the pipeline as the hub sees it: posts in memory with
// increasing ids, every accepted message published, a reply to a
// question (text ending in ？).
type fakeChat struct {
	mu     sync.Mutex
	pub    bot.Publisher
	next   bot.MessageID
	posts  []bot.Post
	state  bot.SessionState
	pluses []string                         // "session/post/viewer"
	rates  []string                         // "session/post/viewer/up[/level]"
	levels map[string]map[bot.MessageID]int // by viewer: what Rated returns

	// Called inside History, before and after it reads the posts.
	beforeHistory, afterHistory func()
}

// store adds a post and publishes it.
func (f *fakeChat) store(session content.SessionID, author bot.Sender, text string, hidden bool) bot.Post {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	p := bot.Post{ID: f.next, Session: session, Author: author, Text: text, Time: time.Now(), Hidden: hidden}
	f.posts = append(f.posts, p)
	if f.pub != nil {
		f.pub.Publish(bot.Event{Kind: bot.EventMessage, Session: session, Time: p.Time, Post: &p})
	}
	return p
}

func (f *fakeChat) Submit(_ context.Context, in bot.Inbound) (bot.Submitted, error) {
	if strings.HasPrefix(in.Text, "refuse") {
		return bot.Submitted{Refused: "发送太快，请稍后再试"}, nil
	}
	if strings.HasPrefix(in.Text, "fail") {
		return bot.Submitted{}, errors.New("store down")
	}
	p := f.store(in.Session, in.Sender, in.Text, false)
	sub := bot.Submitted{Post: p}
	if strings.HasSuffix(in.Text, "？") {
		r := f.store(in.Session, bot.BotSender, "请参阅《社保办理指南》", false)
		sub.Reply = &r
	}
	return sub, nil
}

func (f *fakeChat) Plus(_ context.Context, session content.SessionID, post bot.MessageID, by bot.Sender) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if post > f.next {
		return fmt.Errorf("post %d: not found", post)
	}
	f.pluses = append(f.pluses, fmt.Sprintf("%s/%d/%s", session, post, by.ID))
	return nil
}

func (f *fakeChat) Rate(_ context.Context, session content.SessionID, reply bot.MessageID, by bot.Sender, up bool, level int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := fmt.Sprintf("%s/%d/%s/%v", session, reply, by.ID, up)
	if level > 0 {
		r += fmt.Sprintf("/%d", level)
	}
	f.rates = append(f.rates, r)
	if level > 0 {
		if f.levels == nil {
			f.levels = map[string]map[bot.MessageID]int{}
		}
		if f.levels[by.ID] == nil {
			f.levels[by.ID] = map[bot.MessageID]int{}
		}
		f.levels[by.ID][reply] = level
	}
	return nil
}

func (f *fakeChat) History(_ context.Context, session content.SessionID, after bot.MessageID, limit int) ([]bot.Post, error) {
	if f.beforeHistory != nil {
		f.beforeHistory()
	}
	f.mu.Lock()
	var vis []bot.Post
	for _, p := range f.posts {
		if p.Session == session && !p.Hidden && p.ID > after {
			vis = append(vis, p)
		}
	}
	f.mu.Unlock()
	if after == 0 && len(vis) > limit {
		vis = vis[len(vis)-limit:]
	}
	if after > 0 && len(vis) > limit {
		vis = vis[:limit]
	}
	if f.afterHistory != nil {
		f.afterHistory()
	}
	return vis, nil
}

func (f *fakeChat) State(context.Context, content.SessionID) (bot.SessionState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state, nil
}

func (f *fakeChat) Rated(_ context.Context, _ content.SessionID, viewer string) (map[bot.MessageID]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[bot.MessageID]int{}
	for id, l := range f.levels[viewer] {
		out[id] = l
	}
	return out, nil
}

var viewerA = bot.Sender{Channel: bot.ChannelWeb, ID: "w-test", Nick: "甲"}

// harness is the hubs behind a real fiber app on loopback.
type harness struct {
	hubs *Hubs
	chat *fakeChat
	base string // ws://127.0.0.1:port/api/sessions/
	http string
	stop func()
}

type listenOpt struct {
	sndbuf int // SO_SNDBUF of accepted connections, when > 0
}

// smallBuffers shrinks the kernel's send buffers of the server's
// connections, so that a client that does not read is noticed after a
// few frames rather than megabytes.
type smallBuffers struct {
	net.Listener
	size int
}

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		if err := tc.SetWriteBuffer(l.size); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func start(t testing.TB, cfg Config, opt listenOpt) *harness {
	t.Helper()
	chat := &fakeChat{state: bot.SessionState{Pinned: "今日主题：社保", Segment: 2}}
	cfg.Chat = chat
	cfg.Allow = func(_ *fiber.Ctx, s content.SessionID) error {
		if s == "nope" {
			return fiber.ErrNotFound
		}
		return nil
	}
	hubs, err := NewHubs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	chat.pub = hubs

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/api/sessions/:id/chat/ws", Upgrade(), hubs.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var l net.Listener = ln
	if opt.sndbuf > 0 {
		l = smallBuffers{Listener: ln, size: opt.sndbuf}
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(l) }()

	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- hubs.Run(ctx) }()
	waitRunning(t, hubs)

	h := &harness{
		hubs: hubs,
		chat: chat,
		base: "ws://" + ln.Addr().String() + "/api/sessions/",
		http: "http://" + ln.Addr().String() + "/api/sessions/",
	}
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-ran; err != nil {
				t.Errorf("Run: %v", err)
			}
			checkNoGoroutines(t)
			if err := app.Shutdown(); err != nil {
				t.Errorf("shutdown: %v", err)
			}
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(h.stop)
	return h
}

// waitRunning waits until Run has taken over (Run has no ready signal: it
// only flips a state).
func waitRunning(t testing.TB, h *Hubs) {
	t.Helper()
	for range 1000 {
		h.mu.RLock()
		ok := h.state == stateRunning
		h.mu.RUnlock()
		if ok {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("Run did not start")
}

// checkNoGoroutines fails when a goroutine of the package is left. The
// last handlers may still be returning from the deferred Done that let
// Run end, so it looks again for a while before failing.
func checkNoGoroutines(t testing.TB) {
	t.Helper()
	var left []string
	for range 500 {
		buf := make([]byte, 8<<20)
		n := runtime.Stack(buf, true)
		left = left[:0]
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if strings.Contains(g, "webchat.(*Hubs)") || strings.Contains(g, "webchat.(*hub)") || strings.Contains(g, "webchat.(*conn)") {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d goroutines left after Run returned:\n%s", len(left), strings.Join(left, "\n\n"))
}

// out is any server frame.
type out struct {
	Type    string                `json:"type"`
	Viewer  string                `json:"viewer"`
	Nick    string                `json:"nick"`
	Pinned  string                `json:"pinned"`
	Segment int                   `json:"segment"`
	History []bot.Post            `json:"history"`
	Reset   bool                  `json:"reset"`
	Event   *bot.Event            `json:"event"`
	Ref     string                `json:"ref"`
	ID      bot.MessageID         `json:"id"`
	Refused string                `json:"refused"`
	Error   string                `json:"error"`
	Rated   map[bot.MessageID]int `json:"rated"`

	raw []byte
}

// tclient is a real websocket client.
type tclient struct {
	t  *testing.T
	ws *fws.Conn
}

// safety bounds a read that should succeed, so a broken hub fails the
// test instead of hanging it; no test depends on it.
const safety = 30 * time.Second

type dialOpt struct {
	rcvbuf int // SO_RCVBUF, when > 0
}

func (h *harness) dial(t *testing.T, session string, opt dialOpt) *tclient {
	t.Helper()
	ws, err := h.tryDial(session, opt)
	if err != nil {
		t.Fatalf("dial %s: %v", session, err)
	}
	c := &tclient{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.Close() })
	return c
}

func (h *harness) tryDial(session string, opt dialOpt) (*fws.Conn, error) {
	d := fws.Dialer{HandshakeTimeout: safety}
	if opt.rcvbuf > 0 {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, opt.rcvbuf)
			})
			return errors.Join(err, serr)
		}}
		d.NetDialContext = nd.DialContext
	}
	ws, resp, err := d.Dial(h.base+session+"/chat/ws", nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w (status %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	return ws, nil
}

func (c *tclient) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *tclient) sendRaw(kind int, data []byte) {
	c.t.Helper()
	if err := c.ws.WriteMessage(kind, data); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// read returns the next frame, or the error that ended the connection.
func (c *tclient) read() (out, error) {
	if err := c.ws.SetReadDeadline(time.Now().Add(safety)); err != nil {
		return out{}, err
	}
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		return out{}, err
	}
	var o out
	if err := json.Unmarshal(data, &o); err != nil {
		return out{}, fmt.Errorf("frame %q: %w", data, err)
	}
	o.raw = data
	return o, nil
}

func (c *tclient) next() out {
	c.t.Helper()
	o, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return o
}

// expect reads the next frame and checks its type.
func (c *tclient) expect(typ string) out {
	c.t.Helper()
	o := c.next()
	if o.Type != typ {
		c.t.Fatalf("got frame %s, want %s", o.raw, typ)
	}
	return o
}

func (c *tclient) join(nick, key string, after bot.MessageID) out {
	c.t.Helper()
	c.send(map[string]any{"type": "join", "nick": nick, "key": key, "after": after})
	return c.expect("welcome")
}

// closed reads until the connection ends and returns the close code
// (1006 when it ended without a close frame) and the frames before it.
func (c *tclient) closed() (int, []out) {
	c.t.Helper()
	var frames []out
	for {
		o, err := c.read()
		if err == nil {
			frames = append(frames, o)
			continue
		}
		var ce *fws.CloseError
		if errors.As(err, &ce) {
			return ce.Code, frames
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("connection still open after %v", safety)
		}
		c.t.Logf("connection ended: %v", err)
		return fws.CloseAbnormalClosure, frames
	}
}

func ids(posts []bot.Post) []bot.MessageID {
	var r []bot.MessageID
	for _, p := range posts {
		r = append(r, p.ID)
	}
	return r
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}
