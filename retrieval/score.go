package retrieval

import (
	"cmp"
	"math"
	"slices"
)

// vocab numbers features so that comparing two texts is a merge of two
// sorted integer lists, not a series of string-keyed map lookups.
type vocab struct {
	ids   map[string]uint32
	names []string // by id
}

func newVocab() *vocab { return &vocab{ids: map[string]uint32{}} }

// fw is one feature of a vector: its number and weight.
type fw struct {
	id uint32
	w  float64
}

// fvec is a feature vector sorted by feature number.
type fvec []fw

func byID(a, b fw) int { return cmp.Compare(a.id, b.id) }

// vector numbers the features of f, adding unknown ones to the vocabulary.
func (v *vocab) vector(f features) fvec {
	out := make(fvec, 0, len(f))
	for k, w := range f {
		id, ok := v.ids[k]
		if !ok {
			id = uint32(len(v.names))
			v.ids[k] = id
			v.names = append(v.names, k)
		}
		out = append(out, fw{id: id, w: w})
	}
	slices.SortFunc(out, byID)
	return out
}

// query numbers the features of a question without growing the
// vocabulary; features the vocabulary lacks are returned as their total
// weight, which counts against the question's coverage.
func (v *vocab) query(f features) (fvec, float64) {
	out := make(fvec, 0, len(f))
	var unknown float64
	for k, w := range f {
		if id, ok := v.ids[k]; ok {
			out = append(out, fw{id: id, w: w})
		} else {
			unknown += w
		}
	}
	slices.SortFunc(out, byID)
	return out, unknown
}

// corpus keeps the document frequency of every feature over a set of
// texts, so that a rare feature (核查, 注销) weighs more than a common one
// (办理, 许可). Items are added and removed one by one; idf is refreshed
// after a batch of changes.
type corpus struct {
	df  []int32
	n   int
	idf []float64
}

func (c *corpus) add(v fvec) {
	c.n++
	for _, f := range v {
		for int(f.id) >= len(c.df) {
			c.df = append(c.df, 0)
		}
		c.df[f.id]++
	}
}

func (c *corpus) remove(v fvec) {
	c.n--
	for _, f := range v {
		if int(f.id) < len(c.df) && c.df[f.id] > 0 {
			c.df[f.id]--
		}
	}
}

// refresh recomputes the inverse document frequencies, for numSize
// features, after the corpus changed.
func (c *corpus) refresh(numSize int) {
	for len(c.df) < numSize {
		c.df = append(c.df, 0)
	}
	if cap(c.idf) < len(c.df) {
		c.idf = make([]float64, len(c.df))
	}
	c.idf = c.idf[:len(c.df)]
	for i, d := range c.df {
		c.idf[i] = idf(c.n, int(d))
	}
}

// idf is a smoothed inverse document frequency; a feature the corpus has
// never seen gets the highest weight, so an out-of-scope word in a
// question lowers how much of the question the corpus explains.
func idf(n, df int) float64 {
	return math.Log(1 + (float64(n)+1)/(float64(df)+0.5))
}

// maxIDF is the weight of a feature no text of the corpus has.
func (c *corpus) maxIDF() float64 { return idf(c.n, 0) }

func (c *corpus) weight(id uint32) float64 {
	if int(id) < len(c.idf) {
		return c.idf[id]
	}
	return c.maxIDF()
}

// mass is the weighted size of a feature vector.
func (c *corpus) mass(v fvec) float64 {
	var m float64
	for _, f := range v {
		m += f.w * c.weight(f.id)
	}
	return m
}

// queryMass is the weighted size of a question: its known features and
// its unknown ones at the highest weight.
func (c *corpus) queryMass(v fvec, unknown float64) float64 {
	return c.mass(v) + unknown*c.maxIDF()
}

// overlap compares a question's features q with an item's features p: the
// share of the question's weight that the item covers (covQ) and the share
// of the item's weight that the question covers (covP). A feature shared
// with different weights counts with the smaller.
func (c *corpus) overlap(q, p fvec, qMass, pMass float64) (covQ, covP float64) {
	if qMass == 0 || pMass == 0 {
		return 0, 0
	}
	var m float64
	for i, j := 0, 0; i < len(q) && j < len(p); {
		switch {
		case q[i].id < p[j].id:
			i++
		case q[i].id > p[j].id:
			j++
		default:
			m += min(q[i].w, p[j].w) * c.weight(q[i].id)
			i++
			j++
		}
	}
	return m / qMass, m / pMass
}

// shared returns the features of q that p has.
func shared(q, p fvec) map[uint32]bool {
	out := map[uint32]bool{}
	for i, j := 0, 0; i < len(q) && j < len(p); {
		switch {
		case q[i].id < p[j].id:
			i++
		case q[i].id > p[j].id:
			j++
		default:
			out[q[i].id] = true
			i++
			j++
		}
	}
	return out
}

// fscore is the weighted harmonic mean of the two coverages; beta > 1
// favours covering the question over covering the item.
func fscore(covQ, covP, beta float64) float64 {
	if covQ == 0 || covP == 0 {
		return 0
	}
	b2 := beta * beta
	return (1 + b2) * covQ * covP / (b2*covP + covQ)
}
