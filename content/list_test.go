package content_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/store/storetest"
)

// TestListPagesAndCounts: pages of a filtered list are the right window,
// and the totals follow every change — made through this store, or by
// another process on the same database file (the version moves with it).
func TestListPagesAndCounts(t *testing.T) {
	ctx := context.Background()
	s, path := newStore(t)
	must(s.PutDocument(ctx, doc("doc-a"), "test"))(t)
	for i := range 25 {
		e := faq(fmt.Sprintf("faq-%02d", i), "doc-a")
		if i%5 == 0 {
			e.Status = content.StatusDraft
		}
		if i%2 == 0 {
			e.Category = "出租车"
		}
		must(s.PutFAQ(ctx, e, "test"))(t)
	}
	type want struct {
		total int
		ids   []string
	}
	check := func(t *testing.T, f content.FAQFilter, p content.Page, w want) {
		t.Helper()
		list, total := must2(s.ListFAQ(ctx, f, p))(t)
		var ids []string
		for _, e := range list {
			ids = append(ids, string(e.ID))
		}
		if total != w.total || fmt.Sprint(ids) != fmt.Sprint(w.ids) {
			t.Errorf("ListFAQ(%+v, %+v): total %d %v, want %d %v", f, p, total, ids, w.total, w.ids)
		}
	}
	pub := content.FAQFilter{Status: content.StatusPublished}
	check(t, pub, content.Page{Limit: 3, Offset: 0}, want{20, []string{"faq-01", "faq-02", "faq-03"}})
	check(t, pub, content.Page{Limit: 3, Offset: 18}, want{20, []string{"faq-23", "faq-24"}})
	check(t, content.FAQFilter{Status: content.StatusPublished, Category: "出租车"}, content.Page{Limit: 2, Offset: 1},
		want{10, []string{"faq-04", "faq-06"}})
	check(t, content.FAQFilter{}, content.Page{Limit: 1, Offset: 24}, want{25, []string{"faq-24"}})

	v0 := must(s.Version(ctx))(t)
	must(s.PutFAQ(ctx, faq("faq-new", "doc-a"), "test"))(t)
	if v := must(s.Version(ctx))(t); v <= v0 {
		t.Errorf("Version after a change: %d, want more than %d", v, v0)
	}
	check(t, pub, content.Page{Limit: 1, Offset: 20}, want{21, []string{"faq-new"}})
	if err := s.DeleteFAQ(ctx, "faq-01", "test"); err != nil {
		t.Fatal(err)
	}
	check(t, pub, content.Page{Limit: 1}, want{20, []string{"faq-02"}})

	// Another process writes the same file.
	s2 := otherProcess(t, path)
	must(s2.PutFAQ(ctx, faq("faq-other", "doc-a"), "other"))(t)
	check(t, pub, content.Page{Limit: 1, Offset: 20}, want{21, []string{"faq-other"}})

	docs, total := must2(s.ListDocumentInfo(ctx, content.DocumentFilter{}, content.Page{}))(t)
	if total != 1 || len(docs) != 1 || docs[0].BodyChars != len([]rune(doc("doc-a").Body)) {
		t.Errorf("ListDocumentInfo: %d %+v, want doc-a with its body's length in characters", total, docs)
	}
}

// TestVersionFollowsWrites: a write through the store changes Version at
// once; a write by another process on the same file within a second.
func TestVersionFollowsWrites(t *testing.T) {
	ctx := context.Background()
	s, path := newStore(t)
	must(s.PutDocument(ctx, doc("doc-a"), "test"))(t)
	v1 := must(s.Version(ctx))(t)
	must(s.PutFAQ(ctx, faq("faq-a", "doc-a"), "test"))(t)
	v2 := must(s.Version(ctx))(t)
	if v2 <= v1 {
		t.Fatalf("Version after a write through the store: %d, want more than %d", v2, v1)
	}
	s2 := otherProcess(t, path)
	must(s2.PutFAQ(ctx, faq("faq-b", "doc-a"), "other"))(t)
	deadline := time.Now().Add(time.Second + 200*time.Millisecond)
	for must(s.Version(ctx))(t) == v2 {
		if time.Now().After(deadline) {
			t.Fatal("a write by another store on the same file did not change Version within a second")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// otherProcess is a second store on the database file at path, as another
// process would open it (its own pools, its own caches).
func otherProcess(t *testing.T, path string) *content.Store {
	t.Helper()
	return contenttest.NewStore(t, storetest.OpenAt(t, path), time.Now)
}
