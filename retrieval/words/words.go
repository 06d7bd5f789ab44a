// Package words segments Chinese text into words as github.com/go-ego/gse
// does (jieba's algorithm: the most probable path through a dictionary,
// gse's HMM for runs the dictionary does not know) and knows each word's
// part of speech and background IDF, from a trimmed copy of jieba's
// dictionary embedded in the binary (dict.txt.gz, written by ./gen; see
// NOTICE).
//
// Its use is Salient: the content words of a question — 结婚证 in
// 结婚证丢了怎么补办 — that a knowledge base, or the entry a search
// matched, must contain if it is about the question's matter.
//
// Text is expected in retrieval's normal form (simplified characters,
// lower case, punctuation as spaces); the dictionary is simplified only.
package words

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-ego/gse/hmm"
)

//go:generate go run ./gen -o dict.txt.gz

//go:embed dict.txt.gz
var dictGz []byte

// Word is one word of a text.
type Word struct {
	Text string
	// Noun says the dictionary tags the word as a noun of some kind
	// (common, proper, place, organisation, abbreviation) or a verbal or
	// adjectival noun (经营, 核查). Words the dictionary lacks are not.
	Noun bool
	// IDF is the word's inverse document frequency in jieba's background
	// corpus (about a million documents: 的 0.9, 办理 6.6, 户口 8.0,
	// 结婚证 10.1); words the table lacks get its median (DefaultIDF).
	IDF float64
}

// SalientIDF is the least background IDF of a salient word: generic
// nouns of questions and answers (办理 6.6, 材料 5.7, 时间 4.1, 地点 6.7)
// fall below it, the things people come about (户口 8.0, 公积金 8.4,
// 营业执照 9.5, 结婚证 10.1) are above.
const SalientIDF = 7.0

// FrequentIDF is the most background IDF of a frequent noun: one that about
// one document in 5,000 or more has (户口 8.0, 公积金 8.4, 个体 7.1, 社保
// 7.4; not 辣椒酱 11.6, 聋哑人 11.4 or 午休 10.8). A knowledge base that
// lacks such a noun is not about the matter it names as readily as one
// that lacks a rare one, which a question may name in passing.
const FrequentIDF = 8.5

// Segmenter cuts text into words. It is safe for concurrent use.
//
// It cuts as gse does, with gse's HMM, but on its own dictionary (dict):
// gse's would cost every garbage collection of the process 300k objects
// to trace; and holding a gse.Segmenter in the retrieval index, which is
// used as an interface, would make the linker keep all its exported
// methods, and with them the 38 MB of dictionaries gse embeds.
type Segmenter struct {
	dict       *dict
	noun       []bool // by tag: a noun's
	defaultIDF float64
	cutters    sync.Pool // of *cutter
}

// ErrDictionary is returned by Load when the embedded dictionary cannot be
// read (a broken build).
var ErrDictionary = errors.New("words: embedded dictionary unreadable")

var load = sync.OnceValues(func() (*Segmenter, error) { return parse(dictGz) })

// loadHMM loads gse's HMM for unknown words, a package variable of
// gse/hmm, once.
var loadHMM = sync.OnceFunc(func() { hmm.LoadModel() })

// Load returns the segmenter, reading the embedded dictionary the first
// time it is called (156k words: about 0.1 s and 7 MB, see BenchmarkLoad);
// later calls return the same one.
func Load() (*Segmenter, error) { return load() }

// nounTags are jieba's tags of nouns: common, person, place,
// organisation and other proper nouns, noun morphemes, verbal and
// adjectival nouns, abbreviations (社保, 医保).
var nounTags = map[string]bool{"n": true, "nr": true, "nrfg": true, "nrt": true, "ns": true, "nt": true,
	"nz": true, "ng": true, "vn": true, "an": true, "j": true}

// parse reads a dictionary as gen writes it: # comment lines (one of
// them "#default-idf\tV", one "#words\tN"), then word, frequency, part of
// speech and IDF (empty when unknown) separated by tabs, sorted by word.
func parse(gz []byte) (*Segmenter, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDictionary, err)
	}
	loadHMM()
	s := &Segmenter{}
	r := bufio.NewReaderSize(zr, 64<<10)
	tags := map[string]uint8{}
	for n := 1; ; n++ {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			if perr := s.parseLine(bytes.TrimSuffix(line, []byte("\n")), tags); perr != nil {
				return nil, fmt.Errorf("%w: line %d: %v", ErrDictionary, n, perr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDictionary, err)
		}
	}
	if s.dict == nil || s.dict.total == 0 || s.defaultIDF == 0 {
		return nil, fmt.Errorf("%w: no words or no default IDF", ErrDictionary)
	}
	for _, t := range s.dict.tags {
		s.noun = append(s.noun, nounTags[t])
	}
	return s, nil
}

// parseLine reads one line of the dictionary (tags numbers the parts of
// speech); the "#words" line must come before the first word.
func (s *Segmenter) parseLine(b []byte, tags map[string]uint8) error {
	if len(b) == 0 {
		return nil
	}
	line := string(b) // the fields are parts of it
	if line[0] == '#' {
		key, val, ok := strings.Cut(line, "\t")
		if !ok {
			return nil // a comment
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return err
		}
		switch key {
		case "#default-idf":
			s.defaultIDF = v
		case "#words":
			s.dict = newDict(int(v))
		}
		return nil
	}
	if s.dict == nil || s.defaultIDF == 0 {
		return errors.New("a word before the #words and #default-idf lines")
	}
	var f [4]string
	rest := line
	for i := range f {
		var ok bool
		if f[i], rest, ok = strings.Cut(rest, "\t"); !ok && i < len(f)-1 {
			return fmt.Errorf("want 4 fields, got %d", i+1)
		}
	}
	freq, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return err
	}
	idf := s.defaultIDF
	if f[3] != "" {
		if idf, err = strconv.ParseFloat(f[3], 64); err != nil {
			return err
		}
	}
	tag, ok := tags[f[2]]
	if !ok {
		if len(s.dict.tags) == 255 {
			return errors.New("more than 255 parts of speech")
		}
		tag = uint8(len(s.dict.tags))
		tags[strings.Clone(f[2])] = tag
		s.dict.tags = append(s.dict.tags, strings.Clone(f[2]))
	}
	s.dict.add(f[0], freq, tag, float32(idf))
	return nil
}

// DefaultIDF is the IDF of a word the background table lacks.
func (s *Segmenter) DefaultIDF() float64 { return s.defaultIDF }

// Lookup returns what the dictionary knows of a word; ok is false for a
// word it lacks (Noun false, IDF the default).
func (s *Segmenter) Lookup(word string) (w Word, ok bool) {
	w = Word{Text: word, IDF: s.defaultIDF}
	e, ok := s.dict.word([]byte(word))
	if !ok {
		return w, false
	}
	w.Noun, w.IDF = s.noun[s.dict.tag[e]], float64(s.dict.idf[e])
	return w, true
}

// Cut returns the words of text in order (jieba's accurate mode with the
// HMM for unknown runs: gse's CutDAG); spaces separate words.
func (s *Segmenter) Cut(text string) []Word {
	var out []Word
	s.each(text, true, func(t string, _ bool) {
		w, _ := s.Lookup(t)
		out = append(out, w)
	})
	return out
}

// Each calls emit with each word of text in order, as Cut finds them,
// without looking the words up: the words of a text are its fields cut
// where Cut cuts them.
func (s *Segmenter) Each(text string, emit func(w string)) {
	s.each(text, true, func(t string, _ bool) { emit(t) })
}

// each calls emit with each word of text in order (see cutter.cut).
func (s *Segmenter) each(text string, hmm bool, emit func(w string, byHMM bool)) {
	c, _ := s.cutters.Get().(*cutter)
	if c == nil {
		c = &cutter{}
	}
	for _, field := range strings.Fields(text) {
		c.cut(s.dict, field, hmm, emit)
	}
	s.cutters.Put(c)
}

// Salient returns the distinct content words of text, in order: words of
// two or more Han characters that are nouns (Word.Noun) and rare enough
// in the background to carry the question (IDF at least SalientIDF) —
// not function words, question words (什么, 哪里, 怎么), verbs (补办,
// 需要) or generic nouns (办理, 材料, 时间). They are words of the
// dictionary's best path through the text, never the HMM's guesses (the
// HMM only joins characters the dictionary does not know as a word), so
// that Search finds each of them in a text that has the same phrase.
func (s *Segmenter) Salient(text string) []Word {
	var out []Word
	s.each(text, false, func(t string, _ bool) {
		if utf8.RuneCountInString(t) < 2 || !allHan(t) ||
			slices.ContainsFunc(out, func(o Word) bool { return o.Text == t }) {
			return
		}
		if w, ok := s.Lookup(t); ok && w.Noun && w.IDF >= SalientIDF {
			out = append(out, w)
		}
	})
	return out
}

// Search returns the distinct words of text in search mode without the
// HMM, sorted: the words of the dictionary's best path through the text,
// the dictionary words of two and three characters inside longer ones
// (jieba's cut_for_search: 公积金 gives 公积 too), and the characters of
// runs the dictionary lacks (gse's CutSearch(text, false)). It is what a
// text contains when a salient word is looked up in it — those are never
// the HMM's, which makes cutting a passage twice as fast.
func (s *Segmenter) Search(text string) []string {
	var out []string
	s.each(text, false, func(w string, _ bool) {
		// gse's cutForSearch: the dictionary's words of two and three
		// characters inside a longer word, then the word.
		if n := utf8.RuneCountInString(w); n > 2 {
			var off []int
			for i := range w {
				off = append(off, i)
			}
			off = append(off, len(w))
			for _, k := range []int{2, 3} {
				for i := 0; i+k < len(off) && k < n; i++ {
					if g := w[off[i]:off[i+k]]; s.known(g) {
						out = append(out, g)
					}
				}
			}
		}
		out = append(out, w)
	})
	slices.Sort(out)
	return slices.Compact(out)
}

// Entry is a word of the dictionary with what the dictionary says of it.
type Entry struct {
	Word
	Freq float64 // in jieba's corpus
	Tag  string  // part of speech: n, nr, ns, vn, …
}

// Nouns yields every noun of the dictionary (Word.Noun), in the
// dictionary's order (by word).
func (s *Segmenter) Nouns() iter.Seq[Entry] {
	return func(yield func(Entry) bool) {
		d := s.dict
		for e := range d.off {
			if d.freq[e] == 0 || !s.noun[d.tag[e]] {
				continue
			}
			o, n := d.off[e], uint32(d.n[e])
			w := Word{Text: string(d.text[o : o+n]), Noun: true, IDF: float64(d.idf[e])}
			if !yield(Entry{Word: w, Freq: d.freq[e], Tag: d.tags[d.tag[e]]}) {
				return
			}
		}
	}
}

// known reports whether the dictionary has word with a frequency.
func (s *Segmenter) known(word string) bool {
	_, ok := s.dict.word([]byte(word))
	return ok
}

func allHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}
