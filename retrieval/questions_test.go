package retrieval_test

import (
	"slices"
	"testing"

	"govlive/content"
)

// Questions lists the published entries' phrasings and follows changes.
func TestQuestions(t *testing.T) {
	ix, cs := openSampleIndex(t)
	qs := ix.Questions()
	if st := ix.Stats(); len(qs) != st.Phrasings {
		t.Errorf("%d questions, want the index's %d phrasings", len(qs), st.Phrasings)
	}
	if !slices.Equal(qs, ix.Questions()) {
		t.Error("two calls gave different lists")
	}
	if slices.Contains(qs, "养狗需要办理什么登记？") {
		t.Fatal("the dog entry is there before it is added")
	}
	putFAQ(t, cs, dogEntry(dogAnswerV1, content.StatusDraft))
	mustSync(t, ix)
	if slices.Contains(ix.Questions(), "养狗需要办理什么登记？") {
		t.Error("a draft's question is listed")
	}
	e := dogEntry(dogAnswerV1, content.StatusPublished)
	putFAQ(t, cs, e)
	mustSync(t, ix)
	got := ix.Questions()
	i := slices.Index(got, e.Question)
	if i < 0 || i+1 >= len(got) || got[i+1] != e.Similar[0] {
		t.Errorf("the published entry's question and similar phrasing are not listed together: %d", i)
	}
}
