package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"govlive/content"
	"govlive/stream"
	"govlive/stream/demo"
	"govlive/stream/record"
)

// contentSessions answers the relay's "does this session exist" from the
// content store: private sessions exist too (their anchors publish to
// rehearse); who may watch or see one is the studio's decision
// (studio.Server.viewSession).
type contentSessions struct{ cs *content.Store }

func (s contentSessions) SessionExists(ctx context.Context, id stream.SessionID) (bool, error) {
	_, err := s.cs.Session(ctx, content.SessionID(id))
	if errors.Is(err, content.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// relayParts is the relay and what serve hands to the studio with it.
type relayParts struct {
	relay     *stream.Relay
	metrics   *prometheus.Registry
	recordDir string
	// janitor keeps the recordings within their retention and space
	// (nil when nothing is recorded); serve runs it
	janitor *record.Janitor
}

// openRelay builds the relay from the configuration.
func openRelay(cfg config, cs *content.Store, tokens stream.Authorizer, log *slog.Logger) (*relayParts, error) {
	var servers []webrtc.ICEServer
	for _, u := range splitList(cfg.ICEServers) {
		srv := webrtc.ICEServer{URLs: []string{u}}
		if strings.HasPrefix(u, "turn") {
			srv.Username, srv.Credential = cfg.TURNUsername, cfg.TURNCredential
		}
		servers = append(servers, srv)
	}
	p := &relayParts{metrics: prometheus.NewRegistry()}
	sc := stream.Config{
		ICE: stream.ICEConfig{
			UDPPort:   cfg.UDPPort,
			TCPPort:   cfg.TCPPort,
			PublicIPs: splitList(cfg.PublicIP),
			Servers:   servers,
			Loopback:  cfg.ICELoopback,
		},
		Slots:      cfg.Slots,
		MaxViewers: cfg.MaxViewers,
		Origin:     cfg.Origin,
		Log:        log.With("component", "stream"),
	}
	if cfg.Origin == "" {
		sc.Sessions = contentSessions{cs}
		sc.Tokens = tokens
	}
	if cfg.Record && cfg.Origin == "" {
		p.recordDir = filepath.Join(cfg.Data, "recordings")
		dir, rlog := p.recordDir, log.With("component", "record")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("recordings: %w", err)
		}
		live := record.NewRegistry()
		j, err := record.NewJanitor(record.JanitorConfig{
			Dir:       dir,
			Registry:  live,
			Retention: time.Duration(cfg.RecordRetention) * 24 * time.Hour,
			Budget:    uint64(cfg.RecordBudget),
			MinFree:   cfg.RecordMinFree.minFree(),
			Log:       rlog,
		})
		if err != nil {
			return nil, err
		}
		p.janitor = j
		sc.Record = func(rec stream.Recording) (stream.Recorder, error) {
			return record.Start(record.Params{Dir: dir, Session: string(rec.Session), Anchor: rec.Anchor,
				Start: rec.Start, VideoMime: rec.VideoMime, AudioMime: rec.AudioMime, Log: rlog,
				RequestKeyframe: rec.RequestKeyframe, Registry: live})
		}
		rlog.Info("recordings kept", "dir", dir, "retention_days", cfg.RecordRetention,
			"budget", cfg.RecordBudget.String(), "min_free", cfg.RecordMinFree.String())
	}
	r, err := stream.New(sc)
	if err != nil {
		return nil, err
	}
	p.relay = r
	cols := []prometheus.Collector{r.Collector(), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
	if p.janitor != nil {
		cols = append(cols, p.janitor.Collector())
	}
	for _, c := range cols {
		if err := p.metrics.Register(c); err != nil {
			_ = r.Close()
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return p, nil
}

// runDemo publishes the looping test card into session demo until ctx ends.
func runDemo(ctx context.Context, r *stream.Relay, log *slog.Logger) error {
	src, err := demo.New()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	l, err := r.PublishLocal("demo", "测试信号", demo.VideoMime, demo.AudioMime, src.Keyframe)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer l.Close()
	log.Info("demo test card live", "session", "demo")
	err = src.Run(ctx, l.Video, l.Audio)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// tokenCmd issues and revokes anchors' publishing tokens.
func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var session, anchor string
	var guest bool
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&session, "session", "", "session the anchor publishes into (required)")
		fs.StringVar(&anchor, "anchor", "", "the anchor's name, as the session lists it (required)")
		fs.BoolVar(&guest, "guest", false, "issue: the anchor is a guest the session does not list")
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		_, _, err := parseConfig("token", args[:1], getenv, stdout, " issue|revoke", flags)
		return err
	}
	if len(args) == 0 || (args[0] != "issue" && args[0] != "revoke") {
		return usageError{errors.New(`token: want "token issue" or "token revoke" (see govlive token -h)`)}
	}
	action, args := args[0], args[1:]
	cfg, rest, err := parseConfig("token", args, getenv, stdout, "", flags)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Errorf("token %s: unexpected arguments %q", action, rest)}
	}
	if strings.TrimSpace(session) == "" || strings.TrimSpace(anchor) == "" {
		return usageError{fmt.Errorf("token %s: --session and --anchor are required", action)}
	}
	cs, db, err := openContent(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	tokens, err := stream.OpenTokens(ctx, db, nil)
	if err != nil {
		return err
	}
	if action == "revoke" {
		n, err := tokens.Revoke(ctx, stream.SessionID(session), anchor)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %d token(s) of %s in session %s\n", n, anchor, session)
		return nil
	}
	ss, err := cs.Session(ctx, content.SessionID(session))
	if err != nil {
		if errors.Is(err, content.ErrNotFound) {
			return fmt.Errorf("token issue: no session %q (sessions come from content packs: govlive import, or the sample pack on the first govlive serve)", session)
		}
		return fmt.Errorf("token issue: %w", err)
	}
	if !guest && !listsAnchor(ss, anchor) {
		var names []string
		for _, a := range ss.Anchors {
			names = append(names, a.Name)
		}
		list := "it lists none"
		if len(names) > 0 {
			list = "its anchors: " + strings.Join(names, ", ")
		}
		return usageError{fmt.Errorf("token issue: session %s does not list the anchor %q (%s); issue for one of them, or add --guest for a guest anchor", session, anchor, list)}
	}
	tok, err := tokens.Issue(ctx, stream.SessionID(session), anchor)
	if err != nil {
		return fmt.Errorf("token issue: %w", err)
	}
	if guest && !listsAnchor(ss, anchor) {
		fmt.Fprintf(stdout, "%s is a guest: session %s does not list them\n", anchor, session)
	}
	fmt.Fprintf(stdout, "publishing token for %s in session %s (shown once; stored hashed):\n", anchor, session)
	fmt.Fprintf(stdout, "WHIP URL: /whip/%s   header: Authorization: Bearer <token>\n", session)
	fmt.Fprintln(stdout, tok)
	return nil
}

// listsAnchor reports whether the session's anchors include name.
func listsAnchor(ss content.Session, name string) bool {
	for _, a := range ss.Anchors {
		if a.Name == strings.TrimSpace(name) {
			return true
		}
	}
	return false
}
