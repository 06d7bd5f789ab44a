package discord_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"govlive/bot"
	"govlive/bot/discord/discordtest"
)

// TestMessages runs one adapter against the stand-in through the paths a
// channel message can take.
func TestMessages(t *testing.T) {
	e := start(t, "c-main", "c-pii", "c-hidden", "c-refused", "c-rl", "c-fail")

	t.Run("identify", func(t *testing.T) {
		ids := e.srv.Identifies()
		if len(ids) != 1 {
			t.Fatalf("got %d identifies, want 1", len(ids))
		}
		want := discordtest.IntentGuilds | discordtest.IntentGuildMessages | discordtest.IntentMessageContent
		if ids[0].Intents != want {
			t.Errorf("got intents %b, want %b", ids[0].Intents, want)
		}
		if !ids[0].Compress {
			t.Errorf("identify did not ask for compression: the zlib path is not exercised")
		}
		var names []string
		for _, raw := range e.srv.Commands() {
			var c struct {
				Name string `json:"name"`
				Perm string `json:"default_member_permissions"`
			}
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			names = append(names, c.Name+":"+c.Perm)
		}
		if want := []string{"ask:", "govlive:16"}; !slices.Equal(names, want) {
			t.Errorf("got commands %v, want %v", names, want)
		}
	})

	t.Run("answered at once", func(t *testing.T) {
		e.chat.on("营业执照怎么办理？", answer("请携带身份证到政务服务中心综合窗口办理。"))
		q := e.srv.Say("c-main", viewer, "营业执照怎么办理？")
		_, in := e.chat.waitPost(t, "营业执照怎么办理？")
		if in.Session != sessionA || in.ExternalID != q.ID || in.Sender.Channel != bot.ChannelDiscord || in.Sender.Nick != "三哥" {
			t.Errorf("got inbound %+v, want session %s, external id %s, channel discord, nick 三哥", in, sessionA, q.ID)
		}
		if !regexp.MustCompile(`^d-[0-9a-f]{12}$`).MatchString(in.Sender.ID) || strings.Contains(in.Sender.ID, viewer.ID) {
			t.Errorf("got sender id %q, want d- and 12 hex digits not showing the user id", in.Sender.ID)
		}
		r := e.botMessage(t, "c-main", func(m discordtest.Message) bool { return strings.HasPrefix(m.Content, "请携带身份证") })
		if r.Reference != q.ID {
			t.Errorf("got reply referencing %q, want the question %q", r.Reference, q.ID)
		}
		if !strings.Contains(r.Content, "来源：《营业执照办理指南》") {
			t.Errorf("got reply %q, want its source", r.Content)
		}
		if r.AllowedMentions == nil || len(r.AllowedMentions.Parse) != 0 {
			t.Errorf("got allowed mentions %+v, want none parsed", r.AllowedMentions)
		}
	})

	t.Run("same user same id, other user other id", func(t *testing.T) {
		other := discordtest.User{ID: "310000000000000009", Username: "lisi"}
		e.srv.Say("c-main", viewer, "第二个问题")
		e.srv.Say("c-main", other, "李四的问题")
		_, first := e.chat.waitPost(t, "营业执照怎么办理？")
		_, second := e.chat.waitPost(t, "第二个问题")
		_, third := e.chat.waitPost(t, "李四的问题")
		if first.Sender.ID != second.Sender.ID || first.Sender.ID == third.Sender.ID {
			t.Errorf("got ids %s, %s (same user), %s (other user)", first.Sender.ID, second.Sender.ID, third.Sender.ID)
		}
		if third.Sender.Nick != "lisi" {
			t.Errorf("got nick %q, want the user name lisi without nick or display name", third.Sender.Nick)
		}
	})

	t.Run("reply later, once", func(t *testing.T) {
		// One question answered at once, whose reply event follows; one
		// answered only by its event. The second reply posted proves the
		// first event was handled (events keep their order).
		e.chat.on("社保卡丢了怎么办？", answer("可在线挂失社保卡。"))
		q1 := e.srv.Say("c-main", viewer, "社保卡丢了怎么办？")
		p1, _ := e.chat.waitPost(t, "社保卡丢了怎么办？")
		e.botMessage(t, "c-main", func(m discordtest.Message) bool { return strings.HasPrefix(m.Content, "可在线挂失") })
		q2 := e.srv.Say("c-main", viewer, "公积金怎么提取？")
		p2, _ := e.chat.waitPost(t, "公积金怎么提取？")
		e.adapter.Publish(replyEvent(p1, "可在线挂失社保卡。"))
		e.adapter.Publish(replyEvent(p2, "公积金提取需要提供购房合同。"))
		r2 := e.botMessage(t, "c-main", func(m discordtest.Message) bool { return strings.HasPrefix(m.Content, "公积金提取") })
		if r2.Reference != q2.ID {
			t.Errorf("got later reply referencing %q, want %q", r2.Reference, q2.ID)
		}
		n := 0
		for _, m := range e.srv.Messages("c-main") {
			if m.Bot && strings.HasPrefix(m.Content, "可在线挂失") {
				n++
				if m.Reference != q1.ID {
					t.Errorf("got reply referencing %q, want %q", m.Reference, q1.ID)
				}
			}
		}
		if n != 1 {
			t.Errorf("got the reply posted %d times, want once", n)
		}
	})

	t.Run("refused", func(t *testing.T) {
		e.chat.on("刷屏", func(q bot.Post) bot.Submitted {
			return bot.Submitted{Refused: "您发言太快了，请稍后再试。"}
		})
		q := e.srv.Say("c-refused", viewer, "刷屏")
		r := e.botMessage(t, "c-refused", func(m discordtest.Message) bool { return true })
		if r.Content != "您发言太快了，请稍后再试。" || r.Reference != q.ID {
			t.Errorf("got %q referencing %q, want the refusal referencing %q", r.Content, r.Reference, q.ID)
		}
	})

	t.Run("personal data", func(t *testing.T) {
		const raw = "我的身份证号是110101199003071234，帮我查进度"
		const masked = "我的身份证号是110101********1234，帮我查进度"
		e.chat.on(raw, func(q bot.Post) bot.Submitted {
			q.Text = masked
			r := replyTo(q, "涉及个人信息，主播将在直播中为您帮办。")
			return bot.Submitted{Post: q, Reply: &r, PII: true}
		})
		q := e.srv.Say("c-pii", viewer, raw)
		e.waitDeleted(t, q.ID)
		repost := e.botMessage(t, "c-pii", func(m discordtest.Message) bool { return strings.Contains(m.Content, masked) })
		if !strings.Contains(repost.Content, "为保护隐私，已隐藏个人信息") || !strings.Contains(repost.Content, "三哥") {
			t.Errorf("got repost %q, want the privacy notice and the nick", repost.Content)
		}
		if repost.AllowedMentions == nil || len(repost.AllowedMentions.Parse) != 0 {
			t.Errorf("got repost allowed mentions %+v, want none: the viewer's text is reposted", repost.AllowedMentions)
		}
		r := e.botMessage(t, "c-pii", func(m discordtest.Message) bool { return strings.HasPrefix(m.Content, "涉及个人信息") })
		if r.Reference != repost.ID {
			t.Errorf("got reply referencing %q, want the repost %q", r.Reference, repost.ID)
		}
		for _, digits := range []string{"110101199003071234", "199003071234"} {
			if strings.Contains(e.outgoing(), digits) {
				t.Errorf("a request to Discord holds %s", digits)
			}
			if strings.Contains(e.logs.String(), digits) {
				t.Errorf("the log holds %s", digits)
			}
		}
	})

	t.Run("moderated", func(t *testing.T) {
		e.chat.on("垃圾广告", func(q bot.Post) bot.Submitted { q.Hidden = true; return bot.Submitted{Post: q} })
		q := e.srv.Say("c-hidden", viewer, "垃圾广告")
		e.waitDeleted(t, q.ID)
		for _, m := range e.srv.Messages("c-hidden") {
			if m.Bot {
				t.Errorf("got bot message %q for a moderated message, want none", m.Content)
			}
		}
	})

	t.Run("hidden later", func(t *testing.T) {
		e.chat.on("要隐藏的问题", answer("要撤回的回复"))
		q := e.srv.Say("c-hidden", viewer, "要隐藏的问题")
		p, _ := e.chat.waitPost(t, "要隐藏的问题")
		r := e.botMessage(t, "c-hidden", func(m discordtest.Message) bool {
			return m.Content == "要撤回的回复\n来源：《营业执照办理指南》"
		})
		e.adapter.Publish(bot.Event{Kind: bot.EventHidden, Session: sessionA, ID: p.ID})
		e.waitDeleted(t, q.ID)
		e.adapter.Publish(bot.Event{Kind: bot.EventHidden, Session: sessionA, ID: replyTo(p, "").ID})
		e.waitDeleted(t, r.ID)
	})

	t.Run("backend error", func(t *testing.T) {
		e.chat.mu.Lock()
		e.chat.fail = errBackend
		e.chat.mu.Unlock()
		defer func() { e.chat.mu.Lock(); e.chat.fail = nil; e.chat.mu.Unlock() }()
		q := e.srv.Say("c-fail", viewer, "出错时")
		r := e.botMessage(t, "c-fail", func(m discordtest.Message) bool { return true })
		if r.Reference != q.ID || !strings.Contains(r.Content, "稍后再试") {
			t.Errorf("got %q referencing %q, want a Chinese apology referencing %q", r.Content, r.Reference, q.ID)
		}
	})

	t.Run("ignored", func(t *testing.T) {
		before := len(e.chat.inbound())
		e.srv.Say("c-unbound", viewer, "未绑定频道")
		e.srv.Say("c-main", discordtest.User{ID: e.srv.BotID, Username: "govlive", Bot: true}, "机器人自己")
		e.srv.Say("c-main", discordtest.User{ID: "320000000000000001", Username: "otherbot", Bot: true}, "别的机器人")
		e.srv.Say("c-main", viewer, "之后的问题")
		e.chat.waitPost(t, "之后的问题")
		got := e.chat.inbound()[before:]
		if len(got) != 1 {
			t.Errorf("got %d inbound messages (%+v), want only the viewer's in a bound channel", len(got), got)
		}
		// The stand-in echoes every bot message as MESSAGE_CREATE, as
		// Discord does: none may come back as a question.
		for _, in := range e.chat.inbound() {
			if m, ok := e.srv.Message(in.ExternalID); !ok || m.Bot {
				t.Errorf("submitted %q (message %s): want only viewers' messages", in.Text, in.ExternalID)
			}
		}
	})

	t.Run("rate limited", func(t *testing.T) {
		e.srv.RateLimitNext("POST", "/channels/c-rl/messages", 50*time.Millisecond)
		e.chat.on("限流时的问题", answer("限流后的回复"))
		q := e.srv.Say("c-rl", viewer, "限流时的问题")
		r := e.botMessage(t, "c-rl", func(m discordtest.Message) bool { return strings.HasPrefix(m.Content, "限流后的回复") })
		if r.Reference != q.ID {
			t.Errorf("got reply referencing %q, want %q", r.Reference, q.ID)
		}
		// A request is recorded once answered: wait for the record.
		var statuses []int
		err := e.srv.Wait(waitCtx(t), "the requests' records", func() bool {
			statuses = nil
			for _, req := range e.srv.Requests() {
				if req.Method == "POST" && strings.HasSuffix(req.Path, "/channels/c-rl/messages") {
					statuses = append(statuses, req.Status)
				}
			}
			return len(statuses) >= 2
		})
		if err != nil || !slices.Equal(statuses, []int{429, 200}) {
			t.Errorf("got statuses %v (%v), want [429 200]: the 429 retried once", statuses, err)
		}
	})

	t.Run("gateway dropped", func(t *testing.T) {
		e.srv.DropGateway()
		// Dispatched while the adapter is away: it arrives on Resume.
		e.chat.on("断线后的问题", answer("断线后的回复"))
		q := e.srv.Say("c-main", viewer, "断线后的问题")
		r := e.botMessage(t, "c-main", func(m discordtest.Message) bool { return strings.HasPrefix(m.Content, "断线后的回复") })
		if r.Reference != q.ID {
			t.Errorf("got reply referencing %q, want %q", r.Reference, q.ID)
		}
		if got := e.srv.Resumes(); got != 1 {
			t.Errorf("got %d resumes, want 1", got)
		}
		if got := len(e.srv.Identifies()); got != 1 {
			t.Errorf("got %d identifies, want 1 (the session resumed)", got)
		}
		// And it keeps working on the new connection.
		e.chat.on("重连后的问题", answer("重连后的回复"))
		e.srv.Say("c-main", viewer, "重连后的问题")
		e.botMessage(t, "c-main", func(m discordtest.Message) bool { return strings.HasPrefix(m.Content, "重连后的回复") })
	})
}
