package bot_test

import (
	"context"
	"strings"
	"testing"

	"govlive/bot"
)

// TestAbusiveComplaint: a grievance told abusively is hidden from the
// public chat and escalated as a complaint, with the abuse masked in every
// spelling; plain abuse and spam are hidden and not escalated.
func TestAbusiveComplaint(t *testing.T) {
	s := newStack(t, bot.Thresholds{})
	ctx := context.Background()
	tests := []struct {
		name, msg string
		action    bot.Action
		reason    bot.Reason
		masked    string
	}{
		{"abuse and a delay", "你们都是废物，一个证拖了一个月", bot.ActionEscalate, bot.ReasonComplaint, "你们都是＊＊，一个证拖了一个月"},
		{"traditional and spaced", "一群廢 物！窗口态度很差", bot.ActionEscalate, bot.ReasonComplaint, "一群＊ ＊！窗口态度很差"},
		{"full width Latin", "ＳＢ窗口，我要投诉", bot.ActionEscalate, bot.ReasonComplaint, "＊＊窗口，我要投诉"},
		{"Latin word boundary kept", "usb接口坏了 sb窗口态度很差", bot.ActionEscalate, bot.ReasonComplaint, "usb接口坏了 ＊＊窗口态度很差"},
		{"abuse with personal data", "废物！我电话13912345678，态度很差", bot.ActionEscalate, bot.ReasonComplaint, "＊＊！我电话139****5678，态度很差"},
		{"plain abuse", "一群饭桶", bot.ActionModerate, bot.ReasonAbuse, "一群饭桶"},
		{"spam", "兼职刷单日赚三百，加v详聊", bot.ActionModerate, bot.ReasonSpam, "兼职刷单日赚三百，加v详聊"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.bot.Decide(ctx, bot.Message{Text: tc.msg})
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tc.action || d.Reason != tc.reason || !d.Hidden || d.Masked != tc.masked {
				t.Errorf("Decide(%q): %s/%s hidden=%v masked %q, want %s/%s hidden masked %q",
					tc.msg, d.Action, d.Reason, d.Hidden, d.Masked, tc.action, tc.reason, tc.masked)
			}
			if tc.action == bot.ActionEscalate && reply(d) == "" {
				t.Error("escalated complaint: no reply to its author")
			}
		})
	}
	// An ordinary complaint is shown.
	if d, err := s.bot.Decide(ctx, bot.Message{Text: "窗口态度很差，我要投诉"}); err != nil || d.Hidden || d.Action != bot.ActionEscalate {
		t.Errorf("plain complaint: %s hidden=%v (%v), want escalate and shown", d.Action, d.Hidden, err)
	}
}

// TestDocumentReplyIsPlainText: a passage quoted to viewers carries no
// Markdown marks.
func TestDocumentReplyIsPlainText(t *testing.T) {
	s := newStack(t, bot.Thresholds{})
	answered := 0
	for _, q := range []string{
		"食品经营许可证编号是几位数", "学校食堂要办食品经营许可吗，算哪一类", "出租车从业资格考试的区域科目主要考什么内容",
		"综合窗口收件以后多久转到后台审批科室", "即办件清单多久调整一次", "证照邮寄途中弄丢了，谁负责",
	} {
		d, err := s.bot.Decide(context.Background(), bot.Message{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if d.Reason != bot.ReasonDocument {
			continue
		}
		answered++
		for _, mark := range []string{"#", "**", "](", "\n- ", "|---", "`"} {
			if strings.Contains(reply(d), mark) {
				t.Errorf("reply to %q shows Markdown %q:\n%s", q, mark, reply(d))
			}
		}
	}
	if answered == 0 {
		t.Fatal("no question was answered from a document")
	}
}
