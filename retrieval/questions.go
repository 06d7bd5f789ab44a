package retrieval

import (
	"slices"

	"govlive/content"
)

// Questions returns how the index's FAQ entries are asked: each entry's
// question and then its similar phrasings, the entries in id order. (The
// chat bot's intent classifier learns from them what an ordinary question
// looks like.)
func (ix *Index) Questions() []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ids := make([]content.FAQID, 0, len(ix.faqs))
	for id := range ix.faqs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []string
	for _, id := range ids {
		e := ix.faqs[id].entry
		out = append(out, e.Question)
		out = append(out, e.Similar...)
	}
	return out
}
