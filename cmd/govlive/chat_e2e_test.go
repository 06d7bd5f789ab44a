package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/fasthttp/websocket"

	"govlive/browsertest"
)

// chatClient is a viewer on the chat websocket of a running serve.
type chatClient struct {
	t    *testing.T
	ws   *websocket.Conn
	wire bytes.Buffer // every frame received
}

type chatFrame struct {
	Type    string          `json:"type"`
	Viewer  string          `json:"viewer"`
	Pinned  string          `json:"pinned"`
	History []chatPost      `json:"history"`
	Event   json.RawMessage `json:"event"`
	Refused string          `json:"refused"`
	Error   string          `json:"error"`
	ID      int64           `json:"id"` // an ack's message
}

type chatPost struct {
	ID      int64  `json:"id"`
	Text    string `json:"text"`
	ReplyTo int64  `json:"reply_to"`
	Action  string `json:"action"`
	Reason  string `json:"reason"`
	Author  struct {
		Channel, ID, Nick string
	} `json:"author"`
	Source *struct{ Kind, ID, Label string } `json:"source"`
}

type chatEvent struct {
	Kind string    `json:"kind"`
	Post *chatPost `json:"post"`
	ID   int64     `json:"id"`
}

func dialChat(t *testing.T, p *serveProc, session, nick, key, query string) *chatClient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(p.url, "http") + "/api/sessions/" + session + "/chat/ws" + query
	ws, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", u, err, status)
	}
	c := &chatClient{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.Close() })
	c.send(map[string]any{"type": "join", "nick": nick, "key": key, "after": 0})
	if f := c.next(func(f chatFrame) bool { return f.Type == "welcome" }); f.Viewer == "" {
		t.Fatalf("welcome without a viewer id: %+v", f)
	}
	return c
}

func (c *chatClient) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// next reads frames until one satisfies ok.
func (c *chatClient) next(ok func(chatFrame) bool) chatFrame {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v; received:\n%s", err, c.wire.String())
		}
		c.wire.Write(b)
		c.wire.WriteByte('\n')
		var f chatFrame
		if err := json.Unmarshal(b, &f); err != nil {
			c.t.Fatalf("frame %s: %v", b, err)
		}
		if ok(f) {
			return f
		}
	}
}

// nextEvent reads until an event satisfying ok.
func (c *chatClient) nextEvent(ok func(chatEvent) bool) chatEvent {
	c.t.Helper()
	var e chatEvent
	c.next(func(f chatFrame) bool {
		if f.Type != "event" {
			return false
		}
		e = chatEvent{}
		_ = json.Unmarshal(f.Event, &e)
		return ok(e)
	})
	return e
}

func (c *chatClient) replyTo(text string) (question, reply chatPost) {
	c.t.Helper()
	e := c.nextEvent(func(e chatEvent) bool {
		return e.Kind == "message" && e.Post != nil && e.Post.ReplyTo == 0 && strings.Contains(e.Post.Text, text)
	})
	question = *e.Post
	e = c.nextEvent(func(e chatEvent) bool { return e.Kind == "message" && e.Post != nil && e.Post.ReplyTo == question.ID })
	return question, *e.Post
}

// anchorDo sends an anchor's request with the token and decodes the answer.
func anchorDo(t *testing.T, p *serveProc, method, path, token, body string, want int, v any) {
	t.Helper()
	req, _ := http.NewRequest(method, p.url+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw.String())
	}
	if v != nil {
		if err := json.Unmarshal(raw.Bytes(), v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw.String())
		}
	}
}

// TestChatEndToEnd drives serve's chat as viewers and an anchor would:
// two viewers on real websockets, the anchors' API with a publishing
// token, the console's events, a restart, and the database file searched
// for the personal data a viewer posted.
func TestChatEndToEnd(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data)
	token := issueToken(t, data, "demo", "测试主播")
	waitReady(t, p)
	console, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.url, "http")+"/api/sessions/demo/events/ws?token="+token, nil)
	if err != nil {
		t.Fatalf("console websocket: %v", err)
	}
	defer console.Close()
	if _, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.url, "http")+"/api/sessions/demo/events/ws", nil); err == nil {
		t.Error("the console websocket opened without a token")
	}

	a := dialChat(t, p, "demo", "小王", "key-a", "")
	b := dialChat(t, p, "demo", "小李", "key-b", "")
	const q = "新办食品经营许可证需要准备哪些材料？"
	a.send(map[string]any{"type": "say", "text": q, "ref": "1"})
	for _, c := range []*chatClient{a, b} {
		question, reply := c.replyTo(q)
		if !strings.HasPrefix(reply.Text, "新办食品经营许可需提交") || !strings.Contains(reply.Text, "来源：《食品经营许可（新办）办事指南》") {
			t.Errorf("reply: %q", reply.Text)
		}
		if question.Author.Nick != "小王" || reply.Source == nil || reply.Source.Kind != "faq" {
			t.Errorf("question %+v reply source %+v", question, reply.Source)
		}
	}

	// Personal data: masked for everyone, a case for the anchors.
	const id = "11010519491231002X"
	b.send(map[string]any{"type": "say", "text": "我的身份证号 " + id + " 食品许可申请一直没批下来", "ref": "2"})
	question, reply := a.replyTo("食品许可申请一直没批下来")
	if strings.Contains(question.Text, id) || question.Reason != "pii" || !strings.Contains(reply.Text, "隐藏") {
		t.Errorf("pii question %+v, reply %q", question, reply.Text)
	}

	var board struct {
		Clusters []struct {
			Count  int `json:"count"`
			Askers []struct{ Nick string }
		} `json:"clusters"`
	}
	anchorDo(t, p, "GET", "/api/sessions/demo/clusters", "", "", http.StatusUnauthorized, nil)
	anchorDo(t, p, "GET", "/api/sessions/demo/clusters", token, "", http.StatusOK, &board)
	if len(board.Clusters) < 2 {
		t.Errorf("board: %+v", board)
	}
	var queue struct {
		Cases []struct {
			ID       int64  `json:"id"`
			Reason   string `json:"reason"`
			Question string `json:"question"`
			State    string `json:"state"`
		} `json:"cases"`
	}
	anchorDo(t, p, "GET", "/api/sessions/demo/cases?state=open", token, "", http.StatusOK, &queue)
	if len(queue.Cases) != 1 || queue.Cases[0].Reason != "pii" || strings.Contains(queue.Cases[0].Question, id) {
		t.Fatalf("queue: %+v", queue)
	}
	cid := queue.Cases[0].ID
	path := "/api/sessions/demo/cases/" + strconv.FormatInt(cid, 10)
	anchorDo(t, p, "POST", path+"/resolve", token, "", http.StatusConflict, nil) // open → resolved is not a step
	anchorDo(t, p, "POST", path+"/claim", token, "", http.StatusOK, nil)
	anchorDo(t, p, "POST", path+"/claim", token, "", http.StatusConflict, nil)
	anchorDo(t, p, "POST", path+"/on_air", token, "", http.StatusOK, nil)
	anchorDo(t, p, "POST", path+"/resolve", token, `{"note":"已现场核实"}`, http.StatusOK, nil)
	anchorDo(t, p, "POST", path+"/rate", token, `{"rating":"非常满意"}`, http.StatusOK, nil)

	// An anchor hides a message: it goes from every client.
	anchorDo(t, p, "POST", "/api/sessions/demo/messages/"+strconv.FormatInt(question.ID, 10)+"/hide", token, "", http.StatusOK, nil)
	for _, c := range []*chatClient{a, b} {
		c.nextEvent(func(e chatEvent) bool { return e.Kind == "hidden" && e.ID == question.ID })
	}
	// The console saw the case change (clients never do).
	_ = console.SetReadDeadline(time.Now().Add(5 * time.Second))
	sawCase := false
	for !sawCase {
		_, m, err := console.ReadMessage()
		if err != nil {
			t.Fatalf("console: %v", err)
		}
		sawCase = bytes.Contains(m, []byte(`"kind":"case"`))
	}
	for _, c := range []*chatClient{a, b} {
		if bytes.Contains(c.wire.Bytes(), []byte(`"kind":"case"`)) || bytes.Contains(c.wire.Bytes(), []byte(id)) {
			t.Error("a viewer received a case event or the raw ID number")
		}
	}

	// A restart keeps the chat and the case with its history.
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	p = startServe(t, data)
	var hist struct {
		Posts []chatPost `json:"posts"`
	}
	p.get(t, "/api/sessions/demo/chat", http.StatusOK, &hist)
	if len(hist.Posts) < 3 {
		t.Errorf("after restart: %d public posts", len(hist.Posts))
	}
	var got struct {
		State   string `json:"state"`
		History []any  `json:"history"`
	}
	anchorDo(t, p, "GET", path, token, "", http.StatusOK, &got)
	if got.State != "resolved" || len(got.History) < 5 {
		t.Errorf("case after restart: %+v", got)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(data, "govlive.db*"))
	if len(files) == 0 {
		t.Fatal("no database file")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(id)) {
			t.Errorf("%s holds the raw ID number", filepath.Base(f))
		}
	}
	if strings.Contains(p.stderr.String(), id) {
		t.Error("the log holds the raw ID number")
	}
}

// TestBrowserChat: a viewer types a question into the watch page's chat
// in Chromium and sees the standard answer with its source; a second
// browser tab sees it too; a message with an ID number shows masked.
func TestBrowserChat(t *testing.T) {
	chromium := browsertest.Find(t)
	data := t.TempDir()
	p := startServeArgs(t, data, "--demo", "--ice-loopback", "--udp-port", strconv.Itoa(freeUDPPort(t)))
	waitReady(t, p)
	br := startBrowser(t, chromium)
	one := br.open(t, "watch", p.url+"/live/demo")
	two := br.open(t, "second watch", p.url+"/live/demo")
	for _, tb := range []*tab{one, two} {
		tb.waitTrue(t, "chat joined", `window.govliveChat && window.govliveChat.state === "connected"`, 15*time.Second)
	}
	const q = "新办食品经营许可证需要准备哪些材料？"
	if err := typeAndSend(one.ctx, q); err != nil {
		t.Fatalf("type the question: %v", err)
	}
	answer := `[...document.querySelectorAll("#chat-list .post.bot")].some(li => li.textContent.includes("新办食品经营许可需提交") && li.querySelector(".text").textContent.includes("来源：《食品经营许可（新办）办事指南》"))`
	for _, tb := range []*tab{one, two} {
		tb.waitTrue(t, "the standard answer with its source", answer, 15*time.Second)
	}
	const id = "11010519491231002X"
	if err := typeAndSend(two.ctx, "我的身份证 "+id+" 申请怎么还没批"); err != nil {
		t.Fatalf("type the question: %v", err)
	}
	masked := `[...document.querySelectorAll("#chat-list .post:not(.bot) .text")].some(e => e.textContent.includes("申请怎么还没批") && !e.textContent.includes("` + id + `"))`
	for _, tb := range []*tab{one, two} {
		tb.waitTrue(t, "the ID number masked", masked, 15*time.Second)
		if ok, _ := eval[bool](tb, `document.body.textContent.includes("`+id+`")`); ok {
			t.Errorf("%s page shows the raw ID number", tb.name)
		}
	}
	one.checkPolicy(t)
	one.screenshot(t, "/tmp/govlive-chat-desktop.png")
}

// typeAndSend types text into the chat box and clicks 发送.
func typeAndSend(ctx context.Context, text string) error {
	if _, err := chromedp.Run(ctx, chromedp.SendKeys("#chat-text", text)); err != nil {
		return err
	}
	_, err := chromedp.Run(ctx, chromedp.Click("#chat-send"))
	return err
}

// TestBrowserChatAsksBack: on a near tie the watch page shows the bot's
// "您想问的是" with numbered entries; the viewer answers with a number and
// sees that entry's standard answer with its source. Screenshots at
// desktop and phone width.
func TestBrowserChatAsksBack(t *testing.T) {
	chromium := browsertest.Find(t)
	p := startServeArgs(t, t.TempDir(), "--demo", "--ice-loopback", "--udp-port", strconv.Itoa(freeUDPPort(t)),
		"--clarify-margin", "1", "--clarify-sure", "1") // every question with a neighbour in its category asks back
	waitReady(t, p)
	br := startBrowser(t, chromium)
	tb := br.open(t, "watch-asks-back", p.url+"/live/demo")
	if _, err := chromedp.Run(tb.ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "chat joined", `window.govliveChat && window.govliveChat.state === "connected"`, 15*time.Second)
	tb.waitTrue(t, "the demo card shown", `window.govlive && govlive.slots.length > 0 && govlive.slots[0].visible`, 15*time.Second)
	if err := typeAndSend(tb.ctx, "食品经营许可证办理"); err != nil {
		t.Fatal(err)
	}
	asked := `[...document.querySelectorAll("#chat-list .post.bot .text")].some(e => e.textContent.startsWith("您想问的是") && e.textContent.includes("\n2. "))`
	tb.waitTrue(t, "the numbered choice", asked, 15*time.Second)
	tb.screenshot(t, "/tmp/govlive-asked.png")
	tb.name = "watch-answered"
	second, err := eval[string](tb, `[...document.querySelectorAll("#chat-list .post.bot .text")].find(e => e.textContent.startsWith("您想问的是")).textContent.split("\n2. ")[1].split("\n")[0]`)
	if err != nil || second == "" {
		t.Fatalf("option 2: %q (%v)", second, err)
	}
	if err := typeAndSend(tb.ctx, "2"); err != nil {
		t.Fatal(err)
	}
	answered := `[...document.querySelectorAll("#chat-list .post.bot .text")].some(e => !e.textContent.startsWith("您想问的是") && e.textContent.includes("来源：《"))`
	tb.waitTrue(t, "the chosen entry's standard answer", answered, 15*time.Second)
	tb.screenshot(t, "/tmp/govlive-answered.png")
	if _, err := chromedp.Run(tb.ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	tb.name = "watch-asks-back-phone"
	tb.screenshot(t, "/tmp/govlive-asks-back-phone.png")
	tb.checkPolicy(t)
	t.Logf("option 2 was %q", second)
}
