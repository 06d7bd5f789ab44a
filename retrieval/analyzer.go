package retrieval

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"

	"govlive/retrieval/words"
)

// Analyzer turns a text into what is indexed and compared: the normal
// form (Normalizer) with every synonym replaced by the canonical word of
// its group, and the weighted features of that form — Han character
// unigrams and bigrams, whole Latin/digit words, and pinyin syllable
// bigrams, so that a homophone typo (同城通半 for 同城通办) still shares
// features with the right words.
type Analyzer struct {
	norm  *Normalizer
	syn   map[rune][]synonym // by first rune, longest first
	terms map[rune][][]rune  // domain terms (canonical words), by first rune, longest first

	py *runeCache // toneless pinyin of a character

	// seg, when set, cuts texts into words: a character pair across two
	// words (期了 in 过期了, 看政 in 看政务直播) is weak evidence.
	seg *words.Segmenter
}

type synonym struct {
	term, canonical []rune
}

// NewAnalyzer returns an Analyzer with the given synonym groups (the first
// word of a group is its canonical form; see content.Lexicon).
func NewAnalyzer(norm *Normalizer, groups [][]string) *Analyzer {
	a := &Analyzer{norm: norm, syn: map[rune][]synonym{}, terms: map[rune][][]rune{}, py: newRuneCache(toneless)}
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		canon := []rune(strings.ReplaceAll(norm.Normalize(g[0]), " ", ""))
		if len(canon) >= 2 && allHan(canon) {
			a.terms[canon[0]] = append(a.terms[canon[0]], canon)
		}
		if len(canon) > 0 {
			// The canonical word matches itself, so that a synonym inside
			// it (经营许可 in 食品经营许可证) is not replaced.
			a.syn[canon[0]] = append(a.syn[canon[0]], synonym{term: canon, canonical: canon})
		}
		for _, w := range g[1:] {
			term := []rune(strings.ReplaceAll(norm.Normalize(w), " ", ""))
			if len(term) == 0 || string(term) == string(canon) {
				continue
			}
			a.syn[term[0]] = append(a.syn[term[0]], synonym{term: term, canonical: canon})
		}
	}
	for r := range a.syn {
		list := a.syn[r]
		sort.SliceStable(list, func(i, j int) bool { return len(list[i].term) > len(list[j].term) })
	}
	for r := range a.terms {
		list := a.terms[r]
		sort.SliceStable(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	}
	return a
}

// termsIn lists the domain terms an analysed text contains, once each.
func (a *Analyzer) termsIn(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, tok := range strings.Fields(text) {
		rs := []rune(tok)
		span := a.termSpans(rs)
		for i := 0; i < len(rs); {
			if span[i].length == 0 {
				i++
				continue
			}
			t := string(rs[i : i+span[i].length])
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
			i += span[i].length
		}
	}
	return out
}

// toneless is the first toneless reading of a character, "" if none.
func toneless(r rune) string {
	if p := pinyin.SinglePinyin(r, pinyin.NewArgs()); len(p) > 0 {
		return p[0]
	}
	return ""
}

func allHan(rs []rune) bool {
	for _, r := range rs {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}

// termPos says which domain term occurrence a rune belongs to: the index
// of the occurrence's first rune and its length (0 when none).
type termPos struct{ start, length int }

// termSpans marks, for each rune of a Han run, the domain term occurrence
// it belongs to, matching longest terms first.
func (a *Analyzer) termSpans(run []rune) []termPos {
	span := make([]termPos, len(run))
	for i := 0; i < len(run); {
		matched := 0
		for _, t := range a.terms[run[i]] {
			if hasRunePrefix(run[i:], t) {
				matched = len(t)
				break
			}
		}
		if matched == 0 {
			i++
			continue
		}
		for k := i; k < i+matched; k++ {
			span[k] = termPos{start: i, length: matched}
		}
		i += matched
	}
	return span
}

// Text returns the analysed form of s: normalised, synonyms made canonical.
func (a *Analyzer) Text(s string) string {
	return a.canonical(a.norm.Normalize(s))
}

// canonical replaces synonyms by their canonical word, longest match
// first, scanning left to right; a replacement is not scanned again.
func (a *Analyzer) canonical(s string) string {
	if len(a.syn) == 0 {
		return s
	}
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); {
		replaced := false
		for _, sy := range a.syn[rs[i]] {
			if hasRunePrefix(rs[i:], sy.term) && latinBounded(rs, i, i+len(sy.term)) {
				out = append(out, sy.canonical...)
				i += len(sy.term)
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, rs[i])
			i++
		}
	}
	return string(out)
}

// latinBounded reports whether rs[start:end] does not cut a Latin word or
// number in two at either end (sc in scan, 12 in 123).
func latinBounded(rs []rune, start, end int) bool {
	latin := func(r rune) bool { return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }
	if start > 0 && latin(rs[start]) && latin(rs[start-1]) {
		return false
	}
	if end < len(rs) && latin(rs[end-1]) && latin(rs[end]) {
		return false
	}
	return true
}

func hasRunePrefix(s, prefix []rune) bool {
	if len(prefix) > len(s) {
		return false
	}
	for i, r := range prefix {
		if s[i] != r {
			return false
		}
	}
	return true
}

// syllable returns the toneless pinyin of a Han character, "" if none.
func (a *Analyzer) syllable(r rune) string { return a.py.get(r) }

// Pinyin returns the syllables of the Han characters of an analysed text,
// separated by spaces, with other words kept: "同城通办 app" → "tong cheng tong ban app".
func (a *Analyzer) Pinyin(text string) string {
	var b strings.Builder
	for _, r := range text {
		var w string
		switch {
		case unicode.Is(unicode.Han, r):
			w = a.syllable(r)
		case r == ' ':
			continue
		default:
			w = string(r)
		}
		if w == "" {
			continue
		}
		if b.Len() > 0 && (unicode.Is(unicode.Han, r) || !lastIsWordChar(b.String())) {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

func lastIsWordChar(s string) bool {
	if s == "" {
		return false
	}
	r := rune(s[len(s)-1])
	return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// Feature weights: a shared character bigram is the main evidence, a
// shared syllable bigram (a homophone) counts half, a shared single
// character little; whole Latin/digit words (SC, 12345, 15) count fully.
const (
	weightBigram  = 1.0
	weightWord    = 1.0
	weightPinyin  = 0.5
	weightUnigram = 0.25
)

// weightAcrossWords scales a character pair that straddles two words of
// the text (期了 in 过期了, 看政 in 看政务直播, 人帮 in 有人帮我): such a
// pair is as rare in the knowledge base as a real word, so that its IDF
// is high, but it says how a question is put, not what it is about.
// Chosen on the folds (eval --kb-folds; 0.1–0.5 are within a point of
// each other). A power of two, like the weights above, so that a sum
// of weights does not depend on the order of a map's iteration (the
// unknown weight of a question, vocab.query): the same question scores
// the same to the last bit.
const weightAcrossWords = 0.25

// termWeight is what a whole domain term weighs, against weightBigram
// for a plain pair of characters: a long term (食品经营许可证, six
// bigrams) must not outweigh the one word that tells two questions apart
// (周六, 注销). Its inner features share the term's weight.
const termWeight = 2.0

// features is a bag of weighted features of one analysed text.
type features map[string]float64

// set keeps the larger weight when a feature occurs twice.
func (f features) set(k string, w float64) {
	if w > f[k] {
		f[k] = w
	}
}

// features extracts the features of an analysed text.
func (a *Analyzer) features(text string) features {
	f := make(features, len(text)/2)
	a.visitFeatures(text, func(key []byte, w float64) { f.set(string(key), w) })
	return f
}

// featureIDs extracts the features of an analysed text numbered by the
// vocabulary under construction in, which adds the ones it lacks: what a
// model build does on every core at once.
func (a *Analyzer) featureIDs(text string, in *interner) idFeatures {
	f := make(idFeatures, len(text)/2)
	a.visitFeatures(text, func(key []byte, w float64) {
		id := in.id(key)
		if w > f[id] {
			f[id] = w
		}
	})
	return f
}

// idFeatures are features by number, with the larger weight when a
// feature occurs twice.
type idFeatures map[uint32]float64

// vector is f as a feature vector.
func (f idFeatures) vector() fvec {
	v := make(fvec, 0, len(f))
	for id, w := range f {
		v = append(v, fw{id: id, w: w})
	}
	slices.SortFunc(v, byID)
	return v
}

// visitFeatures calls emit with the name and weight of every feature of an
// analysed text (a feature may come more than once; the name is only
// valid during the call).
func (a *Analyzer) visitFeatures(text string, emit func(key []byte, w float64)) {
	var buf []byte
	key := func(parts ...string) []byte {
		buf = buf[:0]
		for _, p := range parts {
			buf = append(buf, p...)
		}
		return buf
	}
	var r1, r2 [utf8.UTFMax]byte
	var starts []bool // by rune of the token: a word starts there
	for _, tok := range strings.Fields(text) {
		rs := []rune(tok)
		starts = a.wordStarts(tok, len(rs), starts)
		for i := 0; i < len(rs); {
			if !unicode.Is(unicode.Han, rs[i]) {
				j := i
				for j < len(rs) && !unicode.Is(unicode.Han, rs[j]) {
					j++
				}
				emit(key("w:", string(rs[i:j])), weightWord)
				i = j
				continue
			}
			j := i
			for j < len(rs) && unicode.Is(unicode.Han, rs[j]) {
				j++
			}
			run := rs[i:j]
			span := a.termSpans(run)
			for k, r := range run {
				scale := 1.0
				if L := span[k].length; L > 0 {
					scale = termWeight / float64(L-1)
				}
				c1 := string(r1[:utf8.EncodeRune(r1[:], r)])
				emit(key("u:", c1), weightUnigram*scale)
				if k+1 < len(run) {
					bs := 1.0
					switch {
					case span[k].length > 0 && span[k] == span[k+1]:
						bs = scale
					case span[k].length > 0 || span[k+1].length > 0:
						continue // a pair across a term's edge is noise (证办 in 许可证办下来)
					case starts != nil && starts[i+k+1]:
						bs = weightAcrossWords
					}
					c2 := string(r2[:utf8.EncodeRune(r2[:], run[k+1])])
					emit(key("b:", c1, c2), weightBigram*bs)
					p1, p2 := a.syllable(r), a.syllable(run[k+1])
					if p1 != "" && p2 != "" {
						emit(key("p:", p1, " ", p2), weightPinyin*bs)
					}
				}
			}
			i = j
		}
	}
}

// wordStarts marks the runes of tok (n of them) where a word begins, in
// buf; nil without a segmenter.
func (a *Analyzer) wordStarts(tok string, n int, buf []bool) []bool {
	if a.seg == nil {
		return nil
	}
	buf = slices.Grow(buf[:0], n)[:n]
	clear(buf)
	at := 0
	a.seg.Each(tok, func(w string) {
		if at < n {
			buf[at] = true
		}
		at += utf8.RuneCountInString(w)
	})
	return buf
}

// interner numbers feature names while a model is built on several
// goroutines: each distinct name gets one string and one number, in the
// order first seen. It becomes the model's vocabulary (vocab) once the
// build is done.
type interner struct {
	mu    sync.RWMutex
	ids   map[string]uint32
	names []string
}

func newInterner() *interner { return &interner{ids: map[string]uint32{}} }

// id returns the number of the feature name b, adding it if new.
func (in *interner) id(b []byte) uint32 {
	in.mu.RLock()
	id, ok := in.ids[string(b)] // no allocation for the lookup
	in.mu.RUnlock()
	if ok {
		return id
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if id, ok := in.ids[string(b)]; ok {
		return id
	}
	s := string(b)
	id = uint32(len(in.names))
	in.ids[s] = id
	in.names = append(in.names, s)
	return id
}

// vocab is the vocabulary the interner built (it must not be used after).
func (in *interner) vocab() *vocab { return &vocab{ids: in.ids, names: in.names} }

// spans returns the longest runs of text whose bigrams are all in the
// matched set m: what a reader would highlight.
func spans(text string, m features) []string {
	var out []string
	for _, tok := range strings.Fields(text) {
		rs := []rune(tok)
		start := -1
		flush := func(end int) {
			if start >= 0 && end-start >= 2 {
				out = append(out, string(rs[start:end]))
			}
			start = -1
		}
		for k := 0; k+1 < len(rs); k++ {
			if _, ok := m["b:"+string(rs[k:k+2])]; ok {
				if start < 0 {
					start = k
				}
				continue
			}
			if start >= 0 {
				flush(k + 1)
			}
		}
		if start >= 0 {
			flush(len(rs))
		}
	}
	return out
}

// withWords returns a copy of a that cuts texts into words with seg (see
// Analyzer.seg).
func (a *Analyzer) withWords(seg *words.Segmenter) *Analyzer {
	b := *a
	b.seg = seg
	return &b
}
