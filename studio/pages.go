package studio

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The files of Config.Pages that the routes serve.
const (
	watchFile   = "live.html"
	publishFile = "publish.html"
)

// pageRoutes mounts the web pages: the pages' scripts and stylesheets at
// /assets/NAME and, with a relay, the watch and publish pages.
func (s *Server) pageRoutes() {
	if s.cfg.Pages == nil {
		return
	}
	s.app.Get("/assets/:name", s.asset)
	if s.cfg.Relay != nil {
		s.app.Get("/live/:session", s.page(watchFile))
		s.app.Get(publishPrefix+":session", s.page(publishFile))
	}
}

// page serves one of the embedded pages as it is; each reads its session
// from its own path.
func (s *Server) page(name string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return s.sendFile(c, name, fiber.MIMETextHTMLCharsetUTF8)
	}
}

// asset serves a script (NAME.js) or a stylesheet (NAME.css) of the pages.
func (s *Server) asset(c *fiber.Ctx) error {
	name := strings.Clone(c.Params("name"))
	var mime string
	switch path.Ext(name) {
	case ".js":
		mime = fiber.MIMETextJavaScriptCharsetUTF8
	case ".css":
		mime = "text/css; charset=utf-8"
	default:
		return fiber.ErrNotFound
	}
	if !fs.ValidPath(name) || strings.Contains(name, "/") {
		return fiber.ErrNotFound
	}
	if _, err := fs.Stat(s.cfg.Pages, name); errors.Is(err, fs.ErrNotExist) {
		return fiber.ErrNotFound
	}
	return s.sendFile(c, name, mime)
}

// sendFile answers a file of the pages with its type and an ETag from its
// content. Browsers revalidate it on every use (no-cache): a request that
// names the current ETag gets a bodiless 304, and a new binary's files
// are never mixed with an old one's.
func (s *Server) sendFile(c *fiber.Ctx, name, mime string) error {
	b, err := fs.ReadFile(s.cfg.Pages, name)
	if err != nil {
		return fmt.Errorf("page file %s: %w", name, err)
	}
	sum := sha256.Sum256(b)
	c.Set(fiber.HeaderContentType, mime)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderETag, `"`+hex.EncodeToString(sum[:12])+`"`)
	if c.Fresh() {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(b)
}
