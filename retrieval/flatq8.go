package retrieval

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/viterin/vek/vek32"
)

// The flat store scans int8 copies of its rows first (a quarter of the
// memory to stream through), then computes the exact float32 cosine of
// every row that the int8 scan cannot rule out. Each int8 row comes with
// a bound on its error, so ruling out is safe: a search returns exactly
// what a scan of the float32 rows alone would return.
//
// Quantisation is symmetric, per vector: v ≈ scale·c with c in [-127, 127]
// and scale = max|vᵢ|/127. For a query q ≈ q̂ and a row v ≈ v̂,
//
//	q·v − q̂·v̂ = (q − q̂)·v̂ + q·(v − v̂),  so  |q·v − q̂·v̂| ≤ ‖q − q̂‖·‖v̂‖ + ‖q‖·‖v − v̂‖,
//
// with ‖v̂‖ ≤ 1 + ‖v − v̂‖ and ‖q‖ = 1 (both are unit vectors).
const (
	// q8Slack covers the float32 rounding of the exact dot product and of
	// the bound's own terms (about 1e-5 for unit vectors of 2,000
	// components): a bound a little too wide costs a few more exact
	// products, never a wrong result.
	q8Slack = 1e-4
	// q8MinRows is the smallest store worth a two-pass scan, and
	// q8MaxShare the largest share of its rows a search may ask for.
	q8MinRows  = 256
	q8MaxShare = 8
	// belowCosines is less than any cosine and any bound of one.
	belowCosines = -4
)

// q8Rows are the int8 copies of a flat store's rows, kept in step with
// them: row i at codes[i*dim:(i+1)*dim], v ≈ scale[i]·codes, and err[i] is
// ‖v − scale[i]·codes‖ (rounded up).
type q8Rows struct {
	codes []int8
	scale []float32
	err   []float32
}

// set stores the quantised v as row, which exists.
func (q *q8Rows) set(row int, v []float32) {
	dim := len(v)
	q.scale[row], q.err[row] = quantize(q.codes[row*dim:(row+1)*dim], v)
}

// grow adds one row at the end, to be set.
func (q *q8Rows) grow(dim int) {
	q.codes = slices.Grow(q.codes, dim)[:len(q.codes)+dim]
	q.scale = append(q.scale, 0)
	q.err = append(q.err, 0)
}

// move copies row src over row dst.
func (q *q8Rows) move(dst, src, dim int) {
	copy(q.codes[dst*dim:(dst+1)*dim], q.codes[src*dim:(src+1)*dim])
	q.scale[dst], q.err[dst] = q.scale[src], q.err[src]
}

// truncate keeps the first n rows.
func (q *q8Rows) truncate(n, dim int) {
	q.codes, q.scale, q.err = q.codes[:n*dim], q.scale[:n], q.err[:n]
}

// quantize writes the int8 codes of v to dst (of v's length) and returns
// the scale that maps them back and the Euclidean length of the error,
// rounded up to the next float32.
func quantize(dst []int8, v []float32) (scale, errLen float32) {
	var m float32
	for _, x := range v {
		m = max(m, abs32(x))
	}
	if m == 0 {
		clear(dst)
		return 0, 0
	}
	scale = m / 127
	inv := 127 / float64(m)
	var e float64
	for i, x := range v {
		c := int8(max(-127, min(127, math.Round(float64(x)*inv))))
		dst[i] = c
		d := float64(x) - float64(scale)*float64(c)
		e += d * d
	}
	return scale, math.Nextafter32(float32(math.Sqrt(e)), math.MaxFloat32)
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// q8Scratch is the per-search memory of a quantised scan, pooled.
type q8Scratch struct {
	query []int8    // the query's codes
	upper []float32 // by row: an upper bound of its cosine, belowCosines if filtered out
	lower []float32 // min-heap of the k best lower bounds
}

var q8Pool = sync.Pool{New: func() any { return new(q8Scratch) }}

// useQ8 reports whether a search for k of the n rows should scan the int8
// rows first.
func useQ8(n, k int) bool { return n >= q8MinRows && k*q8MaxShare <= n }

// searchQ8 is Search over all rows for a unit query q, in two passes:
// the int8 scan bounds every row's cosine from above and below; the k-th
// best lower bound is a score that k rows reach, so a row whose upper bound
// is below it cannot be among the k best, and only the others get their
// exact cosine, offered to top (empty, of capacity k). Caller holds s.mu
// for reading.
func (s *FlatStore) searchQ8(ctx context.Context, q []float32, k int, f *Filter, top *flatTop) ([]VectorHit, error) {
	n, dim := len(s.ids), s.dim
	sc := q8Pool.Get().(*q8Scratch)
	defer q8Pool.Put(sc)
	sc.query = slices.Grow(sc.query[:0], dim)[:dim]
	sc.upper = slices.Grow(sc.upper[:0], n)[:n]
	sc.lower = sc.lower[:0]
	qScale, qErr := quantize(sc.query, q)

	lower := minHeap32{h: sc.lower, k: k}
	for r := range n {
		if r%flatCheckEvery == flatCheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("flat search: %w", err)
			}
		}
		if !flatMatch(f, &s.payloads[r]) {
			sc.upper[r] = belowCosines
			continue
		}
		approx := qScale * s.q8.scale[r] * float32(dot8(sc.query, s.q8.codes[r*dim:(r+1)*dim]))
		e := s.q8.err[r]
		bound := qErr*(1+e) + e + q8Slack
		sc.upper[r] = approx + bound
		lower.offer(approx - bound)
	}
	sc.lower = lower.h
	cut := float32(belowCosines + 1) // with fewer than k rows, every one that passed
	if len(lower.h) == k {
		cut = lower.h[0]
	}
	for r, u := range sc.upper {
		if u >= cut {
			top.offer(vek32.Dot(q, s.vecs[r*dim:(r+1)*dim]), r)
		}
	}
	return top.hits(s.payloads), nil
}

// minHeap32 keeps the k largest values offered, its root the least.
type minHeap32 struct {
	h []float32
	k int
}

func (m *minHeap32) offer(x float32) {
	if len(m.h) < m.k {
		m.h = append(m.h, x)
		for i := len(m.h) - 1; i > 0; {
			p := (i - 1) / 2
			if m.h[p] <= m.h[i] {
				break
			}
			m.h[p], m.h[i] = m.h[i], m.h[p]
			i = p
		}
		return
	}
	if x <= m.h[0] {
		return
	}
	m.h[0] = x
	for i := 0; ; {
		least := i
		if l := 2*i + 1; l < len(m.h) && m.h[l] < m.h[least] {
			least = l
		}
		if r := 2*i + 2; r < len(m.h) && m.h[r] < m.h[least] {
			least = r
		}
		if least == i {
			return
		}
		m.h[i], m.h[least] = m.h[least], m.h[i]
		i = least
	}
}
