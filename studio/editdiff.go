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
	diffSkip diffOp = "skip" // unchanged lines left out; Text says how many
)

// diffContext is how many unchanged lines a diff shows around a change.
const diffContext = 2

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

// collapse leaves out the unchanged lines further than diffContext from
// a change (a long document with one changed line shows that line).
func collapse(lines []diffLine) []diffLine {
	near := make([]bool, len(lines))
	for i, l := range lines {
		if l.Op == diffSame {
			continue
		}
		for j := max(i-diffContext, 0); j <= min(i+diffContext, len(lines)-1); j++ {
			near[j] = true
		}
	}
	var out []diffLine
	for i := 0; i < len(lines); {
		if lines[i].Op != diffSame || near[i] {
			out = append(out, lines[i])
			i++
			continue
		}
		j := i
		for j < len(lines) && lines[j].Op == diffSame && !near[j] {
			j++
		}
		if j-i == 1 {
			out = append(out, lines[i])
		} else {
			out = append(out, diffLine{diffSkip, fmt.Sprintf("（省略 %d 行未改动的内容）", j-i)})
		}
		i = j
	}
	return out
}

// fieldDiff is the diff of one field of an item.
type fieldDiff struct {
	Label   string
	Lines   []diffLine
	Changed bool
}

// field is one field of an item as lines, for a diff.
type field struct {
	label string
	lines []string
}

// textLines are the lines of a field's text; none for "".
func textLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// revisioned is a kind of item whose revisions the pages show and
// restore.
type revisioned struct {
	kind content.Kind
	path string // the item's edit page is path + id
	noun string // the item as the pages name it
	// fields reads an item as a revision holds it (JSON; "null" is no
	// item) into its fields, always the same ones in the same order.
	fields func(raw json.RawMessage) ([]field, error)
	// current is the item as it is now, as JSON ("null": there is none).
	current func(c *fiber.Ctx, id string) (json.RawMessage, error)
	// itemID is the revisions' item id of the id in the URL (nil: the
	// same; a lexicon file's page names lexicon/NAME by NAME).
	itemID func(id string) string
}

func decodeItem[T any](raw json.RawMessage, fields func(*T) []field) ([]field, error) {
	var v *T
	if string(raw) != "null" {
		v = new(T)
		if err := json.Unmarshal(raw, v); err != nil {
			return nil, fmt.Errorf("decode revision: %w", err)
		}
	}
	return fields(v), nil
}

func currentItem[T any](get func() (T, error)) (json.RawMessage, error) {
	v, err := get()
	if errors.Is(err, content.ErrNotFound) {
		return json.RawMessage("null"), nil
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// faqRevisions are the FAQ entries' revisions.
func (s *Server) faqRevisions() revisioned {
	return revisioned{kind: content.KindFAQ, path: "/edit/faq/", noun: "常见问题",
		fields: func(raw json.RawMessage) ([]field, error) {
			return decodeItem(raw, func(e *content.FAQEntry) []field {
				var f faqForm
				if e != nil {
					f = faqFormOf(*e)
					f.Status = statusLabels[e.Status]
				}
				return []field{{"问题", textLines(f.Question)}, {"相似问法", textLines(f.Similar)},
					{"标准答案", textLines(f.Answer)}, {"来源文档", textLines(f.Sources)},
					{"分类", textLines(f.Category)}, {"状态", textLines(f.Status)}}
			})
		},
		current: func(c *fiber.Ctx, id string) (json.RawMessage, error) {
			return currentItem(func() (content.FAQEntry, error) { return s.cfg.Content.FAQ(c.UserContext(), content.FAQID(id)) })
		},
	}
}

// docRevisions are the documents' revisions.
func (s *Server) docRevisions() revisioned {
	return revisioned{kind: content.KindDocument, path: "/edit/docs/", noun: "政策文件",
		fields: func(raw json.RawMessage) ([]field, error) {
			return decodeItem(raw, func(d *content.Document) []field {
				var f docForm
				if d != nil {
					f = docFormOf(*d)
				}
				return []field{{"标题", textLines(f.Title)}, {"发布机关", textLines(f.Issuer)},
					{"施行日期", textLines(f.Effective)}, {"分类", textLines(f.Category)}, {"正文", textLines(f.Body)}}
			})
		},
		current: func(c *fiber.Ctx, id string) (json.RawMessage, error) {
			return currentItem(func() (content.Document, error) { return s.cfg.Content.Document(c.UserContext(), content.DocID(id)) })
		},
	}
}

// itemDiff is the diff of two states of an item, field by field.
func itemDiff(a, b []field) (out []fieldDiff, changed bool) {
	for i := range a {
		d := fieldDiff{Label: a[i].label, Lines: collapse(lineDiff(a[i].lines, b[i].lines))}
		for _, l := range d.Lines {
			if l.Op != diffSame && l.Op != diffSkip {
				d.Changed, changed = true, true
			}
		}
		out = append(out, d)
	}
	return out, changed
}

// revisionOf is revision :rev of item id (404 for a revision of another
// item).
func (s *Server) revisionOf(c *fiber.Ctx, rk revisioned, id, rev string) (content.Revision, error) {
	n, err := strconv.ParseInt(rev, 10, 64)
	if err != nil || n <= 0 {
		return content.Revision{}, fmt.Errorf("revision %q: %w", rev, content.ErrNotFound)
	}
	r, err := s.cfg.Content.Revision(c.UserContext(), n)
	if err != nil {
		return r, err
	}
	want := id
	if rk.itemID != nil {
		want = rk.itemID(id)
	}
	if r.Kind != rk.kind || r.ItemID != want {
		return r, fmt.Errorf("revision %d is not of %s %s: %w", n, rk.kind, id, content.ErrNotFound)
	}
	return r, nil
}

// revisionPage answers GET PATH/:id/revisions/:rev: the changes made
// since that revision (what restoring it would undo), or with ?vs=prev
// the changes the revision itself made.
func (s *Server) revisionPage(rk revisioned) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := strings.Clone(c.Params("id"))
		r, err := s.revisionOf(c, rk, id, c.Params("rev"))
		if err != nil {
			return err
		}
		cur, err := rk.current(c, id)
		if err != nil {
			return err
		}
		var before, after, now []field
		for _, x := range []struct {
			raw json.RawMessage
			out *[]field
		}{{r.Before, &before}, {r.After, &after}, {cur, &now}} {
			if *x.out, err = rk.fields(x.raw); err != nil {
				return fmt.Errorf("revision %d: %w", r.ID, err)
			}
		}
		d := struct {
			pageData
			ID, Noun   string
			Item, List string // the item's edit page, the list of its kind
			Rev        revisionRow
			VsPrev     bool
			Fields     []fieldDiff
			Changed    bool
			Restore    bool // the revision's state differs from the current one
			SelfLink   string
			PrevLink   string
		}{pageData: s.base(c, fmt.Sprintf("%s %s 的修订 #%d", rk.noun, id, r.ID)), ID: id, Noun: rk.noun,
			Item: rk.path + url.PathEscape(id), List: strings.TrimSuffix(rk.path, "/"), Rev: s.revisionRows(c, []content.Revision{r})[0], VsPrev: c.Query("vs") == "prev"}
		if d.VsPrev {
			d.Fields, d.Changed = itemDiff(before, after)
		} else {
			d.Fields, d.Changed = itemDiff(after, now)
		}
		_, d.Restore = itemDiff(after, now)
		d.SelfLink = d.Item + "/revisions/" + strconv.FormatInt(r.ID, 10)
		d.PrevLink = d.SelfLink + "?vs=prev"
		return s.render(c, fiber.StatusOK, "edit-diff", d)
	}
}

// restoreItem answers POST PATH/:id/restore (field rev): the item goes
// back to what revision rev left, recorded as a new revision by the user
// (content.Store.Restore).
func (s *Server) restoreItem(rk revisioned) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := strings.Clone(c.Params("id"))
		if c.FormValue("rev") == "" {
			return badRequest("请选择要恢复的修订")
		}
		r, err := s.revisionOf(c, rk, id, c.FormValue("rev"))
		if err != nil {
			return err
		}
		actor, ok := accounts.ActorFromContext(c.UserContext())
		if !ok {
			return errLogin
		}
		if err := s.cfg.Content.Restore(c.UserContext(), r.ID, actor); err != nil {
			return err
		}
		s.cfg.Log.Info("restored", "kind", rk.kind, "item", id, "revision", r.ID, "user", actor)
		if string(r.After) == "null" {
			return c.Redirect(strings.TrimSuffix(rk.path, "/")+"?done=restored", fiber.StatusSeeOther)
		}
		return c.Redirect(rk.path+url.PathEscape(id)+"?done=restored", fiber.StatusSeeOther)
	}
}
