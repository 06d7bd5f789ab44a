package studio_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"govlive/accounts"
	"govlive/content"
	"govlive/stream"
)

// sessionValues is the edit form of the session "private" with changes
// (segment 0 linking faq-a and doc-a).
func sessionValues(csrf string, change map[string]string) url.Values {
	v := url.Values{"csrf": {csrf}, "title": {"彩排"}, "category": {"综合窗口"}, "summary": {""},
		"start": {"2026-03-12T15:00"}, "end": {"2026-03-12T16:00"}, "anchors": {"王敏 | 政策专家\n李强"},
		"segments": {"1"}, "seg-0-title": {"开场"}, "seg-0-points": {"介绍本场\n提醒提问"},
		"seg-0-faq": {"faq-a"}, "seg-0-docs": {"doc-a"}, "op": {"save"}}
	for k, x := range change {
		if x == "" {
			v.Del(k)
			continue
		}
		v.Set(k, x)
	}
	return v
}

var sessionFieldError = regexp.MustCompile(`<p class="field-error" id="e-([a-z0-9]+)">([^<]*)</p>`)

func sessionErrors(body string) map[string]string {
	out := map[string]string{}
	for _, m := range sessionFieldError.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func TestEditSessionAccess(t *testing.T) {
	es := newEditServer(t)
	pages := []string{"/edit/sessions", "/edit/sessions/new", "/edit/sessions/private"}
	for _, name := range []string{"anchor", "moderator"} {
		cl := es.loggedIn(t, name)
		for _, p := range pages {
			if r := cl.get(p); r.status != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", name, p, r.status)
			}
		}
		if r := cl.post("/edit/sessions/private", sessionValues(cl.csrf(), nil)); r.status != http.StatusForbidden {
			t.Errorf("%s POST: %d, want 403", name, r.status)
		}
		if r := cl.post("/edit/sessions/private/tokens", url.Values{"csrf": {cl.csrf()}, "anchor": {"王敏"}, "op": {"issue"}}); r.status != http.StatusForbidden {
			t.Errorf("%s token POST: %d, want 403", name, r.status)
		}
	}
	for _, name := range []string{"editor", "admin"} {
		cl := es.loggedIn(t, name)
		for _, p := range pages {
			if r := cl.get(p); r.status != http.StatusOK || !strings.Contains(r.body, `<nav class="editnav"`) {
				t.Errorf("%s GET %s: %d, want 200", name, p, r.status)
			}
		}
	}
	if ss, _ := es.cs.Session(context.Background(), "private"); len(ss.Anchors) != 0 {
		t.Errorf("a refused POST changed the session: %+v", ss.Anchors)
	}
}

func TestEditSessionSave(t *testing.T) {
	es := newEditServer(t)
	ctx := context.Background()
	cl := es.loggedIn(t, "editor")
	page := cl.get("/edit/sessions/private")
	csrf := formCSRF(t, page.body)
	revs, _ := es.cs.Revisions(ctx, content.KindSession, "private")

	t.Run("missing CSRF is refused", func(t *testing.T) {
		for _, tok := range []string{"", "wrong"} {
			if r := cl.post("/edit/sessions/private", sessionValues(tok, nil)); r.status != http.StatusForbidden {
				t.Errorf("csrf %q: %d, want 403", tok, r.status)
			}
		}
	})

	t.Run("bad input keeps the form and stores nothing", func(t *testing.T) {
		r := cl.post("/edit/sessions/private", sessionValues(csrf, map[string]string{
			"title": "", "end": "2026-03-12T14:00", "anchors": "王敏\n王敏", "seg-0-faq": "faq-nope", "seg-0-points": "我写的要点<b>",
		}))
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", r.status)
		}
		want := map[string]string{"title": "请填写标题", "end": "结束时间必须晚于开始时间",
			"anchors": "第 2 行“王敏”与前面重复", "seg0": "找不到这些链接：常见问题 faq-nope"}
		if got := sessionErrors(r.body); !mapsEqual(got, want) {
			t.Errorf("field errors %v, want %v", got, want)
		}
		if !strings.Contains(r.body, "我写的要点&lt;b&gt;</textarea>") {
			t.Error("the form does not keep what was typed")
		}
		if ss, _ := es.cs.Session(ctx, "private"); ss.Title != "彩排" || len(ss.Segments) != 0 {
			t.Errorf("a refused form was stored: %+v", ss)
		}
		if after, _ := es.cs.Revisions(ctx, content.KindSession, "private"); len(after) != len(revs) {
			t.Errorf("%d revisions, want %d", len(after), len(revs))
		}
	})

	t.Run("adding a segment stores nothing", func(t *testing.T) {
		r := cl.post("/edit/sessions/private", sessionValues(csrf, map[string]string{"op": "add"}))
		if r.status != http.StatusOK || !strings.Contains(r.body, `id="seg-1-title"`) || !strings.Contains(r.body, `name="segments" value="2"`) {
			t.Fatalf("got %d without a second segment", r.status)
		}
		if ss, _ := es.cs.Session(ctx, "private"); len(ss.Segments) != 0 {
			t.Errorf("adding a segment stored the session: %+v", ss.Segments)
		}
	})

	t.Run("an editor saves; the revision records the user", func(t *testing.T) {
		r := cl.post("/edit/sessions/private", sessionValues(csrf, nil))
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/edit/sessions/private?done=saved" {
			t.Fatalf("got %d to %q: %v", r.status, r.header.Get("Location"), sessionErrors(r.body))
		}
		ss, err := es.cs.Session(ctx, "private")
		if err != nil || len(ss.Anchors) != 2 || ss.Anchors[0] != (content.Anchor{Name: "王敏", Role: "政策专家"}) ||
			len(ss.Segments) != 1 || ss.Segments[0].FAQ[0] != "faq-a" || ss.Segments[0].Docs[0] != "doc-a" ||
			strings.Join(ss.Segments[0].Points, "|") != "介绍本场|提醒提问" || ss.Public {
			t.Fatalf("stored %+v (%v)", ss, err)
		}
		revs, _ := es.cs.Revisions(ctx, content.KindSession, "private")
		if id, name, ok := accounts.ParseActor(revs[0].Actor); !ok || id != es.users["editor"].ID || name != "editor" {
			t.Errorf("revision actor %q, want the editor", revs[0].Actor)
		}
		// saving again unchanged records nothing
		page := cl.get("/edit/sessions/private")
		if !strings.Contains(page.body, `value="2026-03-12T15:00"`) || !strings.Contains(page.body, `name="seg-0-faq" value="faq-a" checked>`) {
			t.Error("the form does not show the stored session")
		}
		v := sessionValues(csrf, nil)
		v.Set("base", regexp.MustCompile(`name="base" value="(\d+)"`).FindStringSubmatch(page.body)[1])
		if r := cl.post("/edit/sessions/private", v); r.header.Get("Location") != "/edit/sessions/private?done=unchanged" {
			t.Errorf("unchanged save: %d to %q", r.status, r.header.Get("Location"))
		}
	})

	t.Run("the revision's diff and restore", func(t *testing.T) {
		revs, _ := es.cs.Revisions(ctx, content.KindSession, "private")
		prev := revs[1].ID
		r := cl.get("/edit/sessions/private/revisions/" + strconv.FormatInt(revs[0].ID, 10) + "?vs=prev")
		if r.status != http.StatusOK || !strings.Contains(r.body, "<ins><span class=\"sr\">加入：</span>1. 开场</ins>") {
			t.Fatalf("diff page %d:\n%s", r.status, r.body)
		}
		r = cl.post("/edit/sessions/private/restore", url.Values{"csrf": {csrf}, "rev": {strconv.FormatInt(prev, 10)}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("restore: %d", r.status)
		}
		if ss, _ := es.cs.Session(ctx, "private"); len(ss.Segments) != 0 || len(ss.Anchors) != 0 {
			t.Errorf("after restore %+v", ss)
		}
	})

	t.Run("a new session", func(t *testing.T) {
		v := sessionValues(csrf, map[string]string{"id": "private"})
		r := cl.post("/edit/sessions/new", v)
		if got := sessionErrors(r.body)["id"]; r.status != http.StatusUnprocessableEntity || got != "该编号已被使用，请换一个" {
			t.Errorf("taken id: %d %q", r.status, got)
		}
		v.Set("id", "s-new")
		v.Set("public", "on")
		r = cl.post("/edit/sessions/new", v)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/edit/sessions/s-new?done=created" {
			t.Fatalf("got %d to %q: %v", r.status, r.header.Get("Location"), sessionErrors(r.body))
		}
		if ss, err := es.cs.Session(ctx, "s-new"); err != nil || !ss.Public || ss.Start.UTC().Hour() != 7 {
			t.Errorf("stored %+v (%v), want public, 15:00 China time", ss, err)
		}
		if r := cl.get("/edit/sessions"); !strings.Contains(r.body, `href="/edit/sessions/s-new"`) {
			t.Error("the list does not show the new session")
		}
	})
}

var shownToken = regexp.MustCompile(`id="token-value" type="text" readonly value="(glt_[^"]+)"`)

func TestEditSessionTokens(t *testing.T) {
	es := newEditServer(t)
	ctx := context.Background()
	cl := es.loggedIn(t, "editor")
	csrf := formCSRF(t, cl.get("/edit/sessions/private").body)
	if r := cl.post("/edit/sessions/private", sessionValues(csrf, nil)); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.status)
	}
	issue := url.Values{"csrf": {csrf}, "anchor": {"王敏"}, "op": {"issue"}}
	if r := cl.post("/edit/sessions/private/tokens", url.Values{"anchor": {"王敏"}, "op": {"issue"}}); r.status != http.StatusForbidden {
		t.Errorf("without CSRF: %d, want 403", r.status)
	}
	if r := cl.post("/edit/sessions/private/tokens", url.Values{"csrf": {csrf}, "anchor": {"路人"}, "op": {"issue"}}); r.status != http.StatusBadRequest {
		t.Errorf("unknown anchor: %d, want 400", r.status)
	}
	r := cl.post("/edit/sessions/private/tokens", issue)
	m := shownToken.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("issue: %d, cache %q, token shown: %v", r.status, r.header.Get("Cache-Control"), m != nil)
	}
	token := m[1]
	if anchor, err := es.tokens.Authorize(ctx, "private", token); err != nil || anchor != "王敏" {
		t.Fatalf("the issued token: %q %v", anchor, err)
	}
	bearer := func() int {
		req, _ := http.NewRequest("GET", "/api/sessions/private", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return es.client(t).do(req).status
	}
	if st := bearer(); st != http.StatusOK {
		t.Errorf("the private session with the token: %d, want 200", st)
	}
	page := cl.get("/edit/sessions/private")
	if strings.Contains(page.body, token) {
		t.Error("the token is shown again")
	}
	if !strings.Contains(page.body, "王敏 <span class=\"hint live-count\">有效令牌 1 个</span>") {
		t.Error("the page does not count the live token")
	}
	r = cl.post("/edit/sessions/private/tokens", url.Values{"csrf": {csrf}, "anchor": {"王敏"}, "op": {"revoke"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/edit/sessions/private?done=revoked" {
		t.Fatalf("revoke: %d to %q", r.status, r.header.Get("Location"))
	}
	if _, err := es.tokens.Authorize(ctx, "private", token); err != stream.ErrUnauthorized {
		t.Errorf("the revoked token: %v, want refused", err)
	}
	if st := bearer(); st != http.StatusNotFound {
		t.Errorf("the private session with the revoked token: %d, want 404", st)
	}
}
