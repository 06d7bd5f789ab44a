package contenttest_test

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/store/storetest"
)

// TestSampleStore: the sample pack is read whole and a sample store holds
// all of it, published.
func TestSampleStore(t *testing.T) {
	p := contenttest.SamplePack(t)
	if len(p.FAQ) != 85 || len(p.Documents) != 18 || len(p.Sessions) == 0 {
		t.Fatalf("sample pack: got %d FAQ, %d documents, %d sessions; want 85, 18, some", len(p.FAQ), len(p.Documents), len(p.Sessions))
	}
	cs := contenttest.SampleStore(t)
	c, err := cs.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.FAQ != len(p.FAQ) || c.Documents != len(p.Documents) || c.Sessions != len(p.Sessions) {
		t.Errorf("sample store counts %+v, want the pack's %d FAQ, %d documents, %d sessions", c, len(p.FAQ), len(p.Documents), len(p.Sessions))
	}
}

// TestImportWithClock: a pack read from a file system is imported by
// "test" at the time Clock reads.
func TestImportWithClock(t *testing.T) {
	cs := contenttest.NewStore(t, storetest.Open(t), contenttest.Clock())
	contenttest.Import(t, cs, contenttest.ReadPack(t, fstest.MapFS{
		"faq.jsonl":     {Data: []byte(`{"id": "faq-a", "category": "综合窗口", "question": "问题一？", "similar": [], "answer": "答案一。", "sources": ["doc-a"], "updated": "2025-06-01"}` + "\n")},
		"docs/doc-a.md": {Data: []byte("---\nid: doc-a\ntitle: 示例文档\nissuer: 示例市政务服务中心\neffective: 2025-03-01\ncategory: 综合窗口\n---\n\n第一条 示例条款。\n")},
	}))
	revs, err := cs.Revisions(context.Background(), content.KindFAQ, "faq-a")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 3, 1, 9, 0, 1, 0, time.UTC)
	if len(revs) != 1 || !revs[0].At.Equal(want) || revs[0].Actor != "test" {
		t.Fatalf("revisions of faq-a: got %+v, want one by \"test\" at %v", revs, want)
	}
}

// TestClock: every reading is one second after the one before, from
// 09:00:01, and a new Clock starts again.
func TestClock(t *testing.T) {
	now := contenttest.Clock()
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := 1; i <= 3; i++ {
		if got, want := now(), start.Add(time.Duration(i)*time.Second); !got.Equal(want) {
			t.Fatalf("reading %d: got %v, want %v", i, got, want)
		}
	}
	if got, want := contenttest.Clock()(), start.Add(time.Second); !got.Equal(want) {
		t.Errorf("a new clock's first reading: got %v, want %v", got, want)
	}
}
