package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"govlive/bot"
	"govlive/content"
	"govlive/retrieval"
)

func TestReadEval(t *testing.T) {
	const (
		good1 = `{"id": "a", "question": "食品证多久能办好", "expect": {"action": "answer", "faq": "faq-food-biz-new-time"}}`
		good2 = `{"id": "b", "question": "投诉怎么处理", "expect": {"action": "answer", "doc": "doc-complaint-supervision"}}`
	)
	tests := []struct {
		name    string
		file    string
		wantErr string // a part of the error; "" for none
		want    []bot.EvalItem
	}{
		{
			name: "good",
			file: good1 + "\n\n  \n" + good2 + "\n" +
				`{"id": "c", "question": "我的申请被退回了", "expect": {"action": "escalate", "reason": "personal_case"}}` + "\r\n" +
				`{"id": "d", "question": "明天下雨吗", "expect": {"action": "decline"}}` + "\n" +
				`  {"id": "e", "question": "废物", "expect": {"action": "moderate", "reason": "abuse"}}  `,
			want: []bot.EvalItem{
				{ID: "a", Question: "食品证多久能办好", Expect: bot.Expect{Action: bot.ActionAnswer, FAQ: "faq-food-biz-new-time"}},
				{ID: "b", Question: "投诉怎么处理", Expect: bot.Expect{Action: bot.ActionAnswer, Doc: "doc-complaint-supervision"}},
				{ID: "c", Question: "我的申请被退回了", Expect: bot.Expect{Action: bot.ActionEscalate, Reason: bot.ReasonPersonalCase}},
				{ID: "d", Question: "明天下雨吗", Expect: bot.Expect{Action: bot.ActionDecline}},
				{ID: "e", Question: "废物", Expect: bot.Expect{Action: bot.ActionModerate, Reason: bot.ReasonAbuse}},
			},
		},
		{name: "invalid json", file: good1 + "\n" + `{"id": "b", "question": "投诉怎么处理", "expect": {"action": `, wantErr: "line 2"},
		{name: "not an object", file: good1 + "\n\n" + `["b"]`, wantErr: "line 3"},
		{name: "unknown field", file: `{"id": "a", "question": "q", "expect": {"action": "decline"}, "answer": "x"}`, wantErr: "line 1"},
		{name: "unknown expect field", file: `{"id": "a", "question": "q", "expect": {"action": "decline", "score": 1}}`, wantErr: "line 1"},
		{name: "missing id", file: good1 + "\n\n" + `{"question": "营业执照怎么办", "expect": {"action": "decline"}}`, wantErr: "line 3"},
		{name: "missing question", file: `{"id": "a", "expect": {"action": "decline"}}`, wantErr: "line 1"},
		{name: "blank question", file: good1 + "\n" + `{"id": "b", "question": "  ", "expect": {"action": "decline"}}`, wantErr: "line 2"},
		{name: "duplicate id", file: good1 + "\n" + good2 + "\n" + strings.Replace(good2, `"b"`, `"a"`, 1), wantErr: `line 3: id "a" repeats line 1`},
		{name: "answer with faq and doc", file: `{"id": "a", "question": "q", "expect": {"action": "answer", "faq": "faq-x", "doc": "doc-x"}}`, wantErr: "line 1"},
		{name: "answer with neither", file: good1 + "\n" + `{"id": "b", "question": "q", "expect": {"action": "answer"}}`, wantErr: "line 2"},
		{name: "unknown action", file: `{"id": "a", "question": "q", "expect": {"action": "reply"}}`, wantErr: `line 1: unknown action "reply"`},
		{name: "no action", file: `{"id": "a", "question": "q", "expect": {}}`, wantErr: "line 1"},
		{name: "empty file", file: "", wantErr: "no questions"},
		{name: "blank lines only", file: "\n  \n\t\n", wantErr: "no questions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bot.ReadEval(strings.NewReader(tc.file))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadEval: got error %v (items %v), want one containing %q", err, got, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadEval: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ReadEval:\ngot  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// readEvalFile reads an evaluation file from testdata.
func readEvalFile(t *testing.T, name string) []bot.EvalItem {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("close %s: %v", name, err)
		}
	})
	items, err := bot.ReadEval(f)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return items
}

// TestEvaluate scores testdata/eval-small.jsonl on the sample pack. The
// file has 11 questions; what the bot and the search do with each, and so
// the figures, are:
//
//	s01 answer faq, the labelled entry ranks 1         faq item, correct action
//	s02 answer faq, the labelled entry ranks 1         faq item, correct action
//	s03 answer faq-12345; labelled faq-complaint-channels on purpose, which
//	    ranks 2                                         faq item, correct action
//	s04 answer from doc-complaint-supervision, rank 1  doc item, correct action
//	s05 escalate pii          labelled escalate        TP
//	s06 escalate urgent       labelled escalate        TP
//	s07 escalate human        labelled escalate        TP
//	s08 escalate complaint    labelled decline (wrong on purpose)  FP
//	s09 decline out of scope  labelled escalate (wrong on purpose) FN
//	s10 decline chit-chat     labelled escalate (wrong on purpose) FN
//	s11 moderate abuse        labelled moderate        correct action
//
// FAQ items 3: top-1 2/3 = 0.667, recall@3 3/3 = 1, MRR (1+1+1/2)/3 = 0.833.
// Doc items 1: hit@3 1/1 = 1.
// Actions right: s01–s07 and s11, 8/11 = 0.727.
// Escalation: TP 3, FP 1, FN 2: precision 3/4 = 0.75, recall 3/5 = 0.6.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	items := readEvalFile(t, "testdata/eval-small.jsonl")
	s := newStack(t, bot.Thresholds{})
	rep, err := bot.Evaluate(context.Background(), s.bot, s.index, items)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}

	type outcome struct {
		action           bot.Action
		reason           bot.Reason
		faqRank, docRank int
	}
	want := map[string]outcome{
		"s01": {bot.ActionAnswer, bot.ReasonFAQ, 1, 0},
		"s02": {bot.ActionAnswer, bot.ReasonFAQ, 1, 0},
		"s03": {bot.ActionAnswer, bot.ReasonFAQ, 2, 0},
		"s04": {bot.ActionAnswer, bot.ReasonDocument, 0, 1},
		"s05": {bot.ActionEscalate, bot.ReasonPII, 0, 0},
		"s06": {bot.ActionEscalate, bot.ReasonUrgent, 0, 0},
		"s07": {bot.ActionEscalate, bot.ReasonHumanRequest, 0, 0},
		"s08": {bot.ActionEscalate, bot.ReasonComplaint, 0, 0},
		"s09": {bot.ActionDecline, bot.ReasonOutOfScope, 0, 0},
		"s10": {bot.ActionDecline, bot.ReasonChitchat, 0, 0},
		"s11": {bot.ActionModerate, bot.ReasonAbuse, 0, 0},
	}
	if len(rep.Results) != len(items) {
		t.Fatalf("results: got %d, want %d", len(rep.Results), len(items))
	}
	for i, o := range rep.Results {
		if o.Item.ID != items[i].ID {
			t.Errorf("result %d: got item %s, want %s", i, o.Item.ID, items[i].ID)
			continue
		}
		w, ok := want[o.Item.ID]
		if !ok {
			t.Errorf("result for unexpected item %s", o.Item.ID)
			continue
		}
		got := outcome{o.Decision.Action, o.Decision.Reason, o.FAQRank, o.DocRank}
		if got != w {
			t.Errorf("%s %q: got %+v, want %+v", o.Item.ID, o.Item.Question, got, w)
		}
	}
	if got := rep.Results[2].Decision.FAQ; got == nil || got.ID != "faq-12345" {
		t.Errorf("s03: got answer %v, want faq-12345 (the label is wrong on purpose)", got)
	}

	figures := []struct {
		name      string
		got, want float64
	}{
		{"faq_top1", rep.FAQTop1, 0.667},
		{"faq_recall3", rep.FAQRecall3, 1},
		{"faq_mrr10", rep.FAQMRR10, 0.833},
		{"doc_hit3", rep.DocHit3, 1},
		{"action_accuracy", rep.ActionAccuracy, 0.727},
		{"escalate_precision", rep.EscalatePrecision, 0.75},
		{"escalate_recall", rep.EscalateRecall, 0.6},
		// s08 (decline) is escalated: 0/1; s11 moderated: 1/1; s05
		// escalated for pii: 1/1; s04 answered from its document: 1/1.
		{"decline_recall", rep.DeclineRecall, 0},
		{"moderate_recall", rep.ModerateRecall, 1},
		{"pii_recall", rep.PIIRecall, 1},
		{"doc_answered", rep.DocAnsweredRate, 1},
		{"clarify_rate", rep.ClarifyRate, 0},
		{"clarify_hit", rep.ClarifyHit, 0},
	}
	for _, f := range figures {
		if f.got != f.want {
			t.Errorf("%s: got %v, want %v", f.name, f.got, f.want)
		}
	}
	if rep.N != 11 || rep.FAQItems != 3 || rep.DocItems != 1 {
		t.Errorf("counts: got n %d, faq items %d, doc items %d; want 11, 3, 1", rep.N, rep.FAQItems, rep.DocItems)
	}
	if rep.Mode != "lexical" {
		t.Errorf("mode: got %q, want lexical", rep.Mode)
	}
	if rep.Baseline != nil {
		t.Errorf("baseline: got %+v, want none (Evaluate asks no baseline)", rep.Baseline)
	}
	wantConfusion := map[bot.Action]map[bot.Action]int{
		bot.ActionAnswer:   {bot.ActionAnswer: 4},
		bot.ActionEscalate: {bot.ActionEscalate: 3, bot.ActionDecline: 2},
		bot.ActionDecline:  {bot.ActionEscalate: 1},
		bot.ActionModerate: {bot.ActionModerate: 1},
	}
	if !reflect.DeepEqual(rep.Confusion, wantConfusion) {
		t.Errorf("confusion: got %v, want %v", rep.Confusion, wantConfusion)
	}
	if rep.LatencyP50ms < 0 || rep.LatencyP99ms < rep.LatencyP50ms || rep.LatencyP99ms <= 0 {
		t.Errorf("latency: got p50 %v ms, p99 %v ms, want 0 ≤ p50 ≤ p99 and p99 > 0", rep.LatencyP50ms, rep.LatencyP99ms)
	}
}

// TestReportJSON checks that a report's JSON form has exactly the fields
// of the evaluation format: "baseline" (with its three figures) only when
// a baseline was asked.
func TestReportJSON(t *testing.T) {
	fields := []string{"action_accuracy", "clarify_hit", "clarify_rate", "decline_recall", "doc_answered", "doc_hit3",
		"escalate_precision", "escalate_recall", "faq_mrr10", "faq_recall3", "faq_top1", "latency_p50_ms", "latency_p99_ms",
		"mode", "moderate_recall", "n", "pii_recall"}
	item := bot.EvalItem{ID: "a", Question: "q", Expect: bot.Expect{Action: bot.ActionAnswer, FAQ: "faq-a"}}
	for _, tc := range []struct {
		name     string
		baseline []content.FAQID
		want     []string
	}{
		{"without baseline", nil, fields},
		{"with baseline", []content.FAQID{"faq-a"}, append(slices.Clone(fields), "baseline")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := bot.Score([]bot.Answer{{Item: item, Baseline: tc.baseline}})
			b, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if got, want := slices.Sorted(maps.Keys(m)), slices.Sorted(slices.Values(tc.want)); !slices.Equal(got, want) {
				t.Errorf("JSON fields: got %v, want %v", got, want)
			}
			if tc.baseline == nil {
				return
			}
			var base map[string]float64
			if err := json.Unmarshal(m["baseline"], &base); err != nil {
				t.Fatalf("baseline: %v", err)
			}
			if want := map[string]float64{"faq_top1": 1, "faq_recall3": 1, "faq_mrr10": 1}; !maps.Equal(base, want) {
				t.Errorf("baseline: got %v, want %v", base, want)
			}
		})
	}
}

// TestScore scores hand-made answers: each case's figures follow from its
// answers as the comments count them.
func TestScore(t *testing.T) {
	faq := func(id content.FAQID) bot.Expect { return bot.Expect{Action: bot.ActionAnswer, FAQ: id} }
	doc := func(id content.DocID) bot.Expect { return bot.Expect{Action: bot.ActionAnswer, Doc: id} }
	expect := func(a bot.Action, r bot.Reason) bot.Expect { return bot.Expect{Action: a, Reason: r} }
	decided := func(a bot.Action, r bot.Reason) bot.Decision { return bot.Decision{Action: a, Reason: r} }
	answeredFAQ := func(id content.FAQID) bot.Decision {
		return bot.Decision{Action: bot.ActionAnswer, Reason: bot.ReasonFAQ, FAQ: &content.FAQEntry{ID: id}}
	}
	answeredDoc := func(id content.DocID) bot.Decision {
		return bot.Decision{Action: bot.ActionAnswer, Reason: bot.ReasonDocument, Hit: &retrieval.Hit{Chunk: &retrieval.Chunk{DocID: id}}}
	}
	searched := func(ids ...string) retrieval.Result {
		r := retrieval.Result{Mode: "lexical"}
		for _, id := range ids {
			r.FAQ = append(r.FAQ, retrieval.Hit{ID: id})
		}
		return r
	}
	ids := func(n int, last content.FAQID) []content.FAQID { // n-1 others, then last
		out := make([]content.FAQID, 0, n)
		for i := 1; i < n; i++ {
			out = append(out, content.FAQID(fmt.Sprintf("faq-other-%d", i)))
		}
		return append(out, last)
	}
	type figures struct {
		declineRecall, moderateRecall, piiRecall, docAnswered float64
		clarifyRate, clarifyHit                               float64
		top1, recall3, mrr10                                  float64
		baseline                                              *bot.Ranking
	}
	for _, tc := range []struct {
		name    string
		answers []bot.Answer
		want    figures
	}{
		{
			// Decline: 3 expected, 2 declined (2/3). Moderate: 2 expected,
			// 1 moderated (1/2). PII: 2 expected, 1 escalated for pii, 1
			// escalated as urgent (1/2); a complaint escalation and an
			// escalation decided for pii but expected as urgent count in
			// neither. No FAQ or document items: their figures are 0.
			name: "recalls",
			answers: []bot.Answer{
				{Item: bot.EvalItem{ID: "d1", Expect: expect(bot.ActionDecline, bot.ReasonOutOfScope)}, Decision: decided(bot.ActionDecline, bot.ReasonOutOfScope)},
				{Item: bot.EvalItem{ID: "d2", Expect: expect(bot.ActionDecline, bot.ReasonChitchat)}, Decision: decided(bot.ActionDecline, bot.ReasonOutOfScope)},
				{Item: bot.EvalItem{ID: "d3", Expect: expect(bot.ActionDecline, "")}, Decision: decided(bot.ActionEscalate, bot.ReasonLowConfidence)},
				{Item: bot.EvalItem{ID: "m1", Expect: expect(bot.ActionModerate, bot.ReasonSpam)}, Decision: decided(bot.ActionModerate, bot.ReasonAbuse)},
				{Item: bot.EvalItem{ID: "m2", Expect: expect(bot.ActionModerate, bot.ReasonAbuse)}, Decision: decided(bot.ActionEscalate, bot.ReasonComplaint)},
				{Item: bot.EvalItem{ID: "p1", Expect: expect(bot.ActionEscalate, bot.ReasonPII)}, Decision: decided(bot.ActionEscalate, bot.ReasonPII)},
				{Item: bot.EvalItem{ID: "p2", Expect: expect(bot.ActionEscalate, bot.ReasonPII)}, Decision: decided(bot.ActionEscalate, bot.ReasonUrgent)},
				{Item: bot.EvalItem{ID: "c1", Expect: expect(bot.ActionEscalate, bot.ReasonComplaint)}, Decision: decided(bot.ActionEscalate, bot.ReasonComplaint)},
				{Item: bot.EvalItem{ID: "u1", Expect: expect(bot.ActionEscalate, bot.ReasonUrgent)}, Decision: decided(bot.ActionEscalate, bot.ReasonPII)},
			},
			want: figures{declineRecall: 0.667, moderateRecall: 0.5, piiRecall: 0.5},
		},
		{
			// Documents: 4 expected; answered from the expected one (1),
			// from another (no), with a FAQ entry (no), declined (no): 1/4.
			name: "documents answered",
			answers: []bot.Answer{
				{Item: bot.EvalItem{ID: "x1", Expect: doc("doc-a")}, Decision: answeredDoc("doc-a")},
				{Item: bot.EvalItem{ID: "x2", Expect: doc("doc-a")}, Decision: answeredDoc("doc-b")},
				{Item: bot.EvalItem{ID: "x3", Expect: doc("doc-b")}, Decision: answeredFAQ("faq-a")},
				{Item: bot.EvalItem{ID: "x4", Expect: doc("doc-b")}, Decision: decided(bot.ActionDecline, bot.ReasonOutOfScope)},
			},
			want: figures{docAnswered: 0.25},
		},
		{
			// FAQ items 4. Search ranks: 1, 1, 2, absent: top-1 2/4,
			// recall@3 3/4, MRR (1+1+1/2)/4 = 0.625. Baseline ranks: 1,
			// 3, absent, 11th (beyond the top 10): top-1 1/4, recall@3 2/4,
			// MRR (1+1/3)/4 = 0.333.
			name: "baseline",
			answers: []bot.Answer{
				{Item: bot.EvalItem{ID: "f1", Expect: faq("faq-a")}, Decision: answeredFAQ("faq-a"), Search: searched("faq-a"), Baseline: []content.FAQID{"faq-a", "faq-b"}},
				{Item: bot.EvalItem{ID: "f2", Expect: faq("faq-b")}, Decision: answeredFAQ("faq-b"), Search: searched("faq-b", "faq-a"), Baseline: ids(3, "faq-b")},
				{Item: bot.EvalItem{ID: "f3", Expect: faq("faq-c")}, Decision: answeredFAQ("faq-a"), Search: searched("faq-a", "faq-c"), Baseline: []content.FAQID{}},
				{Item: bot.EvalItem{ID: "f4", Expect: faq("faq-d")}, Decision: answeredFAQ("faq-a"), Search: searched("faq-a"), Baseline: ids(11, "faq-d")},
			},
			want: figures{top1: 0.5, recall3: 0.75, mrr10: 0.625, baseline: &bot.Ranking{Top1: 0.25, Recall3: 0.5, MRR10: 0.333}},
		},
		{
			// One answer without a baseline ranking: no baseline figures.
			name: "baseline missing for one answer",
			answers: []bot.Answer{
				{Item: bot.EvalItem{ID: "f1", Expect: faq("faq-a")}, Decision: answeredFAQ("faq-a"), Search: searched("faq-a"), Baseline: []content.FAQID{"faq-a"}},
				{Item: bot.EvalItem{ID: "f2", Expect: faq("faq-a")}, Decision: answeredFAQ("faq-a"), Search: searched("faq-a")},
			},
			want: figures{top1: 1, recall3: 1, mrr10: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bot.Score(tc.answers)
			got := figures{r.DeclineRecall, r.ModerateRecall, r.PIIRecall, r.DocAnsweredRate,
				r.ClarifyRate, r.ClarifyHit, r.FAQTop1, r.FAQRecall3, r.FAQMRR10, r.Baseline}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v (baseline %+v)\nwant %+v (baseline %+v)", got, got.baseline, tc.want, tc.want.baseline)
			}
			if r.N != len(tc.answers) || len(r.Results) != len(tc.answers) {
				t.Errorf("got n %d and %d results, want %d", r.N, len(r.Results), len(tc.answers))
			}
		})
	}
}

// TestEvaluateIgnoresLabels runs the same questions with their labels and
// with garbage (but valid) labels: the decisions must be the same, since
// Evaluate answers before it looks at the labels.
func TestEvaluateIgnoresLabels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	items := readEvalFile(t, "testdata/eval-small.jsonl")
	garbage := []bot.Expect{
		{Action: bot.ActionModerate, Reason: bot.ReasonSpam},
		{Action: bot.ActionAnswer, Doc: "doc-does-not-exist"},
		{Action: bot.ActionAnswer, FAQ: content.FAQID("faq-live-replay")},
		{Action: bot.ActionDecline, Reason: bot.ReasonChitchat},
		{Action: bot.ActionEscalate, Reason: bot.ReasonUrgent, FAQ: "faq-weekend"},
	}
	relabelled := make([]bot.EvalItem, len(items))
	for i, it := range items {
		it.Expect = garbage[i%len(garbage)]
		relabelled[i] = it
	}
	s := newStack(t, bot.Thresholds{})
	labelled, err := bot.Evaluate(ctx, s.bot, s.index, items)
	if err != nil {
		t.Fatal(err)
	}
	garbled, err := bot.Evaluate(ctx, s.bot, s.index, relabelled)
	if err != nil {
		t.Fatal(err)
	}
	if len(labelled.Results) != len(items) || len(garbled.Results) != len(items) {
		t.Fatalf("results: got %d and %d, want %d", len(labelled.Results), len(garbled.Results), len(items))
	}
	for i := range items {
		r, f := labelled.Results[i].Decision, garbled.Results[i].Decision
		if !reflect.DeepEqual(r, f) {
			t.Errorf("%s: decision with real labels %s/%s %q, with garbage labels %s/%s %q; want the same",
				items[i].ID, r.Action, r.Reason, reply(r), f.Action, f.Reason, reply(f))
		}
		if garbled.Results[i].Item.Expect != relabelled[i].Expect {
			t.Errorf("%s: result carries label %+v, want %+v", items[i].ID, garbled.Results[i].Item.Expect, relabelled[i].Expect)
		}
	}
	// The figures follow the labels: the garbage ones score differently.
	if garbled.ActionAccuracy == labelled.ActionAccuracy && garbled.FAQTop1 == labelled.FAQTop1 {
		t.Errorf("figures: got the same with garbage labels (accuracy %v, top-1 %v)", garbled.ActionAccuracy, garbled.FAQTop1)
	}
}
