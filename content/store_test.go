package content_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"govlive/content"
)

func doc(id string) content.Document {
	return content.Document{
		ID: content.DocID(id), Title: "标题 " + id, Issuer: "示例市政务服务中心",
		Effective: content.Date{Year: 2025, Month: 3, Day: 1}, Category: "综合窗口",
		Body: "# 标题\n\n第一条 示例条款。\n",
	}
}

func faq(id string, sources ...string) content.FAQEntry {
	e := content.FAQEntry{
		ID: content.FAQID(id), Category: "综合窗口", Question: "问题 " + id + "？",
		Similar: []string{"相似问法一", "相似问法二"}, Answer: "标准答案 " + id + "。",
		Updated: content.Date{Year: 2025, Month: 6, Day: 1}, Status: content.StatusPublished,
	}
	for _, s := range sources {
		e.Sources = append(e.Sources, content.DocID(s))
	}
	return e
}

func session(id string, faqIDs []string, docIDs []string) content.Session {
	loc := time.FixedZone("CST", 8*3600)
	g := content.Segment{Title: "第一段", Points: []string{"要点"}}
	for _, f := range faqIDs {
		g.FAQ = append(g.FAQ, content.FAQID(f))
	}
	for _, d := range docIDs {
		g.Docs = append(g.Docs, content.DocID(d))
	}
	return content.Session{
		ID: content.SessionID(id), Title: "直播 " + id, Category: "综合窗口",
		Start: time.Date(2026, 3, 12, 15, 0, 0, 0, loc), End: time.Date(2026, 3, 12, 16, 0, 0, 0, loc),
		Public: true, Anchors: []content.Anchor{{Name: "王敏", Role: "业务专家"}},
		Segments: []content.Segment{g},
	}
}

// must returns v, failing the test if err is set: must(s.FAQ(ctx, id))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestCRUD(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)

	if changed := must(s.PutDocument(ctx, doc("doc-a"), "editor"))(t); !changed {
		t.Error("creating a document reported no change")
	}
	if changed := must(s.PutFAQ(ctx, faq("faq-a", "doc-a"), "editor"))(t); !changed {
		t.Error("creating a FAQ entry reported no change")
	}
	if changed := must(s.PutSession(ctx, session("s1", []string{"faq-a"}, []string{"doc-a"}), "editor"))(t); !changed {
		t.Error("creating a session reported no change")
	}

	got := must(s.FAQ(ctx, "faq-a"))(t)
	if want := faq("faq-a", "doc-a"); !reflect.DeepEqual(got, want) {
		t.Errorf("FAQ read back:\ngot  %+v\nwant %+v", got, want)
	}
	if d := must(s.Document(ctx, "doc-a"))(t); d != doc("doc-a") {
		t.Errorf("document read back: got %+v", d)
	}
	ss := must(s.Session(ctx, "s1"))(t)
	if len(ss.Segments) != 1 || ss.Segments[0].Order != 1 || ss.Segments[0].FAQ[0] != "faq-a" || ss.Segments[0].Docs[0] != "doc-a" {
		t.Errorf("session segments read back: %+v", ss.Segments)
	}
	if _, off := ss.Start.Zone(); off != 8*3600 {
		t.Errorf("session start zone offset: got %d, want %d", off, 8*3600)
	}

	// Putting the same entry again changes nothing.
	if changed := must(s.PutFAQ(ctx, faq("faq-a", "doc-a"), "editor"))(t); changed {
		t.Error("storing an equal FAQ entry reported a change")
	}
	// Update.
	e := faq("faq-a", "doc-a")
	e.Answer = "新的标准答案。"
	if changed := must(s.PutFAQ(ctx, e, "editor"))(t); !changed {
		t.Error("update reported no change")
	}
	if got := must(s.FAQ(ctx, "faq-a"))(t); got.Answer != "新的标准答案。" {
		t.Errorf("answer after update: got %q", got.Answer)
	}

	// Lists, filters and pages.
	must(s.PutFAQ(ctx, faq("faq-b", "doc-a"), "editor"))(t)
	draft := faq("faq-c", "doc-a")
	draft.Status, draft.Category = content.StatusDraft, "食品许可"
	must(s.PutFAQ(ctx, draft, "editor"))(t)
	for _, tc := range []struct {
		name   string
		filter content.FAQFilter
		page   content.Page
		ids    []content.FAQID
		total  int
	}{
		{"all", content.FAQFilter{}, content.Page{}, []content.FAQID{"faq-a", "faq-b", "faq-c"}, 3},
		{"published", content.FAQFilter{Status: content.StatusPublished}, content.Page{}, []content.FAQID{"faq-a", "faq-b"}, 2},
		{"category", content.FAQFilter{Category: "食品许可"}, content.Page{}, []content.FAQID{"faq-c"}, 1},
		{"page 2 of 2", content.FAQFilter{}, content.Page{Limit: 2, Offset: 2}, []content.FAQID{"faq-c"}, 3},
		{"past the end", content.FAQFilter{}, content.Page{Limit: 2, Offset: 10}, nil, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, total, err := s.ListFAQ(ctx, tc.filter, tc.page)
			if err != nil {
				t.Fatal(err)
			}
			var ids []content.FAQID
			for _, e := range list {
				ids = append(ids, e.ID)
			}
			if !reflect.DeepEqual(ids, tc.ids) || total != tc.total {
				t.Errorf("got %v (total %d), want %v (total %d)", ids, total, tc.ids, tc.total)
			}
		})
	}

	// Deletion respects references.
	if err := s.DeleteDocument(ctx, "doc-a", "editor"); !errors.Is(err, content.ErrInUse) {
		t.Errorf("deleting a cited document: got %v, want ErrInUse", err)
	}
	if err := s.DeleteFAQ(ctx, "faq-a", "editor"); !errors.Is(err, content.ErrInUse) {
		t.Errorf("deleting a FAQ linked from a session: got %v, want ErrInUse", err)
	}
	if err := s.DeleteSession(ctx, "s1", "editor"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFAQ(ctx, "faq-a", "editor"); err != nil {
		t.Fatalf("deleting an unlinked FAQ entry: %v", err)
	}
	if _, err := s.FAQ(ctx, "faq-a"); !errors.Is(err, content.ErrNotFound) {
		t.Errorf("read after delete: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteFAQ(ctx, "faq-a", "editor"); !errors.Is(err, content.ErrNotFound) {
		t.Errorf("second delete: got %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, "s1"); !errors.Is(err, content.ErrNotFound) {
		t.Errorf("session after delete: got %v, want ErrNotFound", err)
	}
}

func TestPutRefusesInvalid(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	must(s.PutDocument(ctx, doc("doc-a"), "editor"))(t)
	must(s.PutFAQ(ctx, faq("faq-a", "doc-a"), "editor"))(t)

	mod := func(f func(e *content.FAQEntry)) content.FAQEntry {
		e := faq("faq-new", "doc-a")
		f(&e)
		return e
	}
	for _, tc := range []struct {
		name  string
		put   func() error
		field string
	}{
		{"faq without question", func() error {
			_, err := s.PutFAQ(ctx, mod(func(e *content.FAQEntry) { e.Question = "" }), "editor")
			return err
		}, "question"},
		{"faq with bad id", func() error {
			_, err := s.PutFAQ(ctx, mod(func(e *content.FAQEntry) { e.ID = "有 空格" }), "editor")
			return err
		}, "id"},
		{"faq citing a missing document", func() error { _, err := s.PutFAQ(ctx, faq("faq-new", "doc-a", "doc-missing"), "editor"); return err }, "sources[1]"},
		{"faq without sources", func() error {
			_, err := s.PutFAQ(ctx, mod(func(e *content.FAQEntry) { e.Sources = nil }), "editor")
			return err
		}, "sources"},
		{"faq with a repeated phrasing", func() error {
			_, err := s.PutFAQ(ctx, mod(func(e *content.FAQEntry) { e.Similar = []string{"甲", "甲"} }), "editor")
			return err
		}, "similar[1]"},
		{"faq with a bad status", func() error {
			_, err := s.PutFAQ(ctx, mod(func(e *content.FAQEntry) { e.Status = "gone" }), "editor")
			return err
		}, "status"},
		{"faq with a two-line question", func() error {
			_, err := s.PutFAQ(ctx, mod(func(e *content.FAQEntry) { e.Question = "一\n二" }), "editor")
			return err
		}, "question"},
		{"faq without updated date", func() error {
			_, err := s.PutFAQ(ctx, mod(func(e *content.FAQEntry) { e.Updated = content.Date{} }), "editor")
			return err
		}, "updated"},
		{"faq without actor", func() error { _, err := s.PutFAQ(ctx, faq("faq-new", "doc-a"), ""); return err }, "actor"},
		{"document without body", func() error { d := doc("doc-b"); d.Body = ""; _, err := s.PutDocument(ctx, d, "editor"); return err }, "body"},
		{"session ending before it starts", func() error {
			ss := session("s2", nil, nil)
			ss.End = ss.Start.Add(-time.Minute)
			_, err := s.PutSession(ctx, ss, "editor")
			return err
		}, "end"},
		{"session linking a missing FAQ entry", func() error {
			_, err := s.PutSession(ctx, session("s2", []string{"faq-a", "faq-missing"}, nil), "editor")
			return err
		}, "segments[0].faq[1]"},
		{"session with two anchors of one name", func() error {
			ss := session("s2", nil, nil)
			ss.Anchors = append(ss.Anchors, ss.Anchors[0])
			_, err := s.PutSession(ctx, ss, "editor")
			return err
		}, "anchors[1].name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.put()
			var fe *content.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, content.ErrInvalid) {
				t.Fatalf("got %v, want a FieldError", err)
			}
			if fe.Field != tc.field {
				t.Errorf("field: got %q, want %q (%v)", fe.Field, tc.field, err)
			}
		})
	}
	// Nothing of the refused items was stored, and the good ones are intact.
	c := must(s.Counts(ctx))(t)
	if c != (content.Counts{FAQ: 1, Documents: 1}) {
		t.Errorf("counts after refusals: got %+v, want 1 faq, 1 document", c)
	}
	if got := must(s.FAQ(ctx, "faq-a"))(t); !reflect.DeepEqual(got, faq("faq-a", "doc-a")) {
		t.Errorf("faq-a changed: %+v", got)
	}
}

func TestRevisionsAndRestore(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	must(s.PutDocument(ctx, doc("doc-a"), "alice"))(t)
	v1 := faq("faq-a", "doc-a")
	must(s.PutFAQ(ctx, v1, "alice"))(t)
	v2 := v1
	v2.Answer = "第二版答案。"
	must(s.PutFAQ(ctx, v2, "bob"))(t)
	if err := s.DeleteFAQ(ctx, "faq-a", "carol"); err != nil {
		t.Fatal(err)
	}

	revs := must(s.Revisions(ctx, content.KindFAQ, "faq-a"))(t)
	var got []string
	for _, r := range revs {
		got = append(got, string(r.Action)+"/"+r.Actor)
	}
	if want := []string{"delete/carol", "update/bob", "create/alice"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("revisions newest first: got %v, want %v", got, want)
	}
	del, upd, cre := revs[0], revs[1], revs[2]
	if string(cre.Before) != "null" || string(del.After) != "null" {
		t.Errorf("create before = %s, delete after = %s; want null, null", cre.Before, del.After)
	}
	var before, after content.FAQEntry
	if err := json.Unmarshal(upd.Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(upd.After, &after); err != nil {
		t.Fatal(err)
	}
	if before.Answer != v1.Answer || after.Answer != v2.Answer {
		t.Errorf("update revision before/after answers: got %q/%q, want %q/%q", before.Answer, after.Answer, v1.Answer, v2.Answer)
	}
	if !upd.At.After(cre.At) || !del.At.After(upd.At) {
		t.Errorf("revision times out of order: %v %v %v", cre.At, upd.At, del.At)
	}

	// Restore the first version: the deleted entry comes back as it was.
	if err := s.Restore(ctx, cre.ID, "dave"); err != nil {
		t.Fatal(err)
	}
	if got := must(s.FAQ(ctx, "faq-a"))(t); !reflect.DeepEqual(got, v1) {
		t.Errorf("after restoring #%d: got answer %q, want %q", cre.ID, got.Answer, v1.Answer)
	}
	// Restore the second version.
	if err := s.Restore(ctx, upd.ID, "dave"); err != nil {
		t.Fatal(err)
	}
	if got := must(s.FAQ(ctx, "faq-a"))(t); got.Answer != v2.Answer {
		t.Errorf("after restoring #%d: got answer %q, want %q", upd.ID, got.Answer, v2.Answer)
	}
	// Restoring the current state again records nothing.
	n := len(must(s.Revisions(ctx, content.KindFAQ, "faq-a"))(t))
	if err := s.Restore(ctx, upd.ID, "dave"); err != nil {
		t.Fatal(err)
	}
	revs = must(s.Revisions(ctx, content.KindFAQ, "faq-a"))(t)
	if len(revs) != n {
		t.Errorf("no-op restore recorded a revision: %d → %d", n, len(revs))
	}
	if revs[0].Action != content.ActionRestore || revs[0].Actor != "dave" || !strings.Contains(revs[0].Note, "#") {
		t.Errorf("restore revision: %+v", revs[0])
	}
	// Restoring a deletion deletes.
	if err := s.Restore(ctx, del.ID, "erin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FAQ(ctx, "faq-a"); !errors.Is(err, content.ErrNotFound) {
		t.Errorf("after restoring the deletion: got %v, want ErrNotFound", err)
	}
	if err := s.Restore(ctx, 9999, "erin"); !errors.Is(err, content.ErrNotFound) {
		t.Errorf("restore of a missing revision: got %v, want ErrNotFound", err)
	}

	// Documents and sessions keep revisions too.
	d := doc("doc-a")
	d.Body += "第二条 新增条款。\n"
	must(s.PutDocument(ctx, d, "alice"))(t)
	drevs := must(s.Revisions(ctx, content.KindDocument, "doc-a"))(t)
	if len(drevs) != 2 {
		t.Fatalf("document revisions: got %d, want 2", len(drevs))
	}
	if err := s.Restore(ctx, drevs[1].ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if got := must(s.Document(ctx, "doc-a"))(t); got != doc("doc-a") {
		t.Errorf("document after restore: body %q", got.Body)
	}

	// The change feed sees every revision in order.
	feed := must(s.RevisionsSince(ctx, 0, 0))(t)
	for i := 1; i < len(feed); i++ {
		if feed[i].ID <= feed[i-1].ID {
			t.Fatalf("feed out of order at %d", i)
		}
	}
	tail := must(s.RevisionsSince(ctx, feed[len(feed)-2].ID, 10))(t)
	if len(tail) != 1 || tail[0].ID != feed[len(feed)-1].ID {
		t.Errorf("RevisionsSince the second last: got %d revisions", len(tail))
	}
}

// Readers run beside one writer: every read sees a whole entry (question
// and answer from the same version), never an error.
func TestConcurrentReadersOneWriter(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	must(s.PutDocument(ctx, doc("doc-a"), "w"))(t)
	version := func(i int) content.FAQEntry {
		e := faq("faq-a", "doc-a")
		v := string(rune('A' + i%26))
		e.Question, e.Answer = "问题"+v, "答案"+v
		e.Similar = append(e.Similar, "版本"+strings.Repeat(v, i%5+1))
		return e
	}
	must(s.PutFAQ(ctx, version(0), "w"))(t)

	const writes = 150
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(stop)
		for i := 1; i <= writes; i++ {
			if _, err := s.PutFAQ(ctx, version(i), "w"); err != nil {
				t.Errorf("write %d: %v", i, err)
				return
			}
		}
	}()
	reads := make([]int, 4)
	for r := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				e, err := s.FAQ(ctx, "faq-a")
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
				if strings.TrimPrefix(e.Question, "问题") != strings.TrimPrefix(e.Answer, "答案") {
					t.Errorf("reader %d saw a torn entry: %q / %q", r, e.Question, e.Answer)
					return
				}
				if _, _, err := s.ListFAQ(ctx, content.FAQFilter{}, content.Page{Limit: 10}); err != nil {
					t.Errorf("reader %d list: %v", r, err)
					return
				}
				reads[r]++
			}
		}()
	}
	wg.Wait()
	for r, n := range reads {
		if n == 0 {
			t.Errorf("reader %d never read while the writer ran", r)
		}
	}
	revs := must(s.Revisions(ctx, content.KindFAQ, "faq-a"))(t)
	if len(revs) != writes+1 { // each write changes the entry
		t.Errorf("revisions: got %d, want %d", len(revs), writes+1)
	}
}

// Readers of a session run beside a writer that keeps changing its
// run-sheet: every read sees one version whole (as many segments as that
// version has, each with that version's links), never an error.
func TestConcurrentSessionReads(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	must(s.PutDocument(ctx, doc("doc-a"), "w"))(t)
	for i := range 5 {
		must(s.PutFAQ(ctx, faq(fmt.Sprintf("faq-%d", i), "doc-a"), "w"))(t)
	}
	// Version v has v%5+1 segments; segment j links faq-((v+j)%5).
	version := func(v int) content.Session {
		ss := session("s", nil, nil)
		ss.Segments = nil
		for j := range v%5 + 1 {
			ss.Segments = append(ss.Segments, content.Segment{
				Title: fmt.Sprintf("v%d-%d", v, j),
				FAQ:   []content.FAQID{content.FAQID(fmt.Sprintf("faq-%d", (v+j)%5))},
				Docs:  []content.DocID{"doc-a"},
			})
		}
		return ss
	}
	// check reports what is wrong with a session read while versions change.
	check := func(ss content.Session) error {
		if len(ss.Segments) == 0 {
			return errors.New("no segments")
		}
		var v int
		if _, err := fmt.Sscanf(ss.Segments[0].Title, "v%d-", &v); err != nil {
			return fmt.Errorf("segment title %q: %v", ss.Segments[0].Title, err)
		}
		want := version(v).Segments
		if len(ss.Segments) != len(want) {
			return fmt.Errorf("version %d: got %d segments, want %d", v, len(ss.Segments), len(want))
		}
		for j, g := range ss.Segments {
			if g.Title != want[j].Title || !reflect.DeepEqual(g.FAQ, want[j].FAQ) || !reflect.DeepEqual(g.Docs, want[j].Docs) {
				return fmt.Errorf("version %d segment %d: got %q %v %v, want %q %v %v", v, j, g.Title, g.FAQ, g.Docs, want[j].Title, want[j].FAQ, want[j].Docs)
			}
		}
		return nil
	}
	must(s.PutSession(ctx, version(0), "w"))(t)

	const writes = 100
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(stop)
		for v := 1; v <= writes; v++ {
			if _, err := s.PutSession(ctx, version(v), "w"); err != nil {
				t.Errorf("write %d: %v", v, err)
				return
			}
		}
	}()
	reads := make([]int, 4)
	for r := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var got content.Session
				if r%2 == 0 {
					ss, err := s.Session(ctx, "s")
					if err != nil {
						t.Errorf("reader %d: Session: %v", r, err)
						return
					}
					got = ss
				} else {
					list, total, err := s.ListSessions(ctx, content.SessionFilter{}, content.Page{})
					if err != nil {
						t.Errorf("reader %d: ListSessions: %v", r, err)
						return
					}
					if total != 1 || len(list) != 1 {
						t.Errorf("reader %d: got %d sessions (total %d), want 1", r, len(list), total)
						return
					}
					got = list[0]
				}
				if err := check(got); err != nil {
					t.Errorf("reader %d saw a torn session: %v", r, err)
					return
				}
				reads[r]++
			}
		}()
	}
	wg.Wait()
	for r, n := range reads {
		if n == 0 {
			t.Errorf("reader %d never read while the writer ran", r)
		}
	}
}

// Session times are stored to the second, so they are checked to the
// second: a session whose start and end fall in one second is refused, and
// fractions are dropped, not kept for one read and lost on the next.
func TestSessionTimesToTheSecond(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	loc := time.FixedZone("CST", 8*3600)
	at := func(h, m, sec, ms int) time.Time { return time.Date(2026, 3, 12, h, m, sec, ms*1e6, loc) }

	ss := session("s1", nil, nil)
	ss.Start, ss.End = at(15, 0, 0, 100), at(15, 0, 0, 900)
	_, err := s.PutSession(ctx, ss, "editor")
	var fe *content.FieldError
	if !errors.As(err, &fe) || fe.Field != "end" {
		t.Fatalf("start and end in one second: got %v, want a FieldError on end", err)
	}

	ss.Start, ss.End = at(15, 0, 0, 500), at(16, 0, 0, 700)
	if changed := must(s.PutSession(ctx, ss, "editor"))(t); !changed {
		t.Fatal("creating a session reported no change")
	}
	got := must(s.Session(ctx, "s1"))(t)
	if !got.Start.Equal(at(15, 0, 0, 0)) || !got.End.Equal(at(16, 0, 0, 0)) {
		t.Errorf("stored times: got %v – %v, want 15:00:00 – 16:00:00", got.Start, got.End)
	}
	// The same session with other fractions is the same session.
	ss.Start, ss.End = at(15, 0, 0, 1), at(16, 0, 0, 999)
	if changed := must(s.PutSession(ctx, ss, "editor"))(t); changed {
		t.Error("putting the session again with other fractions of a second reported a change")
	}
	revs := must(s.Revisions(ctx, content.KindSession, "s1"))(t)
	var after content.Session
	if err := json.Unmarshal(revs[0].After, &after); err != nil {
		t.Fatal(err)
	}
	if after.Start.Nanosecond() != 0 || after.End.Nanosecond() != 0 {
		t.Errorf("revision records %v – %v, want whole seconds", after.Start, after.End)
	}
	if _, err := s.Export(ctx); err != nil {
		t.Errorf("export: %v", err)
	}
}

// An entry's sources come back in the order they were given, not in the
// order of their ids.
func TestSourcesKeepOrder(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	for _, id := range []string{"doc-a", "doc-b", "doc-c"} {
		must(s.PutDocument(ctx, doc(id), "editor"))(t)
	}
	e := faq("faq-a", "doc-c", "doc-a", "doc-b")
	must(s.PutFAQ(ctx, e, "editor"))(t)
	if got := must(s.FAQ(ctx, "faq-a"))(t); !reflect.DeepEqual(got.Sources, e.Sources) {
		t.Errorf("FAQ: got sources %v, want %v", got.Sources, e.Sources)
	}
	list, _ := must2(s.ListFAQ(ctx, content.FAQFilter{}, content.Page{}))(t)
	if len(list) != 1 || !reflect.DeepEqual(list[0].Sources, e.Sources) {
		t.Errorf("ListFAQ: got %+v, want one entry with sources %v", list, e.Sources)
	}
}

// must2 is must for calls that return two values and an error.
func must2[T, U any](v T, u U, err error) func(t *testing.T) (T, U) {
	return func(t *testing.T) (T, U) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v, u
	}
}
