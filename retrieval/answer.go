package retrieval

// answerOnlyWeight is the share of a FAQ score taken from answerOnly,
// beside the answer's plain coverage (Weights.AnswerWeight). Chosen on
// the folds (eval --kb-folds), where it lifts recall@3 most: 0.2.
const answerOnlyWeight = 0.2

// answerOnly is the share of the question that entry it says in its
// answer and in none of its phrasings, each feature weighed by the
// answers' document frequencies (办理 or 可以 are in most answers and
// count for little). A question put in words no phrasing uses is often
// put in the answer's (条件 asked as 要求 is listed in the answer of the
// entry on requirements; 领取 in that of the entry on where to collect a
// licence); its plain coverage (scoreFAQ's ansQ) counts what the
// phrasings say a second time and weighs by the phrasings' frequencies,
// so that a long answer covers any question a little.
func (ix *Index) answerOnly(q question, it *faqItem) float64 {
	if q.ansMass == 0 {
		return 0
	}
	var m float64
	for i, j := 0, 0; i < len(q.v) && j < len(it.answer.v); {
		switch f := q.v[i]; {
		case f.id < it.answer.v[j].id:
			i++
		case f.id > it.answer.v[j].id:
			j++
		default:
			if !hasFeature(it.union.v, f.id) {
				m += min(f.w, it.answer.v[j].w) * ix.answers.weight(f.id)
			}
			i++
			j++
		}
	}
	return m / q.ansMass
}
