package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"

	"govlive/bot"
	"govlive/content"
)

// conn is one viewer's websocket. The handler goroutine reads; its writer
// goroutine alone writes, from the welcome and the bounded queue.
type conn struct {
	h       *Hubs
	ws      *fws.Conn // not contrib's Conn: that one is pooled and emptied when the handler returns
	nc      net.Conn  // the socket: closing it wakes the reader and a blocked writer
	session content.SessionID
	log     *slog.Logger
	cancel  context.CancelFunc // the handler's context, for the Chat calls

	viewer, nick string        // set before joining the hub
	skip         bot.MessageID // message events up to this id were in the welcome; set before welcome is sent

	welcome chan item // the first frame, once
	queue   chan item

	once   sync.Once
	kill   chan struct{} // closed by abort
	killed atomic.Bool
	busy   atomic.Bool // the writer is in a write
	code   int         // close code and reason, set before kill is closed
	reason string
	last   *item // a frame to write before closing
}

type offerResult int

const (
	queued offerResult = iota
	full
	gone
)

// offer queues it without blocking.
func (c *conn) offer(it item) offerResult {
	if c.killed.Load() {
		return gone
	}
	select {
	case c.queue <- it:
		return queued
	default:
		return full
	}
}

// abort ends the connection: the writer sends a close frame with code (0:
// none) and closes the socket. A write in progress gets closeGrace to
// finish (rarely, when abort comes just as it starts, WriteTimeout).
func (c *conn) abort(code int, reason string) {
	c.end(code, reason, nil)
}

// fail sends frame, then closes with code.
func (c *conn) fail(frame any, code int, reason string) {
	it, err := frameItem(frame)
	if err != nil {
		c.log.Error("encode chat frame", "err", err)
		c.abort(code, reason)
		return
	}
	c.end(code, reason, &it)
}

func (c *conn) end(code int, reason string, last *item) {
	c.once.Do(func() {
		c.code, c.reason, c.last = code, reason, last
		c.killed.Store(true)
		close(c.kill)
		c.cancel()
	})
	if c.busy.Load() {
		_ = c.nc.SetWriteDeadline(time.Now().Add(closeGrace)) // a failure means the socket is closed already
	}
}

// reply queues a frame for the client; a client too far behind is cut off.
func (c *conn) reply(frame any) {
	it, err := frameItem(frame)
	if err != nil {
		c.log.Error("encode chat frame", "err", err)
		return
	}
	if c.offer(it) == full {
		c.h.cutOff.Add(1)
		c.log.Warn("chat client cut off: send queue full", "viewer", c.viewer)
		c.abort(websocket.CloseTryAgainLater, "消息积压过多，请重新连接")
	}
}

func (c *conn) sayError(msg string) { c.reply(errorFrame{Type: "error", Error: msg}) }

// writeLoop writes the welcome, then the queue, and pings.
func (c *conn) writeLoop() {
	ping := time.NewTicker(c.h.cfg.PingInterval)
	defer ping.Stop()
	welcome := c.welcome
	var queue chan item // nil until the welcome is out
	for {
		select {
		case <-c.kill:
			c.finish()
			return
		case it := <-welcome:
			welcome, queue = nil, c.queue
			if !c.write(it) {
				c.finish()
				return
			}
		case it := <-queue:
			if it.post != 0 && it.post <= c.skip {
				continue
			}
			if !c.write(it) {
				c.finish()
				return
			}
		case <-ping.C:
			if !c.ping() {
				c.finish()
				return
			}
		}
	}
}

func (c *conn) write(it item) bool {
	c.busy.Store(true)
	defer c.busy.Store(false)
	if c.killed.Load() {
		return false
	}
	if err := c.ws.SetWriteDeadline(time.Now().Add(c.h.cfg.WriteTimeout)); err != nil {
		c.abort(0, "")
		return false
	}
	if err := c.ws.WritePreparedMessage(it.pm); err != nil {
		c.log.Debug("chat write failed", "viewer", c.viewer, "err", err)
		c.abort(0, "")
		return false
	}
	if it.event {
		c.h.delivered.Add(1)
	}
	return true
}

func (c *conn) ping() bool {
	c.busy.Store(true)
	defer c.busy.Store(false)
	if c.killed.Load() {
		return false
	}
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.h.cfg.WriteTimeout)); err != nil {
		c.abort(0, "")
		return false
	}
	return true
}

// finish writes the last frame and the close frame, if any, each within
// closeGrace; then the reader has closeGrace for the client's answer
// before the socket is closed.
func (c *conn) finish() {
	<-c.kill // set by whoever ended the connection
	if c.code != 0 {
		deadline := time.Now().Add(closeGrace)
		if c.last != nil {
			if err := c.ws.SetWriteDeadline(deadline); err == nil {
				_ = c.ws.WritePreparedMessage(c.last.pm) // the client may be gone: nothing to do
			}
		}
		err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.code, c.reason), deadline)
		// Then the reader waits a moment for the client's close frame:
		// closing at once, with the client's frames unread, would reset
		// the connection and lose ours.
		if err == nil && c.nc.SetReadDeadline(time.Now().Add(closeGrace)) == nil {
			return
		}
	}
	_ = c.nc.Close() // the reader wakes up with an error
}

// drain discards what the client still sends, for a moment, after a
// frame too large for the reader (see finish).
func (c *conn) drain() {
	if c.nc.SetReadDeadline(time.Now().Add(closeGrace)) == nil {
		_, _ = io.Copy(io.Discard, c.ws.NetConn()) // ends at the deadline or the client's close
	}
}

// serve is one connection's handler goroutine.
func (h *Hubs) serve(ws *websocket.Conn) {
	session := content.SessionID(ws.Params("id"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &conn{
		h:       h,
		ws:      ws.Conn,
		nc:      socket(ws.NetConn()),
		session: session,
		log:     h.log.With("session", session),
		cancel:  cancel,
		welcome: make(chan item, 1),
		queue:   make(chan item, h.cfg.SendQueue),
		kill:    make(chan struct{}),
	}
	if !h.enter(c) {
		_ = ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseServiceRestart, "服务重启，请稍后重连"), time.Now().Add(closeGrace))
		return
	}
	defer h.exit(c)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.writeLoop()
	}()
	defer func() {
		c.abort(0, "")
		<-done
	}()
	if err := c.read(ctx); errors.Is(err, fws.ErrReadLimit) {
		c.drain() // the reader already sent 1009
	}
}

// socket is the connection under fasthttp's hijacked one, whose Close
// does nothing (fasthttp closes it when the handler returns).
func socket(nc net.Conn) net.Conn {
	if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
		return u.UnsafeConn()
	}
	return nc
}

// refusal says in Chinese why a frame cannot be taken; the connection
// goes on.
type refusal string

// read handles the join, then the client's frames, until the connection
// ends.
func (c *conn) read(ctx context.Context) error {
	h := c.h
	pongWait := 2 * h.cfg.PingInterval
	c.ws.SetReadLimit(hardFrame)
	if err := c.ws.SetReadDeadline(time.Now().Add(pongWait)); err != nil {
		return err
	}
	c.ws.SetPongHandler(func(string) error { return c.extend(pongWait) })

	f, ref, err := c.next(pongWait)
	if errors.Is(err, errClosing) {
		return c.linger()
	}
	if err != nil {
		return err
	}
	if ref == "" {
		ref = c.identify(f)
	}
	if ref != "" {
		c.fail(errorFrame{Type: "error", Error: string(ref)}, websocket.ClosePolicyViolation, "须先发送有效的 join")
		return c.linger()
	}
	hb, err := h.acquire(c.session)
	if err != nil {
		c.abort(websocket.CloseServiceRestart, "服务重启，请稍后重连")
		return c.linger()
	}
	defer h.release(hb, c)
	ok, err := hb.join(c)
	switch {
	case err != nil:
		c.abort(websocket.CloseServiceRestart, "服务重启，请稍后重连")
		return c.linger()
	case !ok:
		c.fail(errorFrame{Type: "error", Error: "本场聊天人数已满，请稍后再试"}, websocket.CloseTryAgainLater, "聊天人数已满")
		return c.linger()
	}
	w, err := c.greet(ctx, f.After)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("chat welcome", "err", err)
		}
		c.fail(errorFrame{Type: "error", Error: "聊天暂时无法连接，请稍后重试"}, websocket.CloseInternalServerErr, "聊天暂时不可用")
		return c.linger()
	}
	c.welcome <- w

	for {
		f, ref, err := c.next(pongWait)
		if errors.Is(err, errClosing) {
			return c.linger()
		}
		if err != nil {
			return err
		}
		if ref != "" {
			c.sayError(string(ref))
			continue
		}
		c.handle(ctx, f)
	}
}

// linger reads and discards until the client answers the close frame or
// finish's short deadline passes.
func (c *conn) linger() error {
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	}
}

// errClosing ends the reader once the connection is being closed.
var errClosing = errors.New("webchat: connection closing")

// extend moves the read deadline on, unless the connection is being
// closed: then finish's short deadline stands (set after kill, so one of
// the two sees the other).
func (c *conn) extend(wait time.Duration) error {
	if err := c.ws.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	if c.killed.Load() {
		return errClosing
	}
	return nil
}

// next reads one frame: err when the connection has ended, a refusal when
// the frame cannot be taken.
func (c *conn) next(pongWait time.Duration) (inFrame, refusal, error) {
	mt, r, err := c.ws.NextReader()
	if err != nil {
		return inFrame{}, "", err
	}
	if err := c.extend(pongWait); err != nil {
		return inFrame{}, "", err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFrame+1))
	if err != nil {
		return inFrame{}, "", err
	}
	if len(data) > MaxFrame {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return inFrame{}, "", err
		}
		return inFrame{}, "消息过长：每条最多 4 KB", nil
	}
	if mt != websocket.TextMessage {
		return inFrame{}, "只接受文本消息", nil
	}
	var f inFrame
	if err := json.Unmarshal(data, &f); err != nil || f.Type == "" {
		return inFrame{}, "消息格式无效", nil
	}
	return f, "", nil
}

// identify checks the join frame and derives the viewer.
func (c *conn) identify(f inFrame) refusal {
	key := strings.TrimSpace(f.Key)
	switch {
	case f.Type != "join":
		return "请先发送 join 消息"
	case key == "" || len(key) > maxKey:
		return "join 消息缺少有效的 key"
	case f.After < 0:
		return "join 消息的 after 无效"
	}
	c.viewer = viewerID(c.h.cfg.Secret, key)
	c.nick = nickname(f.Nick, c.viewer)
	c.log = c.log.With("viewer", c.viewer)
	return ""
}

// greet builds the welcome and sets skip. The connection has joined the
// hub already, so every post stored from now on also comes as an event.
func (c *conn) greet(ctx context.Context, after bot.MessageID) (item, error) {
	chat := c.h.cfg.Chat
	st, err := chat.State(ctx, c.session)
	if err != nil {
		return item{}, err
	}
	var posts []bot.Post
	reset := false
	if after > 0 {
		if posts, err = chat.History(ctx, c.session, after, resumeSize+1); err != nil {
			return item{}, err
		}
		reset = len(posts) > resumeSize
	}
	if after == 0 || reset {
		if posts, err = chat.History(ctx, c.session, 0, historySize); err != nil {
			return item{}, err
		}
		after = 0
	}
	rated, err := chat.Rated(ctx, c.session, c.viewer)
	if err != nil {
		return item{}, err
	}
	shown := make([]bot.Post, 0, len(posts))
	c.skip = after
	for _, p := range posts {
		if p.Hidden || p.ID <= after {
			continue
		}
		shown = append(shown, p)
		c.skip = max(c.skip, p.ID)
	}
	return frameItem(welcomeFrame{
		Type: "welcome", Viewer: c.viewer, Nick: c.nick,
		Pinned: st.Pinned, Segment: st.Segment, History: shown, Reset: reset, Rated: rated,
	})
}

func (c *conn) sender() bot.Sender {
	return bot.Sender{Channel: bot.ChannelWeb, ID: c.viewer, Nick: c.nick}
}

// handle answers one frame after the join.
func (c *conn) handle(ctx context.Context, f inFrame) {
	chat := c.h.cfg.Chat
	switch f.Type {
	case "say":
		if len(f.Ref) > maxRef {
			c.sayError("ref 过长")
			return
		}
		if strings.TrimSpace(f.Text) == "" {
			c.reply(ackFrame{Type: "ack", Ref: f.Ref, Refused: "消息不能为空"})
			return
		}
		sub, err := chat.Submit(ctx, bot.Inbound{Session: c.session, Sender: c.sender(), Text: f.Text})
		if err != nil {
			if ctx.Err() == nil {
				c.log.Error("chat submit", "err", err)
				c.reply(ackFrame{Type: "ack", Ref: f.Ref, Refused: "发送失败，请稍后重试"})
			}
			return
		}
		if sub.Refused != "" {
			c.reply(ackFrame{Type: "ack", Ref: f.Ref, Refused: sub.Refused})
			return
		}
		c.reply(ackFrame{Type: "ack", Ref: f.Ref, ID: sub.Post.ID})
	case "plus":
		if f.ID <= 0 {
			c.sayError("plus 消息缺少 id")
			return
		}
		c.done(ctx, "chat plus", chat.Plus(ctx, c.session, f.ID, c.sender()))
	case "rate":
		if f.ID <= 0 || (f.Up == nil && f.Level == nil) {
			c.sayError("rate 消息须有 id 和 up 或 level")
			return
		}
		level, up := 0, false
		if f.Level != nil {
			if *f.Level < 1 || *f.Level > 5 {
				c.sayError("rate 消息的 level 须为 1–5（5 非常满意 … 1 非常不满意）")
				return
			}
			level, up = *f.Level, *f.Level >= 3
		} else {
			up = *f.Up
		}
		c.done(ctx, "chat rate", chat.Rate(ctx, c.session, f.ID, c.sender(), up, level))
	case "ping":
		c.reply(pongFrame{Type: "pong"})
	case "join":
		c.sayError("已经加入，无需再次 join")
	default:
		c.sayError("未知的消息类型")
	}
}

// done reports a failed +1 or rating to the client and the log.
func (c *conn) done(ctx context.Context, what string, err error) {
	if err == nil || ctx.Err() != nil {
		return
	}
	c.log.Warn(what, "err", err)
	c.sayError("操作失败，请稍后重试")
}
