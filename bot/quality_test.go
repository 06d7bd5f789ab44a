package bot_test

import (
	"context"
	"os"
	"testing"

	"govlive/bot"
)

// The team's own validation sets (written from the knowledge base and the
// labelling conventions, not from any evaluation set) guard the answer
// quality against regressions: questions-team-a.jsonl asks for FAQ entries
// and passages, questions-team-b.jsonl for escalations, declines,
// moderation and how-to questions that look like cases. The floors sit a
// little under the figures measured when the sets were written.
func TestQualityFloors(t *testing.T) {
	s := newStack(t, bot.Thresholds{})
	for _, tc := range []struct {
		file  string
		check func(r bot.Report) []string
	}{
		{"testdata/questions-team-a.jsonl", func(r bot.Report) (bad []string) {
			if r.FAQTop1 < 0.75 {
				bad = append(bad, "faq_top1")
			}
			if r.FAQRecall3 < 0.85 {
				bad = append(bad, "faq_recall3")
			}
			if r.DocHit3 < 0.9 {
				bad = append(bad, "doc_hit3")
			}
			if r.ActionAccuracy < 0.9 {
				bad = append(bad, "action_accuracy")
			}
			return bad
		}},
		{"testdata/questions-team-b.jsonl", func(r bot.Report) (bad []string) {
			if r.ActionAccuracy < 0.85 {
				bad = append(bad, "action_accuracy")
			}
			if r.EscalatePrecision < 0.9 || r.EscalateRecall < 0.9 {
				bad = append(bad, "escalation")
			}
			return bad
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			items, err := bot.ReadEval(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := bot.Evaluate(context.Background(), s.bot, s.index, items)
			if err != nil {
				t.Fatal(err)
			}
			if bad := tc.check(r); len(bad) > 0 {
				t.Errorf("below the floor on %v: faq_top1 %.3f, faq_recall3 %.3f, doc_hit3 %.3f, action_accuracy %.3f, escalate precision %.3f / recall %.3f",
					bad, r.FAQTop1, r.FAQRecall3, r.DocHit3, r.ActionAccuracy, r.EscalatePrecision, r.EscalateRecall)
			}
		})
	}
}
