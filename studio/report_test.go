package studio_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"govlive/accounts"
	"govlive/bot"
	"govlive/bot/chatdb"
	"govlive/cases"
	"govlive/store"
	"govlive/studio"
	"govlive/viewers"
)

// reportSession is what the scripted session left: its clusters.
type reportSession struct {
	food, pension bot.ClusterID
}

// newReportServer is the editors' server with the chat and the cases of
// a scripted session "live": five questions in two minutes — three
// answered from faq-a (two phrasings; one reply rated up, one down), two
// escalated as personal cases (two phrasings) — and two cases: one
// claimed after 20 s and resolved after 30 s, rated 非常满意; one open.
func newReportServer(t *testing.T) (*editServer, reportSession) {
	t.Helper()
	var rs reportSession
	es := &editServer{authServer: &authServer{clock: &testClock{t: time.Date(2026, 3, 13, 9, 0, 0, 0, time.UTC)}, users: map[string]accounts.User{}}}
	as := es.authServer
	as.srv = newServerWith(t, nil, func(db *store.DB, cfg *studio.Config) {
		ctx := context.Background()
		acc, err := accounts.Open(ctx, accounts.Config{DB: db, Now: as.clock.Now, Params: cheap})
		if err != nil {
			t.Fatal(err)
		}
		as.acc, cfg.Accounts, cfg.Now, es.cs = acc, acc, as.clock.Now, cfg.Content
		chat, err := chatdb.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 13, 7, 5, 0, 0, time.UTC) // 15:05 in Beijing
		tick := at
		cs, err := cases.NewStore(ctx, db, func() time.Time { tick = tick.Add(10 * time.Second); return tick })
		if err != nil {
			t.Fatal(err)
		}
		vl, err := viewers.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range []int{12, 30, 25} {
			if err := vl.Record(ctx, "live", at.Add(time.Duration(i)*time.Minute), n); err != nil {
				t.Fatal(err)
			}
		}
		cfg.Reports, cfg.Cases, cfg.Viewers = chat, cs, vl
		rs = scriptSession(t, chat, cs, at)
	})
	for name, role := range map[string]accounts.Role{"editor": accounts.RoleEditor, "anchor": accounts.RoleAnchor} {
		u, err := as.acc.Add(context.Background(), accounts.NewUser{Name: name, Display: "用户" + name, Roles: []accounts.Role{role}, Password: name + " password"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		as.users[name] = u
	}
	return es, rs
}

func scriptSession(t *testing.T, chat *chatdb.Store, cs *cases.Store, at time.Time) reportSession {
	t.Helper()
	ctx := context.Background()
	food := &bot.Cluster{Session: "live", Text: "食品证要几天", Key: "食品证", First: at, Action: bot.ActionAnswer, Reason: bot.ReasonFAQ, Answered: at,
		Top: &bot.HitRef{Kind: "faq", ID: "faq-a", Score: 0.9}}
	pension := &bot.Cluster{Session: "live", Text: "我的养老金怎么没到账", Key: "养老金", First: at.Add(time.Minute), Action: bot.ActionEscalate, Reason: bot.ReasonPersonalCase}
	var replies []*bot.Post
	for i, q := range []struct {
		d    time.Duration
		text string
		c    *bot.Cluster
	}{
		{0, "食品证要几天", food}, {10 * time.Second, "食品证几天能办好", food}, {20 * time.Second, "食品证要几天", food},
		{time.Minute, "我的养老金怎么没到账", pension}, {time.Minute + 5*time.Second, "=我的养老金这个月没到", pension},
	} {
		v := bot.Sender{Channel: bot.ChannelWeb, ID: "w-" + strconv.Itoa(i), Nick: "观众"}
		p := &bot.Post{Session: "live", Author: v, Time: at.Add(q.d), Text: q.text, Action: q.c.Action, Reason: bot.ReasonFAQ}
		var reply *bot.Post
		if q.c == food {
			reply = &bot.Post{Session: "live", Author: bot.BotSender, Time: at.Add(q.d), Text: "答案一。"}
			replies = append(replies, reply)
		} else {
			p.Reason = bot.ReasonPersonalCase
		}
		q.c.Count++
		q.c.Last, q.c.Joined = at.Add(q.d), &v
		if err := chat.Save(ctx, p, reply, q.c); err != nil {
			t.Fatal(err)
		}
		q.c.Joined = nil
		if q.c == pension {
			if _, _, err := cs.Open(ctx, cases.Opening{Session: "live", Reason: "personal_case", Question: q.text,
				Cluster: int64(q.c.ID), Message: int64(p.ID), Viewer: cases.Viewer{ID: v.ID, Nick: v.Nick}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, level := range []int{4, 2} { // 满意 (up), 不满意 (down)
		if _, _, err := chat.Rate(ctx, "live", replies[i].ID, "w-9", false, level, at); err != nil {
			t.Fatal(err)
		}
	}
	// the cases opened at +10 s and +20 s of their clock
	for _, f := range []func() (cases.Case, error){
		func() (cases.Case, error) { return cs.Claim(ctx, 1, "王敏") },
		func() (cases.Case, error) { return cs.Resolve(ctx, 1, "王敏", "已当场答复") },
		func() (cases.Case, error) { return cs.Rate(ctx, 1, "viewer", cases.VerySatisfied, "") },
	} {
		if _, err := f(); err != nil {
			t.Fatal(err)
		}
	}
	return reportSession{food: food.ID, pension: pension.ID}
}

func TestReportAccess(t *testing.T) {
	es, rs := newReportServer(t)
	pages := []string{"/edit/sessions/live/report", "/edit/sessions/live/report.csv", "/edit/sessions/live/review",
		"/edit/sessions/live/review/" + strconv.Itoa(int(rs.pension)) + "/draft"}
	anon := es.client(t)
	for _, p := range pages {
		if r := anon.get(p); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login?next=") {
			t.Errorf("anonymous GET %s: %d %q, want 303 to the login", p, r.status, r.header.Get("Location"))
		}
	}
	anchor := es.loggedIn(t, "anchor")
	for _, p := range pages {
		if r := anchor.get(p); r.status != http.StatusForbidden {
			t.Errorf("anchor GET %s: %d, want 403", p, r.status)
		}
	}
	similar := "/edit/sessions/live/review/" + strconv.Itoa(int(rs.food)) + "/similar"
	if r := anchor.post(similar, url.Values{"csrf": {anchor.csrf()}, "faq": {"faq-a"}}); r.status != http.StatusForbidden {
		t.Errorf("anchor POST: %d, want 403", r.status)
	}
	editor := es.loggedIn(t, "editor")
	for _, p := range []string{"/edit/sessions/nope/report", "/edit/sessions/live/review/999/draft", "/edit/sessions/live/report.csv?table=nope"} {
		if r := editor.get(p); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.status)
		}
	}
	if e, _ := es.cs.FAQ(context.Background(), "faq-a"); len(e.Similar) != 0 {
		t.Errorf("a refused POST changed the entry: %q", e.Similar)
	}
}

func TestReportFigures(t *testing.T) {
	es, _ := newReportServer(t)
	cl := es.loggedIn(t, "editor")
	r := cl.get("/edit/sessions/live/report")
	if r.status != http.StatusOK {
		t.Fatalf("report: %d\n%s", r.status, r.body)
	}
	body := html.UnescapeString(r.body)
	for _, want := range []string{
		`<span class="fig-value">5</span><span class="fig-label">观众提问</span>`,
		`<span class="fig-value">2.5</span><span class="fig-label">平均每分钟提问</span>`,
		`<span class="fig-value">3</span><span class="fig-label">最多一分钟提问</span>`,
		`<span class="fig-value">60.0%</span><span class="fig-label">机器人回答</span>`,
		`<span class="fig-value">2</span><span class="fig-label">转人工帮办事项</span>`,
		`<span class="fig-value">100.0%</span><span class="fig-label">帮办满意率</span>`,
		`<span class="fig-value">50.0%</span><span class="fig-label">答复“有帮助”</span>`,
		`<tr><th scope="row">15:05</th><td>3</td></tr>`,
		`<tr><th scope="row">15:06</th><td>2</td></tr>`,
		`<tr><th scope="row">回答</th><td>3</td><td>60.0%</td></tr>`,
		`<tr><th scope="row">转人工帮办</th><td>2</td><td>40.0%</td></tr>`,
		`<tr><th scope="row">已解决</th><td>1</td><td>50.0%</td></tr>`,
		`<tr><th scope="row">待认领</th><td>1</td><td>50.0%</td></tr>`,
		`<tr><th scope="row">认领用时</th><td>1</td><td>20 秒</td><td>20 秒</td></tr>`,
		`<tr><th scope="row">办结或转办用时</th><td>1</td><td>30 秒</td><td>30 秒</td></tr>`,
		`<tr><th scope="row">非常满意</th><td>1</td><td>100.0%</td></tr>`,
		`<tr><th scope="row">有帮助</th><td>1</td><td>50.0%</td></tr>`,
		`<caption>机器人答复的好差评（五级）</caption>`,
		`<title id="c-levels-t">机器人答复的好差评（五级）</title>`,
		`<tr><th scope="row">满意</th><td>1</td><td>50.0%</td></tr>`,
		`<tr><th scope="row">基本满意</th><td>0</td><td>0.0%</td></tr>`,
		`<tr><th scope="row">不满意</th><td>1</td><td>50.0%</td></tr>`,
		`<tr><th scope="row">食品证要几天</th><td>3</td><td>0</td><td>回答</td><td>常见问题</td><td>1</td><td>1</td></tr>`,
		`<title id="c-minutes-t">每分钟提问数</title>`,
		`<title id="c-viewers-t">每分钟观看人数</title>`,
		`<tr><th scope="row">15:06</th><td>30</td></tr>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %s", want)
		}
	}
	// unanswered: the pension cluster only
	un := body[strings.Index(body, `id="t-unanswered"`):]
	un = un[:strings.Index(un, "</table>")]
	if !strings.Contains(un, "我的养老金怎么没到账") || strings.Contains(un, "食品证") {
		t.Errorf("unanswered table:\n%s", un)
	}
}

func TestReportCSV(t *testing.T) {
	es, _ := newReportServer(t)
	cl := es.loggedIn(t, "editor")
	read := func(path string) [][]string {
		t.Helper()
		r := cl.get(path)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("GET %s: %d %v", path, r.status, r.header)
		}
		b := []byte(r.body)
		if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
			t.Fatalf("%s: no UTF-8 byte-order mark", path)
		}
		cr := csv.NewReader(bytes.NewReader(b[3:]))
		cr.FieldsPerRecord = -1
		rows, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return rows
	}
	for _, tc := range []struct {
		table string
		want  [][]string
	}{
		{"minutes", [][]string{{"时间（北京时间）", "提问数"}, {"15:05", "3"}, {"15:06", "2"}}},
		{"viewers", [][]string{{"时间（北京时间）", "观看人数"}, {"15:05", "12"}, {"15:06", "30"}, {"15:07", "25"}}},
		{"case_times", [][]string{{"", "事项数", "中位数", "90% 在此之内"}, {"认领用时", "1", "20 秒", "20 秒"}, {"办结或转办用时", "1", "30 秒", "30 秒"}}},
		{"answer_levels", [][]string{{"评价", "次数", "占比"}, {"非常满意", "0", "0.0%"}, {"满意", "1", "50.0%"},
			{"基本满意", "0", "0.0%"}, {"不满意", "1", "50.0%"}, {"非常不满意", "0", "0.0%"}}},
		{"unanswered", [][]string{{"问题", "提问人次", "+1", "机器人的决定", "原因", "有帮助", "没帮助"},
			{"我的养老金怎么没到账", "2", "0", "转人工帮办", "个人办件", "0", "0"}}},
	} {
		if got := read("/edit/sessions/live/report.csv?table=" + tc.table); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %q\nwant %q", tc.table, got, tc.want)
		}
	}
	all := read("/edit/sessions/live/report.csv")
	var captions []string
	for _, row := range all { // a caption row, then the table (blank lines between are skipped)
		if len(row) == 1 {
			captions = append(captions, row[0])
		}
	}
	if len(captions) != 12 || captions[0] != "每分钟观看人数（该分钟内最多）" || captions[7] != "机器人答复的好差评（五级）" || captions[11] != "帮办满意度（好差评）" {
		t.Errorf("sections %q", captions)
	}
}

func TestReviewToFAQ(t *testing.T) {
	es, rs := newReportServer(t)
	ctx := context.Background()
	cl := es.loggedIn(t, "editor")
	r := cl.get("/edit/sessions/live/review")
	body := html.UnescapeString(r.body)
	if r.status != http.StatusOK || !strings.Contains(body, "我的养老金怎么没到账") || !strings.Contains(body, "转人工帮办") ||
		!strings.Contains(body, "答复评价差") || !strings.Contains(body, `<option value="faq-a" selected>`) {
		t.Fatalf("review: %d\n%s", r.status, body)
	}
	// one click: the new entry's form, prefilled as a draft
	r = cl.get("/edit/sessions/live/review/" + strconv.Itoa(int(rs.pension)) + "/draft")
	body = html.UnescapeString(r.body)
	for _, want := range []string{`action="/edit/faq/new"`, `name="question" type="text" value="我的养老金怎么没到账"`,
		"=我的养老金这个月没到", `value="draft" checked`} {
		if r.status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("draft form lacks %s (%d)", want, r.status)
		}
	}
	form := url.Values{"csrf": {formCSRF(t, r.body)}, "id": {"faq-pension"}, "question": {"我的养老金怎么没到账"},
		"similar": {"=我的养老金这个月没到"}, "answer": {"请拨打 12333 查询。"}, "sources": {"doc-a"}, "category": {"综合窗口"}, "status": {"draft"}}
	if r := cl.post("/edit/faq/new", form); r.status != http.StatusSeeOther {
		t.Fatalf("save the draft: %d %v", r.status, fieldErrors(r.body))
	}
	e, err := es.cs.FAQ(ctx, "faq-pension")
	if err != nil || e.Status != "draft" || !reflect.DeepEqual(e.Similar, []string{"=我的养老金这个月没到"}) {
		t.Errorf("draft entry %+v (%v)", e, err)
	}
	wantActor := func(id string) {
		t.Helper()
		revs, err := es.cs.Revisions(ctx, "faq", id)
		if err != nil || len(revs) == 0 {
			t.Fatalf("revisions of %s: %v", id, err)
		}
		if uid, name, ok := accounts.ParseActor(revs[0].Actor); !ok || uid != es.users["editor"].ID || name != "editor" {
			t.Errorf("%s: revision by %q, want the editor", id, revs[0].Actor)
		}
	}
	wantActor("faq-pension")
	// or the phrasings go to an existing entry's similar questions
	path := "/edit/sessions/live/review/" + strconv.Itoa(int(rs.food)) + "/similar"
	r = cl.post(path, url.Values{"csrf": {cl.csrf()}, "faq": {"faq-a"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/edit/faq/faq-a?done=saved" {
		t.Fatalf("add similar: %d %q", r.status, r.header.Get("Location"))
	}
	if e, _ := es.cs.FAQ(ctx, "faq-a"); !reflect.DeepEqual(e.Similar, []string{"食品证要几天", "食品证几天能办好"}) {
		t.Errorf("faq-a similar %q", e.Similar)
	}
	wantActor("faq-a")
	if r := cl.post(path, url.Values{"csrf": {cl.csrf()}, "faq": {"faq-a"}}); r.header.Get("Location") != "/edit/faq/faq-a?done=unchanged" {
		t.Errorf("adding again: %d %q, want unchanged", r.status, r.header.Get("Location"))
	}
	if r := cl.post(path, url.Values{"csrf": {cl.csrf()}, "faq": {"nope"}}); r.status != http.StatusNotFound {
		t.Errorf("unknown entry: %d, want 404", r.status)
	}
}
