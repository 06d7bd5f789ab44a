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

// Report holds the figures of an evaluation. Its JSON form has exactly
// the fields of the evaluation format; the confusion matrix and the
// per-item results are for the text report.
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

	// Confusion counts decisions by expected action, then by decided action.
	Confusion map[Action]map[Action]int `json:"-"`
	// Counts of the items behind each figure.
	FAQItems, DocItems int `json:"-"`
	// FAQAnswered and DocAnswered count the items that expect a FAQ entry
	// (a document) and were answered with that entry (from that document).
	FAQAnswered, DocAnswered int       `json:"-"`
	Results                  []Outcome `json:"-"`
}

// Outcome is what happened to one item.
type Outcome struct {
	Item     EvalItem
	Decision Decision
	FAQRank  int // rank of the expected FAQ entry in the search (0: not in the top 10)
	DocRank  int // rank of the first chunk of the expected document (0: not in the top 10)
	Latency  time.Duration
}

// Evaluate answers every question (the bot and the search see the
// question only) and then, with all answers in hand, scores them against
// the labels.
func Evaluate(ctx context.Context, b *Bot, s Searcher, items []EvalItem) (Report, error) {
	type answer struct {
		d       Decision
		res     retrieval.Result
		latency time.Duration
	}
	answers := make([]answer, len(items))
	for i, it := range items {
		q := it.Question // the only field read before all answers exist
		start := time.Now()
		d, err := b.Decide(ctx, Message{Text: q})
		lat := time.Since(start)
		if err != nil {
			return Report{}, fmt.Errorf("question %s: %w", it.ID, err)
		}
		res, err := s.Search(ctx, retrieval.Query{Text: q, K: 10})
		if err != nil {
			return Report{}, fmt.Errorf("question %s: %w", it.ID, err)
		}
		answers[i] = answer{d: d, res: res, latency: lat}
	}

	rep := Report{N: len(items), Confusion: map[Action]map[Action]int{}}
	var (
		top1, rec3, docHit3     int
		mrr                     float64
		escTP, escFP, escFN, ok int
		lat                     []float64
	)
	for i, it := range items {
		a := answers[i]
		out := Outcome{Item: it, Decision: a.d, Latency: a.latency}
		if rep.Mode == "" || a.res.Mode == "hybrid" {
			rep.Mode = a.res.Mode
		}
		if it.Expect.FAQ != "" {
			rep.FAQItems++
			for r, h := range a.res.FAQ {
				if content.FAQID(h.ID) == it.Expect.FAQ {
					out.FAQRank = r + 1
					break
				}
			}
			if out.FAQRank == 1 {
				top1++
			}
			if a.d.FAQ != nil && a.d.FAQ.ID == it.Expect.FAQ {
				rep.FAQAnswered++
			}
			if out.FAQRank >= 1 && out.FAQRank <= 3 {
				rec3++
			}
			if out.FAQRank > 0 {
				mrr += 1 / float64(out.FAQRank)
			}
		}
		if it.Expect.Doc != "" {
			rep.DocItems++
			for r, h := range a.res.Docs {
				if h.Chunk != nil && h.Chunk.DocID == it.Expect.Doc {
					out.DocRank = r + 1
					break
				}
			}
			if out.DocRank >= 1 && out.DocRank <= 3 {
				docHit3++
			}
			if h := a.d.Hit; a.d.Reason == ReasonDocument && h != nil && h.Chunk != nil && h.Chunk.DocID == it.Expect.Doc {
				rep.DocAnswered++
			}
		}
		want, got := it.Expect.Action, a.d.Action
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
		lat = append(lat, float64(a.latency.Microseconds())/1000)
		rep.Results = append(rep.Results, out)
	}
	rep.FAQTop1 = ratio(top1, rep.FAQItems)
	rep.FAQRecall3 = ratio(rec3, rep.FAQItems)
	rep.FAQMRR10 = round3(mrr / math.Max(1, float64(rep.FAQItems)))
	rep.DocHit3 = ratio(docHit3, rep.DocItems)
	rep.ActionAccuracy = ratio(ok, rep.N)
	rep.EscalatePrecision = ratio(escTP, escTP+escFP)
	rep.EscalateRecall = ratio(escTP, escTP+escFN)
	sort.Float64s(lat)
	rep.LatencyP50ms = round3(percentile(lat, 0.50))
	rep.LatencyP99ms = round3(percentile(lat, 0.99))
	return rep, nil
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
