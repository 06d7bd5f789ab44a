package intent

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
)

// Report is what a k-fold cross-validation of the examples found: each
// example is predicted by a model trained on the other folds.
type Report struct {
	Folds    int
	Examples int
	// Accuracy is the share of examples whose most probable class is
	// their own.
	Accuracy    float64
	Temperature float64
	// Prior is the share of messages that need a person at which
	// Person's precision (in Classes and Sure) is reckoned: the examples
	// that need none count as many as that share makes them.
	Prior   float64
	Classes []ClassReport
	// Sure is Person at the stricter precision Config.SurePrecision: the
	// threshold at which a message needs a person even where an answer
	// is at hand.
	Sure ClassReport
	// SureOutOfScope is OutOfScope at Config.SurePrecision: the
	// threshold at which a question is one for someone else even where a
	// FAQ entry would answer it (Never without such examples).
	SureOutOfScope ClassReport
	// Share is how the reason of a message that needs a person is
	// chosen: the first of the four classes, in their precedence, with at
	// least this share of Person's probability (else the most probable
	// of them) — the examples are labelled by the same precedence. It is
	// the share, of 0.2 to 0.5, that gives the most examples that need a
	// person their own reason; Reasons are the figures there.
	Share   float64
	Reasons []ReasonReport
	// Calibration bins the examples by the probability of their most
	// probable class: within a bin, that probability on average and the
	// share of them that class is right for. ECE is the gap between the
	// two, weighted by the bins' sizes.
	Calibration []Bin
	ECE         float64
	// Misses are the examples whose most probable class is not theirs.
	Misses []Miss
	// Confusion counts the examples by their class (rows) and their
	// most probable class (columns), both in the order of Classes
	// (those with examples; Person is no class of its own).
	Confusion [][]int
}

// ClassReport is one class's figures in a Report.
type ClassReport struct {
	Class    Class
	Examples int
	// Precision and Recall of taking the most probable class.
	Precision, Recall float64
	// Threshold is the lowest probability at which taking the class had
	// the target precision (Never if none had); AtPrecision and AtRecall
	// are the figures of taking it at that probability or above.
	Threshold             float64
	AtPrecision, AtRecall float64
}

// ReasonReport is how often the examples of one of the four classes that
// need a person, taken as needing one (Person at its threshold), were
// given their own class as the reason.
type ReasonReport struct {
	Class     Class
	Escalated int
	// Right is the share of Escalated given Class; Precision the share
	// of the escalated examples given Class that are of it.
	Right, Precision float64
}

// Bin is one bin of a calibration table.
type Bin struct {
	Lo, Hi   float64
	N        int
	MeanP    float64
	Accuracy float64
}

// Miss is a misclassified example.
type Miss struct {
	Text  string
	Class Class
	Got   Class
	P     float64
}

// CrossValidate runs a k-fold cross-validation of the classifier's
// examples with its configuration, folds stratified by class and drawn
// from a fixed seed. (Train ran one with Config.Folds: Report.)
func (c *Classifier) CrossValidate(ctx context.Context, k int) (Report, error) {
	cv, err := c.crossValidate(ctx, k)
	return cv.report, err
}

type cvResult struct {
	temp   float64
	thresh []float64 // by position in classes, then Person, then Person and OutOfScope at SurePrecision
	share  float64
	probs  [][]float64 // each example's, from the model of the other folds
	report Report
}

func (c *Classifier) crossValidate(ctx context.Context, k int) (cvResult, error) {
	n, nc := len(c.xs), len(c.classes)
	k = max(2, min(k, n))
	fold := make([]int, n)
	byClass := make([][]int, nc)
	for i, y := range c.ys {
		byClass[y] = append(byClass[y], i)
	}
	rng := rand.New(rand.NewPCG(seed, uint64(k)))
	next := 0 // classes continue the round where the last one ended
	for _, idx := range byClass {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx {
			fold[i] = next % k
			next++
		}
	}
	scores := make([][]float64, n)
	for f := 0; f < k; f++ {
		var xs []vector
		var ys []int
		for i := range c.xs {
			if fold[i] != f {
				xs = append(xs, c.xs[i])
				ys = append(ys, c.ys[i])
			}
		}
		m, err := trainLinear(ctx, xs, ys, c.dim, nc, c.params())
		if err != nil {
			return cvResult{}, err
		}
		for i := range c.xs {
			if fold[i] == f {
				scores[i] = make([]float64, nc)
				m.scores(c.xs[i], scores[i])
			}
		}
	}
	t := fitTemperature(scores, c.ys)
	probs := make([][]float64, n)
	for i, s := range scores {
		probs[i] = append([]float64(nil), s...)
		softmax(probs[i], t)
	}
	r := Report{Folds: k, Examples: n, Temperature: t, Prior: c.cfg.Prior}
	thresh := make([]float64, nc+3)
	thresh[nc+2] = Never
	var personScore, personAll []float64 // without the out-of-scope examples, with them
	var personPos []bool
	for ci := 0; ci <= nc; ci++ {
		in := func(y int) bool { return y == ci }
		cl := Person
		if ci < nc {
			cl = c.classes[ci]
		} else {
			in = func(y int) bool { return c.person[y] }
		}
		cr := ClassReport{Class: cl}
		score := make([]float64, n)
		pos := make([]bool, n)
		tp, fp := 0, 0
		for i, p := range probs {
			pos[i] = in(c.ys[i])
			if pos[i] {
				cr.Examples++
			}
			for y, v := range p {
				if in(y) {
					score[i] += v
				}
			}
			if in(argmax(p)) {
				if pos[i] {
					tp++
				} else {
					fp++
				}
			}
		}
		cr.Precision, cr.Recall = ratio(tp, tp+fp), ratio(tp, cr.Examples)
		if ci == nc {
			personAll = score
			score, pos = c.againstPerson(score, pos)
			cr.Threshold, cr.AtPrecision, cr.AtRecall = chooseThreshold(score, pos, c.cfg.Precision, c.priorWeight())
			personScore, personPos = score, pos
		} else {
			cr.Threshold, cr.AtPrecision, cr.AtRecall = chooseThreshold(score, pos, c.cfg.Precision, 1)
		}
		if cl == OutOfScope {
			r.SureOutOfScope = ClassReport{Class: OutOfScope, Examples: cr.Examples}
			r.SureOutOfScope.Threshold, r.SureOutOfScope.AtPrecision, r.SureOutOfScope.AtRecall = chooseThreshold(score, pos, c.cfg.SurePrecision, 1)
			thresh[nc+2] = max(r.SureOutOfScope.Threshold, cr.Threshold)
		}
		thresh[ci] = cr.Threshold
		r.Classes = append(r.Classes, cr)
	}
	r.Sure = ClassReport{Class: Person, Examples: r.Classes[nc].Examples}
	r.Sure.Threshold, r.Sure.AtPrecision, r.Sure.AtRecall = chooseThreshold(personScore, personPos, c.cfg.SurePrecision, c.priorWeight())
	thresh[nc+1] = max(r.Sure.Threshold, thresh[nc])
	r.Share, r.Reasons = c.chooseShare(probs, personAll, thresh[nc])
	r.Confusion = make([][]int, nc)
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, nc)
	}
	for i, p := range probs {
		r.Confusion[c.ys[i]][argmax(p)]++
	}
	right := 0
	const bins = 10
	r.Calibration = make([]Bin, bins)
	for b := range r.Calibration {
		r.Calibration[b].Lo, r.Calibration[b].Hi = float64(b)/bins, float64(b+1)/bins
	}
	for i, p := range probs {
		top := argmax(p)
		ok := top == c.ys[i]
		if ok {
			right++
		} else {
			r.Misses = append(r.Misses, Miss{Text: c.texts[i], Class: c.classes[c.ys[i]], Got: c.classes[top], P: p[top]})
		}
		b := &r.Calibration[min(int(p[top]*bins), bins-1)]
		b.N++
		b.MeanP += p[top]
		if ok {
			b.Accuracy++
		}
	}
	for b := range r.Calibration {
		bin := &r.Calibration[b]
		if bin.N > 0 {
			bin.MeanP /= float64(bin.N)
			bin.Accuracy /= float64(bin.N)
			r.ECE += float64(bin.N) / float64(n) * math.Abs(bin.MeanP-bin.Accuracy)
		}
	}
	r.Accuracy = ratio(right, n)
	return cvResult{temp: t, thresh: thresh, share: r.Share, probs: probs, report: r}, nil
}

// chooseShare returns the share of Person's probability, from 0.2 to 0.5
// in steps of 0.05, at which reason gives the most examples that need a
// person, with Person's probability (score) at threshold t at least,
// their own class (the larger share on a tie: nearer the most probable),
// and the figures there.
func (c *Classifier) chooseShare(probs [][]float64, score []float64, t float64) (float64, []ReasonReport) {
	bestShare, bestRight := 0.0, -1
	var best []ReasonReport
	for step := 6; step >= 0; step-- {
		share := 0.2 + 0.05*float64(step)
		right := 0
		rs := make([]ReasonReport, len(c.order))
		given := make([]int, len(c.order))
		rightBy := make([]int, len(c.order))
		at := map[int]int{}
		for j, y := range c.order {
			rs[j].Class = c.classes[y]
			at[y] = j
		}
		for i, p := range probs {
			if score[i] < t {
				continue
			}
			got := reason(p, c.order, share)
			if got >= 0 {
				given[at[got]]++
			}
			j, ok := at[c.ys[i]]
			if !ok {
				continue
			}
			rs[j].Escalated++
			if got == c.ys[i] {
				right++
				rightBy[j]++
			}
		}
		for j := range rs {
			rs[j].Right, rs[j].Precision = ratio(rightBy[j], rs[j].Escalated), ratio(rightBy[j], given[j])
		}
		if right > bestRight {
			bestShare, bestRight, best = share, right, rs
		}
	}
	return bestShare, best
}

// reason returns the position among p of the first class of order (the
// positions of the classes that need a person, in precedence) with at
// least share of their probability together, else the most probable of
// them; -1 if order is empty.
func reason(p []float64, order []int, share float64) int {
	sum := 0.0
	best := -1
	for _, y := range order {
		sum += p[y]
		if best < 0 || p[y] > p[best] {
			best = y
		}
	}
	for _, y := range order {
		if p[y] >= share*sum {
			return y
		}
	}
	return best
}

// priorWeight is the weight of an example that needs no person against
// one that does, in choosing Person's thresholds: such that they are
// Config.Prior of the examples, as of the messages of a chat. (The
// examples hold as many of either as were written; a precision measured
// on them would depend on that.) 1 without a prior.
func (c *Classifier) priorWeight() float64 {
	pos, neg := 0, 0
	oos, hasOOS := c.index[OutOfScope]
	for _, y := range c.ys {
		switch {
		case c.person[y]:
			pos++
		case !hasOOS || y != oos: // not counted: see againstPerson
			neg++
		}
	}
	if c.cfg.Prior <= 0 || pos == 0 || neg == 0 {
		return 1
	}
	return (1 - c.cfg.Prior) / c.cfg.Prior * float64(pos) / float64(neg)
}

// againstPerson returns the scores and labels of the examples Person's
// thresholds are chosen on: all but the questions for someone else
// (OutOfScope). Those are written as many as their own class needs, and
// seldom taken for a case for a person; counted among the messages that
// need none, they would dilute the how-to questions and chit-chat Person
// is confused with, and lower its thresholds (0.70 → 0.50 on the sample
// examples) for no message of a chat that needs a person less.
func (c *Classifier) againstPerson(score []float64, pos []bool) ([]float64, []bool) {
	i, ok := c.index[OutOfScope]
	if !ok {
		return score, pos
	}
	var s []float64
	var p []bool
	for j, y := range c.ys {
		if y != i {
			s, p = append(s, score[j]), append(p, pos[j])
		}
	}
	return s, p
}

// chooseThreshold returns the lowest score from minThreshold, in steps
// of 0.05, from which on taking the examples scoring at least that as
// pos has at least the target precision — there and at every step above
// it that takes any, so that a lucky dip of the false positives below
// the steps above does not set it — with the precision and recall there;
// Never if none has.
func chooseThreshold(score []float64, pos []bool, target, negWeight float64) (t, prec, rec float64) {
	all := 0
	for _, p := range pos {
		if p {
			all++
		}
	}
	const steps = 10 // minThreshold + 0.05*steps ≤ 0.99
	t, prec, rec = Never, 0, 0
	for step := steps - 1; step >= 0; step-- {
		at := minThreshold + 0.05*float64(step)
		tp, fp := 0, 0
		for i, s := range score {
			if s >= at {
				if pos[i] {
					tp++
				} else {
					fp++
				}
			}
		}
		if tp+fp == 0 {
			continue
		}
		p := float64(tp) / (float64(tp) + negWeight*float64(fp))
		if p < target {
			break
		}
		t, prec, rec = at, p, ratio(tp, all)
	}
	return t, prec, rec
}

// fitTemperature returns the temperature that minimises the negative log
// likelihood of the true classes under softmax(scores/t): golden-section
// search on log t (the likelihood is unimodal in t).
func fitTemperature(scores [][]float64, ys []int) float64 {
	nll := func(logT float64) float64 {
		t := math.Exp(logT)
		sum := 0.0
		p := make([]float64, 0, 8)
		for i, s := range scores {
			p = append(p[:0], s...)
			softmax(p, t)
			sum -= math.Log(max(p[ys[i]], 1e-300))
		}
		return sum
	}
	lo, hi := math.Log(0.01), math.Log(100)
	g := (math.Sqrt(5) - 1) / 2
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := nll(a), nll(b)
	for hi-lo > 1e-4 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = nll(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = nll(b)
		}
	}
	return math.Exp((lo + hi) / 2)
}

func argmax(p []float64) int {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Write prints the report as a table.
func (r Report) Write(w io.Writer) error {
	var err error
	pr := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	pr("%d-fold cross-validation, %d examples: accuracy %.3f, temperature %.3f, ECE %.3f\n",
		r.Folds, r.Examples, r.Accuracy, r.Temperature, r.ECE)
	pr("%-14s %8s %9s %7s %9s %9s %7s\n", "class", "examples", "precision", "recall", "threshold", "precision", "recall")
	for _, c := range r.Classes {
		th := fmt.Sprintf("%.2f", c.Threshold)
		if c.Threshold >= Never {
			th = "never"
		}
		pr("%-14s %8d %9.3f %7.3f %9s %9.3f %7.3f\n", c.Class, c.Examples, c.Precision, c.Recall, th, c.AtPrecision, c.AtRecall)
	}
	th := fmt.Sprintf("%.2f", r.Sure.Threshold)
	if r.Sure.Threshold >= Never {
		th = "never"
	}
	pr("%-14s %8d %9s %7s %9s %9.3f %7.3f\n", "person (sure)", r.Sure.Examples, "", "", th, r.Sure.AtPrecision, r.Sure.AtRecall)
	if o := r.SureOutOfScope; o.Examples > 0 {
		th := fmt.Sprintf("%.2f", o.Threshold)
		if o.Threshold >= Never {
			th = "never"
		}
		pr("%-14s %8d %9s %7s %9s %9.3f %7.3f\n", "out (sure)", o.Examples, "", "", th, o.AtPrecision, o.AtRecall)
	}
	if r.Prior > 0 {
		pr("(person's precision at threshold reckoned as if %.2f of the messages needed a person)\n", r.Prior)
	}
	pr("reason of those that need a person: first in precedence with %.2f of their probability\n", r.Share)
	pr("%-14s %9s %7s %9s\n", "reason", "escalated", "right", "precision")
	for _, rr := range r.Reasons {
		pr("%-14s %9d %7.3f %9.3f\n", rr.Class, rr.Escalated, rr.Right, rr.Precision)
	}
	pr("confusion (rows: class, columns: most probable class)\n%-14s", "")
	var names []Class
	for _, c := range r.Classes {
		if c.Class != Person {
			names = append(names, c.Class)
			pr(" %8.8s", c.Class)
		}
	}
	pr("\n")
	for i, row := range r.Confusion {
		pr("%-14s", names[i])
		for _, v := range row {
			pr(" %8d", v)
		}
		pr("\n")
	}
	pr("calibration (most probable class): bin, examples, mean probability, accuracy\n")
	for _, b := range r.Calibration {
		if b.N > 0 {
			pr("  %.1f–%.1f %5d %6.3f %6.3f\n", b.Lo, b.Hi, b.N, b.MeanP, b.Accuracy)
		}
	}
	return err
}
