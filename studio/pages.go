package studio

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"govlive/content"
	"govlive/stream"
)

// The files of Config.Pages that the routes serve.
const (
	landingFile = "index.html" // an html/template over a landing value
	watchFile   = "live.html"
	publishFile = "publish.html"
)

// Bounds of the landing page: it reads the latest sessions by start time
// (every upcoming session and the recent past) and lists the newest few
// of those that ended.
const (
	landingSessions = 200
	landingPast     = 10
)

// chinaTime is China Standard Time, the time of Asia/Shanghai: UTC+8 all
// year (no daylight saving since 1991), without depending on the host's
// time zone database.
var chinaTime = time.FixedZone("CST", 8*60*60)

// pageRoutes mounts the web pages: the landing page at /, the pages'
// scripts and stylesheets at /assets/NAME and, with a relay, the watch
// and publish pages.
func (s *Server) pageRoutes() {
	if s.cfg.Pages == nil {
		return
	}
	s.app.Get("/", s.landingPage())
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
	return sendFS(c, s.cfg.Pages, name, mime)
}

// sendFS is sendFile from the files fsys.
func sendFS(c *fiber.Ctx, fsys fs.FS, name, mime string) error {
	b, err := fs.ReadFile(fsys, name)
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

// landing is what the landing page shows: the public sessions live now,
// those still to come (today's first), and the newest that ended.
type landing struct {
	Live, Upcoming, Past []sessionCard
}

// sessionCard is one session on the landing page.
type sessionCard struct {
	ID       content.SessionID
	Title    string
	Category string
	Summary  string
	Anchors  string // names, separated by 、
	URL      string // the watch page
	Start    string // RFC 3339, for <time datetime>
	When     string // in China time: 12月3日（周四）15:00–16:00
	Live     bool   // an anchor is on air
	Today    bool   // starts today, in China time, and has not ended
}

// landingPage renders the landing page from the content store and the
// relay on every request, so it works without script and is never stale.
func (s *Server) landingPage() fiber.Handler {
	tmpl, err := template.ParseFS(s.cfg.Pages, landingFile)
	if err != nil {
		err = fmt.Errorf("landing page: %w", err)
		s.cfg.Log.Error("landing page unavailable", "err", err)
		return func(*fiber.Ctx) error { return err }
	}
	return func(c *fiber.Ctx) error {
		list, err := s.latestSessions(c.UserContext())
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, arrange(list, s.onAir, s.cfg.Now())); err != nil {
			return fmt.Errorf("landing page: %w", err)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "no-cache")
		return c.Send(b.Bytes())
	}
}

// latestSessions returns the public sessions that start last, at most
// landingSessions of them, by start time.
func (s *Server) latestSessions(ctx context.Context) ([]content.Session, error) {
	f := content.SessionFilter{PublicOnly: true}
	_, total, err := s.cfg.Content.ListSessions(ctx, f, content.Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	list, _, err := s.cfg.Content.ListSessions(ctx, f, content.Page{Limit: landingSessions, Offset: max(total-landingSessions, 0)})
	return list, err
}

// onAir reports whether an anchor of the session is live on the relay.
func (s *Server) onAir(id content.SessionID) bool {
	if s.cfg.Relay == nil {
		return false
	}
	st, ok := s.cfg.Relay.Stats(stream.SessionID(id))
	return ok && len(st.Anchors) > 0
}

// arrange sorts sessions (by start time) for the landing page at now: the
// ones on air, whatever their schedule says; then those that have not
// ended; then the newest landingPast of those that have, newest first.
func arrange(list []content.Session, onAir func(content.SessionID) bool, now time.Time) landing {
	var l landing
	today := dateOf(now)
	for _, ss := range list {
		card := sessionCard{
			ID:       ss.ID,
			Title:    ss.Title,
			Category: ss.Category,
			Summary:  ss.Summary,
			URL:      "/live/" + url.PathEscape(string(ss.ID)),
			Start:    ss.Start.In(chinaTime).Format(time.RFC3339),
			When:     span(ss.Start, ss.End, now),
			Today:    dateOf(ss.Start) == today,
		}
		names := make([]string, 0, len(ss.Anchors))
		for _, a := range ss.Anchors {
			names = append(names, a.Name)
		}
		card.Anchors = strings.Join(names, "、")
		switch {
		case onAir(ss.ID):
			card.Live = true
			l.Live = append(l.Live, card)
		case ss.End.After(now):
			l.Upcoming = append(l.Upcoming, card)
		default:
			// the past is a plain list, and "today" would read as still to come
			card.Summary, card.Anchors, card.Today = "", "", false
			l.Past = append(l.Past, card)
		}
	}
	slices.Reverse(l.Past)
	if len(l.Past) > landingPast {
		l.Past = l.Past[:landingPast]
	}
	return l
}

// dateOf is t's calendar date in China time.
func dateOf(t time.Time) string { return t.In(chinaTime).Format(time.DateOnly) }

// span writes a session's schedule in China time: 12月3日（周四）15:00–16:00;
// the year is written when it is not now's, and the end's date when it
// falls on another day (12月3日（周四）23:00–12月4日 01:00).
func span(start, end, now time.Time) string {
	start, end, now = start.In(chinaTime), end.In(chinaTime), now.In(chinaTime)
	var b strings.Builder
	if start.Year() != now.Year() {
		fmt.Fprintf(&b, "%d年", start.Year())
	}
	fmt.Fprintf(&b, "%d月%d日（%s）%s–", int(start.Month()), start.Day(), weekday(start), start.Format("15:04"))
	if dateOf(end) != dateOf(start) {
		if end.Year() != start.Year() {
			fmt.Fprintf(&b, "%d年", end.Year())
		}
		fmt.Fprintf(&b, "%d月%d日 ", int(end.Month()), end.Day())
	}
	b.WriteString(end.Format("15:04"))
	return b.String()
}

// weekday names t's day of the week: 周一 … 周日.
func weekday(t time.Time) string {
	return "周" + []string{"日", "一", "二", "三", "四", "五", "六"}[t.Weekday()]
}
