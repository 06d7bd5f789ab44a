package webchat

import (
	"log/slog"
	"time"

	"github.com/gofiber/contrib/websocket"

	"govlive/bot"
	"govlive/content"
)

// hub is one session's fan-out: its goroutine alone holds the session's
// connections.
type hub struct {
	h       *Hubs
	session content.SessionID
	log     *slog.Logger
	inbox   chan bot.Event
	joins   chan joinRequest
	leaves  chan *conn
	done    chan struct{} // closed when run returns

	refs int // handlers holding the hub; guarded by h.mu

	conns map[*conn]struct{} // run only
}

type joinRequest struct {
	c  *conn
	ok chan bool // buffered: the hub answers without waiting
}

func newHub(h *Hubs, session content.SessionID) *hub {
	return &hub{
		h:       h,
		session: session,
		log:     h.log.With("session", session),
		inbox:   make(chan bot.Event, h.cfg.Inbox),
		joins:   make(chan joinRequest),
		leaves:  make(chan *conn),
		done:    make(chan struct{}),
		conns:   make(map[*conn]struct{}),
	}
}

// join adds c to the hub: false when the session is full; errStopped when
// the hub has ended.
func (hb *hub) join(c *conn) (bool, error) {
	r := joinRequest{c: c, ok: make(chan bool, 1)}
	select {
	case hb.joins <- r:
	case <-hb.done:
		return false, errStopped
	}
	return <-r.ok, nil
}

func (hb *hub) run() {
	defer hb.h.wg.Done()
	defer close(hb.done)
	defer hb.h.sessions.Add(-1)
	grace := hb.h.cfg.IdleGrace
	idle := time.NewTimer(grace)
	defer idle.Stop()
	for {
		select {
		case <-hb.h.stop:
			hb.h.connections.Add(-int64(len(hb.conns)))
			return
		case r := <-hb.joins:
			if len(hb.conns) >= hb.h.cfg.MaxConnsPerSession {
				r.ok <- false
				continue
			}
			hb.conns[r.c] = struct{}{}
			hb.h.connections.Add(1)
			idle.Stop()
			r.ok <- true
		case c := <-hb.leaves:
			hb.remove(c)
			if len(hb.conns) == 0 {
				idle.Reset(grace)
			}
		case e := <-hb.inbox:
			hb.deliver(e)
		case <-idle.C:
			if len(hb.conns) == 0 && hb.h.retire(hb) {
				return
			}
		}
	}
}

func (hb *hub) remove(c *conn) {
	if _, ok := hb.conns[c]; ok {
		delete(hb.conns, c)
		hb.h.connections.Add(-1)
	}
}

// deliver queues e for every connection that may see it, cutting off the
// ones whose queue is full.
func (hb *hub) deliver(e bot.Event) {
	to := ""
	switch {
	case e.Kind == bot.EventNotice:
		if e.To == "" {
			return
		}
		to = e.To
	case !e.Public():
		return
	}
	if len(hb.conns) == 0 {
		return
	}
	it, err := frameItem(eventFrame{Type: "event", Event: e})
	if err != nil {
		hb.log.Error("encode chat event", "kind", e.Kind, "err", err)
		return
	}
	it.event = true
	if e.Kind == bot.EventMessage && e.Post != nil {
		it.post = e.Post.ID
	}
	for c := range hb.conns {
		if to != "" && c.viewer != to {
			continue
		}
		switch c.offer(it) {
		case queued:
		case gone:
			hb.remove(c)
		case full:
			hb.remove(c)
			hb.h.cutOff.Add(1)
			hb.log.Warn("chat client cut off: send queue full", "viewer", c.viewer)
			c.abort(websocket.CloseTryAgainLater, "消息积压过多，请重新连接")
		}
	}
}
