// Package content is the editors' model of govlive: FAQ entries with their
// standard answers, policy documents, and live sessions with a run-sheet of
// topic segments linked to the entries and documents they cover. It stores
// them in SQLite with a revision for every change, and reads and writes
// content packs (a folder with faq.jsonl, docs/*.md and sessions/*.yaml).
package content

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// FAQID identifies a FAQ entry, such as "faq-taxi-license-materials".
type FAQID string

// DocID identifies a policy document, such as "doc-food-business-new".
type DocID string

// SessionID identifies a live session, such as "demo".
type SessionID string

// Status says whether a FAQ entry is visible to viewers and the bot.
type Status string

// The statuses of a FAQ entry.
const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
)

// FAQEntry is one standard answer with the ways viewers ask for it.
type FAQEntry struct {
	ID       FAQID    `json:"id"`
	Category string   `json:"category"`
	Question string   `json:"question"`
	Similar  []string `json:"similar"`
	Answer   string   `json:"answer"`
	Sources  []DocID  `json:"sources"`
	Updated  Date     `json:"updated"`
	Status   Status   `json:"status"`
}

// Document is a policy document or service guide, with a Markdown body.
type Document struct {
	ID        DocID  `json:"id"`
	Title     string `json:"title"`
	Issuer    string `json:"issuer"`
	Effective Date   `json:"effective"`
	Category  string `json:"category"`
	Body      string `json:"body"`
}

// Session is one livestream: its schedule, its anchors and its run-sheet.
type Session struct {
	ID       SessionID `json:"id"`
	Title    string    `json:"title"`
	Category string    `json:"category"`
	Summary  string    `json:"summary,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Public   bool      `json:"public"`
	Anchors  []Anchor  `json:"anchors"`
	Segments []Segment `json:"segments"`
}

// Anchor is one host of a session: a service expert, a presenter or an
// assisted-handling specialist.
type Anchor struct {
	Name string `json:"name"`
	Role string `json:"role,omitempty"`
}

// Segment is one topic of a session's run-sheet. Its position in
// Session.Segments is its order; Order repeats it (from 1) for readers of
// the JSON API.
type Segment struct {
	Order  int      `json:"order"`
	Title  string   `json:"title"`
	Points []string `json:"points"`
	FAQ    []FAQID  `json:"faq"`
	Docs   []DocID  `json:"docs"`
}

// Errors returned by the store and the pack reader. They are wrapped with
// context; test with errors.Is.
var (
	// ErrNotFound means no item has the requested id.
	ErrNotFound = errors.New("not found")
	// ErrInvalid means an item failed validation; the message says which field.
	ErrInvalid = errors.New("invalid content")
	// ErrInUse means an item cannot be deleted because others refer to it.
	ErrInUse = errors.New("in use")
)

// Limits on what the store accepts, so that a pasted megabyte does not end
// up in a chat reply.
const (
	maxIDLen    = 100
	maxTextLen  = 200_000 // document bodies
	maxShortLen = 500     // titles, questions, names
	maxListLen  = 200
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// FieldError says which field of an item is wrong and why. Reason is in
// Chinese because editors read it.
type FieldError struct {
	Field  string
	Reason string
}

// Error returns the field and the reason as editors read them:
// "字段 title：不能为空".
func (e *FieldError) Error() string { return fmt.Sprintf("字段 %s：%s", e.Field, e.Reason) }

// Unwrap makes every FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func checkID(field, id string) error {
	switch {
	case id == "":
		return invalid(field, "不能为空")
	case len(id) > maxIDLen:
		return invalid(field, "超过 %d 个字符", maxIDLen)
	case !idPattern.MatchString(id):
		return invalid(field, "%q 只能包含字母、数字、点、下划线和连字符，且以字母或数字开头", id)
	}
	return nil
}

func checkText(field, s string, required bool, max int) error {
	switch {
	case !utf8.ValidString(s):
		return invalid(field, "不是有效的 UTF-8 文本")
	case required && s == "":
		return invalid(field, "不能为空")
	case utf8.RuneCountInString(s) > max:
		return invalid(field, "超过 %d 个字符", max)
	}
	return nil
}

func checkList[T ~string](field string, list []T, check func(field, s string) error) error {
	if len(list) > maxListLen {
		return invalid(field, "超过 %d 项", maxListLen)
	}
	seen := make(map[T]bool, len(list))
	for i, v := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := check(f, string(v)); err != nil {
			return err
		}
		if seen[v] {
			return invalid(f, "%q 重复", v)
		}
		seen[v] = true
	}
	return nil
}

// shortText checks a one-line text: a title, a question, a name.
func shortText(field, s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return invalid(field, "不能换行")
	}
	return checkText(field, s, true, maxShortLen)
}

// Validate checks a FAQ entry on its own (that its sources exist is checked
// by the store).
func (e *FAQEntry) Validate() error {
	if err := checkID("id", string(e.ID)); err != nil {
		return err
	}
	if err := shortText("category", e.Category); err != nil {
		return err
	}
	if err := shortText("question", e.Question); err != nil {
		return err
	}
	if err := checkList("similar", e.Similar, shortText); err != nil {
		return err
	}
	if err := checkText("answer", e.Answer, true, maxTextLen); err != nil {
		return err
	}
	if len(e.Sources) == 0 {
		return invalid("sources", "至少需要一个来源文档")
	}
	if err := checkList("sources", e.Sources, checkID); err != nil {
		return err
	}
	if e.Updated.IsZero() {
		return invalid("updated", "不能为空")
	}
	switch e.Status {
	case StatusDraft, StatusPublished:
	default:
		return invalid("status", "%q 不是 draft 或 published", e.Status)
	}
	return nil
}

// Validate checks a document.
func (d *Document) Validate() error {
	if err := checkID("id", string(d.ID)); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"title", d.Title}, {"issuer", d.Issuer}, {"category", d.Category}} {
		if err := shortText(f.name, f.v); err != nil {
			return err
		}
	}
	if d.Effective.IsZero() {
		return invalid("effective", "不能为空")
	}
	return checkText("body", d.Body, true, maxTextLen)
}

// Validate checks a session on its own (that its linked entries and
// documents exist is checked by the store).
func (s *Session) Validate() error {
	if err := checkID("id", string(s.ID)); err != nil {
		return err
	}
	if err := shortText("title", s.Title); err != nil {
		return err
	}
	if err := shortText("category", s.Category); err != nil {
		return err
	}
	if err := checkText("summary", s.Summary, false, maxShortLen*4); err != nil {
		return err
	}
	if s.Start.IsZero() || s.End.IsZero() {
		return invalid("start", "开始和结束时间都不能为空")
	}
	// Compared as stored: to the second (see normalize).
	if !s.End.Truncate(time.Second).After(s.Start.Truncate(time.Second)) {
		return invalid("end", "结束时间必须晚于开始时间")
	}
	if len(s.Anchors) > maxListLen {
		return invalid("anchors", "超过 %d 项", maxListLen)
	}
	names := map[string]bool{}
	for i, a := range s.Anchors {
		f := fmt.Sprintf("anchors[%d]", i)
		if err := shortText(f+".name", a.Name); err != nil {
			return err
		}
		if names[a.Name] {
			return invalid(f+".name", "%q 重复", a.Name)
		}
		names[a.Name] = true
		if err := checkText(f+".role", a.Role, false, maxShortLen); err != nil {
			return err
		}
	}
	if len(s.Segments) > maxListLen {
		return invalid("segments", "超过 %d 项", maxListLen)
	}
	for i := range s.Segments {
		g := &s.Segments[i]
		f := fmt.Sprintf("segments[%d]", i)
		if err := shortText(f+".title", g.Title); err != nil {
			return err
		}
		if err := checkList(f+".points", g.Points, func(field, s string) error {
			return checkText(field, s, true, maxShortLen*4)
		}); err != nil {
			return err
		}
		if err := checkList(f+".faq", g.FAQ, checkID); err != nil {
			return err
		}
		if err := checkList(f+".docs", g.Docs, checkID); err != nil {
			return err
		}
	}
	return nil
}

// normalize fills in defaults so that a stored item and a freshly read one
// compare equal: nil lists become empty, the status defaults to published,
// segment orders are their positions, session times are cut to the second
// (the precision they are stored with).
func (e *FAQEntry) normalize() {
	if e.Similar == nil {
		e.Similar = []string{}
	}
	if e.Sources == nil {
		e.Sources = []DocID{}
	}
	if e.Status == "" {
		e.Status = StatusPublished
	}
}

func (s *Session) normalize() {
	s.Start, s.End = s.Start.Truncate(time.Second), s.End.Truncate(time.Second)
	if s.Anchors == nil {
		s.Anchors = []Anchor{}
	}
	if s.Segments == nil {
		s.Segments = []Segment{}
	}
	for i := range s.Segments {
		g := &s.Segments[i]
		g.Order = i + 1
		if g.Points == nil {
			g.Points = []string{}
		}
		if g.FAQ == nil {
			g.FAQ = []FAQID{}
		}
		if g.Docs == nil {
			g.Docs = []DocID{}
		}
	}
}
