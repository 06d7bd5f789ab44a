package main

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"govlive/browsertest"
)

// request is one HTTP request a page made, as far as the tests read it.
type request struct {
	method, url   string
	authorization string // the Authorization header ("" = none)
	ifMatch       string
}

// violationMark starts the console line by which policyWatchJS reports a
// violation.
const violationMark = "securitypolicyviolation: "

// policyWatchJS runs before the page's own scripts in every document of a
// tab and reports each violation of its security policy to the console.
const policyWatchJS = `document.addEventListener("securitypolicyviolation", (e) => {
	console.error("` + violationMark + `" + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
		" at " + (e.sourceFile || "?") + ":" + e.lineNumber);
});`

// watchPolicy makes the tab report its security policy violations (see
// record). It runs before the first navigation.
func (tb *tab) watchPolicy() error {
	_, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: policyWatchJS})
	return err
}

// record keeps, from the tab's events, the requests the page makes, the
// headers of its documents and what the browser says against a security
// policy (CSP, Trusted Types, Permissions-Policy). It runs in the tab's
// event loop: no commands here.
func (tb *tab) record(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		tb.requests = append(tb.requests, request{
			method: ev.Request.Method, url: ev.Request.URL,
			authorization: header(ev.Request.Headers, "Authorization"),
			ifMatch:       header(ev.Request.Headers, "If-Match"),
		})
	case *runtime.EventConsoleAPICalled:
		if len(ev.Args) > 0 {
			if s, err := strconv.Unquote(string(ev.Args[0].Value)); err == nil && strings.HasPrefix(s, violationMark) {
				tb.violations = append(tb.violations, strings.TrimPrefix(s, violationMark))
			}
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		policy := strings.Contains(strings.ToLower(e.Text), "policy") || strings.Contains(e.Text, "Trusted Type")
		if policy && (e.Level == log.EntryLevelError || e.Level == log.EntryLevelWarning) && e.Source != log.EntrySourceNetwork {
			tb.violations = append(tb.violations, fmt.Sprintf("%s %s: %s (%s:%d)", e.Source, e.Level, e.Text, e.URL, e.LineNumber))
		}
	}
}

// header is the value of a header in a request's headers, by any case.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// requestsTo lists the page's requests of method to a URL whose path is
// path.
func (tb *tab) requestsTo(method, path string) []request {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []request
	for _, r := range tb.requests {
		u, err := url.Parse(r.url)
		if err == nil && r.method == method && u.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (tb *tab) policyViolations() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return slices.Clone(tb.violations)
}

// checkPolicy fails the test if the page broke its security policy, or
// threw; then it breaks the policy on purpose (an inline style) and fails
// unless that is reported: the policy is in force and the watch works.
func (tb *tab) checkPolicy(t *testing.T) {
	t.Helper()
	if v := tb.policyViolations(); len(v) > 0 {
		t.Errorf("%s page broke its security policy:\n%s", tb.name, strings.Join(v, "\n"))
	}
	if c := tb.consoleText(); strings.Contains(c, "exception: ") {
		t.Errorf("%s page threw; console:\n%s", tb.name, c)
	}
	before := len(tb.policyViolations())
	if _, err := eval[bool](tb, `document.body.setAttribute("style", "outline: 1px solid red"), true`); err != nil {
		t.Fatalf("%s page: %v", tb.name, err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		v := tb.policyViolations()
		if len(v) > before && strings.Contains(strings.Join(v[before:], "\n"), "style-src") {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s page: an inline style attribute was not reported as a policy violation (is the CSP in force?); got %q", tb.name, v[before:])
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitTrue polls a JavaScript condition in the page until it holds, and
// fails the test after timeout.
func (tb *tab) waitTrue(t *testing.T, what, cond string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := eval[bool](tb, cond)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			st, _ := tb.state()
			t.Fatalf("%s page: %s not reached within %v (%v): state %+v; console:\n%s", tb.name, what, timeout, err, st, tb.consoleText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shown is a JavaScript condition: the element with id is displayed.
func shown(id string) string {
	return `(() => { const e = document.getElementById("` + id + `"); return !!e && e.offsetParent !== null; })()`
}

// TestBrowserPages loads every page in Chromium under its security
// headers: each works, none breaks its Content-Security-Policy, and the
// policy is in force. The watch page shows the session's title, says
// plainly when a session does not exist (and then does not connect), and
// waits for the anchors of a known session.
func TestBrowserPages(t *testing.T) {
	chromium := browsertest.Find(t)
	data := t.TempDir()
	p := startServeArgs(t, data, "--demo", "--ice-loopback", "--udp-port", strconv.Itoa(freeUDPPort(t)))
	token := issueToken(t, data, "demo", "测试主播")
	b := startBrowser(t, chromium)

	const (
		demoTitle = "食品经营许可“一次办好”政务直播"
		taxiTitle = "出租车、网约车和客运驾驶员从业资格证怎么办"
	)
	// notFound checks the watch page of a session the viewer may not see.
	notFound := func(session string) func(t *testing.T, tb *tab) {
		return func(t *testing.T, tb *tab) {
			st, err := tb.state()
			if err != nil || st.State != "notfound" || st.Error != "" {
				t.Errorf("got state %+v (%v), want notfound without an error", st, err)
			}
			checkText(t, tb, "document.getElementById('title').textContent", "找不到该直播")
			checkText(t, tb, "document.title", "找不到该直播 - 政务直播")
			checkText(t, tb, "document.getElementById('error').textContent", "")
			for _, id := range []string{"waiting", "controls"} {
				if ok, _ := eval[bool](tb, shown(id)); ok {
					t.Errorf("#%s is shown beside 找不到该直播", id)
				}
			}
			if ok, _ := eval[bool](tb, shown("notfound")); !ok {
				t.Error("#notfound is hidden")
			}
			time.Sleep(300 * time.Millisecond) // a WHEP offer would have gone out by now
			if r := tb.requestsTo("POST", "/whep/"+session); len(r) > 0 {
				t.Errorf("the page connected to a session it may not see: %+v", r)
			}
		}
	}
	tests := []struct {
		name, path string
		ready      string // a JavaScript condition: the page has done its work
		check      func(t *testing.T, tb *tab)
	}{
		{"landing", "/", `document.readyState === "complete"`, func(t *testing.T, tb *tab) {
			checkText(t, tb, "document.querySelector('h1').textContent", "政务直播")
			checkText(t, tb, "document.querySelector('#live-heading + ul a.watch').getAttribute('href')", "/live/demo")
			checkText(t, tb, "document.querySelector('#live-heading + ul h3').textContent", demoTitle)
			// the way in: from the landing page to the demo's picture
			if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS("a.watch"))); err != nil {
				t.Fatalf("click 进入直播间: %v", err)
			}
			tb.waitTrue(t, "slot 0 shown after following 进入直播间", `location.pathname === "/live/demo" && !!window.govlive && !!govlive.slots[0] && govlive.slots[0].visible`, 8*time.Second)
		}},
		{"watch demo", "/live/demo", `!!window.govlive && !!govlive.slots[0] && govlive.slots[0].visible`, func(t *testing.T, tb *tab) {
			checkText(t, tb, "document.getElementById('title').textContent", demoTitle)
			checkText(t, tb, "document.title", demoTitle+" - 政务直播")
			checkText(t, tb, "[...document.querySelectorAll('#meta span')].map((s) => s.textContent).join('|')", "直播时间："+demoDate()+"（周四）15:00–16:00|食品许可|主播：王敏、周航、李晓")
			if ok, _ := eval[bool](tb, shown("waiting")); ok {
				t.Error("等待主播开播… is shown beside the anchor's picture")
			}
		}},
		{"watch taxi-drivers", "/live/taxi-drivers", `window.govlive && govlive.state === "connected"`, func(t *testing.T, tb *tab) {
			checkText(t, tb, "document.getElementById('title').textContent", taxiTitle)
			tb.waitTrue(t, "等待主播开播… shown", shown("waiting"), 2*time.Second)
			checkText(t, tb, "document.getElementById('waiting').textContent", "等待主播开播…")
			checkText(t, tb, "document.getElementById('error').textContent", "")
			if ok, _ := eval[bool](tb, shown("notfound")); ok {
				t.Error("找不到该直播 is shown for a known session")
			}
		}},
		{"watch nope", "/live/nope", `window.govlive && govlive.state !== "connecting" && govlive.state !== "idle"`, notFound("nope")},
		{"watch service-center-intro", "/live/service-center-intro", // private
			`window.govlive && govlive.state !== "connecting" && govlive.state !== "idle"`, notFound("nope")},
		{"publish", "/publish/demo?" + url.Values{"token": {token}}.Encode(), `window.govlive && govlive.state === "live"`, func(t *testing.T, tb *tab) {
			tb.waitTrue(t, "the title in the heading", `document.getElementById("session").textContent === "`+demoTitle+`"`, 3*time.Second)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := b.open(t, tt.name, p.url+tt.path)
			tb.waitTrue(t, "ready", tt.ready, 10*time.Second)
			tt.check(t, tb)
			tb.checkPolicy(t)
		})
	}
}

// demoDate is the date of the sample pack's demo session as the pages
// write it: with its year, once that is not this year (in China).
func demoDate() string {
	if time.Now().In(time.FixedZone("CST", 8*3600)).Year() != 2026 {
		return "2026年3月12日"
	}
	return "3月12日"
}

// checkText fails the test unless a JavaScript string expression in the
// page has the value want.
func checkText(t *testing.T, tb *tab, expr, want string) {
	t.Helper()
	got, err := eval[string](tb, expr)
	if err != nil || got != want {
		t.Errorf("%s: got %q (%v), want %q", expr, got, err, want)
	}
}

// TestBrowserTokens: a token in a page's URL goes as a bearer token on the
// page's requests about its session — the watch page's session read and
// WHEP offer (a private session's anchor watching it), the publish page's
// WHIP offer, trickle PATCH and DELETE (RFC 9725) — and a page without one
// sends no Authorization at all.
func TestBrowserTokens(t *testing.T) {
	chromium := browsertest.Find(t)
	data := t.TempDir()
	p := startServeArgs(t, data, "--demo", "--ice-loopback", "--udp-port", strconv.Itoa(freeUDPPort(t)))
	token := issueToken(t, data, "demo", "测试主播")
	b := startBrowser(t, chromium)

	// checkAuth fails the test unless each request of method to path
	// carries want (and there is one).
	checkAuth := func(t *testing.T, tb *tab, method, path, want string) {
		t.Helper()
		rs := tb.requestsTo(method, path)
		if len(rs) == 0 {
			t.Errorf("%s page made no %s %s", tb.name, method, path)
		}
		for _, r := range rs {
			if r.authorization != want {
				t.Errorf("%s page: %s %s with Authorization %q, want %q", tb.name, method, path, r.authorization, want)
			}
		}
	}
	t.Run("watch page with a token", func(t *testing.T) {
		tb := b.open(t, "watch", p.url+"/live/demo?token=glt_watcher")
		tb.waitTrue(t, "slot 0 shown", `!!window.govlive && !!govlive.slots[0] && govlive.slots[0].visible`, 8*time.Second)
		checkAuth(t, tb, "GET", "/api/sessions/demo", "Bearer glt_watcher")
		checkAuth(t, tb, "POST", "/whep/demo", "Bearer glt_watcher")
		tb.checkPolicy(t)
	})
	t.Run("watch page without a token", func(t *testing.T) {
		tb := b.open(t, "watch", p.url+"/live/demo")
		tb.waitTrue(t, "slot 0 shown", `!!window.govlive && !!govlive.slots[0] && govlive.slots[0].visible`, 8*time.Second)
		checkAuth(t, tb, "GET", "/api/sessions/demo", "")
		checkAuth(t, tb, "POST", "/whep/demo", "")
	})
	t.Run("publish page", func(t *testing.T) {
		tb := b.open(t, "publish", p.url+"/publish/demo?"+url.Values{"token": {token}}.Encode())
		tb.waitTrue(t, "live", `window.govlive && govlive.state === "live"`, 10*time.Second)
		resource, err := eval[string](tb, `govlive.resource`)
		if err != nil || resource == "" {
			t.Fatalf("no WHIP resource: %q (%v)", resource, err)
		}
		u, err := url.Parse(resource)
		if err != nil {
			t.Fatal(err)
		}
		// On loopback, gathering ends before the offer goes out: the offer
		// has every candidate, and nothing trickles.
		time.Sleep(500 * time.Millisecond)
		if rs := tb.requestsTo("PATCH", u.Path); len(rs) > 0 {
			t.Errorf("the page trickled %d PATCH requests after an offer with every candidate", len(rs))
		}
		// the trickle path the page takes for candidates found after its
		// offer went out
		status, err := eval[int](tb, `govlive.trickle(["a=end-of-candidates"])`)
		if err != nil || status != 204 {
			t.Errorf("trickle PATCH: got %d (%v), want 204", status, err)
		}
		if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("stop"))); err != nil {
			t.Fatalf("click stop: %v", err)
		}
		tb.waitTrue(t, "stopped", `govlive.state === "stopped"`, 3*time.Second)
		deadline := time.Now().Add(3 * time.Second)
		for len(tb.requestsTo("DELETE", u.Path)) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		want := "Bearer " + token
		checkAuth(t, tb, "POST", "/whip/demo", want)
		checkAuth(t, tb, "PATCH", u.Path, want)
		checkAuth(t, tb, "DELETE", u.Path, want)
		if rs := tb.requestsTo("PATCH", u.Path); len(rs) > 0 && (rs[0].ifMatch == "" || !strings.HasPrefix(rs[0].ifMatch, `"`)) {
			t.Errorf("trickle PATCH with If-Match %q, want the answer's ETag", rs[0].ifMatch)
		}
		tb.checkPolicy(t)
	})
}
