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
// was, so that 态度，很差 matches the cue 态度很差.
func squash(s string) string { return strings.ReplaceAll(s, " ", "") }

// match returns the first cue whose parts all occur in text, in order.
// text must be normalised and squashed. A part that begins or ends with a
// Latin letter or digit must not continue a Latin word there: the cue sb
// is not found in usb, nor 12345 in 123456.
func (l cueList) match(text string) (cue, bool) {
	for _, c := range l {
		rest, ok := text, true
		for _, p := range c.parts {
			i := indexWord(rest, p)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(p):]
		}
		if ok {
			return c, true
		}
	}
	return cue{}, false
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
// 关注我). text is normalised, not squashed.
func repetitive(text string) bool {
	s := squash(text)
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
			if utf8.RuneCountInString(w) >= 2 {
				if same[w]++; same[w] >= 3 {
					return true
				}
			}
		}
	}
	// A chunk of 2–10 characters repeated three times in a row with no
	// space between (刷屏刷屏刷屏), making up most of the message.
	rs := []rune(s)
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
