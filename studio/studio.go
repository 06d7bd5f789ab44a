// Package studio is govlive's web application on fiber: the JSON API over
// the content (and, as the product grows, the watch page, the anchor
// console and the editors' pages). Errors become HTTP statuses in one
// place, errorHandler, with a JSON body {"error": "..."} in Chinese.
package studio

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"govlive/accounts"
	"govlive/content"
)

// Config is what a Server needs.
type Config struct {
	// Content is the store the API reads.
	Content *content.Store
	// Health reports whether the process can serve (the database answers).
	Health func(ctx context.Context) error
	// Log receives request errors and server events.
	Log *slog.Logger
	// Relay, if set, serves WHIP/WHEP and the stream API.
	Relay Relay
	// Anchors checks the bearer tokens that let anchors see their private
	// sessions (nil: private sessions are hidden from everyone).
	Anchors Anchors
	// Tokens, if set, lets editors issue and revoke the anchors' lasting
	// publishing tokens on a session's edit page (stream.Tokens).
	Tokens TokenIssuer
	// RecordDir is where the relay's recordings are ("" = none).
	RecordDir string
	// Pages holds the web pages, their scripts and stylesheets (the
	// landing page index.html, live.html, publish.html; nil = none).
	Pages fs.FS
	// Metrics, if set, is served at /metrics.
	Metrics *prometheus.Registry
	// Bot answers POST /api/ask (nil: 503 until one is set up), its
	// replies worded by Replies (nil: content.DefaultReplies).
	Bot     Asker
	Replies func() content.Replies
	// Ready are the conditions of /readyz besides Health (the index has
	// caught up, the disk can take recordings…).
	Ready []Check
	// Chat, if set, serves the session chat's read API and the anchors'
	// chat API; ChatSocket is the viewers' chat websocket
	// (webchat.Hubs.Handler) and ConsoleSocket the anchors' live events.
	Chat          Chat
	ChatSocket    fiber.Handler
	ConsoleSocket fiber.Handler
	// Cases, if set, serves the anchors' case queue.
	Cases CaseDesk
	// Reports, if set, feed the editors' session report and review
	// pages (chatdb.Store); Cases adds the cases' figures.
	Reports ChatReports
	// Viewers, if set, are the sessions' viewer counts per minute
	// (viewers.Log), drawn in the report.
	Viewers ViewerSeries
	// Accounts, if set, are the staff logins: the login page, the
	// session cookie, CSRF checks, role checks and the user management
	// pages (nil: no logins; publishing tokens only).
	Accounts *accounts.Store
	// Grants, with Accounts and Relay, issue the anchor console's
	// publishing tokens; the relay must take them too (AnyAuthorizer).
	Grants *Grants
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// ShutdownTimeout bounds how long Serve waits for in-flight requests
	// once its context is done. Zero means 10 seconds.
	ShutdownTimeout time.Duration
}

// Server is the studio web application.
type Server struct {
	cfg   Config
	app   *fiber.App
	pages *pageCache
	tmpl  map[string]*template.Template // the staff pages
}

// New returns a Server with its routes mounted. It starts nothing.
func New(cfg Config) (*Server, error) {
	if cfg.Content == nil || cfg.Log == nil {
		return nil, errors.New("studio: Config needs Content and Log")
	}
	if cfg.Health == nil {
		cfg.Health = func(context.Context) error { return nil }
	}
	cfg.Ready = append([]Check{{Name: "database", Check: cfg.Health}}, cfg.Ready...)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	tmpl, err := pageTemplates()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, pages: &pageCache{content: cfg.Content}, tmpl: tmpl}
	s.app = fiber.New(fiber.Config{
		AppName:               "govlive",
		DisableStartupMessage: true,
		ErrorHandler:          s.errorHandler,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		BodyLimit:             4 << 20,
	})
	s.routes()
	return s, nil
}

// App returns the fiber application, for tests (app.Test) and for
// mounting further handlers.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until ctx is done, then stops taking new
// connections, lets in-flight requests finish (up to ShutdownTimeout) and
// returns. If the listener stops by itself (closed by someone else), Serve
// returns what the server returned: nil for a closed listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := ctx.Err(); err != nil {
		return errors.Join(err, ln.Close())
	}
	done := make(chan error, 1)
	go func() { done <- s.app.Listener(ln) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("studio: serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	s.cfg.Log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	serr := s.app.ShutdownWithTimeout(s.cfg.ShutdownTimeout)
	// Shutdown closes the listeners fasthttp has registered; if the context
	// ended before the listener goroutine got that far, closing ln here is
	// what makes it return. The accept error that follows is expected.
	_ = ln.Close()
	<-done
	if serr != nil {
		return fmt.Errorf("studio: shutdown: %w", serr)
	}
	return nil
}
