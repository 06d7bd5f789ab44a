package studio

import "github.com/gofiber/fiber/v2"

// CaseDesk is the case queue of live assisted handling (cases.Store).
type CaseDesk interface{}

func (s *Server) caseRoutes(api fiber.Router) {}

// caseStatus maps the case queue's errors (statusOf asks it).
func caseStatus(err error) (int, string, bool) { return 0, "", false }
