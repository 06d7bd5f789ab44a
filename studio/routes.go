package studio

import (
	"runtime/debug"

	"github.com/gofiber/fiber/v2"
	fiberrecover "github.com/gofiber/fiber/v2/middleware/recover"
)

// routes mounts every route of the studio: the one place that lists them.
func (s *Server) routes() {
	s.app.Use(securityHeaders)
	// A handler that panics answers 500 through errorHandler instead of
	// taking the process down; the stack goes to the log.
	s.app.Use(fiberrecover.New(fiberrecover.Config{
		EnableStackTrace: true,
		StackTraceHandler: func(c *fiber.Ctx, v any) {
			s.cfg.Log.Error("handler panicked", "method", c.Method(), "path", c.Path(), "panic", v, "stack", string(debug.Stack()))
		},
	}))
	if s.cfg.Accounts != nil {
		s.app.Use(s.authenticate)
		s.authRoutes()
		s.editRoutes()
		s.reportRoutes()
		s.consoleRoutes()
	}
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/readyz", s.readyz)
	api := s.app.Group("/api")
	api.Post("/ask", s.ask)
	api.Get("/faq", s.cached, s.listFAQ)
	api.Get("/faq/:id", s.cached, s.getFAQ)
	api.Get("/documents", s.cached, s.listDocuments)
	api.Get("/documents/:id", s.cached, s.getDocument)
	api.Get("/sessions", s.cached, s.listSessions)
	api.Get("/sessions/:id", s.cached, s.getSession)
	if s.cfg.Relay != nil {
		s.streamRoutes()
	}
	if s.cfg.Chat != nil {
		s.chatRoutes()
	}
	s.pageRoutes()
	if s.cfg.Metrics != nil {
		s.metricsRoute(s.cfg.Metrics)
	}
	// Unmatched routes end in fiber's 404, which errorHandler words.
}
