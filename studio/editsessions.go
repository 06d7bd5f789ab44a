package studio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"govlive/accounts"
	"govlive/content"
	"govlive/stream"
)

// TokenIssuer issues and revokes the lasting publishing tokens of a
// session's anchors (stream.Tokens): a token is shown once, when issued.
type TokenIssuer interface {
	Issue(ctx context.Context, session stream.SessionID, anchor string) (string, error)
	Revoke(ctx context.Context, session stream.SessionID, anchor string) (int, error)
	// Live counts the live tokens of each anchor of session.
	Live(ctx context.Context, session stream.SessionID) (map[string]int, error)
}

var _ TokenIssuer = (*stream.Tokens)(nil)

// maxSegments bounds the segments a session form holds.
const maxSegments = 50

// Time formats of the schedule fields (datetime-local, China time).
const (
	formMinute = "2006-01-02T15:04"
	formSecond = "2006-01-02T15:04:05"
)

// sessionRow is one session of the list.
type sessionRow struct {
	ID, Title, When   string
	Public            bool
	Anchors, Segments int
}

// editSessionList answers GET /edit/sessions: every session, by start.
func (s *Server) editSessionList(c *fiber.Ctx) error {
	list, _, err := s.cfg.Content.ListSessions(c.UserContext(), content.SessionFilter{}, content.Page{})
	if err != nil {
		return err
	}
	rows := make([]sessionRow, 0, len(list))
	for _, ss := range list {
		rows = append(rows, sessionRow{ID: string(ss.ID), Title: ss.Title, Public: ss.Public,
			When:    ss.Start.In(chinaTime).Format("2006-01-02 15:04") + " – " + ss.End.In(chinaTime).Format("15:04"),
			Anchors: len(ss.Anchors), Segments: len(ss.Segments)})
	}
	d := struct {
		pageData
		Rows []sessionRow
	}{s.base(c, "直播场次"), rows}
	s.notice(c, &d.pageData)
	return s.render(c, fiber.StatusOK, "edit-sessions", d)
}

// sessionForm is the session form as the editor filled it in.
type sessionForm struct {
	ID, Title, Category, Summary, Start, End string
	Public                                   bool
	Anchors                                  string // one a line: 姓名 or 姓名 | 角色
	Segments                                 []segmentForm
	Base                                     int64
}

// segmentForm is one segment of the form: its linked ids as chosen.
type segmentForm struct {
	Title, Points string
	FAQ, Docs     []string
}

func formTime(t time.Time) string {
	t = t.In(chinaTime)
	if t.Second() != 0 {
		return t.Format(formSecond)
	}
	return t.Format(formMinute)
}

func sessionFormOf(ss content.Session) sessionForm {
	f := sessionForm{ID: string(ss.ID), Title: ss.Title, Category: ss.Category, Summary: ss.Summary,
		Start: formTime(ss.Start), End: formTime(ss.End), Public: ss.Public}
	var anchors []string
	for _, a := range ss.Anchors {
		if a.Role != "" {
			anchors = append(anchors, a.Name+" | "+a.Role)
		} else {
			anchors = append(anchors, a.Name)
		}
	}
	f.Anchors = strings.Join(anchors, "\n")
	for _, g := range ss.Segments {
		sf := segmentForm{Title: g.Title, Points: strings.Join(g.Points, "\n")}
		for _, id := range g.FAQ {
			sf.FAQ = append(sf.FAQ, string(id))
		}
		for _, id := range g.Docs {
			sf.Docs = append(sf.Docs, string(id))
		}
		f.Segments = append(f.Segments, sf)
	}
	return f
}

// sessionPage is the session form with its revisions and the anchors'
// tokens.
type sessionPage struct {
	pageData
	New       bool
	Form      sessionForm
	Errors    map[string]string
	Category  []option
	Segments  []segmentView
	Revisions []revisionRow
	Anchors   []anchorTokens // the stored session's anchors
	Tokens    bool           // tokens can be issued here
	Token     *issuedToken
}

// segmentView is one segment of the form with its choices.
type segmentView struct {
	N, Num    int // from 0, from 1
	Title     string
	Points    string
	FAQ, Docs []option
	Error     string
}

// anchorTokens is an anchor with its count of live tokens.
type anchorTokens struct {
	Name string
	Live int
}

// issuedToken is a token just issued: shown once.
type issuedToken struct{ Anchor, Value string }

func (s *Server) editSessionNew(c *fiber.Ctx) error {
	f := sessionForm{Segments: []segmentForm{{}}}
	return s.sessionFormPage(c, fiber.StatusOK, f, nil, true, nil)
}

func (s *Server) editSession(c *fiber.Ctx) error {
	ss, err := s.cfg.Content.Session(c.UserContext(), content.SessionID(strings.Clone(c.Params("id"))))
	if err != nil {
		return err
	}
	return s.sessionFormPage(c, fiber.StatusOK, sessionFormOf(ss), nil, false, nil)
}

func (s *Server) sessionFormPage(c *fiber.Ctx, status int, f sessionForm, errs map[string]string, isNew bool, tok *issuedToken) error {
	ctx := c.UserContext()
	title := "新建直播场次"
	if !isNew {
		title = "编辑直播场次 " + f.ID
	}
	d := sessionPage{pageData: s.base(c, title), New: isNew, Form: f, Errors: errs, Token: tok, Tokens: s.cfg.Tokens != nil}
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
	faqs, _, err := s.cfg.Content.ListFAQ(ctx, content.FAQFilter{}, content.Page{})
	if err != nil {
		return err
	}
	docs, _, err := s.cfg.Content.ListDocumentInfo(ctx, content.DocumentFilter{}, content.Page{})
	if err != nil {
		return err
	}
	for i, g := range f.Segments {
		v := segmentView{N: i, Num: i + 1, Title: g.Title, Points: g.Points, Error: errs["seg"+strconv.Itoa(i)]}
		for _, e := range faqs {
			label := e.Question
			if e.Status == content.StatusDraft {
				label += "（草稿）"
			}
			v.FAQ = append(v.FAQ, option{Value: string(e.ID), Label: label, Selected: slices.Contains(g.FAQ, string(e.ID))})
		}
		for _, doc := range docs {
			v.Docs = append(v.Docs, option{Value: string(doc.ID), Label: doc.Title, Selected: slices.Contains(g.Docs, string(doc.ID))})
		}
		chosenFirst(v.FAQ, g.FAQ)
		chosenFirst(v.Docs, g.Docs)
		d.Segments = append(d.Segments, v)
	}
	if !isNew {
		revs, err := s.cfg.Content.Revisions(ctx, content.KindSession, f.ID)
		if err != nil {
			return err
		}
		d.Revisions = s.revisionRows(c, revs)
		if d.Form.Base == 0 && len(revs) > 0 {
			d.Form.Base = revs[0].ID
		}
		if stored, err := s.cfg.Content.Session(ctx, content.SessionID(f.ID)); err == nil {
			live := map[string]int{}
			if s.cfg.Tokens != nil {
				if live, err = s.cfg.Tokens.Live(ctx, stream.SessionID(stored.ID)); err != nil {
					return err
				}
			}
			for _, a := range stored.Anchors {
				d.Anchors = append(d.Anchors, anchorTokens{Name: a.Name, Live: live[a.Name]})
			}
		}
	}
	return s.render(c, status, "edit-session", d)
}

// postValues are every value of a urlencoded form field (a multiple
// select), copied.
func postValues(c *fiber.Ctx, name string) []string {
	var out []string
	for _, b := range c.Request().PostArgs().PeekMulti(name) {
		if v := strings.TrimSpace(string(b)); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// readSessionForm reads the posted form; segments marked for removal are
// left out.
func readSessionForm(c *fiber.Ctx) sessionForm {
	f := sessionForm{ID: formText(c, "id"), Title: formText(c, "title"), Category: formText(c, "category"),
		Summary: formText(c, "summary"), Start: formText(c, "start"), End: formText(c, "end"),
		Public: c.FormValue("public") == "on", Anchors: formText(c, "anchors")}
	f.Base, _ = strconv.ParseInt(c.FormValue("base"), 10, 64)
	n, _ := strconv.Atoi(c.FormValue("segments"))
	for i := range min(max(n, 0), maxSegments) {
		p := "seg-" + strconv.Itoa(i) + "-"
		if c.FormValue(p+"remove") == "on" {
			continue
		}
		f.Segments = append(f.Segments, segmentForm{Title: formText(c, p+"title"), Points: formText(c, p+"points"),
			FAQ: postValues(c, p+"faq"), Docs: postValues(c, p+"docs")})
	}
	return f
}

// saveSession answers POST /edit/sessions/new and /edit/sessions/:id.
// With op=add the form comes back with one more segment and nothing is
// stored; otherwise the session is checked and stored with the user as
// the revision's actor, or the form comes back as typed with the reasons.
func (s *Server) saveSession(c *fiber.Ctx) error {
	ctx := c.UserContext()
	isNew := c.Params("id") == ""
	f := readSessionForm(c)
	if !isNew {
		f.ID = strings.Clone(c.Params("id"))
	}
	if c.FormValue("op") == "add" {
		if len(f.Segments) < maxSegments {
			f.Segments = append(f.Segments, segmentForm{})
		}
		return s.sessionFormPage(c, fiber.StatusOK, f, nil, isNew, nil)
	}
	ss, errs := s.checkSessionForm(c, &f, isNew)
	if len(errs) > 0 {
		return s.sessionFormPage(c, fiber.StatusUnprocessableEntity, f, errs, isNew, nil)
	}
	actor, ok := accounts.ActorFromContext(ctx)
	if !ok {
		return errLogin
	}
	changed, err := s.cfg.Content.PutSession(ctx, ss, actor)
	var fe *content.FieldError
	if errors.As(err, &fe) {
		return s.sessionFormPage(c, fiber.StatusUnprocessableEntity, f, map[string]string{sessionField(fe.Field): fe.Reason}, isNew, nil)
	}
	if err != nil {
		return err
	}
	s.cfg.Log.Info("session saved", "session", ss.ID, "user", actor, "changed", changed)
	done := "saved"
	switch {
	case !changed:
		done = "unchanged"
	case isNew:
		done = "created"
	}
	return c.Redirect("/edit/sessions/"+url.PathEscape(string(ss.ID))+"?done="+done, fiber.StatusSeeOther)
}

// sessionField is the form field of a content.FieldError's field
// ("segments[2].faq[0]" is segment 2's).
func sessionField(field string) string {
	name, rest, _ := strings.Cut(field, "[")
	switch name {
	case "id", "title", "category", "summary", "start", "end", "anchors":
		return name
	case "segments":
		if n, _, ok := strings.Cut(rest, "]"); ok {
			if _, err := strconv.Atoi(n); err == nil {
				return "seg" + n
			}
		}
	}
	return ""
}

// parseFormTime reads a schedule field (China time).
func parseFormTime(v string) (time.Time, bool) {
	for _, layout := range []string{formMinute, formSecond} {
		if t, err := time.ParseInLocation(layout, v, chinaTime); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// checkSessionForm turns the form into a session, or says what is wrong
// with each field.
func (s *Server) checkSessionForm(c *fiber.Ctx, f *sessionForm, isNew bool) (content.Session, map[string]string) {
	ctx := c.UserContext()
	errs := map[string]string{}
	ss := content.Session{ID: content.SessionID(f.ID), Title: f.Title, Category: f.Category, Summary: f.Summary, Public: f.Public}
	texts := []string{f.ID, f.Title, f.Category, f.Summary, f.Start, f.End, f.Anchors}
	for _, g := range f.Segments {
		texts = append(texts, g.Title, g.Points)
		texts = append(texts, g.FAQ...)
		texts = append(texts, g.Docs...)
	}
	for _, v := range texts {
		if !utf8.ValidString(v) {
			errs[""] = "表单含有无效的字符（不是 UTF-8 文本）"
			return ss, errs
		}
	}
	if isNew {
		switch _, err := s.cfg.Content.Session(ctx, ss.ID); {
		case f.ID == "":
			errs["id"] = "请填写编号"
		case err == nil:
			errs["id"] = "该编号已被使用，请换一个"
		case !errors.Is(err, content.ErrNotFound):
			errs[""] = "暂时无法检查编号，请稍后再试"
		}
	}
	if ss.Title == "" {
		errs["title"] = "请填写标题"
	} else if strings.Contains(ss.Title, "\n") {
		errs["title"] = "标题只能写一行"
	}
	if ss.Category == "" {
		errs["category"] = "请选择分类"
	}
	var ok bool
	if ss.Start, ok = parseFormTime(f.Start); !ok {
		errs["start"] = "请填写开始时间（北京时间）"
	}
	if ss.End, ok = parseFormTime(f.End); !ok {
		errs["end"] = "请填写结束时间（北京时间）"
	} else if errs["start"] == "" && !ss.End.After(ss.Start) {
		errs["end"] = "结束时间必须晚于开始时间"
	}
	names := map[string]bool{}
	for i, l := range formLines(f.Anchors, false) {
		name, role, _ := strings.Cut(strings.ReplaceAll(l, "｜", "|"), "|")
		a := content.Anchor{Name: strings.TrimSpace(name), Role: strings.TrimSpace(role)}
		switch {
		case a.Name == "":
			errs["anchors"] = fmt.Sprintf("第 %d 行缺少姓名", i+1)
		case names[a.Name]:
			errs["anchors"] = fmt.Sprintf("第 %d 行“%s”与前面重复", i+1, a.Name)
		case strings.ContainsAny(a.Name, "/\\"):
			errs["anchors"] = fmt.Sprintf("第 %d 行：姓名不能含有 / 或 \\", i+1)
		}
		names[a.Name] = true
		ss.Anchors = append(ss.Anchors, a)
	}
	faqOK := map[string]bool{}
	docOK := map[string]bool{}
	for i, g := range f.Segments {
		key := "seg" + strconv.Itoa(i)
		seg := content.Segment{Title: g.Title, Points: formLines(g.Points, false)}
		if seg.Title == "" {
			errs[key] = "请填写环节标题（不要的环节请勾选“删除该环节”）"
		}
		var missing []string
		for _, id := range g.FAQ {
			if _, seen := faqOK[id]; !seen {
				_, err := s.cfg.Content.FAQ(ctx, content.FAQID(id))
				if err != nil && !errors.Is(err, content.ErrNotFound) {
					errs[""] = "暂时无法检查常见问题，请稍后再试"
				}
				faqOK[id] = err == nil
			}
			if !faqOK[id] {
				missing = append(missing, "常见问题 "+id)
			}
			seg.FAQ = append(seg.FAQ, content.FAQID(id))
		}
		for _, id := range g.Docs {
			if _, seen := docOK[id]; !seen {
				_, err := s.cfg.Content.Document(ctx, content.DocID(id))
				if err != nil && !errors.Is(err, content.ErrNotFound) {
					errs[""] = "暂时无法检查文档，请稍后再试"
				}
				docOK[id] = err == nil
			}
			if !docOK[id] {
				missing = append(missing, "文档 "+id)
			}
			seg.Docs = append(seg.Docs, content.DocID(id))
		}
		if len(missing) > 0 {
			errs[key] = "找不到这些链接：" + strings.Join(missing, "、")
		}
		ss.Segments = append(ss.Segments, seg)
	}
	if len(errs) == 0 {
		if err := ss.Validate(); err != nil {
			var fe *content.FieldError
			if errors.As(err, &fe) {
				errs[sessionField(fe.Field)] = fe.Reason
			} else {
				errs[""] = "内容无效"
			}
		}
	}
	if len(errs) == 0 && !isNew && f.Base > 0 {
		if msg := s.savedSince(c, content.KindSession, f.ID, &f.Base, "场次"); msg != "" {
			errs[""] = "" + msg
		}
	}
	return ss, errs
}

// sessionToken answers POST /edit/sessions/:id/tokens (fields anchor, op
// issue or revoke): an issued token is shown once on the page that
// answers; revoking revokes every live token of the anchor.
func (s *Server) sessionToken(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if s.cfg.Tokens == nil {
		return badRequest("本服务未配置推流令牌")
	}
	ss, err := s.cfg.Content.Session(ctx, content.SessionID(strings.Clone(c.Params("id"))))
	if err != nil {
		return err
	}
	anchor := formText(c, "anchor")
	if !slices.ContainsFunc(ss.Anchors, func(a content.Anchor) bool { return a.Name == anchor }) {
		return badRequest("该场次没有这位主播")
	}
	actor, _ := accounts.ActorFromContext(ctx)
	switch c.FormValue("op") {
	case "issue":
		tok, err := s.cfg.Tokens.Issue(ctx, stream.SessionID(ss.ID), anchor)
		if err != nil {
			return err
		}
		s.cfg.Log.Info("publishing token issued", "session", ss.ID, "anchor", anchor, "user", actor)
		return s.sessionFormPage(c, fiber.StatusOK, sessionFormOf(ss), nil, false, &issuedToken{Anchor: anchor, Value: tok})
	case "revoke":
		n, err := s.cfg.Tokens.Revoke(ctx, stream.SessionID(ss.ID), anchor)
		if err != nil {
			return err
		}
		s.cfg.Log.Info("publishing tokens revoked", "session", ss.ID, "anchor", anchor, "user", actor, "tokens", n)
		return c.Redirect("/edit/sessions/"+url.PathEscape(string(ss.ID))+"?done=revoked", fiber.StatusSeeOther)
	}
	return badRequest("请选择签发或吊销")
}

// sessionRevisions are the sessions' revisions.
func (s *Server) sessionRevisions() revisioned {
	return revisioned{kind: content.KindSession, path: "/edit/sessions/", noun: "直播场次",
		fields: func(raw json.RawMessage) ([]field, error) {
			return decodeItem(raw, func(ss *content.Session) []field {
				var f sessionForm
				var segs []string
				public := ""
				if ss != nil {
					f = sessionFormOf(*ss)
					public = "不公开（彩排）"
					if ss.Public {
						public = "公开"
					}
					for i, g := range f.Segments {
						segs = append(segs, fmt.Sprintf("%d. %s", i+1, g.Title))
						for _, p := range textLines(g.Points) {
							segs = append(segs, "   要点："+p)
						}
						if len(g.FAQ) > 0 {
							segs = append(segs, "   常见问题："+strings.Join(g.FAQ, "、"))
						}
						if len(g.Docs) > 0 {
							segs = append(segs, "   文档："+strings.Join(g.Docs, "、"))
						}
					}
				}
				return []field{{"标题", textLines(f.Title)}, {"分类", textLines(f.Category)}, {"简介", textLines(f.Summary)},
					{"开始时间", textLines(f.Start)}, {"结束时间", textLines(f.End)}, {"公开", textLines(public)},
					{"主播", textLines(f.Anchors)}, {"环节", segs}}
			})
		},
		current: func(c *fiber.Ctx, id string) (json.RawMessage, error) {
			return currentItem(func() (content.Session, error) { return s.cfg.Content.Session(c.UserContext(), content.SessionID(id)) })
		},
	}
}

// chosenFirst puts the selected options first, in the order chosen
// lists them (the segment's order of its links), then the others in
// their order.
func chosenFirst(opts []option, chosen []string) {
	slices.SortStableFunc(opts, func(a, b option) int {
		switch {
		case a.Selected && b.Selected:
			return slices.Index(chosen, a.Value) - slices.Index(chosen, b.Value)
		case a.Selected == b.Selected:
			return 0
		case a.Selected:
			return -1
		}
		return 1
	})
}
