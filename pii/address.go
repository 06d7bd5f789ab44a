package pii

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// An address is found by its numbered parts — 12号, 3栋, 2单元, 501室 —
// and what stands before the first of them: a street (建设路12号), a
// residential compound (阳光小区5号楼), or, with no name before them, a
// unit or a building's room among two parts or more (5号楼1单元302,
// 3栋501). A
// place named without a number (政务中心在哪条路, XX路几号) is no
// address, and neither are the numbers of windows, floors, documents and
// ranges (25号窗口, 一楼23号, 国办发〔2019〕51号, 19—22号).

// partKind is what a numbered part of an address numbers.
type partKind byte

const (
	partHouse    partKind = 'h' // 12号, 12号院
	partLane     partKind = 'l' // 100弄
	partBuilding partKind = 'b' // 5号楼, 3栋, 8幢, A座
	partUnit     partKind = 'u' // 2单元
	partFloor    partKind = 'f' // 3楼, 12层
	partRoom     partKind = 'r' // 501室, or a bare 501 after a building or unit
	partGroup    partKind = 'g' // 3组 (of a village)
)

// addrPart is one numbered part of an address.
type addrPart struct {
	kind     partKind
	from, to int    // rune indices [from, to) of the number and its word
	value    string // the number in Arabic digits
}

// key is how a part is compared with an official address's.
func (p addrPart) key() string { return string(p.kind) + p.value }

// A street or compound is recognised by the word that ends its name.
var (
	streetWords = []string{"大街", "大道", "胡同", "路", "街", "巷", "弄", "道"}
	estateWords = []string{"小区", "花园", "家园", "公寓", "大厦", "广场", "社区", "山庄", "新村", "宿舍", "大院", "苑", "园", "村", "庄", "城", "府", "院"}
)

// notStreet are the characters before 道 that make a word that is no
// street: 知道, 通道, 频道, 跑道…
const notStreet = "知通频跑车航行难味轨渠管隧赛匝水报打霸门说条"

// addrFold maps the traditional forms of the words addresses are made of
// to the simplified ones.
func addrFold(r rune) rune {
	switch r {
	case '號':
		return '号'
	case '樓':
		return '楼'
	case '棟':
		return '栋'
	case '單':
		return '单'
	case '區':
		return '区'
	case '園':
		return '园'
	case '廈':
		return '厦'
	case '廣':
		return '广'
	case '場':
		return '场'
	case '莊':
		return '庄'
	case '層':
		return '层'
	case '東':
		return '东'
	case '門':
		return '门'
	case '報':
		return '报'
	case '頻':
		return '频'
	case '軌':
		return '轨'
	case '車':
		return '车'
	case '説', '說':
		return '说'
	case '賽':
		return '赛'
	case '難':
		return '难'
	case '線':
		return '线'
	case '臺':
		return '台'
	case '碼':
		return '码'
	case '機':
		return '机'
	case '組':
		return '组'
	}
	return r
}

// cnDigits are the Chinese numerals read as digits; 十 百 千 are units.
const cnDigits = "零〇一二三四五六七八九"

func isCNNumeral(r rune) bool {
	switch r {
	case '零', '〇', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '百', '千', '两':
		return true
	}
	return false
}

// maxAddrName is how many characters before a street or compound word
// are kept as its name, to tell one official address from another.
const maxAddrName = 8

// addrRune returns rune i of t, simplified for address words.
func (t *scanText) addrRune(i int) rune { return addrFold(t.r[i]) }

// addrWordAt reports whether the runes of t from i spell w.
func (t *scanText) addrWordAt(i int, w string) bool {
	for _, r := range w {
		if i >= len(t.r) || t.addrRune(i) != r {
			return false
		}
		i++
	}
	return true
}

// addrWordBefore returns the word of words that ends right before rune
// i of t, or "".
func (t *scanText) addrWordBefore(i int, words []string) string {
	for _, w := range words {
		n := len([]rune(w))
		if i-n >= 0 && t.addrWordAt(i-n, w) {
			return w
		}
	}
	return ""
}

// numeralEnd returns the end of the number that starts at rune i of t: 1
// to 5 digits, or 1 to 6 Chinese numerals.
func (t *scanText) numeralEnd(i int) (end int, ok bool) {
	j := i
	if isDigit(t.r[i]) {
		for j < len(t.r) && isDigit(t.r[j]) {
			j++
		}
		return j, j-i <= 5
	}
	for j < len(t.r) && isCNNumeral(t.r[j]) {
		j++
	}
	return j, j > i && j-i <= 6
}

// numeralValue returns the value of the number in runes [i, end) of t in
// Arabic digits, without leading zeros.
func (t *scanText) numeralValue(i, end int) (string, bool) {
	if isDigit(t.r[i]) {
		return strings.TrimLeft(string(t.r[i:end]), "0"), true
	}
	return cnValue(t.r[i:end])
}

// cnValue reads Chinese numerals: 十二 12, 一百零八 108, 两 2, and a
// string of digits without units (一二三) digit by digit.
func cnValue(rs []rune) (string, bool) {
	digit := func(r rune) int {
		switch r {
		case '两':
			return 2
		case '〇', '零':
			return 0
		}
		return strings.IndexRune("一二三四五六七八九", r)/len("一") + 1
	}
	units := strings.ContainsFunc(string(rs), func(r rune) bool { return r == '十' || r == '百' || r == '千' })
	if !units {
		var b strings.Builder
		for _, r := range rs {
			b.WriteByte(byte('0' + digit(r)))
		}
		return strings.TrimLeft(b.String(), "0"), true
	}
	total, cur := 0, -1
	for _, r := range rs {
		switch r {
		case '十', '百', '千':
			u := map[rune]int{'十': 10, '百': 100, '千': 1000}[r]
			if cur < 0 {
				cur = 1 // 十二: one ten
			}
			total += cur * u
			cur = -1
		default:
			if cur >= 0 && cur != 0 {
				return "", false // two digits in a row among units: 一二十
			}
			cur = digit(r)
		}
	}
	if cur > 0 {
		total += cur
	}
	return strconv.Itoa(total), true
}

// notAfterHouse are what makes 号 after a number no house number: 号线
// (a metro line), 号口 and 号门 (an exit, a gate), 号厅, 号文, 号令,
// 号窗口, 号台, 号车, 号码, 号章, 号字…
const notAfterHouse = "线口门厅文令窗台车码章字票机卡牌柜桌"

// notAfterRoom are what makes a bare number after a building or unit no
// room number: an amount, a date, a count.
const notAfterRoom = "元块米平个分秒天年月日岁次人份号楼层栋单室"

// partAt reads a numbered part at rune i of t: a number and the word that
// says what it numbers. A bare number of 2 to 4 digits is a room when
// bare is true (it follows a building or a unit).
func (t *scanText) partAt(i int, bare bool) (addrPart, bool) {
	if i >= len(t.r) || !isDigit(t.r[i]) && !isCNNumeral(t.r[i]) {
		return addrPart{}, false
	}
	if i > 0 && (isDigit(t.r[i-1]) || isCNNumeral(t.r[i-1]) || isASCIILetter(t.r[i-1]) && isDigit(t.r[i])) {
		return addrPart{}, false // inside a longer number or word
	}
	end, ok := t.numeralEnd(i)
	if !ok {
		return addrPart{}, false
	}
	p := addrPart{from: i}
	next := func(n int) rune {
		if end+n < len(t.r) {
			return t.addrRune(end + n)
		}
		return 0
	}
	switch u := next(0); {
	case u == '号' && next(1) == '楼':
		p.kind, p.to = partBuilding, end+2
	case u == '号' && next(1) == '院':
		p.kind, p.to = partHouse, end+2
	case u == '号':
		if strings.ContainsRune(notAfterHouse, next(1)) {
			return addrPart{}, false
		}
		p.kind, p.to = partHouse, end+1
	case u == '单' && next(1) == '元':
		p.kind, p.to = partUnit, end+2
	case u == '栋', u == '幢', u == '座' && next(1) != '位':
		p.kind, p.to = partBuilding, end+1
	case u == '室':
		p.kind, p.to = partRoom, end+1
	case u == '楼' && next(1) != '盘', u == '层':
		p.kind, p.to = partFloor, end+1
	case u == '弄':
		p.kind, p.to = partLane, end+1
	case u == '组':
		p.kind, p.to = partGroup, end+1
	case bare && isDigit(t.r[i]) && end-i >= 2 && end-i <= 4 && !strings.ContainsRune(notAfterRoom, u) && !isASCIIAlnum(u):
		p.kind, p.to = partRoom, end
	default:
		return addrPart{}, false
	}
	p.value, ok = t.numeralValue(i, end)
	return p, ok && p.value != ""
}

// addrCand is an address found, before the allow-list is asked.
type addrCand struct {
	name  string // up to maxAddrName letters before word, lower case
	word  string // the street or compound word, "" for none
	parts []addrPart
}

// addressAt reads an address whose first numbered part starts at rune i
// of t.
func (t *scanText) addressAt(i int) (addrCand, bool) {
	first, ok := t.partAt(i, false)
	if !ok {
		return addrCand{}, false
	}
	var a addrCand
	// What stands before the number: a street, a compound or nothing.
	before := i
	if before > 0 && t.r[before-1] == ' ' {
		before--
	}
	if before > 0 {
		switch r := t.r[before-1]; {
		case r == '第', r == '-', r == '~', r == '至', r == '到', r == '〔', r == ']', r == '】', r == '〕', r == '#', r >= 0x2010 && r <= 0x2015:
			return addrCand{}, false // 第78号, 19—22号, 〔2019〕51号
		}
	}
	if w := t.addrWordBefore(before, streetWords); w != "" {
		at := before - len([]rune(w))
		if w == "道" && at > 0 && strings.ContainsRune(notStreet, t.addrRune(at-1)) {
			w = ""
		} else if at == 0 || !isNameRune(t.r[at-1]) && !isCNNumeral(t.r[at-1]) {
			w = "" // a street needs a name: 12路 is a bus, not a street
		} else {
			a.word, a.name = w, t.nameBefore(at)
		}
	}
	if a.word == "" {
		if w := t.addrWordBefore(before, estateWords); w != "" {
			at := before - len([]rune(w))
			if at > 0 && isNameRune(t.r[at-1]) {
				a.word, a.name = w, t.nameBefore(at)
			}
		}
	}
	a.parts = append(a.parts, first)
	for {
		last := a.parts[len(a.parts)-1]
		j := last.to
		if j < len(t.r) && t.r[j] == ' ' {
			j++
		}
		bare := last.kind == partBuilding || last.kind == partUnit
		p, ok := t.partAt(j, bare)
		if !ok || slices.ContainsFunc(a.parts, func(q addrPart) bool { return q.kind == p.kind }) {
			break
		}
		a.parts = append(a.parts, p)
		if p.kind == partRoom {
			break // a room ends an address
		}
	}
	has := func(kinds ...partKind) bool {
		return slices.ContainsFunc(a.parts, func(p addrPart) bool { return slices.Contains(kinds, p.kind) })
	}
	switch {
	case slices.Contains(streetWords, a.word):
		ok = first.kind != partFloor && first.kind != partRoom
	case a.word != "":
		ok = has(partHouse, partLane, partBuilding, partUnit, partRoom, partGroup)
	default:
		// 5号楼1单元, 3栋501, 2单元501室 — not 3号楼2层, which may be an
		// office's floor.
		ok = len(a.parts) >= 2 && (has(partUnit) || has(partBuilding) && has(partRoom))
	}
	return a, ok
}

// isNameRune reports whether r may be part of a street's or a compound's
// name: a Han character or a Latin letter, not a numeral.
func isNameRune(r rune) bool {
	return isASCIILetter(r) || unicode.Is(unicode.Han, r) && !isCNNumeral(r)
}

// nameBefore returns up to maxAddrName name runes ending at rune i of t,
// in lower case.
func (t *scanText) nameBefore(i int) string {
	j := i
	for j > 0 && i-j < maxAddrName && (isNameRune(t.r[j-1]) || isCNNumeral(t.r[j-1])) {
		j--
	}
	rs := make([]rune, 0, i-j)
	for _, r := range t.r[j:i] {
		rs = append(rs, unicode.ToLower(addrFold(r)))
	}
	return string(rs)
}

// mayHoldAddress reports whether t has a word that numbered parts end
// with: most messages have none and are not scanned further.
func (t *scanText) mayHoldAddress() bool {
	for _, r := range t.r {
		switch r {
		case '号', '號', '栋', '棟', '幢', '座', '单', '單', '室', '弄', '组', '組':
			return true
		}
	}
	return false
}

// findAddresses returns the home addresses in t.
func (d *Detector) findAddresses(t *scanText) []candidate {
	if !t.mayHoldAddress() {
		return nil
	}
	var out []candidate
	for i := 0; i < len(t.r); i++ {
		if r := t.r[i]; !isDigit(r) && !isCNNumeral(r) || i > 0 && (isDigit(t.r[i-1]) || isCNNumeral(t.r[i-1])) {
			continue // no number starts here
		}
		a, ok := t.addressAt(i)
		if !ok {
			continue
		}
		last := a.parts[len(a.parts)-1]
		c := t.span(Address, a.parts[0].from, last.to, false)
		c.allowed = d.allowedAddress(a)
		out = append(out, c)
		i = last.to - 1
	}
	return out
}

// officialAddress is an address of the allow-list.
type officialAddress struct {
	name, word string
	keys       []string // of its parts, in order
}

// parseOfficialAddress reads an allow-list entry as an address: the first
// one found in it.
func parseOfficialAddress(s string) (officialAddress, bool) {
	t := newScanText(s)
	for i := range t.r {
		if a, ok := t.addressAt(i); ok {
			o := officialAddress{name: a.name, word: a.word}
			for _, p := range a.parts {
				o.keys = append(o.keys, p.key())
			}
			return o, true
		}
	}
	return officialAddress{}, false
}

// allowedAddress reports whether a is one of the allow-list's addresses:
// the same street or compound word, names that end alike (XX路1号 is
// 示例市XX路1号; 和平东路 is not 和平西路), and the official address's
// parts first (XX路1号3楼 is at XX路1号; XX路1号楼 is not).
func (d *Detector) allowedAddress(a addrCand) bool {
	for _, o := range d.allowAddresses {
		if o.word != a.word || len(a.parts) < len(o.keys) || !sameNameEnd(o.name, a.name) {
			continue
		}
		same := true
		for k, key := range o.keys {
			if a.parts[k].key() != key {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// sameNameEnd reports whether two names end in the same two characters
// (or, for a name of one character, that one): the name of an address
// in a message may begin earlier or later than its official form.
func sameNameEnd(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	n := 0
	for n < len(ra) && n < len(rb) && ra[len(ra)-1-n] == rb[len(rb)-1-n] {
		n++
	}
	return n >= min(2, len(ra), len(rb))
}

// IsAddress reports whether s holds a home address as a Detector finds
// one: what an allow-list entry must hold to allow an address.
func IsAddress(s string) bool {
	_, ok := parseOfficialAddress(s)
	return ok
}
