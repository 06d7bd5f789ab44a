package retrieval

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/store/storetest"
)

// The ranking diagnostics below are slow and print a lot: they run only
// with -rankeval (go test ./retrieval/ -run TestRankEval -rankeval -v).
var (
	rankEval    = flag.Bool("rankeval", false, "run the ranking diagnostics over the sample pack's phrasing folds")
	rankDev     = flag.String("rankeval.dev", "", "also rank the labelled questions of this JSON lines file (the dev set)")
	rankVerbose = flag.Bool("rankeval.v", false, "print every miss with the features that decided it")
	rankSet     = flag.String("rankeval.set", "", "weights to try (beta, union, answer): comma-separated name=value, one run each, runs separated by ;")
)

var testWeights = map[string]float64{}

func setTune(t *testing.T, s string) {
	for _, kv := range strings.Split(s, ",") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		if k != "beta" && k != "union" && k != "answer" {
			t.Fatalf("no weight %q", k)
		}
		testWeights[k] = f
	}
}

// rankItem is one question with the entry it expects.
type rankItem struct {
	q    string
	want content.FAQID
}

// rankTally adds up where the expected entry ranked.
type rankTally struct {
	n, top1, top3 int
	mrr           float64
}

func (r *rankTally) add(rank int) {
	r.n++
	if rank == 1 {
		r.top1++
	}
	if rank >= 1 && rank <= 3 {
		r.top3++
	}
	if rank >= 1 && rank <= 10 {
		r.mrr += 1 / float64(rank)
	}
}

func (r rankTally) String() string {
	n := float64(max(r.n, 1))
	return fmt.Sprintf("n=%d top-1 %.3f recall@3 %.3f MRR@10 %.3f", r.n, float64(r.top1)/n, float64(r.top3)/n, r.mrr/n)
}

// foldsOf splits the pack as eval --kb-folds does (bot.PhrasingFolds):
// fold k takes every entry's k-th similar phrasing out and asks it.
func foldsOf(p *content.Pack, key func(string) string) (packs []*content.Pack, items [][]rankItem) {
	depth := 0
	questions := map[string]bool{}
	for _, e := range p.FAQ {
		if e.Status == content.StatusPublished {
			depth = max(depth, len(e.Similar))
			questions[key(e.Question)] = true
		}
	}
	for k := 0; k < depth; k++ {
		var its []rankItem
		out := map[string]bool{}
		for _, e := range p.FAQ {
			if e.Status != content.StatusPublished || k >= len(e.Similar) {
				continue
			}
			kq := key(e.Similar[k])
			if !questions[kq] {
				its = append(its, rankItem{q: e.Similar[k], want: e.ID})
			}
			out[kq] = true
		}
		fp := *p
		fp.FAQ = make([]content.FAQEntry, len(p.FAQ))
		for i, e := range p.FAQ {
			e.Similar = slices.DeleteFunc(slices.Clone(e.Similar), func(s string) bool { return out[key(s)] })
			fp.FAQ[i] = e
		}
		packs = append(packs, &fp)
		items = append(items, its)
	}
	return packs, items
}

func openPackIndex(t *testing.T, p *content.Pack) *Index {
	t.Helper()
	cs := contenttest.NewStore(t, storetest.Open(t), time.Now)
	contenttest.Import(t, cs, p)
	norm, err := NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	w := DefaultWeights
	if v := testWeights["beta"]; v != 0 {
		w.Beta = v
	}
	if v, ok := testWeights["union"]; ok {
		w.UnionWeight = v
	}
	if v, ok := testWeights["answer"]; ok {
		w.AnswerWeight = v
	}
	ix, err := Open(context.Background(), Config{Source: cs, Normalizer: norm, Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func readDev(t *testing.T, path string) []rankItem {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rankItem
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var it struct {
			Question string `json:"question"`
			Expect   struct {
				Action string        `json:"action"`
				FAQ    content.FAQID `json:"faq"`
			} `json:"expect"`
		}
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatal(err)
		}
		if it.Expect.FAQ != "" {
			out = append(out, rankItem{q: it.Question, want: it.Expect.FAQ})
		}
	}
	return out
}

// rankAll asks every item and tallies; with -rankeval.v it prints misses.
func rankAll(t *testing.T, ix *Index, items []rankItem, conf map[string]int) rankTally {
	var tally rankTally
	for _, it := range items {
		res, err := ix.Search(context.Background(), Query{Text: it.q, K: 10})
		if err != nil {
			t.Fatal(err)
		}
		rank := 0
		for i, h := range res.FAQ {
			if content.FAQID(h.ID) == it.want {
				rank = i + 1
				break
			}
		}
		tally.add(rank)
		if rank != 1 && len(res.FAQ) > 0 {
			got := res.FAQ[0].ID
			key := fmt.Sprintf("%s > %s", got, it.want)
			conf[key]++
			if *rankVerbose {
				t.Logf("MISS rank %d q=%q (%s)\n   want %s: %s\n   got  %s: %s\n   %s", rank, it.q, res.Query, it.want, ix.faqs[it.want].entry.Question, got, ix.faqs[content.FAQID(got)].entry.Question, ix.explain(res.Query, it.want, content.FAQID(got)))
			}
		}
	}
	return tally
}

// explain names the question's features that one entry has and the other
// lacks, with their weights.
func (ix *Index) explain(text string, want, got content.FAQID) string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	qv, unknown := ix.vocab.query(ix.an.features(text))
	qa := question{v: qv, faqMass: ix.phrases.queryMass(qv, unknown)}
	w, g := ix.faqs[want], ix.faqs[got]
	hw, _ := ix.scoreFAQ(qa, w)
	hg, _ := ix.scoreFAQ(qa, g)
	var onlyW, onlyG []string
	for _, f := range qv {
		inW, inG := hasFeature(w.union.v, f.id), hasFeature(g.union.v, f.id)
		s := fmt.Sprintf("%s(%.1f)", ix.vocab.names[f.id], f.w*ix.phrases.weight(f.id))
		switch {
		case inW && !inG:
			onlyW = append(onlyW, s)
		case inG && !inW:
			onlyG = append(onlyG, s)
		}
	}
	parts := func(it *faqItem) string {
		best := 0.0
		for _, p := range it.phrasings {
			cq, cp := ix.phrases.overlap(qa.v, p.v, qa.faqMass, p.mass)
			best = max(best, fscore(cq, cp, ix.cfg.Weights.Beta))
		}
		ansQ, _ := ix.phrases.overlap(qa.v, it.answer.v, qa.faqMass, it.answer.mass)
		uniQ, _ := ix.phrases.overlap(qa.v, it.union.v, qa.faqMass, it.union.mass)
		return fmt.Sprintf("best %.2f union %.2f answer %.2f", best, uniQ, ansQ)
	}
	return fmt.Sprintf("want [%s] got [%s]\n   score want %.3f got %.3f; only want: %s; only got: %s", parts(w), parts(g), hw, hg, strings.Join(onlyW, " "), strings.Join(onlyG, " "))
}

func TestRankEval(t *testing.T) {
	if !*rankEval {
		t.Skip("ranking diagnostics: run with -rankeval")
	}
	for _, s := range strings.Split(*rankSet, ";") {
		setTune(t, s)
		t.Logf("settings %q", s)
		rankEvalOnce(t)
		clear(testWeights)
	}
}

func rankEvalOnce(t *testing.T) {
	p := contenttest.SamplePack(t)
	norm, err := NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	packs, items := foldsOf(p, norm.Normalize)
	var folds rankTally
	conf := map[string]int{}
	for k := range packs {
		ix := openPackIndex(t, packs[k])
		r := rankAll(t, ix, items[k], conf)
		folds.n, folds.top1, folds.top3, folds.mrr = folds.n+r.n, folds.top1+r.top1, folds.top3+r.top3, folds.mrr+r.mrr
	}
	t.Logf("folds: %s", folds)
	if *rankDev != "" {
		ix := openPackIndex(t, p)
		devConf := map[string]int{}
		t.Logf("dev:   %s", rankAll(t, ix, readDev(t, *rankDev), devConf))
	}
	type pair struct {
		k string
		n int
	}
	var ps []pair
	for k, n := range conf {
		ps = append(ps, pair{k, n})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].n > ps[j].n || ps[i].n == ps[j].n && ps[i].k < ps[j].k })
	var b strings.Builder
	for _, p := range ps[:min(len(ps), 40)] {
		fmt.Fprintf(&b, "%3d %s\n", p.n, p.k)
	}
	t.Logf("folds' confusions (winner > expected):\n%s", b.String())
}
