package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"govlive/browsertest"
)

// TestBrowserEditSession: an editor opens a session, adds a segment,
// links a FAQ entry to it from the list and saves; the saved session
// shows the segment with the entry chosen and the revision by the
// editor. An anchor's publishing token is issued and shown once.
// Screenshots at 1280 and 390 px.
func TestBrowserEditSession(t *testing.T) {
	chromium := browsertest.Find(t)
	data := t.TempDir()
	if _, err := user(t, data, "li xiao password\n", "add", "--role", "editor", "--display", "李晓", "li.xiao"); err != nil {
		t.Fatal(err)
	}
	p := startServeArgs(t, data)
	b := startBrowser(t, chromium)
	tb := b.open(t, "sessions", p.url+"/edit/sessions")
	tb.waitTrue(t, "the login form", `location.pathname === "/login" && !!document.getElementById("password")`, 5*time.Second)
	if err := chromedp.Do(tb.ctx,
		chromedp.SendKeys("#name", "li.xiao"),
		chromedp.SendKeys("#password", "li xiao password"),
		chromedp.Click("#login-submit"),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	tb.waitTrue(t, "the session list", `location.pathname === "/edit/sessions" && !!document.querySelector("#session-list a[href='/edit/sessions/taxi-drivers']")`, 5*time.Second)
	shot(t, tb, "edit-sessions-1280", 1280)
	shot(t, tb, "edit-sessions-390", 390)

	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1280, 900),
		chromedp.Click(`#session-list a[href='/edit/sessions/taxi-drivers']`)); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the session form", `!!document.getElementById("f-title")`, 5*time.Second)
	n, err := eval[int](tb, `document.querySelectorAll("fieldset.segment").length`)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click("#segment-add")); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the new segment", `document.querySelectorAll("fieldset.segment").length === `+itoa(n+1), 5*time.Second)
	seg := "#seg-" + itoa(n)
	if err := chromedp.Do(tb.ctx, chromedp.SendKeys(seg+"-title", "互动答疑：证件补办")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click(seg+`-faq input[value='faq-taxi-license-materials']`)); err != nil {
		t.Fatal(err)
	}
	shot(t, tb, "edit-session-form-1280", 1280)
	shot(t, tb, "edit-session-form-390", 390)
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1280, 900), chromedp.Click("#session-save")); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the saved notice", `location.search === "?done=saved" && !!document.getElementById("notice")`, 5*time.Second)
	checkText(t, tb, `document.querySelector("`+seg+`-title").value`, "互动答疑：证件补办")
	checkText(t, tb, `[...document.querySelectorAll("`+seg+`-faq input:checked")].map((o) => o.value).join(",")`, "faq-taxi-license-materials")
	checkText(t, tb, `document.querySelector("#revisions .rev .who").textContent`, "李晓（li.xiao）")

	// a token for the first anchor, shown once
	if err := chromedp.Do(tb.ctx, chromedp.Click(`#anchors li:first-child button[value="issue"]`)); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the token", `!!document.getElementById("token-value")`, 5*time.Second)
	tok, err := eval[string](tb, `document.getElementById("token-value").value`)
	if err != nil || !strings.HasPrefix(tok, "glt_") {
		t.Errorf("token %q (%v)", tok, err)
	}
	shot(t, tb, "edit-session-token-1280", 1280)
	shot(t, tb, "edit-session-token-390", 390)

	// the lexicon: a word twice is refused beside the text, which stays
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(p.url+"/edit/lexicon/synonyms.txt")); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the lexicon form", `!!document.getElementById("f-text")`, 5*time.Second)
	if _, err := eval[bool](tb, `(() => { const s = document.getElementById("f-text"); s.value += "\n的士 出租\n"; return true; })()`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click("#lexicon-save")); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the refusal", `!!document.getElementById("e-text")`, 5*time.Second)
	checkText(t, tb, `document.getElementById("f-text").value.includes("的士 出租") ? "kept" : "lost"`, "kept")
	shot(t, tb, "edit-lexicon-1280", 1280)
	shot(t, tb, "edit-lexicon-390", 390)

	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(p.url+"/edit/pack")); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the pack page", `!!document.getElementById("import-form")`, 5*time.Second)
	shot(t, tb, "edit-pack-1280", 1280)
	shot(t, tb, "edit-pack-390", 390)
	tb.checkPolicy(t)
}
