package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"govlive/bot"
	"govlive/content"
	"govlive/retrieval"
	"govlive/retrieval/openai"
	"govlive/retrieval/qdrant"
	"govlive/studio"
)

// searchStack is the knowledge index and the bot on top of it.
type searchStack struct {
	index *retrieval.Index
	bot   *bot.Bot
	norm  *retrieval.Normalizer // the index's
	close func() error
}

// searchConfig is the index's configuration over cs in dir (the lexical
// index and the embedded vectors live there): the normaliser, and the
// embedder and vector store when an embedding endpoint is configured.
// closeAll closes what it opened.
func searchConfig(ctx context.Context, cfg config, cs *content.Store, dir string, log *slog.Logger) (rc retrieval.Config, closeAll func() error, err error) {
	closeAll = func() error { return nil }
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		return rc, closeAll, err
	}
	rc = retrieval.Config{Dir: dir, Source: cs, Normalizer: norm, Log: log}
	if cfg.EmbedURL == "" {
		return rc, closeAll, nil
	}
	emb, err := openai.New(openai.Config{
		BaseURL: cfg.EmbedURL, Model: cfg.EmbedModel, APIKey: cfg.EmbedKey,
		Dimensions: cfg.EmbedDimensions, Timeout: time.Duration(cfg.EmbedTimeout),
	})
	if err != nil {
		return rc, closeAll, fmt.Errorf("embedder: %w", err)
	}
	rc.Embedder = emb
	switch cfg.Vectors {
	case "qdrant":
		host, port, _ := net.SplitHostPort(cfg.QdrantAddr) // checked by validate
		p, _ := strconv.Atoi(port)
		qs, err := qdrant.New(ctx, qdrant.Config{
			Host: host, Port: p, APIKey: cfg.QdrantKey, UseTLS: cfg.QdrantTLS,
			Collection: cfg.QdrantCollection, Dim: cfg.EmbedDimensions,
		})
		if err != nil {
			return rc, closeAll, fmt.Errorf("qdrant: %w", err)
		}
		rc.Vectors = qs
		closeAll = qs.Close
	default:
		fs, err := retrieval.OpenFlatStore(filepath.Join(dir, "vectors.bin"))
		if err != nil {
			return rc, closeAll, err
		}
		rc.Vectors = fs
	}
	return rc, closeAll, nil
}

// newBot is the bot deciding with ix over the content of cs.
func newBot(ctx context.Context, cfg config, cs *content.Store, ix *retrieval.Index, norm *retrieval.Normalizer) (*bot.Bot, error) {
	lx, err := cs.Lexicon(ctx)
	if err != nil {
		return nil, err
	}
	return bot.New(ctx, bot.Config{
		Searcher: ix, Documents: cs, Normalizer: norm, Lexicon: lx, Thresholds: cfg.thresholds(), Questions: ix,
	})
}

// openSearch builds the knowledge index over cs in dir, caught up, and
// the bot that decides with it (ask and eval; serve loads its index in
// the background, see liveIndex).
func openSearch(ctx context.Context, cfg config, cs *content.Store, dir string, log *slog.Logger) (*searchStack, error) {
	rc, closeVectors, err := searchConfig(ctx, cfg, cs, dir, log)
	if err != nil {
		return nil, err
	}
	ix, err := retrieval.Open(ctx, rc)
	if err != nil {
		return nil, errors.Join(err, closeVectors())
	}
	closeAll := func() error { return errors.Join(ix.Close(), closeVectors()) }
	b, err := newBot(ctx, cfg, cs, ix, rc.Normalizer)
	if err != nil {
		return nil, errors.Join(err, closeAll())
	}
	return &searchStack{index: ix, bot: b, norm: rc.Normalizer, close: closeAll}, nil
}

func modeOf(ix *retrieval.Index) string {
	if ix.Stats().Hybrid {
		return "hybrid"
	}
	return "lexical"
}

// describeMode is the line that tells a user which search is running.
func describeMode(mode string) string {
	if mode == "hybrid" {
		return "检索模式：关键词 + 向量混合检索"
	}
	return "检索模式：仅关键词检索（未配置向量模型 embed_url）"
}

// liveIndex is serve's knowledge index, loaded in the background while
// the server already answers: the bot answers (studio.Asker) once the
// index is loaded, and the index is ready (for /readyz) once it has caught
// up with the content.
type liveIndex struct {
	cfg   config
	cs    *content.Store
	dir   string
	log   *slog.Logger
	index atomic.Pointer[retrieval.Index]
	bot   atomic.Pointer[bot.Bot]
	lex   atomic.Pointer[content.Lexicon] // the lexicon the bot was made with
	err   atomic.Pointer[error]           // the last failure, until the next attempt succeeds

	closeVectors func() error // set by run
}

var _ studio.Asker = (*liveIndex)(nil)

// Explain answers through the bot once the index is loaded.
func (l *liveIndex) Explain(ctx context.Context, m bot.Message) (bot.Decision, error) {
	b := l.bot.Load()
	if b == nil {
		return bot.Decision{}, studio.ErrNotReady
	}
	return b.Explain(ctx, m)
}

// Decide decides for the chat pipeline once the index is loaded.
func (l *liveIndex) Decide(ctx context.Context, m bot.Message) (bot.Decision, error) {
	b := l.bot.Load()
	if b == nil {
		return bot.Decision{}, studio.ErrNotReady
	}
	return b.Decide(ctx, m)
}

// replies are the bot's reply texts of the current lexicon.
func (l *liveIndex) replies() content.Replies {
	if lx := l.lex.Load(); lx != nil {
		return lx.Replies
	}
	return content.DefaultReplies
}

// ready is the readiness check of the index.
func (l *liveIndex) ready(context.Context) error {
	ix := l.index.Load()
	if ix == nil {
		if err := l.err.Load(); err != nil {
			return fmt.Errorf("loading failed, retrying: %v", *err)
		}
		return errors.New("loading")
	}
	if ok, done, total := ix.CaughtUp(); !ok {
		if err := l.err.Load(); err != nil {
			return fmt.Errorf("catching up failed, retrying: %v", *err)
		}
		return fmt.Errorf("catching up: %d of %d items indexed; search answers from the previous index", done, total)
	}
	return nil
}

// retryAfter is how long the index waits after a failure to try again.
const retryAfter = 30 * time.Second

// run loads the index, lets the bot answer, catches up, then applies
// content changes every interval until ctx ends. A failure is logged and
// retried; it never stops the server (live video goes on without search).
// The index stays open for requests still in flight: close closes it.
func (l *liveIndex) run(ctx context.Context, interval time.Duration) error {
	start := time.Now()
	rc, closeVectors, err := searchConfig(ctx, l.cfg, l.cs, l.dir, l.log)
	if err != nil {
		return err // a configuration error: the embedder's settings
	}
	l.closeVectors = closeVectors
	l.log.Info("search index loading", "dir", l.dir)
	var ix *retrieval.Index
	for ix == nil {
		ix, err = retrieval.Load(ctx, rc)
		if err == nil {
			var b *bot.Bot
			if b, err = newBot(ctx, l.cfg, l.cs, ix, rc.Normalizer); err == nil {
				l.followLexicon(ctx)
				l.index.Store(ix)
				l.bot.Store(b)
				break
			}
			err = errors.Join(err, ix.Close())
			ix = nil
		}
		if !l.wait(ctx, "load", err) {
			return nil
		}
	}
	l.err.Store(nil)
	st := ix.Stats()
	l.log.Info("search index loaded; the bot answers", "mode", modeOf(ix), "faq", st.FAQ, "chunks", st.Chunks,
		"took", time.Since(start).Round(time.Millisecond))
	if modeOf(ix) == "lexical" {
		l.log.Info("no embedding endpoint configured (embed_url): search is lexical only")
	}
	for {
		err := ix.CatchUp(ctx)
		if err == nil {
			break
		}
		if !l.wait(ctx, "catch up", err) {
			return nil
		}
	}
	l.err.Store(nil)
	l.log.Info("search index ready", "revision", ix.Stats().Revision, "took", time.Since(start).Round(time.Millisecond))
	keepIndexCurrent(ctx, ix, interval, l.log, l.followLexicon)
	return nil
}

// followLexicon gives the bot the lexicon as it is now: the reply texts
// (and, through the bot, its cues and moderation lists) follow the
// lexicon's revisions like search does.
func (l *liveIndex) followLexicon(ctx context.Context) {
	lx, err := l.cs.Lexicon(ctx)
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("read lexicon", "err", err)
		}
		return
	}
	l.lex.Store(&lx)
	if b := l.bot.Load(); b != nil {
		if err := b.SetLexicon(ctx, lx); err != nil && ctx.Err() == nil {
			l.log.Warn("set lexicon", "err", err)
		}
	}
}

// close closes the index and the vector store, once run has returned.
func (l *liveIndex) close() error {
	var errs []error
	if ix := l.index.Load(); ix != nil {
		errs = append(errs, ix.Close())
	}
	if l.closeVectors != nil {
		errs = append(errs, l.closeVectors())
	}
	return errors.Join(errs...)
}

// wait logs a failure and waits retryAfter; false if ctx ended first.
func (l *liveIndex) wait(ctx context.Context, what string, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	l.err.Store(&err)
	l.log.Error("search index: "+what+" failed; retrying", "err", err, "retry_in", retryAfter)
	select {
	case <-ctx.Done():
		return false
	case <-time.After(retryAfter):
		return true
	}
}

// keepIndexCurrent applies content changes to the index every interval
// until ctx ends.
func keepIndexCurrent(ctx context.Context, ix *retrieval.Index, interval time.Duration, log *slog.Logger, changed func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := ix.SyncAll(ctx); err != nil {
				if ctx.Err() == nil {
					log.Warn("index sync failed", "err", err)
				}
			} else if n > 0 {
				log.Info("index updated", "revisions", n)
				changed(ctx)
			}
		}
	}
}
