package retrieval

import (
	"slices"
	"strings"

	"govlive/retrieval/words"
)

// wordSet numbers the words (words.Search) of the knowledge base's texts
// and counts how many items — FAQ entries, document chunks — contain
// each, so that a question's salient words that no item contains can be
// told (Result.Foreign) and items come and go one by one.
type wordSet struct {
	ids   map[string]uint32
	count []int32 // by id: items containing the word
}

func newWordSet() *wordSet { return &wordSet{ids: map[string]uint32{}} }

// add counts an item with the given distinct words and returns their
// numbers, sorted: the item keeps them for contains and remove.
func (s *wordSet) add(ws []string) []uint32 {
	out := make([]uint32, 0, len(ws))
	for _, w := range ws {
		id, ok := s.ids[w]
		if !ok {
			id = uint32(len(s.count))
			s.ids[strings.Clone(w)] = id // not the text it is part of
			s.count = append(s.count, 0)
		}
		s.count[id]++
		out = append(out, id)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// numbers returns the numbers of words added before, sorted.
func (s *wordSet) numbers(ws []string) []uint32 {
	out := make([]uint32, 0, len(ws))
	for _, w := range ws {
		if id, ok := s.ids[w]; ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// remove uncounts an item added with add.
func (s *wordSet) remove(ids []uint32) {
	for _, id := range ids {
		if s.count[id] > 0 {
			s.count[id]--
		}
	}
}

// has reports whether some item contains word.
func (s *wordSet) has(word string) bool {
	id, ok := s.ids[word]
	return ok && s.count[id] > 0
}

// missing returns the words of ws that the item with the given (sorted)
// word numbers does not contain; nil when it contains them all.
func (s *wordSet) missing(ws []words.Word, item []uint32) []string {
	var out []string
	for _, w := range ws {
		id, ok := s.ids[w.Text]
		if _, found := slices.BinarySearch(item, id); !ok || !found {
			out = append(out, w.Text)
		}
	}
	return out
}

// foreign returns the words of ws that no item contains; nil when the
// knowledge base has them all.
func (s *wordSet) foreign(ws []words.Word) []string {
	var out []string
	for _, w := range ws {
		if !s.has(w.Text) {
			out = append(out, w.Text)
		}
	}
	return out
}

// entryWords returns the words of a FAQ entry's analysed phrasings and
// of all its texts (the phrasings and the answer), distinct and sorted.
func entryWords(seg *words.Segmenter, phrasings []string, answer string) (asked, all []string) {
	for _, p := range phrasings {
		asked = append(asked, seg.Search(p)...)
	}
	slices.Sort(asked)
	asked = slices.Compact(asked)
	all = append(slices.Clip(asked), seg.Search(answer)...)
	slices.Sort(all)
	return asked, slices.Compact(all)
}
