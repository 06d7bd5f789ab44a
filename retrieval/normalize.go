package retrieval

import (
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/longbridgeapp/opencc"
)

// Normalizer brings text to the one form that is indexed and searched:
// simplified characters (character by character, so that no phrase is
// rewritten), half-width letters and digits, lower case, Chinese numerals
// before a unit as Arabic digits (十五个工作日 → 15个工作日, 第八条 → 第8条),
// and punctuation, symbols and emoji turned into single spaces. The same
// Normalizer must be used at index and at query time.
type Normalizer struct {
	simplified *runeCache // traditional → simplified, one character at a time
}

// NewNormalizer loads the traditional → simplified tables (about 2 ms).
func NewNormalizer() (*Normalizer, error) {
	cc, err := opencc.New("t2s")
	if err != nil {
		return nil, fmt.Errorf("normalizer: load t2s: %w", err)
	}
	return &Normalizer{simplified: newRuneCache(func(r rune) string {
		s, err := cc.Convert(string(r))
		if err != nil || s == "" {
			return string(r)
		}
		return s
	})}, nil
}

// runeCache remembers a per-character function's answers; safe for
// concurrent use.
type runeCache struct {
	f  func(rune) string
	mu sync.RWMutex
	m  map[rune]string
}

func newRuneCache(f func(rune) string) *runeCache {
	return &runeCache{f: f, m: map[rune]string{}}
}

func (c *runeCache) get(r rune) string {
	c.mu.RLock()
	s, ok := c.m[r]
	c.mu.RUnlock()
	if ok {
		return s
	}
	s = c.f(r)
	c.mu.Lock()
	c.m[r] = s
	c.mu.Unlock()
	return s
}

// Normalize returns the normal form of s.
func (n *Normalizer) Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // no leading space
	for _, r := range s {
		r = foldWidth(r)
		switch {
		case unicode.Is(unicode.Han, r):
			b.WriteString(n.simplified.get(r))
			space = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		default: // white space, punctuation, symbols, emoji, joiners
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	out := strings.TrimRight(b.String(), " ")
	return arabicNumerals(out)
}

// Simplified returns s with its traditional characters turned into
// simplified ones, character by character, and nothing else changed: the
// one normalisation of the plain baseline ranker (retrieval/baseline),
// against which the search is measured. Search itself uses Normalize.
func (n *Normalizer) Simplified(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			b.WriteString(n.simplified.get(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// foldWidth maps full-width ASCII forms (Ａ, １, ＋) to ASCII and the
// ideographic space to a space.
func foldWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	return r
}

var numeralDigits = map[rune]int{'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
var numeralUnits = map[rune]int{'十': 10, '百': 100, '千': 1000, '万': 10000}

// unitsAfterNumerals are the words after which a Chinese numeral is a
// quantity worth matching as digits: 三个工作日, 十五分钟, 七十周岁, 五年.
// (分 alone is not one: 十分满意 is "very satisfied".)
var unitsAfterNumerals = []string{
	"个", "天", "日", "年", "月", "周", "号", "条", "项", "次", "位", "分钟", "分之", "小时", "元", "岁", "名", "人", "类", "种", "倍", "成", "批", "家", "张", "份", "页", "档", "章", "节", "点",
}

// arabicNumerals rewrites runs of Chinese numerals that stand before a
// unit or after 第 as Arabic digits. Others (一般, 统一, 一网通办), runs
// that continue a number written in digits (3千), and fractions (百分之)
// stay as written.
func arabicNumerals(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && isNumeral(rs[j]) {
			j++
		}
		if j == i {
			b.WriteRune(rs[i])
			i++
			continue
		}
		after := string(rs[j:min(j+2, len(rs))])
		ordinal := i > 0 && rs[i-1] == '第'
		afterDigit := i > 0 && rs[i-1] >= '0' && rs[i-1] <= '9'
		unit := false
		for _, u := range unitsAfterNumerals {
			if strings.HasPrefix(after, u) {
				unit = u != "分之"
				break
			}
		}
		if v, ok := parseNumeral(rs[i:j]); ok && (ordinal || unit) && !afterDigit {
			fmt.Fprintf(&b, "%d", v)
		} else {
			b.WriteString(string(rs[i:j]))
		}
		i = j
	}
	return b.String()
}

func isNumeral(r rune) bool {
	_, d := numeralDigits[r]
	_, u := numeralUnits[r]
	return d || u
}

// parseNumeral reads a Chinese numeral below 100,000,000: 十五, 二十,
// 三百零五, 一千二百, 两万, 三百五 (= 350, the colloquial dropped unit),
// and digit strings such as 二〇二六 (read digit by digit when they have
// three digits or more, or a 〇). Two or three digits in a row without a
// unit (两三天, 三五个) are an approximation, not a number: not read.
func parseNumeral(rs []rune) (int, bool) {
	if len(rs) == 0 || len(rs) > 12 {
		return 0, false
	}
	hasUnit, hasZero := false, false
	for _, r := range rs {
		if _, ok := numeralUnits[r]; ok {
			hasUnit = true
		}
		if r == '〇' || r == '零' {
			hasZero = true
		}
	}
	if !hasUnit {
		if len(rs) == 1 || len(rs) >= 3 || hasZero {
			v := 0
			for _, r := range rs {
				v = v*10 + numeralDigits[r]
			}
			return v, true
		}
		return 0, false
	}
	total, section, cur := 0, 0, -1
	lastUnit := 0 // the last small unit (十, 百, 千) seen in this section
	zeroSeen := false
	for _, r := range rs {
		if d, ok := numeralDigits[r]; ok {
			if d == 0 {
				zeroSeen = true
				continue // 三百零五: 零 only holds a place
			}
			if cur >= 0 {
				return 0, false // two digits in a row: 三五十
			}
			cur = d
			continue
		}
		u := numeralUnits[r]
		if u == 10000 {
			if cur > 0 {
				section += cur
			}
			if section == 0 {
				section = 1
			}
			total += section * 10000
			section, cur, lastUnit, zeroSeen = 0, -1, 0, false
			continue
		}
		if lastUnit != 0 && u >= lastUnit {
			return 0, false // 十百
		}
		if cur < 0 {
			cur = 1 // 十五: an implied 一
		}
		section += cur * u
		lastUnit, cur = u, -1
	}
	if cur > 0 {
		// A last digit right after 百, 千 or 万 without 零 counts in the
		// next place down (三百五 = 350, 两万三 = 23000).
		if lastUnit >= 100 && !zeroSeen {
			cur *= lastUnit / 10
		} else if lastUnit == 0 && total > 0 && !zeroSeen {
			cur *= 1000
		}
		section += cur
	}
	return total + section, true
}
