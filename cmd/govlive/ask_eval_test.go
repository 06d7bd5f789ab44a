package main

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/logtest"
	"govlive/retrieval/openai/openaitest"
)

// Questions of the tests below, and the sample FAQ entry each must find.
const (
	qFoodMaterials  = "开饭店第一次办食品证要带哪些材料"
	idFoodMaterials = "faq-food-biz-new-materials"
	qWeekend        = "周末能去中心办事吗"
	idWeekend       = "faq-weekend"
	qFoodTime       = "食品证要多久能拿到" // linked from the demo session's first segment
	idFoodTime      = "faq-food-biz-new-time"

	// fakeID is a made-up resident ID number (valid birth date, wrong
	// check digit) and fakeIDMasked the form the bot shows instead.
	fakeID       = "110101199003071234"
	fakeIDMasked = "110101********1234"
	qPII         = "我的身份证号是" + fakeID + "，帮我查下进度"
	qSpam        = "兼职刷单日赚三百私聊我"

	lexicalLine = "检索模式：仅关键词检索"
	hybridLine  = "检索模式：关键词 + 向量混合检索"
	secretKey   = "sk-secret-123"
)

// sampleData writes the built-in sample pack to a folder, imports it with
// "govlive import" into a new data folder and returns that folder.
func sampleData(t *testing.T) string {
	t.Helper()
	pack := filepath.Join(t.TempDir(), "pack")
	if err := content.WritePack(pack, contenttest.SamplePack(t)); err != nil {
		t.Fatalf("write sample pack: %v", err)
	}
	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, err := runCmd(t, "import", "--data", data, pack); err != nil {
		t.Fatalf("import the sample pack: %v\n%s", err, stderr)
	}
	return data
}

// runEnv calls run with args and exactly the variables of env, and returns
// what it printed.
func runEnv(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut logtest.Buffer
	err = run(t.Context(), args, envFunc(env), &out, &errOut)
	return out.String(), errOut.String(), err
}

// faqEntry returns the sample pack's entry id.
func faqEntry(t *testing.T, p *content.Pack, id content.FAQID) content.FAQEntry {
	t.Helper()
	for _, e := range p.FAQ {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("sample pack has no FAQ entry %s", id)
	return content.FAQEntry{}
}

// hitLine is one numbered hit of ask's text output.
type hitLine struct {
	id      string // FAQ id, or the citation of a passage
	inScope bool
	text    string
}

var hitRE = regexp.MustCompile(`^  \d+\. (\S+)`)

// printedHits returns the hits listed under the heading ("FAQ 命中：" or
// "文档命中：") of ask's text output.
func printedHits(stdout, heading string) []hitLine {
	var hits []hitLine
	in := false
	for _, l := range strings.Split(stdout, "\n") {
		switch {
		case l == "FAQ 命中：" || l == "文档命中：":
			in = l == heading
		case in:
			if m := hitRE.FindStringSubmatch(l); m != nil {
				hits = append(hits, hitLine{id: m[1], inScope: strings.HasSuffix(l, "[本环节]"), text: l})
			}
		}
	}
	return hits
}

func hitIDs(hits []hitLine) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	return ids
}

func TestAsk(t *testing.T) {
	data := sampleData(t)
	p := contenttest.SamplePack(t)
	for _, tc := range []struct {
		name      string
		question  string
		want      []string // substrings of stdout
		wantNot   []string // must not be in stdout
		wantFirst string   // first FAQ hit, if not ""
	}{
		{
			name:     "faq",
			question: qFoodMaterials,
			want: []string{lexicalLine, "决定：answer  原因：faq", faqEntry(t, p, idFoodMaterials).Answer,
				"来源：《食品经营许可（新办）办事指南》"},
			wantFirst: idFoodMaterials,
		},
		{
			name:     "personal data",
			question: qPII,
			want:     []string{lexicalLine, "决定：escalate  原因：pii", "已遮盖为：我的身份证号是" + fakeIDMasked},
			wantNot:  []string{fakeID, "决定：answer"},
		},
		{
			name:     "complaint told as a story",
			question: "窗口那个阿姨一直玩手机不理我",
			want:     []string{lexicalLine, "决定：escalate  原因：complaint", "例句分类：complaint（概率 0."},
			wantNot:  []string{"命中提示词："},
		},
		{
			name:     "spam",
			question: qSpam,
			want:     []string{lexicalLine, "决定：moderate  原因：spam", "命中提示词：", "回复：（不回复，评论隐藏）"},
			wantNot:  []string{"决定：answer", "来源："},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runCmd(t, "ask", "--data", data, tc.question)
			if err != nil {
				t.Fatalf("ask: got error %v, want nil; stderr:\n%s", err, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(stdout, w) {
					t.Errorf("stdout contains %q, want it absent:\n%s", w, stdout)
				}
			}
			hits := printedHits(stdout, "FAQ 命中：")
			if tc.wantFirst != "" && (len(hits) == 0 || hits[0].id != tc.wantFirst) {
				t.Errorf("got FAQ hits %v, want %s first", hitIDs(hits), tc.wantFirst)
			}
			if strings.Contains(stderr, fakeID) {
				t.Errorf("stderr contains the ID number %s:\n%s", fakeID, stderr)
			}
		})
	}

	t.Run("flags after the question", func(t *testing.T) {
		before, _, err := runCmd(t, "ask", "--data", data, "--json", qWeekend)
		if err != nil {
			t.Fatal(err)
		}
		after, _, err := runCmd(t, "ask", qWeekend, "--data", data, "--json")
		if err != nil {
			t.Fatal(err)
		}
		// (scores may differ in their last bits: sums over maps)
		var a, b struct{ Action, Reason, Reply string }
		if err := json.Unmarshal([]byte(after), &a); err != nil {
			t.Fatalf("ask QUESTION --data D --json printed %q: %v", after, err)
		}
		if err := json.Unmarshal([]byte(before), &b); err != nil {
			t.Fatal(err)
		}
		if a != b || a.Action == "" {
			t.Errorf("ask QUESTION --data D --json decided %+v, want what ask --data D --json QUESTION decides: %+v", a, b)
		}
		if _, _, err := runCmd(t, "ask", "--data", data, "--", "--json"); err != nil {
			t.Errorf("ask -- --json (a question that looks like a flag): %v", err)
		}
	})

	t.Run("json", func(t *testing.T) {
		stdout, stderr, err := runCmd(t, "ask", "--data", data, "--json", qWeekend)
		if err != nil {
			t.Fatalf("ask --json: got error %v, want nil; stderr:\n%s", err, stderr)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(stdout), &fields); err != nil {
			t.Fatalf("ask --json: stdout is not one JSON object: %v\n%s", err, stdout)
		}
		for _, k := range []string{"action", "reason", "reply", "confidence", "mode", "search"} {
			if _, ok := fields[k]; !ok {
				t.Errorf("JSON lacks field %q: %s", k, stdout)
			}
		}
		var d struct {
			Action     string  `json:"action"`
			Reason     string  `json:"reason"`
			Reply      string  `json:"reply"`
			Confidence float64 `json:"confidence"`
			Mode       string  `json:"mode"`
			Search     struct {
				Mode string `json:"mode"`
				FAQ  []struct {
					ID         string  `json:"id"`
					Confidence float64 `json:"confidence"`
				} `json:"faq"`
			} `json:"search"`
		}
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatalf("decode %s: %v", stdout, err)
		}
		if d.Action != "answer" || d.Reason != "faq" || d.Mode != "lexical" || d.Search.Mode != "lexical" {
			t.Errorf("got action %q, reason %q, mode %q, search.mode %q; want answer, faq, lexical, lexical",
				d.Action, d.Reason, d.Mode, d.Search.Mode)
		}
		if len(d.Search.FAQ) == 0 || d.Search.FAQ[0].ID != idWeekend {
			t.Fatalf("got search.faq %+v, want %s first", d.Search.FAQ, idWeekend)
		}
		if d.Confidence <= 0 || d.Confidence > 1 || d.Confidence != d.Search.FAQ[0].Confidence {
			t.Errorf("got confidence %v, want the first hit's %v, in (0,1]", d.Confidence, d.Search.FAQ[0].Confidence)
		}
		if want := faqEntry(t, p, idWeekend).Answer; !strings.HasPrefix(d.Reply, want) {
			t.Errorf("got reply %q, want it to start with the standard answer %q", d.Reply, want)
		}
	})

	t.Run("json hides personal data", func(t *testing.T) {
		stdout, _, err := runCmd(t, "ask", "--data", data, "--json", qPII)
		if err != nil {
			t.Fatalf("ask --json: got error %v, want nil", err)
		}
		if strings.Contains(stdout, fakeID) {
			t.Errorf("stdout contains the ID number %s:\n%s", fakeID, stdout)
		}
	})

	t.Run("segment scope", func(t *testing.T) {
		var seg content.Segment
		for _, s := range p.Sessions {
			if s.ID == "demo" {
				seg = s.Segments[0]
			}
		}
		if !containsID(seg.FAQ, idFoodTime) {
			t.Fatalf("demo's first segment links %v, want it to link %s", seg.FAQ, idFoodTime)
		}
		titles := map[string]bool{} // citations of the segment's documents start with 《title》
		for _, d := range p.Documents {
			if containsID(seg.Docs, d.ID) {
				titles["《"+d.Title+"》"] = true
			}
		}

		stdout, stderr, err := runCmd(t, "ask", "--data", data, "--session", "demo", "--segment", "1", qFoodTime)
		if err != nil {
			t.Fatalf("ask: got error %v, want nil; stderr:\n%s", err, stderr)
		}
		faq := printedHits(stdout, "FAQ 命中：")
		if len(faq) == 0 || faq[0].id != idFoodTime || !faq[0].inScope {
			t.Fatalf("got FAQ hits %v, want %s first and marked [本环节]:\n%s", hitIDs(faq), idFoodTime, stdout)
		}
		for _, h := range faq {
			if want := containsID(seg.FAQ, content.FAQID(h.id)); h.inScope != want {
				t.Errorf("FAQ hit %s: got [本环节] %v, want %v", h.id, h.inScope, want)
			}
		}
		docs := printedHits(stdout, "文档命中：")
		if len(docs) == 0 {
			t.Fatalf("got no document hits, want the segment's passages:\n%s", stdout)
		}
		for _, h := range docs {
			title, _, _ := strings.Cut(h.id, "》")
			if want := titles[title+"》"]; h.inScope != want {
				t.Errorf("document hit %s: got [本环节] %v, want %v", h.id, h.inScope, want)
			}
		}

		// Without a session nothing is in scope.
		stdout, _, err = runCmd(t, "ask", "--data", data, qFoodTime)
		if err != nil {
			t.Fatalf("ask without a session: %v", err)
		}
		if strings.Contains(stdout, "[本环节]") {
			t.Errorf("without --session: stdout marks hits [本环节]:\n%s", stdout)
		}
	})
}

func TestAskErrors(t *testing.T) {
	data := sampleData(t)
	for _, tc := range []struct {
		name     string
		args     []string // "{data}" is replaced by a data folder; "{new}" by one that must stay uncreated
		usage    bool
		wantText string
	}{
		{"no question", []string{"ask", "--data", "{new}"}, true, "want a question"},
		{"blank question", []string{"ask", "--data", "{new}", "  "}, true, "want a question"},
		{"segment without session", []string{"ask", "--data", "{new}", "--segment", "2", qWeekend}, true, "--segment needs --session"},
		{"negative segment", []string{"ask", "--data", "{new}", "--session", "demo", "--segment", "-1", qWeekend}, true, "--segment needs --session"},
		{"unknown flag", []string{"ask", "--data", "{new}", "--kb", "x", qWeekend}, true, "-kb"},
		{"unknown session", []string{"ask", "--data", "{data}", "--session", "no-such-session", qWeekend}, false, `"no-such-session"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			unmade := filepath.Join(t.TempDir(), "data")
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.NewReplacer("{data}", data, "{new}", unmade).Replace(a)
			}
			stdout, _, err := runCmd(t, args...)
			if err == nil {
				t.Fatalf("got no error, want one containing %q; stdout:\n%s", tc.wantText, stdout)
			}
			if got := errors.As(err, new(usageError)); got != tc.usage {
				t.Errorf("got error %v (usage error %v), want usage error %v", err, got, tc.usage)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("got error %q, want it to contain %q", err, tc.wantText)
			}
			if strings.Contains(stdout, "决定：") {
				t.Errorf("got a decision on stdout, want none:\n%s", stdout)
			}
			if _, err := os.Stat(unmade); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("unused data folder: got stat error %v, want it not created", err)
			}
		})
	}
	t.Run("unknown session is not found", func(t *testing.T) {
		_, _, err := runCmd(t, "ask", "--data", data, "--session", "no-such-session", qWeekend)
		if !errors.Is(err, content.ErrNotFound) {
			t.Errorf("got error %v, want content.ErrNotFound", err)
		}
	})
}

// evalReportKeys are the fields of eval --json, exactly (README, bot.Report);
// eval --kb-folds adds "folds" and "swaps" (the same fields over the
// swapped phrasings).
var evalReportKeys = []string{"action_accuracy", "baseline", "clarify_hit", "clarify_rate", "decline_recall",
	"doc_answered", "doc_hit3", "escalate_precision", "escalate_recall", "faq_mrr10", "faq_recall3", "faq_top1",
	"latency_p50_ms", "latency_p99_ms", "mode", "moderate_recall", "n", "pii_recall"}

// baselineKeys are the fields of "baseline" in eval --json.
var baselineKeys = []string{"faq_mrr10", "faq_recall3", "faq_top1"}

// evalJSON runs "govlive eval --json" with extra arguments and returns the
// one JSON object it printed, by field, after checking the field set.
func evalJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	stdout, stderr, err := runCmd(t, append([]string{"eval", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("eval --json: got error %v, want nil; stderr:\n%s", err, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	var rep map[string]any
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("eval --json: stdout is not JSON: %v\n%s", err, stdout)
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		t.Fatalf("eval --json: got more than one JSON value (%v):\n%s", err, stdout)
	}
	want := evalReportKeys
	if slices.Contains(args, "--kb-folds") {
		want = slices.Sorted(slices.Values(append(slices.Clone(want), "folds", "swaps")))
	}
	if keys := slices.Sorted(maps.Keys(rep)); !reflect.DeepEqual(keys, want) {
		t.Errorf("got keys %q, want exactly %q", keys, want)
	}
	base, _ := rep["baseline"].(map[string]any)
	if keys := slices.Sorted(maps.Keys(base)); !reflect.DeepEqual(keys, baselineKeys) {
		t.Errorf("baseline: got keys %q, want exactly %q", keys, baselineKeys)
	}
	return rep
}

func TestEval(t *testing.T) {
	const mini = "testdata/eval-mini.jsonl"

	t.Run("json", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		rep := evalJSON(t, "--data", data, mini)
		// eval-mini.jsonl: three questions expecting a FAQ entry, all found
		// first (top-1 3/3, recall@3 3/3, MRR (1+1+1)/3); none expecting a
		// document (doc hit@3 is 0 over 0 items); every action right (6/6);
		// one expected and one decided escalation, the same item
		// (precision 1/1, recall 1/1).
		// One expected decline, declined; one expected moderation,
		// moderated; no expected escalation for personal data, no
		// document question; the bot never asks back (yet).
		want := map[string]any{
			"n": 6.0, "faq_top1": 1.0, "faq_recall3": 1.0, "faq_mrr10": 1.0, "doc_hit3": 0.0,
			"action_accuracy": 1.0, "escalate_precision": 1.0, "escalate_recall": 1.0, "mode": "lexical",
			"decline_recall": 1.0, "moderate_recall": 1.0, "pii_recall": 0.0, "doc_answered": 0.0,
			"clarify_rate": 0.0, "clarify_hit": 0.0,
		}
		for k, w := range want {
			if rep[k] != w {
				t.Errorf("%s: got %v, want %v", k, rep[k], w)
			}
		}
		for k, v := range rep["baseline"].(map[string]any) {
			if f, ok := v.(float64); !ok || f < 0 || f > 1 {
				t.Errorf("baseline %s: got %v, want a share in [0,1]", k, v)
			}
		}
		p50, _ := rep["latency_p50_ms"].(float64)
		p99, _ := rep["latency_p99_ms"].(float64)
		if p50 <= 0 || p99 < p50 || math.IsInf(p99, 0) {
			t.Errorf("got latency p50 %v ms, p99 %v ms; want 0 < p50 <= p99", rep["latency_p50_ms"], rep["latency_p99_ms"])
		}
		if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("--data folder: got stat error %v, want eval not to create it", err)
		}
	})

	t.Run("text", func(t *testing.T) {
		stdout, stderr, err := runCmd(t, "eval", "--verbose", mini)
		if err != nil {
			t.Fatalf("eval: got error %v, want nil; stderr:\n%s", err, stderr)
		}
		for _, w := range []string{
			lexicalLine,
			"questions           6 (FAQ 3, document 0)\n",
			"action accuracy     1.000\n",
			"decline recall      1.000 (1/1)\n",
			"moderate recall     1.000 (1/1)\n",
			"pii recall          0.000 (0/0)\n",
			"document answered   0.000\n",
			"clarify rate / hit  0.000 / 0.000 (0 asked back)\n",
			"confusion (rows: expected, columns: decided)\n",
		} {
			if !strings.Contains(stdout, w) {
				t.Errorf("stdout lacks %q:\n%s", w, stdout)
			}
		}
		// Each ranking figure with the baseline's and the lift, which is
		// the difference of the two.
		for _, name := range []string{"FAQ top-1", "FAQ recall@3", "FAQ MRR@10"} {
			re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` +1\.000  \(BM25 ([01]\.\d{3}), ([+-]\d\.\d{3})\)$`)
			m := re.FindStringSubmatch(stdout)
			if m == nil {
				t.Errorf("stdout has no line matching %s:\n%s", re, stdout)
				continue
			}
			base, _ := strconv.ParseFloat(m[1], 64)
			lift, _ := strconv.ParseFloat(m[2], 64)
			if math.Abs(1-base-lift) > 1e-9 {
				t.Errorf("%s: got BM25 %s and lift %s, want a lift of 1 - %s", name, m[1], m[2], m[1])
			}
		}
		// The diagonal of the confusion matrix: 3 answers, 1 of each other.
		for _, row := range []string{
			`(?m)^answer +3 +0 +0 +0$`,
			`(?m)^escalate +0 +1 +0 +0$`,
			`(?m)^decline +0 +0 +1 +0$`,
			`(?m)^moderate +0 +0 +0 +1$`,
		} {
			if !regexp.MustCompile(row).MatchString(stdout) {
				t.Errorf("stdout has no confusion row matching %s:\n%s", row, stdout)
			}
		}
		if _, after, ok := strings.Cut(stdout, "\nwrong:\n"); !ok || strings.TrimSpace(after) != "" {
			t.Errorf("--verbose: got %q after the report, want a \"wrong:\" heading and no items", after)
		}
	})

	t.Run("verbose lists a wrong item", func(t *testing.T) {
		// A FAQ question labelled as one to decline: the bot answers it.
		file := writeEval(t, `{"id": "mislabelled", "question": "`+qWeekend+`", "expect": {"action": "decline"}}`)
		stdout, _, err := runCmd(t, "eval", "--verbose", file)
		if err != nil {
			t.Fatalf("eval: %v", err)
		}
		want := `mislabelled "` + qWeekend + `": expected decline , decided answer (faq)`
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	})
}

// writeEval writes lines as an evaluation file and returns its path.
func writeEval(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "eval.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testdata/kb-mini is a pack of two FAQ entries on dog licences, one
// document, and an intents.yaml whose only cue is the spam cue 猫粮批发;
// the sample pack has none of them.
func TestEvalKnowledgeBase(t *testing.T) {
	const kb = "testdata/kb-mini"
	dog := writeEval(t, `{"id": "dog", "question": "养狗需要准备什么材料", "expect": {"action": "answer", "faq": "faq-dog-license-materials"}}`)
	spam := writeEval(t, `{"id": "cat-food", "question": "便宜猫粮批发看我主页", "expect": {"action": "moderate", "reason": "spam"}}`)
	for _, tc := range []struct {
		name string
		args []string
		want map[string]any
	}{
		// One item expecting a FAQ entry of the pack: found first, by the
		// baseline too (it shares 养狗, 需要, 什么, 材料 with the entry and
		// nothing with the other one).
		{"faq of the pack", []string{"--kb", kb, dog}, map[string]any{"n": 1.0, "faq_top1": 1.0, "faq_mrr10": 1.0,
			"baseline": map[string]any{"faq_top1": 1.0, "faq_recall3": 1.0, "faq_mrr10": 1.0}}},
		// The sample pack does not have the entry: neither finds it.
		{"faq without --kb", []string{dog}, map[string]any{"n": 1.0, "faq_top1": 0.0, "faq_mrr10": 0.0,
			"baseline": map[string]any{"faq_top1": 0.0, "faq_recall3": 0.0, "faq_mrr10": 0.0}}},
		// The pack's own spam cue hides the message: 1 of 1 right.
		{"cue of the pack", []string{"--kb", kb, spam}, map[string]any{"n": 1.0, "action_accuracy": 1.0}},
		{"cue without --kb", []string{spam}, map[string]any{"n": 1.0, "action_accuracy": 0.0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := evalJSON(t, tc.args...)
			for k, w := range tc.want {
				if !reflect.DeepEqual(rep[k], w) {
					t.Errorf("%s: got %v, want %v", k, rep[k], w)
				}
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	good := `{"id": "a", "question": "` + qWeekend + `", "expect": {"action": "answer", "faq": "` + idWeekend + `"}}`
	badLine2 := writeEval(t, good, `{"id": "b", "question": `)
	badKB := t.TempDir() // a folder without a pack
	for _, tc := range []struct {
		name     string
		args     []string
		usage    bool
		wantErr  error // matched with errors.Is when not nil
		wantText string
	}{
		{name: "invalid JSON on line 2", args: []string{badLine2}, wantText: "line 2"},
		{name: "missing file", args: []string{filepath.Join(t.TempDir(), "missing.jsonl")}, wantErr: fs.ErrNotExist, wantText: "missing.jsonl"},
		{name: "knowledge base is not a pack", args: []string{"--kb", badKB, writeEval(t, good)}, wantErr: content.ErrPack, wantText: "knowledge base"},
		{name: "no file", args: nil, usage: true, wantText: "want exactly one evaluation file"},
		{name: "two files", args: []string{badLine2, badLine2}, usage: true, wantText: "want exactly one evaluation file"},
		{name: "--kb-folds with a file", args: []string{"--kb-folds", writeEval(t, good)}, usage: true, wantText: "want no evaluation file"},
		{name: "--kb-folds, knowledge base is not a pack", args: []string{"--kb-folds", "--kb", badKB}, wantErr: content.ErrPack, wantText: "knowledge base"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			stdout, _, err := runCmd(t, append([]string{"eval", "--data", data}, tc.args...)...)
			if err == nil {
				t.Fatalf("got no error, want one containing %q; stdout:\n%s", tc.wantText, stdout)
			}
			if got := errors.As(err, new(usageError)); got != tc.usage {
				t.Errorf("got error %v (usage error %v), want usage error %v", err, got, tc.usage)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("got error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("got error %q, want it to contain %q", err, tc.wantText)
			}
			if stdout != "" {
				t.Errorf("got stdout %q, want none", stdout)
			}
			if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("--data folder: got stat error %v, want it not created", err)
			}
		})
	}
}

// startEmbedStandIn serves an OpenAI-compatible POST /v1/embeddings on
// 127.0.0.1 that answers deterministic 32-dimensional vectors. With fail,
// every request gets 401 with the key it carried echoed in the message,
// as OpenAI does.
func startEmbedStandIn(t *testing.T, fail bool) *openaitest.Server {
	t.Helper()
	s := openaitest.New(t, openaitest.Options{Dim: 32})
	if fail {
		s.FailEmbeddings(http.StatusUnauthorized)
	}
	return s
}

// inputs are the texts of each request.
func inputs(reqs []openaitest.EmbeddingRequest) [][]string {
	out := make([][]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Input
	}
	return out
}

// An endpoint that refuses the key costs the vectors, not the answer; the
// key shows nowhere.
func TestAskEmbedderFails(t *testing.T) {
	data := sampleData(t)
	emb := startEmbedStandIn(t, true)
	p := contenttest.SamplePack(t)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"key flag", nil, []string{"--embed-key", secretKey}},
		{"key variable", map[string]string{"GOVLIVE_EMBED_KEY": secretKey}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(emb.EmbeddingRequests())
			args := append([]string{"ask", "--data", data, "--embed-url", emb.URL(), "--embed-model", "m"}, tc.args...)
			stdout, stderr, err := runEnv(t, tc.env, append(args, qFoodMaterials)...)
			if err != nil {
				t.Fatalf("ask: got error %v, want nil; stderr:\n%s", err, stderr)
			}
			reqs := emb.EmbeddingRequests()[before:]
			if len(reqs) == 0 {
				t.Fatal("the embeddings endpoint got no request")
			}
			for _, r := range reqs {
				if a := r.Authorization(); a != "Bearer "+secretKey {
					t.Errorf("got Authorization %q, want the configured key", a)
				}
			}
			for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
				if strings.Contains(out, secretKey) {
					t.Errorf("%s contains the API key:\n%s", name, out)
				}
			}
			if err != nil && strings.Contains(err.Error(), secretKey) {
				t.Errorf("error contains the API key: %v", err)
			}
			warned := regexp.MustCompile(`(?m)^注意：.*仅用关键词检索`).MatchString(stdout) ||
				regexp.MustCompile(`(?m)^time=\S+ level=WARN .*lexical`).MatchString(stderr)
			if !warned {
				t.Errorf("neither stdout nor stderr says the search fell back to keywords;\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
			if want := faqEntry(t, p, idFoodMaterials).Answer; !strings.Contains(stdout, "决定：answer") || !strings.Contains(stdout, want) {
				t.Errorf("got stdout\n%s\nwant the answer of %s", stdout, idFoodMaterials)
			}
		})
	}
}

func TestAskSearchSettings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		wantText []string
	}{
		{"qdrant without dimensions", nil,
			[]string{"--embed-url", "http://127.0.0.1:1/v1", "--embed-model", "m", "--vectors", "qdrant"},
			[]string{"configuration", "vectors", "embed_dimensions"}},
		{"threshold flag out of range", nil, []string{"--threshold-faq", "1.5"}, []string{"configuration", "threshold_faq", "1.5"}},
		{"threshold variable out of range", map[string]string{"GOVLIVE_THRESHOLD_FAQ": "1.5"}, nil, []string{"threshold_faq", "1.5"}},
		{"embed url without model", nil, []string{"--embed-url", "http://127.0.0.1:1/v1"}, []string{"embed_model"}},
	} {
		for _, cmd := range []string{"ask", "eval"} {
			t.Run(tc.name+"/"+cmd, func(t *testing.T) {
				data := filepath.Join(t.TempDir(), "data")
				args := append([]string{cmd, "--data", data}, tc.args...)
				if cmd == "ask" {
					args = append(args, qWeekend)
				} else {
					args = append(args, "testdata/eval-mini.jsonl")
				}
				stdout, _, err := runEnv(t, tc.env, args...)
				if err == nil {
					t.Fatalf("got no error, want a configuration error; stdout:\n%s", stdout)
				}
				if errors.As(err, new(usageError)) {
					t.Errorf("got usage error %v, want a configuration error", err)
				}
				for _, w := range tc.wantText {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("got error %q, want it to contain %q", err, w)
					}
				}
				if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("data folder: got stat error %v, want it not created", err)
				}
			})
		}
	}
}

func TestAskEvalHelp(t *testing.T) {
	embedVars := []string{"GOVLIVE_EMBED_URL", "GOVLIVE_EMBED_MODEL", "GOVLIVE_EMBED_KEY", "GOVLIVE_EMBED_DIMENSIONS", "GOVLIVE_EMBED_TIMEOUT"}
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"ask", append([]string{"usage: govlive ask [flags] \"问题\"", "--session SESSION", "--segment SEGMENT", "--json JSON"}, embedVars...)},
		{"eval", append([]string{"usage: govlive eval [flags] FILE | --kb-folds", "--kb KB", "--json JSON", "--verbose VERBOSE", "--kb-folds KB-FOLDS"}, embedVars...)},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			// A key in the environment is not shown by the help either.
			stdout, stderr, err := runEnv(t, map[string]string{"GOVLIVE_EMBED_KEY": secretKey}, tc.cmd, "-h")
			if !errors.Is(err, errHelp) {
				t.Fatalf("got error %v, want errHelp", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("help lacks %q:\n%s", w, stdout)
				}
			}
			if strings.Contains(stdout, secretKey) {
				t.Errorf("help shows the API key:\n%s", stdout)
			}
			if stderr != "" {
				t.Errorf("got stderr %q, want none", stderr)
			}
		})
	}
}

// With a working endpoint the search is hybrid; the corpus is embedded
// once, and a later ask embeds only its question.
func TestAskHybrid(t *testing.T) {
	data := sampleData(t)
	emb := startEmbedStandIn(t, false)
	args := []string{"ask", "--data", data, "--embed-url", emb.URL(), "--embed-model", "m"}

	stdout, stderr, err := runCmd(t, append(args, qFoodMaterials)...)
	if err != nil {
		t.Fatalf("first ask: got error %v, want nil; stderr:\n%s", err, stderr)
	}
	if !strings.HasPrefix(stdout, hybridLine+"\n") {
		t.Errorf("first ask: got stdout\n%s\nwant it to start with %q", stdout, hybridLine)
	}
	if strings.Contains(stdout, "注意：") {
		t.Errorf("first ask: got a warning, want none:\n%s", stdout)
	}
	hits := printedHits(stdout, "FAQ 命中：")
	if len(hits) == 0 || hits[0].id != idFoodMaterials || !strings.Contains(hits[0].text, "向量 ") {
		t.Errorf("first ask: got FAQ hits %v, want %s first with a vector score:\n%s", hitIDs(hits), idFoodMaterials, stdout)
	}
	first := emb.EmbeddingRequests()
	total := 0
	for _, r := range first {
		total += len(r.Input)
	}
	if total <= len(contenttest.SamplePack(t).FAQ) {
		t.Errorf("first ask: the endpoint got %d texts, want the whole corpus (more than the %d FAQ entries)", total, len(contenttest.SamplePack(t).FAQ))
	}
	for _, r := range first {
		if r.Model != "m" {
			t.Errorf("got model %q, want %q", r.Model, "m")
		}
	}

	stdout, stderr, err = runCmd(t, append(args, "--json", qWeekend)...)
	if err != nil {
		t.Fatalf("second ask: got error %v, want nil; stderr:\n%s", err, stderr)
	}
	second := inputs(emb.EmbeddingRequests()[len(first):])
	if want := [][]string{{qWeekend}}; !reflect.DeepEqual(second, want) {
		t.Errorf("second ask: the endpoint got %q, want only the question %q", second, want)
	}
	var d struct {
		Action string `json:"action"`
		Mode   string `json:"mode"`
		Search struct {
			Mode     string   `json:"mode"`
			Warnings []string `json:"warnings"`
		} `json:"search"`
	}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("second ask: decode %s: %v", stdout, err)
	}
	if d.Mode != "hybrid" || d.Search.Mode != "hybrid" || len(d.Search.Warnings) > 0 {
		t.Errorf("second ask: got mode %q, search.mode %q, warnings %q; want hybrid, hybrid, none", d.Mode, d.Search.Mode, d.Search.Warnings)
	}
}
