package bot_test

import (
	"context"
	"testing"

	"govlive/bot"
	"govlive/bot/intent"
	"govlive/content"
)

// Messages no cue catches, told the way viewers tell them: the intent
// classifier decides, learnt from the sample pack's examples (none of
// these is one of them). Plain how-to questions stay answered.
func TestLearned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, bot.Thresholds{})
	for _, tc := range []struct {
		name   string
		msg    string
		action bot.Action
		reason bot.Reason
		class  intent.Class // the classifier's verdict; "" when it must not decide
		faq    string
	}{
		{"emergency on site", "我在大厅排队，旁边一个老人突然倒下了", bot.ActionEscalate, bot.ReasonUrgent, intent.Urgent, ""},
		{"deadline in own words", "周五就要开业了，证还没下来，能不能加快", bot.ActionEscalate, bot.ReasonUrgent, intent.Urgent, ""},
		{"complaint told as a story", "昨天下午去办证，那个工作人员全程冷着脸，问什么都爱答不理", bot.ActionEscalate, bot.ReasonComplaint, intent.Complaint, ""},
		{"staff on the phone", "窗口那个阿姨一直玩手机不理我", bot.ActionEscalate, bot.ReasonComplaint, intent.Complaint, ""},
		{"own case, no cue", "我的餐饮许可证变更十几天了一点消息都没有", bot.ActionEscalate, bot.ReasonPersonalCase, intent.PersonalCase, ""},
		{"own licence misprinted", "我的许可证上法人名字写错了", bot.ActionEscalate, bot.ReasonPersonalCase, intent.PersonalCase, ""},
		{"indirect request for a person", "能安排个专员跟我通个电话吗", bot.ActionEscalate, bot.ReasonHumanRequest, intent.HumanRequest, ""},
		{"chit-chat", "刚下班就赶来看了，主播讲得好有耐心", bot.ActionDecline, bot.ReasonChitchat, intent.Chitchat, ""},
		{"everyday question", "小孩发烧要不要吃退烧药", bot.ActionDecline, bot.ReasonOutOfScope, intent.OutOfScope, ""},
		{"another office's matter, no cue", "养狗要去哪登记", bot.ActionDecline, bot.ReasonOutOfScope, intent.OutOfScope, ""},
		{"insult without a listed word", "你们就是一窝吃闲饭的", bot.ActionModerate, bot.ReasonAbuse, intent.Abuse, ""},
		// Told in the viewer's own words, without a cue (none of these is
		// an example either).
		{"own pending matter as a story", "我那份许可证延续三月初就交了，到现在系统里还是原样，打电话也没人说得清", bot.ActionEscalate, bot.ReasonPersonalCase, intent.PersonalCase, ""},
		{"objection to a refusal as a story", "审批结论说我的店离垃圾站太近，可那个垃圾站去年就搬走了", bot.ActionEscalate, bot.ReasonPersonalCase, intent.PersonalCase, ""},
		{"mailing problem as a story", "寄给我的证到了，拆开发现是空信封", bot.ActionEscalate, bot.ReasonPersonalCase, intent.PersonalCase, ""},
		{"safety on site in own words", "排队的地方有个大姐突然倒下去了，嘴唇发白", bot.ActionEscalate, bot.ReasonUrgent, intent.Urgent, ""},
		{"time pressure in own words", "车队下午一点出发，我的资格证还压在窗口，等不起", bot.ActionEscalate, bot.ReasonUrgent, intent.Urgent, ""},
		{"complaint as a narrative", "上午在窗口办延续，那位同志一边嗑瓜子一边跟我说话，问两句就说自己看", bot.ActionEscalate, bot.ReasonComplaint, intent.Complaint, ""},
		{"indirect request for a person", "这事在评论区讲不明白，哪位工作人员方便的话给我回个电话", bot.ActionEscalate, bot.ReasonHumanRequest, intent.HumanRequest, ""},
		// The question class keeps how-to questions what they are, told
		// with one's own circumstances too.
		{"how-to with own circumstances", "我想在小区门口开个早餐店，食品经营许可要准备哪些材料", bot.ActionAnswer, bot.ReasonFAQ, "", ""},
		{"how-to about mailing, own licence", "我的证办好以后能寄到外省吗", bot.ActionAnswer, bot.ReasonFAQ, "", ""},
		{"how to complain", "怎么投诉窗口工作人员", bot.ActionAnswer, bot.ReasonFAQ, "", "faq-complaint-channels"},
		{"what if overdue", "超过承诺时限没办完怎么办", bot.ActionAnswer, bot.ReasonFAQ, "", "faq-time-limit"},
		{"where is my case, in general", "怎么查询办件进度", bot.ActionAnswer, bot.ReasonFAQ, "", "faq-online-progress"},
		{"lost licence", "食品经营许可证丢了怎么补办", bot.ActionAnswer, bot.ReasonFAQ, "", "faq-food-biz-lost"},
		{"mailing time", "证照邮寄几天能到", bot.ActionAnswer, bot.ReasonFAQ, "", "faq-cert-mailing-time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.bot.Decide(ctx, bot.Message{Text: tc.msg})
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tc.action || d.Reason != tc.reason {
				t.Errorf("Decide(%q): got %s/%s (cue %q, intent %v), want %s/%s", tc.msg, d.Action, d.Reason, d.Cue, d.Intent, tc.action, tc.reason)
			}
			switch {
			case tc.class == "" && d.Intent != nil:
				t.Errorf("intent %v decided, want none", *d.Intent)
			case tc.class != "" && (d.Intent == nil || d.Intent.Class != tc.class || d.Cue != ""):
				t.Errorf("got intent %v, cue %q; want the classifier's %s and no cue", d.Intent, d.Cue, tc.class)
			case d.Intent != nil && (d.Intent.P < 0.5 || d.Intent.P > 1):
				t.Errorf("intent probability %v, want in [0.5, 1]", d.Intent.P)
			}
			if tc.faq != "" && (d.FAQ == nil || string(d.FAQ.ID) != tc.faq) {
				t.Errorf("answered with %v, want %s", d.FAQ, tc.faq)
			}
			if tc.action == bot.ActionModerate && (!d.Hidden || reply(d) != "") {
				t.Errorf("hidden %v, reply %q; want hidden, no reply", d.Hidden, reply(d))
			}
		})
	}
}

// A lexicon edit changes the classifier's verdicts once the bot has it:
// without the complaint examples a complaint told as a story is no longer
// recognised as one; with them back, it is again.
func TestLearnedFollowsLexicon(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, bot.Thresholds{})
	const msg = "窗口那个阿姨一直玩手机不理我"
	complaint := func() bool {
		t.Helper()
		d, err := s.bot.Decide(ctx, bot.Message{Text: msg})
		if err != nil {
			t.Fatal(err)
		}
		return d.Reason == bot.ReasonComplaint && d.Intent != nil
	}
	if !complaint() {
		t.Fatal("premise: the sample lexicon's examples make it a complaint")
	}
	edited := s.lex
	edited.Examples.Complaint = nil
	s.bot.SetLexicon(t.Context(), edited)
	if complaint() {
		t.Error("still a complaint by the classifier after the complaint examples were removed")
	}
	s.bot.SetLexicon(t.Context(), s.lex)
	if !complaint() {
		t.Error("not a complaint again after the examples came back")
	}
	// No examples at all: the cues decide alone.
	none := s.lex
	none.Examples = content.Examples{}
	s.bot.SetLexicon(t.Context(), none)
	if d, err := s.bot.Decide(ctx, bot.Message{Text: msg}); err != nil || d.Intent != nil {
		t.Errorf("without examples: intent %v (err %v), want none", d.Intent, err)
	}
}

// Without Questions there is no classifier: the cues decide alone.
func TestLearnedNeedsQuestions(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	b, err := bot.New(t.Context(), bot.Config{Searcher: s.index, Documents: s.store, Normalizer: s.norm, Lexicon: s.lex})
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.Decide(context.Background(), bot.Message{Text: "窗口那个阿姨一直玩手机不理我"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Intent != nil {
		t.Errorf("intent %v without Questions, want none", *d.Intent)
	}
}
