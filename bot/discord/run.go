package discord

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"govlive/bot"
	"govlive/content"
)

// Intents are the gateway intents the adapter asks for. Message Content
// is privileged: it must be enabled for the bot in the developer portal,
// or every message arrives with empty text.
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsMessageContent

const (
	// restTimeout bounds one REST request.
	restTimeout = 20 * time.Second
	// inQueue is how many gateway events wait for the loop before
	// discordgo's reader blocks.
	inQueue = 256
	// remembered is how many questions and replies the adapter keeps
	// the Discord messages of, for replies and deletions.
	remembered = 4096
	// maxOpenWait caps the wait between attempts to reach the gateway.
	maxOpenWait = time.Minute
)

// Run connects to Discord and handles the gateway's events and the
// pipeline's until ctx ends, then closes the connection. It retries the
// first connection until ctx ends, except when Discord rejects the bot
// (ErrRejected); later drops are discordgo's to reconnect (resuming the
// session when it can).
func (a *Adapter) Run(ctx context.Context) error {
	if !a.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer a.running.Store(false)

	bindings, err := a.loadBindings(ctx)
	if err != nil {
		return err
	}
	s, err := discordgo.New("Bot " + a.cfg.Token)
	if err != nil {
		return fmt.Errorf("discord: new session: %s", a.scrub(err))
	}
	s.Client = a.http
	s.Dialer = &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 45 * time.Second}
	s.Identify.Intents = Intents
	// discordgo logs to the standard logger; the adapter logs what
	// matters (connections, rate limits, errors) itself.
	s.LogLevel = -1
	// Handlers run on discordgo's reader and only queue for the loop, so
	// events keep their order and no goroutine is started per event.
	s.SyncEvents = true
	s.StateEnabled = false

	in := make(chan any, inQueue)
	stop := make(chan struct{})
	queue := func(v any) {
		select {
		case in <- v:
		case <-stop:
		}
	}
	removes := []func(){
		s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) { queue(r) }),
		s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) { queue(m) }),
		s.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) { queue(i) }),
		s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Connect) { a.log.Info("gateway connected") }),
		s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) { a.log.Info("gateway disconnected") }),
		s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) { a.log.Info("gateway session resumed") }),
		s.AddHandler(func(_ *discordgo.Session, r *discordgo.RateLimit) {
			// The URL may hold an interaction's token: not logged.
			if r.TooManyRequests != nil {
				a.log.Warn("rate limited, retrying", "bucket", r.Bucket, "retry_after", r.RetryAfter)
			}
		}),
	}
	defer func() {
		for _, remove := range removes {
			remove()
		}
	}()

	if err := a.open(ctx, s); err != nil {
		close(stop)
		return err
	}
	l := &loop{
		a:         a,
		s:         s,
		bindings:  bindings,
		questions: newRecent[bot.MessageID, origin](remembered),
		replies:   newRecent[bot.MessageID, origin](remembered),
	}
	l.run(ctx, in)
	close(stop)

	// No reconnection from here on: a reconnection already under way
	// may still end in Close below dropping it.
	s.Lock()
	s.ShouldReconnectOnError = false
	s.Unlock()
	if err := s.Close(); err != nil {
		a.log.Warn("close gateway", "err", a.scrub(err))
	}
	return nil
}

// open connects to the gateway, retrying with backoff until ctx ends
// unless Discord rejects the bot.
func (a *Adapter) open(ctx context.Context, s *discordgo.Session) error {
	wait := time.Second
	for {
		err := s.Open()
		if err == nil {
			return nil
		}
		if rejected(err) {
			return fmt.Errorf("discord: open gateway: %w: %s", ErrRejected, a.scrub(err))
		}
		a.log.Warn("open gateway failed, retrying", "err", a.scrub(err), "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, maxOpenWait)
	}
}

// rejected reports whether err means Discord refuses the bot for good: an
// unauthorised token, or a gateway close code that forbids reconnecting.
func rejected(err error) bool {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode == http.StatusUnauthorized || re.Response.StatusCode == http.StatusForbidden
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case 4004, // authentication failed
			4010, 4011, // invalid shard, sharding required
			4012,       // invalid API version
			4013, 4014: // invalid intents, disallowed intents
			return true
		}
	}
	return false
}

// loadBindings merges the configured bindings and the stored ones (which
// win: they were made later, on purpose).
func (a *Adapter) loadBindings(ctx context.Context) (map[string]content.SessionID, error) {
	out := maps.Clone(a.cfg.Static)
	if out == nil {
		out = map[string]content.SessionID{}
	}
	stored, err := a.cfg.Bindings.Bindings(ctx)
	if err != nil {
		return nil, fmt.Errorf("discord: load bindings: %w", err)
	}
	maps.Copy(out, stored)
	return out, nil
}

// interactionURL matches the interaction token in a webhook or callback
// URL, as it appears in an error.
var interactionURL = regexp.MustCompile(`(/(?:webhooks/[^/\s"]+|interactions/[^/\s"]+)/)[^/\s"?]+`)

// scrub returns err's text without the bot token or interaction tokens.
func (a *Adapter) scrub(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if a.cfg.Token != "" {
		s = strings.ReplaceAll(s, a.cfg.Token, "[redacted]")
	}
	return interactionURL.ReplaceAllString(s, "${1}[redacted]")
}

// deriveKey is the anonymous-id key when none is configured.
func deriveKey(token string) []byte {
	k := sha256.Sum256([]byte("govlive/discord viewer id\x00" + token))
	return k[:]
}

// sender is the anonymous sender of a Discord user: "d-" and 12 hex
// digits of an HMAC of the user id, and the member's nickname, else the
// user's display name, else the user name.
func (a *Adapter) sender(u *discordgo.User, m *discordgo.Member) bot.Sender {
	mac := hmac.New(sha256.New, a.idKey)
	mac.Write([]byte(u.ID))
	nick := u.Username
	if u.GlobalName != "" {
		nick = u.GlobalName
	}
	if m != nil && m.Nick != "" {
		nick = m.Nick
	}
	return bot.Sender{Channel: bot.ChannelDiscord, ID: "d-" + hex.EncodeToString(mac.Sum(nil))[:12], Nick: nick}
}
