package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"govlive/bot"
	"govlive/bot/chatdb"
	"govlive/bot/compose"
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
func openChat(ctx context.Context, cfg config, db *store.DB, index *liveIndex, log *slog.Logger) (*chatStack, error) {
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
	cs.cases, err = cases.NewStore(ctx, db, nil, cases.WithOnChange(func(c cases.Case) {
		if p != nil {
			p.PublishCase(content.SessionID(c.Session), c)
		}
	}))
	if err != nil {
		return nil, fmt.Errorf("cases: %w", err)
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
	return cs, nil
}
