package discord

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/bwmarrin/discordgo"

	"govlive/bot"
	"govlive/content"
)

// The slash commands.
const (
	cmdAsk       = "ask"
	optQuestion  = "question"
	cmdGovlive   = "govlive"
	subBind      = "bind"
	optSession   = "session"
	maxQuestion  = 500
	bindRequires = discordgo.PermissionManageChannels
)

// commands are the slash commands, registered globally on READY.
func commands() []*discordgo.ApplicationCommand {
	no := false
	manage := int64(bindRequires)
	return []*discordgo.ApplicationCommand{
		{
			Name:         cmdAsk,
			Description:  "向政务小助手提问",
			DMPermission: &no,
			Options: []*discordgo.ApplicationCommandOption{{
				Type:              discordgo.ApplicationCommandOptionString,
				Name:              optQuestion,
				NameLocalizations: map[discordgo.Locale]string{discordgo.ChineseCN: "问题"},
				Description:       "您的问题",
				Required:          true,
				MaxLength:         maxQuestion,
			}},
		},
		{
			Name:                     cmdGovlive,
			Description:              "政务直播设置",
			DMPermission:             &no,
			DefaultMemberPermissions: &manage,
			Options: []*discordgo.ApplicationCommandOption{{
				Type:              discordgo.ApplicationCommandOptionSubCommand,
				Name:              subBind,
				NameLocalizations: map[discordgo.Locale]string{discordgo.ChineseCN: "绑定"},
				Description:       "把本频道绑定到一个直播场次",
				Options: []*discordgo.ApplicationCommandOption{{
					Type:              discordgo.ApplicationCommandOptionString,
					Name:              optSession,
					NameLocalizations: map[discordgo.Locale]string{discordgo.ChineseCN: "场次"},
					Description:       "场次ID",
					Required:          true,
				}},
			}},
		},
	}
}

// origin is where a question (or a reply the bot posted) is in Discord:
// a channel message, or an /ask interaction's response.
type origin struct {
	session content.SessionID
	channel string
	guild   string
	// message is the Discord message: the viewer's, the bot's repost of
	// it, the bot's reply, or a follow-up of an interaction.
	message string
	// ia is the /ask interaction; with message empty, the place is its
	// original response.
	ia *discordgo.Interaction
}

// loop owns the adapter's state while Run runs: the bindings and where
// recent questions and replies are. One goroutine (Run's) runs it.
type loop struct {
	a          *Adapter
	s          *discordgo.Session
	bindings   map[string]content.SessionID
	botID      string
	appID      string
	registered bool
	warned     bool // about messages without content
	questions  *recent[bot.MessageID, origin]
	replies    *recent[bot.MessageID, origin]
}

func (l *loop) run(ctx context.Context, in <-chan any) {
	for {
		select {
		case <-ctx.Done():
			return
		case v := <-in:
			switch v := v.(type) {
			case *discordgo.Ready:
				l.ready(ctx, v)
			case *discordgo.MessageCreate:
				if v.Message != nil {
					l.message(ctx, v.Message)
				}
			case *discordgo.InteractionCreate:
				if v.Interaction != nil {
					l.interaction(ctx, v.Interaction)
				}
			}
		case e := <-l.a.events:
			l.event(ctx, e)
		}
	}
}

// rest are the options of every REST call: cancelled with ctx.
func rest(ctx context.Context) discordgo.RequestOption { return discordgo.WithContext(ctx) }

// noMentions lets a message ping no one: reposted viewers' text could
// hold @everyone.
func noMentions(repliedUser bool) *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, RepliedUser: repliedUser}
}

func (l *loop) ready(ctx context.Context, r *discordgo.Ready) {
	if r.User != nil {
		l.botID = r.User.ID
	}
	if r.Application != nil {
		l.appID = r.Application.ID
	}
	l.a.log.Info("gateway ready", "bot", l.botID, "application", l.appID, "bindings", len(l.bindings))
	if l.registered || l.appID == "" {
		return
	}
	if _, err := l.s.ApplicationCommandBulkOverwrite(l.appID, "", commands(), rest(ctx)); err != nil {
		l.a.log.Error("register slash commands", "err", l.a.scrub(err))
		return
	}
	l.registered = true
}

// message handles a message in a channel.
func (l *loop) message(ctx context.Context, m *discordgo.Message) {
	if m.Author == nil || m.Author.Bot || m.Author.ID == l.botID || m.WebhookID != "" {
		return
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return
	}
	session, ok := l.bindings[m.ChannelID]
	if !ok {
		return
	}
	log := l.a.log.With("session", session, "channel", m.ChannelID, "message", m.ID)
	if strings.TrimSpace(m.Content) == "" {
		if !l.warned {
			l.warned = true
			log.Warn("message without content: attachments only, or the Message Content intent is not enabled")
		}
		return
	}
	sender := l.a.sender(m.Author, m.Member)
	o := origin{session: session, channel: m.ChannelID, guild: m.GuildID, message: m.ID}
	sub, err := l.a.cfg.Chat.Submit(ctx, bot.Inbound{Session: session, Sender: sender, Text: m.Content, ExternalID: m.ID})
	switch {
	case err != nil:
		log.Error("submit", "err", err)
		l.send(ctx, log, o, textUnavailable)
		return
	case sub.Refused != "":
		l.send(ctx, log, o, sub.Refused)
		return
	case sub.Post.Hidden:
		l.remove(ctx, log, o)
		return
	case sub.PII:
		// Discord cannot edit a viewer's message: delete it, show it
		// masked, and answer that.
		l.remove(ctx, log, o)
		repost := o
		repost.message = ""
		if msg := l.send(ctx, log, repost, piiRepost(sender.Nick, sub.Post.Text)); msg != nil {
			o.message = msg.ID
		} else {
			o.message = ""
		}
	}
	if sub.Post.ID != 0 {
		l.questions.put(sub.Post.ID, o)
	}
	if sub.Reply != nil {
		l.answer(ctx, o, *sub.Reply)
	}
}

// send posts text in o's channel, as a reply to o's message if it has
// one, and returns the message (nil on failure, logged).
func (l *loop) send(ctx context.Context, log *slog.Logger, o origin, text string) *discordgo.Message {
	data := &discordgo.MessageSend{Content: clip(text), AllowedMentions: noMentions(o.message != "")}
	if o.message != "" {
		// Not failing when the question is gone (deleted meanwhile):
		// Discord then posts the reply on its own.
		keep := false
		data.Reference = &discordgo.MessageReference{MessageID: o.message, ChannelID: o.channel, GuildID: o.guild, FailIfNotExists: &keep}
	}
	msg, err := l.s.ChannelMessageSendComplex(o.channel, data, rest(ctx))
	if err != nil {
		log.Error("send message", "err", l.a.scrub(err))
		return nil
	}
	return msg
}

// remove deletes o's message, or its interaction response.
func (l *loop) remove(ctx context.Context, log *slog.Logger, o origin) bool {
	var err error
	switch {
	case o.ia != nil && o.message == "":
		err = l.s.InteractionResponseDelete(o.ia, rest(ctx))
	case o.ia != nil:
		err = l.s.FollowupMessageDelete(o.ia, o.message, rest(ctx))
	case o.message != "":
		err = l.s.ChannelMessageDelete(o.channel, o.message, rest(ctx))
	default:
		return false
	}
	if err != nil {
		// Most likely the bot lacks Manage Messages in the channel.
		log.Error("delete message", "err", l.a.scrub(err))
		return false
	}
	return true
}

// answer posts a bot reply to the question at o, once per reply.
func (l *loop) answer(ctx context.Context, o origin, reply bot.Post) {
	if _, done := l.replies.get(reply.ID); done {
		return
	}
	log := l.a.log.With("session", o.session, "channel", o.channel, "reply", reply.ID)
	text := clip(replyText(reply))
	where := origin{session: o.session, channel: o.channel, guild: o.guild}
	if o.ia != nil {
		msg, err := l.s.FollowupMessageCreate(o.ia, true, &discordgo.WebhookParams{Content: text, AllowedMentions: noMentions(false)}, rest(ctx))
		if err == nil && msg != nil {
			where.ia, where.message = o.ia, msg.ID
			l.replies.put(reply.ID, where)
			return
		}
		// The interaction's token lasts 15 minutes: post in the channel.
		log.Warn("interaction follow-up failed, posting in the channel", "err", l.a.scrub(err))
		o.message = ""
	}
	if msg := l.send(ctx, log, o, text); msg != nil {
		where.message = msg.ID
		l.replies.put(reply.ID, where)
	}
}

// event handles one of the pipeline's events.
func (l *loop) event(ctx context.Context, e bot.Event) {
	switch e.Kind {
	case bot.EventMessage:
		if !wanted(e) {
			return
		}
		if o, ok := l.questions.get(e.Post.ReplyTo); ok {
			l.answer(ctx, o, *e.Post)
		}
	case bot.EventHidden:
		l.hidden(ctx, e)
	}
}

// hidden deletes a hidden post's Discord message: a question from
// Discord, or a reply the bot posted there.
func (l *loop) hidden(ctx context.Context, e bot.Event) {
	id := e.ID
	if id == 0 && e.Post != nil {
		id = e.Post.ID
	}
	log := l.a.log.With("session", e.Session, "post", id)
	if o, ok := l.questions.get(id); ok {
		l.questions.remove(id)
		l.remove(ctx, log, o)
		return
	}
	if o, ok := l.replies.get(id); ok {
		if o.ia != nil && o.message == "" {
			// The reply shares the original response with its question.
			withdrawn := textWithdrawn
			if _, err := l.s.InteractionResponseEdit(o.ia, &discordgo.WebhookEdit{Content: &withdrawn, AllowedMentions: noMentions(false)}, rest(ctx)); err != nil {
				log.Error("withdraw reply", "err", l.a.scrub(err))
			}
			return
		}
		l.remove(ctx, log, o)
		return
	}
	// A Discord question the adapter no longer remembers: its message
	// id is the post's external id, in one of the session's channels.
	if p := e.Post; p != nil && p.Author.Channel == bot.ChannelDiscord && p.ExternalID != "" {
		for channel, session := range l.bindings {
			if session != e.Session {
				continue
			}
			if err := l.s.ChannelMessageDelete(channel, p.ExternalID, rest(ctx)); err == nil {
				return
			}
		}
		log.Info("hidden post's Discord message not found")
	}
}

// interaction handles a slash command.
func (l *loop) interaction(ctx context.Context, i *discordgo.Interaction) {
	if i.Type != discordgo.InteractionApplicationCommand {
		return
	}
	d := i.ApplicationCommandData()
	switch d.Name {
	case cmdAsk:
		l.ask(ctx, i, d)
	case cmdGovlive:
		if len(d.Options) == 1 && d.Options[0].Name == subBind {
			l.bind(ctx, i, d.Options[0].Options)
		}
	}
}

// user is who sent an interaction.
func user(i *discordgo.Interaction) (*discordgo.User, *discordgo.Member) {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User, i.Member
	}
	return i.User, nil
}

// option returns a string option's value.
func option(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) string {
	for _, o := range opts {
		if o.Name == name && o.Type == discordgo.ApplicationCommandOptionString {
			if v, ok := o.Value.(string); ok {
				return v
			}
		}
	}
	return ""
}

// respond answers an interaction at once; ephemeral answers only the
// member who used the command.
func (l *loop) respond(ctx context.Context, log *slog.Logger, i *discordgo.Interaction, text string, ephemeral bool) {
	data := &discordgo.InteractionResponseData{Content: clip(text), AllowedMentions: noMentions(false)}
	if ephemeral {
		data.Flags = discordgo.MessageFlagsEphemeral
	}
	err := l.s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data}, rest(ctx))
	if err != nil {
		log.Error("respond to interaction", "err", l.a.scrub(err))
	}
}

// edit replaces an interaction's original response.
func (l *loop) edit(ctx context.Context, log *slog.Logger, i *discordgo.Interaction, text string) bool {
	text = clip(text)
	if _, err := l.s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &text, AllowedMentions: noMentions(false)}, rest(ctx)); err != nil {
		log.Error("edit interaction response", "err", l.a.scrub(err))
		return false
	}
	return true
}

// ask handles /ask: the question goes to the channel's session, and the
// interaction's response shows it and the reply.
func (l *loop) ask(ctx context.Context, i *discordgo.Interaction, d discordgo.ApplicationCommandInteractionData) {
	log := l.a.log.With("channel", i.ChannelID, "interaction", i.ID)
	session, ok := l.bindings[i.ChannelID]
	u, m := user(i)
	switch {
	case !ok:
		l.respond(ctx, log, i, textUnbound, true)
		return
	case u == nil:
		l.respond(ctx, log, i, textGuildOnly, true)
		return
	}
	question := option(d.Options, optQuestion)
	if strings.TrimSpace(question) == "" {
		l.respond(ctx, log, i, textEmpty, true)
		return
	}
	log = log.With("session", session)
	// Discord wants an answer within three seconds: defer, then edit.
	if err := l.s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}, rest(ctx)); err != nil {
		log.Error("defer interaction response", "err", l.a.scrub(err))
		return
	}
	sender := l.a.sender(u, m)
	sub, err := l.a.cfg.Chat.Submit(ctx, bot.Inbound{Session: session, Sender: sender, Text: question, ExternalID: i.ID})
	o := origin{session: session, channel: i.ChannelID, guild: i.GuildID, ia: i}
	switch {
	case err != nil:
		log.Error("submit", "err", err)
		l.edit(ctx, log, i, textUnavailable)
		return
	case sub.Refused != "":
		l.edit(ctx, log, i, sub.Refused)
		return
	case sub.Post.Hidden:
		l.remove(ctx, log, o)
		return
	}
	if sub.Post.ID != 0 {
		l.questions.put(sub.Post.ID, o)
	}
	text := askText(sender.Nick, sub.Post.Text, sub.PII)
	if r := sub.Reply; r != nil {
		if l.edit(ctx, log, i, text+"\n\n"+replyText(*r)) {
			l.replies.put(r.ID, o)
		}
		return
	}
	l.edit(ctx, log, i, text+"\n\n"+textAnswering)
}

// bind handles /govlive bind: a member who may manage the channel binds
// it to a session.
func (l *loop) bind(ctx context.Context, i *discordgo.Interaction, opts []*discordgo.ApplicationCommandInteractionDataOption) {
	log := l.a.log.With("channel", i.ChannelID, "interaction", i.ID)
	u, m := user(i)
	if m == nil || u == nil {
		l.respond(ctx, log, i, textGuildOnly, true)
		return
	}
	// Discord computes the member's permissions in this channel,
	// overwrites included; the command's default permission only hides
	// it, so check here.
	if m.Permissions&(discordgo.PermissionManageChannels|discordgo.PermissionAdministrator) == 0 {
		l.respond(ctx, log, i, textNoPermission, true)
		return
	}
	id := strings.TrimSpace(option(opts, optSession))
	session := content.SessionID(id)
	by := l.a.sender(u, m).ID
	if err := l.a.cfg.Sessions(ctx, session); err != nil {
		if errors.Is(err, content.ErrNotFound) || id == "" {
			l.respond(ctx, log, i, textNoSession(id), true)
			return
		}
		log.Error("check session", "session", session, "err", err)
		l.respond(ctx, log, i, textBindFailed, true)
		return
	}
	if err := l.a.cfg.Bindings.Bind(ctx, i.ChannelID, session, by); err != nil {
		log.Error("bind channel", "session", session, "err", err)
		l.respond(ctx, log, i, textBindFailed, true)
		return
	}
	l.bindings[i.ChannelID] = session
	log.Info("channel bound", "session", session, "by", by)
	l.respond(ctx, log, i, textBound(session), false)
}
