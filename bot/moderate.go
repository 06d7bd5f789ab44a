package bot

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	ahocorasick "github.com/BobuSumisu/aho-corasick"

	"govlive/pii"
)

// Moderation is what the bot makes of a message before it decides
// anything else: whether it is hidden from the public chat and why, and
// the text that may be shown or stored.
type Moderation struct {
	// Hidden says the message is not shown in the public chat.
	Hidden bool `json:"hidden,omitempty"`
	// Reason is ReasonAbuse or ReasonSpam for a hidden message.
	Reason Reason `json:"reason,omitempty"`
	// Cue is what hid it: a cue of the lexicon as written, or one of
	// CueLink, CueWeChat, CueQQ and CueFlood.
	Cue string `json:"cue,omitempty"`
	// Masked is the message with its personal data masked and, for an
	// abusive message, its abusive words masked with ＊.
	Masked string `json:"masked"`
	// PII is the personal data found, with offsets into the message.
	PII []pii.Match `json:"pii,omitempty"`

	piiMasked string // the message with only its personal data masked
}

// The cues of spam found without the lexicon.
const (
	CueLink   = "链接"  // a web address: http(s)://, www., a bare domain
	CueWeChat = "微信号" // 加微信, vx, v信, 威信, wx… followed by an id
	CueQQ     = "QQ号" // 加QQ, 扣扣… followed by 5 to 11 digits
	CueFlood  = "刷屏"  // the same character or chunk over and over
)

// Moderate hides abuse and spam and masks personal data: steps 1 and 2
// of Decide, for callers (the chat pipeline) that need them alone. A
// message with personal data and nothing to hide is not hidden: Decide
// escalates it.
func (b *Bot) Moderate(text string) Moderation {
	text = clean(text)
	return b.moderate(b.lex.Load(), text, b.cfg.Normalizer.Normalize(text))
}

// clean makes text valid UTF-8 and cuts it to maxMessage characters.
func clean(text string) string {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	if utf8.RuneCountInString(text) > maxMessage {
		text = string([]rune(text)[:maxMessage])
	}
	return text
}

// moderate is Moderate on a clean text and its normal form.
func (b *Bot) moderate(c *compiled, text, norm string) Moderation {
	found := c.pii.Find(text)
	m := Moderation{PII: found, piiMasked: maskText(text, found, nil)}
	m.Masked = m.piiMasked
	f := b.fold.fold(text)
	h := c.mod.walk(f)
	if cue, hide, ok := c.mod.abusive(h, f); ok {
		m.Hidden, m.Reason, m.Cue = true, ReasonAbuse, cue
		m.Masked = maskText(text, found, hide)
		return m
	}
	cue, ok := c.mod.spammy(h, f, text, c.official)
	if !ok && hasLink(text) {
		cue, ok = CueLink, true
	}
	// A bare number repeats digits: personal data is not flooding.
	if !ok && len(found) == 0 && repetitive(norm) {
		cue, ok = CueFlood, true
	}
	if ok {
		m.Hidden, m.Reason, m.Cue = true, ReasonSpam, cue
	}
	return m
}

// maskText returns text with the matches masked and the runes that start
// at the offsets set in hide replaced with ＊ (hide may be nil).
func maskText(text string, found []pii.Match, hide []bool) string {
	if len(found) == 0 && hide == nil {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 8)
	next := 0 // the next match
	for i := 0; i < len(text); {
		if next < len(found) && found[next].Start == i {
			b.WriteString(found[next].Masked())
			i = found[next].End
			next++
			continue
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		if i < len(hide) && hide[i] {
			b.WriteRune('＊')
		} else {
			b.WriteString(text[i : i+size])
		}
		i += size
	}
	return b.String()
}

// folded is a message in the form abuse and spam are matched in: each
// character normalised as the retrieval normaliser does (traditional to
// simplified, full width to half width, lower case), with what the
// normaliser turns into spaces — spaces, punctuation, symbols, emoji —
// removed, so that 傻*逼, 傻 逼, 傻😀逼 read 傻逼 and ｓｂ reads sb.
type folded struct {
	b   []byte  // the folded text, UTF-8
	src []int32 // src[i] is the offset in the message of the rune b[i] comes from
	gap []bool  // gap[i] says something was removed right before b[i]
}

// boundary reports whether a Latin word may start or end at byte i of f:
// not between two Latin letters or digits that stood together in the
// message (sb is not found in usb, but is in "u sb" and "s b").
func (f *folded) boundary(i int) bool {
	return i == 0 || i == len(f.b) || !isLatin(f.b[i-1]) || !isLatin(f.b[i]) || f.gap[i]
}

// folder folds messages, remembering the normal form of the characters
// it has seen. It is safe for concurrent use.
type folder struct {
	normalize func(string) string
	mu        sync.RWMutex
	forms     map[rune]string
}

// maxFolderForms bounds what a folder remembers: the Han characters in
// use, not every character a hostile sender can think of.
const maxFolderForms = 1 << 14

func newFolder(normalize func(string) string) *folder {
	return &folder{normalize: normalize, forms: map[rune]string{}}
}

// form returns the normal form of r without spaces ("" for what the
// normaliser drops).
func (fo *folder) form(r rune) string {
	fo.mu.RLock()
	s, ok := fo.forms[r]
	fo.mu.RUnlock()
	if ok {
		return s
	}
	s = strings.ReplaceAll(fo.normalize(string(r)), " ", "")
	fo.mu.Lock()
	if len(fo.forms) < maxFolderForms {
		fo.forms[r] = s
	}
	fo.mu.Unlock()
	return s
}

func (fo *folder) fold(text string) *folded {
	f := &folded{b: make([]byte, 0, len(text)), src: make([]int32, 0, len(text)), gap: make([]bool, 0, len(text))}
	gap := false
	add := func(c byte, at int) {
		f.b = append(f.b, c)
		f.src = append(f.src, int32(at))
		f.gap = append(f.gap, gap)
		gap = false
	}
	for i, r := range text {
		if r < utf8.RuneSelf {
			c := byte(r)
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if isLatin(c) {
				add(c, i)
			} else {
				gap = true
			}
			continue
		}
		s := fo.form(r)
		if s == "" {
			gap = true
			continue
		}
		for j := range len(s) {
			add(s[j], i)
		}
	}
	return f
}

// marker is a word that announces a contact id in spam.
type marker int

const (
	noMarker     marker = iota
	wechatMarker        // followed by a WeChat id
	qqMarker            // followed by a QQ number
)

// Words that announce a WeChat id or a QQ number, in folded form.
var (
	wechatMarkers = []string{"加微信", "微信", "加微", "加v", "联系v", "vx", "wx", "v信", "威信", "薇信", "徽信"}
	qqMarkers     = []string{"qq", "扣扣", "企鹅", "加q"}
)

// idFillers may stand between a marker and the id: 微信号是abc123.
const idFillers = "号码是为群"

// pattern is one string the moderation automaton looks for.
type pattern struct {
	n                    int  // length in bytes
	latinStart, latinEnd bool // begins or ends with a Latin letter or digit
	marker               marker
}

// modCue is a cue of the abuse or spam list: the patterns of its parts.
type modCue struct {
	text  string
	parts []int
}

// modMatcher finds the abuse and spam cues of a lexicon and the markers
// of contact ids in one pass over a folded message (Aho–Corasick).
type modMatcher struct {
	trie        *ahocorasick.Trie
	patterns    []pattern
	abuse, spam []modCue
}

// newModMatcher compiles the abuse and spam lists: each cue folded the
// way messages are folded and split at "…".
func newModMatcher(fo *folder, abuse, spam []string) *modMatcher {
	m := &modMatcher{}
	ids := map[string]int{}
	var texts []string
	add := func(s string) int {
		if id, ok := ids[s]; ok {
			return id
		}
		id := len(texts)
		ids[s] = id
		texts = append(texts, s)
		m.patterns = append(m.patterns, pattern{n: len(s), latinStart: isLatin(s[0]), latinEnd: isLatin(s[len(s)-1])})
		return id
	}
	compile := func(list []string) []modCue {
		var out []modCue
		for _, s := range list {
			var parts []int
			for _, p := range strings.Split(strings.ReplaceAll(s, "...", "…"), "…") {
				if f := fo.fold(p).b; len(f) > 0 {
					parts = append(parts, add(string(f)))
				}
			}
			if len(parts) > 0 {
				out = append(out, modCue{text: s, parts: parts})
			}
		}
		return out
	}
	m.abuse, m.spam = compile(abuse), compile(spam)
	for _, e := range []struct {
		words []string
		kind  marker
	}{{wechatMarkers, wechatMarker}, {qqMarkers, qqMarker}} {
		for _, w := range e.words {
			m.patterns[add(w)].marker = e.kind
		}
	}
	m.trie = ahocorasick.NewTrieBuilder().AddStrings(texts).Build()
	return m
}

// hit is one occurrence of a pattern in a folded message.
type hit struct {
	id, start int
	endOK     bool // a Latin word may end where it ends
}

// hits are the occurrences in a message, by pattern and then position.
type hits []hit

// walk returns the occurrences of the patterns in f, leaving out those
// that begin inside a Latin word.
func (m *modMatcher) walk(f *folded) hits {
	var h hits
	m.trie.Walk(f.b, func(end, n, id int64) bool {
		p, start := m.patterns[id], int(end-n+1)
		if p.latinStart && !f.boundary(start) {
			return true
		}
		h = append(h, hit{id: int(id), start: start, endOK: !p.latinEnd || f.boundary(int(end+1))})
		return true
	})
	// Walk reports by end; for one pattern that is also by start.
	slices.SortStableFunc(h, func(a, b hit) int { return a.id - b.id })
	return h
}

// of returns the occurrences of pattern id.
func (h hits) of(id int) hits {
	i, _ := slices.BinarySearchFunc(h, id, func(x hit, id int) int { return x.id - id })
	j := i
	for j < len(h) && h[j].id == id {
		j++
	}
	return h[i:j]
}

// match returns the starts of the parts of c where they occur in order,
// each within maxGap characters of the end of the one before, or nil.
func (m *modMatcher) match(h hits, f *folded, c modCue) []int {
	starts := make([]int, 0, len(c.parts))
	var try func(k, from int) bool
	try = func(k, from int) bool {
		if k == len(c.parts) {
			return true
		}
		for _, o := range h.of(c.parts[k]) {
			if o.start < from || !o.endOK {
				continue
			}
			if k > 0 && utf8.RuneCount(f.b[from:o.start]) > maxGap {
				return false
			}
			starts = append(starts[:k], o.start)
			if try(k+1, o.start+m.patterns[c.parts[k]].n) {
				return true
			}
		}
		return false
	}
	if try(0, 0) {
		return starts
	}
	return nil
}

// abusive returns the first abuse cue in f and the offsets of the
// message's runes to mask: every occurrence of a one-part cue that
// occurs, and the parts of the first instance of a cue with several.
func (m *modMatcher) abusive(h hits, f *folded) (cue string, hide []bool, ok bool) {
	for _, c := range m.abuse {
		starts := m.match(h, f, c)
		if starts == nil {
			continue
		}
		if !ok {
			cue, ok = c.text, true
			hide = make([]bool, int(f.src[len(f.src)-1])+1)
		}
		mask := func(id, start int) {
			for i := start; i < start+m.patterns[id].n; i++ {
				hide[f.src[i]] = true
			}
		}
		if len(c.parts) > 1 {
			for k, start := range starts {
				mask(c.parts[k], start)
			}
			continue
		}
		for _, o := range h.of(c.parts[0]) {
			if o.endOK {
				mask(o.id, o.start)
			}
		}
	}
	return cue, hide, ok
}

// spammy returns the first spam cue in f, or the kind of contact id it
// announces: a marker followed by an id that is not one of the official
// numbers (digits). text is the message f is folded from.
func (m *modMatcher) spammy(h hits, f *folded, text string, official map[string]bool) (string, bool) {
	for _, c := range m.spam {
		if m.match(h, f, c) != nil {
			return c.text, true
		}
	}
	for _, o := range h {
		p := m.patterns[o.id]
		end := o.start + p.n
		// A marker ending in a letter must not run into a word: wxyz.
		if p.marker == noMarker || p.latinEnd && end < len(f.b) && isLetter(f.b[end]) && !f.gap[end] {
			continue
		}
		id, digits := contactID(f, text, end)
		switch {
		case digits && (len(id) < 5 || len(id) > 11 || official[id]):
		case digits && p.marker == qqMarker:
			return CueQQ, true
		case p.marker == wechatMarker && (digits || wechatID(id)):
			return CueWeChat, true
		}
	}
	return "", false
}

// contactID returns the id that starts at byte i of f, after any fillers
// (号, 是…): a run of digits, which may be spaced out (1 2 3 4 5), or a
// WeChat-style id of letters, digits, _ and - as it stands in text.
func contactID(f *folded, text string, i int) (id string, digits bool) {
	for fillers := 0; i < len(f.b) && fillers < 3; fillers++ {
		r, size := utf8.DecodeRune(f.b[i:])
		if !strings.ContainsRune(idFillers, r) {
			break
		}
		i += size
	}
	if i == len(f.b) || !isLatin(f.b[i]) {
		return "", false
	}
	if isDigit(f.b[i]) {
		j := i + 1
		for j < len(f.b) && isDigit(f.b[j]) {
			j++
		}
		if j == len(f.b) || !isLetter(f.b[j]) || f.gap[j] {
			return string(f.b[i:j]), true
		}
	}
	var b strings.Builder
	for _, r := range text[f.src[i]:] {
		r = foldWidth(r)
		if r >= utf8.RuneSelf || !isLatin(byte(r)) && r != '_' && r != '-' {
			break
		}
		b.WriteRune(r)
	}
	return b.String(), false
}

// wechatID reports whether id looks like a WeChat id handed out in spam:
// 6 to 20 letters, digits, _ and -, beginning with a letter, with a digit
// among them (a word such as "official" is not taken for one).
func wechatID(id string) bool {
	return len(id) >= 6 && len(id) <= 20 && isLetter(id[0]) && strings.ContainsAny(id, "0123456789")
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
func isDigit(b byte) bool  { return b >= '0' && b <= '9' }

// officialDigits returns the digits of each official number.
func officialDigits(numbers []string) map[string]bool {
	out := map[string]bool{}
	for _, n := range numbers {
		var b strings.Builder
		for _, r := range n {
			r = foldWidth(r)
			if r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
		if b.Len() > 0 {
			out[b.String()] = true
		}
	}
	return out
}

// foldWidth maps full-width ASCII forms to ASCII.
func foldWidth(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		return r - 0xFEE0
	}
	return r
}

// linkTLDs are the top-level domains a bare domain in a message is
// recognised by: the common ones, and the cheap ones spam uses. Words
// that are also names (wang, ren, love) are left out: Mr.Wang is no link.
var linkTLDs = map[string]bool{
	"com": true, "net": true, "org": true, "cn": true, "top": true, "xyz": true, "vip": true, "cc": true,
	"info": true, "club": true, "site": true, "online": true, "shop": true, "store": true, "link": true,
	"ly": true, "io": true, "co": true, "me": true, "tk": true, "ml": true, "ga": true, "cf": true, "gq": true,
	"ws": true, "biz": true, "icu": true, "tv": true, "hk": true, "tw": true, "mo": true, "cloud": true,
	"asia": true, "website": true, "tech": true,
}

// hasLink reports whether text contains a web address that is not a
// government one (.gov.cn): http:// or https://, www., or a bare domain
// with a known top-level domain (abc.com, x.top/abc) whose name has a
// letter (163.com alone is an e-mail provider, 12306.cn a hotline's site,
// but 163.com/x is a link). A domain after @ is an e-mail address, which
// is personal data, not spam. Full-width forms and 。 or 点 for the dot
// count.
func hasLink(text string) bool {
	rs := make([]rune, 0, len(text))
	for _, r := range text {
		r = foldWidth(r)
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		rs = append(rs, r)
	}
	for i := 0; i < len(rs); i++ {
		if !isHostRune(rs[i]) || i > 0 && (isHostRune(rs[i-1]) || rs[i-1] == '@' || isDot(rs[i-1])) {
			continue
		}
		if rest, ok := cutRunes(rs[i:], "https://"); ok {
			return !govHost(host(rest))
		}
		if rest, ok := cutRunes(rs[i:], "http://"); ok {
			return !govHost(host(rest))
		}
		labels, end := domainAt(rs, i)
		if len(labels) < 2 || govHost(labels) || end < len(rs) && rs[end] == '@' {
			continue
		}
		if labels[0] == "www" {
			return true
		}
		if !linkTLDs[labels[len(labels)-1]] {
			continue
		}
		path := end < len(rs) && rs[end] == '/'
		if path || strings.ContainsFunc(labels[len(labels)-2], func(r rune) bool { return r >= 'a' && r <= 'z' }) {
			return true
		}
	}
	return false
}

func isHostRune(r rune) bool { return r < utf8.RuneSelf && isLatin(byte(r)) || r == '-' }
func isDot(r rune) bool      { return r == '.' || r == '。' || r == '点' }

// cutRunes returns rs after prefix, if it begins with it.
func cutRunes(rs []rune, prefix string) ([]rune, bool) {
	i := 0
	for _, p := range prefix {
		if i == len(rs) || rs[i] != p {
			return nil, false
		}
		i++
	}
	return rs[i:], true
}

// host returns the labels of the host name at the start of rs.
func host(rs []rune) []string {
	labels, _ := domainAt(rs, 0)
	return labels
}

// domainAt reads labels separated by dots from rs[i:], and returns them
// and where they end. A dot not followed by a label ends the domain.
func domainAt(rs []rune, i int) (labels []string, end int) {
	for {
		j := i
		for j < len(rs) && isHostRune(rs[j]) {
			j++
		}
		if j == i {
			return labels, end
		}
		labels = append(labels, string(rs[i:j]))
		end = j
		if j+1 >= len(rs) || !isDot(rs[j]) || !isHostRune(rs[j+1]) {
			return labels, end
		}
		i = j + 1
	}
}

// govHost reports whether the labels name a government site: one under
// gov.cn.
func govHost(labels []string) bool {
	n := len(labels)
	return n >= 2 && labels[n-2] == "gov" && labels[n-1] == "cn"
}
