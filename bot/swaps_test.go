package bot_test

import (
	"slices"
	"strings"
	"testing"

	"govlive/bot"
	"govlive/content"
	"govlive/content/contenttest"
	"govlive/retrieval"
	"govlive/retrieval/words"
)

func TestSwapper(t *testing.T) {
	seg, err := words.Load()
	if err != nil {
		t.Fatal(err)
	}
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	faqs := []content.FAQEntry{
		{ID: "a", Status: content.StatusPublished, Question: "从业资格证丢了怎么补办",
			Similar: []string{"食品經營許可證到期了怎么续", "怎么预约", "食品经营许可证和食品生产许可证收费吗"}},
		// A draft is not what the knowledge base is asked about.
		{ID: "b", Status: content.StatusDraft, Question: "结婚证怎么办"},
	}
	s := bot.NewSwapper(seg, faqs, norm.Normalize)
	pool := s.Pool()
	if len(pool) != bot.SwapPoolSize {
		t.Fatalf("pool has %d documents, want %d: %q", len(pool), bot.SwapPoolSize, pool)
	}
	for _, w := range pool {
		if !strings.HasSuffix(w, "证") && !strings.HasSuffix(w, "照") && !strings.HasSuffix(w, "卡") &&
			!strings.HasSuffix(w, "证书") && !strings.HasSuffix(w, "许可") {
			t.Errorf("pool word %q names no document", w)
		}
	}
	for _, w := range []string{"资格证书", "从业资格证", "许可证", "快照", "李清照", "斯里兰卡"} {
		if slices.Contains(pool, w) {
			t.Errorf("pool has %q, want it left out (the knowledge base's own document, or no compound document)", w)
		}
	}
	if !slices.Contains(pool, "结婚证") || !slices.Contains(pool, "营业执照") {
		t.Errorf("pool %q lacks 结婚证 or 营业执照, frequent documents the entries never name", pool)
	}

	for _, tc := range []struct {
		q    string
		want string // with pool[i] as {i}
	}{
		{"食品經營許可證到期了怎么续", "{0}到期了怎么续"},
		{"怎么预约", ""},
		{"食品经营许可证和食品生产许可证收费吗", "{1}和{2}收费吗"},
		{"从业资格证丢了怎么补办", "从业{3}丢了怎么补办"}, // 从业 is no noun: the document is 资格证
	} {
		t.Run(tc.q, func(t *testing.T) {
			got, ok := s.Swap(bot.EvalItem{ID: "x#1", Question: tc.q, Expect: bot.Expect{Action: bot.ActionAnswer, FAQ: "a"}})
			want := tc.want
			for i, w := range pool[:4] {
				want = strings.ReplaceAll(want, "{"+string(rune('0'+i))+"}", w)
			}
			if ok != (want != "") || got.Question != want {
				t.Fatalf("Swap(%q) = %q, %v; want %q", tc.q, got.Question, ok, want)
			}
			if ok && (got.ID != "x#1~swap" || got.Expect != (bot.Expect{Action: bot.ActionDecline})) {
				t.Errorf("Swap(%q): id %q, expect %+v; want x#1~swap expecting decline", tc.q, got.ID, got.Expect)
			}
		})
	}
}

// On the sample pack most documents its phrasings name are swapped, and
// no swap still names one of them.
func TestSwapperSamplePack(t *testing.T) {
	seg, err := words.Load()
	if err != nil {
		t.Fatal(err)
	}
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	pack := contenttest.SamplePack(t)
	s := bot.NewSwapper(seg, pack.FAQ, norm.Normalize)
	n := 0
	for _, f := range bot.PhrasingFolds(pack.FAQ, norm.Normalize) {
		for _, it := range f.Items {
			sw, ok := s.Swap(it)
			if !ok {
				continue
			}
			n++
			for _, kb := range []string{"许可证", "资格证", "驾驶员证", "食品证", "证照"} {
				if strings.Contains(sw.Question, kb) {
					t.Errorf("swap of %q is %q: still names %s", it.Question, sw.Question, kb)
				}
			}
		}
	}
	if n < 80 {
		t.Errorf("%d phrasings swapped, want 80 or more of the sample pack's 402", n)
	}
}
