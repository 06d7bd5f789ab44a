package intent

import (
	"math"
	"slices"
	"strings"
)

// feature is one entry of a sparse feature vector.
type feature struct {
	index int32
	value float64
}

// vector is a sparse feature vector, by increasing index.
type vector []feature

// maxGram is the longest character n-gram.
const maxGram = 3

// Marks around each run of text between spaces, so that n-grams know the
// start and end of a clause (^我的, 吗$).
const (
	markStart = '\x02'
	markEnd   = '\x03'
)

// grams returns the distinct character n-grams (1 to maxGram) of a
// normalised text, hashed, in increasing order. Digits all read as 0
// (15号窗口 and 3号窗口 share 0号窗); spaces, where normalisation put
// punctuation, end one run and start the next.
func grams(norm string, buf []uint64) []uint64 {
	buf = buf[:0]
	for _, run := range strings.Fields(norm) {
		rs := make([]rune, 0, len(run)+2)
		rs = append(rs, markStart)
		for _, r := range run {
			if r >= '0' && r <= '9' {
				r = '0'
			}
			rs = append(rs, r)
		}
		rs = append(rs, markEnd)
		for i := range rs {
			h := uint64(fnvOffset)
			for n := 1; n <= maxGram && i+n <= len(rs); n++ {
				h = (h ^ uint64(rs[i+n-1])) * fnvPrime
				if n == 1 && (rs[i] == markStart || rs[i] == markEnd) {
					continue // a mark alone says nothing
				}
				buf = append(buf, h&^(3<<62)|uint64(n)<<62) // the length in the top bits
			}
		}
	}
	slices.Sort(buf)
	return slices.Compact(buf)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// gramWeight weighs an n-gram by its length n (index).
var gramWeight = [4]float64{0, 1, 1, 0.5}

// vocab numbers the n-grams seen in training.
type vocab map[uint64]int32

// vectorize turns n-grams into a unit-length vector of the known ones.
// The length counts the unknown n-grams too, so that a text half made of
// words never seen weighs what it knows by half, as training saw it.
func (v vocab) vectorize(gs []uint64, out vector) vector {
	out = out[:0]
	if len(gs) == 0 {
		return out
	}
	sum := 0.0
	for _, g := range gs {
		w := gramWeight[g>>62]
		sum += w * w
	}
	norm := 1 / math.Sqrt(sum)
	for _, g := range gs {
		if i, ok := v[g]; ok {
			out = append(out, feature{index: i, value: gramWeight[g>>62] * norm})
		}
	}
	slices.SortFunc(out, func(a, b feature) int { return int(a.index - b.index) })
	return out
}
