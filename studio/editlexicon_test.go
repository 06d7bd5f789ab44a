package studio_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"govlive/accounts"
	"govlive/content"
)

func TestEditLexicon(t *testing.T) {
	es := newEditServer(t)
	ctx := context.Background()
	for _, name := range []string{"anchor", "moderator"} {
		cl := es.loggedIn(t, name)
		for _, p := range []string{"/edit/lexicon", "/edit/lexicon/synonyms.txt"} {
			if r := cl.get(p); r.status != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", name, p, r.status)
			}
		}
		if r := cl.post("/edit/lexicon/synonyms.txt", url.Values{"csrf": {cl.csrf()}, "text": {"甲 乙\n"}}); r.status != http.StatusForbidden {
			t.Errorf("%s POST: %d, want 403", name, r.status)
		}
	}
	cl := es.loggedIn(t, "editor")
	if r := cl.get("/edit/lexicon"); r.status != http.StatusOK || strings.Count(r.body, `href="/edit/lexicon/`) != len(content.LexiconFiles) {
		t.Fatalf("list: %d", r.status)
	}
	if r := cl.get("/edit/lexicon/nothing.txt"); r.status != http.StatusNotFound {
		t.Errorf("unknown file: %d, want 404", r.status)
	}
	page := cl.get("/edit/lexicon/synonyms.txt")
	csrf := formCSRF(t, page.body)

	if r := cl.post("/edit/lexicon/synonyms.txt", url.Values{"text": {"甲 乙\n"}}); r.status != http.StatusForbidden {
		t.Errorf("without CSRF: %d, want 403", r.status)
	}

	const good = "# 同义词\n出租车 的士 计程车\n"
	r := cl.post("/edit/lexicon/synonyms.txt", url.Values{"csrf": {csrf}, "text": {good}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/edit/lexicon/synonyms.txt?done=saved" {
		t.Fatalf("save: %d to %q: %s", r.status, r.header.Get("Location"), errorOf(r.body))
	}
	if text, _ := es.cs.LexiconFile(ctx, content.SynonymsFile); text != good {
		t.Errorf("stored %q", text)
	}
	revs, _ := es.cs.Revisions(ctx, content.KindLexicon, content.SynonymsFile)
	if id, _, ok := accounts.ParseActor(revs[0].Actor); !ok || id != es.users["editor"].ID {
		t.Errorf("revision actor %q, want the editor", revs[0].Actor)
	}

	// a word twice: refused beside the text, the text kept, nothing stored
	bad := good + "的士 出租\n"
	r = cl.post("/edit/lexicon/synonyms.txt", url.Values{"csrf": {csrf}, "text": {bad}})
	if got := sessionErrors(r.body)["text"]; r.status != http.StatusUnprocessableEntity || got != "第 3 行“的士 出租”：词 &#34;的士&#34; 已在第 2 行出现" {
		t.Errorf("bad text: %d %q", r.status, got)
	}
	if !strings.Contains(r.body, "的士 出租\n</textarea>") {
		t.Error("the refused text is not kept")
	}
	if text, _ := es.cs.LexiconFile(ctx, content.SynonymsFile); text != good {
		t.Errorf("a refused text was stored: %q", text)
	}
	if after, _ := es.cs.Revisions(ctx, content.KindLexicon, content.SynonymsFile); len(after) != len(revs) {
		t.Error("a refused text recorded a revision")
	}

	// the diff, and restoring the state before the save
	r = cl.get("/edit/lexicon/synonyms.txt/revisions/" + strconv.FormatInt(revs[0].ID, 10) + "?vs=prev")
	if r.status != http.StatusOK || !strings.Contains(r.body, "出租车 的士 计程车</ins>") {
		t.Fatalf("diff %d", r.status)
	}
	page = cl.get("/edit/lexicon/synonyms.txt")
	base := strconv.FormatInt(revs[0].ID, 10)
	r = cl.post("/edit/lexicon/synonyms.txt", url.Values{"csrf": {csrf}, "base": {base}, "text": {good + "网约车 网络预约出租汽车\n"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("second save: %d %s", r.status, errorOf(r.body))
	}
	r = cl.post("/edit/lexicon/synonyms.txt/restore", url.Values{"csrf": {csrf}, "rev": {base}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("restore: %d %s", r.status, errorOf(r.body))
	}
	if text, _ := es.cs.LexiconFile(ctx, content.SynonymsFile); text != good {
		t.Errorf("after restore %q", text)
	}
	// a save over a newer revision is refused once
	r = cl.post("/edit/lexicon/synonyms.txt", url.Values{"csrf": {csrf}, "base": {base}, "text": {good + "甲 乙\n"}})
	if r.status != http.StatusConflict {
		t.Errorf("stale save: %d, want 409", r.status)
	}
}
