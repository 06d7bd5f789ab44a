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

	"golang.org/x/sync/errgroup"

	"govlive/accounts"
	"govlive/content"
	"govlive/content/sample"
	"govlive/stream"
	"govlive/stream/pages"
	"govlive/studio"
	"govlive/viewers"
)

// syncInterval is how often serve applies content changes to the index.
const syncInterval = 5 * time.Second

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
	lock, err := lockData(cfg.Data, "serve")
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer func() {
		if err := lock.release(); err != nil {
			log.Error("release data directory", "err", err)
		}
	}()
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

	tokens, err := stream.OpenTokens(ctx, db, nil)
	if err != nil {
		return err
	}
	acc, err := accounts.Open(ctx, accounts.Config{DB: db, Log: log.With("component", "accounts")})
	if err != nil {
		return err
	}
	if users, err := acc.Users(ctx); err != nil {
		return err
	} else if len(users) == 0 {
		log.Info("no staff accounts yet: add the first admin with govlive user add --role admin NAME")
	}
	// the anchor console's publishing tokens, beside the lasting ones
	grants := studio.NewGrants(0, nil)
	rp, err := openRelay(cfg, cs, studio.AnyAuthorizer{tokens, grants}, log)
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

	// The server listens at once; the knowledge index loads beside it (the
	// bot answers once it is loaded, /readyz says when it has caught up).
	index := &liveIndex{cfg: cfg, cs: cs, dir: filepath.Join(cfg.Data, "index"), log: log}
	defer func() {
		if err := index.close(); err != nil {
			log.Error("close index", "err", err)
		}
	}()
	chat, err := openChat(ctx, cfg, db, sessionCheck{cs}, index, log)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	vlog, err := viewers.Open(ctx, db)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	sampler := &viewers.Sampler{Log: vlog, Live: liveViewers(cs, rp.relay), Slog: log.With("component", "viewers")}
	ready := []studio.Check{{Name: "index", Check: index.ready}}
	if rp.janitor != nil {
		ready = append(ready, studio.Check{Name: "recordings", Check: rp.janitor.Ready})
	}
	srv, err := studio.New(studio.Config{
		Content:         cs,
		Health:          db.PingContext,
		Ready:           ready,
		Bot:             index,
		Replies:         index.replies,
		Log:             log,
		ShutdownTimeout: time.Duration(cfg.ShutdownTimeout),
		Relay:           rp.relay,
		Anchors:         tokens,
		Tokens:          tokens,
		Accounts:        acc,
		Grants:          grants,
		RecordDir:       rp.recordDir,
		Pages:           pages.FS,
		Metrics:         rp.metrics,
		Chat:            chat.pipeline,
		Cases:           chat.cases,
		Reports:         chat.log,
		Viewers:         vlog,
		ConsoleSocket:   chat.console.Handler(),
		ChatSocket:      chat.hubs.Handler(),
	})
	if err != nil {
		return err
	}
	ln, url, err := listen(cfg)
	if err != nil {
		return err
	}
	if err := lock.serving(url); err != nil {
		return errors.Join(err, ln.Close())
	}
	log.Info("serving", "url", url, "data", cfg.Data, "startup", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "govlive serving on %s\n", url)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx, ln) })
	g.Go(func() error { return index.run(gctx, syncInterval) })
	g.Go(func() error { return chat.pipeline.Run(gctx) })
	g.Go(func() error { return sampler.Run(gctx) })
	g.Go(func() error { return chat.console.Run(gctx) })
	g.Go(func() error { return chat.hubs.Run(gctx) })
	if chat.discord != nil {
		g.Go(func() error {
			// Discord away is no reason to stop the live stream.
			if err := chat.discord.Run(gctx); err != nil && gctx.Err() == nil {
				log.Error("discord adapter stopped", "err", err)
			}
			return nil
		})
	}
	if rp.janitor != nil {
		g.Go(func() error { return rp.janitor.Run(gctx) })
	}
	if cfg.Demo && cfg.Origin == "" {
		g.Go(func() error {
			if err := runDemo(gctx, rp.relay, log); err != nil {
				log.Error("demo publisher stopped", "err", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("stopped")
	return nil
}

// listen opens the listening socket of serve (TLS when configured) and
// returns it with its URL.
func listen(cfg config) (net.Listener, string, error) {
	scheme := "http"
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, "", fmt.Errorf("serve: TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, "", fmt.Errorf("serve: %w", err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return ln, scheme + "://" + ln.Addr().String(), nil
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

// liveViewers lists the sessions with an anchor live on the relay and
// their viewer counts, for the viewer sampler.
func liveViewers(cs *content.Store, relay *stream.Relay) func(ctx context.Context) (map[string]int, error) {
	return func(ctx context.Context) (map[string]int, error) {
		sessions, _, err := cs.ListSessions(ctx, content.SessionFilter{}, content.Page{})
		if err != nil {
			return nil, err
		}
		out := map[string]int{}
		for _, s := range sessions {
			if st, ok := relay.Stats(stream.SessionID(s.ID)); ok && len(st.Anchors) > 0 {
				out[string(s.ID)] = st.Viewers
			}
		}
		return out, nil
	}
}
