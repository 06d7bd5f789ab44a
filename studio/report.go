package studio

import (
	"bytes"
	"context"
	"embed"
	"encoding/csv"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"govlive/accounts"
	"govlive/bot"
	"govlive/bot/chatdb"
	"govlive/cases"
	"govlive/content"
	"govlive/viewers"
)

// ChatReports reads a session's chat after the fact (chatdb.Store).
type ChatReports interface {
	Report(ctx context.Context, session content.SessionID) (chatdb.Report, error)
	Phrasings(ctx context.Context, session content.SessionID, cluster bot.ClusterID, limit int) ([]string, error)
}

var _ ChatReports = (*chatdb.Store)(nil)

// ViewerSeries reads a session's viewers per minute (viewers.Log).
type ViewerSeries interface {
	Series(ctx context.Context, session string) ([]viewers.Sample, error)
}

var _ ViewerSeries = (*viewers.Log)(nil)

// sessionCases lists every case of a session (cases.Store).
type sessionCases interface {
	SessionCases(ctx context.Context, session string) ([]cases.Case, error)
}

var _ sessionCases = (*cases.Store)(nil)

func init() { editPages = append(editPages, "edit-report", "edit-review") }

// reportCSS is the report and review pages' stylesheet.
//
//go:embed web/report.css
var reportFS embed.FS

// reportRoutes mounts a session's report and review pages (editors and
// admins), beside the editors' pages.
func (s *Server) reportRoutes() {
	s.app.Get("/assets/report.css", func(c *fiber.Ctx) error {
		return sendFS(c, reportFS, "web/report.css", "text/css; charset=utf-8")
	})
	e := s.app.Group("/edit/sessions/:id", s.requirePage(accounts.RoleEditor), noStore)
	e.Get("/report", s.asPage(s.reportPage))
	e.Get("/report.csv", s.asPage(s.reportCSV))
	e.Get("/review", s.asPage(s.reviewPage))
	e.Get("/review/:cid/draft", s.asPage(s.reviewDraft))
	e.Post("/review/:cid/similar", s.asPage(s.reviewAddSimilar))
}

// Labels of the report.
var (
	actionNames = map[bot.Action]string{
		bot.ActionAnswer: "回答", bot.ActionEscalate: "转人工帮办", bot.ActionDecline: "婉拒", bot.ActionModerate: "拦截",
	}
	reasonNames = map[string]string{
		"faq": "常见问题", "clarify": "请观众确认", "document": "政策文件", "out_of_scope": "超出范围",
		"chitchat": "闲聊", "abuse": "辱骂", "spam": "广告刷屏", "pii": "含个人信息", "urgent": "紧急求助",
		"complaint": "投诉", "personal_case": "个人办件", "human_request": "要求人工", "low_confidence": "把握不足",
		"": "（无）",
	}
)

func actionName(a bot.Action) string {
	if n, ok := actionNames[a]; ok {
		return n
	}
	return string(a)
}

func reasonName(r string) string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return r
}

// table is one table of the report: the page shows it beside its chart,
// the CSV export writes it.
type table struct {
	Name    string // the ?table= of the CSV
	Caption string
	Head    []string
	Rows    [][]string
}

// sessionReport is a session's report: its figures and tables.
type sessionReport struct {
	Session content.Session
	Chat    chatdb.Report
	Cases   cases.Summary
	HasCase bool
	Sampled bool // viewers are sampled

	Viewers, Minutes, Decisions, Actions, Outcomes, Reasons, Times, Satisfaction, Ratings, Levels, Top, Unanswered table
}

func (s *Server) sessionOf(c *fiber.Ctx) (content.Session, error) {
	return s.cfg.Content.Session(c.UserContext(), content.SessionID(strings.Clone(c.Params("id"))))
}

func (s *Server) buildReport(c *fiber.Ctx) (sessionReport, error) {
	var r sessionReport
	var err error
	if r.Session, err = s.sessionOf(c); err != nil {
		return r, err
	}
	ctx := c.UserContext()
	if s.cfg.Reports != nil {
		if r.Chat, err = s.cfg.Reports.Report(ctx, r.Session.ID); err != nil {
			return r, err
		}
	}
	if sc, ok := s.cfg.Cases.(sessionCases); ok {
		cs, err := sc.SessionCases(ctx, string(r.Session.ID))
		if err != nil {
			return r, err
		}
		r.Cases, r.HasCase = cases.Summarize(cs), true
	}
	var samples []viewers.Sample
	if s.cfg.Viewers != nil {
		if samples, err = s.cfg.Viewers.Series(ctx, string(r.Session.ID)); err != nil {
			return r, err
		}
		r.Sampled = true
	}
	r.tables()
	r.Viewers = table{Name: "viewers", Caption: "每分钟观看人数（该分钟内最多）", Head: []string{"时间（北京时间）", "观看人数"}}
	for _, v := range samples {
		r.Viewers.Rows = append(r.Viewers.Rows, []string{v.Minute.In(chinaTime).Format("15:04"), itoa(v.Viewers)})
	}
	return r, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// share is n of total as "12.5%" ("—" of none).
func share(n, total int) string {
	if total == 0 {
		return "—"
	}
	return strconv.FormatFloat(100*float64(n)/float64(total), 'f', 1, 64) + "%"
}

// seconds writes a duration in seconds, or minutes and seconds.
func seconds(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%d 秒", int(d.Seconds()))
	}
	return fmt.Sprintf("%d 分 %d 秒", int(d.Minutes()), int(d.Seconds())%60)
}

func (r *sessionReport) tables() {
	ch, cs := r.Chat, r.Cases
	r.Minutes = table{Name: "minutes", Caption: "每分钟提问数", Head: []string{"时间（北京时间）", "提问数"}}
	for _, m := range ch.PerMinute {
		r.Minutes.Rows = append(r.Minutes.Rows, []string{m.Minute.In(chinaTime).Format("15:04"), itoa(m.Count)})
	}
	r.Decisions = table{Name: "decisions", Caption: "机器人的决定及原因", Head: []string{"决定", "原因", "提问数", "占比"}}
	byAction := map[bot.Action]int{}
	for _, d := range ch.Decisions {
		byAction[d.Action] += d.Count
		r.Decisions.Rows = append(r.Decisions.Rows, []string{actionName(d.Action), reasonName(string(d.Reason)), itoa(d.Count), share(d.Count, ch.Questions)})
	}
	r.Actions = table{Name: "actions", Caption: "机器人的决定", Head: []string{"决定", "提问数", "占比"}}
	for _, a := range []bot.Action{bot.ActionAnswer, bot.ActionEscalate, bot.ActionDecline, bot.ActionModerate} {
		r.Actions.Rows = append(r.Actions.Rows, []string{actionName(a), itoa(byAction[a]), share(byAction[a], ch.Questions)})
	}
	r.Reasons = table{Name: "case_reasons", Caption: "转人工帮办的原因", Head: []string{"原因", "帮办事项数"}}
	var reasons []string
	for k := range cs.ByReason {
		reasons = append(reasons, k)
	}
	slices.SortFunc(reasons, func(a, b string) int {
		if d := cs.ByReason[b] - cs.ByReason[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	for _, k := range reasons {
		r.Reasons.Rows = append(r.Reasons.Rows, []string{reasonName(k), itoa(cs.ByReason[k])})
	}
	r.Outcomes = table{Name: "case_outcomes", Caption: "帮办事项的办理结果", Head: []string{"状态", "帮办事项数", "占比"}}
	for _, st := range cases.States {
		r.Outcomes.Rows = append(r.Outcomes.Rows, []string{st.Label(), itoa(cs.ByState[st]), share(cs.ByState[st], cs.Total)})
	}
	r.Times = table{Name: "case_times", Caption: "认领与办结用时（从转人工起算）", Head: []string{"", "事项数", "中位数", "90% 在此之内"}}
	for _, t := range []struct {
		name string
		d    cases.Durations
	}{{"认领用时", cs.ToClaim}, {"办结或转办用时", cs.ToResolve}} {
		row := []string{t.name, itoa(t.d.N), "—", "—"}
		if t.d.N > 0 {
			row[2], row[3] = seconds(t.d.Median), seconds(t.d.P90)
		}
		r.Times.Rows = append(r.Times.Rows, row)
	}
	r.Satisfaction = table{Name: "satisfaction", Caption: "帮办满意度（好差评）", Head: []string{"评价", "事项数", "占比"}}
	for lv := cases.VerySatisfied; lv >= cases.VeryDissatisfied; lv-- {
		r.Satisfaction.Rows = append(r.Satisfaction.Rows, []string{lv.String(), itoa(cs.Ratings[lv]), share(cs.Ratings[lv], cs.Rated)})
	}
	r.Ratings = table{Name: "answer_ratings", Caption: "机器人答复的评价", Head: []string{"", "次数", "占比"}}
	r.Ratings.Rows = [][]string{
		{"有帮助", itoa(ch.Up), share(ch.Up, ch.Up+ch.Down)},
		{"没帮助", itoa(ch.Down), share(ch.Down, ch.Up+ch.Down)},
	}
	// The replies' ratings on the 好差评 scale, 5 to 1; a 👍/👎 given
	// without a level counts in Ratings only.
	r.Levels = table{Name: "answer_levels", Caption: "机器人答复的好差评（五级）", Head: []string{"评价", "次数", "占比"}}
	leveled := 0
	for _, n := range ch.Levels {
		leveled += n
	}
	for lv := cases.VerySatisfied; lv >= cases.VeryDissatisfied; lv-- {
		n := ch.Levels[int(lv)-1]
		r.Levels.Rows = append(r.Levels.Rows, []string{lv.String(), itoa(n), share(n, leveled)})
	}
	head := []string{"问题", "提问人次", "+1", "机器人的决定", "原因", "有帮助", "没帮助"}
	row := func(c chatdb.ClusterFigures) []string {
		return []string{c.Text, itoa(c.Count), itoa(c.Plus), actionName(c.Action), reasonName(string(c.Reason)), itoa(c.Up), itoa(c.Down)}
	}
	r.Top = table{Name: "top_clusters", Caption: "提问最多的问题（前 10）", Head: head}
	r.Unanswered = table{Name: "unanswered", Caption: "机器人未回答的问题", Head: head}
	for i, c := range ch.Clusters {
		if i < 10 {
			r.Top.Rows = append(r.Top.Rows, row(c))
		}
		if c.Unanswered() {
			r.Unanswered.Rows = append(r.Unanswered.Rows, row(c))
		}
	}
}

// all is every table, in the order of the page.
func (r *sessionReport) all() []*table {
	return []*table{&r.Viewers, &r.Minutes, &r.Actions, &r.Decisions, &r.Top, &r.Unanswered, &r.Ratings, &r.Levels, &r.Reasons, &r.Outcomes, &r.Times, &r.Satisfaction}
}

// points are a table's column col as chart points labelled by column 0.
func (t table) points(col int) []chartPoint {
	out := make([]chartPoint, 0, len(t.Rows))
	for _, row := range t.Rows {
		v, _ := strconv.ParseFloat(row[col], 64)
		out = append(out, chartPoint{Label: row[0], Value: v})
	}
	return out
}

// reportPage is the session report page.
type reportPage struct {
	pageData
	R           sessionReport
	Figures     []figure
	Charts      map[string]any
	CSV, Review string
	PeakMinute  string
	HasChat     bool
}

type figure struct{ Label, Value string }

func (s *Server) reportPage(c *fiber.Ctx) error {
	r, err := s.buildReport(c)
	if err != nil {
		return err
	}
	base := "/edit/sessions/" + url.PathEscape(string(r.Session.ID))
	d := reportPage{pageData: s.base(c, "场次报告 · "+r.Session.Title), R: r, CSV: base + "/report.csv", Review: base + "/review",
		HasChat: s.cfg.Reports != nil}
	ch := r.Chat
	peak := 0
	for _, m := range ch.PerMinute {
		peak = max(peak, m.Count)
	}
	perMin := "—"
	if n := len(ch.PerMinute); n > 0 {
		perMin = strconv.FormatFloat(float64(ch.Questions)/float64(n), 'f', 1, 64)
	}
	answered := 0
	for _, x := range ch.Decisions {
		if x.Action == bot.ActionAnswer {
			answered += x.Count
		}
	}
	satisfied := r.Cases.Ratings[cases.VerySatisfied] + r.Cases.Ratings[cases.Satisfied] + r.Cases.Ratings[cases.BasicallySatisfied]
	d.Figures = []figure{
		{"观众提问", itoa(ch.Questions)},
		{"平均每分钟提问", perMin},
		{"最多一分钟提问", itoa(peak)},
		{"机器人回答", share(answered, ch.Questions)},
		{"转人工帮办事项", itoa(r.Cases.Total)},
		{"帮办满意率", share(satisfied, r.Cases.Rated)},
		{"答复“有帮助”", share(ch.Up, ch.Up+ch.Down)},
	}
	d.Charts = map[string]any{
		"Viewers":      columnChart("c-viewers", "每分钟观看人数", r.Viewers.points(1)),
		"Minutes":      columnChart("c-minutes", "每分钟提问数", r.Minutes.points(1)),
		"Actions":      hbarChart("c-actions", "机器人的决定", r.Actions.points(1)),
		"Outcomes":     hbarChart("c-outcomes", "帮办事项的办理结果", r.Outcomes.points(1)),
		"Satisfaction": hbarChart("c-satisfaction", "帮办满意度（好差评五级）", r.Satisfaction.points(1)),
		"Ratings":      hbarChart("c-ratings", "机器人答复的评价", r.Ratings.points(1)),
		"Levels":       hbarChart("c-levels", "机器人答复的好差评（五级）", r.Levels.points(1)),
		"Top":          hbarChart("c-top", "提问最多的问题", r.Top.points(1)),
	}
	return s.render(c, fiber.StatusOK, "edit-report", d)
}

// reportCSV answers the report as CSV: every table, one after the other
// with its caption as a heading row, or one table with ?table=NAME.
// UTF-8 with a byte-order mark, so that Excel reads the Chinese.
func (s *Server) reportCSV(c *fiber.Ctx) error {
	r, err := s.buildReport(c)
	if err != nil {
		return err
	}
	tables := r.all()
	name := "report"
	if want := c.Query("table"); want != "" {
		i := slices.IndexFunc(tables, func(t *table) bool { return t.Name == want })
		if i < 0 {
			return fiber.NewError(fiber.StatusNotFound, "没有这张表")
		}
		tables, name = tables[i:i+1], want
	}
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	for i, t := range tables {
		if len(tables) > 1 {
			if i > 0 {
				_ = w.Write([]string{""})
			}
			_ = w.Write([]string{t.Caption})
		}
		_ = w.Write(t.Head)
		for _, row := range t.Rows {
			_ = w.Write(csvSafe(row))
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	file := fmt.Sprintf("%s-%s.csv", r.Session.ID, name)
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+strings.NewReplacer(`"`, "", "\\", "").Replace(file)+`"`)
	return c.Send(b.Bytes())
}

// csvSafe keeps a spreadsheet from reading a viewer's text as a formula
// (CSV injection): a cell starting with = + - @ gets a leading quote.
func csvSafe(row []string) []string {
	out := make([]string, len(row))
	for i, v := range row {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			v = "'" + v
		}
		out[i] = v
	}
	return out
}

// reviewCluster is one cluster of the review page.
type reviewCluster struct {
	chatdb.ClusterFigures
	Why       []string // 未回答, 转人工, 评价差
	Phrasings []string
	Draft     string // the prefilled new entry's URL
	Similar   string // the POST adding the phrasings to an entry
	Top       string // the entry the bot found, preselected
}

type reviewPage struct {
	pageData
	Session  content.Session
	Clusters []reviewCluster
	Entries  []option
	Report   string
}

func (s *Server) reviewPage(c *fiber.Ctx) error {
	ss, err := s.sessionOf(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	base := "/edit/sessions/" + url.PathEscape(string(ss.ID))
	d := reviewPage{pageData: s.base(c, "场次复盘 · "+ss.Title), Session: ss, Report: base + "/report"}
	d.Notice = reviewNotices[c.Query("done")]
	if s.cfg.Reports != nil {
		rep, err := s.cfg.Reports.Report(ctx, ss.ID)
		if err != nil {
			return err
		}
		for _, cl := range rep.Clusters {
			rc := reviewCluster{ClusterFigures: cl}
			if cl.Unanswered() {
				rc.Why = append(rc.Why, "机器人未回答")
			}
			if cl.Action == bot.ActionEscalate {
				rc.Why = append(rc.Why, "转人工帮办")
			}
			if cl.LowRated() {
				rc.Why = append(rc.Why, "答复评价差")
			}
			if len(rc.Why) == 0 || cl.Action == bot.ActionModerate {
				continue
			}
			if rc.Phrasings, err = s.cfg.Reports.Phrasings(ctx, ss.ID, cl.ID, 0); err != nil {
				return err
			}
			cid := strconv.FormatInt(int64(cl.ID), 10)
			rc.Draft, rc.Similar = base+"/review/"+cid+"/draft", base+"/review/"+cid+"/similar"
			if cl.Top != nil && cl.Top.Kind == "faq" {
				rc.Top = cl.Top.ID
			}
			d.Clusters = append(d.Clusters, rc)
		}
	}
	list, _, err := s.cfg.Content.ListFAQ(ctx, content.FAQFilter{}, content.Page{})
	if err != nil {
		return err
	}
	for _, e := range list {
		d.Entries = append(d.Entries, option{Value: string(e.ID), Label: clip(e.Question, 40) + "（" + string(e.ID) + "）"})
	}
	return s.render(c, fiber.StatusOK, "edit-review", d)
}

var reviewNotices = map[string]string{"none": "这些问法已都在该条目中，未做修改"}

// clusterPhrasings reads the :cid cluster's phrasings of the :id session.
func (s *Server) clusterPhrasings(c *fiber.Ctx) (content.Session, []string, error) {
	ss, err := s.sessionOf(c)
	if err != nil {
		return ss, nil, err
	}
	cid, err := strconv.ParseInt(c.Params("cid"), 10, 64)
	if err != nil || cid <= 0 || s.cfg.Reports == nil {
		return ss, nil, fiber.ErrNotFound
	}
	ph, err := s.cfg.Reports.Phrasings(c.UserContext(), ss.ID, bot.ClusterID(cid), 0)
	if err != nil {
		return ss, nil, err
	}
	if len(ph) == 0 {
		return ss, nil, fiber.ErrNotFound
	}
	return ss, ph, nil
}

// reviewDraft answers the new entry form prefilled with a cluster's
// phrasings, as a draft in the session's category: saving it (the form
// posts to /edit/faq/new) records the editor.
func (s *Server) reviewDraft(c *fiber.Ctx) error {
	ss, ph, err := s.clusterPhrasings(c)
	if err != nil {
		return err
	}
	f := faqForm{Question: ph[0], Similar: strings.Join(ph[1:], "\n"), Category: ss.Category, Status: string(content.StatusDraft)}
	return s.faqFormPage(c, fiber.StatusOK, f, nil, true)
}

// reviewAddSimilar adds a cluster's phrasings to the similar questions of
// the entry of the form's faq field, recording the editor.
func (s *Server) reviewAddSimilar(c *fiber.Ctx) error {
	_, ph, err := s.clusterPhrasings(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	actor, ok := accounts.ActorFromContext(ctx)
	if !ok {
		return errLogin
	}
	e, err := s.cfg.Content.FAQ(ctx, content.FAQID(formText(c, "faq")))
	if err != nil {
		return err
	}
	added := false
	for _, p := range ph {
		if p != e.Question && !slices.Contains(e.Similar, p) {
			e.Similar, added = append(e.Similar, p), true
		}
	}
	back := "/edit/faq/" + url.PathEscape(string(e.ID))
	if !added {
		return c.Redirect(back+"?done=unchanged", fiber.StatusSeeOther)
	}
	e.Updated = content.DateOf(s.cfg.Now().In(chinaTime))
	if _, err := s.cfg.Content.PutFAQ(ctx, e, actor); err != nil {
		return err
	}
	s.cfg.Log.Info("review: phrasings added", "faq", e.ID, "user", actor, "session", c.Params("id"), "cluster", c.Params("cid"))
	return c.Redirect(back+"?done=saved", fiber.StatusSeeOther)
}
