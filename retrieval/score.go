package retrieval

import "math"

// corpus keeps the document frequency of every feature over a set of
// texts, so that a rare feature (核查, 注销) weighs more than a common one
// (办理, 许可). It is updated item by item.
type corpus struct {
	df map[string]int
	n  int
}

func newCorpus() *corpus { return &corpus{df: map[string]int{}} }

func (c *corpus) add(f features) {
	c.n++
	for k := range f {
		c.df[k]++
	}
}

func (c *corpus) remove(f features) {
	c.n--
	for k := range f {
		if c.df[k]--; c.df[k] <= 0 {
			delete(c.df, k)
		}
	}
}

// idf is a smoothed inverse document frequency; a feature the corpus has
// never seen gets the highest weight, so an out-of-scope word in a
// question lowers how much of the question the corpus explains.
func (c *corpus) idf(k string) float64 {
	return math.Log(1 + (float64(c.n)+1)/(float64(c.df[k])+0.5))
}

// mass is the weighted size of a feature bag.
func (c *corpus) mass(f features) float64 {
	var m float64
	for k, w := range f {
		m += w * c.idf(k)
	}
	return m
}

// overlap compares a question's features q with an item's features p: the
// share of the question's weight that the item covers (covQ), the share of
// the item's weight that the question covers (covP), and the shared
// features.
func (c *corpus) overlap(q, p features, qMass, pMass float64) (covQ, covP float64, shared features) {
	if qMass == 0 || pMass == 0 {
		return 0, 0, nil
	}
	shared = features{}
	var m float64
	for k, w := range q {
		if wp, ok := p[k]; ok {
			m += min(w, wp) * c.idf(k)
			shared[k] = w
		}
	}
	return m / qMass, m / pMass, shared
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
