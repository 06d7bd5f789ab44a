package baseline_test

import (
	"context"
	"slices"
	"testing"

	"govlive/content"
	"govlive/retrieval"
	"govlive/retrieval/baseline"
)

// tiny is a hand-made knowledge base of four entries on unrelated topics.
var tiny = []content.FAQEntry{
	{ID: "faq-dog", Question: "办理养犬登记证需要哪些材料", Similar: []string{"养狗要办什么证", "狗证要带什么材料"},
		Answer: "请携带户主身份证和犬只免疫证明到登记窗口办理。"},
	{ID: "faq-parking", Question: "中心有停车场吗", Similar: []string{"开车去哪里停车"},
		Answer: "大楼地下有停车场，前两小时免费。"},
	{ID: "faq-weekend", Question: "周末可以办事吗", Similar: []string{"星期六开门吗", "节假日上班吗"},
		Answer: "周六上午有延时服务窗口。"},
	{ID: "faq-fee", Question: "养犬登记收费吗", Similar: []string{"办狗证要交钱吗"},
		Answer: "养犬登记不收费，年检也不收费。"},
}

func newIndex(t *testing.T, faqs []content.FAQEntry) *baseline.Index {
	t.Helper()
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := baseline.New(faqs, norm)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := ix.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ix
}

func TestRankFAQ(t *testing.T) {
	ix := newIndex(t, tiny)
	for _, tc := range []struct {
		name     string
		question string
		k        int
		want     []content.FAQID // the ranking's head, in order
		wantLen  int             // -1: do not check
	}{
		// Every phrasing of every entry ranks its entry first.
		{name: "question", question: "中心有停车场吗", k: 10, want: []content.FAQID{"faq-parking"}, wantLen: -1},
		{name: "similar phrasing", question: "星期六开门吗", k: 10, want: []content.FAQID{"faq-weekend"}, wantLen: -1},
		{name: "similar phrasing of a close neighbour", question: "办狗证要交钱吗", k: 10, want: []content.FAQID{"faq-fee"}, wantLen: -1},
		{name: "another phrasing", question: "狗证要带什么材料", k: 10, want: []content.FAQID{"faq-dog"}, wantLen: -1},
		// Traditional characters are read as simplified ones.
		{name: "traditional", question: "開車去哪裡停車", k: 10, want: []content.FAQID{"faq-parking"}, wantLen: -1},
		// Words of the answer only still find the entry.
		{name: "answer words", question: "延时服务", k: 10, want: []content.FAQID{"faq-weekend"}, wantLen: 1},
		// 养犬登记 is in the question of two entries and the answer of one
		// of them; 收费 only in faq-fee's: it ranks first, faq-dog second.
		{name: "two entries", question: "养犬登记收费", k: 10, want: []content.FAQID{"faq-fee", "faq-dog"}, wantLen: 2},
		{name: "k limits", question: "养犬登记收费", k: 1, want: []content.FAQID{"faq-fee"}, wantLen: 1},
		{name: "nothing in common", question: "今天天气怎么样", k: 10, wantLen: 0},
		{name: "punctuation only", question: "？！", k: 10, wantLen: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ix.RankFAQ(context.Background(), tc.question, tc.k)
			if err != nil {
				t.Fatalf("RankFAQ: %v", err)
			}
			if len(got) < len(tc.want) || !slices.Equal(got[:len(tc.want)], tc.want) {
				t.Errorf("RankFAQ(%q): got %v, want it to start with %v", tc.question, got, tc.want)
			}
			if tc.wantLen >= 0 && len(got) != tc.wantLen {
				t.Errorf("RankFAQ(%q): got %d entries %v, want %d", tc.question, len(got), got, tc.wantLen)
			}
		})
	}
}

// The question field weighs three times the answer: a word in a long
// question beats the same word in a short answer of another entry (with
// equal weights the short field would win).
func TestRankFAQQuestionBoost(t *testing.T) {
	ix := newIndex(t, []content.FAQEntry{
		{ID: "faq-a", Question: "请问政务服务中心的各个窗口每天晚上几点下班呢", Answer: "下午五点。"},
		{ID: "faq-b", Question: "在哪里取号", Answer: "几点都行"},
	})
	got, err := ix.RankFAQ(context.Background(), "几点", 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []content.FAQID{"faq-a", "faq-b"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestNewNeedsNormalizer(t *testing.T) {
	if _, err := baseline.New(tiny, nil); err == nil {
		t.Error("New without a normalizer: got no error, want one")
	}
}
