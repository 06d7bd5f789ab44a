package intent

import (
	"math"
	"testing"
)

func TestReason(t *testing.T) {
	// Positions: 0 question, then urgent, complaint, personal case, human request.
	order := []int{1, 2, 3, 4}
	for _, tc := range []struct {
		name  string
		p     []float64
		share float64
		want  int
	}{
		{"most probable when none is first with the share", []float64{0.1, 0.05, 0.1, 0.7, 0.05}, 0.3, 3},
		{"precedence: complaint before personal case", []float64{0.1, 0.05, 0.3, 0.5, 0.05}, 0.3, 2},
		{"urgent first", []float64{0, 0.3, 0.3, 0.4, 0}, 0.25, 1},
		{"share 1 is the most probable", []float64{0, 0.3, 0.3, 0.4, 0}, 1, 3},
	} {
		if got := reason(tc.p, order, tc.share); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := reason([]float64{1}, nil, 0.3); got != -1 {
		t.Errorf("no classes that need a person: got %d, want -1", got)
	}
}

func TestChooseThreshold(t *testing.T) {
	// Nine positives, one just above each step from 0.55 to 0.95; two
	// negatives, above 0.7 and 0.6.
	score := []float64{0.96, 0.91, 0.86, 0.81, 0.76, 0.71, 0.66, 0.61, 0.56, 0.72, 0.62}
	pos := []bool{true, true, true, true, true, true, true, true, true, false, false}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	for _, tc := range []struct {
		name             string
		target, negW     float64
		th, prec, recall float64
	}{
		// From 0.6 down, 8 or 9 positives against 2: 0.8 and 0.818.
		{"target 0.8", 0.8, 1, 0.5, 9.0 / 11, 1},
		// At 0.65, 7 against 1 (0.875); at 0.6, 0.8.
		{"target 0.85", 0.85, 1, 0.65, 7.0 / 8, 7.0 / 9},
		// The negatives counted three times: at 0.7, 6 against 3.
		{"negatives weighed 3", 0.85, 3, 0.75, 1, 5.0 / 9},
		{"never", 1.01, 1, Never, 0, 0},
	} {
		th, p, r := chooseThreshold(score, pos, tc.target, tc.negW)
		if !near(th, tc.th) || !near(p, tc.prec) || !near(r, tc.recall) {
			t.Errorf("%s: %.2f, %.3f, %.3f; want %.2f, %.3f, %.3f", tc.name, th, p, r, tc.th, tc.prec, tc.recall)
		}
	}
	// A step that misses the target stops the search: at 0.9 (0.96 and
	// 0.91 against 0.92) the target 0.8 is missed, so 0.75 (4 against 1)
	// does not count though it would reach it.
	dip := []float64{0.96, 0.92, 0.91, 0.81, 0.79, 0.77}
	dpos := []bool{true, false, true, true, true, true}
	if th, _, _ := chooseThreshold(dip, dpos, 0.8, 1); !near(th, 0.95) {
		t.Errorf("dip: threshold %v, want 0.95", th)
	}
}

func TestPriorWeight(t *testing.T) {
	c := &Classifier{person: []bool{false, true}, ys: []int{0, 0, 0, 0, 1, 1}, cfg: Config{Prior: 0.2}}
	// Two that need a person, four that do not: as if 1 in 5 did, each of
	// the four counts (0.8/0.2)·(2/4) = 2.
	if w := c.priorWeight(); !(math.Abs(w-2) < 1e-9) {
		t.Errorf("weight %v, want 2", w)
	}
	// Questions for someone else do not count among the four.
	oos := &Classifier{person: []bool{false, true, false}, ys: []int{0, 0, 0, 0, 1, 1, 2, 2, 2},
		index: map[Class]int{Question: 0, Urgent: 1, OutOfScope: 2}, cfg: Config{Prior: 0.2}}
	if w := oos.priorWeight(); !(math.Abs(w-2) < 1e-9) {
		t.Errorf("with out-of-scope examples: weight %v, want 2", w)
	}
	c.cfg.Prior = -1
	if w := c.priorWeight(); w != 1 {
		t.Errorf("without a prior: weight %v, want 1", w)
	}
}
