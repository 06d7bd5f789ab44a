package bot_test

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"govlive/bot"
	"govlive/content"
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
// of the evaluation format.
func TestReportJSON(t *testing.T) {
	rep := bot.Report{N: 1, Confusion: map[bot.Action]map[bot.Action]int{bot.ActionAnswer: {bot.ActionAnswer: 1}},
		FAQItems: 1, Results: []bot.Outcome{{FAQRank: 1}}}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want := []string{"action_accuracy", "doc_hit3", "escalate_precision", "escalate_recall", "faq_mrr10",
		"faq_recall3", "faq_top1", "latency_p50_ms", "latency_p99_ms", "mode", "n"}
	if !slices.Equal(got, want) {
		t.Errorf("JSON fields: got %v, want %v", got, want)
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
				items[i].ID, r.Action, r.Reason, r.Reply, f.Action, f.Reason, f.Reply)
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
