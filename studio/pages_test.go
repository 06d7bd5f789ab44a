package studio_test

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"govlive/store"
	"govlive/stream"
	"govlive/stream/pages"
	"govlive/studio"
)

// pagesNow is the clock of the page tests: Thursday 3 December 2026,
// 10:00 in China.
var pagesNow = time.Date(2026, 12, 3, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// fakeRelay is the relay as far as the pages ask it: which anchors are on
// air in a session. The other methods are those of a nil Relay (a test
// that reaches one panics).
type fakeRelay struct {
	studio.Relay
	onAir map[stream.SessionID][]string
}

func (r fakeRelay) Stats(id stream.SessionID) (stream.SessionStats, bool) {
	names, ok := r.onAir[id]
	st := stream.SessionStats{Session: id, Anchors: []stream.AnchorStats{}}
	for i, n := range names {
		st.Anchors = append(st.Anchors, stream.AnchorStats{Anchor: n, Slot: i})
	}
	return st, ok
}

// sessionFile is a session of a test pack.
func sessionFile(id, title, start, end string, public bool) *fstest.MapFile {
	return &fstest.MapFile{Data: fmt.Appendf(nil,
		"id: %s\ntitle: %q\ncategory: 综合窗口\nsummary: 本场讲%s。\nstart: %s\nend: %s\npublic: %v\n"+
			"anchors:\n  - name: 王敏\n  - name: 周航\nsegments: []\n",
		id, title, id, start, end, public)}
}

// pagesServer serves the pages over a pack whose sessions sit around
// pagesNow; the relay has an anchor on air in "onair".
func pagesServer(t *testing.T, sessions map[string]*fstest.MapFile) *studio.Server {
	t.Helper()
	pack := fstest.MapFS{
		"faq.jsonl":     {Data: []byte(testFAQ)},
		"docs/doc-a.md": {Data: []byte(testDoc)},
	}
	for id, f := range sessions {
		pack["sessions/"+id+".yaml"] = f
	}
	return newServerPack(t, pack, nil, func(_ *store.DB, c *studio.Config) {
		c.Pages = pages.FS
		c.Relay = fakeRelay{onAir: map[stream.SessionID][]string{"onair": {"王敏"}, "quiet": {}}}
		c.Now = func() time.Time { return pagesNow }
	})
}

// schedule is the pack of the landing page tests.
var schedule = map[string]*fstest.MapFile{
	"onair":    sessionFile("onair", "正在播的场次", "2026-11-20T15:00:00+08:00", "2026-11-20T16:00:00+08:00", true),
	"today":    sessionFile("today", "今天下午的场次 <b>&</b>", "2026-12-03T15:00:00+08:00", "2026-12-03T16:00:00+08:00", true),
	"tomorrow": sessionFile("tomorrow", "明天上午的场次", "2026-12-04T09:30:00+08:00", "2026-12-04T11:00:00+08:00", true),
	"nextyear": sessionFile("nextyear", "明年的场次", "2027-01-05T15:00:00+08:00", "2027-01-05T16:00:00+08:00", true),
	"quiet":    sessionFile("quiet", "有人观看但无主播的场次", "2026-11-01T15:00:00+08:00", "2026-11-01T16:00:00+08:00", true),
	"past":     sessionFile("past", "上个月的场次", "2026-11-10T15:00:00+08:00", "2026-11-10T16:00:00+08:00", true),
	"private":  sessionFile("private", "彩排场次", "2026-12-03T18:00:00+08:00", "2026-12-03T19:00:00+08:00", false),
}

// get answers the status, headers and body of a request to srv.
func get(t *testing.T, srv *studio.Server, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// Every answer carries the browser's security headers: pages, assets,
// the JSON API and errors alike. Only the publish page may use the camera
// and the microphone.
func TestSecurityHeaders(t *testing.T) {
	srv := pagesServer(t, schedule)
	tests := []struct {
		name, method, path string
		status             int
		mime               string
		devices            bool // camera and microphone allowed
	}{
		{"landing page", "GET", "/", 200, "text/html", false},
		{"watch page", "GET", "/live/today", 200, "text/html", false},
		{"watch page of an unknown session", "GET", "/live/nope", 200, "text/html", false},
		{"watch page with a token", "GET", "/live/private?token=glt_x", 200, "text/html", false},
		{"publish page", "GET", "/publish/today?token=glt_x", 200, "text/html", true},
		{"publish page, other case", "GET", "/Publish/today", 200, "text/html", true},
		{"landing page, HEAD", "HEAD", "/", 200, "text/html", false},
		{"script", "GET", "/assets/live.js", 200, "text/javascript", false},
		{"stylesheet", "GET", "/assets/index.css", 200, "text/css", false},
		{"unknown asset", "GET", "/assets/nope.js", 404, "application/json", false},
		{"a page is not an asset", "GET", "/assets/live.html", 404, "application/json", false},
		{"asset outside the pages", "GET", "/assets/..%2fpages.go", 404, "application/json", false},
		{"API list", "GET", "/api/sessions", 200, "application/json", false},
		{"API item", "GET", "/api/sessions/today", 200, "application/json", false},
		{"API error", "GET", "/api/sessions/private", 404, "application/json", false},
		{"health", "GET", "/healthz", 200, "application/json", false},
		{"readiness", "GET", "/readyz", 200, "application/json", false},
		{"API refusal", "POST", "/api/ask", 415, "application/json", false},
		{"unknown route", "GET", "/nope", 404, "application/json", false},
		{"wrong method", "DELETE", "/", 405, "application/json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := get(t, srv, httptest.NewRequest(tt.method, tt.path, nil))
			if resp.StatusCode != tt.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.mime) {
				t.Errorf("Content-Type: got %q, want %s", ct, tt.mime)
			}
			for _, h := range []struct{ name, want string }{
				{"X-Content-Type-Options", "nosniff"},
				{"X-Frame-Options", "DENY"},
				{"Referrer-Policy", "no-referrer"},
			} {
				if got := resp.Header.Get(h.name); got != h.want {
					t.Errorf("%s: got %q, want %q", h.name, got, h.want)
				}
			}
			checkCSP(t, resp.Header.Get("Content-Security-Policy"))
			pp := directives(resp.Header.Get("Permissions-Policy"), ",", "=")
			want := "()"
			if tt.devices {
				want = "(self)"
			}
			for _, feature := range []string{"camera", "microphone"} {
				if got := strings.Join(pp[feature], " "); got != want {
					t.Errorf("Permissions-Policy %s: got %q, want %q (header %q)", feature, got, want, resp.Header.Get("Permissions-Policy"))
				}
			}
		})
	}
}

// checkCSP fails the test unless policy forbids inline script and style,
// keeps every fetch on the origin and forbids framing.
func checkCSP(t *testing.T, policy string) {
	t.Helper()
	d := directives(policy, ";", " ")
	for name, want := range map[string]string{
		"default-src":     "'self'",
		"script-src":      "'self'",
		"style-src":       "'self'",
		"connect-src":     "'self'",
		"img-src":         "'self' data:",
		"object-src":      "'none'",
		"base-uri":        "'none'",
		"frame-ancestors": "'none'",
		"form-action":     "'self'",
	} {
		if got := strings.Join(d[name], " "); got != want {
			t.Errorf("Content-Security-Policy %s: got %q, want %q (policy %q)", name, got, want, policy)
		}
	}
	for name, sources := range d {
		for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} {
			if slices.Contains(sources, bad) {
				t.Errorf("Content-Security-Policy %s allows %s", name, bad)
			}
		}
	}
}

// directives splits a policy header into its directives and their values.
func directives(policy, sep, inner string) map[string][]string {
	out := map[string][]string{}
	for _, part := range strings.Split(policy, sep) {
		name, value, _ := strings.Cut(strings.TrimSpace(part), inner)
		if name != "" {
			out[name] = strings.Fields(value)
		}
	}
	return out
}

// Scripts and stylesheets come from the embedded pages with their type,
// an ETag, and revalidation on every use; the pages, too.
func TestAssets(t *testing.T) {
	srv := pagesServer(t, schedule)
	tests := []struct {
		path, file, mime string
	}{
		{"/assets/common.js", "common.js", "text/javascript; charset=utf-8"},
		{"/assets/live.js", "live.js", "text/javascript; charset=utf-8"},
		{"/assets/publish.js", "publish.js", "text/javascript; charset=utf-8"},
		{"/assets/live.css", "live.css", "text/css; charset=utf-8"},
		{"/assets/publish.css", "publish.css", "text/css; charset=utf-8"},
		{"/assets/index.css", "index.css", "text/css; charset=utf-8"},
		{"/live/demo", "live.html", "text/html; charset=utf-8"},
		{"/publish/demo", "publish.html", "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			want, err := fs.ReadFile(pages.FS, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			resp, body := get(t, srv, httptest.NewRequest("GET", tt.path, nil))
			if resp.StatusCode != 200 || body != string(want) {
				t.Fatalf("got %d with %d bytes, want 200 with %s (%d bytes)", resp.StatusCode, len(body), tt.file, len(want))
			}
			if got := resp.Header.Get("Content-Type"); got != tt.mime {
				t.Errorf("Content-Type: got %q, want %q", got, tt.mime)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control: got %q, want no-cache", got)
			}
			etag := resp.Header.Get("ETag")
			if len(etag) < 10 || !strings.HasPrefix(etag, `"`) {
				t.Fatalf("ETag: got %q, want a strong tag", etag)
			}
			req := httptest.NewRequest("GET", tt.path, nil)
			req.Header.Set("If-None-Match", etag)
			if resp, body := get(t, srv, req); resp.StatusCode != 304 || body != "" {
				t.Errorf("revalidation with the ETag: got %d with %q, want 304 without a body", resp.StatusCode, body)
			}
			req = httptest.NewRequest("GET", tt.path, nil)
			req.Header.Set("If-None-Match", `"stale"`)
			if resp, _ := get(t, srv, req); resp.StatusCode != 200 {
				t.Errorf("revalidation with another ETag: got %d, want 200", resp.StatusCode)
			}
		})
	}
}

// The landing page lists what is on air, what is still to come (today's
// marked) and the newest past sessions, in China time, with links to their
// watch pages; private sessions are not on it.
func TestLandingPage(t *testing.T) {
	srv := pagesServer(t, schedule)
	resp, page := get(t, srv, httptest.NewRequest("GET", "/", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("GET /: got %d, want 200\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{"<h1>政务直播</h1>", `<html lang="zh-CN">`, `name="viewport"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the landing page lacks %q", want)
		}
	}
	live, next, past := sections(t, page)
	tests := []struct {
		section, name string
		in            string
		want          []string // in this order
	}{
		{"live", "on air whatever the schedule says", live, []string{
			"直播中", `<a href="/live/onair">正在播的场次</a>`, "本场讲onair。", "主播：王敏、周航", `<a class="watch" href="/live/onair">进入直播间</a>`}},
		{"next", "today first, marked, escaped", next, []string{
			// html/template writes + as &#43; in attributes
			">今天</span>", `<time datetime="2026-12-03T15:00:00&#43;08:00">12月3日（周四）15:00–16:00</time>`,
			`<a href="/live/today">今天下午的场次 &lt;b&gt;&amp;&lt;/b&gt;</a>`, "本场讲today。"}},
		{"next", "then tomorrow", next, []string{`12月4日（周五）09:30–11:00`, `<a href="/live/tomorrow">明天上午的场次</a>`}},
		{"next", "the year when it is not this year's", next, []string{`2027年1月5日（周二）15:00–16:00`, `<a href="/live/nextyear">明年的场次</a>`}},
		{"past", "newest first", past, []string{`<a href="/live/past">上个月的场次</a>`, `<a href="/live/quiet">有人观看但无主播的场次</a>`}},
	}
	for _, tt := range tests {
		t.Run(tt.section+": "+tt.name, func(t *testing.T) {
			rest := tt.in
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("%s section lacks %q (in this order); section:\n%s", tt.section, w, tt.in)
				}
				rest = rest[i+len(w):]
			}
		})
	}
	if strings.Index(next, "/live/today") > strings.Index(next, "/live/tomorrow") || strings.Index(next, "/live/tomorrow") > strings.Index(next, "/live/nextyear") {
		t.Errorf("upcoming sessions are not by start time:\n%s", next)
	}
	if n := strings.Count(next, ">今天</span>"); n != 1 {
		t.Errorf("got %d sessions marked 今天, want 1:\n%s", n, next)
	}
	if strings.Contains(page, "彩排") || strings.Contains(page, "/live/private") {
		t.Error("the landing page shows a private session")
	}
	if strings.Contains(page, "暂无直播安排") {
		t.Error("the landing page says 暂无直播安排 with sessions to come")
	}
	if strings.Contains(past, "summary") || strings.Contains(past, "主播：") {
		t.Errorf("past sessions are a plain list, got:\n%s", past)
	}
}

// sections cuts the landing page into its live, upcoming and past
// sections ("" for one it lacks).
func sections(t *testing.T, page string) (live, next, past string) {
	t.Helper()
	cut := func(id string) string {
		i := strings.Index(page, `<h2 id="`+id+`"`)
		if i < 0 {
			return ""
		}
		j := strings.Index(page[i:], "</section>")
		if j < 0 {
			t.Fatalf("section %s does not end", id)
		}
		return page[i : i+j]
	}
	return cut("live-heading"), cut("next-heading"), cut("past-heading")
}

// With nothing on air or to come, the landing page says so in one line.
func TestLandingPageEmpty(t *testing.T) {
	tests := []struct {
		name     string
		sessions map[string]*fstest.MapFile
		want     string
		past     bool
	}{
		{"no session at all", nil, "暂无直播安排", false},
		{"only private ones", map[string]*fstest.MapFile{"private": schedule["private"]}, "暂无直播安排", false},
		{"only past ones", map[string]*fstest.MapFile{"past": schedule["past"]}, "暂无直播安排", true},
		{"one on air, none to come", map[string]*fstest.MapFile{"onair": schedule["onair"]}, "暂无其他直播安排", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := pagesServer(t, tt.sessions)
			resp, page := get(t, srv, httptest.NewRequest("GET", "/", nil))
			if resp.StatusCode != 200 {
				t.Fatalf("GET /: got %d, want 200", resp.StatusCode)
			}
			_, next, past := sections(t, page)
			if !strings.Contains(next, `<p class="empty">`+tt.want+`</p>`) {
				t.Errorf("upcoming section: got\n%s\nwant the empty state %q", next, tt.want)
			}
			if (past != "") != tt.past {
				t.Errorf("past section: got %q, want one: %v", past, tt.past)
			}
		})
	}
}
