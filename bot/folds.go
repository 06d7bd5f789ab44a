package bot

import (
	"fmt"
	"slices"

	"govlive/content"
)

// Fold is one fold of the leave-one-phrasing-out evaluation of a
// knowledge base: its FAQ entries with some similar phrasings taken out,
// and those phrasings as questions, each expecting the answer with the
// entry it was taken from. The index a fold is asked against is built
// from FAQ, so a question is never one of the phrasings it searches.
type Fold struct {
	FAQ   []content.FAQEntry // copies; the entries given are not changed
	Items []EvalItem
	// Skipped are the phrasings taken out but not asked: they repeat the
	// question of a published entry, which stays in the index.
	Skipped []EvalItem
}

// PhrasingFolds splits the similar phrasings of the published entries of
// faqs into folds by position: fold k (from 1) takes out the k-th similar
// phrasing of every entry that has k or more (the others stay whole in
// that fold) and asks it. Every similar phrasing is asked exactly once.
//
// key is the form two texts are compared in (the search's normal form,
// so that 一网一门一次 and 一网一门1次 are the same text; nil: as
// written). A phrasing taken out takes with it every similar phrasing of
// any entry with the same key, so that no copy of it stays in the fold.
// Draft entries are left as they are and not asked (the search does not
// answer with them).
func PhrasingFolds(faqs []content.FAQEntry, key func(string) string) []Fold {
	if key == nil {
		key = func(s string) string { return s }
	}
	depth := 0
	questions := map[string]bool{} // keys of the published questions
	for _, e := range faqs {
		if e.Status == content.StatusPublished {
			depth = max(depth, len(e.Similar))
			questions[key(e.Question)] = true
		}
	}
	folds := make([]Fold, 0, depth)
	for k := 0; k < depth; k++ {
		fold := Fold{FAQ: make([]content.FAQEntry, len(faqs))}
		out := map[string]bool{} // keys of the phrasings taken out
		for _, e := range faqs {
			if e.Status != content.StatusPublished || k >= len(e.Similar) {
				continue
			}
			it := EvalItem{
				ID:       fmt.Sprintf("%s#%d", e.ID, k+1),
				Question: e.Similar[k],
				Expect:   Expect{Action: ActionAnswer, FAQ: e.ID},
			}
			kq := key(it.Question)
			if questions[kq] {
				fold.Skipped = append(fold.Skipped, it)
			} else {
				fold.Items = append(fold.Items, it)
			}
			out[kq] = true
		}
		for i, e := range faqs {
			e.Similar = slices.DeleteFunc(slices.Clone(e.Similar), func(s string) bool { return out[key(s)] })
			e.Sources = slices.Clone(e.Sources)
			fold.FAQ[i] = e
		}
		folds = append(folds, fold)
	}
	return folds
}
