package bot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"govlive/content"
	"govlive/retrieval"
)

// EvalItem is one labelled question of an evaluation file (JSON lines:
// {"id", "question", "expect": {"action", "faq" | "doc" | "reason"}}).
type EvalItem struct {
	ID       string `json:"id"`
	Question string `json:"question"`
	Expect   Expect `json:"expect"`
}

// Expect is what a labelled question should get.
type Expect struct {
	Action Action        `json:"action"`
	FAQ    content.FAQID `json:"faq,omitempty"`
	Doc    content.DocID `json:"doc,omitempty"`
	Reason Reason        `json:"reason,omitempty"`
}

// ReadEval reads an evaluation file. Errors name the line.
func ReadEval(r io.Reader) ([]EvalItem, error) {
	var items []EvalItem
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	seen := map[string]int{}
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var it EvalItem
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&it); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("line %d: more than one JSON value", n)
		}
		switch {
		case it.ID == "" || strings.TrimSpace(it.Question) == "":
			return nil, fmt.Errorf("line %d: id and question are required", n)
		case seen[it.ID] > 0:
			return nil, fmt.Errorf("line %d: id %q repeats line %d", n, it.ID, seen[it.ID])
		}
		switch it.Expect.Action {
		case ActionAnswer:
			if (it.Expect.FAQ == "") == (it.Expect.Doc == "") {
				return nil, fmt.Errorf("line %d: an answer expects exactly one of faq and doc", n)
			}
		case ActionEscalate, ActionDecline, ActionModerate:
		default:
			return nil, fmt.Errorf("line %d: unknown action %q", n, it.Expect.Action)
		}
		seen[it.ID] = n
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than 1 MiB", n+1)
		}
		return nil, fmt.Errorf("read evaluation file: %w", err)
	}
	if len(items) == 0 {
		return nil, errors.New("evaluation file has no questions")
	}
	return items, nil
}

// Ranker ranks FAQ entries for a question, best first. An evaluation
// asks one beside the search as a yardstick (retrieval/baseline); its
// ranking decides nothing.
type Ranker interface {
	RankFAQ(ctx context.Context, question string, k int) ([]content.FAQID, error)
}

// Ranking holds the ranking figures of the questions that expect a FAQ
// entry: the share where it ranks first, the share where it ranks in the
// top 3, and the mean reciprocal rank over the top 10.
type Ranking struct {
	Top1    float64 `json:"faq_top1"`
	Recall3 float64 `json:"faq_recall3"`
	MRR10   float64 `json:"faq_mrr10"`
}

// Report holds the figures of an evaluation. Its JSON form has exactly
// the fields of the evaluation format; the confusion matrix, the counts
// and the per-item results are for the text report.
type Report struct {
	N                 int     `json:"n"`
	FAQTop1           float64 `json:"faq_top1"`
	FAQRecall3        float64 `json:"faq_recall3"`
	FAQMRR10          float64 `json:"faq_mrr10"`
	DocHit3           float64 `json:"doc_hit3"`
	ActionAccuracy    float64 `json:"action_accuracy"`
	EscalatePrecision float64 `json:"escalate_precision"`
	EscalateRecall    float64 `json:"escalate_recall"`
	LatencyP50ms      float64 `json:"latency_p50_ms"`
	LatencyP99ms      float64 `json:"latency_p99_ms"`
	Mode              string  `json:"mode"`

	// DeclineRecall and ModerateRecall are the shares of the questions
	// expecting decline (moderate) that were declined (moderated).
	DeclineRecall  float64 `json:"decline_recall"`
	ModerateRecall float64 `json:"moderate_recall"`
	// PIIRecall is the share of the questions expecting an escalation for
	// personal data that were escalated for personal data.
	PIIRecall float64 `json:"pii_recall"`
	// ClarifyRate is the share of questions the bot answered by asking
	// back which entry was meant ("您想问的是：1… 2…"), and ClarifyHit the
	// share of those, among the ones expecting a FAQ entry, that offered
	// the expected entry. The bot does not ask back yet: both stay 0 until
	// a Decision carries the entries it offers (see offered).
	ClarifyRate float64 `json:"clarify_rate"`
	ClarifyHit  float64 `json:"clarify_hit"`
	// DocAnsweredRate is the share of the questions expecting a document
	// that were answered from that document (DocAnswered of DocItems).
	DocAnsweredRate float64 `json:"doc_answered"`
	// Baseline holds the figures of the baseline ranker over the same
	// questions; nil when none was asked.
	Baseline *Ranking `json:"baseline,omitempty"`

	// Confusion counts decisions by expected action, then by decided action.
	Confusion map[Action]map[Action]int `json:"-"`
	// Counts of the items behind each figure.
	FAQItems, DocItems                   int `json:"-"`
	DeclineItems, ModerateItems          int `json:"-"`
	PIIItems                             int `json:"-"`
	Declined, Moderated, PIIEscalated    int `json:"-"` // right ones among the above
	Clarified, ClarifyItems, ClarifyHits int `json:"-"` // asked back; of them expecting a FAQ entry; of those offering it
	// FAQAnswered and DocAnswered count the items that expect a FAQ entry
	// (a document) and were answered with that entry (from that document).
	FAQAnswered, DocAnswered int       `json:"-"`
	Results                  []Outcome `json:"-"`
}

// Outcome is what happened to one item.
type Outcome struct {
	Item         EvalItem
	Decision     Decision
	FAQRank      int // rank of the expected FAQ entry in the search (0: not in the top 10)
	BaselineRank int // its rank in the baseline's ranking (0: not in the top 10, or no baseline)
	DocRank      int // rank of the first chunk of the expected document (0: not in the top 10)
	Latency      time.Duration
}

// Answer is what the bot, the search and the baseline made of one
// question, before it is scored against its label.
type Answer struct {
	Item     EvalItem
	Decision Decision
	Search   retrieval.Result
	// Baseline is the baseline's ranking: never nil when a baseline was
	// asked (empty when it found nothing), nil when none was.
	Baseline []content.FAQID
	Latency  time.Duration // of the bot's decision
}

// rankDepth is how deep the rankings are read (MRR@10).
const rankDepth = 10

// Ask answers every question: the bot decides, the search ranks, and
// base, when not nil, ranks too. Each sees the question only; the labels
// are read by Score, once all answers exist.
func Ask(ctx context.Context, b *Bot, s Searcher, base Ranker, items []EvalItem) ([]Answer, error) {
	answers := make([]Answer, len(items))
	for i, it := range items {
		q := it.Question // the only field read here
		start := time.Now()
		d, err := b.Decide(ctx, Message{Text: q})
		lat := time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("question %s: %w", it.ID, err)
		}
		res, err := s.Search(ctx, retrieval.Query{Text: q, K: rankDepth})
		if err != nil {
			return nil, fmt.Errorf("question %s: %w", it.ID, err)
		}
		a := Answer{Item: it, Decision: d, Search: res, Latency: lat}
		if base != nil {
			ids, err := base.RankFAQ(ctx, q, rankDepth)
			if err != nil {
				return nil, fmt.Errorf("question %s: baseline: %w", it.ID, err)
			}
			a.Baseline = append([]content.FAQID{}, ids...)
		}
		answers[i] = a
	}
	return answers, nil
}

// Evaluate answers every question (the bot and the search see the
// question only) and then, with all answers in hand, scores them against
// the labels. It asks no baseline: see Ask and Score.
func Evaluate(ctx context.Context, b *Bot, s Searcher, items []EvalItem) (Report, error) {
	answers, err := Ask(ctx, b, s, nil, items)
	if err != nil {
		return Report{}, err
	}
	return Score(answers), nil
}

// offered returns the FAQ entries a decision offers to choose from when
// it asks back on a near tie.
func offered(d Decision) []content.FAQID {
	if d.Reason != ReasonClarify {
		return nil
	}
	ids := make([]content.FAQID, len(d.Options))
	for i, o := range d.Options {
		ids[i] = o.FAQ.ID
	}
	return ids
}

// Score scores answers against their labels. The report has baseline
// figures when every answer has a baseline ranking.
func Score(answers []Answer) Report {
	rep := Report{N: len(answers), Confusion: map[Action]map[Action]int{}}
	var (
		search, base            rankTally
		docHit3                 int
		escTP, escFP, escFN, ok int
		lat                     []float64
	)
	withBaseline := len(answers) > 0
	for _, a := range answers {
		it := a.Item
		out := Outcome{Item: it, Decision: a.Decision, Latency: a.Latency}
		if rep.Mode == "" || a.Search.Mode == "hybrid" {
			rep.Mode = a.Search.Mode
		}
		if a.Baseline == nil {
			withBaseline = false
		}
		if it.Expect.FAQ != "" {
			rep.FAQItems++
			for r, h := range a.Search.FAQ {
				if content.FAQID(h.ID) == it.Expect.FAQ {
					out.FAQRank = r + 1
					break
				}
			}
			if r := slices.Index(a.Baseline, it.Expect.FAQ); r >= 0 && r < rankDepth {
				out.BaselineRank = r + 1
			}
			search.add(out.FAQRank)
			base.add(out.BaselineRank)
			if a.Decision.FAQ != nil && a.Decision.FAQ.ID == it.Expect.FAQ {
				rep.FAQAnswered++
			}
		}
		if it.Expect.Doc != "" {
			rep.DocItems++
			for r, h := range a.Search.Docs {
				if h.Chunk != nil && h.Chunk.DocID == it.Expect.Doc {
					out.DocRank = r + 1
					break
				}
			}
			if out.DocRank >= 1 && out.DocRank <= 3 {
				docHit3++
			}
			if h := a.Decision.Hit; a.Decision.Reason == ReasonDocument && h != nil && h.Chunk != nil && h.Chunk.DocID == it.Expect.Doc {
				rep.DocAnswered++
			}
		}
		want, got := it.Expect.Action, a.Decision.Action
		if rep.Confusion[want] == nil {
			rep.Confusion[want] = map[Action]int{}
		}
		rep.Confusion[want][got]++
		if want == got {
			ok++
		}
		switch {
		case want == ActionEscalate && got == ActionEscalate:
			escTP++
		case got == ActionEscalate:
			escFP++
		case want == ActionEscalate:
			escFN++
		}
		switch want {
		case ActionDecline:
			rep.DeclineItems++
			if got == ActionDecline {
				rep.Declined++
			}
		case ActionModerate:
			rep.ModerateItems++
			if got == ActionModerate {
				rep.Moderated++
			}
		case ActionEscalate:
			if it.Expect.Reason == ReasonPII {
				rep.PIIItems++
				if got == ActionEscalate && a.Decision.Reason == ReasonPII {
					rep.PIIEscalated++
				}
			}
		}
		if ids := offered(a.Decision); len(ids) > 0 {
			rep.Clarified++
			if it.Expect.FAQ != "" {
				rep.ClarifyItems++
				if slices.Contains(ids, it.Expect.FAQ) {
					rep.ClarifyHits++
				}
			}
		}
		lat = append(lat, float64(a.Latency.Microseconds())/1000)
		rep.Results = append(rep.Results, out)
	}
	r := search.figures(rep.FAQItems)
	rep.FAQTop1, rep.FAQRecall3, rep.FAQMRR10 = r.Top1, r.Recall3, r.MRR10
	if withBaseline {
		b := base.figures(rep.FAQItems)
		rep.Baseline = &b
	}
	rep.DocHit3 = ratio(docHit3, rep.DocItems)
	rep.DocAnsweredRate = ratio(rep.DocAnswered, rep.DocItems)
	rep.ActionAccuracy = ratio(ok, rep.N)
	rep.EscalatePrecision = ratio(escTP, escTP+escFP)
	rep.EscalateRecall = ratio(escTP, escTP+escFN)
	rep.DeclineRecall = ratio(rep.Declined, rep.DeclineItems)
	rep.ModerateRecall = ratio(rep.Moderated, rep.ModerateItems)
	rep.PIIRecall = ratio(rep.PIIEscalated, rep.PIIItems)
	rep.ClarifyRate = ratio(rep.Clarified, rep.N)
	rep.ClarifyHit = ratio(rep.ClarifyHits, rep.ClarifyItems)
	sort.Float64s(lat)
	rep.LatencyP50ms = round3(percentile(lat, 0.50))
	rep.LatencyP99ms = round3(percentile(lat, 0.99))
	return rep
}

// rankTally adds up the ranks of the expected FAQ entries (0: not found).
type rankTally struct {
	top1, rec3 int
	mrr        float64
}

func (t *rankTally) add(rank int) {
	if rank == 1 {
		t.top1++
	}
	if rank >= 1 && rank <= 3 {
		t.rec3++
	}
	if rank > 0 {
		t.mrr += 1 / float64(rank)
	}
}

func (t rankTally) figures(n int) Ranking {
	return Ranking{Top1: ratio(t.top1, n), Recall3: ratio(t.rec3, n), MRR10: round3(t.mrr / math.Max(1, float64(n)))}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return round3(float64(a) / float64(b))
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// percentile of sorted values, nearest rank.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
