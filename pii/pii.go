// Package pii finds and masks personal data in chat text: resident ID
// numbers, mainland mobile numbers, bank card numbers, e-mail addresses
// and home addresses. The bot, the chat log, the case queue and the channel
// adapters mask with it before a message is shown or stored.
package pii

import (
	"cmp"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind names a kind of personal data.
type Kind string

// The kinds of personal data a Detector finds.
const (
	// IDNumber is a resident identity card number (居民身份证号码):
	// 18 characters, or a legacy 15-digit number.
	IDNumber Kind = "id_number"
	// Mobile is a mainland mobile number, 11 digits 1[3-9]XXXXXXXXX,
	// possibly with a +86, 86 or 0086 prefix.
	Mobile Kind = "mobile"
	// BankCard is a payment card number of 16 to 19 digits: in one piece
	// when it passes the Luhn check, in groups of four (6222 0212 3456
	// 7890 123) whether it passes or not, as not every issuer's numbers do.
	BankCard Kind = "bank_card"
	// Email is an e-mail address.
	Email Kind = "email"
	// Address is a home address: a street and a house number (建设路12号),
	// or the building, unit and room of a residential compound (阳光小区5号
	// 楼1单元302). The match is its numbered parts, from the first number
	// on: the street's or compound's name is left as it is.
	Address Kind = "address"
)

// Match is one piece of personal data found in a text.
type Match struct {
	Kind Kind `json:"kind"`
	// Start and End are byte offsets into the text: Text == text[Start:End].
	Start int `json:"start"`
	End   int `json:"end"`
	// Text is the personal data itself: never encoded, never logged.
	Text string `json:"-"`
	// Checked is true when a check digit confirmed the match (ID number
	// MOD 11-2, card Luhn). It is false for an ID number whose birth date
	// is valid but whose check digit fails, for a card in groups of four
	// that fails the Luhn check, for legacy 15-digit ID numbers, for
	// mobile numbers, e-mail addresses and home addresses.
	Checked bool `json:"checked"`
}

// chinaZone is the time zone birth dates are judged in: a resident ID number
// dated "tomorrow" in Beijing is in the future even where it is today in UTC.
var chinaZone = time.FixedZone("CST", 8*60*60)

// Detector finds personal data in chat messages: resident ID numbers,
// mobile numbers, bank card numbers, e-mail addresses and home
// addresses. Full-width
// characters (１３８, ＠, －) count as their ASCII twins; offsets always
// point into the original text.
//
// Numbers in the allow-list (the service center's own published numbers,
// e.g. "0000-1234567", "12345") are never personal data; they are compared
// by their digits only, so "138 0000 0000" in the list also allows
// "13800000000" and "+86-138-0000-0000". An allow-list entry containing
// "@" is an e-mail address, compared without regard to case. An entry
// that reads as a home address (the service center's own, "示例市XX路1号")
// allows that address however a message begins its name ("XX路1号",
// "中心在XX路1号") and whatever it adds after it ("XX路1号3楼"), but not
// another number or another street ("XX路2号", "YY路1号").
//
// A Detector is safe for concurrent use.
type Detector struct {
	allowDigits    map[string]bool
	allowEmails    map[string]bool
	allowAddresses []officialAddress
	now            func() time.Time // birth dates after today are not valid
}

// New returns a detector that skips the numbers and addresses in
// allow.
func New(allow []string) *Detector {
	d := &Detector{
		allowDigits: map[string]bool{},
		allowEmails: map[string]bool{},
		now:         time.Now,
	}
	for _, a := range allow {
		if strings.ContainsAny(a, "@＠") {
			d.allowEmails[foldLower(a)] = true
			continue
		}
		if o, ok := parseOfficialAddress(a); ok {
			d.allowAddresses = append(d.allowAddresses, o)
			continue
		}
		digits := digitsOf(a)
		if digits == "" {
			continue
		}
		d.allowDigits[digits] = true
		if national, ok := mobileNational(digits); ok {
			d.allowDigits[national] = true
		}
	}
	return d
}

// Find returns the personal data in text, sorted by Start and not
// overlapping. Where two candidates overlap, the one that starts first
// wins, and of two that start together the longer one: in
// "13812345678@163.com" the whole address is one e-mail match.
func (d *Detector) Find(text string) []Match {
	t := newScanText(text)
	cands := d.findEmails(&t)
	cands = append(cands, d.findNumbers(&t, d.today())...)
	cands = append(cands, d.findAddresses(&t)...)
	if len(cands) == 0 {
		return nil
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(a.Start, b.Start); c != 0 {
			return c
		}
		return cmp.Compare(b.End, a.End)
	})
	var out []Match
	end := 0
	for _, c := range cands {
		if c.Start < end {
			continue
		}
		end = c.End
		// An allowed candidate still takes its place, so that no shorter
		// match is cut out of the allowed number or address.
		if !c.allowed {
			out = append(out, c.Match)
		}
	}
	return out
}

// Mask returns text with each piece of personal data masked, and the
// matches it masked (as Find returns them). A mobile number keeps its
// prefix, its first 3 and its last 4 digits (138****5678); an ID number
// keeps its first 6 and last 4 characters (110105********1234); a bank card
// keeps its last 4 digits (************1234); an e-mail address keeps the
// first character of its local part and its domain (z***@example.com); a
// home address keeps its words and hides its numbers, Chinese numerals
// too (建设路**号*栋*单元***室).
// In numbers each hidden digit becomes one "*" and separators stay, so
// "138 1234 5678" becomes "138 **** 5678". Text outside the matches is
// never changed.
func (d *Detector) Mask(text string) (masked string, found []Match) {
	found = d.Find(text)
	if len(found) == 0 {
		return text, nil
	}
	var b strings.Builder
	b.Grow(len(text))
	prev := 0
	for _, m := range found {
		b.WriteString(text[prev:m.Start])
		writeMasked(&b, m)
		prev = m.End
	}
	b.WriteString(text[prev:])
	return b.String(), found
}

// Masked returns the masked form of the match's text, as Mask writes it.
func (m Match) Masked() string {
	var b strings.Builder
	writeMasked(&b, m)
	return b.String()
}

// LogValue logs a match without the personal data itself.
func (m Match) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", string(m.Kind)), slog.Int("start", m.Start), slog.Int("end", m.End))
}

// writeMasked writes the masked form of m to b.
func writeMasked(b *strings.Builder, m Match) {
	if m.Kind == Email {
		_, first := utf8.DecodeRuneInString(m.Text)
		at := strings.IndexFunc(m.Text, func(r rune) bool { return fold(r) == '@' })
		if at < first {
			// Not reached: an e-mail match has a non-empty local part.
			b.WriteString(strings.Repeat("*", utf8.RuneCountInString(m.Text)))
			return
		}
		b.WriteString(m.Text[:first])
		b.WriteString("***")
		b.WriteString(m.Text[at:])
		return
	}
	if m.Kind == Address {
		for _, r := range m.Text {
			if f := fold(r); isDigit(f) || isCNNumeral(f) {
				b.WriteByte('*')
			} else {
				b.WriteRune(r)
			}
		}
		return
	}
	total := 0
	for _, r := range m.Text {
		if isIDChar(fold(r)) {
			total++
		}
	}
	head, tail := 0, 4
	switch m.Kind {
	case IDNumber:
		head = 6
	case Mobile:
		head = total - 8 // the prefix and the first 3 of the 11 digits
	}
	i := 0
	for j := 0; j < len(m.Text); {
		r, size := utf8.DecodeRuneInString(m.Text[j:])
		if isIDChar(fold(r)) {
			if i < head || i >= total-tail {
				b.WriteString(m.Text[j : j+size])
			} else {
				b.WriteByte('*')
			}
			i++
		} else {
			b.WriteString(m.Text[j : j+size])
		}
		j += size
	}
}

// candidate is a match before overlaps are resolved.
type candidate struct {
	Match
	allowed bool // the allow-list names it: it hides nothing and is not reported
}

// civilDate is a calendar date.
type civilDate struct{ y, m, d int }

// today returns the current date in China.
func (d *Detector) today() civilDate {
	n := d.now().In(chinaZone)
	return civilDate{n.Year(), int(n.Month()), n.Day()}
}

// validBirthDate reports whether y-m-d is a real calendar date from 1900 up
// to today.
func validBirthDate(y, m, day int, today civilDate) bool {
	if y < 1900 || m < 1 || m > 12 || day < 1 {
		return false
	}
	if day > time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return false
	}
	switch {
	case y != today.y:
		return y < today.y
	case m != today.m:
		return m < today.m
	default:
		return day <= today.d
	}
}

// scanText is a text with its runes folded to ASCII where a full-width or
// typographic form has an ASCII twin, and the byte offset of every rune.
type scanText struct {
	src string
	r   []rune // folded runes
	off []int  // off[i] is the byte offset of r[i] in src; off[len(r)] == len(src)
}

func newScanText(s string) scanText {
	t := scanText{src: s, r: make([]rune, 0, len(s)), off: make([]int, 0, len(s)+1)}
	for i, c := range s {
		t.r = append(t.r, fold(c))
		t.off = append(t.off, i)
	}
	t.off = append(t.off, len(s))
	return t
}

// span returns the candidate covering runes [from, to).
func (t *scanText) span(kind Kind, from, to int, checked bool) candidate {
	start, end := t.off[from], t.off[to]
	return candidate{Match: Match{Kind: kind, Start: start, End: end, Text: t.src[start:end], Checked: checked}}
}

// fold maps full-width ASCII forms (０-９, Ａ-Ｚ, ＠, ＋, －, …) to ASCII,
// the ideographic and no-break spaces to a space, and hyphens, dashes and
// the minus sign to "-". Every other rune is returned as it is.
func fold(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFF01 + '!'
	case r == 0x3000, r == 0x00A0:
		return ' '
	case r >= 0x2010 && r <= 0x2015, r == 0x2212:
		return '-'
	}
	return r
}

// digitsOf returns the ASCII digits of s, full-width digits included, in
// order.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r = fold(r); isDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// foldLower returns s folded to ASCII where it can be, in lower case.
func foldLower(s string) string {
	return strings.ToLower(strings.Map(fold, strings.TrimSpace(s)))
}

func isDigit(r rune) bool       { return r >= '0' && r <= '9' }
func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }
func isASCIIAlnum(r rune) bool  { return isDigit(r) || isASCIILetter(r) }
func isIDChar(r rune) bool      { return isDigit(r) || r == 'X' || r == 'x' }

// isNumberSep reports whether r may stand between digit groups of one
// number: 138 1234 5678, 138-1234-5678.
func isNumberSep(r rune) bool { return r == ' ' || r == '-' }

// digitGroup is a maximal run of digits.
type digitGroup struct {
	from, to int // rune indices [from, to)
	digits   string
}

// groups returns the maximal runs of digits in t.
func (t *scanText) groups() []digitGroup {
	var gs []digitGroup
	for i := 0; i < len(t.r); {
		if !isDigit(t.r[i]) {
			i++
			continue
		}
		j := i
		for j < len(t.r) && isDigit(t.r[j]) {
			j++
		}
		gs = append(gs, digitGroup{from: i, to: j, digits: string(t.r[i:j])})
		i = j
	}
	return gs
}

// findNumbers returns the ID, mobile and card numbers in t. Digit groups
// joined by single separators form a chain ("+86 138 1234 5678",
// "6222 0212 3456 7890"), which is read from the left: at each group the
// longest reading that fits is taken, and its groups are consumed.
func (d *Detector) findNumbers(t *scanText, today civilDate) []candidate {
	gs := t.groups()
	var out []candidate
	for i := 0; i < len(gs); {
		j := i + 1
		for j < len(gs) && gs[j].from == gs[j-1].to+1 && isNumberSep(t.r[gs[j-1].to]) {
			j++
		}
		chain := gs[i:j]
		for k := 0; k < len(chain); {
			c, n := t.numberAt(chain, k, today)
			if n == 0 {
				k++
				continue
			}
			c.allowed = d.allowedNumber(c.Match)
			out = append(out, c)
			k += n
		}
		i = j
	}
	return out
}

// numberAt reads a number starting at chain[k] and returns it and the
// number of groups it takes, or 0 groups when there is none. An 18-character
// ID number comes first, so that a card-like number with a valid birth date
// is reported as an ID number; a mobile number with a 0086 prefix comes
// before a 15-digit ID number, which it can look like.
func (t *scanText) numberAt(chain []digitGroup, k int, today civilDate) (candidate, int) {
	if c, n := t.id18At(chain, k, today); n > 0 {
		return c, n
	}
	if c, n := t.mobileAt(chain, k); n > 0 {
		return c, n
	}
	if c, n := t.id15At(chain, k, today); n > 0 {
		return c, n
	}
	return t.cardAt(chain, k)
}

// idBoundary reports whether runes [from, to) of t stand alone: an ID number
// is not part of a longer run of ASCII letters and digits.
func (t *scanText) idBoundary(from, to int) bool {
	return (from == 0 || !isASCIIAlnum(t.r[from-1])) && (to == len(t.r) || !isASCIIAlnum(t.r[to]))
}

// endsInX reports whether group g is followed directly by an X or x check
// character.
func (t *scanText) endsInX(g digitGroup) bool {
	return g.to < len(t.r) && (t.r[g.to] == 'X' || t.r[g.to] == 'x')
}

// id18At reads an 18-character resident ID number at chain[k]: 17 digits
// and a check digit or X, in one piece or in groups that split it only
// where its parts meet — after the area code (6) and after the birth date
// (14), and optionally inside them, after 3, 10 or 12: 6-8-4, 3-3-8-4,
// 6-4-4-4, 6-4-2-2-4.
func (t *scanText) id18At(chain []digitGroup, k int, today civilDate) (candidate, int) {
	g := chain[k]
	var id strings.Builder
	var to, n int
	var cuts []int // digits before each group after the first
	for j := k; j < len(chain) && id.Len() < 17; j++ {
		if j > k {
			cuts = append(cuts, id.Len())
		}
		id.WriteString(chain[j].digits)
		to, n = chain[j].to, j-k+1
	}
	switch {
	case id.Len() == 18:
	case id.Len() == 17 && t.endsInX(chain[k+n-1]):
		id.WriteByte('X')
		to++
	default:
		return candidate{}, 0
	}
	if n > 1 && !idCuts(cuts) {
		return candidate{}, 0
	}
	if !t.idBoundary(g.from, to) {
		return candidate{}, 0
	}
	s := id.String()
	if !validBirthDate(atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14]), today) {
		return candidate{}, 0
	}
	return t.span(IDNumber, g.from, to, idCheckChar(s[:17]) == s[17]), n
}

// idCuts reports whether an ID number written in groups is split where
// people split one: after the area code and the birth date, and
// optionally after 3, 10 or 12 characters.
func idCuts(cuts []int) bool {
	area, birth := false, false
	for _, c := range cuts {
		switch c {
		case 6:
			area = true
		case 14:
			birth = true
		case 3, 10, 12:
		default:
			return false
		}
	}
	return area && birth
}

// id15At reads a legacy 15-digit ID number at chain[k]: 6 digits, a birth
// date YYMMDD in the 1900s and 3 digits. It has no check digit.
func (t *scanText) id15At(chain []digitGroup, k int, today civilDate) (candidate, int) {
	g := chain[k]
	if len(g.digits) != 15 || !t.idBoundary(g.from, g.to) {
		return candidate{}, 0
	}
	if !validBirthDate(1900+atoi(g.digits[6:8]), atoi(g.digits[8:10]), atoi(g.digits[10:12]), today) {
		return candidate{}, 0
	}
	return t.span(IDNumber, g.from, g.to, false), 1
}

// idWeights are the ISO 7064 MOD 11-2 weights of the first 17 characters,
// 2^(17-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChar returns the check character of 17 ID digits: the weighted
// sum mod 11 indexes "10X98765432".
func idCheckChar(digits string) byte {
	sum := 0
	for i := range 17 {
		sum += int(digits[i]-'0') * idWeights[i]
	}
	return "10X98765432"[sum%11]
}

// atoi returns the value of a short string of ASCII digits.
func atoi(s string) int {
	n := 0
	for i := range len(s) {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// isMobile reports whether digits is an 11-digit mainland mobile number.
func isMobile(digits string) bool {
	return len(digits) == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9'
}

// mobileNational returns the 11-digit number of a mobile number written
// with or without a 86 or 0086 prefix.
func mobileNational(digits string) (string, bool) {
	for _, p := range []string{"", "86", "0086"} {
		if rest, ok := strings.CutPrefix(digits, p); ok && isMobile(rest) {
			return rest, true
		}
	}
	return "", false
}

// mobileAt reads a mobile number at chain[k]: 11 digits in one piece or as
// 3-4-4, with an optional prefix +86, 86 or 0086, attached or separated.
func (t *scanText) mobileAt(chain []digitGroup, k int) (candidate, int) {
	g := chain[k]
	from := g.from
	if strings.HasPrefix(g.digits, "86") && from > 0 && t.r[from-1] == '+' {
		from-- // +86
	}
	if len(g.digits) >= 11 {
		if _, ok := mobileNational(g.digits); ok {
			if len(g.digits) == 11 {
				from = g.from
			}
			return t.span(Mobile, from, g.to, false), 1
		}
		return candidate{}, 0
	}
	rest := k // the group the 11 digits begin in
	if g.digits == "86" || g.digits == "0086" {
		rest = k + 1
	} else {
		from = g.from
	}
	switch {
	case rest < len(chain) && isMobile(chain[rest].digits):
		return t.span(Mobile, from, chain[rest].to, false), rest - k + 1
	case rest+2 < len(chain) && len(chain[rest].digits) == 3 && len(chain[rest+1].digits) == 4 && len(chain[rest+2].digits) == 4 &&
		isMobile(chain[rest].digits+chain[rest+1].digits+chain[rest+2].digits):
		return t.span(Mobile, from, chain[rest+2].to, false), rest - k + 3
	}
	return candidate{}, 0
}

// cardAt reads a bank card number at chain[k]: 16 to 19 digits in one
// piece, which must pass the Luhn check (a long number may be an order or
// a parcel number), or in groups of 4 (the last group of a 17- to 19-digit
// card shorter), which is how card numbers are written, and a card whether
// it passes the check or not. A reading that passes is preferred.
func (t *scanText) cardAt(chain []digitGroup, k int) (candidate, int) {
	g := chain[k]
	if n := len(g.digits); n >= 16 && n <= 19 {
		if distinctDigits(g.digits) && luhnValid(g.digits) {
			return t.span(BankCard, g.from, g.to, true), 1
		}
		return candidate{}, 0
	}
	if k+3 >= len(chain) {
		return candidate{}, 0
	}
	var b strings.Builder
	for _, q := range chain[k : k+4] {
		if len(q.digits) != 4 {
			return candidate{}, 0
		}
		b.WriteString(q.digits)
	}
	four := b.String()
	if !distinctDigits(four) {
		return candidate{}, 0
	}
	if k+4 < len(chain) {
		if last := chain[k+4]; len(last.digits) < 4 {
			five := four + last.digits
			if ok := luhnValid(five); ok || !luhnValid(four) {
				return t.span(BankCard, g.from, last.to, ok), 5
			}
		}
	}
	return t.span(BankCard, g.from, chain[k+3].to, luhnValid(four)), 4
}

// distinctDigits reports whether digits has 3 distinct digits or more: a
// degenerate run (6666666666666666666, 0000 0000 0000 0000) is flooding or
// a placeholder, not a card.
func distinctDigits(digits string) bool {
	var seen [10]bool
	distinct := 0
	for i := range len(digits) {
		if d := digits[i] - '0'; !seen[d] {
			seen[d] = true
			distinct++
		}
	}
	return distinct >= 3
}

// luhnValid reports whether digits pass the Luhn (mod 10) check.
func luhnValid(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		n := int(digits[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// allowedNumber reports whether the allow-list names the number in m.
func (d *Detector) allowedNumber(m Match) bool {
	digits := digitsOf(m.Text)
	if d.allowDigits[digits] {
		return true
	}
	if m.Kind == Mobile {
		return d.allowDigits[digits[len(digits)-11:]]
	}
	return false
}

// Limits on e-mail addresses from RFC 5321.
const (
	maxLocalPart = 64
	maxDomain    = 253
	maxLabel     = 63
)

// isLocalRune reports whether r may appear in the local part of an
// address. This is the practical subset of RFC 5322's dot-atom that mail
// providers hand out: letters, digits and . _ % + -.
func isLocalRune(r rune) bool {
	return isASCIIAlnum(r) || r == '.' || r == '_' || r == '%' || r == '+' || r == '-'
}

func isDomainRune(r rune) bool { return isASCIIAlnum(r) || r == '.' || r == '-' }

// findEmails returns the e-mail addresses in t: local@domain.tld, where the
// local part is at most 64 characters with no dot at either end and no two
// dots together, and the domain has at least two labels of letters, digits
// and inner hyphens, the last (the TLD) letters only or an xn-- label.
// A trailing dot or label that is not a TLD ends the address:
// "写信到 a@example.com." finds "a@example.com".
func (d *Detector) findEmails(t *scanText) []candidate {
	var out []candidate
	for at, r := range t.r {
		if r != '@' {
			continue
		}
		i := at
		for i > 0 && isLocalRune(t.r[i-1]) {
			i--
		}
		local := string(t.r[i:at])
		if j := strings.LastIndex(local, ".."); j >= 0 {
			local = local[j+2:]
		}
		local = strings.TrimLeft(local, ".")
		if local == "" || len(local) > maxLocalPart || strings.HasSuffix(local, ".") {
			continue
		}
		j := at + 1
		for j < len(t.r) && isDomainRune(t.r[j]) {
			j++
		}
		domain, ok := emailDomain(string(t.r[at+1 : j]))
		if !ok {
			continue
		}
		from, to := at-len(local), at+1+len(domain)
		c := t.span(Email, from, to, false)
		c.allowed = d.allowEmails[strings.ToLower(string(t.r[from:to]))]
		out = append(out, c)
	}
	return out
}

// emailDomain returns the longest prefix of s that is a valid domain name
// with a TLD.
func emailDomain(s string) (string, bool) {
	if i := strings.Index(s, ".."); i >= 0 {
		s = s[:i]
	}
	labels := strings.Split(s, ".")
	for len(labels) >= 2 && !isTLD(labels[len(labels)-1]) {
		labels = labels[:len(labels)-1]
	}
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
	}
	s = strings.Join(labels, ".")
	return s, len(s) <= maxDomain
}

// isTLD reports whether label can be a top-level domain: two or more
// letters, or an internationalized xn-- label.
func isTLD(label string) bool {
	if len(label) < 2 || len(label) > maxLabel {
		return false
	}
	if rest, ok := strings.CutPrefix(strings.ToLower(label), "xn--"); ok {
		return rest != "" && strings.IndexFunc(rest, func(r rune) bool { return !isASCIIAlnum(r) }) < 0 && label[len(label)-1] != '-'
	}
	return strings.IndexFunc(label, func(r rune) bool { return !isASCIILetter(r) }) < 0
}
