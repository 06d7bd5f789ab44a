package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"govlive/bot"
	"govlive/bot/chatdb"
	"govlive/bot/compose"
	"govlive/bot/discord"
	"govlive/bot/webchat"
	"govlive/cases"
	"govlive/content"
	"govlive/retrieval"
	"govlive/store"
	"govlive/studio"
)

// chatStack is serve's live chat: the pipeline, its log and the case
// queue, and the publishers its events go to.
type chatStack struct {
	pipeline *bot.Pipeline
	log      *chatdb.Store
	cases    *cases.Store
	publish  *lateBound
	console  *studio.Console
	hubs     *webchat.Hubs
	discord  *discord.Adapter // nil without a bot token
}

// chatSecret is the key of the viewers' anonymous ids, kept in the data
// directory so that a viewer keeps the same id across restarts.
func chatSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, "chat.key")
	b, err := os.ReadFile(path)
	if err == nil && len(b) == 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("chat key: %w", err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("chat key: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("chat key: %w", err)
	}
	return b, nil
}

// lateBound is a Publisher whose targets are added once they exist (the
// hubs and adapters are made after the pipeline they read).
type lateBound struct{ targets bot.Publishers }

func (l *lateBound) Publish(e bot.Event) { l.targets.Publish(e) }

// caseQueue opens the bot's escalations as cases.
type caseQueue struct{ s *cases.Store }

func (q caseQueue) OpenCase(ctx context.Context, o bot.CaseOpening) (int64, error) {
	c, _, err := q.s.Open(ctx, cases.Opening{
		Session: string(o.Session), Reason: string(o.Reason), Question: o.Question,
		Cluster: int64(o.Cluster), Message: int64(o.Message),
		Viewer: cases.Viewer{ID: o.Viewer.ID, Nick: o.Viewer.Nick},
	})
	return int64(c.ID), err
}

// sessionCheck tells whether a session exists (for /govlive bind).
type sessionCheck struct{ cs *content.Store }

func (s sessionCheck) exists(ctx context.Context, id content.SessionID) error {
	_, err := s.cs.ViewerSession(ctx, id)
	return err
}

// modelWriter words document answers with a chat model (bot.Composer).
type modelWriter struct{ w *compose.Writer }

func (m modelWriter) Compose(ctx context.Context, q string, ps []bot.Passage, delta func(string)) (string, error) {
	cps := make([]compose.Passage, len(ps))
	for i, p := range ps {
		cps[i] = compose.Passage{Label: p.Label, Text: p.Text}
	}
	a, err := m.w.Answer(ctx, q, cps, delta)
	if err != nil {
		return "", err
	}
	return a.Text + "\n" + compose.Sources(a, cps), nil
}

// openChat opens the chat over db, deciding with the bot of index.
func openChat(ctx context.Context, cfg config, db *store.DB, sessions sessionCheck, index *liveIndex, log *slog.Logger) (*chatStack, error) {
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		return nil, err
	}
	cl, err := chatdb.Open(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	cs := &chatStack{log: cl, publish: &lateBound{}, console: studio.NewConsole(0)}
	cs.publish.targets = append(cs.publish.targets, cs.console)
	var p *bot.Pipeline
	cs.cases, err = cases.NewStore(ctx, db, time.Now, cases.WithOnChange(func(c cases.Case) {
		if p != nil {
			p.PublishCase(content.SessionID(c.Session), c)
		}
	}))
	if err != nil {
		return nil, err
	}
	var composer bot.Composer
	if cfg.LLMURL != "" {
		w, err := compose.New(compose.Config{BaseURL: cfg.LLMURL, Model: cfg.LLMModel, APIKey: cfg.LLMKey, Log: log})
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		composer = modelWriter{w}
		log.Info("document answers are worded by a chat model", "model", cfg.LLMModel, "deadline", time.Duration(cfg.LLMDeadline))
	}
	retention := time.Duration(cfg.ChatRetention) * 24 * time.Hour
	if cfg.ChatRetention == 0 {
		retention = -1
	}
	p, err = bot.NewPipeline(bot.PipelineConfig{
		Decider: index, Normalize: norm.Normalize, Store: cl, Publish: cs.publish, Log: log.With("component", "chat"),
		Cases: caseQueue{cs.cases}, Replies: index.replies, Composer: composer,
		Window: time.Duration(cfg.ChatWindow), Retention: retention, ModelDeadline: time.Duration(cfg.LLMDeadline),
	})
	if err != nil {
		return nil, err
	}
	cs.pipeline = p
	secret, err := chatSecret(cfg.Data)
	if err != nil {
		return nil, err
	}
	cs.hubs, err = webchat.NewHubs(webchat.Config{
		Chat: p, Log: log.With("component", "webchat"), Secret: secret,
		// studio checks that the session may be watched before the upgrade
		Allow: func(*fiber.Ctx, content.SessionID) error { return nil },
	})
	if err != nil {
		return nil, err
	}
	cs.publish.targets = append(cs.publish.targets, cs.hubs)
	if cfg.DiscordToken != "" {
		bindings, err := discord.NewBindings(ctx, db)
		if err != nil {
			return nil, err
		}
		static := map[string]content.SessionID{}
		for _, b := range discordBindings(cfg.DiscordChannels) {
			ch, ss, _ := strings.Cut(b, "=")
			static[ch] = content.SessionID(ss)
		}
		cs.discord, err = discord.New(discord.Config{
			Token: cfg.DiscordToken, Chat: p, Bindings: bindings, Log: log.With("component", "discord"),
			Static: static, Sessions: sessions.exists, IDKey: secret, APIBase: cfg.DiscordAPI,
		})
		if err != nil {
			return nil, fmt.Errorf("discord: %w", err)
		}
		cs.publish.targets = append(cs.publish.targets, cs.discord)
	}
	return cs, nil
}
