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

// certificateWords keeps the words that name a document a person holds —
// 结婚证, 营业执照, 从业资格证, 社保卡, 食品经营许可 — by their last
// characters, Chinese morphology rather than a list of agencies; verbs
// with their object (办证, 领证, 补证) and verbs ending so (保证, 验证)
// are not.
func certificateWords(ws []string) []string {
	var out []string
	for _, w := range ws {
		rs := []rune(w)
		if len(rs) < 2 {
			continue
		}
		switch rs[0] {
		case '办', '领', '拿', '补', '换', '发', '考', '取', '开', '出', '制', '有', '持', '没', '用', '带',
			'保', '验', '认', '论', '见', '凭', '签', '等', '要', '给':
			continue
		}
		if strings.HasSuffix(w, "证") || strings.HasSuffix(w, "照") || strings.HasSuffix(w, "卡") ||
			strings.HasSuffix(w, "证书") || strings.HasSuffix(w, "许可") {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
