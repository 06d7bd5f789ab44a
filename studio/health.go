package studio

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Check is one condition of readiness: Check returns nil when it holds,
// and otherwise an error saying what is not ready yet (shown to operators
// on /readyz as is).
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// healthz answers whether the process is alive and its database answers;
// it says nothing about the search index (that is /readyz).
func (s *Server) healthz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Health(ctx); err != nil {
		s.cfg.Log.Warn("health check failed", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "error": "服务暂不可用"})
	}
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers 200 when every readiness check holds, and 503 with what
// does not otherwise: {"status": "ready"|"not_ready", "checks": {name:
// "ok"|what is wrong}}.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	checks := fiber.Map{}
	ready := true
	for _, ch := range s.cfg.Ready {
		if err := ch.Check(ctx); err != nil {
			checks[ch.Name] = err.Error()
			ready = false
		} else {
			checks[ch.Name] = "ok"
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if !ready {
		c.Set(fiber.HeaderRetryAfter, "5")
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "not_ready", "error": "服务尚未就绪", "checks": checks})
	}
	return c.JSON(fiber.Map{"status": "ready", "checks": checks})
}
