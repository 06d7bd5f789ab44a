package studio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"govlive/accounts"
	"govlive/bot"
	"govlive/content"
	"govlive/retrieval"
	"govlive/store"
	"govlive/stream"
	"govlive/studio"
)

// editServer is a studio with accounts (admin, editor, anchor,
// moderator; password NAME + " password"), a real bot over an index that
// follows the content's revisions as serve's does, and the content store.
type editServer struct {
	*authServer
	cs     *content.Store
	tokens *stream.Tokens // the anchors' publishing tokens (cfg.Tokens and cfg.Anchors)
}

func newEditServer(t *testing.T) *editServer {
	t.Helper()
	es := &editServer{authServer: &authServer{clock: &testClock{t: time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)}, users: map[string]accounts.User{}}}
	as := es.authServer
	as.srv = newServerWith(t, nil, func(db *store.DB, cfg *studio.Config) {
		acc, err := accounts.Open(context.Background(), accounts.Config{DB: db, Now: as.clock.Now, Params: cheap})
		if err != nil {
			t.Fatal(err)
		}
		as.acc, cfg.Accounts, cfg.Now, es.cs = acc, acc, as.clock.Now, cfg.Content
		if es.tokens, err = stream.OpenTokens(context.Background(), db, as.clock.Now); err != nil {
			t.Fatal(err)
		}
		cfg.Tokens, cfg.Anchors = es.tokens, es.tokens
		cfg.Bot = followingBot(t, cfg.Content)
	})
	for name, role := range map[string]accounts.Role{"admin": accounts.RoleAdmin, "editor": accounts.RoleEditor,
		"anchor": accounts.RoleAnchor, "moderator": accounts.RoleModerator} {
		u, err := as.acc.Add(context.Background(), accounts.NewUser{Name: name, Display: "用户" + name, Roles: []accounts.Role{role}, Password: name + " password"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		as.users[name] = u
	}
	return es
}

// followingBot is the bot over an index of cs that applies the content's
// revisions every 20 ms until the test ends.
func followingBot(t *testing.T, cs *content.Store) studio.Asker {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := retrieval.Open(ctx, retrieval.Config{Source: cs, Normalizer: norm})
	if err != nil {
		t.Fatal(err)
	}
	lx, err := cs.Lexicon(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(t.Context(), bot.Config{Searcher: ix, Documents: cs, Normalizer: norm, Lexicon: lx})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if _, err := ix.Sync(ctx); err != nil && ctx.Err() == nil {
					t.Errorf("index sync: %v", err)
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		ix.Close()
	})
	return b
}

// loggedIn is a client logged in as name.
func (es *editServer) loggedIn(t *testing.T, name string) *client {
	t.Helper()
	cl := es.client(t)
	if r := cl.login(name, name+" password"); r.status != http.StatusSeeOther {
		t.Fatalf("login %s: %d", name, r.status)
	}
	return cl
}

// formCSRF is the csrf field of a page.
func formCSRF(t *testing.T, body string) string {
	t.Helper()
	m := hiddenCSRF.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", body)
	}
	return m[1]
}

var fieldError = regexp.MustCompile(`<p class="field-error" id="e-([a-z]+)">([^<]*)</p>`)

// fieldErrors are the errors a form page shows beside its fields.
func fieldErrors(body string) map[string]string {
	out := map[string]string{}
	for _, m := range fieldError.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// faqForm is the edit form's fields for faq-a with changes.
func faqFormValues(csrf string, change map[string]string) url.Values {
	v := url.Values{"csrf": {csrf}, "question": {"问题一？"}, "similar": {""}, "answer": {"答案一。"},
		"sources": {"doc-a"}, "category": {"综合窗口"}, "status": {"published"}}
	for k, x := range change {
		v.Set(k, x)
	}
	return v
}

func TestEditAccess(t *testing.T) {
	es := newEditServer(t)
	pages := []string{"/edit", "/edit/faq", "/edit/faq/faq-a", "/edit/faq/new", "/edit/docs", "/edit/docs/doc-a", "/edit/docs/new", "/edit/try"}
	t.Run("anonymous is sent to the login", func(t *testing.T) {
		cl := es.client(t)
		for _, p := range pages {
			r := cl.get(p)
			if want := "/login?next=" + url.QueryEscape(p); r.status != http.StatusSeeOther || r.header.Get("Location") != want {
				t.Errorf("GET %s: %d to %q, want 303 to %q", p, r.status, r.header.Get("Location"), want)
			}
		}
		if r := cl.post("/edit/faq/faq-a", faqFormValues("", nil)); r.status != http.StatusUnauthorized {
			t.Errorf("anonymous POST: %d, want 401", r.status)
		}
	})
	for _, name := range []string{"anchor", "moderator"} {
		t.Run(name+" is refused", func(t *testing.T) {
			cl := es.loggedIn(t, name)
			for _, p := range pages {
				if r := cl.get(p); r.status != http.StatusForbidden || errorOf(r.body) != "没有权限进行该操作" {
					t.Errorf("GET %s: %d %q, want 403 没有权限进行该操作", p, r.status, errorOf(r.body))
				}
			}
			r := cl.post("/edit/faq/faq-a", faqFormValues(cl.csrf(), map[string]string{"answer": "改了。"}))
			if r.status != http.StatusForbidden {
				t.Errorf("POST: %d, want 403", r.status)
			}
		})
	}
	for _, name := range []string{"editor", "admin"} {
		t.Run(name+" may", func(t *testing.T) {
			cl := es.loggedIn(t, name)
			for _, p := range pages {
				if r := cl.get(p); r.status != http.StatusOK || !strings.Contains(r.body, `<nav class="editnav"`) {
					t.Errorf("GET %s: %d, want 200 with the editors' menu", p, r.status)
				}
			}
		})
	}
	if e, _ := es.cs.FAQ(context.Background(), "faq-a"); e.Answer != "答案一。" {
		t.Errorf("answer %q: a refused POST changed the entry", e.Answer)
	}
}

func TestEditFAQList(t *testing.T) {
	es := newEditServer(t)
	ctx := context.Background()
	for i, cat := range []string{"食品许可", "交通运输", "食品许可"} {
		e := content.FAQEntry{ID: content.FAQID("faq-x" + string(rune('0'+i))), Category: cat, Question: "出租车问题" + []string{"甲", "乙", "丙"}[i],
			Answer: "答。", Sources: []content.DocID{"doc-a"}, Updated: content.Date{Year: 2026, Month: 1, Day: 1}, Status: content.StatusPublished}
		if _, err := es.cs.PutFAQ(ctx, e, "test"); err != nil {
			t.Fatal(err)
		}
	}
	cl := es.loggedIn(t, "editor")
	rowID := regexp.MustCompile(`<a class="row-title" href="/edit/faq/([^"]+)">`)
	ids := func(path string) []string {
		t.Helper()
		r := cl.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.status)
		}
		var out []string
		for _, m := range rowID.FindAllStringSubmatch(r.body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	for _, tc := range []struct {
		name, query, want string
	}{
		{"all, drafts too", "", "faq-a faq-draft faq-x0 faq-x1 faq-x2"},
		{"question text", "?q=" + url.QueryEscape("出租车"), "faq-x0 faq-x1 faq-x2"},
		{"id, any case", "?q=FAQ-X1", "faq-x1"},
		{"category", "?category=" + url.QueryEscape("食品许可"), "faq-x0 faq-x2"},
		{"both", "?category=" + url.QueryEscape("食品许可") + "&q=" + url.QueryEscape("丙"), "faq-x2"},
		{"drafts", "?status=draft", "faq-draft"},
		{"nothing", "?q=" + url.QueryEscape("结婚证"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(ids("/edit/faq"+tc.query), " "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("the ten categories are offered", func(t *testing.T) {
		r := cl.get("/edit/faq")
		for _, cat := range []string{"综合窗口", "即办服务", "网上办理", "同城通办", "证照寄递", "特色服务", "监督投诉", "直播服务", "食品许可", "交通运输"} {
			if !strings.Contains(r.body, `<option value="`+cat+`">`) {
				t.Errorf("category %s is not offered", cat)
			}
		}
	})
	t.Run("paging", func(t *testing.T) {
		for i := range 25 {
			e := content.FAQEntry{ID: content.FAQID(fmt.Sprintf("faq-p%03d", i)), Category: "综合窗口", Question: "分页问题" + strconv.Itoa(i),
				Answer: "答。", Sources: []content.DocID{"doc-a"}, Updated: content.Date{Year: 2026, Month: 1, Day: 1}}
			if _, err := es.cs.PutFAQ(ctx, e, "test"); err != nil {
				t.Fatal(err)
			}
		}
		q := "?q=" + url.QueryEscape("分页")
		first, second := ids("/edit/faq"+q), ids("/edit/faq"+q+"&page=2")
		if len(first) != 20 || len(second) != 5 || first[0] != "faq-p000" || second[4] != "faq-p024" {
			t.Errorf("pages %v / %v, want 20 then 5", first, second)
		}
		if r := cl.get("/edit/faq" + q); !strings.Contains(r.body, `href="/edit/faq?page=2&amp;q=`) {
			t.Errorf("no link to page 2 that keeps the search")
		}
	})
}

// ask is what POST /api/ask decides for q.
func ask(t *testing.T, es *editServer, q string) studio.AskAnswer {
	t.Helper()
	body, _ := json.Marshal(studio.AskRequest{Question: q})
	req := httptest.NewRequest(http.MethodPost, "/api/ask", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := es.srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a studio.AskAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("ask: %d %v", resp.StatusCode, err)
	}
	return a
}

func TestEditFAQSave(t *testing.T) {
	es := newEditServer(t)
	ctx := context.Background()
	cl := es.loggedIn(t, "editor")
	page := cl.get("/edit/faq/faq-a")
	csrf := formCSRF(t, page.body)
	const phrasing = "出租车驾驶员证丢了怎么补办"
	if a := ask(t, es, phrasing); a.FAQ != nil && a.FAQ.ID == "faq-a" {
		t.Fatalf("before the edit the bot already answers %q with faq-a", phrasing)
	}

	t.Run("missing CSRF is refused", func(t *testing.T) {
		r := cl.post("/edit/faq/faq-a", faqFormValues("", map[string]string{"answer": "改了。"}))
		if r.status != http.StatusForbidden || !strings.Contains(errorOf(r.body), "CSRF") {
			t.Errorf("got %d %q, want 403 about the CSRF token", r.status, errorOf(r.body))
		}
		r = cl.post("/edit/faq/faq-a", faqFormValues("wrong", map[string]string{"answer": "改了。"}))
		if r.status != http.StatusForbidden {
			t.Errorf("wrong token: %d, want 403", r.status)
		}
	})

	t.Run("bad input keeps the form and stores nothing", func(t *testing.T) {
		revs, _ := es.cs.Revisions(ctx, content.KindFAQ, "faq-a")
		r := cl.post("/edit/faq/faq-a", faqFormValues(csrf, map[string]string{
			"question": "", "similar": "甲\n乙\n甲", "answer": "我写的新答案<script>", "sources": "doc-a\ndoc-nope", "category": "",
		}))
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", r.status)
		}
		want := map[string]string{"question": "请填写问题", "similar": "第 3 行“甲”与前面重复",
			"sources": "找不到这些文档：doc-nope", "category": "请选择分类"}
		if got := fieldErrors(r.body); !mapsEqual(got, want) {
			t.Errorf("field errors %v, want %v", got, want)
		}
		if !strings.Contains(r.body, "我写的新答案&lt;script&gt;</textarea>") || !strings.Contains(r.body, "doc-a\ndoc-nope</textarea>") {
			t.Error("the form does not keep what was typed (escaped)")
		}
		if e, _ := es.cs.FAQ(ctx, "faq-a"); e.Answer != "答案一。" {
			t.Errorf("answer %q: a refused form was stored", e.Answer)
		}
		if after, _ := es.cs.Revisions(ctx, content.KindFAQ, "faq-a"); len(after) != len(revs) {
			t.Errorf("%d revisions, want %d", len(after), len(revs))
		}
	})

	t.Run("an editor saves; the revision records the user; the bot follows", func(t *testing.T) {
		r := cl.post("/edit/faq/faq-a", faqFormValues(csrf, map[string]string{"similar": "问题一怎么办\n" + phrasing, "answer": "答案一。\n第二行。"}))
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/edit/faq/faq-a?done=saved" {
			t.Fatalf("got %d to %q, want 303 to the entry", r.status, r.header.Get("Location"))
		}
		e, err := es.cs.FAQ(ctx, "faq-a")
		if err != nil || strings.Join(e.Similar, "|") != "问题一怎么办|"+phrasing || e.Answer != "答案一。\n第二行。" || e.Updated.String() != "2026-03-12" {
			t.Fatalf("stored %+v (%v)", e, err)
		}
		revs, _ := es.cs.Revisions(ctx, content.KindFAQ, "faq-a")
		if id, name, ok := accounts.ParseActor(revs[0].Actor); !ok || id != es.users["editor"].ID || name != "editor" {
			t.Errorf("revision actor %q, want the editor", revs[0].Actor)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			a := ask(t, es, phrasing)
			if a.FAQ != nil && a.FAQ.ID == "faq-a" && strings.HasPrefix(a.Reply, "答案一。\n第二行。") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 5 s the bot answers %q with %s %s %q, want faq-a", phrasing, a.Action, a.Reason, a.Reply)
			}
			time.Sleep(20 * time.Millisecond)
		}
		page := cl.get("/edit/faq/faq-a?done=saved")
		if !strings.Contains(page.body, "已保存") || !strings.Contains(page.body, `<span class="who">用户editor（editor）</span>`) {
			t.Errorf("the page shows no notice or no revision by 用户editor")
		}
	})

	t.Run("a save that changes nothing records nothing", func(t *testing.T) {
		for range 5 { // past midnight in China, the login kept alive
			es.clock.Add(90 * time.Minute)
			cl.get("/edit")
		}
		before, _ := es.cs.Revisions(ctx, content.KindFAQ, "faq-a")
		r := cl.post("/edit/faq/faq-a", faqFormValues(csrf, map[string]string{"similar": "问题一怎么办\n" + phrasing, "answer": "答案一。\n第二行。"}))
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/edit/faq/faq-a?done=unchanged" {
			t.Errorf("got %d to %q, want 303 to ?done=unchanged", r.status, r.header.Get("Location"))
		}
		if after, _ := es.cs.Revisions(ctx, content.KindFAQ, "faq-a"); len(after) != len(before) {
			t.Errorf("%d revisions, want %d", len(after), len(before))
		}
	})

	t.Run("a save over someone else's newer one is refused", func(t *testing.T) {
		old := cl.get("/edit/faq/faq-a")
		base := regexp.MustCompile(`name="base" value="(\d+)"`).FindStringSubmatch(old.body)[1]
		if _, err := es.cs.PutFAQ(ctx, content.FAQEntry{ID: "faq-a", Category: "综合窗口", Question: "问题一？", Answer: "别人改的。",
			Sources: []content.DocID{"doc-a"}, Updated: content.Date{Year: 2026, Month: 3, Day: 12}}, "user:1:admin"); err != nil {
			t.Fatal(err)
		}
		v := faqFormValues(csrf, map[string]string{"answer": "我改的。"})
		v.Set("base", base)
		r := cl.post("/edit/faq/faq-a", v)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(errorOf(r.body), "admin") {
			t.Fatalf("got %d %q, want 422 naming who saved", r.status, errorOf(r.body))
		}
		if e, _ := es.cs.FAQ(ctx, "faq-a"); e.Answer != "别人改的。" {
			t.Errorf("answer %q, want the other save kept", e.Answer)
		}
		// saving again (the form now carries the newer base) overwrites
		nb := regexp.MustCompile(`name="base" value="(\d+)"`).FindStringSubmatch(r.body)[1]
		v.Set("base", nb)
		if r := cl.post("/edit/faq/faq-a", v); r.status != http.StatusSeeOther {
			t.Errorf("second save: %d, want 303", r.status)
		}
	})

	t.Run("new entry", func(t *testing.T) {
		v := faqFormValues(csrf, map[string]string{"id": "faq-a", "question": "新问题？", "status": "draft"})
		if r := cl.post("/edit/faq/new", v); r.status != http.StatusUnprocessableEntity || fieldErrors(r.body)["id"] != "该编号已被使用，请换一个" {
			t.Errorf("taken id: %d %v", r.status, fieldErrors(r.body))
		}
		v.Set("id", "bad id")
		if r := cl.post("/edit/faq/new", v); r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldErrors(r.body)["id"], "只能包含字母") {
			t.Errorf("bad id: %d %v", r.status, fieldErrors(r.body))
		}
		v.Set("id", "faq-new")
		r := cl.post("/edit/faq/new", v)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/edit/faq/faq-new?done=created" {
			t.Fatalf("got %d to %q", r.status, r.header.Get("Location"))
		}
		if e, err := es.cs.FAQ(ctx, "faq-new"); err != nil || e.Status != content.StatusDraft || e.Question != "新问题？" {
			t.Errorf("stored %+v %v", e, err)
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestEditFAQRestore(t *testing.T) {
	es := newEditServer(t)
	ctx := context.Background()
	cl := es.loggedIn(t, "editor")
	csrf := formCSRF(t, cl.get("/edit/faq/faq-a").body)
	orig, _ := es.cs.Revisions(ctx, content.KindFAQ, "faq-a")
	if r := cl.post("/edit/faq/faq-a", faqFormValues(csrf, map[string]string{"answer": "新答案第一行\n答案一。", "similar": "问法甲"})); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.status)
	}
	rev := strconv.Itoa(int(orig[0].ID))

	diff := cl.get("/edit/faq/faq-a/revisions/" + rev)
	for _, want := range []string{
		`<li class="add"><ins><span class="sr">加入：</span>新答案第一行</ins></li><li class="same">答案一。</li>`,
		`<li class="add"><ins><span class="sr">加入：</span>问法甲</ins></li>`,
		`id="restore"`,
	} {
		if !strings.Contains(diff.body, want) {
			t.Errorf("diff page lacks %s", want)
		}
	}
	if strings.Contains(diff.body, "<h3>问题</h3>") {
		t.Error("the diff shows an unchanged field")
	}
	if r := cl.get("/edit/faq/faq-draft/revisions/" + rev); r.status != http.StatusNotFound {
		t.Errorf("a revision of another entry: %d, want 404", r.status)
	}

	if r := cl.post("/edit/faq/faq-a/restore", url.Values{"rev": {rev}}); r.status != http.StatusForbidden {
		t.Errorf("restore without CSRF: %d, want 403", r.status)
	}
	if r := cl.post("/edit/faq/faq-draft/restore", url.Values{"rev": {rev}, "csrf": {csrf}}); r.status != http.StatusNotFound {
		t.Errorf("restore through another entry: %d, want 404", r.status)
	}
	r := cl.post("/edit/faq/faq-a/restore", url.Values{"rev": {rev}, "csrf": {csrf}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/edit/faq/faq-a?done=restored" {
		t.Fatalf("restore: %d to %q", r.status, r.header.Get("Location"))
	}
	e, _ := es.cs.FAQ(ctx, "faq-a")
	if e.Answer != "答案一。" || len(e.Similar) != 0 {
		t.Errorf("after restore %+v", e)
	}
	revs, _ := es.cs.Revisions(ctx, content.KindFAQ, "faq-a")
	if revs[0].Action != content.ActionRestore || !strings.HasPrefix(revs[0].Actor, "user:") || !strings.Contains(revs[0].Actor, ":editor") {
		t.Errorf("newest revision %s by %q, want a restore by the editor", revs[0].Action, revs[0].Actor)
	}
	if r := cl.get("/edit/faq/faq-a/revisions/" + rev); !strings.Contains(r.body, "当前内容与该修订相同") || strings.Contains(r.body, `id="restore"`) {
		t.Error("after the restore the revision still differs from the entry")
	}
}

// upload posts a file to the upload form.
func (cl *client) upload(path, csrf, name string, data []byte) reply {
	cl.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if csrf != "" {
		if err := w.WriteField("csrf", csrf); err != nil {
			cl.t.Fatal(err)
		}
	}
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		cl.t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		cl.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		cl.t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, path, &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return cl.do(req)
}

func TestEditDocUpload(t *testing.T) {
	es := newEditServer(t)
	ctx := context.Background()
	cl := es.loggedIn(t, "editor")
	csrf := formCSRF(t, cl.get("/edit/docs/new").body)
	md := "---\nid: doc-taxi\ntitle: 出租车驾驶员证补办指南\nissuer: 示例市交通运输局\neffective: 2026-02-01\ncategory: 交通运输\n---\n\n# 出租车驾驶员证补办指南\n\n第一条 遗失后可在窗口补办。\n"

	for _, tc := range []struct {
		name, file string
		data       []byte
		want       string
	}{
		{"word file", "a.docx", []byte("PK\x03\x04"), "目前只接受 Markdown（.md）或纯文本（.txt）文件"},
		{"pdf", "a.pdf", []byte("%PDF-1.4"), "目前只接受"},
		{"not UTF-8", "a.txt", []byte("\xb3\xf6\xd7\xe2\xb3\xb5"), "不是 UTF-8 编码"},
		{"too big", "a.md", bytes.Repeat([]byte("字"), 1<<20/3+1), "文件超过 1 MB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cl.upload("/edit/docs/upload", csrf, tc.file, tc.data)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldErrors(r.body)["file"], tc.want) {
				t.Errorf("got %d %v, want 422 %q", r.status, fieldErrors(r.body), tc.want)
			}
		})
	}
	t.Run("without CSRF", func(t *testing.T) {
		if r := cl.upload("/edit/docs/upload", "", "a.md", []byte(md)); r.status != http.StatusForbidden {
			t.Errorf("got %d, want 403", r.status)
		}
	})

	t.Run("preview, then save", func(t *testing.T) {
		r := cl.upload("/edit/docs/upload", csrf, "guide.md", []byte(md))
		if r.status != http.StatusOK || !strings.Contains(r.body, `id="preview"`) {
			t.Fatalf("got %d, want the preview", r.status)
		}
		for _, want := range []string{`name="id" type="text" value="doc-taxi"`, `value="出租车驾驶员证补办指南"`, `value="示例市交通运输局"`,
			`value="2026-02-01"`, `<option value="交通运输" selected>`, "第一条 遗失后可在窗口补办。"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("preview lacks %s", want)
			}
		}
		if _, err := es.cs.Document(ctx, "doc-taxi"); err == nil {
			t.Fatal("the preview stored the document")
		}
		body := "# 出租车驾驶员证补办指南\n\n第一条 遗失后可在窗口补办。\n"
		v := url.Values{"csrf": {csrf}, "id": {"doc-taxi"}, "title": {"出租车驾驶员证补办指南"}, "issuer": {"示例市交通运输局"},
			"effective": {"2026-02-01"}, "category": {"交通运输"}, "body": {body}, "action": {"save"}}
		r = cl.post("/edit/docs/new", v)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/edit/docs/doc-taxi?done=created" {
			t.Fatalf("save: %d to %q", r.status, r.header.Get("Location"))
		}
		d, err := es.cs.Document(ctx, "doc-taxi")
		if err != nil || d.Body != body || d.Effective.String() != "2026-02-01" {
			t.Errorf("stored %+v %v", d, err)
		}
		revs, _ := es.cs.Revisions(ctx, content.KindDocument, "doc-taxi")
		if len(revs) != 1 || !strings.Contains(revs[0].Actor, ":editor") {
			t.Errorf("revisions %+v, want one by the editor", revs)
		}
	})

	t.Run("plain text: title from the first heading, id from the name", func(t *testing.T) {
		r := cl.upload("/edit/docs/upload", csrf, "Hotline Rules.txt", []byte("\xef\xbb\xbf# 热线规范\r\n\r\n正文。\r\n"))
		if r.status != http.StatusOK || !strings.Contains(r.body, `value="doc-hotline-rules"`) || !strings.Contains(r.body, `value="热线规范"`) {
			t.Errorf("got %d, want id doc-hotline-rules and title 热线规范", r.status)
		}
	})

	t.Run("bad document form", func(t *testing.T) {
		v := url.Values{"csrf": {csrf}, "id": {"doc-a"}, "title": {""}, "issuer": {"某局"}, "effective": {"2026-13-01"}, "category": {"综合窗口"}, "body": {"正文"}}
		r := cl.post("/edit/docs/new", v)
		want := map[string]string{"id": "该编号已被使用，请换一个", "title": "请填写标题", "effective": "请填写施行日期，格式为 2026-03-01"}
		if got := fieldErrors(r.body); r.status != http.StatusUnprocessableEntity || !mapsEqual(got, want) {
			t.Errorf("got %d %v, want 422 %v", r.status, got, want)
		}
	})

	t.Run("edit", func(t *testing.T) {
		v := url.Values{"csrf": {csrf}, "title": {"示例文档（修订）"}, "issuer": {"示例市政务服务中心"}, "effective": {"2025-03-01"},
			"category": {"综合窗口"}, "body": {"第一条 示例条款。\n第二条 新条款。\n"}}
		v.Set("action", "preview")
		if r := cl.post("/edit/docs/doc-a", v); r.status != http.StatusOK || !strings.Contains(r.body, "第二条 新条款。") {
			t.Fatalf("preview: %d", r.status)
		}
		if d, _ := es.cs.Document(ctx, "doc-a"); d.Title != "示例文档" {
			t.Fatal("the preview stored the change")
		}
		v.Set("action", "save")
		if r := cl.post("/edit/docs/doc-a", v); r.status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", r.status, errorOf(r.body))
		}
		if d, _ := es.cs.Document(ctx, "doc-a"); d.Title != "示例文档（修订）" {
			t.Errorf("title %q", d.Title)
		}
	})
}

func TestEditTry(t *testing.T) {
	es := newEditServer(t)
	cl := es.loggedIn(t, "editor")
	csrf := formCSRF(t, cl.get("/edit/try").body)
	r := cl.post("/edit/try", url.Values{"csrf": {csrf}, "question": {"问题一"}})
	if r.status != http.StatusOK {
		t.Fatalf("got %d", r.status)
	}
	for _, want := range []string{`<dd id="try-action">自动回答</dd>`, "匹配到常见问题", `<blockquote class="reply" id="try-reply">答案一。`,
		`<a href="/edit/faq/faq-a">问题一？</a> <span class="badge on">被采用</span>`, "<mark>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the answer lacks %s", want)
		}
	}
	if r := cl.post("/edit/try", url.Values{"csrf": {csrf}, "question": {" "}}); r.status != http.StatusUnprocessableEntity || errorOf(r.body) != "请输入一个问题" {
		t.Errorf("empty: %d %q", r.status, errorOf(r.body))
	}
	if r := cl.post("/edit/try", url.Values{"question": {"问题一"}}); r.status != http.StatusForbidden {
		t.Errorf("without CSRF: %d, want 403", r.status)
	}
}

func TestEditDocRestore(t *testing.T) {
	es := newEditServer(t)
	ctx := context.Background()
	cl := es.loggedIn(t, "editor")
	csrf := formCSRF(t, cl.get("/edit/docs/doc-a").body)
	orig, _ := es.cs.Revisions(ctx, content.KindDocument, "doc-a")
	v := url.Values{"csrf": {csrf}, "title": {"示例文档"}, "issuer": {"示例市政务服务中心"}, "effective": {"2025-03-01"},
		"category": {"综合窗口"}, "body": {"\n第一条 示例条款。\n第二条 新增条款。\n"}, "action": {"save"}}
	if r := cl.post("/edit/docs/doc-a", v); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.status, errorOf(r.body))
	}
	rev := strconv.Itoa(int(orig[0].ID))
	diff := cl.get("/edit/docs/doc-a/revisions/" + rev)
	if !strings.Contains(diff.body, `<h3>正文</h3>`) || !strings.Contains(diff.body, `<li class="add"><ins><span class="sr">加入：</span>第二条 新增条款。</ins></li>`) {
		t.Errorf("diff page lacks the added line:\n%s", diff.body)
	}
	if r := cl.post("/edit/docs/doc-a/restore", url.Values{"rev": {rev}, "csrf": {csrf}}); r.status != http.StatusSeeOther {
		t.Fatalf("restore: %d %s", r.status, errorOf(r.body))
	}
	if d, _ := es.cs.Document(ctx, "doc-a"); strings.Contains(d.Body, "第二条") {
		t.Errorf("after restore the body is %q", d.Body)
	}
	if r := cl.get("/edit/faq/faq-a/revisions/" + rev); r.status != http.StatusNotFound {
		t.Errorf("a document's revision as a FAQ entry's: %d, want 404", r.status)
	}
}
