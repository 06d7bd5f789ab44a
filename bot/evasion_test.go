package bot_test

import (
	"context"
	"strings"
	"testing"

	"govlive/bot"
	"govlive/content/contenttest"
	"govlive/pii"
)

// TestModerateEvasion: abuse written to slip past the list — symbols
// and emoji between its characters, traditional characters, full width,
// homophones, pinyin and its initials, an emoji for a word — is hidden,
// with what stands for the abuse masked in the message as sent.
func TestModerateEvasion(t *testing.T) {
	t.Parallel()
	m := newModerator(t, nil)
	abuse := func(name, msg, cue, masked string, kinds ...pii.Kind) modCase {
		return modCase{name: name, msg: msg, hidden: true, reason: bot.ReasonAbuse, cue: cue, masked: masked, pii: kinds}
	}
	for _, tc := range []modCase{
		// Inserted symbols, traditional characters, full width.
		abuse("symbols between", "傻#@逼", "傻逼", "＊#@＊"),
		abuse("letters apart", "n m s l", "nmsl", "＊ ＊ ＊ ＊"),
		abuse("traditional 畜牲 spelled 畜生", "一群畜生", "畜生", "一群＊＊"),
		abuse("traditional 龜兒子", "龜兒子", "龟儿子", "＊＊＊"),
		abuse("full-width initials", "ＮＭＳＬ", "nmsl", "＊＊＊＊"),

		// Homophones: the same toneless syllables.
		abuse("沙比", "主播沙比", "傻逼", "主播＊＊"),
		abuse("傻毕", "你个傻毕", "傻逼", "你个＊＊"),
		abuse("煞笔 reads as 傻逼", "煞笔中心", "傻逼", "＊＊中心"),
		abuse("啥逼", "啥逼玩意", "傻逼", "＊＊玩意"),
		abuse("homophone, traditional", "沙筆", "傻逼", "＊＊"),
		abuse("homophone with a symbol between", "沙*比", "傻逼", "＊*＊"),
		abuse("脑蚕", "脑蚕主播", "脑残", "＊＊主播"),
		abuse("摆痴", "大摆痴", "白痴", "大＊＊"),
		abuse("魂淡", "魂淡", "混蛋", "＊＊"),
		abuse("泥马", "泥马的", "你马", "＊＊的"),
		abuse("踏马的", "踏马的什么服务", "他妈的", "＊＊＊什么服务"),
		abuse("蠢祸", "一群蠢祸", "蠢货", "一群＊＊"),
		abuse("three characters", "苟日的", "狗日的", "＊＊＊"),

		// Pinyin, whole or in initials.
		abuse("shabi", "shabi主播", "傻逼", "＊＊＊＊＊主播"),
		abuse("sha bi", "sha bi", "傻逼", "＊＊＊ ＊＊"),
		abuse("SHA BI upper case", "SHA BI", "傻逼", "＊＊＊ ＊＊"),
		abuse("half pinyin 傻bi", "傻bi", "傻逼", "＊＊＊"),
		abuse("half pinyin sha逼", "sha逼", "傻逼", "＊＊＊＊"),
		abuse("naocan", "naocan", "脑残", "＊＊＊＊＊＊"),
		abuse("cao ni ma", "cao ni ma", "操你妈", "＊＊＊ ＊＊ ＊＊"),
		abuse("wcnm", "wcnm什么破中心", "破中心", "＊＊＊＊什么＊＊＊"),
		abuse("cnm", "cnm", "cnm", "＊＊＊"),
		abuse("tmd", "TMD又卡了", "tmd", "＊＊＊又卡了"),
		abuse("mlgb", "mlgb", "mlgb", "＊＊＊＊"),

		// An emoji for a word.
		abuse("你🐴", "你🐴的", "你马", "＊＊的"),
		abuse("🐶东西", "🐶东西", "狗东西", "＊＊＊"),
		abuse("🐶官", "一群🐶官", "狗官", "一群＊＊"),
		abuse("吃💩", "去吃💩吧", "吃屎", "去＊＊吧"),
		abuse("蠢🐷", "蠢🐷", "蠢猪", "＊＊"),
		abuse("🐢蛋", "🐢蛋", "王八", "＊＊"),
		abuse("emoji and a symbol between", "你*🐴", "你马", "＊*＊"),
		abuse("emoji with a variation selector", "你🐴\uFE0F的", "你马", "＊＊\uFE0F的"),

		// With personal data: both masked.
		abuse("homophone and a mobile number", "沙比 13812345678", "傻逼", "＊＊ 138****5678", pii.Mobile),
	} {
		t.Run(tc.name, func(t *testing.T) { checkModeration(t, m, tc) })
	}
}

// TestModerateNearMiss: ordinary messages that share characters or
// syllables with abuse, or letters with its initials, are shown.
func TestModerateNearMiss(t *testing.T) {
	t.Parallel()
	m := newModerator(t, nil)
	for _, msg := range []string{
		// Syllables of 傻逼.
		"选哪个窗口啥比较快", "办哪个证啥必须带原件", "含沙比例是多少", "煞费苦心准备的材料", "沙发比较大能放下吗",
		"杀毒软件比较好用", "我刚毕业能办吗", "啥笔都可以签吗",
		// 你马 and its sound.
		"你马上就能办好吗", "是你吗", "麻烦你马上处理一下", "给你麻烦了", "你妈妈的证件能代办吗", "你马路对面那个大厅",
		// 狗, 猪, 马: ordinary uses.
		"狗证怎么办理", "养狗要登记吗", "🐶证去哪里办", "猪肉摊要办食品经营许可证吗", "马上要过期了",
		// Sounds of other cues.
		"附近的网吧要办什么证", "危险废物经营许可证在哪办", "非物质文化遗产项目申报", "雪花飞舞", "白吃白喝不可能", "若只需要身份证就好",
		"去四楼办吗", "去四号窗口还是五号", "去私聊主播可以吗", "区司法局在哪", "他骂的很难听", "她妈的户口本丢了",
		"出生证明怎么补办", "宠物吃食要检疫吗", "狗皮膏药能卖吗", "若知道要带户口本就好了", "白炽灯算不算",
		"够时间办完吗", "我要去死亡登记窗口", "主播你是主持人吗", "被广告牌砸中了", "房子过户归儿子", "实在不行我明天再来",
		// Cues inside ordinary words.
		"我忘把身份证带来了", "往八楼走是哪个窗口",
		"回收废物需要什么许可", "脑残疾能办残疾证吗", "给我滚动播放一下", "蛋糕店要什么证", "狗屁股上有伤",
		// Latin letters that hold initials or pinyin inside a word.
		"usb接口坏了", "sbc是什么意思", "pdf文件打不开", "手机nfc能刷吗", "qnmdx型号", "cinema", "made in china",
		// Emoji removed as before.
		"食😀品经营许可证", "谢谢👍",
	} {
		t.Run(msg, func(t *testing.T) { checkModeration(t, m, modCase{name: msg, msg: msg}) })
	}
}

// TestModeratePersonalDataFormats: personal data in its usual formats is
// masked and never hidden as spam — a card in groups repeats groups of
// zeros, which flooding must not take for a chunk said three times.
func TestModeratePersonalDataFormats(t *testing.T) {
	t.Parallel()
	m := newModerator(t, nil)
	shown := func(name, msg, masked string, kinds ...pii.Kind) modCase {
		return modCase{name: name, msg: msg, masked: masked, pii: kinds}
	}
	for _, tc := range []modCase{
		shown("card 4-4-4-4-3 of zeros", "6222 0000 0000 0000 000", "**** **** **** ***0 000", pii.BankCard),
		shown("card with dashes", "卡号6222-0000-0000-0000-000", "卡号****-****-****-***0-000", pii.BankCard),
		shown("card, ideographic spaces", "6222　0000　0000　0000", "****　****　****　0000", pii.BankCard),
		shown("card, full width", "６２２２ ０２１２ ３４５６ ７８９０", "**** **** **** ７８９０", pii.BankCard),
		shown("dashed ID number", "身份证110105-19491231-0021", "身份证110105-********-0021", pii.IDNumber),
		shown("spaced ID number", "110105 1949 1231 0021", "110105 **** **** 0021", pii.IDNumber),
		shown("mobile 3-4-4", "138 1234 5678", "138 **** 5678", pii.Mobile),
		shown("road and number", "证寄到建设路12号", "证寄到建设路**号", pii.Address),
		shown("street, building, unit, room", "人民街88号3栋2单元501室", "人民街**号*栋*单元***室", pii.Address),
		shown("compound, bare room", "阳光小区5号楼1单元302", "阳光小区*号楼*单元***", pii.Address),
		shown("address and mobile", "寄到幸福路18号，电话13812345678", "寄到幸福路**号，电话138****5678", pii.Address, pii.Mobile),
		shown("the center's address", "中心是在XX路1号吗", ""),
		shown("the center's address in full", "示例市XX路1号几点开门", ""),
		shown("a place without a number", "政务中心在哪条路", ""),
		shown("a window", "25号窗口在几楼", ""),
		// A long run of digits in groups that is no card is no flood.
		shown("digits in groups, double spaces", "6222  0000  0000  0000", ""),
		shown("long order number", "订单号6222000000000000000", ""),
	} {
		t.Run(tc.name, func(t *testing.T) { checkModeration(t, m, tc) })
	}
}

// TestDecideAddressIsPersonalData: a home address is escalated as
// personal data and masked; the center's own address is not.
func TestDecideAddressIsPersonalData(t *testing.T) {
	s := newStack(t, bot.Thresholds{})
	ctx := context.Background()
	for _, tc := range []struct {
		msg       string
		personal  bool
		maskedOut string // what the masked text must not show
	}{
		{"证照能寄到建设路88号3栋2单元501室吗", true, "501"},
		{"我家在阳光小区5号楼1单元302，能上门帮办吗", true, "302"},
		{"卡号6222 0000 0000 0000 000，退款没到", true, "0000 0000"},
		{"政务中心是在XX路1号吗", false, ""},
		{"政务中心在哪条路", false, ""},
	} {
		d, err := s.bot.Decide(ctx, bot.Message{Text: tc.msg})
		if err != nil {
			t.Fatal(err)
		}
		if tc.personal != (d.Action == bot.ActionEscalate && d.Reason == bot.ReasonPII) || d.Hidden {
			t.Errorf("Decide(%q): got %s/%s hidden=%v pii %d, want personal data %v and shown", tc.msg, d.Action, d.Reason, d.Hidden, len(d.PII), tc.personal)
		}
		if tc.maskedOut != "" && strings.Contains(d.Masked, tc.maskedOut) {
			t.Errorf("Decide(%q): masked %q shows %q", tc.msg, d.Masked, tc.maskedOut)
		}
	}
}

// TestModerateSamplePack: nothing the sample pack says — FAQ questions,
// similar phrasings and answers, document lines, what its sessions
// present — is abuse, spam or personal data (its hotline and address are
// official).
func TestModerateSamplePack(t *testing.T) {
	t.Parallel()
	m := newModerator(t, nil)
	p := contenttest.SamplePack(t)
	check := func(where, text string) {
		t.Helper()
		if strings.TrimSpace(text) == "" {
			return
		}
		mod := m.Moderate(text)
		if mod.Hidden || len(mod.PII) > 0 {
			t.Errorf("%s: %q: got hidden=%v %s cue %q, personal data %v; want nothing", where, text, mod.Hidden, mod.Reason, mod.Cue, mod.PII)
		}
	}
	n := 0
	for _, e := range p.FAQ {
		check(string(e.ID)+" question", e.Question)
		for _, s := range e.Similar {
			check(string(e.ID)+" similar", s)
		}
		check(string(e.ID)+" answer", e.Answer)
		n += 2 + len(e.Similar)
	}
	for _, d := range p.Documents {
		check(string(d.ID)+" title", d.Title)
		for line := range strings.SplitSeq(d.Body, "\n") {
			check(string(d.ID), line)
			n++
		}
	}
	for _, se := range p.Sessions {
		check(string(se.ID)+" title", se.Title)
		check(string(se.ID)+" summary", se.Summary)
		for _, sg := range se.Segments {
			check(string(se.ID)+" segment", sg.Title)
			for _, pt := range sg.Points {
				check(string(se.ID)+" point", pt)
			}
			n += 1 + len(sg.Points)
		}
	}
	t.Logf("%d texts moderated", n)
}

// evasionMessages are messages that moderation reads by sound, emoji and
// exceptions: evasions and the ordinary messages that sound like them.
var evasionMessages = []string{
	"主播沙比", "你个傻毕", "shabi主播", "sha bi", "傻bi", "你🐴的", "🐶东西", "去吃💩吧", "cao ni ma", "wcnm什么破中心",
	"选哪个窗口啥比较快", "你马上就能办好吗", "是你吗", "附近的网吧要办什么证", "危险废物经营许可证在哪办",
	"去四楼办吗", "出生证明怎么补办", "usb接口坏了", "证照能寄到建设路88号3栋2单元501室吗", "6222 0000 0000 0000 000",
}

// BenchmarkModerateEvasion moderates evasions and near misses, one per
// iteration.
func BenchmarkModerateEvasion(b *testing.B) {
	m := newModerator(b, nil)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Moderate(evasionMessages[i%len(evasionMessages)])
	}
}
