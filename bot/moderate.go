package bot

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	ahocorasick "github.com/BobuSumisu/aho-corasick"

	"govlive/content"
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
	f := b.fold.fold(text, c.mod.emoji)
	h, excepted := c.mod.walk(f)
	if cue, hide, ok := c.mod.abusive(h, f, excepted); ok {
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
// removed, so that 傻*逼, 傻 逼, 傻😀逼 read 傻逼 and ｓｂ reads sb. An
// emoji of the lexicon's table is read as its word first: 你🐴 reads
// 你马.
type folded struct {
	b   []byte  // the folded text, UTF-8
	src []int32 // src[i] is the offset in the message of the rune b[i] comes from
	gap []bool  // gap[i] says something was removed right before b[i]
	han []sound // the sound of each rune of b that is not ASCII, in order
}

// sound is the sound of one character of a folded text.
type sound struct {
	at  int32 // its offset in b
	n   int8  // its length in bytes
	tok token // its syllable, noSound for none
}

// boundary reports whether a Latin word may start or end at byte i of f:
// not between two Latin letters or digits that stood together in the
// message (sb is not found in usb, but is in "u sb" and "s b").
func (f *folded) boundary(i int) bool {
	return i == 0 || i == len(f.b) || !isLatin(f.b[i-1]) || !isLatin(f.b[i]) || f.gap[i]
}

// folder folds messages, remembering the normal form and the sound of
// the characters it has seen. It is safe for concurrent use.
type folder struct {
	normalize func(string) string
	mu        sync.RWMutex
	forms     map[rune]form
	tokens    map[string]token // syllables (and numerals, "#" and the numeral) by token
	names     []string         // names[t] is the syllable of token t
}

// form is how a character is folded: its normal form without spaces
// ("" for what the normaliser drops) and, when that is one Han
// character, its sound.
type form struct {
	s   string
	tok token
}

// maxFolderForms bounds what a folder remembers: the Han characters in
// use, not every character a hostile sender can think of.
const maxFolderForms = 1 << 14

func newFolder(normalize func(string) string) *folder {
	return &folder{normalize: normalize, forms: map[rune]form{}, tokens: map[string]token{}, names: []string{""}}
}

// form returns the form of r.
func (fo *folder) form(r rune) form {
	fo.mu.RLock()
	f, ok := fo.forms[r]
	fo.mu.RUnlock()
	if ok {
		return f
	}
	f.s = strings.ReplaceAll(fo.normalize(string(r)), " ", "")
	key := soundKey(f.s)
	fo.mu.Lock()
	defer fo.mu.Unlock()
	f.tok = fo.intern(key)
	if len(fo.forms) < maxFolderForms {
		fo.forms[r] = f
	}
	return f
}

// intern returns the token of a sound key, giving it one if it has none;
// fo.mu is held for writing.
func (fo *folder) intern(key string) token {
	if key == "" {
		return noSound
	}
	if t, ok := fo.tokens[key]; ok {
		return t
	}
	if len(fo.names) >= maxTokens {
		return noSound
	}
	t := token(len(fo.names))
	fo.tokens[key] = t
	fo.names = append(fo.names, key)
	return t
}

// syllable returns the syllable of token t ("" for a numeral or none).
func (fo *folder) syllable(t token) string {
	fo.mu.RLock()
	defer fo.mu.RUnlock()
	if int(t) >= len(fo.names) || strings.HasPrefix(fo.names[t], "#") {
		return ""
	}
	return fo.names[t]
}

// fold folds text, reading the emoji of the table as their words (emoji
// may be nil).
func (fo *folder) fold(text string, emoji map[rune][]form) *folded {
	f := &folded{b: make([]byte, 0, len(text)), src: make([]int32, 0, len(text)), gap: make([]bool, 0, len(text)), han: make([]sound, 0, len(text)/3+1)}
	gap := false
	add := func(c byte, at int) {
		f.b = append(f.b, c)
		f.src = append(f.src, int32(at))
		f.gap = append(f.gap, gap)
		gap = false
	}
	addForm := func(fm form, at int) {
		if fm.s == "" {
			return
		}
		if r, size := utf8.DecodeRuneInString(fm.s); size == len(fm.s) && r >= utf8.RuneSelf {
			f.han = append(f.han, sound{at: int32(len(f.b)), n: int8(size), tok: fm.tok})
		} else {
			for i, r := range fm.s {
				if r >= utf8.RuneSelf {
					f.han = append(f.han, sound{at: int32(len(f.b) + i), n: int8(utf8.RuneLen(r)), tok: noSound})
				}
			}
		}
		for j := range len(fm.s) {
			add(fm.s[j], at)
		}
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
		fm := fo.form(r)
		if fm.s == "" {
			word, ok := emoji[r]
			if !ok {
				gap = true
				continue
			}
			for _, w := range word {
				addForm(w, i)
			}
			continue
		}
		addForm(fm, i)
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
	exception            bool // a word of NotAbuse
}

// modCue is a cue of the abuse or spam list: the patterns of its parts.
type modCue struct {
	text  string
	parts []int
}

// modMatcher finds the abuse and spam cues of a lexicon, the words that
// are no abuse and the markers of contact ids in one pass over a folded
// message (Aho–Corasick), and the abuse cues by their sound in another.
type modMatcher struct {
	trie        *ahocorasick.Trie
	patterns    []pattern
	abuse, spam []modCue
	emoji       map[rune][]form // the emoji table, folded
	sounds      *sounds         // nil when no cue has a sound
}

// newModMatcher compiles the abuse and spam lists, the words that are no
// abuse and the emoji table of c: each cue folded the way messages are
// folded and split at "…".
func newModMatcher(fo *folder, c content.Cues) *modMatcher {
	m := &modMatcher{}
	for e, word := range c.Emoji {
		r, _ := utf8.DecodeRuneInString(content.EmojiKey(e))
		var forms []form
		for _, w := range strings.TrimSpace(word) {
			forms = append(forms, fo.form(w))
		}
		if m.emoji == nil {
			m.emoji = map[rune][]form{}
		}
		m.emoji[r] = forms
	}
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
	sb := newSoundsBuilder(fo)
	compile := func(list []string, sound bool) []modCue {
		var out []modCue
		for _, s := range list {
			var parts []int
			for _, p := range strings.Split(strings.ReplaceAll(s, "...", "…"), "…") {
				if f := fo.fold(p, m.emoji); len(f.b) > 0 {
					id := add(string(f.b))
					parts = append(parts, id)
					if sound {
						sb.add(f, id)
					}
				}
			}
			if len(parts) > 0 {
				out = append(out, modCue{text: s, parts: parts})
			}
		}
		return out
	}
	m.abuse, m.spam = compile(c.Abuse, true), compile(c.Spam, false)
	for _, w := range c.NotAbuse {
		if f := fo.fold(w, m.emoji); len(f.b) > 0 {
			m.patterns[add(string(f.b))].exception = true
		}
	}
	for _, e := range []struct {
		words []string
		kind  marker
	}{{wechatMarkers, wechatMarker}, {qqMarkers, qqMarker}} {
		for _, w := range e.words {
			m.patterns[add(w)].marker = e.kind
		}
	}
	m.trie = ahocorasick.NewTrieBuilder().AddStrings(texts).Build()
	m.sounds = sb.build()
	return m
}

// hit is one occurrence of a pattern in a folded message.
type hit struct {
	id, start, end int
	endOK          bool // a Latin word may end where it ends
	sound          bool // found by its sound, not its characters
}

// hits are the occurrences in a message, by pattern and then position.
type hits []hit

// walk returns the occurrences of the patterns in f, leaving out those
// that begin inside a Latin word, and those of the abuse cues' sounds;
// and, when f has a word of NotAbuse, which bytes of f.b are in one.
func (m *modMatcher) walk(f *folded) (h hits, excepted []bool) {
	m.trie.Walk(f.b, func(end, n, id int64) bool {
		p, start := m.patterns[id], int(end-n+1)
		if p.latinStart && !f.boundary(start) {
			return true
		}
		endOK := !p.latinEnd || f.boundary(int(end+1))
		if p.exception && endOK {
			if excepted == nil {
				excepted = make([]bool, len(f.b))
			}
			for i := start; i <= int(end); i++ {
				excepted[i] = true
			}
		}
		h = append(h, hit{id: int(id), start: start, end: int(end + 1), endOK: endOK})
		return true
	})
	if m.sounds != nil {
		h = m.sounds.walk(f, h)
	}
	slices.SortStableFunc(h, func(a, b hit) int {
		if a.id != b.id {
			return a.id - b.id
		}
		return a.start - b.start
	})
	return h, excepted
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

// counts reports whether occurrence o may stand for a part of a cue:
// it ends where a Latin word may end, it is found by its characters if
// sound is false, and it overlaps no word of NotAbuse.
func (o hit) counts(sound bool, excepted []bool) bool {
	if !o.endOK || o.sound && !sound {
		return false
	}
	return excepted == nil || !slices.Contains(excepted[o.start:o.end], true)
}

// match returns the occurrences of the parts of c where they occur in
// order, each within maxGap characters of the end of the one before, or
// nil. Occurrences found by sound count when sound is true; those in a
// word of NotAbuse (excepted) do not.
func (m *modMatcher) match(h hits, f *folded, c modCue, sound bool, excepted []bool) []hit {
	for _, id := range c.parts {
		if len(h.of(id)) == 0 {
			return nil // most cues: a part that does not occur at all
		}
	}
	found := make([]hit, 0, len(c.parts))
	var try func(k, from int) bool
	try = func(k, from int) bool {
		if k == len(c.parts) {
			return true
		}
		for _, o := range h.of(c.parts[k]) {
			if o.start < from || !o.counts(sound, excepted) {
				continue
			}
			if k > 0 && utf8.RuneCount(f.b[from:o.start]) > maxGap {
				return false
			}
			found = append(found[:k], o)
			if try(k+1, o.end) {
				return true
			}
		}
		return false
	}
	if try(0, 0) {
		return found
	}
	return nil
}

// abusive returns the first abuse cue in f and the offsets of the
// message's runes to mask: every occurrence of a one-part cue that
// occurs, and the parts of the first instance of a cue with several.
// Occurrences in a word of NotAbuse (excepted) do not count.
func (m *modMatcher) abusive(h hits, f *folded, excepted []bool) (cue string, hide []bool, ok bool) {
	for _, c := range m.abuse {
		found := m.match(h, f, c, true, excepted)
		if found == nil {
			continue
		}
		if !ok {
			cue, ok = c.text, true
			hide = make([]bool, int(f.src[len(f.src)-1])+1)
		}
		mask := func(o hit) {
			for i := o.start; i < o.end; i++ {
				hide[f.src[i]] = true
			}
		}
		if len(c.parts) > 1 {
			for _, o := range found {
				mask(o)
			}
			continue
		}
		for _, o := range h.of(c.parts[0]) {
			if o.counts(true, excepted) {
				mask(o)
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
		if m.match(h, f, c, false, nil) != nil {
			return c.text, true
		}
	}
	for _, o := range h {
		p := m.patterns[o.id]
		if o.sound {
			continue
		}
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
