package studio

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"govlive/accounts"
	"govlive/content"
)

// diffOp says whether a line of a diff is kept, removed or added.
type diffOp string

const (
	diffSame diffOp = "same"
	diffDel  diffOp = "del"
	diffAdd  diffOp = "add"
)

// diffLine is one line of a diff.
type diffLine struct {
	Op   diffOp
	Text string
}

// maxDiffCells bounds the LCS table; texts longer than that are shown as
// all removed, then all added.
const maxDiffCells = 4_000_000

// lineDiff is the line diff from a to b by their longest common
// subsequence: kept lines, and removals before additions where they
// differ.
func lineDiff(a, b []string) []diffLine {
	n, m := len(a), len(b)
	out := make([]diffLine, 0, n+m)
	if n*m > maxDiffCells {
		for _, l := range a {
			out = append(out, diffLine{diffDel, l})
		}
		for _, l := range b {
			out = append(out, diffLine{diffAdd, l})
		}
		return out
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:]
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, diffLine{diffSame, a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{diffDel, a[i]})
			i++
		default:
			out = append(out, diffLine{diffAdd, b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, diffLine{diffDel, a[i]})
	}
	for ; j < m; j++ {
		out = append(out, diffLine{diffAdd, b[j]})
	}
	return out
}

// fieldDiff is the diff of one field of an entry.
type fieldDiff struct {
	Label   string
	Lines   []diffLine
	Changed bool
}

// faqFields are an entry's fields as lines, by label; nil is no entry.
func faqFields(e *content.FAQEntry) [][2]any {
	var f faqForm
	if e != nil {
		f = faqFormOf(*e)
		f.Status = statusLabels[e.Status]
	}
	lines := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	return [][2]any{
		{"问题", lines(f.Question)},
		{"相似问法", lines(f.Similar)},
		{"标准答案", lines(f.Answer)},
		{"来源文档", lines(f.Sources)},
		{"分类", lines(f.Category)},
		{"状态", lines(f.Status)},
	}
}

// faqDiff is the diff of two states of an entry, field by field.
func faqDiff(from, to *content.FAQEntry) (out []fieldDiff, changed bool) {
	a, b := faqFields(from), faqFields(to)
	for i := range a {
		d := fieldDiff{Label: a[i][0].(string), Lines: lineDiff(a[i][1].([]string), b[i][1].([]string))}
		for _, l := range d.Lines {
			if l.Op != diffSame {
				d.Changed, changed = true, true
			}
		}
		out = append(out, d)
	}
	return out, changed
}

// faqRevisionOf is revision rev of entry id (404 for a revision of
// another item), with the entry as it left it (nil: it deleted it) and
// as it found it.
func (s *Server) faqRevisionOf(c *fiber.Ctx, id string, rev int64) (r content.Revision, after, before *content.FAQEntry, err error) {
	r, err = s.cfg.Content.Revision(c.UserContext(), rev)
	if err != nil {
		return r, nil, nil, err
	}
	if r.Kind != content.KindFAQ || r.ItemID != id {
		return r, nil, nil, fmt.Errorf("revision %d is not of faq %s: %w", rev, id, content.ErrNotFound)
	}
	decode := func(raw json.RawMessage) (*content.FAQEntry, error) {
		if string(raw) == "null" {
			return nil, nil
		}
		var e content.FAQEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("decode revision %d: %w", rev, err)
		}
		return &e, nil
	}
	if after, err = decode(r.After); err != nil {
		return r, nil, nil, err
	}
	before, err = decode(r.Before)
	return r, after, before, err
}

// faqRevision answers GET /edit/faq/:id/revisions/:rev: the changes made
// since that revision (what restoring it would undo), or with ?vs=prev
// the changes the revision itself made.
func (s *Server) faqRevision(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	rev, err := strconv.ParseInt(c.Params("rev"), 10, 64)
	if err != nil || rev <= 0 {
		return fmt.Errorf("revision %q: %w", c.Params("rev"), content.ErrNotFound)
	}
	r, after, before, err := s.faqRevisionOf(c, id, rev)
	if err != nil {
		return err
	}
	var cur *content.FAQEntry
	switch e, err := s.cfg.Content.FAQ(c.UserContext(), content.FAQID(id)); {
	case err == nil:
		cur = &e
	case !errors.Is(err, content.ErrNotFound):
		return err
	}
	rows := s.revisionRows(c, []content.Revision{r})
	d := struct {
		pageData
		ID       string
		Rev      revisionRow
		VsPrev   bool
		Fields   []fieldDiff
		Changed  bool
		Restore  bool // the revision's state differs from the current one
		SelfLink string
		PrevLink string
	}{pageData: s.base(c, fmt.Sprintf("常见问题 %s 的修订 #%d", id, rev)), ID: id, Rev: rows[0], VsPrev: c.Query("vs") == "prev"}
	if d.VsPrev {
		d.Fields, d.Changed = faqDiff(before, after)
	} else {
		d.Fields, d.Changed = faqDiff(after, cur)
	}
	_, differs := faqDiff(after, cur)
	d.Restore = differs
	base := "/edit/faq/" + url.PathEscape(id) + "/revisions/" + strconv.FormatInt(rev, 10)
	d.SelfLink, d.PrevLink = base, base+"?vs=prev"
	return s.render(c, fiber.StatusOK, "edit-faq-diff", d)
}

// restoreFAQ answers POST /edit/faq/:id/restore (field rev): the entry
// goes back to what revision rev left, recorded as a new revision by the
// user (content.Store.Restore).
func (s *Server) restoreFAQ(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	rev, err := strconv.ParseInt(c.FormValue("rev"), 10, 64)
	if err != nil || rev <= 0 {
		return s.errorPage(c, badRequest("请选择要恢复的修订"))
	}
	if _, _, _, err := s.faqRevisionOf(c, id, rev); err != nil {
		return s.errorPage(c, err)
	}
	actor, ok := accounts.ActorFromContext(c.UserContext())
	if !ok {
		return s.errorPage(c, errLogin)
	}
	if err := s.cfg.Content.Restore(c.UserContext(), rev, actor); err != nil {
		return s.errorPage(c, err)
	}
	s.cfg.Log.Info("faq restored", "faq", id, "revision", rev, "user", actor)
	if _, err := s.cfg.Content.FAQ(c.UserContext(), content.FAQID(id)); errors.Is(err, content.ErrNotFound) {
		return c.Redirect("/edit/faq?done=restored", fiber.StatusSeeOther)
	}
	return c.Redirect("/edit/faq/"+url.PathEscape(id)+"?done=restored", fiber.StatusSeeOther)
}
