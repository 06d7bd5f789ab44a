package bot_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"govlive/bot"
	"govlive/content"
	"govlive/content/contenttest"
	"govlive/pii"
	"govlive/retrieval"
)

// modCase is one message and what moderation must make of it.
type modCase struct {
	name, msg string
	hidden    bool
	reason    bot.Reason // when hidden
	cue       string     // when hidden and not ""
	masked    string     // "" for msg unchanged
	pii       []pii.Kind // kinds of the personal data found, in order
}

func checkModeration(t *testing.T, b *bot.Bot, tc modCase) {
	t.Helper()
	m := b.Moderate(tc.msg)
	if m.Hidden != tc.hidden || tc.hidden && (m.Reason != tc.reason || tc.cue != "" && m.Cue != tc.cue) {
		t.Errorf("Moderate(%q): got hidden=%v %s cue %q, want hidden=%v %s cue %q", tc.msg, m.Hidden, m.Reason, m.Cue, tc.hidden, tc.reason, tc.cue)
	}
	if !tc.hidden && (m.Reason != "" || m.Cue != "") {
		t.Errorf("Moderate(%q): shown, but got reason %q cue %q", tc.msg, m.Reason, m.Cue)
	}
	want := tc.masked
	if want == "" {
		want = tc.msg
	}
	if m.Masked != want {
		t.Errorf("Moderate(%q): got masked %q, want %q", tc.msg, m.Masked, want)
	}
	var kinds []pii.Kind
	for _, p := range m.PII {
		kinds = append(kinds, p.Kind)
		// Offsets point into the message as sent, not its folded form.
		if tc.msg[p.Start:p.End] != p.Text {
			t.Errorf("Moderate(%q): match %+v: text[%d:%d] is %q", tc.msg, p, p.Start, p.End, tc.msg[p.Start:p.End])
		}
	}
	if !slices.Equal(kinds, tc.pii) {
		t.Errorf("Moderate(%q): got personal data %v, want %v", tc.msg, kinds, tc.pii)
	}
}

// TestModerateAbuse: abuse is found however it is spelled — symbols,
// spaces and emoji between its characters, traditional characters, full
// width and upper case letters — and masked in the message as sent; a
// Latin cue is not found inside a longer word.
func TestModerateAbuse(t *testing.T) {
	t.Parallel()
	m := newModerator(t, nil)
	abuse := func(name, msg, cue, masked string, kinds ...pii.Kind) modCase {
		return modCase{name: name, msg: msg, hidden: true, reason: bot.ReasonAbuse, cue: cue, masked: masked, pii: kinds}
	}
	shown := func(name, msg string) modCase { return modCase{name: name, msg: msg} }
	for _, tc := range []modCase{
		abuse("plain", "傻逼", "傻逼", "＊＊"),
		abuse("asterisk between", "傻*逼主播", "傻逼", "＊*＊主播"),
		abuse("space between", "傻 逼", "傻逼", "＊ ＊"),
		abuse("ideographic space and punctuation", "傻　，逼", "傻逼", "＊　，＊"),
		abuse("emoji between", "傻😀逼", "傻逼", "＊😀＊"),
		abuse("emoji with a joiner between", "傻👨‍👩‍👧逼", "傻逼", "＊👨‍👩‍👧＊"),
		abuse("full width", "ｓｂ", "sb", "＊＊"),
		abuse("full width upper case", "ＳＢ主播", "sb", "＊＊主播"),
		abuse("upper case", "SB主播", "sb", "＊＊主播"),
		abuse("spaced Latin letters", "S B 主播", "sb", "＊ ＊ 主播"),
		abuse("dotted Latin letters", "s.b.", "sb", "＊.＊."),
		abuse("after a Chinese character", "你sb吧", "sb", "你＊＊吧"),
		abuse("traditional 騙子", "一群騙子", "一群骗子", "＊＊＊＊"),
		abuse("traditional 廢物", "都是廢物", "废物", "都是＊＊"),
		abuse("traditional 腦殘", "腦殘主播", "脑残", "＊＊主播"),
		abuse("traditional, spaced", "蠢 貨", "蠢货", "＊ ＊"),
		abuse("every occurrence masked", "废物，真是废物", "废物", "＊＊，真是＊＊"),
		abuse("two cues masked", "废物 饭桶", "废物", "＊＊ ＊＊"),
		abuse("with a mobile number", "傻逼 我手机13812345678", "傻逼", "＊＊ 我手机138****5678", pii.Mobile),
		abuse("full width with a full-width number", "ＳＢ，电话１３８１２３４５６７８", "sb", "＊＊，电话１３８****５６７８", pii.Mobile),
		abuse("spaced, with a card", "廢😀物 卡号6222 0212 3456 7890 123", "废物", "＊😀＊ 卡号**** **** **** ***0 123", pii.BankCard),
		abuse("number before the abuse", "13812345678傻逼", "傻逼", "138****5678＊＊", pii.Mobile),

		shown("inside usb", "usb接口坏了"),
		shown("start of sbc", "sbc是什么意思"),
		shown("end of a word", "jsb"),
		shown("digit after", "sb2路公交到中心吗"),
		shown("letters apart in words", "is bad"),
		shown("plain question", "食品经营许可证要多久"),
	} {
		t.Run(tc.name, func(t *testing.T) { checkModeration(t, m, tc) })
	}
}

// TestModerateSpam checks the spam the bot finds without the lexicon's
// list — links, WeChat ids, QQ numbers — and that official numbers and
// government sites are not spam.
func TestModerateSpam(t *testing.T) {
	t.Parallel()
	// What is found here is found without the lexicon's list.
	b := newModerator(t, func(c *content.Cues) { c.Spam = nil })
	spam := func(name, msg, cue string, kinds ...pii.Kind) modCase {
		c := modCase{name: name, msg: msg, hidden: true, reason: bot.ReasonSpam, cue: cue, pii: kinds}
		if len(kinds) > 0 {
			c.masked, _ = pii.New(nil).Mask(msg)
		}
		return c
	}
	shown := func(name, msg string, kinds ...pii.Kind) modCase {
		c := modCase{name: name, msg: msg, pii: kinds}
		if len(kinds) > 0 {
			c.masked, _ = pii.New(nil).Mask(msg)
		}
		return c
	}
	for _, tc := range []modCase{
		spam("http link", "点击 http://bit.ly/gov-bt3000 领取政府补贴", bot.CueLink),
		spam("https link", "https://evil.example.top/x", bot.CueLink),
		spam("full-width www", "上ＷＷＷ．ＡＢＣ．ＣＯＭ看看", bot.CueLink),
		spam("bare domain", "来abc.top看看", bot.CueLink),
		spam("bare domain with digits", "加群看 abc123.cn", bot.CueLink),
		spam("bare domain with a path", "dwz.cn/abc", bot.CueLink),
		spam("digits domain with a path", "163.com/abc", bot.CueLink),
		spam("ideographic full stop", "看这个 fa-piao。com", bot.CueLink),
		spam("点 for the dot", "网址fapiao点com", bot.CueLink),
		spam("加微信", "代办食品证包过，加微信dbz8888", bot.CueWeChat),
		spam("vx and an underscore", "vx: abc_1234", bot.CueWeChat),
		spam("V信 upper case", "V信 fapiao888", bot.CueWeChat),
		spam("威信", "威信zz12345", bot.CueWeChat),
		spam("微信号是", "我的微信号是wang2024", bot.CueWeChat),
		spam("spaced marker", "加 微 信：dbz8888", bot.CueWeChat),
		spam("wx and a mobile number", "wx 13812345678", bot.CueWeChat, pii.Mobile),
		spam("vx then digits", "vx123456", bot.CueWeChat),
		spam("加QQ", "想认识主播的加我QQ 000000，私聊", bot.CueQQ),
		spam("扣扣 spaced digits", "扣扣：1 2 3 4 5 6 7", bot.CueQQ),
		spam("qq and digits", "qq123456789", bot.CueQQ),
		spam("full-width QQ", "ＱＱ８８８８８８８８", bot.CueQQ),
		spam("企鹅号", "企鹅号 88888888", bot.CueQQ),
		spam("flood", "6666666666", bot.CueFlood),

		shown("government site", "网上办理请登录 zwfw.example.gov.cn"),
		shown("government site with https", "https://www.gov.cn/zhengce 上有原文"),
		shown("e-mail address", "邮箱li@qq.com", pii.Email),
		shown("version", "版本v1.2还能用吗"),
		shown("decimal", "3.5个工作日"),
		shown("name after Mr.", "Mr.Wang你好"),
		shown("digits domain alone", "163.com的邮箱可以吗"),
		shown("file name", "申请表.doc在哪下载"),
		shown("微信 and no id", "微信小程序上能办吗"),
		shown("微信 and a word", "用微信 official account 能预约吗"),
		shown("wx inside a word", "wxyz123456"),
		shown("QQ and no number", "QQ邮箱可以收通知吗"),
		shown("QQ and too few digits", "qq 1234"),
		shown("QQ and too many digits", "QQ 123456789012"),
		shown("QQ and an official number", "qq12345"),
		shown("WeChat and an official number", "微信12345"),
		shown("hotline 12345", "打12345热线问了，说要到中心现场办"),
		shown("official number", "咨询热线0000-1234567几点有人接"),
		shown("card in groups of four", "卡号6222 0212 3456 7890 123", pii.BankCard),
		shown("repeated digits of a mobile number", "13888888888", pii.Mobile),
	} {
		t.Run(tc.name, func(t *testing.T) { checkModeration(t, b, tc) })
	}
	// The lexicon's list is used as well, before the built-in checks.
	checkModeration(t, newModerator(t, nil), modCase{name: "lexicon", msg: "兼职刷单日赚三百，加v详聊", hidden: true, reason: bot.ReasonSpam, cue: "兼职刷单"})
}

// TestDecideCardIsPersonalData: a card number in groups of four is
// personal data, escalated, not hidden as spam.
func TestDecideCardIsPersonalData(t *testing.T) {
	s := newStack(t, bot.Thresholds{})
	for _, msg := range []string{"卡号6222 0212 3456 7890 123，钱怎么还没退", "6222-0212-3456-7890-123"} {
		d, err := s.bot.Decide(context.Background(), bot.Message{Text: msg})
		if err != nil {
			t.Fatal(err)
		}
		if d.Action != bot.ActionEscalate || d.Reason != bot.ReasonPII || d.Hidden || len(d.PII) != 1 || d.PII[0].Kind != pii.BankCard {
			t.Errorf("Decide(%q): got %s/%s hidden=%v pii %+v, want a shown pii escalation of a card", msg, d.Action, d.Reason, d.Hidden, d.PII)
		}
		if strings.Contains(d.Masked, "3456") {
			t.Errorf("Decide(%q): masked %q shows the card", msg, d.Masked)
		}
	}
}

// TestModerateMatchesDecide: Decide hides what Moderate hides, with the
// same reason and cue, and masks personal data the same way.
func TestModerateMatchesDecide(t *testing.T) {
	s := newStack(t, bot.Thresholds{})
	for _, msg := range moderateMessages {
		m := s.bot.Moderate(msg)
		d, err := s.bot.Decide(context.Background(), bot.Message{Text: msg})
		if err != nil {
			t.Fatal(err)
		}
		hiddenByModeration := d.Action == bot.ActionModerate
		if m.Hidden != (hiddenByModeration || d.Hidden) {
			t.Errorf("%q: Moderate hidden=%v, Decide %s/%s hidden=%v", msg, m.Hidden, d.Action, d.Reason, d.Hidden)
		}
		if hiddenByModeration && (d.Reason != m.Reason || d.Cue != m.Cue) {
			t.Errorf("%q: Decide %s cue %q, Moderate %s cue %q", msg, d.Reason, d.Cue, m.Reason, m.Cue)
		}
		if len(d.PII) != len(m.PII) {
			t.Errorf("%q: Decide found %d pieces of personal data, Moderate %d", msg, len(d.PII), len(m.PII))
		}
		if !m.Hidden && d.Masked != m.Masked {
			t.Errorf("%q: Decide masked %q, Moderate %q", msg, d.Masked, m.Masked)
		}
	}
}

// TestSetLexicon: a word added to the abuse list is hidden by the next
// decision, and an official number added stops being personal data.
func TestSetLexicon(t *testing.T) {
	s := newStack(t, bot.Thresholds{})
	ctx := context.Background()
	const msg = "你们都是大坏蛋，打13900001234"
	d, err := s.bot.Decide(ctx, bot.Message{Text: msg})
	if err != nil {
		t.Fatal(err)
	}
	if d.Hidden || d.Reason != bot.ReasonPII {
		t.Fatalf("before: got %s/%s hidden=%v, want a shown pii escalation", d.Action, d.Reason, d.Hidden)
	}
	lx := s.lex
	lx.Cues.Abuse = append(slices.Clone(lx.Cues.Abuse), "坏蛋")
	lx.Cues.OfficialNumbers = append(slices.Clone(lx.Cues.OfficialNumbers), "139-0000-1234")
	s.bot.SetLexicon(t.Context(), lx)
	d, err = s.bot.Decide(ctx, bot.Message{Text: msg})
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != bot.ActionModerate || d.Reason != bot.ReasonAbuse || d.Cue != "坏蛋" || len(d.PII) != 0 {
		t.Errorf("after: got %s/%s cue %q pii %v, want hidden as abuse by 坏蛋, no personal data", d.Action, d.Reason, d.Cue, d.PII)
	}
	if m := s.bot.Moderate(msg); m.Masked != "你们都是大＊＊，打13900001234" {
		t.Errorf("after: masked %q", m.Masked)
	}
}

// TestSetLexiconConcurrent decides while the lexicon changes back and
// forth: each decision sees one lexicon whole — never the new abuse word
// with the old official numbers or the other way round — and -race finds
// no unguarded state.
func TestSetLexiconConcurrent(t *testing.T) {
	s := newStack(t, bot.Thresholds{})
	ctx := context.Background()
	// Under a the number is official and nothing is abuse; under b the
	// word is abuse and the number is personal data.
	a, b := s.lex, s.lex
	a.Cues.OfficialNumbers = append(slices.Clone(a.Cues.OfficialNumbers), "13900001234")
	b.Cues.Abuse = append(slices.Clone(b.Cues.Abuse), "坏蛋")
	const msg = "坏蛋 13900001234"
	outcome := func(d bot.Decision) string {
		switch {
		case d.Action == bot.ActionModerate && d.Cue == "坏蛋" && len(d.PII) == 1:
			return "b"
		case !d.Hidden && len(d.PII) == 0:
			return "a"
		}
		return "mixed"
	}
	s.bot.SetLexicon(t.Context(), a)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for range 4 {
		wg.Go(func() {
			for range 40 {
				d, err := s.bot.Decide(ctx, bot.Message{Text: msg})
				if err != nil {
					t.Error(err)
					return
				}
				o := outcome(d)
				if o == "mixed" {
					t.Errorf("Decide(%q) during SetLexicon: %s/%s cue %q pii %d: neither lexicon's decision", msg, d.Action, d.Reason, d.Cue, len(d.PII))
				}
				mu.Lock()
				seen[o]++
				mu.Unlock()
			}
		})
	}
	for i := range 200 {
		if i%2 == 0 {
			s.bot.SetLexicon(t.Context(), b)
		} else {
			s.bot.SetLexicon(t.Context(), a)
		}
	}
	wg.Wait()
	s.bot.SetLexicon(t.Context(), b)
	if d, err := s.bot.Decide(ctx, bot.Message{Text: msg}); err != nil || outcome(d) != "b" {
		t.Errorf("after the last SetLexicon: got %s (%v), want b's decision", outcome(d), err)
	}
	t.Logf("outcomes: %v", seen)
}

// moderateMessages is a mix of what a livestream chat sees: questions,
// personal data, abuse in several spellings, spam, flooding.
var moderateMessages = []string{
	"开一家面馆，新办食品经营许可证要带哪些资料？",
	"窗口工作人員態度，很差",
	"我的营业执照申请被退回了，说材料不全",
	"打12345能不能反映政务中心窗口的问题",
	"我的身份证号是11010519880214003X，营业执照能查到吗",
	"有问题请打我电话130-0000-0000",
	"卡号6222 0212 3456 7890 123",
	"你们这些人都是废物",
	"傻😀逼主播",
	"ＳＢ窗口，我要投诉",
	"一群騙子",
	"usb接口坏了 sb窗口态度很差",
	"兼职刷单日赚三百，加v详聊",
	"点击 http://bit.ly/gov-bt3000 领取政府补贴3000元，限时今天",
	"代办食品证包过，价格优惠，加微信dbz8888",
	"想认识主播的加我QQ 000000，私聊",
	"6666666666",
	"加油加油加油加油",
	"主播今天的衣服真好看",
	"同城通辦試點都包含哪些業務，网上办理请登录 zwfw.example.gov.cn",
}

// BenchmarkModerate moderates the mixed messages, one per iteration.
func BenchmarkModerate(b *testing.B) {
	m := newModerator(b, nil)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Moderate(moderateMessages[i%len(moderateMessages)])
	}
}

// newModerator returns a bot with the sample pack's lexicon, edited by
// edit (when not nil), for calling Moderate: it has no knowledge base, and
// a search fails the test.
func newModerator(tb testing.TB, edit func(*content.Cues)) *bot.Bot {
	tb.Helper()
	p := contenttest.SamplePack(tb)
	cues, err := content.ParseIntents(p.Lexicon[content.IntentsFile])
	if err != nil {
		tb.Fatalf("sample intents: %v", err)
	}
	if edit != nil {
		edit(&cues)
	}
	n, err := retrieval.NewNormalizer()
	if err != nil {
		tb.Fatalf("normalizer: %v", err)
	}
	b, err := bot.New(tb.Context(), bot.Config{Searcher: unsearchable{tb}, Documents: unsearchable{tb}, Normalizer: n, Lexicon: content.Lexicon{Cues: cues}})
	if err != nil {
		tb.Fatalf("new bot: %v", err)
	}
	return b
}

// unsearchable stands in for the knowledge base where none may be used.
type unsearchable struct{ tb testing.TB }

var errUnsearchable = errors.New("moderation searched the knowledge base")

func (u unsearchable) Search(context.Context, retrieval.Query) (retrieval.Result, error) {
	u.tb.Error(errUnsearchable)
	return retrieval.Result{}, errUnsearchable
}

func (u unsearchable) Document(context.Context, content.DocID) (content.Document, error) {
	u.tb.Error(errUnsearchable)
	return content.Document{}, errUnsearchable
}

// FuzzModerate: moderation never fails on odd input, masks only where it
// found something, and keeps every other character of the message.
func FuzzModerate(f *testing.F) {
	for _, s := range moderateMessages {
		f.Add(s)
	}
	for _, s := range []string{"", "\xff傻\x80逼", "ＳＢ", "s b", "vx", "qq", "http://", "a.", "。com", "傻逼傻逼傻逼", "13812345678傻逼"} {
		f.Add(s)
	}
	b := newModerator(f, nil)
	f.Fuzz(func(t *testing.T, text string) {
		m := b.Moderate(text)
		if !utf8.ValidString(m.Masked) {
			t.Fatalf("Moderate(%q): masked %q is not valid UTF-8", text, m.Masked)
		}
		if m.Hidden != (m.Reason != "") {
			t.Fatalf("Moderate(%q): hidden=%v reason %q", text, m.Hidden, m.Reason)
		}
		valid := strings.ToValidUTF8(text, "\uFFFD")
		piiOnly, found := pii.New(nil).Mask(valid)
		if len(found) > 0 || m.Reason == bot.ReasonAbuse || utf8.RuneCountInString(valid) > 2000 {
			// Abuse masks rune for rune; the number of runes stays
			// unless an e-mail address was masked.
			if len(found) == 0 && utf8.RuneCountInString(m.Masked) != min(2000, utf8.RuneCountInString(valid)) {
				t.Fatalf("Moderate(%q): masked %q changed the number of characters", text, m.Masked)
			}
			return
		}
		if m.Masked != piiOnly {
			t.Fatalf("Moderate(%q): nothing to mask, got %q", text, m.Masked)
		}
	})
}

// TestModerateGapCue: a cue with "…" matches its parts in order within
// reach of each other, and masks the parts, not what lies between.
func TestModerateGapCue(t *testing.T) {
	t.Parallel()
	b := newModerator(t, func(c *content.Cues) { c.Abuse = append(c.Abuse, "你个…东西") })
	abuse := func(name, msg, masked string) modCase {
		return modCase{name: name, msg: msg, hidden: true, reason: bot.ReasonAbuse, cue: "你个…东西", masked: masked}
	}
	for _, tc := range []modCase{
		abuse("parts together", "你个东西", "＊＊＊＊"),
		abuse("text between", "你个什么东西啊", "＊＊什么＊＊啊"),
		abuse("traditional, spaced", "你 個 什麼東 西", "＊ ＊ 什麼＊ ＊"),
		{name: "wrong order", msg: "东西给你个"},
		{name: "too far apart", msg: "你个人的申请材料里面还缺少了哪一些东西"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkModeration(t, b, tc) })
	}
}
