package bot

import (
	"slices"
	"unicode"
	"unicode/utf8"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
	"github.com/mozillazg/go-pinyin"
)

// Abuse is also found by its sound: a cue of two Han characters or more
// matches any characters read with the same toneless syllables (傻逼 is
// found in 沙比, 傻毕, 煞笔), and pinyin typed in Latin letters that
// spells them out whole (shabi, sha bi, 傻bi). Matching is by whole
// syllables, never by parts of one. A numeral is matched as itself, not
// by its sound: 去四楼 is not 去死. Ordinary words that sound like abuse
// (比较 after 啥 in 啥比较好) are listed in the lexicon's NotAbuse.

// token stands for a syllable (or a numeral) in a text read by sound.
type token int32

// noSound is the token of what has no sound, or none that a cue has: it
// matches nothing, so no match runs across it.
const noSound token = 0

// maxTokens bounds the syllables a folder tells apart: the toneless
// syllables of Mandarin and the numerals are some 420.
const maxTokens = 0x1800

// tokenBase is where tokens start in the text the sound automaton reads:
// Unicode's private use area, so that a token is one 3-byte rune that no
// other token's bytes can match inside of.
const tokenBase = 0xE000

// soundKey is what gives the one Han character s its sound: its first
// toneless reading, or "#" and the character for a numeral; "" for
// anything else.
func soundKey(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size != len(s) || !unicode.Is(unicode.Han, r) {
		return ""
	}
	if isNumeral(r) {
		return "#" + s
	}
	if p := pinyin.SinglePinyin(r, pinyin.NewArgs()); len(p) > 0 {
		return p[0]
	}
	return ""
}

// isNumeral reports whether r is a Chinese numeral.
func isNumeral(r rune) bool {
	switch r {
	case '零', '〇', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '百', '千', '万', '两', '亿':
		return true
	}
	return false
}

// sounds finds the abuse cues' parts by their syllables.
type sounds struct {
	trie   *ahocorasick.Trie
	parts  [][]int          // parts[k] are the patterns of the cue parts sounding like sound pattern k
	latin  map[string]token // the syllables of the cues, as typed in Latin letters
	maxSyl int              // the longest of them, in letters
}

// soundsBuilder collects the sounds of the abuse cues' parts.
type soundsBuilder struct {
	fo    *folder
	keys  []string
	parts map[string][]int
	latin map[string]token
}

func newSoundsBuilder(fo *folder) *soundsBuilder {
	return &soundsBuilder{fo: fo, parts: map[string][]int{}, latin: map[string]token{}}
}

// add adds the sound of a folded cue part, pattern id: a part of two Han
// characters or more, each with a sound (others are matched by their
// characters only).
func (sb *soundsBuilder) add(f *folded, id int) {
	if len(f.han) < 2 || len(f.han)*3 != len(f.b) {
		return // Latin letters or digits in it, or a character of another size
	}
	key := make([]byte, 0, 3*len(f.han))
	for _, s := range f.han {
		if s.tok == noSound {
			return
		}
		key = utf8.AppendRune(key, tokenBase+rune(s.tok))
	}
	k := string(key)
	if _, ok := sb.parts[k]; !ok {
		sb.keys = append(sb.keys, k)
	}
	if !slices.Contains(sb.parts[k], id) {
		sb.parts[k] = append(sb.parts[k], id)
	}
	for _, s := range f.han {
		if syl := sb.fo.syllable(s.tok); syl != "" {
			sb.latin[syl] = s.tok
		}
	}
}

// build returns the sounds collected, nil if none.
func (sb *soundsBuilder) build() *sounds {
	if len(sb.keys) == 0 {
		return nil
	}
	s := &sounds{trie: ahocorasick.NewTrieBuilder().AddStrings(sb.keys).Build(), latin: sb.latin}
	for _, k := range sb.keys {
		s.parts = append(s.parts, sb.parts[k])
	}
	for syl := range sb.latin {
		s.maxSyl = max(s.maxSyl, len(syl))
	}
	return s
}

// maxLatinWord is the longest Latin word read as pinyin.
const maxLatinWord = 32

// walk adds to h the occurrences of the cue parts that f sounds like.
func (s *sounds) walk(f *folded, h hits) hits {
	p := make([]byte, 0, 3*len(f.b))
	spans := make([]int32, 0, 2*len(f.b)) // start and end in f.b of each token of p
	emit := func(t token, start, end int) {
		p = utf8.AppendRune(p, tokenBase+rune(t))
		spans = append(spans, int32(start), int32(end))
	}
	for i, k := 0, 0; i < len(f.b); {
		switch c := f.b[i]; {
		case c >= utf8.RuneSelf:
			snd := f.han[k]
			emit(snd.tok, i, i+int(snd.n))
			i += int(snd.n)
			k++
		case isLetter(c):
			j := i + 1
			for j < len(f.b) && isLetter(f.b[j]) && !f.gap[j] {
				j++
			}
			if !s.spell(f.b[i:j], i, emit) {
				emit(noSound, i, j)
			}
			i = j
		default:
			emit(noSound, i, i+1)
			i++
		}
	}
	s.trie.Walk(p, func(end, n, id int64) bool {
		first, last := int(end-n+1)/3, int(end)/3
		for _, part := range s.parts[id] {
			h = append(h, hit{id: part, start: int(spans[2*first]), end: int(spans[2*last+1]), endOK: true, sound: true})
		}
		return true
	})
	return h
}

// spell reads a Latin word (at offset off of the folded text) as the
// cues' syllables, all of it: shabi as sha bi. It emits the tokens and
// reports whether it could.
func (s *sounds) spell(word []byte, off int, emit func(t token, start, end int)) bool {
	if len(word) > maxLatinWord {
		return false
	}
	// next[i] is where the syllable that starts at i ends in a reading of
	// word[i:], 0 if word[i:] cannot be read; longest syllables first.
	var next [maxLatinWord + 1]int
	next[len(word)] = len(word)
	for i := len(word) - 1; i >= 0; i-- {
		for n := min(s.maxSyl, len(word)-i); n >= 1; n-- {
			if _, ok := s.latin[string(word[i:i+n])]; ok && next[i+n] != 0 {
				next[i] = i + n
				break
			}
		}
	}
	if next[0] == 0 {
		return false
	}
	for i := 0; i < len(word); i = next[i] {
		emit(s.latin[string(word[i:next[i]])], off+i, off+next[i])
	}
	return true
}
