package studio

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"govlive/bot"
	"govlive/content"
)

// Console delivers every event of a session's chat — hidden messages,
// cases and mutes included — to the anchors' consoles over a websocket
// (GET /api/sessions/{id}/events/ws, behind anchorOnly). It is a
// bot.Publisher: Publish never blocks; a console that does not keep up
// is disconnected (it reconnects and reloads the lists).
type Console struct {
	mu    sync.RWMutex
	subs  map[content.SessionID]map[*consoleConn]struct{}
	queue int
	stop  chan struct{}
	once  sync.Once
}

type consoleConn struct {
	out  chan []byte
	kick chan struct{}
	once sync.Once
}

func (c *consoleConn) cut() { c.once.Do(func() { close(c.kick) }) }

// NewConsole returns a Console with queue frames of room per connection.
func NewConsole(queue int) *Console {
	if queue <= 0 {
		queue = 512
	}
	return &Console{subs: map[content.SessionID]map[*consoleConn]struct{}{}, queue: queue, stop: make(chan struct{})}
}

// Publish implements bot.Publisher.
func (k *Console) Publish(e bot.Event) {
	k.mu.RLock()
	subs := k.subs[e.Session]
	if len(subs) == 0 {
		k.mu.RUnlock()
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		k.mu.RUnlock()
		return
	}
	for c := range subs {
		select {
		case c.out <- b:
		default:
			c.cut()
		}
	}
	k.mu.RUnlock()
}

// Close disconnects every console (at shutdown).
func (k *Console) Close() { k.once.Do(func() { close(k.stop) }) }

// Run closes the consoles when ctx ends.
func (k *Console) Run(ctx context.Context) error {
	<-ctx.Done()
	k.Close()
	return nil
}

// Handler is the websocket route.
func (k *Console) Handler() fiber.Handler {
	ws := websocket.New(func(ws *websocket.Conn) {
		session := content.SessionID(ws.Params("id"))
		c := &consoleConn{out: make(chan []byte, k.queue), kick: make(chan struct{})}
		k.mu.Lock()
		if k.subs[session] == nil {
			k.subs[session] = map[*consoleConn]struct{}{}
		}
		k.subs[session][c] = struct{}{}
		k.mu.Unlock()
		defer func() {
			k.mu.Lock()
			delete(k.subs[session], c)
			if len(k.subs[session]) == 0 {
				delete(k.subs, session)
			}
			k.mu.Unlock()
		}()
		// The reader notices a closed socket; the console sends nothing.
		gone := make(chan struct{})
		go func() {
			defer close(gone)
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
		ping := time.NewTicker(25 * time.Second)
		defer ping.Stop()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"kind":"hello","session":`+jsonString(string(session))+`}`))
		for {
			var err error
			select {
			case b := <-c.out:
				_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
				err = ws.WriteMessage(websocket.TextMessage, b)
			case <-ping.C:
				err = ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second))
			case <-c.kick:
				_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1013, "too slow"), time.Now().Add(time.Second))
				err = context.Canceled
			case <-k.stop:
				_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "shutdown"), time.Now().Add(time.Second))
				err = context.Canceled
			case <-gone:
				err = context.Canceled
			}
			if err != nil {
				_ = ws.Close()
				<-gone
				return
			}
		}
	})
	return func(c *fiber.Ctx) error {
		if !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUpgradeRequired
		}
		return ws(c)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
