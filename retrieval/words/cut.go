package words

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-ego/gse"
	"github.com/go-ego/gse/hmm"
)

// cutter is gse's accurate mode (Segmenter.CutDAG: jieba's most probable
// path through the dictionary's word graph, with gse's HMM for runs of
// single characters the dictionary lacks as a whole; CutDAGNoHMM without
// it), with the same result but without its allocations: gse builds the
// graph and the routes in maps and looks every candidate up as a new
// string, which makes a knowledge base's passages slow to cut. Look-ups
// here take slices of the text's bytes; the graph and routes are slices
// reused from word to word. The tests check that both cut the same.
type cutter struct {
	b    []byte   // the lower-case field
	off  []int    // byte offset of each rune, and len(b) at the end
	dag  [][]edge // by rune: the words starting there
	prob []float64
	end  []int // by rune: the best route's first word ends here (inclusive)
}

// cut calls emit with each word of one field (no spaces) in order, and
// whether the HMM made it (hmm false: none does; runs of single
// characters stay single, but for Latin letters and digits, which stay
// together, as in gse's CutDAGNoHMM).
func (c *cutter) cut(d *dict, field string, hmm bool, emit func(w string, byHMM bool)) {
	if gse.ToLower {
		field = strings.ToLower(field)
	}
	c.b = append(c.b[:0], field...)
	c.off = c.off[:0]
	for i := range field {
		c.off = append(c.off, i)
	}
	n := len(c.off)
	c.off = append(c.off, len(field))
	c.graph(d, n)
	c.routes(d, n)
	buf := -1 // start (rune) of a run of single characters
	flush := func(end int) {
		if buf < 0 {
			return
		}
		run := field[c.off[buf]:c.off[end]]
		switch {
		case !hmm, end-buf == 1:
			emit(run, false)
		default:
			c.hmm(d, run, emit)
		}
		buf = -1
	}
	for x := 0; x < n; {
		y := c.end[x] + 1
		switch {
		case y-x == 1 && (hmm || isAlnum(field[c.off[x]:c.off[y]])):
			if buf < 0 {
				buf = x
			}
		default:
			flush(x)
			emit(field[c.off[x]:c.off[y]], false)
		}
		x = y
	}
	flush(n)
}

// edge is a word of the graph: where it ends (the rune, inclusive) and
// its frequency (1 for a character the dictionary lacks; 0, which no route
// takes, for one it has only as the beginning of words — both as in gse).
type edge struct {
	end  int
	freq float64
}

// isAlnum reports whether a one-rune string is an ASCII letter or digit
// (gse's [[:alnum:]]).
func isAlnum(r string) bool {
	b := r[0]
	return len(r) == 1 && ('0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z')
}

// graph finds, for every rune, the dictionary words that start there
// (gse's getDag): all ends i such that the text from k to i is a word
// with a frequency; the rune alone when there is none.
func (c *cutter) graph(d *dict, n int) {
	for len(c.dag) < n {
		c.dag = append(c.dag, nil)
	}
	for k := 0; k < n; k++ {
		ends := c.dag[k][:0]
		single := 1.0
		for i := k; i < n; i++ {
			e, ok := d.find(c.b[c.off[k]:c.off[i+1]])
			if !ok {
				break
			}
			if i == k {
				single = d.freq[e]
			}
			if d.freq[e] > 0 {
				ends = append(ends, edge{i, d.freq[e]})
			}
		}
		if len(ends) == 0 {
			ends = append(ends, edge{k, single})
		}
		c.dag[k] = ends
	}
}

// routes computes, from the end backwards, the most probable way to cut
// the text from each rune on (gse's calc, ties to the longer word).
func (c *cutter) routes(d *dict, n int) {
	c.prob = slices.Grow(c.prob[:0], n+1)[:n+1]
	c.end = slices.Grow(c.end[:0], n+1)[:n+1]
	c.prob[n] = 0
	logT := math.Log(d.total)
	for idx := n - 1; idx >= 0; idx-- {
		set := false
		for _, w := range c.dag[idx] {
			i := w.end
			f := math.Log(w.freq) - logT + c.prob[i+1]
			if !set || c.prob[idx] < f || (c.prob[idx] == f && c.end[idx] < i) {
				c.prob[idx], c.end[idx], set = f, i, true
			}
		}
	}
}

// hmm cuts a run of single characters (gse's Segmenter.hmm): a run the
// dictionary has as a word stays characters; any other goes to the HMM.
func (c *cutter) hmm(d *dict, run string, emit func(string, bool)) {
	if _, ok := d.word([]byte(run)); ok {
		for i, r := range run {
			emit(run[i:i+utf8.RuneLen(r)], false)
		}
		return
	}
	for _, w := range hmm.Cut(run) {
		emit(w, true)
	}
}
