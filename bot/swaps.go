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

// documentSuffixes are the endings of words that name a document a person
// holds (结婚证, 营业执照, 社保卡, 资格证书, 食品经营许可), longest first.
var documentSuffixes = []string{"证书", "执照", "许可", "证", "照", "卡"}

// suffix returns the ending of w among documentSuffixes, or "".
func suffix(w string) string {
	for _, s := range documentSuffixes {
		if strings.HasSuffix(w, s) {
			return s
		}
	}
	return ""
}

// isDocument reports whether w names a document by its ending; a verb
// with its object (办证, 领证, 补证) or a verb ending so (保证, 验证) does
// not (the first characters retrieval's certificate words exclude).
func isDocument(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	if strings.ContainsRune("办领拿补换发考取开出制有持没用带保验认论见凭签等要给", r) {
		return false
	}
	return suffix(w) != ""
}

// NewSwapper returns a Swapper for the published entries of faqs. Its
// documents are the SwapPoolSize most frequent nouns of the dictionary
// that name a document (isDocument), of two to five Han characters, that
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
			for _, span := range s.documents(t) {
				named = append(named, t[span[0]:span[1]])
			}
		}
	}
	var cands []words.Entry
	for w := range seg.Nouns() {
		if w.Tag != "n" || utf8.RuneCountInString(w.Text) > 5 || !allHan(w.Text) || !isDocument(w.Text) {
			continue
		}
		// A compound: a word of two characters or more before the ending
		// (结婚+证, 营业+执照, 信用+卡; not 护照, 快照 or 李清照).
		if _, ok := seg.Lookup(w.Text[:len(w.Text)-len(suffix(w.Text))]); !ok ||
			utf8.RuneCountInString(w.Text)-utf8.RuneCountInString(suffix(w.Text)) < 2 {
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

// documents returns the byte spans of the document phrases of text (in
// the search's normal form): a noun of the dictionary that names a
// document (isDocument; a lone 证, 照 or 卡 too) with the nouns right
// before it — 食品经营许可证, 巡游出租汽车驾驶员证, 食品证 — of two
// characters or more.
func (s *Swapper) documents(text string) [][2]int {
	var out [][2]int
	off := 0
	start, prev := -1, -1 // the run of nouns before the current word: where it began, where it ended
	for _, w := range s.seg.Cut(text) {
		i := strings.Index(text[off:], w.Text)
		if i < 0 { // the segmenter changed the text (case): no spans
			return nil
		}
		b, e := off+i, off+i+len(w.Text)
		off = e
		if !w.Noun || !allHan(w.Text) {
			start = -1
			continue
		}
		if start < 0 || b != prev { // a new run (a space ends one)
			start = b
		}
		prev = e
		if isDocument(w.Text) && utf8.RuneCountInString(text[start:e]) >= 2 {
			out = append(out, [2]int{start, e})
			start = -1
		}
	}
	return out
}

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
	spans := s.documents(text)
	if len(spans) == 0 {
		return EvalItem{}, false
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(text[last:sp[0]])
		b.WriteString(s.pool[s.next%len(s.pool)])
		s.next++
		last = sp[1]
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
