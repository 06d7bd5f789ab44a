package bot_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"govlive/bot"
	"govlive/content"
	"govlive/content/contenttest"
	"govlive/retrieval"
)

// checkFolds checks what every fold of faqs must hold: each published
// similar phrasing asked exactly once (or skipped, as repeating a
// question), expecting its entry; no asked phrasing, in key form, among
// the questions and similar phrasings of the fold it is asked against;
// the other phrasings of the fold's entries as they were; faqs unchanged.
func checkFolds(t *testing.T, faqs []content.FAQEntry, key func(string) string, folds []bot.Fold) {
	t.Helper()
	before := cloneFAQ(faqs)
	type asked struct {
		faq      content.FAQID
		question string
	}
	want := map[asked]int{}
	depth := 0
	for _, e := range faqs {
		if e.Status != content.StatusPublished {
			continue
		}
		depth = max(depth, len(e.Similar))
		for _, s := range e.Similar {
			want[asked{e.ID, s}]++
		}
	}
	if len(folds) != depth {
		t.Errorf("got %d folds, want %d (the most similar phrasings of an entry)", len(folds), depth)
	}
	got := map[asked]int{}
	for k, f := range folds {
		if len(f.FAQ) != len(faqs) {
			t.Errorf("fold %d: got %d entries, want %d", k+1, len(f.FAQ), len(faqs))
			continue
		}
		inIndex := map[string]bool{}
		for _, e := range f.FAQ {
			if e.Status != content.StatusPublished {
				continue
			}
			inIndex[key(e.Question)] = true
			for _, s := range e.Similar {
				inIndex[key(s)] = true
			}
		}
		asks := map[string]bool{}
		for _, it := range f.Items {
			got[asked{it.Expect.FAQ, it.Question}]++
			asks[key(it.Question)] = true
			if it.Expect != (bot.Expect{Action: bot.ActionAnswer, FAQ: it.Expect.FAQ}) || it.Expect.FAQ == "" {
				t.Errorf("fold %d, %s: got expectation %+v, want answer with a FAQ entry", k+1, it.ID, it.Expect)
			}
			if inIndex[key(it.Question)] {
				t.Errorf("fold %d, %s: the asked phrasing %q is in the fold's index", k+1, it.ID, it.Question)
			}
		}
		for _, it := range f.Skipped {
			got[asked{it.Expect.FAQ, it.Question}]++
			asks[key(it.Question)] = true // taken out all the same
		}
		// Every phrasing that stays is one the fold does not take out.
		for i, e := range f.FAQ {
			var kept []string
			for _, s := range faqs[i].Similar {
				if !asks[key(s)] {
					kept = append(kept, s)
				}
			}
			if e.ID != faqs[i].ID || e.Question != faqs[i].Question || e.Answer != faqs[i].Answer || !slices.Equal(e.Similar, kept) {
				t.Errorf("fold %d, entry %s: got similar %q, want %q", k+1, faqs[i].ID, e.Similar, kept)
			}
		}
	}
	for a, n := range want {
		if got[a] != n {
			t.Errorf("phrasing %q of %s: asked %d times, want %d", a.question, a.faq, got[a], n)
		}
	}
	for a := range got {
		if want[a] == 0 {
			t.Errorf("asked %q for %s, which is no published similar phrasing of it", a.question, a.faq)
		}
	}
	if !reflect.DeepEqual(faqs, before) {
		t.Error("PhrasingFolds changed the entries it was given")
	}
}

func cloneFAQ(faqs []content.FAQEntry) []content.FAQEntry {
	out := slices.Clone(faqs)
	for i := range out {
		out[i].Similar = slices.Clone(out[i].Similar)
		out[i].Sources = slices.Clone(out[i].Sources)
	}
	return out
}

func TestPhrasingFolds(t *testing.T) {
	pub := content.StatusPublished
	tiny := []content.FAQEntry{
		{ID: "faq-a", Question: "甲问", Similar: []string{"甲一", "甲二", "甲三"}, Status: pub},
		{ID: "faq-b", Question: "乙问", Similar: []string{"乙一"}, Status: pub},
		{ID: "faq-c", Question: "丙问", Status: pub},
		{ID: "faq-draft", Question: "丁问", Similar: []string{"丁一", "丁二", "丁三", "丁四"}, Status: content.StatusDraft},
	}
	for _, tc := range []struct {
		name      string
		faqs      []content.FAQEntry
		key       func(string) string
		wantItems []int    // number of questions asked per fold
		wantFirst []string // the ids asked in fold 1
		skipped   int      // phrasings skipped in all
	}{
		// Three folds (faq-a has the most published phrasings); faq-b is
		// asked in fold 1 only and stays whole in folds 2 and 3; the draft
		// is never asked.
		{name: "positions", faqs: tiny, wantItems: []int{2, 1, 1}, wantFirst: []string{"faq-a#1", "faq-b#1"}},
		{name: "no similar phrasings", faqs: []content.FAQEntry{{ID: "faq-c", Question: "丙问", Status: pub}}},
		// 乙一 is also a phrasing of faq-a: taking it out of faq-b takes it
		// out of faq-a too, in fold 1 (where faq-a's first is asked too).
		{
			name: "a copy in another entry goes with it",
			faqs: []content.FAQEntry{
				{ID: "faq-a", Question: "甲问", Similar: []string{"甲一", "乙一"}, Status: pub},
				{ID: "faq-b", Question: "乙问", Similar: []string{"乙一"}, Status: pub},
			},
			wantItems: []int{2, 1}, wantFirst: []string{"faq-a#1", "faq-b#1"},
		},
		// Two phrasings with one key (the same after normalising): asking
		// one takes out both.
		{
			name: "copies by key",
			faqs: []content.FAQEntry{
				{ID: "faq-a", Question: "甲问", Similar: []string{"一网一门一次", "别的问法", "一网一门1次"}, Status: pub},
			},
			key:       normalize(t),
			wantItems: []int{1, 1, 1}, wantFirst: []string{"faq-a#1"},
		},
		// A phrasing that repeats a question cannot leave the index: it
		// is skipped, not asked.
		{
			name: "repeats a question",
			faqs: []content.FAQEntry{
				{ID: "faq-a", Question: "甲问", Similar: []string{"乙问？"}, Status: pub},
				{ID: "faq-b", Question: "乙问", Similar: []string{"乙一"}, Status: pub},
			},
			key:       normalize(t),
			wantItems: []int{1}, wantFirst: []string{"faq-b#1"}, skipped: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if key == nil {
				key = func(s string) string { return s }
			}
			folds := bot.PhrasingFolds(tc.faqs, tc.key)
			checkFolds(t, tc.faqs, key, folds)
			var items []int
			skipped := 0
			for _, f := range folds {
				items = append(items, len(f.Items))
				skipped += len(f.Skipped)
			}
			if !slices.Equal(items, tc.wantItems) {
				t.Errorf("questions per fold: got %v, want %v", items, tc.wantItems)
			}
			if skipped != tc.skipped {
				t.Errorf("skipped: got %d, want %d", skipped, tc.skipped)
			}
			if len(folds) > 0 {
				var first []string
				for _, it := range folds[0].Items {
					first = append(first, it.ID)
				}
				if !slices.Equal(first, tc.wantFirst) {
					t.Errorf("fold 1 asks %v, want %v", first, tc.wantFirst)
				}
			}
		})
	}
}

// On the sample pack, in the search's normal form: every similar phrasing
// is asked once, none is in the index it is asked against.
func TestPhrasingFoldsSample(t *testing.T) {
	p := contenttest.SamplePack(t)
	key := normalize(t)
	folds := bot.PhrasingFolds(p.FAQ, key)
	checkFolds(t, p.FAQ, key, folds)
	n, total := 0, 0
	for _, f := range folds {
		n += len(f.Items) + len(f.Skipped)
	}
	for _, e := range p.FAQ {
		total += len(e.Similar)
	}
	if n != total {
		t.Errorf("asked or skipped %d phrasings, want the pack's %d", n, total)
	}
}

func normalize(t *testing.T) func(string) string {
	t.Helper()
	n, err := retrieval.NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	return n.Normalize
}

// rankerFunc is a Ranker made of a function.
type rankerFunc func(ctx context.Context, question string, k int) ([]content.FAQID, error)

func (f rankerFunc) RankFAQ(ctx context.Context, question string, k int) ([]content.FAQID, error) {
	return f(ctx, question, k)
}

// Ask asks the baseline with the question and the depth of the rankings,
// and an answer keeps a baseline that found nothing apart from none.
func TestAskBaseline(t *testing.T) {
	t.Parallel()
	items := readEvalFile(t, "testdata/eval-small.jsonl")
	s := newStack(t, bot.Thresholds{})
	var asked []string
	base := rankerFunc(func(_ context.Context, q string, k int) ([]content.FAQID, error) {
		if k != 10 {
			return nil, fmt.Errorf("asked for %d, want 10", k)
		}
		asked = append(asked, q)
		if len(asked) == 1 {
			return nil, nil // found nothing
		}
		return []content.FAQID{"faq-complaint-channels"}, nil
	})
	answers, err := bot.Ask(context.Background(), s.bot, s.index, base, items)
	if err != nil {
		t.Fatalf("Ask: %v", err)
	}
	for i, a := range answers {
		if asked[i] != items[i].Question {
			t.Errorf("%s: baseline asked %q, want the question %q", items[i].ID, asked[i], items[i].Question)
		}
		if a.Baseline == nil {
			t.Errorf("%s: got no baseline ranking, want one (empty for the first)", items[i].ID)
		}
	}
	// s01 expects faq-food-biz-new-materials (baseline: nothing), s02 and
	// s03 faq-complaint-channels (baseline: first): top-1 2/3, MRR 2/3.
	rep := bot.Score(answers)
	if want := (bot.Ranking{Top1: 0.667, Recall3: 0.667, MRR10: 0.667}); rep.Baseline == nil || *rep.Baseline != want {
		t.Errorf("baseline: got %+v, want %+v", rep.Baseline, want)
	}
	plain, err := bot.Evaluate(context.Background(), s.bot, s.index, items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.FAQTop1 != plain.FAQTop1 || rep.ActionAccuracy != plain.ActionAccuracy {
		t.Errorf("with a baseline: top-1 %v, accuracy %v; without: %v, %v; want the same",
			rep.FAQTop1, rep.ActionAccuracy, plain.FAQTop1, plain.ActionAccuracy)
	}
}
