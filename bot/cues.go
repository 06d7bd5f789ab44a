package bot

import (
	"strings"
	"unicode/utf8"
)

// cue is one intent cue: the normalised parts that must appear in order
// ("我的…被退回" → ["我的", "被退回"]).
type cue struct {
	text  string // as written, for explanations
	parts []string
}

// runes is the length of the cue's parts together.
func (c cue) runes() int {
	n := 0
	for _, p := range c.parts {
		n += utf8.RuneCountInString(p)
	}
	return n
}

// cueList is the compiled form of one list of content.Cues.
type cueList []cue

// compileCues normalises each cue the way messages are normalised and
// splits it at "…" (or "...").
func compileCues(normalize func(string) string, list []string) cueList {
	var out cueList
	for _, s := range list {
		raw := strings.ReplaceAll(s, "...", "…")
		var parts []string
		for _, p := range strings.Split(raw, "…") {
			if n := squash(normalize(p)); n != "" {
				parts = append(parts, n)
			}
		}
		if len(parts) > 0 {
			out = append(out, cue{text: s, parts: parts})
		}
	}
	return out
}

// squash removes the spaces that normalisation leaves where punctuation
// was, so that 态度，很差 matches the cue 态度很差 — except between two
// Latin words, which stay apart (http evil com does not become one word,
// so word boundaries still hold).
func squash(s string) string {
	if !strings.Contains(s, " ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			if i > 0 && i+1 < len(s) && isLatin(s[i-1]) && isLatin(s[i+1]) {
				b.WriteByte(' ')
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// maxGap is how many characters "…" in a cue may stand for: the parts of
// a cue belong to one clause (我…被退回 is one's own case; 我想知道被退回
// 一般怎么处理 has 想知道 between them, still within reach, but a cue
// must not join words from two ends of a long message).
const maxGap = 12

// match returns the first cue whose parts all occur in text, in order.
// text must be normalised and squashed. A part that begins or ends with a
// Latin letter or digit must not continue a Latin word there: the cue sb
// is not found in usb, nor 12345 in 123456.
func (l cueList) match(text string) (cue, bool) {
	for _, c := range l {
		if matchFrom(text, c.parts, true) {
			return c, true
		}
	}
	return cue{}, false
}

// hedges mark a situation that is only feared or supposed (不想白跑, 万一
// 被退回, 如果超期): a cue right after one does not describe what happened.
var hedges = []string{"不想", "怕", "以免", "万一", "如果", "要是", "避免", "省得", "担心", "假如"}

// matchAsFact is match for cues that describe something that happened
// (a complaint, one's own case): a cue whose first part comes right
// after a hedge does not count.
func (l cueList) matchAsFact(text string) (cue, bool) {
	for _, c := range l {
		for off := 0; off < len(text); {
			i := indexWord(text[off:], c.parts[0])
			if i < 0 {
				break
			}
			i += off
			if !hedged(text[:i]) && matchFrom(text[i:], c.parts, true) {
				return c, true
			}
			_, size := utf8.DecodeRuneInString(text[i:])
			off = i + size
		}
	}
	return cue{}, false
}

// hedged reports whether before ends with a hedge, within two characters.
func hedged(before string) bool {
	rs := []rune(before)
	for cut := 0; cut <= 2 && cut <= len(rs); cut++ {
		s := string(rs[:len(rs)-cut])
		for _, h := range hedges {
			if strings.HasSuffix(s, h) {
				return true
			}
		}
	}
	return false
}

// matchFrom reports whether parts occur in text in order, each within
// maxGap characters of the end of the one before (the first anywhere).
func matchFrom(text string, parts []string, first bool) bool {
	if len(parts) == 0 {
		return true
	}
	for off := 0; off <= len(text); {
		i := indexWord(text[off:], parts[0])
		if i < 0 {
			return false
		}
		i += off
		if !first && utf8.RuneCountInString(text[:i]) > maxGap {
			return false
		}
		if matchFrom(text[i+len(parts[0]):], parts[1:], false) {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		off = i + size
	}
	return false
}

// indexWord is strings.Index with word boundaries at Latin letters and
// digits on the edges of part.
func indexWord(s, part string) int {
	for off := 0; ; {
		i := strings.Index(s[off:], part)
		if i < 0 {
			return -1
		}
		i += off
		startOK := !isLatin(part[0]) || i == 0 || !isLatin(s[i-1])
		end := i + len(part)
		endOK := !isLatin(part[len(part)-1]) || end == len(s) || !isLatin(s[end])
		if startOK && endOK {
			return i
		}
		off = i + 1
	}
}

func isLatin(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// repetitive reports flooding: one character making up most of a message
// (6666666666), or the same chunk said three times or more (关注我 关注我
// 关注我). text is normalised, not squashed. A long number is no flood,
// however its digits repeat (a card, an order or a parcel number:
// 6222 0000 0000 0000 000), nor are numbers said again (the times of
// 9:00—12:00，12:00—13:30).
func repetitive(text string) bool {
	if longNumber(text) {
		return false
	}
	s := strings.ReplaceAll(text, " ", "")
	n := utf8.RuneCountInString(s)
	if n >= 6 {
		counts := map[rune]int{}
		top := 0
		for _, r := range s {
			counts[r]++
			top = max(top, counts[r])
		}
		if float64(top) >= 0.8*float64(n) {
			return true
		}
	}
	words := strings.Fields(text)
	if len(words) >= 3 {
		same := map[string]int{}
		for _, w := range words {
			if utf8.RuneCountInString(w) >= 2 && strings.ContainsFunc(w, func(r rune) bool { return r < '0' || r > '9' }) {
				if same[w]++; same[w] >= 3 {
					return true
				}
			}
		}
	}
	// The whole message one chunk said three times or more, however long
	// (办证找我办证找我…): its shortest period, from the prefix function.
	rs := []rune(s)
	if n >= 6 {
		if p := n - prefixFunction(rs); 3*p <= n {
			return true
		}
	}
	// A chunk of 2–10 characters repeated three times in a row with no
	// space between (刷屏刷屏刷屏), making up most of a short message.
	for size := 2; size <= 10 && 3*size <= len(rs); size++ {
		if 3*size*10 < 6*len(rs) {
			continue
		}
		for i := 0; i+3*size <= len(rs); i++ {
			a := string(rs[i : i+size])
			if string(rs[i+size:i+2*size]) == a && string(rs[i+2*size:i+3*size]) == a {
				return true
			}
		}
	}
	return false
}

// minLongNumber is how many digits make a long number: as many as a
// mobile number has.
const minLongNumber = 11

// longNumber reports whether text (normalised) has a number of
// minLongNumber digits or more, spaces between its digits allowed, with
// three different digits or more (1111111111111 is a flood).
func longNumber(text string) bool {
	n := 0
	var seen [10]bool
	distinct := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= '0' && c <= '9':
			n++
			if !seen[c-'0'] {
				seen[c-'0'] = true
				distinct++
			}
			if n >= minLongNumber && distinct >= 3 {
				return true
			}
		case c == ' ' && n > 0:
		default:
			n, distinct, seen = 0, 0, [10]bool{}
		}
	}
	return false
}

// prefixFunction returns the length of the longest proper prefix of rs
// that is also its suffix (Knuth–Morris–Pratt), in linear time.
func prefixFunction(rs []rune) int {
	pi := make([]int, len(rs))
	for i := 1; i < len(rs); i++ {
		k := pi[i-1]
		for k > 0 && rs[i] != rs[k] {
			k = pi[k-1]
		}
		if rs[i] == rs[k] {
			k++
		}
		pi[i] = k
	}
	if len(pi) == 0 {
		return 0
	}
	return pi[len(pi)-1]
}
