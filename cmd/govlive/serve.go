package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"govlive/content"
	"govlive/content/sample"
	"govlive/retrieval"
	"govlive/stream"
	"govlive/stream/pages"
	"govlive/studio"
)

func serveCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := parseConfig("serve", args, getenv, stdout, "", nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Errorf("serve: unexpected arguments %q", rest)}
	}
	start := time.Now()
	log := newLogger(cfg, stderr)
	cs, db, err := openContent(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil {
			log.Error("close database", "err", cerr)
		}
	}()

	if cfg.Sample {
		if err := importSample(ctx, cs, log); err != nil {
			return err
		}
	}

	st, err := openSearch(ctx, cfg, cs, filepath.Join(cfg.Data, "index"), log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.close(); cerr != nil {
			log.Error("close index", "err", cerr)
		}
	}()
	stats := st.index.Stats()
	log.Info("knowledge index ready", "mode", st.mode, "faq", stats.FAQ, "chunks", stats.Chunks)
	if st.mode == "lexical" {
		log.Info("no embedding endpoint configured (embed_url): search is lexical only")
	}
	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		keepIndexCurrent(ctx, st.index, 5*time.Second, log)
	}()
	defer func() { <-syncDone }()

	tokens, err := stream.OpenTokens(ctx, db, nil)
	if err != nil {
		return err
	}
	rp, err := openRelay(cfg, cs, tokens, log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rp.relay.Close(); cerr != nil {
			log.Error("close relay", "err", cerr)
		}
	}()
	log.Info("relay ready", "udp_port", cfg.UDPPort, "tcp_port", cfg.TCPPort, "slots", cfg.Slots,
		"origin", cfg.Origin, "recordings", rp.recordDir, "loopback", cfg.ICELoopback)
	if cfg.Demo && cfg.Origin == "" {
		demoCtx, stopDemo := context.WithCancel(ctx)
		demoDone := make(chan struct{})
		go func() {
			defer close(demoDone)
			if err := runDemo(demoCtx, rp.relay, log); err != nil {
				log.Error("demo publisher stopped", "err", err)
			}
		}()
		defer func() {
			stopDemo()
			<-demoDone
		}()
	}

	srv, err := studio.New(studio.Config{
		Content:         cs,
		Health:          db.PingContext,
		Log:             log,
		ShutdownTimeout: time.Duration(cfg.ShutdownTimeout),
		Relay:           rp.relay,
		Anchors:         tokens,
		RecordDir:       rp.recordDir,
		Pages:           pages.FS,
		Metrics:         rp.metrics,
	})
	if err != nil {
		return err
	}
	scheme := "http"
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("serve: TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	url := scheme + "://" + ln.Addr().String()
	log.Info("serving", "url", url, "data", cfg.Data, "startup", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "govlive serving on %s\n", url)
	err = srv.Serve(ctx, ln)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("stopped")
	return nil
}

// keepIndexCurrent applies content changes to the index every interval
// until ctx ends.
func keepIndexCurrent(ctx context.Context, ix *retrieval.Index, interval time.Duration, log *slog.Logger) {
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
			}
		}
	}
}

// importSample imports the built-in sample pack into a store that never
// held content: one without a single revision. A store that editors have
// emptied still holds their revisions, and stays empty.
func importSample(ctx context.Context, cs *content.Store, log *slog.Logger) error {
	revs, err := cs.RevisionsSince(ctx, 0, 1)
	if err != nil {
		return err
	}
	if len(revs) > 0 {
		return nil
	}
	p, err := content.ReadPack(sample.FS)
	if err != nil {
		return fmt.Errorf("sample pack: %w", err)
	}
	rep, err := cs.Import(ctx, p, "govlive", "首次启动导入示例内容包")
	if err != nil {
		return fmt.Errorf("sample pack: %w", err)
	}
	log.Info("imported the sample pack into the new store",
		"faq", rep.FAQ.Created, "documents", rep.Documents.Created, "sessions", rep.Sessions.Created)
	return nil
}
