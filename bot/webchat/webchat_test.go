package webchat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"

	"govlive/bot"
	"govlive/content"
)

func TestWelcomeHistory(t *testing.T) {
	h := start(t, Config{}, listenOpt{})
	var want []bot.MessageID
	for i := range 83 {
		p := h.chat.store("s1", viewerA, fmt.Sprintf("问题%d", i), i%30 == 29) // 2 hidden
		if !p.Hidden {
			want = append(want, p.ID)
		}
	}
	h.chat.store("s2", viewerA, "别的场次", false)
	want = want[len(want)-50:]

	c := h.dial(t, "s1", dialOpt{})
	w := c.join("  小王\u202e\n ", "browser-key-1", 0)
	if got := ids(w.History); !slices.Equal(got, want) {
		t.Errorf("history ids %v, want %v", got, want)
	}
	if w.Pinned != "今日主题：社保" || w.Segment != 2 {
		t.Errorf("pinned %q segment %d, want the session state", w.Pinned, w.Segment)
	}
	if w.Nick != "小王" {
		t.Errorf("nick %q, want 小王", w.Nick)
	}
	if !strings.HasPrefix(w.Viewer, "w-") || len(w.Viewer) != 18 || strings.Contains(w.Viewer, "browser") {
		t.Errorf("viewer %q, want w- and 16 hex digits", w.Viewer)
	}

	// The same key is the same viewer on a new connection; another key is not.
	again := h.dial(t, "s1", dialOpt{}).join("", "browser-key-1", 0)
	other := h.dial(t, "s1", dialOpt{}).join("", "browser-key-2", 0)
	if again.Viewer != w.Viewer || other.Viewer == w.Viewer {
		t.Errorf("viewers %s, %s, %s: want the first two equal, the third different", w.Viewer, again.Viewer, other.Viewer)
	}
	if !strings.HasPrefix(again.Nick, "观众") || len([]rune(again.Nick)) != 6 {
		t.Errorf("default nick %q, want 观众 and 4 digits", again.Nick)
	}
}

func TestNickname(t *testing.T) {
	const viewer = "w-00ff0123456789ab"
	for _, tc := range []struct{ name, in, want string }{
		{"kept", "小王", "小王"},
		{"trimmed", "  小王 ", "小王"},
		{"controls removed", "小\x00王\x1b[31m", "小王[31m"},
		{"bidi override removed", "\u202e王小", "王小"},
		{"inner spaces collapsed", "小  \t王", "小 王"},
		{"cut to 20 runes", strings.Repeat("长", 25), strings.Repeat("长", 20)},
		{"empty: default", " \n ", "观众0255"},
		{"only controls: default", "\x01\x02", "观众0255"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nickname(tc.in, viewer); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// collect reads frames until it has n events, and returns them and the
// other frames.
func collect(t *testing.T, c *tclient, n int) (events []bot.Event, others []out) {
	t.Helper()
	for len(events) < n {
		o := c.next()
		if o.Type == "event" {
			events = append(events, *o.Event)
		} else {
			others = append(others, o)
		}
	}
	return events, others
}

func TestTwoClients(t *testing.T) {
	h := start(t, Config{}, listenOpt{})
	a := h.dial(t, "s1", dialOpt{})
	b := h.dial(t, "s1", dialOpt{})
	wa := a.join("甲", "key-a", 0)
	wb := b.join("乙", "key-b", 0)

	a.send(map[string]any{"type": "say", "text": "大家好", "ref": "r1"})
	evA, othersA := collect(t, a, 1)
	if len(othersA) == 0 {
		othersA = append(othersA, a.next())
	}
	if ack := othersA[0]; ack.Type != "ack" || ack.Ref != "r1" || ack.ID != evA[0].Post.ID || ack.Refused != "" {
		t.Errorf("got %s, want an ack of r1 with the post id %d", ack.raw, evA[0].Post.ID)
	}
	evB, _ := collect(t, b, 1)
	for _, e := range []bot.Event{evA[0], evB[0]} {
		if e.Kind != bot.EventMessage || e.Post.Text != "大家好" || e.Post.Author.ID != wa.Viewer || e.Post.Author.Nick != "甲" {
			t.Errorf("got event %+v, want 甲's message", e)
		}
	}

	b.send(map[string]any{"type": "say", "text": "怎么办理社保？", "ref": "r2"})
	for _, c := range []*tclient{a, b} {
		evs, _ := collect(t, c, 2)
		if evs[0].Post.Author.ID != wb.Viewer || evs[1].Post.Author != bot.BotSender || evs[1].Post.Text != "请参阅《社保办理指南》" {
			t.Errorf("got %+v then %+v, want 乙's question then the bot's reply", evs[0].Post, evs[1].Post)
		}
	}

	// A reply published by the pipeline later, and another session's event.
	h.hubs.Publish(bot.Event{Kind: bot.EventMessage, Session: "s2", Post: &bot.Post{ID: 900, Text: "别处"}})
	h.hubs.Publish(bot.Event{Kind: bot.EventReplyDelta, Session: "s1", ID: 5, Delta: "根据"})
	for _, c := range []*tclient{a, b} {
		if e := c.expect("event").Event; e.Kind != bot.EventReplyDelta || e.Delta != "根据" {
			t.Errorf("got %+v, want the reply delta (and nothing of s2)", e)
		}
	}
}

func TestSlowClientCutOff(t *testing.T) {
	h := start(t, Config{SendQueue: 256}, listenOpt{sndbuf: 8 << 10})
	slow := h.dial(t, "s1", dialOpt{rcvbuf: 4 << 10})
	slow.join("慢", "key-slow", 0)
	type reader struct {
		c   *tclient
		got chan bot.MessageID
		err chan error
	}
	var fast []reader
	for i := range 2 {
		c := h.dial(t, "s1", dialOpt{})
		c.join("快", fmt.Sprint("key-fast", i), 0)
		r := reader{c: c, got: make(chan bot.MessageID, 5000), err: make(chan error, 1)}
		go func() {
			for {
				o, err := r.c.read()
				if err != nil {
					r.err <- err
					return
				}
				r.got <- o.Event.Post.ID
			}
		}()
		fast = append(fast, r)
	}

	// Rounds of 50, each read by the fast clients before the next: they
	// never lag by more than their queue, the slow one never reads.
	const total, round = 5000, 50
	pad := strings.Repeat("长", 400)
	for first := 1; first <= total; first += round {
		for id := first; id < first+round; id++ {
			h.hubs.Publish(bot.Event{Kind: bot.EventMessage, Session: "s1", Post: &bot.Post{ID: bot.MessageID(id), Text: pad}})
		}
		for i, r := range fast {
			for id := first; id < first+round; id++ {
				select {
				case got := <-r.got:
					if got != bot.MessageID(id) {
						t.Fatalf("fast client %d got post %d, want %d", i, got, id)
					}
				case err := <-r.err:
					t.Fatalf("fast client %d ended at post %d: %v", i, id, err)
				}
			}
		}
	}
	st := h.hubs.Stats()
	if st.CutOff != 1 || st.Connections != 2 || st.Dropped != 0 {
		t.Errorf("stats %+v, want 1 cut off, 2 connections, none dropped", st)
	}
	if st.Delivered < 2*total {
		t.Errorf("delivered %d, want at least %d", st.Delivered, 2*total)
	}
	code, frames := slow.closed()
	if len(frames) >= total {
		t.Errorf("slow client got %d frames, want it cut off before %d", len(frames), total)
	}
	for i, o := range frames {
		if o.Event == nil || o.Event.Post.ID != bot.MessageID(i+1) {
			t.Fatalf("slow client's frame %d: %s, want post %d", i, o.raw, i+1)
		}
	}
	if code != fws.CloseTryAgainLater && code != fws.CloseAbnormalClosure {
		t.Errorf("slow client closed with %d, want 1013 or no close frame", code)
	}
}

func TestResume(t *testing.T) {
	h := start(t, Config{}, listenOpt{})
	for i := range 10 {
		h.chat.store("s1", viewerA, fmt.Sprint("旧", i), false)
	}
	c := h.dial(t, "s1", dialOpt{})
	w := c.join("甲", "key-a", 0)
	last := w.History[len(w.History)-1].ID
	if err := c.ws.Close(); err != nil {
		t.Fatal(err)
	}
	var missed []bot.MessageID
	for i := range 5 {
		missed = append(missed, h.chat.store("s1", viewerA, fmt.Sprint("新", i), i == 2).ID)
	}
	missed = slices.Delete(missed, 2, 3) // the hidden one

	// While the welcome is built, one post is stored before History reads
	// (it is in history and must not come again as an event) and one
	// after (it must come as an event).
	var inHistory, afterHistory bot.MessageID
	h.chat.beforeHistory = func() { inHistory = h.chat.store("s1", viewerA, "之前", false).ID }
	h.chat.afterHistory = func() { afterHistory = h.chat.store("s1", viewerA, "之后", false).ID }
	c = h.dial(t, "s1", dialOpt{})
	w = c.join("甲", "key-a", last)
	h.chat.beforeHistory, h.chat.afterHistory = nil, nil
	if got, want := ids(w.History), append(missed, inHistory); !slices.Equal(got, want) || w.Reset {
		t.Errorf("resume history %v (reset %v), want %v", got, w.Reset, want)
	}
	h.chat.store("s1", viewerA, "再之后", false)
	evs, _ := collect(t, c, 2)
	if evs[0].Post.ID != afterHistory || evs[1].Post.Text != "再之后" {
		t.Errorf("events after the welcome: %d %q, %d %q; want %d 之后, then 再之后", evs[0].Post.ID, evs[0].Post.Text, evs[1].Post.ID, evs[1].Post.Text, afterHistory)
	}

	t.Run("too far behind", func(t *testing.T) {
		for range resumeSize + 1 {
			h.chat.store("s1", viewerA, "刷屏", false)
		}
		w := h.dial(t, "s1", dialOpt{}).join("甲", "key-a", last)
		if !w.Reset || len(w.History) != historySize || w.History[historySize-1].ID != h.chat.next {
			t.Errorf("got reset %v with %d posts, want reset with the last %d", w.Reset, len(w.History), historySize)
		}
	})
}

func TestEventRouting(t *testing.T) {
	h := start(t, Config{}, listenOpt{})
	a := h.dial(t, "s1", dialOpt{})
	b := h.dial(t, "s1", dialOpt{})
	wa := a.join("甲", "key-a", 0)
	b.join("乙", "key-b", 0)

	pub := func(e bot.Event) { e.Session = "s1"; h.hubs.Publish(e) }
	pub(bot.Event{Kind: bot.EventMessage, Post: &bot.Post{ID: 1, Text: "藏起来的", Hidden: true}})
	pub(bot.Event{Kind: bot.EventCase, Case: "console only"})
	pub(bot.Event{Kind: bot.EventMuted, Muted: &bot.Mute{Viewer: wa.Viewer}})
	pub(bot.Event{Kind: bot.EventNotice, To: "", Notice: "nobody"})
	pub(bot.Event{Kind: bot.EventNotice, To: wa.Viewer, Notice: "您发言太快，请稍后再试"})
	pub(bot.Event{Kind: bot.EventHidden, ID: 7})
	pub(bot.Event{Kind: bot.EventPinned, Pinned: "新公告"})

	for _, tc := range []struct {
		name string
		c    *tclient
		want []bot.EventKind
	}{
		{"addressee", a, []bot.EventKind{bot.EventNotice, bot.EventHidden, bot.EventPinned}},
		{"other viewer", b, []bot.EventKind{bot.EventHidden, bot.EventPinned}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, _ := collect(t, tc.c, len(tc.want))
			var got []bot.EventKind
			for _, e := range evs {
				got = append(got, e.Kind)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got events %v, want %v", got, tc.want)
			}
			if evs[0].Kind == bot.EventNotice && evs[0].Notice != "您发言太快，请稍后再试" {
				t.Errorf("notice %q", evs[0].Notice)
			}
		})
	}
}

func TestBadFrames(t *testing.T) {
	h := start(t, Config{}, listenOpt{})
	c := h.dial(t, "s1", dialOpt{})
	w := c.join("甲", "key-a", 0)
	for _, tc := range []struct {
		name  string
		kind  int
		frame string
		want  out
	}{
		{"not json", fws.TextMessage, `{"type":`, out{Type: "error", Error: "消息格式无效"}},
		{"no type", fws.TextMessage, `{"text":"你好"}`, out{Type: "error", Error: "消息格式无效"}},
		{"unknown type", fws.TextMessage, `{"type":"shout"}`, out{Type: "error", Error: "未知的消息类型"}},
		{"binary", fws.BinaryMessage, `{"type":"ping"}`, out{Type: "error", Error: "只接受文本消息"}},
		{"oversize", fws.TextMessage, `{"type":"say","text":"` + strings.Repeat("长", 1500) + `"}`, out{Type: "error", Error: "消息过长：每条最多 4 KB"}},
		{"join again", fws.TextMessage, `{"type":"join","key":"k"}`, out{Type: "error", Error: "已经加入，无需再次 join"}},
		{"plus without id", fws.TextMessage, `{"type":"plus"}`, out{Type: "error", Error: "plus 消息缺少 id"}},
		{"rate without up", fws.TextMessage, `{"type":"rate","id":3}`, out{Type: "error", Error: "rate 消息须有 id 和 up 或 level"}},
		{"plus refused by the chat", fws.TextMessage, `{"type":"plus","id":999}`, out{Type: "error", Error: "操作失败，请稍后重试"}},
		{"ref too long", fws.TextMessage, `{"type":"say","text":"x","ref":"` + strings.Repeat("r", 65) + `"}`, out{Type: "error", Error: "ref 过长"}},
		{"empty say", fws.TextMessage, `{"type":"say","text":"  ","ref":"e"}`, out{Type: "ack", Ref: "e", Refused: "消息不能为空"}},
		{"say refused", fws.TextMessage, `{"type":"say","text":"refuse me","ref":"f"}`, out{Type: "ack", Ref: "f", Refused: "发送太快，请稍后再试"}},
		{"say failed", fws.TextMessage, `{"type":"say","text":"fail me","ref":"g"}`, out{Type: "ack", Ref: "g", Refused: "发送失败，请稍后重试"}},
		{"ping", fws.TextMessage, `{"type":"ping"}`, out{Type: "pong"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.sendRaw(tc.kind, []byte(tc.frame))
			got := c.next()
			if got.Type != tc.want.Type || got.Error != tc.want.Error || got.Ref != tc.want.Ref || got.Refused != tc.want.Refused {
				t.Errorf("got %s, want %+v", got.raw, tc.want)
			}
			// The connection goes on.
			c.send(map[string]string{"type": "ping"})
			c.expect("pong")
		})
	}

	h.chat.store("s1", viewerA, "问题", false)
	c.expect("event")
	c.send(map[string]any{"type": "plus", "id": 1})
	c.send(map[string]any{"type": "rate", "id": 1, "up": false})
	c.send(map[string]any{"type": "ping"})
	c.expect("pong") // frames are handled in order: both calls are done
	h.chat.mu.Lock()
	pluses, rates := h.chat.pluses, h.chat.rates
	h.chat.mu.Unlock()
	if want := []string{"s1/1/" + w.Viewer}; !slices.Equal(pluses, want) {
		t.Errorf("pluses %v, want %v", pluses, want)
	}
	if want := []string{"s1/1/" + w.Viewer + "/false"}; !slices.Equal(rates, want) {
		t.Errorf("rates %v, want %v", rates, want)
	}
}

// TestRateLevels rates replies on the 好差评 scale over a real websocket:
// level 5 and 1 reach the chat (≥3 as up), an old 👍/👎 frame still
// works without a level, levels outside 1–5 are refused, and a rejoin
// with the same key is told the viewer's levels.
func TestRateLevels(t *testing.T) {
	h := start(t, Config{}, listenOpt{})
	c := h.dial(t, "s1", dialOpt{})
	w := c.join("甲", "key-a", 0)
	for _, tc := range []struct{ name, frame string }{
		{"level 0", `{"type":"rate","id":1,"level":0}`},
		{"level 6", `{"type":"rate","id":1,"level":6}`},
		{"level -1 with up", `{"type":"rate","id":1,"up":true,"level":-1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.sendRaw(fws.TextMessage, []byte(tc.frame))
			if got := c.expect("error"); got.Error != "rate 消息的 level 须为 1–5（5 非常满意 … 1 非常不满意）" {
				t.Errorf("error %q", got.Error)
			}
		})
	}
	c.sendRaw(fws.TextMessage, []byte(`{"type":"rate","id":1,"level":"5"}`))
	if got := c.expect("error"); got.Error != "消息格式无效" {
		t.Errorf("string level: error %q", got.Error)
	}
	c.send(map[string]any{"type": "rate", "id": 1, "up": false, "level": 5}) // the level decides
	c.send(map[string]any{"type": "rate", "id": 2, "level": 1})
	c.send(map[string]any{"type": "rate", "id": 3, "up": true})
	c.send(map[string]any{"type": "ping"})
	c.expect("pong")
	h.chat.mu.Lock()
	rates := h.chat.rates
	h.chat.mu.Unlock()
	v := w.Viewer
	if want := []string{"s1/1/" + v + "/true/5", "s1/2/" + v + "/false/1", "s1/3/" + v + "/true"}; !slices.Equal(rates, want) {
		t.Errorf("rates %v, want %v", rates, want)
	}

	again := h.dial(t, "s1", dialOpt{}).join("甲", "key-a", 0)
	if want := map[bot.MessageID]int{1: 5, 2: 1}; !maps.Equal(again.Rated, want) {
		t.Errorf("rejoin rated %v, want %v", again.Rated, want)
	}
	if other := h.dial(t, "s1", dialOpt{}).join("乙", "key-b", 0); len(other.Rated) != 0 {
		t.Errorf("another viewer is told %v", other.Rated)
	}
}

func TestFirstFrame(t *testing.T) {
	h := start(t, Config{}, listenOpt{})
	for _, tc := range []struct{ name, frame, want string }{
		{"say first", `{"type":"say","text":"你好"}`, "请先发送 join 消息"},
		{"no key", `{"type":"join","nick":"甲"}`, "join 消息缺少有效的 key"},
		{"key too long", `{"type":"join","key":"` + strings.Repeat("k", 129) + `"}`, "join 消息缺少有效的 key"},
		{"negative after", `{"type":"join","key":"k","after":-1}`, "join 消息的 after 无效"},
		{"not json", `hello`, "消息格式无效"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dial(t, "s1", dialOpt{})
			c.sendRaw(fws.TextMessage, []byte(tc.frame))
			code, frames := c.closed()
			if len(frames) != 1 || frames[0].Type != "error" || frames[0].Error != tc.want {
				t.Errorf("got frames %v, want one error %q", frames, tc.want)
			}
			if code != fws.ClosePolicyViolation {
				t.Errorf("closed with %d, want 1008", code)
			}
		})
	}
	t.Run("huge frame", func(t *testing.T) {
		c := h.dial(t, "s1", dialOpt{})
		c.join("甲", "key-a", 0)
		c.sendRaw(fws.TextMessage, bytes.Repeat([]byte("x"), 100<<10))
		if code, _ := c.closed(); code != fws.CloseMessageTooBig {
			t.Errorf("closed with %d, want 1009", code)
		}
	})
}

func TestTextIsNotInterpreted(t *testing.T) {
	h := start(t, Config{}, listenOpt{})
	const payload = `<script>alert("x")</script>&lt;b&gt; ' \ </textarea>` + "\u2028"
	h.chat.store("s1", viewerA, payload, false)
	c := h.dial(t, "s1", dialOpt{})
	w := c.join("<b>甲</b>", "key-a", 0)
	if w.History[0].Text != payload || w.Nick != "<b>甲</b>" {
		t.Errorf("history text %q nick %q, want them unchanged", w.History[0].Text, w.Nick)
	}
	c.send(map[string]any{"type": "say", "text": payload, "ref": "x"})
	ev := c.next()
	for ev.Type != "event" {
		ev = c.next() // the ack
	}
	if ev.Event.Post.Text != payload {
		t.Errorf("event text %q, want %q", ev.Event.Post.Text, payload)
	}
	want, err := json.Marshal(payload) // the standard encoding, HTML escaped
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range [][]byte{w.raw, ev.raw} {
		var got struct {
			History []struct{ Text json.RawMessage }
			Event   struct {
				Post struct{ Text json.RawMessage }
			}
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		text := got.Event.Post.Text
		if len(got.History) > 0 {
			text = got.History[0].Text
		}
		// The same string, its bytes written as they are: not HTML escaped, not entity encoded.
		if lit := `"<script>alert(\"x\")</script>&lt;b&gt; ' \\ </textarea>\u2028"`; string(text) != lit {
			t.Errorf("text on the wire %s, want %s (or at least %s decoded alike)", text, lit, want)
		}
	}
}

func TestAccess(t *testing.T) {
	h := start(t, Config{MaxConnsPerSession: 1}, listenOpt{})
	if _, err := h.tryDial("nope", dialOpt{}); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("dial a refused session: %v, want status 404", err)
	}
	if got := httpStatus(t, h.http+"s1/chat/ws"); got != 426 {
		t.Errorf("plain GET: status %d, want 426", got)
	}
	h.dial(t, "s1", dialOpt{}).join("甲", "key-a", 0)
	c := h.dial(t, "s1", dialOpt{})
	c.send(map[string]any{"type": "join", "key": "key-b"})
	code, frames := c.closed()
	if code != fws.CloseTryAgainLater || len(frames) != 1 || frames[0].Error != "本场聊天人数已满，请稍后再试" {
		t.Errorf("second viewer of a full session: close %d, frames %v; want the error and 1013", code, frames)
	}
	h.dial(t, "s2", dialOpt{}).join("甲", "key-a", 0) // another session has room
}

func TestIdleHubStops(t *testing.T) {
	h := start(t, Config{IdleGrace: time.Millisecond}, listenOpt{})
	c := h.dial(t, "s1", dialOpt{})
	c.join("甲", "key-a", 0)
	if st := h.hubs.Stats(); st.Sessions != 1 || st.Connections != 1 {
		t.Fatalf("stats %+v, want 1 session and 1 connection", st)
	}
	if err := c.ws.Close(); err != nil {
		t.Fatal(err)
	}
	for h.hubs.Stats().Sessions != 0 {
		time.Sleep(time.Millisecond) // ends with the hub, or the test's timeout
	}
	if st := h.hubs.Stats(); st.Connections != 0 {
		t.Errorf("stats %+v, want no connection", st)
	}
	h.hubs.mu.RLock()
	n := len(h.hubs.hubs)
	h.hubs.mu.RUnlock()
	if n != 0 {
		t.Errorf("%d hubs left in the map", n)
	}
	// A new viewer gets a new hub.
	h.dial(t, "s1", dialOpt{}).join("甲", "key-a", 0)
	if st := h.hubs.Stats(); st.Sessions != 1 {
		t.Errorf("stats %+v, want the session back", st)
	}
}

func TestShutdown(t *testing.T) {
	// Pings and read deadlines far away: only closing the sockets can end
	// the handlers of clients that do not answer the close frame.
	h := start(t, Config{PingInterval: time.Hour}, listenOpt{})
	var joined []*tclient
	for i, s := range []content.SessionID{"s1", "s1", "s2"} {
		c := h.dial(t, string(s), dialOpt{})
		c.join("甲", fmt.Sprint("key", i), 0)
		joined = append(joined, c)
	}
	silent := h.dial(t, "s1", dialOpt{}) // upgraded, never joins
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		h.stop()
	}()
	select {
	case <-stopped:
	case <-time.After(safety):
		t.Fatalf("Run did not end with clients that do not read")
	}
	for i, c := range append(joined, silent) {
		if code, _ := c.closed(); code != fws.CloseServiceRestart {
			t.Errorf("client %d closed with %d, want 1012", i, code)
		}
	}
	if st := h.hubs.Stats(); st.Connections != 0 || st.Sessions != 0 {
		t.Errorf("stats after Run %+v, want no connection or session", st)
	}
	h.hubs.Publish(bot.Event{Kind: bot.EventPinned, Session: "s1"}) // no hub: must not block or panic
}

func TestRunTwice(t *testing.T) {
	h := start(t, Config{}, listenOpt{})
	if err := h.hubs.Run(t.Context()); err != ErrRunning {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
}

func TestNotRunning(t *testing.T) {
	hubs, err := NewHubs(Config{Chat: &fakeChat{}, Allow: func(*fiber.Ctx, content.SessionID) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.Get("/api/sessions/:id/chat/ws", hubs.Handler())
	req := httptest.NewRequest("GET", "/api/sessions/s1/chat/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	resp, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != fiber.StatusServiceUnavailable {
		t.Errorf("before Run: status %d, want 503", resp.StatusCode)
	}
	hubs.Publish(bot.Event{Kind: bot.EventPinned, Session: "s1"}) // nobody: discarded
}

func TestConfig(t *testing.T) {
	chat := &fakeChat{}
	allow := func(*fiber.Ctx, content.SessionID) error { return nil }
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"complete", Config{Chat: chat, Allow: allow}, true},
		{"no chat", Config{Allow: allow}, false},
		{"no access check", Config{Chat: chat}, false},
		{"negative queue", Config{Chat: chat, Allow: allow, SendQueue: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := NewHubs(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("got error %v, want ok %v", err, tc.ok)
			}
			if tc.ok && (h.cfg.SendQueue != 256 || h.cfg.MaxConnsPerSession != 5000 || len(h.cfg.Secret) != 32) {
				t.Errorf("defaults %+v", h.cfg)
			}
		})
	}
}
