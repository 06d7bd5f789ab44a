package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"govlive/bot"
	"govlive/content"
	"govlive/retrieval"
	"govlive/retrieval/openai"
	"govlive/retrieval/qdrant"
)

// searchStack is the knowledge index and the bot on top of it.
type searchStack struct {
	index *retrieval.Index
	bot   *bot.Bot
	mode  string // "lexical" or "hybrid"
	close func() error
}

// openSearch builds the knowledge index over cs in dir (the lexical index
// and the embedded vectors live there) and the bot that decides with it.
func openSearch(ctx context.Context, cfg config, cs *content.Store, dir string, log *slog.Logger) (*searchStack, error) {
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		return nil, err
	}
	rc := retrieval.Config{Dir: dir, Source: cs, Normalizer: norm, Log: log}
	var closers []func() error
	closeAll := func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		return errors.Join(errs...)
	}
	if cfg.EmbedURL != "" {
		emb, err := openai.New(openai.Config{
			BaseURL: cfg.EmbedURL, Model: cfg.EmbedModel, APIKey: cfg.EmbedKey,
			Dimensions: cfg.EmbedDimensions, Timeout: time.Duration(cfg.EmbedTimeout),
		})
		if err != nil {
			return nil, fmt.Errorf("embedder: %w", err)
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
				return nil, fmt.Errorf("qdrant: %w", err)
			}
			closers = append(closers, qs.Close)
			rc.Vectors = qs
		default:
			fs, err := retrieval.OpenFlatStore(filepath.Join(dir, "vectors.bin"))
			if err != nil {
				return nil, err
			}
			rc.Vectors = fs
		}
	}
	ix, err := retrieval.Open(ctx, rc)
	if err != nil {
		return nil, errors.Join(err, closeAll())
	}
	closers = append(closers, ix.Close)
	lx, err := cs.Lexicon(ctx)
	if err != nil {
		return nil, errors.Join(err, closeAll())
	}
	b, err := bot.New(bot.Config{
		Searcher: ix, Documents: cs, Normalizer: norm, Lexicon: lx, Thresholds: cfg.thresholds(),
	})
	if err != nil {
		return nil, errors.Join(err, closeAll())
	}
	mode := "lexical"
	if ix.Stats().Hybrid {
		mode = "hybrid"
	}
	return &searchStack{index: ix, bot: b, mode: mode, close: closeAll}, nil
}

// describeMode is the line that tells a user which search is running.
func describeMode(mode string) string {
	if mode == "hybrid" {
		return "检索模式：关键词 + 向量混合检索"
	}
	return "检索模式：仅关键词检索（未配置向量模型 embed_url）"
}
