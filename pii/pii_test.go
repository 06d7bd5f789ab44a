package pii

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// testToday is the date the test detectors believe it is, in Beijing.
var testToday = time.Date(2025, 6, 15, 12, 0, 0, 0, time.FixedZone("CST", 8*60*60))

// newTestDetector returns a detector for allow whose clock stands at
// testToday.
func newTestDetector(tb testing.TB, allow ...string) *Detector {
	tb.Helper()
	d := New(allow)
	d.now = func() time.Time { return testToday }
	return d
}

// testIDCheck computes the check character of 17 ID digits from the
// definition of ISO 7064 MOD 11-2, without the tables pii.go uses: weight
// 2^(17-i) mod 11, check (12 - sum mod 11) mod 11, 10 written X.
func testIDCheck(tb testing.TB, body string) byte {
	tb.Helper()
	if len(body) != 17 {
		tb.Fatalf("ID body %q: got %d digits, want 17", body, len(body))
	}
	sum := 0
	for i := range 17 {
		w := 1
		for range 17 - i {
			w = w * 2 % 11
		}
		sum += int(body[i]-'0') * w
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

// testLuhn reports whether digits pass the Luhn check, counting positions
// from the left (pii.go counts from the right).
func testLuhn(digits string) bool {
	sum := 0
	for i := range len(digits) {
		n := int(digits[i] - '0')
		if (len(digits)-i)%2 == 0 {
			n = n*2/10 + n*2%10
		}
		sum += n
	}
	return sum%10 == 0
}

// luhnComplete returns prefix with the one digit appended that makes it
// pass the Luhn check.
func luhnComplete(tb testing.TB, prefix string) string {
	tb.Helper()
	for c := '0'; c <= '9'; c++ {
		if s := prefix + string(c); testLuhn(s) {
			return s
		}
	}
	tb.Fatalf("no Luhn digit for %q", prefix)
	return ""
}

// validID returns the 17 digits of area, birth date and sequence number
// with their check character.
func validID(tb testing.TB, area, birth, seq string) string {
	tb.Helper()
	body := area + birth + seq
	return body + string(testIDCheck(tb, body))
}

// idWhere returns the first valid ID number for area and birth date, over
// sequence numbers 000 to 999, for which ok holds.
func idWhere(tb testing.TB, area, birth string, ok func(id string) bool) string {
	tb.Helper()
	for seq := range 1000 {
		if id := validID(tb, area, birth, fmt.Sprintf("%03d", seq)); ok(id) {
			return id
		}
	}
	tb.Fatalf("no ID number for %s %s fits", area, birth)
	return ""
}

// notCard is an idWhere condition: the number does not pass the Luhn
// check, so if it is not an ID number it is nothing at all.
func notCard(id string) bool { return !testLuhn(id) }

// wrongCheck returns id with a check character that does not fit.
func wrongCheck(id string) string {
	last := id[len(id)-1]
	for _, c := range "0123456789X" {
		if byte(c) != last {
			return id[:len(id)-1] + string(c)
		}
	}
	return ""
}

// fullWidth writes the ASCII characters of s in their full-width forms.
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ':
			return '\u3000'
		case r > ' ' && r <= '~':
			return r - '!' + '！'
		}
		return r
	}, s)
}

// grouped writes digits in groups of 4 joined by sep.
func grouped(digits, sep string) string {
	var parts []string
	for len(digits) > 4 {
		parts = append(parts, digits[:4])
		digits = digits[4:]
	}
	return strings.Join(append(parts, digits), sep)
}

// want is one expected match: its kind, its text and whether a check digit
// confirmed it.
type want struct {
	kind    Kind
	text    string
	checked bool
}

// checkMatches compares got with wants. Each wanted text is looked for in
// text after the previous match, which gives the exact offsets it must
// have.
func checkMatches(t *testing.T, text string, got []Match, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("Find(%q): got %d matches %+v, want %d %+v", text, len(got), got, len(wants), wants)
	}
	from := 0
	for i, w := range wants {
		at := strings.Index(text[from:], w.text)
		if at < 0 {
			t.Fatalf("bad test: %q not in %q after byte %d", w.text, text, from)
		}
		wm := Match{Kind: w.kind, Start: from + at, End: from + at + len(w.text), Text: w.text, Checked: w.checked}
		if got[i] != wm {
			t.Errorf("Find(%q) match %d: got %+v, want %+v", text, i, got[i], wm)
		}
		from = wm.End
	}
}

func TestFindIDNumber(t *testing.T) {
	id := validID(t, "110105", "19491231", "002")
	leap := validID(t, "440304", "19800229", "123")
	// withX and plain are no cards, even without their last character or
	// with a digit added, so where they are no ID number they are nothing.
	withX := idWhere(t, "320106", "20000101", func(id string) bool {
		return id[17] == 'X' && !testLuhn(id[:17]) && !testLuhn(id[:17]+"5")
	})
	plain := idWhere(t, "110105", "19491231", func(id string) bool {
		return notCard(id) && !testLuhn(id[:16]) && !testLuhn(id[:17]) && !testLuhn(id+"5") && !testLuhn("5"+id)
	})
	cardLike := idWhere(t, "510104", "19881111", testLuhn) // passes Luhn as well
	badDate := func(birth string) string { return idWhere(t, "110105", birth, notCard) }
	d := newTestDetector(t)
	tests := []struct {
		name string
		text string
		want []want
	}{
		{"valid", id, []want{{IDNumber, id, true}}},
		{"leap day", leap, []want{{IDNumber, leap, true}}},
		{"2000 is a leap year", validID(t, "110105", "20000229", "321"), []want{{IDNumber, validID(t, "110105", "20000229", "321"), true}}},
		{"X check digit", withX, []want{{IDNumber, withX, true}}},
		{"lowercase x", strings.ToLower(withX), []want{{IDNumber, strings.ToLower(withX), true}}},
		{"full-width X", withX[:17] + "Ｘ", []want{{IDNumber, withX[:17] + "Ｘ", true}}},
		{"full-width digits", fullWidth(id), []want{{IDNumber, fullWidth(id), true}}},
		{"mistyped check digit", wrongCheck(id), []want{{IDNumber, wrongCheck(id), false}}},
		{"fake number in Chinese text", "我身份证000000199001011234帮我查", []want{{IDNumber, "000000199001011234", false}}},
		{"after a label and space", "ID: " + id, []want{{IDNumber, id, true}}},
		{"written 6-8-4", id[:6] + " " + id[6:14] + " " + id[14:], []want{{IDNumber, id[:6] + " " + id[6:14] + " " + id[14:], true}}},
		{"written 6-8-4 with X", withX[:6] + "-" + withX[6:14] + "-" + withX[14:], []want{{IDNumber, withX[:6] + "-" + withX[6:14] + "-" + withX[14:], true}}},
		{"also passes Luhn", cardLike, []want{{IDNumber, cardLike, true}}},
		{"born today", validID(t, "110105", "20250615", "001"), []want{{IDNumber, validID(t, "110105", "20250615", "001"), true}}},
		{"born 1900-01-01", validID(t, "110105", "19000101", "001"), []want{{IDNumber, validID(t, "110105", "19000101", "001"), true}}},
		{"legacy 15 digits", "老身份证110105491231002", []want{{IDNumber, "110105491231002", false}}},

		{"February 30", badDate("19900230"), nil},
		{"1900 is not a leap year", badDate("19000229"), nil},
		{"1899", badDate("18991231"), nil},
		{"born tomorrow", badDate("20250616"), nil},
		{"born next year", badDate("20260101"), nil},
		{"month 13", badDate("19901301"), nil},
		{"day 0", badDate("19900100"), nil},
		{"17 digits", plain[:17], nil},
		{"16 digits", plain[:16], nil},
		{"19 digits", plain + "5", nil},
		{"digit before", "5" + plain, nil},
		{"letter before", "A" + plain, nil},
		{"letter after", plain + "b", nil},
		{"X then a digit", withX + "5", nil},
		{"X then a letter", withX + "Y", nil},
		{"legacy with a bad date", "110105491331002", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatches(t, tt.text, d.Find(tt.text), tt.want)
		})
	}
}

// TestPIIBirthDateInBeijing checks that "today" is the date in China: at
// 20:00 UTC on 15 June it is already 16 June in Beijing.
func TestBirthDateInBeijing(t *testing.T) {
	id := idWhere(t, "110105", "20250616", notCard)
	d := New(nil)
	d.now = func() time.Time { return time.Date(2025, 6, 15, 20, 0, 0, 0, time.UTC) }
	checkMatches(t, id, d.Find(id), []want{{IDNumber, id, true}})
	d.now = func() time.Time { return time.Date(2025, 6, 15, 15, 0, 0, 0, time.UTC) }
	checkMatches(t, id, d.Find(id), nil)
}

func TestFindMobile(t *testing.T) {
	d := newTestDetector(t)
	tests := []struct {
		name string
		text string
		want []want
	}{
		{"11 digits", "13812345678", []want{{Mobile, "13812345678", false}}},
		{"199", "19912345678", []want{{Mobile, "19912345678", false}}},
		{"spaces", "138 1234 5678", []want{{Mobile, "138 1234 5678", false}}},
		{"dashes", "138-1234-5678", []want{{Mobile, "138-1234-5678", false}}},
		{"+86", "+8613812345678", []want{{Mobile, "+8613812345678", false}}},
		{"+86 and spaces", "+86 138 1234 5678", []want{{Mobile, "+86 138 1234 5678", false}}},
		{"+86 and dashes", "+86-138-1234-5678", []want{{Mobile, "+86-138-1234-5678", false}}},
		{"86", "8613812345678", []want{{Mobile, "8613812345678", false}}},
		{"86 and a space", "86 13812345678", []want{{Mobile, "86 13812345678", false}}},
		{"0086", "008613812345678", []want{{Mobile, "008613812345678", false}}},
		{"0086 and dashes", "0086-138-1234-5678", []want{{Mobile, "0086-138-1234-5678", false}}},
		{"0086 before what could be a legacy ID", "008613900101123", []want{{Mobile, "008613900101123", false}}},
		{"in brackets", "(+86)13812345678", []want{{Mobile, "13812345678", false}}},
		{"in Chinese text", "手机号：13812345678，谢谢", []want{{Mobile, "13812345678", false}}},
		{"full-width", "１３８１２３４５６７８", []want{{Mobile, "１３８１２３４５６７８", false}}},
		{"full-width with prefix and dashes", "＋８６　１３８－１２３４－５６７８", []want{{Mobile, "＋８６　１３８－１２３４－５６７８", false}}},
		{"two, space between", "13812345678 13912345678", []want{{Mobile, "13812345678", false}, {Mobile, "13912345678", false}}},
		{"two grouped, space between", "138 1234 5678 139 1234 5678", []want{{Mobile, "138 1234 5678", false}, {Mobile, "139 1234 5678", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatches(t, tt.text, d.Find(tt.text), tt.want)
		})
	}
}

// TestPIINotPersonal lists numbers and strings that are not personal data.
func TestNotPersonal(t *testing.T) {
	d := newTestDetector(t)
	tests := []struct{ name, text string }{
		{"service hotline", "请拨打0000-1234567咨询"},
		{"12345", "有问题打12345"},
		{"landline", "021-12345678"},
		{"landline, no dash", "02112345678"},
		{"400 number", "400-123-4567"},
		{"bank hotline", "95566"},
		{"10 digits", "1381234567"},
		{"12 digits", "138123456789"},
		{"second digit 2", "12812345678"},
		{"second digit 0", "10012345678"},
		{"3-4-3", "138 1234 567"},
		{"4-4-3", "1381 2345 678"},
		{"two separators", "138  1234  5678"},
		{"digit before", "013812345678"},
		{"prefix 87", "8713812345678"},
		{"15-digit card", luhnComplete(t, "37828224631000")},
		{"20 digits passing Luhn", luhnComplete(t, "6222021234567890123")},
		{"degenerate 19", "6666666666666666666"},
		{"degenerate, passes Luhn", luhnComplete(t, strings.Repeat("6", 15))},
		{"degenerate 19, passes Luhn", luhnComplete(t, strings.Repeat("8", 18))},
		{"degenerate grouped", grouped(luhnComplete(t, strings.Repeat("0", 15)), " ")},
		{"date", "2025-06-15 14:00"},
		{"plain text", "请问社保卡怎么补办？"},
		{"at sign", "@主播 你好"},
		{"no TLD", "user@localhost"},
		{"one label", "user@example"},
		{"numeric TLD", "user@example.123"},
		{"one-letter TLD", "a@b.c"},
		{"empty local part", "@example.com"},
		{"empty label", "user@.com"},
		{"label starts with a dash", "user@-example.com"},
		{"label ends with a dash", "user@example-.com"},
		{"local part ends with a dot", "user.@example.com"},
		{"underscore in domain", "user@exa_mple.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := d.Find(tt.text); len(got) != 0 {
				t.Errorf("Find(%q): got %+v, want none", tt.text, got)
			}
		})
	}
	// The degenerate cases are only worth having if they pass Luhn.
	for _, s := range []string{luhnComplete(t, strings.Repeat("6", 15)), luhnComplete(t, strings.Repeat("8", 18))} {
		if !testLuhn(s) {
			t.Errorf("bad test: %s does not pass Luhn", s)
		}
	}
}

func TestFindBankCard(t *testing.T) {
	c16 := luhnComplete(t, "622202123456789")
	c17 := luhnComplete(t, "6228481234567890")
	c18 := luhnComplete(t, "62284812345678901") // positions 7–14 are no date
	c19 := luhnComplete(t, "621700123456789012")
	d := newTestDetector(t)
	tests := []struct {
		name string
		text string
		want []want
	}{
		{"16 digits", c16, []want{{BankCard, c16, true}}},
		{"17 digits", c17, []want{{BankCard, c17, true}}},
		{"18 digits", c18, []want{{BankCard, c18, true}}},
		{"19 digits", c19, []want{{BankCard, c19, true}}},
		{"groups of 4, spaces", grouped(c16, " "), []want{{BankCard, grouped(c16, " "), true}}},
		{"groups of 4, dashes", grouped(c16, "-"), []want{{BankCard, grouped(c16, "-"), true}}},
		{"19 as 4-4-4-4-3", grouped(c19, " "), []want{{BankCard, grouped(c19, " "), true}}},
		{"full-width", fullWidth(grouped(c19, " ")), []want{{BankCard, fullWidth(grouped(c19, " ")), true}}},
		{"in Chinese text", "卡号" + c16 + "（工行）", []want{{BankCard, c16, true}}},
		{"letters around", "card" + c16 + "end", []want{{BankCard, c16, true}}},
		{"one digit changed", c16[:15] + string('0'+(c16[15]-'0'+1)%10), nil},
		{"two digits swapped", c16[:4] + c16[5:6] + c16[4:5] + c16[6:], nil},
		{"group of 3 inside", c16[:4] + " " + c16[4:7] + " " + c16[7:], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatches(t, tt.text, d.Find(tt.text), tt.want)
		})
	}
	if c16[4] == c16[5] {
		t.Errorf("bad test: swapping equal digits of %s changes nothing", c16)
	}
}

func TestFindEmail(t *testing.T) {
	d := newTestDetector(t)
	tests := []struct {
		name string
		text string
		want []want
	}{
		{"plain", "zhang.san@example.com", []want{{Email, "zhang.san@example.com", false}}},
		{"plus and subdomain", "a+tag@mail.example.org", []want{{Email, "a+tag@mail.example.org", false}}},
		{"in Chinese text", "邮箱是test_user@qq.com谢谢", []want{{Email, "test_user@qq.com", false}}},
		{"upper case", "USER@EXAMPLE.COM", []want{{Email, "USER@EXAMPLE.COM", false}}},
		{"sentence full stop", "写信到 a@example.com.", []want{{Email, "a@example.com", false}}},
		{"Chinese full stop", "写信到a@example.com。", []want{{Email, "a@example.com", false}}},
		{"digits in the domain", "wang@126.com", []want{{Email, "wang@126.com", false}}},
		{"hyphen in the domain", "li@my-mail.example.cn", []want{{Email, "li@my-mail.example.cn", false}}},
		{"IDN TLD", "gov@example.xn--fiqs8s", []want{{Email, "gov@example.xn--fiqs8s", false}}},
		{"mobile number as local part", "13812345678@163.com", []want{{Email, "13812345678@163.com", false}}},
		{"full-width", "ｕｓｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ", []want{{Email, "ｕｓｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ", false}}},
		{"double dot cuts the local part", "a..b@example.com", []want{{Email, "b@example.com", false}}},
		{"trailing numeric label", "a@example.com.123", []want{{Email, "a@example.com", false}}},
		{"two", "a@example.com,b@example.org", []want{{Email, "a@example.com", false}, {Email, "b@example.org", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatches(t, tt.text, d.Find(tt.text), tt.want)
		})
	}
}

func TestAllowList(t *testing.T) {
	card := luhnComplete(t, "622202123456789")
	d := newTestDetector(t,
		"0000-1234567", "12345", "138 0000 0000", "+86 139-0000-0000",
		fullWidth(card), "Service@Gov.Example.cn", "", "——")
	tests := []struct {
		name string
		text string
		want []want
	}{
		{"published numbers", "热线0000-1234567或12345", nil},
		{"allowed mobile", "13800000000", nil},
		{"allowed mobile, grouped", "138-0000-0000", nil},
		{"allowed mobile, +86", "+86 138 0000 0000", nil},
		{"allowed with +86, written without", "13900000000", nil},
		{"allowed card, written grouped", grouped(card, " "), nil},
		{"allowed address, other case", "service@gov.example.cn", nil},
		{"allowed mobile next to a private one", "官方13800000000，我的13812345678", []want{{Mobile, "13812345678", false}}},
		{"another mobile", "13800000001", []want{{Mobile, "13800000001", false}}},
		{"another address", "other@gov.example.cn", []want{{Email, "other@gov.example.cn", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatches(t, tt.text, d.Find(tt.text), tt.want)
		})
	}
}

func TestFindSeveral(t *testing.T) {
	id := validID(t, "110105", "19900101", "123")
	card := luhnComplete(t, "621700123456789012")
	text := "我叫张三，身份证" + id + "，手机138 1234 5678，卡号" + grouped(card, " ") +
		"，邮箱zs@example.com，另一个手机＋８６１３９１２３４５６７８。"
	checkMatches(t, text, newTestDetector(t).Find(text), []want{
		{IDNumber, id, true},
		{Mobile, "138 1234 5678", false},
		{BankCard, grouped(card, " "), true},
		{Email, "zs@example.com", false},
		{Mobile, "＋８６１３９１２３４５６７８", false},
	})
}

func TestMask(t *testing.T) {
	id := validID(t, "110105", "19900101", "123")
	withX := idWhere(t, "320106", "20000101", func(id string) bool { return id[17] == 'X' })
	c16 := luhnComplete(t, "622202123456789")
	c19 := luhnComplete(t, "621700123456789012")
	d := newTestDetector(t, "12345")
	tests := []struct {
		name, text, want string
	}{
		{"mobile", "手机13812345678", "手机138****5678"},
		{"mobile with spaces", "138 1234 5678", "138 **** 5678"},
		{"mobile with +86 and dashes", "请回电+86 138-1234-5678谢谢", "请回电+86 138-****-5678谢谢"},
		{"mobile with 86", "8613812345678", "86138****5678"},
		{"full-width mobile", "１３８１２３４５６７８", "１３８****５６７８"},
		{"ID number", "身份证" + id + "。", "身份证110105********" + id[14:] + "。"},
		{"ID number with x", strings.ToLower(withX), "320106********" + strings.ToLower(withX[14:])},
		{"fake ID number", "我身份证000000199001011234帮我查", "我身份证000000********1234帮我查"},
		{"legacy ID number", "110105491231002", "110105*****1002"},
		{"card", c16, "************" + c16[12:]},
		{"grouped card", "卡号 " + grouped(c19, " ") + " 谢谢", "卡号 **** **** **** ***" + c19[15:16] + " " + c19[16:] + " 谢谢"},
		{"grouped card failing Luhn", "卡号6222-0212-3456-7890-123", "卡号****-****-****-***0-123"},
		{"ID number 3-3-8-4", "110 101 19900307 123X", "110 101 ******** 123X"},
		{"email", "zhang.san@example.com", "z***@example.com"},
		{"one-letter local part", "请发到a@example.com。", "请发到a***@example.com。"},
		{"full-width email", "ｕｓｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ｕ***＠ｅｘａｍｐｌｅ．ｃｏｍ"},
		{"several", "电话13812345678，邮箱li@qq.com，热线12345", "电话138****5678，邮箱l***@qq.com，热线12345"},
		{"nothing", "请问社保卡怎么补办？热线12345", "请问社保卡怎么补办？热线12345"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := d.Mask(tt.text)
			if got != tt.want {
				t.Errorf("Mask(%q): got %q, want %q", tt.text, got, tt.want)
			}
			if n := len(d.Find(tt.text)); len(found) != n {
				t.Errorf("Mask(%q): got %d matches, want %d as Find gives", tt.text, len(found), n)
			}
		})
	}
}

// TestDetectorConcurrent runs one detector from several goroutines; with
// -race it fails if Find or Mask write shared state.
func TestDetectorConcurrent(t *testing.T) {
	d := newTestDetector(t, "12345")
	text := "身份证000000199001011234，手机138 1234 5678，邮箱a@example.com"
	want, _ := d.Mask(text)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if got, _ := d.Mask(text); got != want {
					t.Errorf("Mask: got %q, want %q", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"",
		"我身份证000000199001011234帮我查",
		"110105194912310021", "11010519491231002x", "110105 19491231 002X",
		"110105491231002", "１１０１０５１９４９１２３１００２１",
		"13812345678", "+86 138-1234-5678", "0086 138 1234 5678", "008613900101123",
		"＋８６　１３８－１２３４－５６７８",
		"6222021234567894", "6217 0012 3456 7890 126", "6666666666666666666",
		"0000-1234567", "12345", "021-12345678",
		"zhang.san@example.com", "13812345678@163.com", "a..b@example.com.", "ｕｓｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ",
		"电话13812345678，邮箱li@qq.com，卡号6222 0212 3456 7894",
		"\xff138\x801234\xc05678",
		"建设路12号3栋2单元501室", "阳光小区5号楼1单元302", "和平东路十二号", "示例市XX路1号", "25号窗口",
	} {
		f.Add(s)
	}
	d := newTestDetector(f, "12345", "0000-1234567", "示例市XX路1号")
	f.Fuzz(func(t *testing.T, text string) {
		found := d.Find(text)
		end := 0
		emails := false
		for i, m := range found {
			if m.Start < end || m.End <= m.Start || m.End > len(text) {
				t.Fatalf("match %d %+v: out of order or bounds (previous end %d, len %d)", i, m, end, len(text))
			}
			end = m.End
			if m.Text != text[m.Start:m.End] {
				t.Fatalf("match %d: Text %q, but text[%d:%d] is %q", i, m.Text, m.Start, m.End, text[m.Start:m.End])
			}
			if !utf8.ValidString(m.Text) {
				t.Fatalf("match %d: Text %q is not valid UTF-8", i, m.Text)
			}
			n := len(digitsOf(m.Text))
			switch m.Kind {
			case IDNumber:
				id := strings.Map(func(r rune) rune {
					if r = fold(r); isIDChar(r) {
						return r
					}
					return -1
				}, m.Text)
				if len(id) != 18 && len(id) != 15 {
					t.Fatalf("ID number %q: got %d characters, want 18 or 15", m.Text, len(id))
				}
				if wantChecked := len(id) == 18 && testIDCheck(t, id[:17]) == strings.ToUpper(id)[17]; m.Checked != wantChecked {
					t.Fatalf("ID number %q: got Checked %v, want %v", m.Text, m.Checked, wantChecked)
				}
			case Mobile:
				if n != 11 && n != 13 && n != 15 || m.Checked {
					t.Fatalf("mobile %q: %d digits, Checked %v", m.Text, n, m.Checked)
				}
			case BankCard:
				grouped := utf8.RuneCountInString(m.Text) != n
				if n < 16 || n > 19 || m.Checked != testLuhn(digitsOf(m.Text)) || !grouped && !m.Checked {
					t.Fatalf("card %q: %d digits, Checked %v", m.Text, n, m.Checked)
				}
			case Email:
				emails = true
				if strings.Count(m.Text, "@")+strings.Count(m.Text, "＠") != 1 || m.Checked {
					t.Fatalf("email %q: Checked %v", m.Text, m.Checked)
				}
			case Address:
				if !strings.ContainsFunc(m.Text, func(r rune) bool { return isDigit(fold(r)) || isCNNumeral(r) }) || m.Checked {
					t.Fatalf("address %q: no number, or Checked %v", m.Text, m.Checked)
				}
			default:
				t.Fatalf("match %d: unknown kind %q", i, m.Kind)
			}
		}

		masked, mfound := d.Mask(text)
		if len(mfound) != len(found) {
			t.Fatalf("Mask: got %d matches, Find gives %d", len(mfound), len(found))
		}
		for i := range found {
			if mfound[i] != found[i] {
				t.Fatalf("Mask match %d: got %+v, Find gives %+v", i, mfound[i], found[i])
			}
		}
		if len(found) == 0 && masked != text {
			t.Fatalf("Mask(%q) with nothing found: got %q", text, masked)
		}
		if !emails && utf8.RuneCountInString(masked) != utf8.RuneCountInString(text) {
			t.Fatalf("Mask(%q) = %q: rune count changed", text, masked)
		}
		// Text between matches is unchanged, and every match is changed.
		rest := masked
		prev := 0
		for _, m := range found {
			between := text[prev:m.Start]
			if !strings.HasPrefix(rest, between) {
				t.Fatalf("Mask(%q) = %q: text before %q changed", text, masked, m.Text)
			}
			rest = rest[len(between):]
			var span string
			if m.Kind == Email {
				at := strings.IndexAny(rest, "@＠")
				domain := m.Text[strings.IndexAny(m.Text, "@＠"):]
				_, first := utf8.DecodeRuneInString(m.Text)
				if at < 0 || rest[:at] != m.Text[:first]+"***" || !strings.HasPrefix(rest[at:], domain) {
					t.Fatalf("Mask(%q) = %q: email %q not masked as x***@domain", text, masked, m.Text)
				}
				span = rest[:at+len(domain)]
			} else {
				// Same runes, except digits that became "*".
				var b strings.Builder
				r := rest
				for _, c := range m.Text {
					mc, size := utf8.DecodeRuneInString(r)
					hidden := isIDChar(fold(c)) || m.Kind == Address && isCNNumeral(c)
					if mc != c && (mc != '*' || !hidden) {
						t.Fatalf("Mask(%q) = %q: in %q, %q became %q", text, masked, m.Text, c, mc)
					}
					b.WriteRune(mc)
					r = r[size:]
				}
				span = b.String()
			}
			if span == m.Text {
				t.Fatalf("Mask(%q) = %q: %q left as it was", text, masked, m.Text)
			}
			rest = rest[len(span):]
			prev = m.End
		}
		if rest != text[prev:] {
			t.Fatalf("Mask(%q) = %q: text after the last match changed", text, masked)
		}
	})
}

// TestFindGroupedCard: a card number written in groups of four is a card
// whether it passes the Luhn check or not (not every issuer's numbers do);
// Checked tells which. In one piece a number must pass.
func TestFindGroupedCard(t *testing.T) {
	const failing = "6222021234567890123" // fails Luhn, as 19 and as its first 16
	if testLuhn(failing) || testLuhn(failing[:16]) {
		t.Fatalf("bad test: %s passes Luhn", failing)
	}
	c19 := luhnComplete(t, "621700123456789012")
	d := newTestDetector(t)
	tests := []struct {
		name string
		text string
		want []want
	}{
		{"4-4-4-4-3, spaces", "6222 0212 3456 7890 123", []want{{BankCard, "6222 0212 3456 7890 123", false}}},
		{"4-4-4-4-3, dashes", "6222-0212-3456-7890-123", []want{{BankCard, "6222-0212-3456-7890-123", false}}},
		{"4-4-4-4", "6222 0212 3456 7890", []want{{BankCard, "6222 0212 3456 7890", false}}},
		{"in Chinese text", "卡号：6222 0212 3456 7890 123，帮我查下到账没", []want{{BankCard, "6222 0212 3456 7890 123", false}}},
		{"full-width", fullWidth("6222 0212 3456 7890 123"), []want{{BankCard, fullWidth("6222 0212 3456 7890 123"), false}}},
		{"passing, grouped", grouped(c19, "-"), []want{{BankCard, grouped(c19, "-"), true}}},
		{"passing first 16, then more", grouped(luhnComplete(t, "622202123456789"), " ") + " 12", []want{{BankCard, grouped(luhnComplete(t, "622202123456789"), " "), true}}},

		{"failing, in one piece", failing, nil},
		{"degenerate, grouped", "1111 1111 1111 1111", nil},
		{"three groups", "6222 0212 3456", nil},
		{"a group of 5", "6222 02123 3456 7890", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatches(t, tt.text, d.Find(tt.text), tt.want)
		})
	}
}

// TestFindGroupedID: an 18-character ID number split where its parts meet
// (area 3+3, birth date, sequence and check) is found; split elsewhere it
// is not.
func TestFindGroupedID(t *testing.T) {
	id := validID(t, "110101", "19900307", "123")
	withX := idWhere(t, "110101", "19900307", func(id string) bool { return id[17] == 'X' })
	split := func(id string, sep string, at ...int) string {
		var parts []string
		prev := 0
		for _, a := range at {
			parts = append(parts, id[prev:a])
			prev = a
		}
		return strings.Join(append(parts, id[prev:]), sep)
	}
	d := newTestDetector(t)
	tests := []struct {
		name string
		text string
		want []want
	}{
		{"6-8-4, dashes, wrong check", "110101-19900307-123X", []want{{IDNumber, "110101-19900307-123X", testIDCheck(t, "11010119900307123") == 'X'}}},
		{"6-8-4, dashes", split(withX, "-", 6, 14), []want{{IDNumber, split(withX, "-", 6, 14), true}}},
		{"3-3-8-4, spaces", split(id, " ", 3, 6, 14), []want{{IDNumber, split(id, " ", 3, 6, 14), true}}},
		{"3-3-8-4, dashes, X", split(withX, "-", 3, 6, 14), []want{{IDNumber, split(withX, "-", 3, 6, 14), true}}},
		{"6-4-4-4", split(id, " ", 6, 10, 14), []want{{IDNumber, split(id, " ", 6, 10, 14), true}}},
		{"6-4-2-2-4", split(id, " ", 6, 10, 12, 14), []want{{IDNumber, split(id, " ", 6, 10, 12, 14), true}}},
		{"full-width 3-3-8-4", fullWidth(split(withX, " ", 3, 6, 14)), []want{{IDNumber, fullWidth(split(withX, " ", 3, 6, 14)), true}}},
		{"in Chinese text", "身份证号 " + split(id, "-", 3, 6, 14) + " 帮我查", []want{{IDNumber, split(id, "-", 3, 6, 14), true}}},

		{"split inside the area code only", split(idWhere(t, "110101", "19900307", notCard), " ", 5, 14), nil},
		{"no cut after the birth date", split(idWhere(t, "110101", "19900307", notCard), " ", 6, 10), nil},
		{"bad birth date", split(idWhere(t, "110101", "19901307", notCard), " ", 3, 6, 14), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatches(t, tt.text, d.Find(tt.text), tt.want)
		})
	}
}

// TestMatchMasked: a match masks alone as Mask masks it in a text, and
// logs without its text.
func TestMatchMasked(t *testing.T) {
	d := newTestDetector(t)
	text := "电话13812345678，邮箱li@qq.com，卡号6222 0212 3456 7890 123"
	masked, found := d.Mask(text)
	var b strings.Builder
	prev := 0
	for _, m := range found {
		b.WriteString(text[prev:m.Start])
		b.WriteString(m.Masked())
		prev = m.End
	}
	b.WriteString(text[prev:])
	if b.String() != masked {
		t.Errorf("matches masked one by one: got %q, want %q", b.String(), masked)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("found", "match", found[0])
	if strings.Contains(logged.String(), "5678") || !strings.Contains(logged.String(), "kind=mobile") {
		t.Errorf("logged %q: want the kind and not the number", logged.String())
	}
}
