// Package discord connects the live chat to Discord: a viewer's message in
// a Discord channel bound to a session goes to the chat pipeline, and the
// bot's reply comes back as a Discord reply to it. The package only
// translates; moderation, masking, clusters and decisions are the
// pipeline's (bot.Pipeline).
//
// The adapter is a discordgo session (gateway intents Guilds, Guild
// Messages and Message Content) with two slash commands: /ask, to ask in
// a bound channel, and /govlive bind, with which a member who may manage
// the channel binds it to a session. Bindings come from the configuration
// and from a BindingStore (SQLite: NewBindings).
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/bwmarrin/discordgo"

	"govlive/bot"
	"govlive/content"
)

// Errors returned by New and Run.
var (
	// ErrConfig means the configuration is incomplete or malformed; the
	// message says which field.
	ErrConfig = errors.New("discord: invalid configuration")
	// ErrRunning means Run was called while the adapter already runs.
	ErrRunning = errors.New("discord: already running")
	// ErrRejected means Discord refused the bot for good (a wrong token,
	// intents not enabled in the developer portal): retrying cannot help.
	ErrRejected = errors.New("discord: rejected by Discord")
)

// Chat is the pipeline as the adapter uses it.
type Chat interface {
	Submit(ctx context.Context, in bot.Inbound) (bot.Submitted, error)
}

// BindingStore keeps which Discord channel feeds which session.
type BindingStore interface {
	// Bind binds channelID to session (replacing an earlier binding); by
	// says who did it.
	Bind(ctx context.Context, channelID string, session content.SessionID, by string) error
	// Bindings returns every binding by channel id.
	Bindings(ctx context.Context) (map[string]content.SessionID, error)
}

// Config configures the adapter.
type Config struct {
	// Token is the bot token (without the "Bot " prefix). It is a secret:
	// String, GoString and LogValue redact it and it is never logged.
	Token string
	// Chat receives the viewers' messages.
	Chat Chat
	// Bindings keeps the channels bound with /govlive bind.
	Bindings BindingStore
	// Log receives the adapter's records (never a message's text).
	Log *slog.Logger
	// Static binds channels from the configuration: channel id → session.
	// A binding made with /govlive bind replaces a static one.
	Static map[string]content.SessionID
	// Sessions checks that a session exists (content.ErrNotFound when
	// not), for /govlive bind.
	Sessions func(ctx context.Context, id content.SessionID) error
	// IDKey keys the HMAC that turns Discord user ids into viewers'
	// anonymous ids. Empty: a key derived from Token, so that ids stay
	// the same across restarts but change with the token.
	IDKey []byte
	// APIBase replaces https://discord.com/ (the REST API, and so the
	// gateway address it returns), for a stand-in such as discordtest.
	// Empty: Discord's.
	APIBase string
}

// Validate checks that c is complete.
func (c Config) Validate() error {
	var missing []string
	if strings.TrimSpace(c.Token) == "" {
		missing = append(missing, "token")
	}
	if c.Chat == nil {
		missing = append(missing, "chat")
	}
	if c.Bindings == nil {
		missing = append(missing, "bindings")
	}
	if c.Sessions == nil {
		missing = append(missing, "sessions")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s required", ErrConfig, strings.Join(missing, ", "))
	}
	if c.APIBase != "" {
		u, err := url.Parse(c.APIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: api base %q is not an http(s) URL", ErrConfig, c.APIBase)
		}
	}
	return nil
}

// String describes c with the token redacted.
func (c Config) String() string {
	return fmt.Sprintf("discord{token=%s api_base=%s static=%d}", redact(c.Token), c.APIBase, len(c.Static))
}

// GoString is String, so that %#v does not print the token either.
func (c Config) GoString() string { return c.String() }

// LogValue describes c for log/slog with the token redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token", redact(c.Token)),
		slog.String("api_base", c.APIBase),
		slog.Int("static", len(c.Static)),
	)
}

func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// Adapter is the Discord side of the live chat. Run connects it; Publish
// hands it the pipeline's events.
type Adapter struct {
	cfg   Config
	log   *slog.Logger
	idKey []byte
	http  *http.Client

	running atomic.Bool
	// events are the pipeline's events for Discord, queued by Publish.
	events chan bot.Event
	// dropped counts events Publish dropped on a full queue.
	dropped atomic.Int64
}

var _ bot.Publisher = (*Adapter)(nil)

// eventQueue is how many events Publish queues before it drops: replies
// wait here while a REST call waits out a rate limit.
const eventQueue = 1024

// New checks cfg and returns an adapter; Run connects it.
func New(cfg Config) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{
		cfg:    cfg,
		log:    log.With("component", "discord"),
		idKey:  cfg.IDKey,
		events: make(chan bot.Event, eventQueue),
	}
	if len(a.idKey) == 0 {
		a.idKey = deriveKey(cfg.Token)
	}
	transport := http.DefaultTransport
	if cfg.APIBase != "" {
		base, _ := url.Parse(cfg.APIBase) // checked in Validate
		discord, err := url.Parse(discordgo.EndpointDiscord)
		if err != nil {
			return nil, fmt.Errorf("discord: endpoint %q: %w", discordgo.EndpointDiscord, err)
		}
		transport = &rebase{from: discord.Host, to: base, next: http.DefaultTransport}
	}
	a.http = &http.Client{Timeout: restTimeout, Transport: transport}
	return a, nil
}

// String describes the adapter with the token redacted.
func (a *Adapter) String() string { return a.cfg.String() }

// GoString is String.
func (a *Adapter) GoString() string { return a.String() }

// LogValue describes the adapter for log/slog with the token redacted.
func (a *Adapter) LogValue() slog.Value { return a.cfg.LogValue() }

// Publish implements bot.Publisher: it queues the events Discord needs
// (the bot's replies, hidden posts) for Run and never blocks. When the
// queue is full the event is dropped and logged.
func (a *Adapter) Publish(e bot.Event) {
	if !wanted(e) {
		return
	}
	select {
	case a.events <- e:
	default:
		n := a.dropped.Add(1)
		a.log.Warn("event queue full, event dropped", "kind", e.Kind, "session", e.Session, "dropped", n)
	}
}

// wanted reports whether an event can concern Discord.
func wanted(e bot.Event) bool {
	switch e.Kind {
	case bot.EventMessage:
		return e.Post != nil && e.Post.Author.Channel == bot.ChannelBot && e.Post.ReplyTo != 0 && !e.Post.Hidden
	case bot.EventHidden:
		return true
	}
	return false
}

// rebase sends the requests for one host to another base URL: discordgo
// builds its URLs from package variables, which this leaves alone.
type rebase struct {
	from string
	to   *url.URL
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (r *rebase) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != r.from {
		return r.next.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = r.to.Scheme
	out.URL.Host = r.to.Host
	out.URL.Path = strings.TrimSuffix(r.to.Path, "/") + req.URL.Path
	out.URL.RawPath = ""
	out.Host = ""
	return r.next.RoundTrip(out)
}
