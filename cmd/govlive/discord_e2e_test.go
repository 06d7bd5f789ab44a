package main

import (
	"strings"
	"testing"

	"govlive/bot/discord/discordtest"
)

// TestDiscordThroughServe: serve with a bot token joins a stand-in
// Discord (REST and gateway on loopback, through discordgo); a question in
// the channel bound to the demo session goes through the same pipeline as
// the web chat: the watch page's chat shows it and the bot's reply, and
// the reply is posted to the channel as a reply to the question.
func TestDiscordThroughServe(t *testing.T) {
	srv := discordtest.NewServer(t)
	const channel = "410000000000000001"
	p := startServeArgs(t, t.TempDir(), "--discord-token", srv.Token, "--discord-api", srv.URL,
		"--discord-channels", channel+"=demo")
	waitReady(t, p)
	ctx := t.Context()
	if err := srv.WaitSessions(ctx, 1); err != nil {
		t.Fatalf("the bot did not connect to the gateway: %v", err)
	}
	web := dialChat(t, p, "demo", "网页观众", "key-web", "")
	const q = "新办食品经营许可要准备哪些材料"
	asked := srv.Say(channel, discordtest.User{ID: "310000000000000009", Username: "lisi", GlobalName: "李四"}, q)

	question, reply := web.replyTo(q)
	if question.Author.Channel != "discord" || question.Author.Nick == "" {
		t.Errorf("the web chat shows the Discord question as %+v", question.Author)
	}
	if reply.Source == nil || reply.Source.ID != "faq-food-biz-new-materials" {
		t.Errorf("the web chat shows the reply %+v, want the standard answer of faq-food-biz-new-materials", reply)
	}
	posted, err := srv.WaitMessage(ctx, channel, func(m discordtest.Message) bool { return m.Bot && m.Reference == asked.ID })
	if err != nil {
		t.Fatalf("no reply in the Discord channel: %v", err)
	}
	if first := strings.SplitN(reply.Text, "\n", 2)[0]; !strings.Contains(posted.Content, first) {
		t.Errorf("Discord got %q, the web chat %q", posted.Content, reply.Text)
	}
	if strings.Contains(p.stderr.String(), srv.Token) || strings.Contains(p.stdout.String(), srv.Token) {
		t.Error("serve printed the bot token")
	}
}
