package intent

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// linear is a trained linear model: one score per class.
type linear struct {
	k int
	w []float64 // feature-major: w[j*k+c] is the weight of feature j for class c
	b []float64 // by class
}

// scores writes the score of each class for x into out.
func (m *linear) scores(x vector, out []float64) {
	copy(out, m.b)
	for _, f := range x {
		row := m.w[int(f.index)*m.k : int(f.index+1)*m.k]
		for c, w := range row {
			out[c] += w * f.value
		}
	}
}

// svmParams are the settings of the solver.
type svmParams struct {
	c        float64 // cost of a margin violation (inverse of the L2 weight)
	eps      float64 // stopping tolerance on the projected gradient
	maxPass  int     // passes over the data at most
	seed     uint64  // of the order in which examples are visited
	posBoost float64 // cost factor of the positive examples of a class
}

// trainLinear fits one L2-regularised squared-hinge linear SVM per class
// (that class against the rest) by dual coordinate descent — Hsieh et al.,
// "A dual coordinate descent method for large-scale linear SVM", ICML
// 2008, the solver of LIBLINEAR's -s 1 — with the bias as a constant
// feature. The classes are solved side by side: a step on one example
// updates the weights of all classes for its features, which lie
// together. It touches only the features an example has, visits the
// examples in an order drawn from a fixed seed, and so gives the same
// model for the same examples every time.
func trainLinear(ctx context.Context, xs []vector, ys []int, dim, k int, p svmParams) (*linear, error) {
	n := len(xs)
	m := &linear{k: k, w: make([]float64, dim*k), b: make([]float64, k)}
	qd := make([]float64, n) // x·x with the bias feature
	for i, x := range xs {
		s := 1.0
		for _, f := range x {
			s += f.value * f.value
		}
		qd[i] = s
	}
	diagPos, diagNeg := 1/(2*p.c*p.posBoost), 1/(2*p.c)
	alpha := make([]float64, n*k)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(p.seed, uint64(n)))
	dot := make([]float64, k)
	delta := make([]float64, k)
	maxPG, minPG := make([]float64, k), make([]float64, k)
	for pass := 0; pass < p.maxPass; pass++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		for c := range k {
			maxPG[c], minPG[c] = math.Inf(-1), math.Inf(1)
		}
		for _, i := range order {
			x := xs[i]
			m.scores(x, dot)
			moved := false
			for c := range k {
				y, diag := -1.0, diagNeg
				if ys[i] == c {
					y, diag = 1, diagPos
				}
				a := alpha[i*k+c]
				g := y*dot[c] - 1 + diag*a
				pg := g
				if a == 0 && g > 0 {
					pg = 0
				}
				maxPG[c], minPG[c] = max(maxPG[c], pg), min(minPG[c], pg)
				delta[c] = 0
				if math.Abs(pg) > 1e-12 {
					na := max(a-g/(qd[i]+diag), 0)
					alpha[i*k+c] = na
					delta[c] = (na - a) * y
					moved = true
				}
			}
			if !moved {
				continue
			}
			for _, f := range x {
				row := m.w[int(f.index)*k : int(f.index+1)*k]
				for c, d := range delta {
					row[c] += d * f.value
				}
			}
			for c, d := range delta {
				m.b[c] += d
			}
		}
		converged := true
		for c := range k {
			converged = converged && maxPG[c]-minPG[c] < p.eps
		}
		if converged {
			break
		}
	}
	return m, nil
}
