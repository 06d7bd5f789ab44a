package intent

import (
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
	Classes     []ClassReport
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
func (c *Classifier) CrossValidate(k int) Report {
	return c.crossValidate(k).report
}

type cvResult struct {
	temp   float64
	thresh []float64
	report Report
}

func (c *Classifier) crossValidate(k int) cvResult {
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
		m := trainLinear(xs, ys, c.dim, nc, c.params())
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
	r := Report{Folds: k, Examples: n, Temperature: t}
	thresh := make([]float64, nc+1) // the classes, then Person
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
		cr.Threshold, cr.AtPrecision, cr.AtRecall = chooseThreshold(score, pos, c.cfg.Precision)
		thresh[ci] = cr.Threshold
		r.Classes = append(r.Classes, cr)
	}
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
	return cvResult{temp: t, thresh: thresh, report: r}
}

// chooseThreshold returns the lowest score from minThreshold, in steps
// of 0.05, at which taking the examples scoring at least that as pos has
// at least the target precision, with the precision and recall there;
// Never if none has.
func chooseThreshold(score []float64, pos []bool, target float64) (t, prec, rec float64) {
	all := 0
	for _, p := range pos {
		if p {
			all++
		}
	}
	for step := 0; ; step++ {
		t = minThreshold + 0.05*float64(step)
		if t > 0.99 {
			return Never, 0, 0
		}
		tp, fp := 0, 0
		for i, s := range score {
			if s >= t {
				if pos[i] {
					tp++
				} else {
					fp++
				}
			}
		}
		if tp > 0 && ratio(tp, tp+fp) >= target {
			return t, ratio(tp, tp+fp), ratio(tp, all)
		}
	}
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
