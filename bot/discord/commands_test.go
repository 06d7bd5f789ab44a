package discord_test

import (
	"maps"
	"strings"
	"testing"

	"govlive/bot"
	"govlive/bot/discord"
	"govlive/bot/discord/discordtest"
	"govlive/content"
	"govlive/store/storetest"
)

// TestAsk checks /ask: in a bound channel the question goes to the
// channel's session and the response shows the reply, at once or as a
// follow-up; elsewhere the member is told, only them, in Chinese.
func TestAsk(t *testing.T) {
	e := start(t, "c-ask")
	ask := func(channel, question string) string {
		return e.srv.Interact(discordtest.Command{ChannelID: channel, User: viewer, Name: "ask", Options: map[string]string{"question": question}})
	}
	wait := func(t *testing.T, id string, cond func(discordtest.Interaction) bool) discordtest.Interaction {
		t.Helper()
		i, err := e.srv.WaitInteraction(waitCtx(t), id, cond)
		if err != nil {
			t.Fatalf("%v; interaction %+v", err, i)
		}
		return i
	}

	t.Run("answered at once", func(t *testing.T) {
		e.chat.on("个体户怎么报税？", answer("个体户可通过电子税务局按季申报。"))
		id := ask("c-ask", "个体户怎么报税？")
		_, in := e.chat.waitPost(t, "个体户怎么报税？")
		if in.Session != sessionA || in.ExternalID != id || in.Sender.Channel != bot.ChannelDiscord || in.Sender.Nick != "三哥" {
			t.Errorf("got inbound %+v, want session %s, external id %s, nick 三哥", in, sessionA, id)
		}
		i := wait(t, id, func(i discordtest.Interaction) bool { return strings.Contains(i.Original, "电子税务局") })
		if i.Callback != 5 || i.Ephemeral {
			t.Errorf("got callback %d (ephemeral %t), want a public deferred response (5)", i.Callback, i.Ephemeral)
		}
		if !strings.Contains(i.Original, "个体户怎么报税？") || !strings.Contains(i.Original, "来源：《营业执照办理指南》") {
			t.Errorf("got response %q, want the question, the reply and its source", i.Original)
		}
		// The reply's event, when it follows, is not posted again.
		p, _ := e.chat.waitPost(t, "个体户怎么报税？")
		e.adapter.Publish(replyEvent(p, "个体户可通过电子税务局按季申报。"))
	})

	t.Run("answered later", func(t *testing.T) {
		id := ask("c-ask", "食品经营许可证要多久？")
		p, _ := e.chat.waitPost(t, "食品经营许可证要多久？")
		wait(t, id, func(i discordtest.Interaction) bool { return strings.Contains(i.Original, "正在回答") })
		e.adapter.Publish(replyEvent(p, "一般在10个工作日内办结。"))
		i := wait(t, id, func(i discordtest.Interaction) bool { return len(i.Followups) > 0 })
		if !strings.HasPrefix(i.Followups[0], "一般在10个工作日内办结。") {
			t.Errorf("got follow-up %q, want the reply", i.Followups[0])
		}
		for _, prev := range e.srv.Requests() {
			if strings.Contains(prev.Path, "/webhooks/") && strings.Contains(string(prev.Body), "电子税务局") && prev.Method == "POST" {
				t.Errorf("the first question's reply was posted again as a follow-up")
			}
		}
	})

	t.Run("unbound channel", func(t *testing.T) {
		before := len(e.chat.inbound())
		id := ask("c-elsewhere", "随便问问")
		i := wait(t, id, func(i discordtest.Interaction) bool { return i.Callback != 0 })
		if i.Callback != 4 || !i.Ephemeral || !strings.Contains(i.Original, "尚未绑定直播场次") {
			t.Errorf("got callback %d ephemeral %t %q, want an ephemeral Chinese error", i.Callback, i.Ephemeral, i.Original)
		}
		if n := len(e.chat.inbound()); n != before {
			t.Errorf("got %d messages submitted, want none", n-before)
		}
	})

	t.Run("refused", func(t *testing.T) {
		e.chat.on("刷屏问题", func(bot.Post) bot.Submitted { return bot.Submitted{Refused: "您已被禁言。"} })
		id := ask("c-ask", "刷屏问题")
		wait(t, id, func(i discordtest.Interaction) bool { return i.Original == "您已被禁言。" })
	})
}

// TestBind checks /govlive bind: refused without Manage Channels or for
// an unknown session, else stored, answered, and in effect at once.
func TestBind(t *testing.T) {
	e := start(t)
	bind := func(channel string, perms int64, session string) discordtest.Interaction {
		t.Helper()
		u := viewer
		u.Permissions = perms
		id := e.srv.Interact(discordtest.Command{ChannelID: channel, User: u, Name: "govlive", Sub: "bind", Options: map[string]string{"session": session}})
		i, err := e.srv.WaitInteraction(waitCtx(t), id, func(i discordtest.Interaction) bool { return i.Callback != 0 })
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	stored := func() map[string]content.SessionID {
		t.Helper()
		m, err := e.bindings.Bindings(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	cases := []struct {
		name      string
		perms     int64
		session   string
		ephemeral bool
		says      string
		want      map[string]content.SessionID
	}{
		{"no permission", discordtest.PermissionSendMessages, string(sessionB), true, "管理频道", map[string]content.SessionID{}},
		{"unknown session", discordtest.PermissionManageChannels, "s-nope", true, "找不到场次 s-nope", map[string]content.SessionID{}},
		{"manage channels", discordtest.PermissionManageChannels | discordtest.PermissionSendMessages, string(sessionB), false, "已绑定直播场次 " + string(sessionB), map[string]content.SessionID{"c-new": sessionB}},
		{"administrator rebinds", discordtest.PermissionAdministrator, string(sessionA), false, "已绑定直播场次 " + string(sessionA), map[string]content.SessionID{"c-new": sessionA}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			i := bind("c-new", c.perms, c.session)
			if i.Callback != 4 || i.Ephemeral != c.ephemeral || !strings.Contains(i.Original, c.says) {
				t.Errorf("got callback %d ephemeral %t %q, want 4, %t, containing %q", i.Callback, i.Ephemeral, i.Original, c.ephemeral, c.says)
			}
			if got := stored(); !maps.Equal(got, c.want) {
				t.Errorf("got stored bindings %v, want %v", got, c.want)
			}
		})
	}

	t.Run("in effect", func(t *testing.T) {
		e.srv.Say("c-new", viewer, "绑定后的问题")
		_, in := e.chat.waitPost(t, "绑定后的问题")
		if in.Session != sessionA {
			t.Errorf("got session %s, want %s", in.Session, sessionA)
		}
	})

	t.Run("kept across restarts", func(t *testing.T) {
		again, err := discord.NewBindings(t.Context(), storetest.OpenAt(t, e.dbPath))
		if err != nil {
			t.Fatalf("NewBindings again: %v", err)
		}
		got, err := again.Bindings(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]content.SessionID{"c-new": sessionA}; !maps.Equal(got, want) {
			t.Errorf("got %v after reopening, want %v", got, want)
		}
	})
}
