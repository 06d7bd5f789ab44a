package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"govlive/bot"
	"govlive/content"
	"govlive/content/contenttest"
	"govlive/retrieval"
)

// eval --kb-folds asks every similar phrasing of the pack once: kb-mini
// has 2 + 1 in two folds, the sample pack its own count.
func TestEvalFolds(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		rep := evalJSON(t, "--kb-folds", "--kb", "testdata/kb-mini")
		for k, w := range map[string]any{"n": 3.0, "folds": 2.0, "doc_hit3": 0.0, "decline_recall": 0.0} {
			if rep[k] != w {
				t.Errorf("%s: got %v, want %v", k, rep[k], w)
			}
		}
	})

	t.Run("text", func(t *testing.T) {
		stdout, stderr, err := runCmd(t, "eval", "--kb-folds", "--kb", "testdata/kb-mini")
		if err != nil {
			t.Fatalf("eval --kb-folds: got error %v, want nil; stderr:\n%s", err, stderr)
		}
		for _, w := range []string{
			"leave-one-phrasing-out over the knowledge base: 2 folds, 3 similar phrasings asked\n",
			lexicalLine,
			"questions           3 (FAQ 3, document 0)\n",
			"\nswapped document (the phrasings above that name a document, with one the knowledge base is never asked about: ",
		} {
			if !strings.Contains(stdout, w) {
				t.Errorf("stdout lacks %q:\n%s", w, stdout)
			}
		}
		if re := regexp.MustCompile(`(?m)^FAQ top-1 +[01]\.\d{3}  \(BM25 [01]\.\d{3}, [+-]\d\.\d{3}\)$`); !re.MatchString(stdout) {
			t.Errorf("stdout has no line matching %s:\n%s", re, stdout)
		}
		// Every question expects an answer: the other rows are empty.
		for _, row := range []string{`(?m)^escalate +0 +0 +0 +0$`, `(?m)^decline +0 +0 +0 +0$`, `(?m)^moderate +0 +0 +0 +0$`} {
			if !regexp.MustCompile(row).MatchString(stdout) {
				t.Errorf("stdout has no confusion row matching %s:\n%s", row, stdout)
			}
		}
	})

	t.Run("sample pack", func(t *testing.T) {
		want := 0
		for _, e := range contenttest.SamplePack(t).FAQ {
			want += len(e.Similar)
		}
		rep := evalJSON(t, "--kb-folds")
		if rep["n"] != float64(want) {
			t.Errorf("n: got %v, want the sample pack's %d similar phrasings", rep["n"], want)
		}
		// The same phrasings with their document swapped, expecting
		// decline: a share of them, all expecting decline.
		sw, ok := rep["swaps"].(map[string]any)
		if !ok {
			t.Fatalf("swaps: got %v, want an object", rep["swaps"])
		}
		if n, _ := sw["n"].(float64); n < 80 || n > float64(want) {
			t.Errorf("swaps.n: got %v, want 80 to %d", sw["n"], want)
		}
		if r, _ := sw["decline_recall"].(float64); r != sw["action_accuracy"] {
			t.Errorf("swaps: decline_recall %v, action_accuracy %v; want them equal (every swap expects decline)", r, sw["action_accuracy"])
		}
	})
}

// In each fold, the index the removed phrasings are asked against does
// not hold them: no FAQ hit matched a phrasing that is the question as
// analysed. Against the whole pack the same questions do match their own
// phrasing verbatim, so the check can fail.
func TestFoldIndexLacksAskedPhrasing(t *testing.T) {
	pack, err := content.ReadPack(os.DirFS("testdata/kb-mini"))
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(pack.FAQ)
	for i := range before {
		before[i].Similar = slices.Clone(before[i].Similar)
	}
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	folds := bot.PhrasingFolds(pack.FAQ, norm.Normalize)
	asked := 0
	for k, f := range folds {
		asked += len(f.Items)
		dir := t.TempDir()
		answers, err := askPack(t.Context(), defaultConfig(), foldPack(pack, f), filepath.Join(dir, "fold"), log, f.Items)
		if err != nil {
			t.Fatalf("fold %d: %v", k+1, err)
		}
		whole, err := askPack(t.Context(), defaultConfig(), pack, filepath.Join(dir, "whole"), log, f.Items)
		if err != nil {
			t.Fatalf("whole pack: %v", err)
		}
		for i, a := range answers {
			for _, h := range a.Search.FAQ {
				if h.Matched == a.Search.Query {
					t.Errorf("fold %d: %q matched %s's phrasing %q verbatim", k+1, a.Item.Question, h.ID, h.Matched)
				}
			}
			if a.Baseline == nil {
				t.Errorf("fold %d: %q has no baseline ranking", k+1, a.Item.Question)
			}
			found := false
			for _, h := range whole[i].Search.FAQ {
				found = found || (content.FAQID(h.ID) == a.Item.Expect.FAQ && h.Matched == whole[i].Search.Query)
			}
			if !found {
				t.Errorf("whole pack: %q did not match its own phrasing of %s verbatim", a.Item.Question, a.Item.Expect.FAQ)
			}
		}
	}
	if asked != 3 {
		t.Errorf("asked %d phrasings, want kb-mini's 3", asked)
	}
	if !reflect.DeepEqual(pack.FAQ, before) {
		t.Error("the folds changed the pack")
	}
}
