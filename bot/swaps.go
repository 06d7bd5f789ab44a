package bot

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"govlive/content"
	"govlive/retrieval/words"
)

// Swapper makes the mirror image of the leave-one-phrasing-out folds for
// scope: a phrasing of the knowledge base with the document it asks about
// replaced by another one that the knowledge base is never asked about —
// 从业资格证丢了怎么补办 becomes 结婚证丢了怎么补办 — is a question on
// another office's matter, worded as the center's questions are, and
// should be declined. Nothing in it is written by hand: the documents
// come from the general dictionary by a fixed rule (NewSwapper), the
// phrasings from the knowledge base.
type Swapper struct {
	seg  *words.Segmenter
	key  func(string) string
	pool []string
	next int
}

// SwapPoolSize is how many documents the swaps draw from: the most
// frequent of the dictionary's that qualify.
const SwapPoolSize = 40

// NewSwapper returns a Swapper for the published entries of faqs. Its
// documents are the SwapPoolSize most frequent nouns of the dictionary
// that name a document (words.DocumentWord), of two to five Han characters, that
// no phrasing of the entries contains and that neither contain nor are
// contained in a document a phrasing names (资格证书 would be the 资格证
// the entries are about). key is the form texts are compared in (the
// search's normal form; nil: as written).
func NewSwapper(seg *words.Segmenter, faqs []content.FAQEntry, key func(string) string) *Swapper {
	if key == nil {
		key = func(s string) string { return s }
	}
	s := &Swapper{seg: seg, key: key}
	var texts, named []string
	for _, e := range faqs {
		if e.Status != content.StatusPublished {
			continue
		}
		for _, p := range append([]string{e.Question}, e.Similar...) {
			t := key(p)
			texts = append(texts, t)
			for _, d := range seg.Documents(t) {
				named = append(named, d.Text(t))
			}
		}
	}
	var cands []words.Entry
	for w := range seg.Nouns() {
		if w.Tag != "n" || utf8.RuneCountInString(w.Text) > 5 || !allHan(w.Text) || !words.DocumentWord(w.Text) {
			continue
		}
		// A compound: a word of two characters or more before the ending
		// (结婚+证, 营业+执照, 信用+卡; not 护照, 快照 or 李清照).
		end := words.DocumentEnding(w.Text)
		if _, ok := seg.Lookup(w.Text[:len(w.Text)-len(end)]); !ok ||
			utf8.RuneCountInString(w.Text)-utf8.RuneCountInString(end) < 2 {
			continue
		}
		if slices.ContainsFunc(texts, func(t string) bool { return strings.Contains(t, w.Text) }) ||
			slices.ContainsFunc(named, func(d string) bool { return strings.Contains(d, w.Text) || strings.Contains(w.Text, d) }) {
			continue
		}
		cands = append(cands, w)
	}
	slices.SortFunc(cands, func(a, b words.Entry) int {
		return cmp.Or(cmp.Compare(b.Freq, a.Freq), cmp.Compare(a.Text, b.Text))
	})
	for _, c := range cands[:min(len(cands), SwapPoolSize)] {
		s.pool = append(s.pool, c.Text)
	}
	return s
}

// Pool returns the documents the swaps use, most frequent first.
func (s *Swapper) Pool() []string { return slices.Clone(s.pool) }

// Swap returns a copy of it whose document phrases are each replaced by
// the next document of the pool, expecting decline, its id suffixed
// "~swap"; false when the phrasing names no document (or the pool is
// empty). The pool is used in turn, so that successive swaps name
// different documents.
func (s *Swapper) Swap(it EvalItem) (EvalItem, bool) {
	if len(s.pool) == 0 {
		return EvalItem{}, false
	}
	text := s.key(it.Question)
	docs := s.seg.Documents(text)
	if len(docs) == 0 {
		return EvalItem{}, false
	}
	var b strings.Builder
	last := 0
	for _, d := range docs {
		b.WriteString(text[last:d.Start])
		b.WriteString(s.pool[s.next%len(s.pool)])
		s.next++
		last = d.End
	}
	b.WriteString(text[last:])
	return EvalItem{
		ID:       fmt.Sprintf("%s~swap", it.ID),
		Question: b.String(),
		Expect:   Expect{Action: ActionDecline},
	}, true
}

func allHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}
