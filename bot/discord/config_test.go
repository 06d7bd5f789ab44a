package discord_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"govlive/bot"
	"govlive/bot/discord"
	"govlive/bot/discord/discordtest"
	"govlive/content"
	"govlive/logtest"
)

// nopBindings binds nothing.
type nopBindings struct{}

func (nopBindings) Bind(context.Context, string, content.SessionID, string) error { return nil }
func (nopBindings) Bindings(context.Context) (map[string]content.SessionID, error) {
	return nil, nil
}

const secretToken = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-token-value"

func TestConfig(t *testing.T) {
	full := discord.Config{Token: secretToken, Chat: newFakeChat(), Bindings: nopBindings{}, Sessions: sessions}
	cases := []struct {
		name    string
		edit    func(*discord.Config)
		missing string
	}{
		{"complete", func(*discord.Config) {}, ""},
		{"no token", func(c *discord.Config) { c.Token = " " }, "token"},
		{"no chat", func(c *discord.Config) { c.Chat = nil }, "chat"},
		{"no bindings", func(c *discord.Config) { c.Bindings = nil }, "bindings"},
		{"no sessions", func(c *discord.Config) { c.Sessions = nil }, "sessions"},
		{"bad api base", func(c *discord.Config) { c.APIBase = "127.0.0.1:80" }, "api base"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := full
			c.edit(&cfg)
			_, err := discord.New(cfg)
			switch {
			case c.missing == "" && err != nil:
				t.Errorf("New: %v", err)
			case c.missing != "" && (!errors.Is(err, discord.ErrConfig) || !strings.Contains(err.Error(), c.missing)):
				t.Errorf("got %v, want ErrConfig naming %s", err, c.missing)
			}
		})
	}

	t.Run("token redacted", func(t *testing.T) {
		a, err := discord.New(full)
		if err != nil {
			t.Fatal(err)
		}
		var logs logtest.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "discord", full, "adapter", a)
		for _, s := range []string{fmt.Sprint(full), fmt.Sprintf("%#v", full), fmt.Sprintf("%+v", full), fmt.Sprint(a), fmt.Sprintf("%#v", a), logs.String()} {
			if strings.Contains(s, secretToken) || !strings.Contains(s, "[redacted]") {
				t.Errorf("got %s, want the token redacted", s)
			}
		}
	})
}

// TestRejected checks that a wrong token ends Run with ErrRejected, and
// that neither the error nor the log shows the token.
func TestRejected(t *testing.T) {
	srv := discordtest.NewServer(t)
	var logs logtest.Buffer
	a, err := discord.New(discord.Config{
		Token: secretToken, Chat: newFakeChat(), Bindings: nopBindings{}, Sessions: sessions,
		Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), APIBase: srv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(waitCtx(t))
	if !errors.Is(err, discord.ErrRejected) {
		t.Fatalf("got %v, want ErrRejected", err)
	}
	if strings.Contains(err.Error(), secretToken) || strings.Contains(logs.String(), secretToken) {
		t.Errorf("the token shows in %q or the log %s", err, logs.String())
	}
	if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Status != 401 {
		t.Errorf("got requests %+v, want one answered 401, not retried", reqs)
	}
	checkNoGoroutines(t)
}

// TestPublishNeverBlocks publishes more events than the queue holds to
// an adapter that does not run: Publish returns and logs the drops.
func TestPublishNeverBlocks(t *testing.T) {
	var logs logtest.Buffer
	a, err := discord.New(discord.Config{
		Token: secretToken, Chat: newFakeChat(), Bindings: nopBindings{}, Sessions: sessions,
		Log: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	q := bot.Post{ID: 1, Session: sessionA}
	for range 1100 {
		a.Publish(replyEvent(q, "回复"))
		a.Publish(bot.Event{Kind: bot.EventCluster, Session: sessionA}) // not for Discord: not queued
	}
	if n := strings.Count(logs.String(), "event dropped"); n != 1100-1024 {
		t.Errorf("got %d drops logged, want %d", n, 1100-1024)
	}
}

// TestRunOnce checks that a second Run while one runs is refused.
func TestRunOnce(t *testing.T) {
	e := start(t, "c1")
	if err := e.adapter.Run(t.Context()); !errors.Is(err, discord.ErrRunning) {
		t.Errorf("got %v, want ErrRunning", err)
	}
}
