package bot

import (
	"time"

	"govlive/content"
)

// The types of the live chat: what the pipeline stores and publishes.
// The adapters (the web chat hub, Discord) translate between these and
// their own wire formats; the SQLite adapter (bot/chatdb) stores them.

// MessageID numbers the posts of all sessions (assigned when stored,
// increasing): clients resume from the last id they saw.
type MessageID int64

// Channel is where a post came from or goes to.
type Channel string

// The channels.
const (
	ChannelWeb     Channel = "web"     // the watch page's chat
	ChannelDiscord Channel = "discord" // a Discord channel bound to the session
	ChannelBot     Channel = "bot"     // the bot's own replies
)

// Sender is who wrote a message: a viewer has no account, only a nickname
// and a stable anonymous id that the adapter derives (a web viewer's
// browser key, a Discord user id), never a real identity.
type Sender struct {
	Channel Channel `json:"channel"`
	ID      string  `json:"id"`
	Nick    string  `json:"nick"`
}

// BotSender is the author of the bot's replies.
var BotSender = Sender{Channel: ChannelBot, ID: "bot", Nick: "政务小助手"}

// HitRef is one search hit behind a decision, as stored: the FAQ entry or
// passage and its confidence.
type HitRef struct {
	Kind  string  `json:"kind"` // "faq" or "doc"
	ID    string  `json:"id"`   // FAQ id, or document id
	Chunk int     `json:"chunk,omitempty"`
	Score float64 `json:"score"`
}

// SourceRef points a reply at what it quotes, for the watch page's link.
type SourceRef struct {
	Kind  string `json:"kind"` // "faq" or "doc"
	ID    string `json:"id"`
	Chunk int    `json:"chunk,omitempty"`
	Label string `json:"label"` // 《title》 or 《title》第三条
}

// ClusterID numbers same-question clusters.
type ClusterID int64

// Post is one message of a session's chat, as stored and shown: a
// viewer's question (its text masked) or a bot reply (ReplyTo set).
type Post struct {
	ID         MessageID         `json:"id"`
	Session    content.SessionID `json:"session"`
	Author     Sender            `json:"author"`
	Time       time.Time         `json:"time"`
	Text       string            `json:"text"` // as shown: personal data masked
	ExternalID string            `json:"external_id,omitempty"`

	// For a viewer's message: what the bot decided.
	Action     Action    `json:"action,omitempty"`
	Reason     Reason    `json:"reason,omitempty"`
	Confidence float64   `json:"confidence,omitempty"`
	Hits       []HitRef  `json:"hits,omitempty"`
	Latency    float64   `json:"latency_ms,omitempty"`
	Cluster    ClusterID `json:"cluster,omitempty"`
	Case       int64     `json:"case,omitempty"`

	// For a bot reply: the question it answers, its source, and whether it
	// points to an earlier reply of the same cluster instead of repeating.
	ReplyTo   MessageID  `json:"reply_to,omitempty"`
	Source    *SourceRef `json:"source,omitempty"`
	Quotes    MessageID  `json:"quotes,omitempty"`
	Generated bool       `json:"generated,omitempty"` // written by the language model
	Up        int        `json:"up,omitempty"`
	Down      int        `json:"down,omitempty"`

	// Hidden posts are kept for the anchors but not shown to viewers.
	Hidden   bool   `json:"hidden,omitempty"`
	HiddenBy string `json:"hidden_by,omitempty"`
}

// Record is what one message adds to the chat log: the viewer's post, the
// bot's reply (nil for none) and the cluster the post joined (nil for
// none; NewCluster when the post opened it). Ids are set before it is
// stored.
type Record struct {
	Post, Reply *Post
	Cluster     *Cluster
	NewCluster  bool
}

// Number gives the records without an id one (post, cluster: the chat
// log's NewMessageID and NewClusterID) and links them: the post to its
// cluster, the reply to the post, and the cluster to the reply when it is
// the cluster's own answer (not a pointer to an earlier one, nor a
// clarifying question), which later askers are pointed to.
func (r *Record) Number(post func() MessageID, cluster func() ClusterID) {
	if c := r.Cluster; c != nil && c.ID == 0 {
		c.ID, r.NewCluster = cluster(), true
	}
	if p := r.Post; p != nil {
		if p.ID == 0 {
			p.ID = post()
		}
		if r.Cluster != nil {
			p.Cluster = r.Cluster.ID
		}
	}
	rp := r.Reply
	if rp == nil {
		return
	}
	if rp.ID == 0 {
		rp.ID = post()
	}
	if r.Post != nil {
		rp.ReplyTo = r.Post.ID
	}
	c := r.Cluster
	if c != nil && c.Reply == 0 && rp.Quotes == 0 && rp.ReplyTo != 0 && c.Action == ActionAnswer &&
		(r.Post == nil || r.Post.Reason != ReasonClarify) {
		c.Reply = rp.ID
	}
}

// Cluster is a group of messages that ask the same thing within a window.
type Cluster struct {
	ID      ClusterID         `json:"id"`
	Session content.SessionID `json:"session"`
	// Text is the first asker's masked question; Key the normalised form
	// that near-identical messages share.
	Text  string    `json:"text"`
	Key   string    `json:"-"`
	Count int       `json:"count"` // messages, plus the viewers' +1s
	Plus  int       `json:"plus"`  // +1s
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Askers are the anonymous ids and nicknames of those who asked or
	// +1'd (in a live event, only the latest few).
	Askers []Sender `json:"askers"`
	// Joined is the asker this change added, for the log to store.
	Joined *Sender `json:"-"`
	// Top is the FAQ entry or passage the cluster's questions found.
	Top    *HitRef   `json:"top,omitempty"`
	Action Action    `json:"action,omitempty"`
	Reason Reason    `json:"reason,omitempty"`
	Reply  MessageID `json:"reply,omitempty"` // the bot's reply, once answered
	// Answered is when the reply was sent: within the window later askers
	// are pointed to it.
	Answered time.Time `json:"answered,omitzero"`
}

// EventKind says what changed in a session's chat.
type EventKind string

// The events. Viewers see the ones marked public; the console sees all.
const (
	EventMessage    EventKind = "message"     // a post (question or reply); public unless hidden
	EventReplyDelta EventKind = "reply_delta" // part of a streamed model reply (public)
	EventHidden     EventKind = "hidden"      // a post was hidden (public: clients remove it)
	EventCluster    EventKind = "cluster"     // a cluster changed (public: the +1 count)
	EventRating     EventKind = "rating"      // a reply's 👍/👎 counts (public)
	EventPinned     EventKind = "pinned"      // the announcement changed (public)
	EventSegment    EventKind = "segment"     // the current segment changed (public)
	EventCase       EventKind = "case"        // a case opened or changed (console)
	EventMuted      EventKind = "muted"       // a viewer was muted or unmuted (console; the viewer is told)
	EventNotice     EventKind = "notice"      // a message to one sender only (refused, muted, rate limited)
)

// Event is one change of a session's chat, published to the adapters and
// the console. Seq orders the events of one session.
type Event struct {
	Kind    EventKind         `json:"kind"`
	Session content.SessionID `json:"session"`
	Time    time.Time         `json:"time"`
	Post    *Post             `json:"post,omitempty"`
	Cluster *Cluster          `json:"cluster,omitempty"`
	Case    any               `json:"case,omitempty"` // a cases.Case
	ID      MessageID         `json:"id,omitempty"`   // hidden, rating, reply_delta: the post
	Delta   string            `json:"delta,omitempty"`
	Up      int               `json:"up,omitempty"`
	Down    int               `json:"down,omitempty"`
	Pinned  string            `json:"pinned,omitempty"`
	Segment int               `json:"segment,omitempty"`
	Muted   *Mute             `json:"muted,omitempty"`
	// To addresses a notice to one sender (its anonymous id) only.
	To     string `json:"-"`
	Notice string `json:"notice,omitempty"`
}

// Public reports whether viewers may see the event.
func (e Event) Public() bool {
	switch e.Kind {
	case EventMessage:
		return e.Post != nil && !e.Post.Hidden
	case EventReplyDelta, EventHidden, EventCluster, EventRating, EventPinned, EventSegment:
		return true
	}
	return false
}

// Mute is a viewer's mute: until Until (the zero time: the whole session).
type Mute struct {
	Viewer string    `json:"viewer"`
	Nick   string    `json:"nick,omitempty"`
	Until  time.Time `json:"until,omitzero"`
	By     string    `json:"by"` // "bot" for an automatic mute, else the anchor
	Level  int       `json:"level"`
	Active bool      `json:"active"`
}

// Publisher receives a session's events. Publish must not block: an
// adapter queues what it cannot deliver at once, or drops its own slow
// clients.
type Publisher interface {
	Publish(Event)
}

// Publishers publishes to each in turn.
type Publishers []Publisher

// Publish implements Publisher.
func (ps Publishers) Publish(e Event) {
	for _, p := range ps {
		p.Publish(e)
	}
}

// Inbound is one message arriving from an adapter.
type Inbound struct {
	Session content.SessionID
	Sender  Sender
	Text    string
	// ExternalID is the channel's own id of the message (a Discord message
	// id), kept so that replies can reference it.
	ExternalID string
}

// Submitted is what the pipeline did with an inbound message.
type Submitted struct {
	// Refused, when not empty, says in Chinese why the message was not
	// accepted (too long, muted, sending too fast); nothing was stored.
	Refused string `json:"refused,omitempty"`
	// Post is the message as stored and shown (its text masked).
	Post Post `json:"post"`
	// Reply is the bot's reply when it was decided at once (nil when
	// none, or when a model is still writing it: it follows as an event).
	Reply *Post `json:"reply,omitempty"`
	// PII says personal data was found and masked: an adapter that cannot
	// edit the viewer's message (Discord) deletes it and reposts Post.Text.
	PII bool `json:"pii,omitempty"`
}

// SessionState is a session's chat state that a joining client needs.
type SessionState struct {
	Pinned  string `json:"pinned,omitempty"`
	Segment int    `json:"segment,omitempty"`
}

// PostFilter selects posts for the anchors.
type PostFilter struct {
	After  MessageID // only posts with a larger id
	Before MessageID // only posts with a smaller id (0: no bound)
	Limit  int       // at most this many (default 100, at most 1000)
	// Public leaves out hidden posts; Questions leaves out the bot's
	// replies; Action and Reason keep only posts decided so.
	Public    bool
	Questions bool
	Action    Action
	Reason    Reason
	Viewer    string
	Cluster   ClusterID
}
