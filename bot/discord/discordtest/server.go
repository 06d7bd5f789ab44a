// Package discordtest provides a loopback stand-in for Discord, as
// net/http/httptest does for HTTP: the REST API and the gateway websocket
// that a real discordgo session (and so govlive's bot/discord adapter)
// talks to, served on 127.0.0.1.
//
// It is for tests only: no non-test code may import it.
//
// The stand-in implements what govlive sends, with Discord's own
// payloads: GET /gateway and /gateway/bot, the bulk overwrite of global
// commands, creating and deleting channel messages (a reply must reference
// a message that exists, unless fail_if_not_exists is false), interaction
// callbacks, editing and deleting the original response and follow-up
// messages. Every request is recorded. A 429 can be injected for the next
// matching request. The gateway sends Hello, checks Identify (token,
// intents: without Message Content a viewer's message arrives with empty
// content, as on Discord), sends READY, answers heartbeats, compresses
// dispatches with zlib when Identify asks for it, echoes the bot's own
// messages back as MESSAGE_CREATE, and accepts Resume, replaying what was
// dispatched while the client was away. Any other route fails the test.
package discordtest

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway intents, as Discord numbers them.
const (
	IntentGuilds         = 1 << 0
	IntentGuildMessages  = 1 << 9
	IntentMessageContent = 1 << 15
)

// Permission bits, as Discord numbers them.
const (
	PermissionAdministrator  int64 = 1 << 3
	PermissionManageChannels int64 = 1 << 4
	PermissionSendMessages   int64 = 1 << 11
)

// Server is a stand-in Discord serving REST and the gateway on 127.0.0.1.
// Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's base, "http://127.0.0.1:port": pass it as the
	// adapter's APIBase.
	URL string
	// Token is the bot token the server accepts.
	Token string
	// AppID, BotID and GuildID name the application, its bot user and
	// the one guild the bot is in.
	AppID, BotID, GuildID string

	tb       testing.TB
	srv      *httptest.Server
	upgrader websocket.Upgrader

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced on every change
	lastID       int64
	requests     []Request
	frames       [][]byte // every frame a client sent on the gateway
	limits       []limit
	commands     []json.RawMessage
	messages     map[string]*Message // by id, deleted ones kept with Deleted set
	interactions map[string]*Interaction
	identifies   []Identify
	resumes      int
	sessions     int // READY or RESUMED sent

	gw gateway // the gateway session; its own lock
}

// Request is one REST request the server received.
type Request struct {
	Method string
	Path   string // without the query
	Query  string
	Body   []byte
	Status int // what the server answered
}

// Message is a message in a channel: a viewer's (sent with Say) or one the
// bot posted.
type Message struct {
	ID, ChannelID, GuildID string
	AuthorID               string
	Bot                    bool
	Content                string
	// Reference is the id of the message it replies to.
	Reference string
	// AllowedMentions is what the bot's request allowed (nil: not set).
	AllowedMentions *AllowedMentions
	Deleted         bool
}

// AllowedMentions is a message's allowed_mentions.
type AllowedMentions struct {
	Parse       []string `json:"parse"`
	RepliedUser bool     `json:"replied_user"`
}

// Interaction is a slash command the server dispatched, and what the bot
// answered to it.
type Interaction struct {
	ID, Token, ChannelID string
	// Callback is the type of the first callback (0: none yet), Ephemeral
	// whether it set the ephemeral flag, Callbacks how many were tried.
	Callback  int
	Ephemeral bool
	Callbacks int
	// Original is the original response's content: the callback's, then
	// the last edit's. Deleted says the bot deleted it.
	Original string
	Deleted  bool
	// Followups are the follow-up messages' contents.
	Followups []string
}

// Identify is an Identify the gateway received.
type Identify struct {
	Token    string `json:"token"`
	Intents  int    `json:"intents"`
	Compress bool   `json:"compress"`
}

// User is the author of a viewer's message or interaction.
type User struct {
	ID, Username, GlobalName string
	Nick                     string // the member's nickname in the guild
	Bot                      bool
	// Permissions are the member's permissions in the channel (for
	// interactions).
	Permissions int64
}

// Command is a slash command to dispatch as an interaction.
type Command struct {
	ChannelID string
	User      User
	Name      string            // the command: "ask"
	Sub       string            // the sub-command, if any: "bind"
	Options   map[string]string // string options by name
}

// limit is an injected 429.
type limit struct {
	method, prefix string
	retryAfter     time.Duration
}

// NewServer serves a new stand-in on 127.0.0.1 until tb ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		Token:        "standin." + strconv.FormatInt(time.Now().UnixNano(), 36) + ".secret",
		AppID:        "900000000000000001",
		BotID:        "900000000000000002",
		GuildID:      "900000000000000003",
		tb:           tb,
		changed:      make(chan struct{}),
		lastID:       1_000_000_000_000_000_000,
		messages:     map[string]*Message{},
		interactions: map[string]*Interaction{},
	}
	s.gw.s = s
	s.gw.heartbeat = 41250
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/{v}/gateway", s.gatewayURL)
	mux.HandleFunc("GET /api/{v}/gateway/bot", s.gatewayURL)
	mux.HandleFunc("PUT /api/{v}/applications/{app}/commands", s.putCommands)
	mux.HandleFunc("POST /api/{v}/channels/{channel}/messages", s.createMessage)
	mux.HandleFunc("DELETE /api/{v}/channels/{channel}/messages/{message}", s.deleteMessage)
	mux.HandleFunc("POST /api/{v}/interactions/{id}/{token}/callback", s.callback)
	mux.HandleFunc("PATCH /api/{v}/webhooks/{app}/{token}/messages/{message}", s.editOriginal)
	mux.HandleFunc("DELETE /api/{v}/webhooks/{app}/{token}/messages/{message}", s.deleteOriginal)
	mux.HandleFunc("POST /api/{v}/webhooks/{app}/{token}", s.followup)
	mux.HandleFunc("GET /gateway/", s.gw.serve)
	mux.HandleFunc("GET /gateway", s.gw.serve)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.tb.Errorf("discordtest: unexpected request %s %s", r.Method, r.URL.Path)
		writeError(w, http.StatusNotFound, 0, "404: Not Found")
	})
	s.srv = httptest.NewServer(s.record(mux))
	s.URL = s.srv.URL
	tb.Cleanup(func() {
		s.gw.closeConn()
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
	return s
}

// SetHeartbeatInterval sets the interval, in milliseconds, that Hello
// tells clients to heartbeat at (Discord's is about 41 s).
func (s *Server) SetHeartbeatInterval(ms int) {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	s.gw.heartbeat = ms
}

// RateLimitNext answers the next request with method whose path (after
// /api/v9) starts with prefix with a 429 asking to retry after d.
func (s *Server) RateLimitNext(method, prefix string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, limit{method: method, prefix: prefix, retryAfter: d})
}

// Requests returns every REST request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Frames returns every gateway frame clients sent, in order.
func (s *Server) Frames() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.frames)
}

// Identifies returns every Identify received, in order.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.identifies)
}

// Resumes is how many Resumes the gateway accepted.
func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumes
}

// Commands returns the commands of the last bulk overwrite, as sent.
func (s *Server) Commands() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands)
}

// Messages returns the messages of channel, deleted ones included, in the
// order they were created.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channelMessages(channel)
}

func (s *Server) channelMessages(channel string) []Message {
	var out []Message
	for _, m := range s.messages {
		if m.ChannelID == channel {
			out = append(out, *m)
		}
	}
	slices.SortFunc(out, func(a, b Message) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Message returns the message with the given id.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[id]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Interaction returns the interaction with the given id.
func (s *Server) Interaction(id string) (Interaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.interactions[id]
	if !ok {
		return Interaction{}, false
	}
	c := *i
	c.Followups = slices.Clone(i.Followups)
	return c, true
}

// Wait blocks until cond, called with nothing locked after every change
// of the server's state, holds, or ctx ends.
func (s *Server) Wait(ctx context.Context, what string, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("discordtest: waiting for %s: %w", what, ctx.Err())
		}
	}
}

// WaitMessage waits for a message of channel that match accepts.
func (s *Server) WaitMessage(ctx context.Context, channel string, match func(Message) bool) (Message, error) {
	var got Message
	err := s.Wait(ctx, "a message in "+channel, func() bool {
		for _, m := range s.Messages(channel) {
			if match(m) {
				got = m
				return true
			}
		}
		return false
	})
	return got, err
}

// WaitInteraction waits until the interaction with id satisfies cond.
func (s *Server) WaitInteraction(ctx context.Context, id string, cond func(Interaction) bool) (Interaction, error) {
	var got Interaction
	err := s.Wait(ctx, "interaction "+id, func() bool {
		i, ok := s.Interaction(id)
		got = i
		return ok && cond(i)
	})
	return got, err
}

// WaitSessions waits until the gateway has started n sessions (a READY
// or RESUMED sent), counting from the server's start.
func (s *Server) WaitSessions(ctx context.Context, n int) error {
	return s.Wait(ctx, fmt.Sprintf("%d gateway sessions", n), func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.sessions >= n
	})
}

// WaitCommands waits until the bot registered its commands.
func (s *Server) WaitCommands(ctx context.Context) error {
	return s.Wait(ctx, "commands", func() bool { return len(s.Commands()) > 0 })
}

// changedLocked wakes the waiters; s.mu is held.
func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// newID returns a new snowflake-like id, increasing; s.mu is held.
func (s *Server) newID() string {
	s.lastID++
	return strconv.FormatInt(s.lastID, 10)
}

// Say dispatches MESSAGE_CREATE: u writes content in channel. It returns
// the message as stored.
func (s *Server) Say(channel string, u User, content string) Message {
	s.mu.Lock()
	m := &Message{ID: s.newID(), ChannelID: channel, GuildID: s.GuildID, AuthorID: u.ID, Bot: u.Bot, Content: content}
	s.messages[m.ID] = m
	s.changedLocked()
	out := *m
	s.mu.Unlock()
	s.gw.dispatch("MESSAGE_CREATE", func(intents int) any {
		c := content
		if intents&IntentMessageContent == 0 {
			c = "" // Discord leaves it out without the privileged intent
		}
		return messageJSON(out, u, c, s.GuildID)
	})
	return out
}

// Interact dispatches INTERACTION_CREATE for a slash command that the bot
// registered (the test fails if it did not, or if an option is unknown).
// It returns the interaction's id.
func (s *Server) Interact(c Command) string {
	s.tb.Helper()
	data, err := s.commandData(c)
	if err != nil {
		s.tb.Errorf("discordtest: %v", err)
		return ""
	}
	s.mu.Lock()
	i := &Interaction{ID: s.newID(), ChannelID: c.ChannelID}
	i.Token = "itoken-" + i.ID
	s.interactions[i.ID] = i
	s.changedLocked()
	id, token := i.ID, i.Token
	s.mu.Unlock()
	payload := map[string]any{
		"id":              id,
		"application_id":  s.AppID,
		"type":            2,
		"data":            data,
		"guild_id":        s.GuildID,
		"channel_id":      c.ChannelID,
		"member":          memberJSON(c.User, true),
		"token":           token,
		"version":         1,
		"locale":          "zh-CN",
		"guild_locale":    "zh-CN",
		"app_permissions": strconv.FormatInt(PermissionSendMessages, 10),
	}
	s.gw.dispatch("INTERACTION_CREATE", func(int) any { return payload })
	return id
}

// commandData builds an interaction's data from a registered command.
func (s *Server) commandData(c Command) (map[string]any, error) {
	var cmd *command
	for _, raw := range s.Commands() {
		var rc command
		if err := json.Unmarshal(raw, &rc); err != nil {
			return nil, fmt.Errorf("registered command: %w", err)
		}
		if rc.Name == c.Name {
			cmd = &rc
			break
		}
	}
	if cmd == nil {
		return nil, fmt.Errorf("command /%s was not registered", c.Name)
	}
	opts := cmd.Options
	if c.Sub != "" {
		var sub *command
		for i := range cmd.Options {
			if cmd.Options[i].Name == c.Sub && cmd.Options[i].Type == 1 {
				sub = &cmd.Options[i]
			}
		}
		if sub == nil {
			return nil, fmt.Errorf("command /%s has no sub-command %s", c.Name, c.Sub)
		}
		opts = sub.Options
	}
	var values []map[string]any
	for _, o := range opts {
		v, ok := c.Options[o.Name]
		if !ok {
			if o.Required {
				return nil, fmt.Errorf("/%s %s: required option %s missing", c.Name, c.Sub, o.Name)
			}
			continue
		}
		if o.Type != 3 {
			return nil, fmt.Errorf("/%s %s: option %s is of type %d, not a string", c.Name, c.Sub, o.Name, o.Type)
		}
		values = append(values, map[string]any{"name": o.Name, "type": 3, "value": v})
	}
	if len(values) != len(c.Options) {
		return nil, fmt.Errorf("/%s %s: unknown options in %v", c.Name, c.Sub, c.Options)
	}
	data := map[string]any{"id": "cmd-" + c.Name, "name": c.Name, "type": 1}
	if c.Sub != "" {
		data["options"] = []map[string]any{{"name": c.Sub, "type": 1, "options": values}}
	} else if len(values) > 0 {
		data["options"] = values
	}
	return data, nil
}

// command is a registered command (or option) as sent.
type command struct {
	Name     string    `json:"name"`
	Type     int       `json:"type"`
	Required bool      `json:"required"`
	Options  []command `json:"options"`
}

// DropGateway closes the gateway connection without a close frame, as a
// network failure would. The session stays resumable.
func (s *Server) DropGateway() { s.gw.closeConn() }

// --- REST ---

// record reads and records every request, answers injected 429s and
// checks the bot token.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/gateway") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, 0, "read body")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.mu.Lock()
			s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Status: rec.status})
			s.changedLocked()
			s.mu.Unlock()
		}()
		rest := r.URL.Path
		if _, after, ok := strings.Cut(strings.TrimPrefix(rest, "/api/"), "/"); ok {
			rest = "/" + after
		}
		if l, ok := s.takeLimit(r.Method, rest); ok {
			secs := l.retryAfter.Seconds()
			h := rec.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Retry-After", strconv.Itoa(int(secs+0.999)))
			h.Set("X-RateLimit-Limit", "5")
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
			h.Set("X-RateLimit-Bucket", "standin")
			h.Set("X-RateLimit-Scope", "user")
			rec.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(rec).Encode(map[string]any{"message": "You are being rate limited.", "retry_after": secs, "global": false})
			return
		}
		// Interaction callbacks and webhook routes are authorised by
		// their token; everything else needs the bot token.
		open := strings.HasPrefix(rest, "/interactions/") || strings.HasPrefix(rest, "/webhooks/")
		if !open && r.Header.Get("Authorization") != "Bot "+s.Token {
			writeError(rec, http.StatusUnauthorized, 0, "401: Unauthorized")
			return
		}
		next.ServeHTTP(rec, r)
	})
}

func (s *Server) takeLimit(method, path string) (limit, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range s.limits {
		if l.method == method && strings.HasPrefix(path, l.prefix) {
			s.limits = slices.Delete(s.limits, i, i+1)
			return l, true
		}
	}
	return limit{}, false
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers Discord's error body.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "code": code})
}

func (s *Server) gatewayURL(w http.ResponseWriter, r *http.Request) {
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/gateway"
	writeJSON(w, http.StatusOK, map[string]any{
		"url":    url,
		"shards": 1,
		"session_start_limit": map[string]any{
			"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1,
		},
	})
}

func (s *Server) putCommands(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("app") != s.AppID {
		writeError(w, http.StatusForbidden, 50001, "Missing Access")
		return
	}
	var cmds []json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&cmds); err != nil {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	out := make([]map[string]any, 0, len(cmds))
	for _, raw := range cmds {
		var c map[string]any
		if err := json.Unmarshal(raw, &c); err != nil {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return
		}
		c["id"] = "cmd-" + fmt.Sprint(c["name"])
		c["application_id"] = s.AppID
		c["version"] = "1"
		out = append(out, c)
	}
	s.mu.Lock()
	s.commands = cmds
	s.changedLocked()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// messageBody is what the bot sends to create or edit a message.
type messageBody struct {
	Content         string           `json:"content"`
	Flags           int              `json:"flags"`
	AllowedMentions *AllowedMentions `json:"allowed_mentions"`
	Reference       *struct {
		MessageID       string `json:"message_id"`
		ChannelID       string `json:"channel_id"`
		FailIfNotExists *bool  `json:"fail_if_not_exists"`
	} `json:"message_reference"`
}

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	var b messageBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.Content == "" {
		writeError(w, http.StatusBadRequest, 50006, "Cannot send an empty message")
		return
	}
	if n := len([]rune(b.Content)); n > 2000 {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body: content must be 2000 or fewer in length")
		return
	}
	channel := r.PathValue("channel")
	s.mu.Lock()
	m := &Message{ChannelID: channel, GuildID: s.GuildID, AuthorID: s.BotID, Bot: true, Content: b.Content, AllowedMentions: b.AllowedMentions}
	if ref := b.Reference; ref != nil {
		target, ok := s.messages[ref.MessageID]
		exists := ok && !target.Deleted && target.ChannelID == channel && (ref.ChannelID == "" || ref.ChannelID == channel)
		switch {
		case exists:
			m.Reference = ref.MessageID
		case ref.FailIfNotExists == nil || *ref.FailIfNotExists:
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body: message_reference: Unknown message")
			return
		}
	}
	m.ID = s.newID()
	s.messages[m.ID] = m
	s.changedLocked()
	out := *m
	s.mu.Unlock()
	bot := User{ID: s.BotID, Username: "govlive", Bot: true}
	writeJSON(w, http.StatusOK, messageJSON(out, bot, out.Content, s.GuildID))
	// Discord sends the bot its own messages too.
	s.gw.dispatch("MESSAGE_CREATE", func(int) any { return messageJSON(out, bot, out.Content, s.GuildID) })
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m, ok := s.messages[r.PathValue("message")]
	if !ok || m.Deleted || m.ChannelID != r.PathValue("channel") {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	m.Deleted = true
	s.changedLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// interaction finds a live interaction by id or by application and token;
// s.mu is held.
func (s *Server) interaction(id, app, token string) *Interaction {
	for _, i := range s.interactions {
		if (id != "" && i.ID == id || app == s.AppID) && i.Token == token {
			return i
		}
	}
	return nil
}

func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Type int          `json:"type"`
		Data *messageBody `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.Type == 0 {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.interaction(r.PathValue("id"), "", r.PathValue("token"))
	if i == nil {
		writeError(w, http.StatusNotFound, 10062, "Unknown interaction")
		return
	}
	i.Callbacks++
	s.changedLocked()
	if i.Callback != 0 {
		writeError(w, http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
		return
	}
	i.Callback = b.Type
	if b.Data != nil {
		i.Original = b.Data.Content
		i.Ephemeral = b.Data.Flags&(1<<6) != 0
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) editOriginal(w http.ResponseWriter, r *http.Request) {
	var b messageBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	i := s.interaction("", r.PathValue("app"), r.PathValue("token"))
	if i == nil || r.PathValue("message") != "@original" || i.Callback == 0 || i.Deleted {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	i.Original = b.Content
	s.changedLocked()
	id, channel := "orig-"+i.ID, i.ChannelID
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, messageJSON(Message{ID: id, ChannelID: channel, Content: b.Content}, User{ID: s.BotID, Username: "govlive", Bot: true}, b.Content, s.GuildID))
}

func (s *Server) deleteOriginal(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.interaction("", r.PathValue("app"), r.PathValue("token"))
	if i == nil || r.PathValue("message") != "@original" || i.Callback == 0 || i.Deleted {
		writeError(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	i.Deleted = true
	s.changedLocked()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) followup(w http.ResponseWriter, r *http.Request) {
	var b messageBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.Content == "" {
		writeError(w, http.StatusBadRequest, 50006, "Cannot send an empty message")
		return
	}
	s.mu.Lock()
	i := s.interaction("", r.PathValue("app"), r.PathValue("token"))
	if i == nil || i.Callback == 0 {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return
	}
	i.Followups = append(i.Followups, b.Content)
	s.changedLocked()
	id, channel := s.newID(), i.ChannelID
	s.mu.Unlock()
	if r.URL.Query().Get("wait") != "true" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, messageJSON(Message{ID: id, ChannelID: channel, Content: b.Content}, User{ID: s.BotID, Username: "govlive", Bot: true}, b.Content, s.GuildID))
}

// messageJSON is a message as Discord sends it.
func messageJSON(m Message, u User, content, guild string) map[string]any {
	out := map[string]any{
		"id":               m.ID,
		"channel_id":       m.ChannelID,
		"guild_id":         guild,
		"author":           userJSON(u),
		"content":          content,
		"timestamp":        time.Now().UTC().Format(time.RFC3339Nano),
		"edited_timestamp": nil,
		"tts":              false,
		"mention_everyone": false,
		"mentions":         []any{},
		"mention_roles":    []any{},
		"attachments":      []any{},
		"embeds":           []any{},
		"pinned":           false,
		"type":             0,
	}
	if !u.Bot {
		out["member"] = memberJSON(u, false)
	}
	if m.Reference != "" {
		out["type"] = 19
		out["message_reference"] = map[string]any{"message_id": m.Reference, "channel_id": m.ChannelID, "guild_id": guild}
	}
	return out
}

func userJSON(u User) map[string]any {
	out := map[string]any{"id": u.ID, "username": u.Username, "discriminator": "0", "bot": u.Bot}
	if u.GlobalName != "" {
		out["global_name"] = u.GlobalName
	} else {
		out["global_name"] = nil
	}
	return out
}

// memberJSON is a guild member; in a MESSAGE_CREATE it has no user, in an
// interaction it has the user and the permissions.
func memberJSON(u User, interaction bool) map[string]any {
	out := map[string]any{"roles": []any{}, "joined_at": "2024-01-01T00:00:00+00:00", "deaf": false, "mute": false}
	if u.Nick != "" {
		out["nick"] = u.Nick
	} else {
		out["nick"] = nil
	}
	if interaction {
		out["user"] = userJSON(u)
		out["permissions"] = strconv.FormatInt(u.Permissions, 10)
	}
	return out
}

// --- gateway ---

// gateway is the one gateway session (one shard) and its connection.
type gateway struct {
	s *Server

	mu        sync.Mutex // held while sending, so frames keep their order
	conn      *websocket.Conn
	live      bool // READY or RESUMED sent on conn
	compress  bool
	intents   int
	heartbeat int
	session   string
	seq       int64
	sent      []sent // every dispatch of the session, for Resume
}

type sent struct {
	seq  int64
	kind string
	d    func(intents int) any
}

// frame is a gateway payload.
type frame struct {
	Op   int             `json:"op"`
	D    json.RawMessage `json:"d,omitempty"`
	S    *int64          `json:"s,omitempty"`
	Type *string         `json:"t,omitempty"`
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	c, err := g.s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	defer c.Close()
	g.mu.Lock()
	if g.conn != nil {
		_ = g.conn.Close()
	}
	g.conn, g.live = c, false
	err = c.WriteJSON(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": g.heartbeat}})
	g.mu.Unlock()
	if err != nil {
		return
	}
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			g.mu.Lock()
			if g.conn == c {
				g.conn, g.live = nil, false
			}
			g.mu.Unlock()
			return
		}
		g.s.mu.Lock()
		g.s.frames = append(g.s.frames, data)
		g.s.changedLocked()
		g.s.mu.Unlock()
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			g.closeWith(c, 4002, "Decode error")
			return
		}
		switch f.Op {
		case 1: // heartbeat
			g.mu.Lock()
			err = c.WriteJSON(map[string]any{"op": 11})
			g.mu.Unlock()
		case 2:
			err = g.identify(c, f.D)
		case 6:
			err = g.resume(c, f.D)
		case 3, 4, 8: // presence, voice state, request members: accepted, unused
		default:
			g.closeWith(c, 4001, "Unknown opcode")
			return
		}
		if err != nil {
			return
		}
	}
}

func (g *gateway) closeWith(c *websocket.Conn, code int, text string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	_ = c.Close()
}

// tokenOK accepts the bot token with or without discordgo's "Bot " prefix.
func (g *gateway) tokenOK(token string) bool {
	return strings.TrimPrefix(token, "Bot ") == g.s.Token
}

func (g *gateway) identify(c *websocket.Conn, d json.RawMessage) error {
	var id Identify
	if err := json.Unmarshal(d, &id); err != nil {
		g.closeWith(c, 4002, "Decode error")
		return err
	}
	g.s.mu.Lock()
	g.s.identifies = append(g.s.identifies, id)
	g.s.changedLocked()
	g.s.mu.Unlock()
	if !g.tokenOK(id.Token) {
		g.closeWith(c, 4004, "Authentication failed.")
		return fmt.Errorf("authentication failed")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.session = "standin-session-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	g.seq, g.sent = 0, nil
	g.compress, g.intents = id.Compress, id.Intents
	ready := map[string]any{
		"v":                  9,
		"session_id":         g.session,
		"resume_gateway_url": "ws" + strings.TrimPrefix(g.s.URL, "http") + "/gateway",
		"user":               userJSON(User{ID: g.s.BotID, Username: "govlive", Bot: true}),
		"application":        map[string]any{"id": g.s.AppID, "flags": 0},
		"guilds":             []any{map[string]any{"id": g.s.GuildID, "unavailable": true}},
		"private_channels":   []any{},
		"shard":              []int{0, 1},
	}
	// Counted before it is sent: what the client does next cannot come
	// before the count.
	g.live = true
	g.s.started()
	return g.sendLocked(c, g.appendLocked("READY", func(int) any { return ready }))
}

func (g *gateway) resume(c *websocket.Conn, d json.RawMessage) error {
	var r struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(d, &r); err != nil {
		g.closeWith(c, 4002, "Decode error")
		return err
	}
	if !g.tokenOK(r.Token) {
		g.closeWith(c, 4004, "Authentication failed.")
		return fmt.Errorf("authentication failed")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.SessionID != g.session || g.session == "" {
		// Invalid session, not resumable: the client identifies anew.
		return c.WriteJSON(map[string]any{"op": 9, "d": false})
	}
	g.live = true
	g.s.mu.Lock()
	g.s.resumes++
	g.s.mu.Unlock()
	g.s.started()
	for _, m := range g.sent {
		if m.seq > r.Seq {
			if err := g.sendLocked(c, m); err != nil {
				return err
			}
		}
	}
	return g.sendLocked(c, g.appendLocked("RESUMED", func(int) any { return map[string]any{} }))
}

// started counts a session started.
func (s *Server) started() {
	s.mu.Lock()
	s.sessions++
	s.changedLocked()
	s.mu.Unlock()
}

// appendLocked numbers a dispatch and keeps it for Resume; g.mu is held.
func (g *gateway) appendLocked(kind string, d func(int) any) sent {
	g.seq++
	m := sent{seq: g.seq, kind: kind, d: d}
	g.sent = append(g.sent, m)
	return m
}

// sendLocked writes a dispatch, zlib-compressed when the client asked;
// g.mu is held.
func (g *gateway) sendLocked(c *websocket.Conn, m sent) error {
	seq, kind := m.seq, m.kind
	d, err := json.Marshal(m.d(g.intents))
	if err != nil {
		return err
	}
	data, err := json.Marshal(frame{Op: 0, D: d, S: &seq, Type: &kind})
	if err != nil {
		return err
	}
	if !g.compress {
		return c.WriteMessage(websocket.TextMessage, data)
	}
	var buf bytes.Buffer
	z := zlib.NewWriter(&buf)
	if _, err := z.Write(data); err != nil {
		return err
	}
	if err := z.Close(); err != nil {
		return err
	}
	return c.WriteMessage(websocket.BinaryMessage, buf.Bytes())
}

// dispatch sends an event to the live connection, or keeps it for the
// client's Resume when there is none.
func (g *gateway) dispatch(kind string, d func(intents int) any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := g.appendLocked(kind, d)
	if g.conn != nil && g.live {
		if err := g.sendLocked(g.conn, m); err != nil {
			// The client will resume and get it again.
			_ = g.conn.Close()
			g.conn, g.live = nil, false
		}
	}
}

// closeConn drops the connection without a close frame.
func (g *gateway) closeConn() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn != nil {
		_ = g.conn.Close()
		g.conn, g.live = nil, false
	}
}
