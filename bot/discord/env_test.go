package discord_test

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"govlive/bot"
	"govlive/bot/discord"
	"govlive/bot/discord/discordtest"
	"govlive/content"
	"govlive/logtest"
	"govlive/store"
	"govlive/store/storetest"
)

// The sessions the tests' content knows.
const (
	sessionA content.SessionID = "s-tax-2026"
	sessionB content.SessionID = "s-food-licence"
)

// viewer is a Discord member asking questions.
var viewer = discordtest.User{ID: "310000000000000001", Username: "zhangsan", GlobalName: "张三", Nick: "三哥"}

// fakeChat stands in for the pipeline: it stores every inbound message as
// a post and answers by the rule for its text (none: no reply yet).
type fakeChat struct {
	mu      sync.Mutex
	changed chan struct{}
	lastID  bot.MessageID
	got     []bot.Inbound
	posts   []bot.Post
	rules   map[string]func(q bot.Post) bot.Submitted
	fail    error
}

func newFakeChat() *fakeChat {
	return &fakeChat{changed: make(chan struct{}), rules: map[string]func(bot.Post) bot.Submitted{}}
}

// Submit implements discord.Chat.
func (c *fakeChat) Submit(_ context.Context, in bot.Inbound) (bot.Submitted, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		close(c.changed)
		c.changed = make(chan struct{})
	}()
	c.got = append(c.got, in)
	if c.fail != nil {
		c.posts = append(c.posts, bot.Post{})
		return bot.Submitted{}, c.fail
	}
	c.lastID++
	q := bot.Post{ID: c.lastID, Session: in.Session, Author: in.Sender, Text: in.Text, ExternalID: in.ExternalID, Time: time.Now()}
	sub := bot.Submitted{Post: q}
	if rule, ok := c.rules[in.Text]; ok {
		sub = rule(q)
	}
	c.posts = append(c.posts, sub.Post)
	return sub, nil
}

// on sets the rule for a text.
func (c *fakeChat) on(text string, rule func(q bot.Post) bot.Submitted) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rules[text] = rule
}

// inbound returns what was submitted so far.
func (c *fakeChat) inbound() []bot.Inbound {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bot.Inbound(nil), c.got...)
}

// waitPost waits until a message with text was submitted and returns its
// post and inbound message.
func (c *fakeChat) waitPost(t *testing.T, text string) (bot.Post, bot.Inbound) {
	t.Helper()
	ctx := waitCtx(t)
	for {
		c.mu.Lock()
		ch := c.changed
		for i, in := range c.got {
			if in.Text == text && i < len(c.posts) {
				p := c.posts[i]
				c.mu.Unlock()
				return p, in
			}
		}
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("no message %q reached Submit", text)
		}
	}
}

// answer is a rule: reply at once with text (and a source).
func answer(text string) func(bot.Post) bot.Submitted {
	return func(q bot.Post) bot.Submitted {
		r := replyTo(q, text)
		return bot.Submitted{Post: q, Reply: &r}
	}
}

// replyTo is the bot's reply to q.
func replyTo(q bot.Post, text string) bot.Post {
	return bot.Post{
		ID: q.ID + 100000, Session: q.Session, Author: bot.BotSender, Text: text, ReplyTo: q.ID, Time: time.Now(),
		Source: &bot.SourceRef{Kind: "faq", ID: "faq-1", Label: "《营业执照办理指南》"},
	}
}

// replyEvent is the event of the bot's reply to q.
func replyEvent(q bot.Post, text string) bot.Event {
	r := replyTo(q, text)
	return bot.Event{Kind: bot.EventMessage, Session: q.Session, Time: r.Time, Post: &r}
}

// env is an adapter running against a stand-in Discord.
type env struct {
	srv      *discordtest.Server
	chat     *fakeChat
	adapter  *discord.Adapter
	bindings *discord.Bindings
	db       *store.DB
	dbPath   string
	logs     *logtest.Buffer // the adapter's slog records and the standard logger's output
}

// waitCtx bounds a wait on something that should happen, so that a
// failure ends the test instead of hanging it.
func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sessions is the content the adapter checks /govlive bind against.
func sessions(_ context.Context, id content.SessionID) error {
	if id == sessionA || id == sessionB {
		return nil
	}
	return content.ErrNotFound
}

// start runs an adapter against a new stand-in until the test ends, with
// the channels in static bound to sessionA, and checks when it ends that
// Run returned nil, left no goroutine behind, and logged no token.
func start(t *testing.T, static ...string) *env {
	t.Helper()
	e := &env{srv: discordtest.NewServer(t), chat: newFakeChat(), logs: &logtest.Buffer{}}
	ctx := t.Context()
	e.dbPath = filepath.Join(t.TempDir(), "govlive.db")
	e.db = storetest.OpenAt(t, e.dbPath)
	var err error
	if e.bindings, err = discord.NewBindings(ctx, e.db); err != nil {
		t.Fatalf("NewBindings: %v", err)
	}
	bound := map[string]content.SessionID{}
	for _, c := range static {
		bound[c] = sessionA
	}
	// discordgo would write to the standard logger: catch that too.
	prev, prevFlags := log.Writer(), log.Flags()
	log.SetOutput(e.logs)
	t.Cleanup(func() { log.SetOutput(prev); log.SetFlags(prevFlags) })

	e.adapter, err = discord.New(discord.Config{
		Token:    e.srv.Token,
		Chat:     e.chat,
		Bindings: e.bindings,
		Log:      slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Static:   bound,
		Sessions: sessions,
		APIBase:  e.srv.URL,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.adapter.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		checkNoGoroutines(t)
		if strings.Contains(e.logs.String(), e.srv.Token) {
			t.Errorf("the log holds the bot token:\n%s", e.logs.String())
		}
	})
	wctx := waitCtx(t)
	if err := e.srv.WaitSessions(wctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.WaitCommands(wctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// checkNoGoroutines waits until no goroutine runs in the adapter or in
// discordgo (discordgo's own end shortly after Close).
func checkNoGoroutines(t *testing.T) {
	t.Helper()
	// Called in a cleanup, when t.Context is already done.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var left []string
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "github.com/bwmarrin/discordgo") || strings.Contains(g, "govlive/bot/discord.") {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Errorf("%d goroutines left after Run returned:\n%s", len(left), strings.Join(left, "\n\n"))
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// botMessage waits for the bot's message in channel that match accepts.
func (e *env) botMessage(t *testing.T, channel string, match func(discordtest.Message) bool) discordtest.Message {
	t.Helper()
	m, err := e.srv.WaitMessage(waitCtx(t), channel, func(m discordtest.Message) bool { return m.Bot && match(m) })
	if err != nil {
		t.Fatalf("%v; messages: %+v", err, e.srv.Messages(channel))
	}
	return m
}

// waitDeleted waits until the message id is deleted.
func (e *env) waitDeleted(t *testing.T, id string) {
	t.Helper()
	err := e.srv.Wait(waitCtx(t), "deletion of "+id, func() bool {
		m, ok := e.srv.Message(id)
		return ok && m.Deleted
	})
	if err != nil {
		t.Fatal(err)
	}
}

// outgoing is everything the adapter sent to Discord: REST bodies and
// gateway frames.
func (e *env) outgoing() string {
	var b strings.Builder
	for _, r := range e.srv.Requests() {
		b.WriteString(r.Method + " " + r.Path + "?" + r.Query + "\n")
		b.Write(r.Body)
		b.WriteString("\n")
	}
	for _, f := range e.srv.Frames() {
		b.Write(f)
		b.WriteString("\n")
	}
	return b.String()
}

var errBackend = errors.New("backend down")
