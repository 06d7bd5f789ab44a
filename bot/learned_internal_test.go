package bot

import (
	"slices"
	"testing"

	"govlive/content"
	"govlive/retrieval"
)

// questionList is Questions over a fixed list.
type questionList []string

func (q questionList) Questions() []string { return q }

// A lexicon with the examples and questions the classifier learnt from
// keeps it; a change to either trains a new one.
func TestLearnerReuse(t *testing.T) {
	n, err := retrieval.NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	qs := questionList{"食品经营许可证新办要什么材料", "证照邮寄几天到", "怎么投诉", "办公时间是几点"}
	b := &Bot{cfg: Config{Normalizer: n, Questions: qs}}
	ex := content.Examples{
		Complaint: []string{"窗口的人吼我", "工作人员一直玩手机不理人"},
		Urgent:    []string{"大厅有人晕倒了", "今天必须拿到证，明天就开业"},
	}
	learn := func(ex content.Examples) learner {
		t.Helper()
		l, err := b.learner(t.Context(), ex)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	first := learn(ex)
	if first.c == nil {
		t.Fatal("no classifier trained")
	}
	b.lex.Store(&compiled{intent: first})
	if again := learn(ex); again.c != first.c {
		t.Error("the same examples and questions trained a new classifier")
	}
	more := ex
	more.Complaint = append(slices.Clone(ex.Complaint), "态度太差了")
	if l := learn(more); l.c == first.c || l.digest == first.digest {
		t.Error("an added example kept the old classifier")
	}
	b.cfg.Questions = append(slices.Clone(qs), "周末能办事吗")
	if l := learn(ex); l.c == first.c {
		t.Error("an added question kept the old classifier")
	}
	if l := learn(content.Examples{}); l.c != nil {
		t.Error("a classifier without examples")
	}
	b.cfg.Questions = nil
	if l := learn(ex); l.c != nil {
		t.Error("a classifier without questions")
	}
}

func TestSpread(t *testing.T) {
	list := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	for _, tc := range []struct {
		n    int
		want []string
	}{
		{20, list},
		{10, list},
		{5, []string{"a", "c", "e", "g", "i"}},
		{3, []string{"a", "d", "g"}},
		{1, []string{"a"}},
	} {
		if got := spread(list, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("spread(10, %d): got %v, want %v", tc.n, got, tc.want)
		}
	}
}
