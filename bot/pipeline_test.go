package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"govlive/bot"
	"govlive/bot/chatdb"
	"govlive/content"
	"govlive/content/sample"
	"govlive/logtest"
	"govlive/store"
)

// recorder is a Publisher that keeps every event, as JSON too (what an
// adapter would send).
type recorder struct {
	mu     sync.Mutex
	events []bot.Event
	wire   bytes.Buffer
}

func (r *recorder) Publish(e bot.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	b, _ := json.Marshal(e)
	r.wire.Write(b)
	r.wire.WriteByte('\n')
}

func (r *recorder) kinds(k bot.EventKind) []bot.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []bot.Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// caseBook is a CaseOpener that numbers the escalations it is handed.
type caseBook struct {
	mu     sync.Mutex
	opened []bot.CaseOpening
}

func (c *caseBook) OpenCase(_ context.Context, o bot.CaseOpening) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opened = append(c.opened, o)
	return int64(len(c.opened)), nil
}

// chatRig is a running pipeline over the sample pack, its chat stored in a
// SQLite file of its own, with an injected clock.
type chatRig struct {
	t     testing.TB
	p     *bot.Pipeline
	log   *chatdb.Store
	pub   *recorder
	cases *caseBook
	logs  *logtest.Buffer
	path  string
	mu    sync.Mutex
	now   time.Time
	stop  func()
}

func (r *chatRig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *chatRig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = r.now.Add(d)
}

func newChatRig(t testing.TB, s *stack, edit func(*bot.PipelineConfig)) *chatRig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "chat.db")
	r := &chatRig{t: t, pub: &recorder{}, cases: &caseBook{}, logs: &logtest.Buffer{}, path: path,
		now: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	r.start(s, edit)
	return r
}

func (r *chatRig) start(s *stack, edit func(*bot.PipelineConfig)) {
	t := r.t
	ctx := context.Background()
	db, err := store.Open(ctx, r.path)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := chatdb.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	cfg := bot.PipelineConfig{
		Decider: s.bot, Normalize: s.norm.Normalize, Store: cl, Publish: r.pub, Cases: r.cases,
		Log: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Now: r.clock,
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := bot.NewPipeline(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(rctx) }()
	r.p, r.log = p, cl
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	t.Cleanup(r.stop)
	// Run has started once a call is taken.
	for range 100 {
		if _, err := p.Hide(ctx, "warmup", 1, "test"); !errors.Is(err, bot.ErrStopped) {
			break
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *chatRig) say(session content.SessionID, who, text string) bot.Submitted {
	r.t.Helper()
	var out bot.Submitted
	var err error
	for range 200 { // Run may not have taken its context yet
		out, err = r.p.Submit(context.Background(), bot.Inbound{Session: session,
			Sender: bot.Sender{Channel: bot.ChannelWeb, ID: "w-" + who, Nick: who}, Text: text})
		if !errors.Is(err, bot.ErrStopped) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("submit %q: %v", text, err)
	}
	return out
}

func TestPipelineAnswersAndClusters(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	r := newChatRig(t, s, nil)
	const q = "新办食品经营许可证需要准备哪些材料？"
	first := r.say("demo", "alice", q)
	if first.Refused != "" || first.Reply == nil {
		t.Fatalf("first asker: refused %q, reply %v", first.Refused, first.Reply)
	}
	if first.Post.Action != bot.ActionAnswer || first.Post.Cluster == 0 {
		t.Fatalf("first asker: %+v", first.Post)
	}
	if !strings.HasPrefix(first.Reply.Text, "新办食品经营许可需提交") || !strings.Contains(first.Reply.Text, "来源：《食品经营许可（新办）办事指南》") {
		t.Errorf("reply is not the standard answer with its source: %q", first.Reply.Text)
	}
	if first.Reply.ReplyTo != first.Post.ID || first.Reply.Source == nil || first.Reply.Source.ID != "faq-food-biz-new-materials" {
		t.Errorf("reply not linked: %+v", first.Reply)
	}

	// The same question from others within the window: one cluster, and
	// the reply points to the first instead of repeating it.
	r.advance(30 * time.Second)
	second := r.say("demo", "bob", "新办食品经营许可证需要准备哪些材料")
	r.advance(10 * time.Second)
	third := r.say("demo", "carol", "新办食品经营许可证要准备什么材料？")
	for _, got := range []bot.Submitted{second, third} {
		if got.Post.Cluster != first.Post.Cluster {
			t.Errorf("%q: cluster %d, want %d", got.Post.Text, got.Post.Cluster, first.Post.Cluster)
		}
		if got.Reply == nil || got.Reply.Quotes != first.Reply.ID || strings.Contains(got.Reply.Text, "委托办理") {
			t.Errorf("%q: want a pointer to reply %d, got %+v", got.Post.Text, first.Reply.ID, got.Reply)
		}
	}
	board, err := r.p.Clusters(context.Background(), "demo", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(board) != 1 || board[0].Count != 3 || len(board[0].Askers) != 3 {
		t.Fatalf("board: %+v", board)
	}

	// A +1 counts once per viewer.
	for _, who := range []string{"dave", "dave", "alice"} {
		if err := r.p.Plus(context.Background(), "demo", first.Post.ID, bot.Sender{Channel: bot.ChannelWeb, ID: "w-" + who, Nick: who}); err != nil {
			t.Fatal(err)
		}
	}
	board, _ = r.p.Clusters(context.Background(), "demo", 0, 10)
	if board[0].Count != 4 || board[0].Plus != 1 {
		t.Errorf("after +1s: count %d plus %d, want 4 and 1", board[0].Count, board[0].Plus)
	}

	// After the window the question is answered in full again, in a new
	// cluster.
	r.advance(3 * time.Minute)
	later := r.say("demo", "erin", q)
	if later.Post.Cluster == first.Post.Cluster || later.Reply == nil || later.Reply.Quotes != 0 {
		t.Errorf("after the window: %+v / %+v", later.Post, later.Reply)
	}
	// Another question is a cluster of its own; the board orders by count.
	other := r.say("demo", "frank", "食品经营许可证从申请到拿证要多长时间？")
	if other.Post.Cluster == later.Post.Cluster {
		t.Errorf("a different question joined cluster %d", later.Post.Cluster)
	}
	board, _ = r.p.Clusters(context.Background(), "demo", 0, 10)
	if len(board) != 3 || board[0].ID != first.Post.Cluster {
		t.Errorf("board order: %+v", board)
	}
}

func TestPipelineRefusesAndMutes(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	r := newChatRig(t, s, nil)
	long := strings.Repeat("食品经营许可", 100)
	if got := r.say("demo", "alice", long); !strings.Contains(got.Refused, "500") {
		t.Errorf("600 characters: refused %q", got.Refused)
	}
	if posts, _ := r.p.Posts(context.Background(), "demo", bot.PostFilter{}); len(posts) != 0 {
		t.Errorf("a refused message was stored: %+v", posts)
	}
	// Five at once pass, the sixth mutes for a minute.
	qs := []string{"食品证要几天", "办食品证要什么材料", "出租车驾驶员证怎么考", "食品证可以邮寄吗", "营业时间是几点"}
	for _, q := range qs {
		if got := r.say("demo", "bob", q); got.Refused != "" {
			t.Fatalf("%q refused: %s", q, got.Refused)
		}
	}
	if got := r.say("demo", "bob", "还有一个问题"); !strings.Contains(got.Refused, "1 分钟") {
		t.Fatalf("sixth at once: refused %q", got.Refused)
	}
	r.advance(30 * time.Second)
	if got := r.say("demo", "bob", "可以了吗"); got.Refused == "" {
		t.Error("muted viewer accepted")
	}
	if got := r.say("demo", "carol", "食品证要几天"); got.Refused != "" {
		t.Errorf("another viewer refused: %s", got.Refused)
	}
	r.advance(31 * time.Second)
	if got := r.say("demo", "bob", "食品证要几天"); got.Refused != "" {
		t.Errorf("after the minute: refused %q", got.Refused)
	}
	// The next flood mutes for ten minutes, the one after for the session.
	for range 6 {
		r.say("demo", "bob", "食品证要几天呀")
	}
	if got := r.say("demo", "bob", "再问"); !strings.Contains(got.Refused, "10 分钟") {
		t.Errorf("second flood: %q", got.Refused)
	}
	r.advance(11 * time.Minute)
	for range 6 {
		r.say("demo", "bob", "食品证要几天啊")
	}
	if got := r.say("demo", "bob", "再问"); got.Refused != content.DefaultReplies.MutedAll {
		t.Errorf("third flood: %q", got.Refused)
	}
	if n := len(r.pub.kinds(bot.EventMuted)); n != 3 {
		t.Errorf("%d mute events, want 3", n)
	}
	// An anchor lifts it; the mute survives a restart until then.
	r.stop()
	r.start(s, nil)
	if got := r.say("demo", "bob", "重启后"); got.Refused == "" {
		t.Error("mute lost on restart")
	}
	if _, err := r.p.Unmute(context.Background(), "demo", "w-bob", "主播甲"); err != nil {
		t.Fatal(err)
	}
	if got := r.say("demo", "bob", "食品证要几天"); got.Refused != "" {
		t.Errorf("after unmute: %q", got.Refused)
	}
}

func TestPipelinePersonalDataNeverLeaves(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	r := newChatRig(t, s, nil)
	const id, phone = "11010519491231002X", "13912345678"
	got := r.say("demo", "alice", "我的身份证 "+id+" 手机 "+phone+"，我的食品许可申请怎么还没批")
	if got.Post.Action != bot.ActionEscalate || got.Post.Reason != bot.ReasonPII || !got.PII {
		t.Fatalf("decision %s/%s pii %v", got.Post.Action, got.Post.Reason, got.PII)
	}
	if strings.Contains(got.Post.Text, id) || strings.Contains(got.Post.Text, phone) {
		t.Fatalf("shown text not masked: %q", got.Post.Text)
	}
	if got.Reply == nil || !strings.Contains(got.Reply.Text, "隐藏") {
		t.Errorf("reply: %+v", got.Reply)
	}
	if len(r.cases.opened) != 1 || strings.Contains(r.cases.opened[0].Question, phone) || got.Post.Case != 1 {
		t.Errorf("case: %+v (post case %d)", r.cases.opened, got.Post.Case)
	}
	r.stop()
	var files []string
	for _, suffix := range []string{"", "-wal", "-shm"} {
		files = append(files, r.path+suffix)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, raw := range []string{id, phone, "13912", "1949123"} {
			if bytes.Contains(b, []byte(raw)) {
				t.Errorf("%s holds %q", filepath.Base(f), raw)
			}
		}
	}
	for name, out := range map[string]string{"log": r.logs.String(), "events": r.pub.wire.String()} {
		for _, raw := range []string{id, phone} {
			if strings.Contains(out, raw) {
				t.Errorf("%s holds %q", name, raw)
			}
		}
	}
}

func TestPipelineHideAndHistory(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	r := newChatRig(t, s, nil)
	a := r.say("demo", "alice", "食品证要几天")
	b := r.say("demo", "bob", "<script>alert(1)</script>出租车驾驶员证怎么考")
	spam := r.say("demo", "carol", "加微信 abc12345 代办证件")
	if !spam.Post.Hidden {
		t.Errorf("spam shown: %+v", spam.Post)
	}
	if _, err := r.p.Hide(context.Background(), "demo", a.Post.ID, "主播甲"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.p.Hide(context.Background(), "other", b.Post.ID, "主播甲"); !errors.Is(err, chatdb.ErrNotFound) {
		t.Errorf("hide in another session: %v", err)
	}
	if ev := r.pub.kinds(bot.EventHidden); len(ev) != 1 || ev[0].ID != a.Post.ID || !ev[0].Public() {
		t.Errorf("hidden events: %+v", ev)
	}
	hist, err := r.p.History(context.Background(), "demo", 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range hist {
		if p.ID == a.Post.ID || p.ID == spam.Post.ID {
			t.Errorf("history holds hidden post %d", p.ID)
		}
	}
	if !containsText(hist, "<script>alert(1)</script>出租车驾驶员证怎么考") {
		t.Errorf("history lost the script text as written: %+v", hist)
	}
	// Resuming after b's id gives only what came later.
	after, _ := r.p.History(context.Background(), "demo", b.Post.ID, 50)
	for _, p := range after {
		if p.ID <= b.Post.ID {
			t.Errorf("resume after %d returned %d", b.Post.ID, p.ID)
		}
	}
	// Restart: everything accepted is still there.
	r.stop()
	r.start(s, nil)
	again, err := r.p.History(context.Background(), "demo", 0, 50)
	if err != nil || len(again) != len(hist) {
		t.Errorf("after restart %d posts (%v), want %d", len(again), err, len(hist))
	}
}

func containsText(ps []bot.Post, text string) bool {
	for _, p := range ps {
		if p.Text == text {
			return true
		}
	}
	return false
}

func TestPipelineRetention(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	r := newChatRig(t, s, func(c *bot.PipelineConfig) { c.Retention = 24 * time.Hour })
	r.say("demo", "alice", "食品证要几天")
	r.advance(25 * time.Hour)
	r.say("demo", "bob", "出租车驾驶员证怎么考")
	r.p.Purge(context.Background())
	hist, _ := r.p.History(context.Background(), "demo", 0, 50)
	for _, p := range hist {
		if p.Author.Nick == "alice" {
			t.Errorf("a message past retention was kept: %+v", p)
		}
	}
	if len(hist) == 0 {
		t.Error("the recent message was purged too")
	}
}

// composer is a Composer scripted by the test: the model itself is
// exercised against an OpenAI-compatible server in bot/compose.
type composer struct {
	deltas []string
	err    error
	wait   time.Duration
	seen   []string
}

func (c *composer) Compose(ctx context.Context, q string, ps []bot.Passage, delta func(string)) (string, error) {
	c.seen = append(c.seen, q)
	select {
	case <-time.After(c.wait):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if c.err != nil {
		return "", c.err
	}
	for _, d := range c.deltas {
		delta(d)
	}
	return strings.Join(c.deltas, "") + "\n来源：" + ps[0].Label, nil
}

func TestPipelineModelReplies(t *testing.T) {
	t.Parallel()
	const q = "调查核实投诉可以采取哪些方式"
	tests := []struct {
		name      string
		c         *composer
		generated bool
	}{
		{"streamed", &composer{deltas: []string{"可以调取", "监控录像[1]。"}}, true},
		{"model error", &composer{err: errors.New("500")}, false},
		{"past the deadline", &composer{deltas: []string{"太慢"}, wait: 2 * time.Second}, false},
	}
	s := newStack(t, bot.Thresholds{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newChatRig(t, s, func(c *bot.PipelineConfig) {
				c.Composer, c.ModelDeadline = tt.c, 200*time.Millisecond
			})
			got := r.say("demo", "alice", q)
			if got.Post.Reason != bot.ReasonDocument || got.Reply != nil {
				t.Fatalf("decision %s, reply at once %v", got.Post.Reason, got.Reply)
			}
			var reply *bot.Post
			for range 400 {
				for _, e := range r.pub.kinds(bot.EventMessage) {
					if e.Post.ReplyTo == got.Post.ID {
						reply = e.Post
					}
				}
				if reply != nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if reply == nil {
				t.Fatal("no reply published")
			}
			if reply.Generated != tt.generated {
				t.Errorf("generated %v, want %v: %q", reply.Generated, tt.generated, reply.Text)
			}
			if tt.generated {
				if d := r.pub.kinds(bot.EventReplyDelta); len(d) != 2 || d[0].ID != got.Post.ID {
					t.Errorf("deltas: %+v", d)
				}
				if !strings.Contains(reply.Text, "监控录像[1]") {
					t.Errorf("reply %q", reply.Text)
				}
			} else if !strings.Contains(reply.Text, "第七条") || !strings.Contains(reply.Text, "调取监控录像") {
				t.Errorf("fallback is not the quoted passage: %q", reply.Text)
			}
			posts, _ := r.p.Posts(context.Background(), "demo", bot.PostFilter{})
			if len(posts) != 2 || posts[1].ReplyTo != got.Post.ID {
				t.Errorf("stored: %+v", posts)
			}
		})
	}
}

// TestPipelineBurst sends one question from many viewers at once, so that
// messages queue behind each other and are stored in shared commits: each
// is stored and published exactly once, in the order of their ids; the
// cluster counts every asker; the question is answered in full once and
// every other asker is pointed to that reply; and all of it is still there
// after a restart.
func TestPipelineBurst(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	r := newChatRig(t, s, nil)
	r.say("warm", "x", "你好") // Run has started
	const n = 60
	questions := []string{"食品经营许可证要几天能拿到", "食品经营许可证要几天能拿到？", "食品经营许可证要几天才能拿到"}
	var wg sync.WaitGroup
	outs := make([]bot.Submitted, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := fmt.Sprintf("v%02d", i)
			outs[i], errs[i] = r.p.Submit(context.Background(), bot.Inbound{Session: "burst",
				Sender: bot.Sender{Channel: bot.ChannelWeb, ID: "w-" + who, Nick: who}, Text: questions[i%len(questions)]})
		}()
	}
	wg.Wait()
	full := map[bot.MessageID]bool{}
	ids := map[bot.MessageID]bool{}
	for i, out := range outs {
		if errs[i] != nil || out.Refused != "" || out.Reply == nil {
			t.Fatalf("viewer %d: err %v, refused %q, reply %v", i, errs[i], out.Refused, out.Reply)
		}
		if ids[out.Post.ID] || ids[out.Reply.ID] {
			t.Fatalf("viewer %d: id given twice: %d / %d", i, out.Post.ID, out.Reply.ID)
		}
		ids[out.Post.ID], ids[out.Reply.ID] = true, true
		if out.Reply.ReplyTo != out.Post.ID {
			t.Errorf("viewer %d: reply %d answers %d, want %d", i, out.Reply.ID, out.Reply.ReplyTo, out.Post.ID)
		}
		if out.Reply.Quotes == 0 {
			full[out.Reply.ID] = true
		}
	}
	if len(full) != 1 {
		t.Fatalf("%d full answers to one question asked at once, want 1 (the rest quote it)", len(full))
	}
	for i, out := range outs {
		if q := out.Reply.Quotes; q != 0 && !full[q] {
			t.Errorf("viewer %d: quotes %d, not the full answer", i, q)
		}
	}
	// Published once each, in id order.
	var last bot.MessageID
	seen := 0
	for _, e := range r.pub.kinds(bot.EventMessage) {
		if e.Session != "burst" {
			continue
		}
		if e.Post.ID <= last {
			t.Fatalf("message %d published after %d", e.Post.ID, last)
		}
		last = e.Post.ID
		seen++
	}
	if seen != 2*n {
		t.Errorf("%d messages published, want %d", seen, 2*n)
	}
	check := func(when string) {
		t.Helper()
		board, err := r.p.Clusters(context.Background(), "burst", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(board) != 1 || board[0].Count != n || len(board[0].Askers) != n || !full[board[0].Reply] {
			t.Fatalf("%s: board %+v, want one cluster of %d askers answered by one of %v", when, board, n, full)
		}
		posts, err := r.p.Posts(context.Background(), "burst", bot.PostFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(posts) != 2*n {
			t.Fatalf("%s: %d posts stored, want %d", when, len(posts), 2*n)
		}
	}
	check("stored")
	r.stop()
	r.start(s, nil)
	check("after a restart")
	// New ids continue after the stored ones.
	again := r.say("burst", "late", "周末可以办理吗")
	if ids[again.Post.ID] || again.Post.ID <= last {
		t.Errorf("after a restart: new post id %d, the last was %d", again.Post.ID, last)
	}
}

// loadingDecider is a bot whose knowledge index has not loaded yet.
type loadingDecider struct{}

func (loadingDecider) Decide(context.Context, bot.Message) (bot.Decision, error) {
	return bot.Decision{}, fmt.Errorf("index: %w", bot.ErrNotReady)
}

// TestPipelineWhileLoading: a message sent before the knowledge index has
// loaded is refused with the replies' text, not failed, and nothing is
// stored.
func TestPipelineWhileLoading(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	r := newChatRig(t, s, func(c *bot.PipelineConfig) { c.Decider = loadingDecider{} })
	out := r.say("demo", "alice", "新办食品经营许可要什么材料")
	if out.Refused != content.DefaultReplies.Loading {
		t.Errorf("refused %q, want %q", out.Refused, content.DefaultReplies.Loading)
	}
	if posts, err := r.p.Posts(context.Background(), "demo", bot.PostFilter{Limit: 10}); err != nil || len(posts) != 0 {
		t.Errorf("stored %d posts (%v), want none", len(posts), err)
	}
}

// TestPipelineClarify: a viewer asked which entry was meant answers with
// a number and gets that entry's standard answer; the same number from a
// viewer who was asked nothing is an ordinary message.
func TestPipelineClarify(t *testing.T) {
	t.Parallel()
	wide := bot.DefaultThresholds
	wide.ClarifyMargin, wide.ClarifySure = 1, 1
	r := newChatRig(t, newStack(t, wide), nil)
	asked := r.say("demo", "alice", "食品经营许可证办理")
	if asked.Post.Reason != bot.ReasonClarify || asked.Reply == nil || !strings.Contains(asked.Reply.Text, "您想问的是") {
		t.Fatalf("question: %+v, reply %+v; want a clarifying question", asked.Post, asked.Reply)
	}
	second := strings.SplitN(strings.SplitN(asked.Reply.Text, "2. ", 2)[1], "\n", 2)[0]
	got := r.say("demo", "alice", "２")
	if got.Reply == nil || got.Post.Reason != bot.ReasonFAQ || got.Reply.Source == nil || got.Reply.Quotes != 0 ||
		!strings.Contains(got.Reply.Text, "来源：") {
		t.Fatalf("choice: %+v, reply %+v; want the second entry's standard answer", got.Post, got.Reply)
	}
	var want string
	for _, l := range strings.Split(readSampleFAQ(t), "\n") {
		if strings.Contains(l, `"question": "`+second+`"`) || strings.Contains(l, `"question":"`+second+`"`) {
			want = l
		}
	}
	if want == "" || !strings.Contains(want, `"`+got.Reply.Source.ID+`"`) {
		t.Errorf("option 2 was %q; the answer is from %s", second, got.Reply.Source.ID)
	}
	if other := r.say("demo", "bob", "2"); other.Post.Reason == bot.ReasonFAQ && other.Reply != nil && other.Reply.Source != nil && other.Reply.Source.ID == got.Reply.Source.ID {
		t.Errorf("a viewer who was asked nothing got option 2's answer: %+v", other.Reply)
	}
	if again := r.say("demo", "alice", "2"); again.Post.Reason == bot.ReasonFAQ && again.Reply != nil && again.Reply.Quotes == 0 && again.Reply.Source != nil && again.Reply.Source.ID == got.Reply.Source.ID {
		t.Errorf("the choice was taken twice: %+v", again.Reply)
	}
}

func readSampleFAQ(t *testing.T) string {
	t.Helper()
	b, err := fs.ReadFile(sample.FS, content.PackFAQFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// failingLog is the chat log with SaveBatch failing while fail is set.
type failingLog struct {
	bot.ChatLog
	mu   sync.Mutex
	fail bool
}

func (f *failingLog) SaveBatch(ctx context.Context, rs []bot.Record) error {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail {
		return errors.New("disk full")
	}
	return f.ChatLog.SaveBatch(ctx, rs)
}

// TestPipelineFailedCommit: a message whose commit fails is refused, and
// the session's state forgets it: the next asker of the same question
// gets the full answer (not a pointer to a reply nobody saw), in a
// cluster that is stored.
func TestPipelineFailedCommit(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	var fl *failingLog
	r := newChatRig(t, s, func(c *bot.PipelineConfig) {
		fl = &failingLog{ChatLog: c.Store, fail: true}
		c.Store = fl
	})
	const q = "新办食品经营许可证需要准备哪些材料？"
	var err error
	for range 200 { // Run may not have taken its context yet
		_, err = r.p.Submit(context.Background(), bot.Inbound{Session: "demo", Sender: bot.Sender{Channel: bot.ChannelWeb, ID: "w-alice", Nick: "alice"}, Text: q})
		if !errors.Is(err, bot.ErrStopped) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err == nil {
		t.Fatal("a message whose commit failed was accepted")
	}
	fl.mu.Lock()
	fl.fail = false
	fl.mu.Unlock()
	bob := r.say("demo", "bob", q)
	if bob.Reply == nil || bob.Reply.Quotes != 0 || !strings.Contains(bob.Reply.Text, "来源：") {
		t.Fatalf("after the failed commit: reply %+v, want the full standard answer", bob.Reply)
	}
	board, err := r.p.Clusters(context.Background(), "demo", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(board) != 1 || board[0].ID != bob.Post.Cluster || board[0].Count != 1 || board[0].Reply != bob.Reply.ID {
		t.Errorf("board %+v, want bob's stored cluster %d of one, answered by %d", board, bob.Post.Cluster, bob.Reply.ID)
	}
}

// TestPipelineRateLevels: a 好差评 level decides 👍/👎 (≥3 up), a bare
// 👍/👎 keeps working, a level outside 1–5 is refused, and the viewer's
// levels read back for its next welcome.
func TestPipelineRateLevels(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	r := newChatRig(t, s, nil)
	reply := r.say("demo", "alice", "新办食品经营许可证需要准备哪些材料？").Reply
	if reply == nil {
		t.Fatal("no reply")
	}
	ctx := context.Background()
	by := func(who string) bot.Sender { return bot.Sender{Channel: bot.ChannelWeb, ID: "w-" + who, Nick: who} }
	for _, g := range []struct {
		who   string
		up    bool
		level int
	}{{"bob", false, 5}, {"carol", true, 1}, {"dave", true, 0}} {
		if err := r.p.Rate(ctx, "demo", reply.ID, by(g.who), g.up, g.level); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []int{-1, 6} {
		if err := r.p.Rate(ctx, "demo", reply.ID, by("erin"), true, bad); !errors.Is(err, bot.ErrBadLevel) {
			t.Errorf("level %d: %v, want ErrBadLevel", bad, err)
		}
	}
	evs := r.pub.kinds(bot.EventRating)
	if len(evs) != 3 || evs[2].Up != 2 || evs[2].Down != 1 {
		t.Errorf("rating events %+v, want the last 2 up 1 down", evs)
	}
	for who, want := range map[string]map[bot.MessageID]int{"bob": {reply.ID: 5}, "carol": {reply.ID: 1}, "dave": {}} {
		got, err := r.p.Rated(ctx, "demo", "w-"+who)
		if err != nil || !maps.Equal(got, want) {
			t.Errorf("%s: rated %v, %v; want %v", who, got, err, want)
		}
	}
}
