package studio

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"govlive/accounts"
	"govlive/content"
)

// The editors' pages' own files: their templates (each parsed with the
// layout and edit-nav.html), stylesheet and script.
//
//go:embed web/edit*.html web/edit.css web/edit.js
var editFS embed.FS

// editPages are the editors' page templates (web/NAME.html).
var editPages = []string{"edit-home", "edit-faq-list", "edit-faq", "edit-diff", "edit-docs", "edit-doc", "edit-try", "edit-sessions", "edit-session", "edit-pack", "edit-lexicon-list", "edit-lexicon"}

// addEditTemplates parses the editors' pages into out (pageTemplates).
func addEditTemplates(out map[string]*template.Template) error {
	for _, name := range editPages {
		t, err := template.ParseFS(webFS, "web/layout.html")
		if err == nil {
			t, err = t.ParseFS(editFS, "web/edit-nav.html", "web/"+name+".html")
		}
		if err != nil {
			return fmt.Errorf("studio: page %s: %w", name, err)
		}
		out[name] = t
	}
	return nil
}

// packCategories are the ten service categories of the content pack, in
// the order the pages offer them; categories the store holds besides
// these are offered after them.
var packCategories = []string{
	"综合窗口", "即办服务", "网上办理", "同城通办", "证照寄递",
	"特色服务", "监督投诉", "直播服务", "食品许可", "交通运输",
}

// Bounds of the editors' pages.
const (
	editPerPage   = 20      // rows of a list page
	maxSearchText = 100     // characters of a list's search box
	maxUpload     = 1 << 20 // bytes of an uploaded document file
)

// editRoutes mounts the editors' pages under /edit (editors and admins).
func (s *Server) editRoutes() {
	s.app.Get("/assets/edit.css", func(c *fiber.Ctx) error { return sendFS(c, editFS, "web/edit.css", "text/css; charset=utf-8") })
	s.app.Get("/assets/edit.js", func(c *fiber.Ctx) error { return sendFS(c, editFS, "web/edit.js", "text/javascript; charset=utf-8") })
	e := s.app.Group("/edit", s.requirePage(accounts.RoleEditor), noStore)
	for _, r := range []struct {
		method, path string
		h            fiber.Handler
	}{
		{"GET", "", s.editHome},
		{"GET", "/faq", s.editFAQList},
		{"GET", "/faq/new", s.editFAQNew},
		{"POST", "/faq/new", s.saveFAQ},
		{"GET", "/faq/:id", s.editFAQ},
		{"POST", "/faq/:id", s.saveFAQ},
		{"GET", "/faq/:id/revisions/:rev", s.revisionPage(s.faqRevisions())},
		{"POST", "/faq/:id/restore", s.restoreItem(s.faqRevisions())},
		{"GET", "/docs", s.editDocList},
		{"GET", "/docs/new", s.editDocNew},
		{"POST", "/docs/new", s.saveDoc},
		{"POST", "/docs/upload", s.uploadDoc},
		{"GET", "/docs/:id", s.editDoc},
		{"POST", "/docs/:id", s.saveDoc},
		{"GET", "/docs/:id/revisions/:rev", s.revisionPage(s.docRevisions())},
		{"POST", "/docs/:id/restore", s.restoreItem(s.docRevisions())},
		{"GET", "/sessions", s.editSessionList},
		{"GET", "/sessions/new", s.editSessionNew},
		{"POST", "/sessions/new", s.saveSession},
		{"GET", "/sessions/:id", s.editSession},
		{"POST", "/sessions/:id", s.saveSession},
		{"POST", "/sessions/:id/tokens", s.sessionToken},
		{"GET", "/sessions/:id/revisions/:rev", s.revisionPage(s.sessionRevisions())},
		{"POST", "/sessions/:id/restore", s.restoreItem(s.sessionRevisions())},
		{"GET", "/lexicon", s.editLexiconList},
		{"GET", "/lexicon/:id", s.editLexicon},
		{"POST", "/lexicon/:id", s.saveLexicon},
		{"GET", "/lexicon/:id/revisions/:rev", s.revisionPage(s.lexiconRevisions())},
		{"POST", "/lexicon/:id/restore", s.restoreItem(s.lexiconRevisions())},
		{"GET", "/pack", s.editPack},
		{"GET", "/pack/export", s.exportPack},
		{"POST", "/pack/import", s.importPack},
		{"GET", "/try", s.tryPage},
		{"POST", "/try", s.tryAsk},
	} {
		e.Add(r.method, r.path, s.asPage(r.h))
	}
}

// asPage answers the errors of a page handler as pages (errorPage), not
// as the API's JSON.
func (s *Server) asPage(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := h(c); err != nil {
			return s.errorPage(c, err)
		}
		return nil
	}
}

// editNotices are the notices after a change (?done=), by code: the page
// never shows text from the URL.
var editNotices = map[string]string{
	"created":   "已新建，修订已记录",
	"saved":     "已保存，修订已记录；机器人几秒内按新内容回答",
	"unchanged": "内容没有变化，未记录新的修订",
	"restored":  "已恢复到所选修订，恢复本身也记录为一条新修订",
	"revoked":   "已吊销该主播的全部推流令牌，用它们推流会被拒绝",
}

func (s *Server) notice(c *fiber.Ctx, d *pageData) {
	d.Notice = editNotices[c.Query("done")]
}

// editHome answers GET /edit: what the editors can do.
func (s *Server) editHome(c *fiber.Ctx) error {
	counts, err := s.cfg.Content.Counts(c.UserContext())
	if err != nil {
		return err
	}
	d := struct {
		pageData
		Counts content.Counts
	}{s.base(c, "内容编辑"), counts}
	return s.render(c, fiber.StatusOK, "edit-home", d)
}

// option is one choice of a select or a group of radio buttons.
type option struct {
	Value, Label string
	Selected     bool
}

// categoryOptions are the categories to choose from, with current
// selected ("" selects none; a category the store does not know is
// offered too, so that an edit never drops it).
func (s *Server) categoryOptions(c *fiber.Ctx, current string) ([]option, error) {
	cats := slices.Clone(packCategories)
	list, _, err := s.cfg.Content.ListFAQ(c.UserContext(), content.FAQFilter{}, content.Page{})
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		if !slices.Contains(cats, e.Category) {
			cats = append(cats, e.Category)
		}
	}
	if current != "" && !slices.Contains(cats, current) {
		cats = append(cats, current)
	}
	out := make([]option, 0, len(cats))
	for _, cat := range cats {
		out = append(out, option{Value: cat, Label: cat, Selected: cat == current})
	}
	return out, nil
}

// statusLabels are the FAQ statuses as the pages name them.
var statusLabels = map[content.Status]string{
	content.StatusPublished: "已发布",
	content.StatusDraft:     "草稿",
}

func statusOptions(current content.Status) []option {
	var out []option
	for _, st := range []content.Status{content.StatusPublished, content.StatusDraft} {
		out = append(out, option{Value: string(st), Label: statusLabels[st], Selected: st == current})
	}
	return out
}

// faqRow is one entry of the FAQ list.
type faqRow struct {
	ID, Question, Category, Status, Updated string
	Draft                                   bool
	Similar                                 int
}

// pager is the paging of a list page: links keep the list's filters.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string // links, "" at either end
}

func newPager(base url.Values, path string, page, per, total int) pager {
	p := pager{Page: page, Total: total, Pages: max((total+per-1)/per, 1)}
	link := func(n int) string {
		v := url.Values{}
		for k, vs := range base {
			if len(vs) > 0 && vs[0] != "" {
				v.Set(k, vs[0])
			}
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if page > 1 {
		p.Prev = link(min(page-1, p.Pages))
	}
	if page < p.Pages {
		p.Next = link(page + 1)
	}
	return p
}

// queryPage reads ?page= (from 1; anything else is the first page).
func queryPage(c *fiber.Ctx) int {
	n, err := strconv.Atoi(c.Query("page"))
	if err != nil || n < 1 || n > 1_000_000 {
		return 1
	}
	return n
}

// searchText reads a list's search box: trimmed, clipped, valid UTF-8.
func searchText(c *fiber.Ctx, name string) string {
	q := strings.TrimSpace(c.Query(name))
	if !utf8.ValidString(q) {
		return ""
	}
	if r := []rune(q); len(r) > maxSearchText {
		q = string(r[:maxSearchText])
	}
	return strings.Clone(q)
}

// editFAQList answers GET /edit/faq?q=&category=&status=&page=: the
// entries whose id, question or similar phrasings contain q (ignoring
// case), drafts included, in the order they were added.
func (s *Server) editFAQList(c *fiber.Ctx) error {
	q, cat := searchText(c, "q"), searchText(c, "category")
	st := content.Status(c.Query("status"))
	if _, ok := statusLabels[st]; !ok {
		st = ""
	}
	list, _, err := s.cfg.Content.ListFAQ(c.UserContext(), content.FAQFilter{Category: cat, Status: st}, content.Page{})
	if err != nil {
		return err
	}
	needle := strings.ToLower(q)
	var rows []faqRow
	for _, e := range list {
		if needle != "" && !faqMatches(e, needle) {
			continue
		}
		rows = append(rows, faqRow{ID: string(e.ID), Question: e.Question, Category: e.Category,
			Status: statusLabels[e.Status], Draft: e.Status == content.StatusDraft,
			Updated: e.Updated.String(), Similar: len(e.Similar)})
	}
	page := queryPage(c)
	total := len(rows)
	from := min((page-1)*editPerPage, total)
	rows = rows[from:min(from+editPerPage, total)]
	cats, err := s.categoryOptions(c, cat)
	if err != nil {
		return err
	}
	d := struct {
		pageData
		Q        string
		Category []option
		Status   []option
		Rows     []faqRow
		Pager    pager
		Filtered bool
	}{
		pageData: s.base(c, "常见问题"), Q: q, Category: cats, Status: statusOptions(st), Rows: rows,
		Pager:    newPager(url.Values{"q": {q}, "category": {cat}, "status": {string(st)}}, "/edit/faq", page, editPerPage, total),
		Filtered: q != "" || cat != "" || st != "",
	}
	s.notice(c, &d.pageData)
	return s.render(c, fiber.StatusOK, "edit-faq-list", d)
}

func faqMatches(e content.FAQEntry, needle string) bool {
	if strings.Contains(strings.ToLower(string(e.ID)), needle) || strings.Contains(strings.ToLower(e.Question), needle) {
		return true
	}
	for _, s := range e.Similar {
		if strings.Contains(strings.ToLower(s), needle) {
			return true
		}
	}
	return false
}

// faqForm is the FAQ entry form as the editor filled it in: the text of
// every field, kept as typed when it is refused.
type faqForm struct {
	ID, Question, Similar, Answer, Sources, Category, Status string
	// Base is the id of the entry's newest revision when the form was
	// opened: a save over a newer one is refused (someone else saved
	// meanwhile).
	Base int64
}

func faqFormOf(e content.FAQEntry) faqForm {
	srcs := make([]string, len(e.Sources))
	for i, s := range e.Sources {
		srcs[i] = string(s)
	}
	return faqForm{ID: string(e.ID), Question: e.Question, Similar: strings.Join(e.Similar, "\n"),
		Answer: e.Answer, Sources: strings.Join(srcs, "\n"), Category: e.Category, Status: string(e.Status)}
}

// faqPage is the FAQ entry form with the entry's revisions.
type faqPage struct {
	pageData
	New       bool
	Form      faqForm
	Errors    map[string]string // by field: what is wrong, in Chinese
	Category  []option
	Status    []option
	Revisions []revisionRow
	Docs      []content.DocumentInfo // the documents a source may name
}

// revisionRow is one revision in a list.
type revisionRow struct {
	ID           int64
	Action, Note string
	Who, When    string
	Current      bool // the revision that made the item as it is now
	Deleted      bool // it deleted the item (nothing to show)
}

var actionLabels = map[content.Action]string{
	content.ActionCreate:  "新建或修改",
	content.ActionUpdate:  "修改",
	content.ActionDelete:  "删除",
	content.ActionRestore: "恢复",
}

// actorName is who made a revision, as the pages name them: a user's
// name and login name (the login name alone if the user is gone), or
// the actor as recorded (an import by the command line…).
func (s *Server) actorName(c *fiber.Ctx, actor string) string {
	id, name, ok := accounts.ParseActor(actor)
	if !ok {
		return actor
	}
	if u, err := s.cfg.Accounts.User(c.UserContext(), id); err == nil && u.Display != "" && u.Display != u.Name {
		return u.Display + "（" + name + "）"
	}
	return name
}

func (s *Server) revisionRows(c *fiber.Ctx, revs []content.Revision) []revisionRow {
	names := map[string]string{}
	out := make([]revisionRow, 0, len(revs))
	for i, r := range revs {
		label := actionLabels[r.Action]
		if r.Action == content.ActionCreate && string(r.Before) == "null" {
			label = "新建"
		} else if r.Action == content.ActionCreate {
			label = "修改"
		}
		if _, ok := names[r.Actor]; !ok {
			names[r.Actor] = s.actorName(c, r.Actor)
		}
		out = append(out, revisionRow{ID: r.ID, Action: label, Note: r.Note, Who: names[r.Actor],
			When: r.At.In(chinaTime).Format("2006-01-02 15:04:05"), Current: i == 0, Deleted: string(r.After) == "null"})
	}
	return out
}

// editFAQNew answers GET /edit/faq/new: an empty form.
func (s *Server) editFAQNew(c *fiber.Ctx) error {
	return s.faqFormPage(c, fiber.StatusOK, faqForm{Status: string(content.StatusDraft)}, nil, true)
}

// editFAQ answers GET /edit/faq/:id: the entry's form and revisions.
func (s *Server) editFAQ(c *fiber.Ctx) error {
	e, err := s.cfg.Content.FAQ(c.UserContext(), content.FAQID(strings.Clone(c.Params("id"))))
	if err != nil {
		return err
	}
	f := faqFormOf(e)
	return s.faqFormPage(c, fiber.StatusOK, f, nil, false)
}

func (s *Server) faqFormPage(c *fiber.Ctx, status int, f faqForm, errs map[string]string, isNew bool) error {
	title := "新建常见问题"
	if !isNew {
		title = "编辑常见问题 " + f.ID
	}
	d := faqPage{pageData: s.base(c, title), New: isNew, Form: f, Errors: errs, Status: statusOptions(content.Status(f.Status))}
	s.notice(c, &d.pageData)
	if len(errs) > 0 {
		d.Error = "未保存：请按提示修改标出的字段"
		if msg, ok := errs[""]; ok {
			d.Error = "未保存：" + msg
		}
	}
	var err error
	if d.Category, err = s.categoryOptions(c, f.Category); err != nil {
		return err
	}
	if d.Docs, _, err = s.cfg.Content.ListDocumentInfo(c.UserContext(), content.DocumentFilter{}, content.Page{}); err != nil {
		return err
	}
	if !isNew {
		revs, err := s.cfg.Content.Revisions(c.UserContext(), content.KindFAQ, f.ID)
		if err != nil {
			return err
		}
		d.Revisions = s.revisionRows(c, revs)
		if d.Form.Base == 0 && len(revs) > 0 {
			d.Form.Base = revs[0].ID
		}
	}
	return s.render(c, status, "edit-faq", d)
}

// formText is a form field as typed: valid UTF-8, line ends as "\n", no
// spaces at either end.
func formText(c *fiber.Ctx, name string) string {
	v := strings.ReplaceAll(c.FormValue(name), "\r\n", "\n")
	return strings.Clone(strings.TrimSpace(v))
}

// formLines are the non-empty lines of a text area, trimmed; ids may
// also be separated by commas, 、 or spaces when words is set.
func formLines(v string, words bool) []string {
	sep := func(r rune) bool { return r == '\n' }
	if words {
		sep = func(r rune) bool {
			return r == '\n' || r == ',' || r == '，' || r == '、' || r == ' ' || r == '\t' || r == '　'
		}
	}
	var out []string
	for _, l := range strings.FieldsFunc(v, sep) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// saveFAQ answers POST /edit/faq/new and POST /edit/faq/:id: the entry
// is checked field by field and stored with the user as the revision's
// actor; a refused form comes back as typed, with the reasons beside the
// fields, and nothing is stored.
func (s *Server) saveFAQ(c *fiber.Ctx) error {
	ctx := c.UserContext()
	isNew := c.Params("id") == ""
	f := faqForm{ID: formText(c, "id"), Question: formText(c, "question"), Similar: formText(c, "similar"),
		Answer: formText(c, "answer"), Sources: formText(c, "sources"), Category: formText(c, "category"),
		Status: formText(c, "status")}
	f.Base, _ = strconv.ParseInt(c.FormValue("base"), 10, 64)
	if !isNew {
		f.ID = strings.Clone(c.Params("id"))
	}
	e, errs := s.checkFAQForm(c, &f, isNew)
	if len(errs) > 0 {
		return s.faqFormPage(c, fiber.StatusUnprocessableEntity, f, errs, isNew)
	}
	actor, ok := accounts.ActorFromContext(ctx)
	if !ok {
		return errLogin
	}
	if !isNew {
		// a save that changes nothing keeps the date (and records nothing)
		if old, err := s.cfg.Content.FAQ(ctx, e.ID); err == nil {
			same := e
			same.Updated = old.Updated
			if reflect.DeepEqual(normalFAQ(same), normalFAQ(old)) {
				e = old
			}
		}
	}
	changed, err := s.cfg.Content.PutFAQ(ctx, e, actor)
	var fe *content.FieldError
	if errors.As(err, &fe) {
		return s.faqFormPage(c, fiber.StatusUnprocessableEntity, f, map[string]string{faqField(fe.Field): fe.Reason}, isNew)
	}
	if err != nil {
		return err
	}
	s.cfg.Log.Info("faq saved", "faq", e.ID, "user", actor, "changed", changed)
	done := "saved"
	switch {
	case !changed:
		done = "unchanged"
	case isNew:
		done = "created"
	}
	return c.Redirect("/edit/faq/"+url.PathEscape(string(e.ID))+"?done="+done, fiber.StatusSeeOther)
}

// normalFAQ is e with empty lists for nil ones, to compare.
func normalFAQ(e content.FAQEntry) content.FAQEntry {
	if e.Similar == nil {
		e.Similar = []string{}
	}
	if e.Sources == nil {
		e.Sources = []content.DocID{}
	}
	return e
}

// faqField is the form field of a content.FieldError's field
// ("similar[2]" is the similar text area).
func faqField(field string) string {
	name, _, _ := strings.Cut(field, "[")
	switch name {
	case "id", "question", "similar", "answer", "sources", "category", "status":
		return name
	}
	return ""
}

// checkFAQForm turns the form into an entry, or says what is wrong with
// each field.
func (s *Server) checkFAQForm(c *fiber.Ctx, f *faqForm, isNew bool) (content.FAQEntry, map[string]string) {
	ctx := c.UserContext()
	errs := map[string]string{}
	e := content.FAQEntry{ID: content.FAQID(f.ID), Question: f.Question, Answer: f.Answer,
		Category: f.Category, Status: content.Status(f.Status), Similar: formLines(f.Similar, false),
		Updated: content.DateOf(s.cfg.Now().In(chinaTime))}
	for _, src := range formLines(f.Sources, true) {
		e.Sources = append(e.Sources, content.DocID(src))
	}
	for _, v := range []string{f.ID, f.Question, f.Similar, f.Answer, f.Sources, f.Category, f.Status} {
		if !utf8.ValidString(v) {
			errs[""] = "表单含有无效的字符（不是 UTF-8 文本）"
			return e, errs
		}
	}
	if isNew {
		switch _, err := s.cfg.Content.FAQ(ctx, e.ID); {
		case err == nil:
			errs["id"] = "该编号已被使用，请换一个"
		case !errors.Is(err, content.ErrNotFound):
			errs[""] = "暂时无法检查编号，请稍后再试"
		}
	}
	if e.Question == "" {
		errs["question"] = "请填写问题"
	} else if strings.Contains(e.Question, "\n") {
		errs["question"] = "问题只能写一行"
	}
	if slices.Contains(e.Similar, e.Question) {
		errs["similar"] = "相似问法不必重复问题本身"
	}
	for i, s := range e.Similar {
		if slices.Index(e.Similar, s) < i {
			errs["similar"] = fmt.Sprintf("第 %d 行“%s”与前面重复", i+1, s)
			break
		}
	}
	if e.Answer == "" {
		errs["answer"] = "请填写标准答案"
	}
	if e.Category == "" {
		errs["category"] = "请选择分类"
	}
	if _, ok := statusLabels[e.Status]; !ok {
		errs["status"] = "请选择“已发布”或“草稿”"
	}
	if len(e.Sources) == 0 {
		errs["sources"] = "至少填写一个来源文档的编号"
	}
	var missing []string
	for _, src := range e.Sources {
		if _, err := s.cfg.Content.Document(ctx, src); errors.Is(err, content.ErrNotFound) {
			missing = append(missing, string(src))
		} else if err != nil {
			errs[""] = "暂时无法检查来源文档，请稍后再试"
		}
	}
	if len(missing) > 0 {
		errs["sources"] = "找不到这些文档：" + strings.Join(missing, "、")
	}
	if len(errs) == 0 {
		// the store's own rules (lengths, id characters…) in its words
		if err := e.Validate(); err != nil {
			var fe *content.FieldError
			if errors.As(err, &fe) {
				errs[faqField(fe.Field)] = fe.Reason
			} else {
				errs[""] = "内容无效"
			}
		}
	}
	if len(errs) == 0 && !isNew && f.Base > 0 {
		if msg := s.savedSince(c, content.KindFAQ, f.ID, &f.Base, "条目"); msg != "" {
			errs[""] = "" + msg
		}
	}
	return e, errs
}

// savedSince says why a save must be confirmed: someone saved the item
// (kind, id) after the form was opened on revision *base, or its
// revisions cannot be read ("" when neither). *base moves to the latest
// revision, so saving again overwrites. noun names the item (条目, 场次…).
func (s *Server) savedSince(c *fiber.Ctx, kind content.Kind, id string, base *int64, noun string) string {
	revs, err := s.cfg.Content.Revisions(c.UserContext(), kind, id)
	if err != nil {
		return "暂时无法读取修订记录，请稍后再试"
	}
	if len(revs) == 0 || revs[0].ID == *base {
		return ""
	}
	*base = revs[0].ID
	return fmt.Sprintf("打开本页后，%s 于 %s 保存了该%s。请先在新窗口查看其修改，再决定是否覆盖（再次保存即覆盖）",
		s.actorName(c, revs[0].Actor), revs[0].At.In(chinaTime).Format("15:04:05"), noun)
}
