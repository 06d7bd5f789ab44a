package studio

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"govlive/accounts"
	"govlive/content"
)

// The anchor console's own files: its template (over the staff pages'
// layout), its script and its stylesheet.
//
//go:embed web/layout.html web/console.html web/console.js web/console.css
var consoleFS embed.FS

// consolePrefix is the path of the anchor console: /studio/{session}.
const consolePrefix = "/studio/"

// consoleRoutes mounts the anchor console (with logins only): the page,
// its assets, and the publishing grant its go-live button asks for.
func (s *Server) consoleRoutes() {
	if s.cfg.Grants != nil {
		s.cfg.Grants.acc = s.cfg.Accounts
	}
	s.app.Get("/assets/console.js", func(c *fiber.Ctx) error {
		return sendFS(c, consoleFS, "web/console.js", fiber.MIMETextJavaScriptCharsetUTF8)
	})
	s.app.Get("/assets/console.css", func(c *fiber.Ctx) error {
		return sendFS(c, consoleFS, "web/console.css", "text/css; charset=utf-8")
	})
	s.app.Get(consolePrefix+":session", s.requirePage(accounts.RoleAnchor), noStore, s.consolePage())
	if s.cfg.Grants != nil {
		s.app.Post("/api/sessions/:id/console/publish", s.requireRole(accounts.RoleAnchor), s.anchorOnly, s.grantPublish)
	}
}

// consoleTemplate is the console's page over the staff layout.
var consoleTemplate = template.Must(template.ParseFS(consoleFS, "web/layout.html", "web/console.html"))

// consoleData is what the console's template reads; the script loads the
// rest from the JSON API.
type consoleData struct {
	pageData
	Session content.Session
	Anchor  string // the name the user acts under in this session
}

// consolePage answers GET /studio/{session}: the console, for a user
// linked to one of the session's anchors or an admin (requirePage has
// let through only anchors and admins; an anchor of another session is
// refused here, a session that does not exist is a 404).
func (s *Server) consolePage() fiber.Handler {
	t := consoleTemplate
	return func(c *fiber.Ctx) error {
		id := content.SessionID(c.Params("session"))
		ss, err := s.cfg.Content.ViewerSession(c.UserContext(), id)
		if err != nil {
			return s.errorPage(c, err)
		}
		name, ok, err := s.loggedInAnchor(c, ss.ID)
		if err != nil {
			return err
		}
		if !ok && !ss.Public {
			// as everywhere, a private session does not exist for others
			return s.errorPage(c, fmt.Errorf("session %s is private: %w", ss.ID, content.ErrNotFound))
		}
		if !ok {
			u, _ := currentUser(c)
			return s.errorPage(c, fmt.Errorf("user %s is no anchor of session %s: %w", u.Name, ss.ID, errForbidden))
		}
		d := consoleData{pageData: s.base(c, "主播控制台 · "+ss.Title), Session: ss, Anchor: name}
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, "layout", d); err != nil {
			return fmt.Errorf("render console: %w", err)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(b.Bytes())
	}
}

// grantPublish answers POST /api/sessions/{id}/console/publish: a
// short-lived publishing token for the logged-in anchor (see Grants),
// which the console sends as the bearer token of its WHIP requests.
func (s *Server) grantPublish(c *fiber.Ctx) error {
	u, ok := currentUser(c)
	if !ok {
		return errLogin // a publishing token cannot get itself another
	}
	// (fiber's parameters point into the request's buffer: the grant outlives it)
	tok, err := s.cfg.Grants.Issue(content.SessionID(strings.Clone(c.Params("id"))), strings.Clone(anchorName(c)), u.ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"token": tok, "anchor": anchorName(c), "expires_in": int(s.cfg.Grants.ttl.Seconds())})
}
