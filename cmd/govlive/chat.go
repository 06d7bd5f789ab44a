package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"govlive/bot"
	"govlive/bot/chatdb"
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
	retention := time.Duration(cfg.ChatRetention) * 24 * time.Hour
	if cfg.ChatRetention == 0 {
		retention = -1
	}
	p, err = bot.NewPipeline(bot.PipelineConfig{
		Decider: index, Normalize: norm.Normalize, Store: cl, Publish: cs.publish, Log: log.With("component", "chat"),
		Cases: caseQueue{cs.cases}, Replies: index.replies,
		Window: time.Duration(cfg.ChatWindow), Retention: retention, ModelDeadline: time.Duration(cfg.LLMDeadline),
	})
	if err != nil {
		return nil, err
	}
	cs.pipeline = p
	return cs, nil
}
