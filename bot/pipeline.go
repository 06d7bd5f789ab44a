package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"govlive/content"
	"govlive/retrieval"
)

// Decider decides what to do with one message (*Bot).
type Decider interface {
	Decide(ctx context.Context, m Message) (Decision, error)
}

var _ Decider = (*Bot)(nil)

// ChatLog is where the pipeline keeps the chat (bot/chatdb). Every text
// it receives is already masked.
type ChatLog interface {
	// NewMessageID and NewClusterID reserve ids for records not yet
	// stored; SaveBatch stores several messages' records in one commit.
	NewMessageID() MessageID
	NewClusterID() ClusterID
	SaveBatch(ctx context.Context, rs []Record) error
	Save(ctx context.Context, p *Post, reply *Post, c *Cluster) error
	SaveCluster(ctx context.Context, c *Cluster) error
	SetCase(ctx context.Context, id MessageID, caseID int64) error
	Hide(ctx context.Context, session content.SessionID, id MessageID, by string) (Post, error)
	Post(ctx context.Context, session content.SessionID, id MessageID) (Post, error)
	Posts(ctx context.Context, session content.SessionID, f PostFilter) ([]Post, error)
	Cluster(ctx context.Context, session content.SessionID, id ClusterID) (Cluster, error)
	Clusters(ctx context.Context, session content.SessionID, since time.Time, limit int) ([]Cluster, error)
	Rate(ctx context.Context, session content.SessionID, reply MessageID, viewer string, up bool, level int, at time.Time) (ups, downs int, err error)
	ViewerLevels(ctx context.Context, session content.SessionID, viewer string) (map[MessageID]int, error)
	SaveMute(ctx context.Context, session content.SessionID, m Mute, at time.Time) error
	Mutes(ctx context.Context, session content.SessionID) ([]Mute, error)
	SaveState(ctx context.Context, session content.SessionID, st SessionState, by string, at time.Time) error
	State(ctx context.Context, session content.SessionID) (SessionState, error)
	Purge(ctx context.Context, before time.Time) (int64, error)
}

// CaseOpening is what an escalation hands to the case queue: the masked
// question, never the raw text.
type CaseOpening struct {
	Session  content.SessionID
	Reason   Reason
	Question string
	Cluster  ClusterID
	Message  MessageID
	Viewer   Sender
}

// CaseOpener opens a case of live assisted handling for an escalation (or
// adds the message to the viewer's open case on the same matter) and
// returns its id.
type CaseOpener interface {
	OpenCase(ctx context.Context, o CaseOpening) (int64, error)
}

// Passage is a retrieved passage handed to a Composer.
type Passage struct {
	Label string // 《title》第三条
	Text  string
}

// Composer writes a short answer grounded only in the passages, streaming
// its text to delta as it goes, and returns the whole reply (with its
// sources line). An error — also for an answer citing none of the
// passages — makes the pipeline send the extractive reply instead. The
// question is masked: a Composer never sees personal data.
type Composer interface {
	Compose(ctx context.Context, question string, passages []Passage, delta func(string)) (string, error)
}

// PipelineConfig is what a Pipeline needs.
type PipelineConfig struct {
	Decider   Decider
	Normalize func(string) string // the retrieval normaliser's Normalize
	Store     ChatLog
	Publish   Publisher
	Log       *slog.Logger
	// Cases, if set, receives every escalation.
	Cases CaseOpener
	// Replies returns the current reply texts (nil: content.DefaultReplies).
	Replies func() content.Replies
	// Composer, if set, writes document answers (ModelDeadline bounds it,
	// default 3 s).
	Composer      Composer
	ModelDeadline time.Duration
	// Window is how long a cluster stays open and its reply is quoted
	// instead of repeated (default 2 minutes).
	Window time.Duration
	// MaxLen is the longest message accepted, in characters (default 500).
	MaxLen int
	// RateBurst messages may be sent at once, then one every RateEvery
	// (defaults 5 and 3 s); a viewer past it is muted for 1 minute, then
	// 10 minutes, then the whole session.
	RateBurst int
	RateEvery time.Duration
	// Strikes is how many hidden messages (abuse, spam) mute a viewer at
	// the next level (default 3).
	Strikes int
	// Retention is how long messages are kept (default 180 days; negative:
	// forever).
	Retention time.Duration
	// IdleAfter stops a session's goroutine after this long without a
	// message (default 10 minutes); its state is reloaded when needed.
	IdleAfter time.Duration
	Now       func() time.Time
}

// ErrStopped is returned once the pipeline's Run has ended (or before it
// started).
var ErrStopped = errors.New("bot: the chat pipeline is not running")

// ErrNotReady is what a Decider returns while the knowledge index is still
// loading; the pipeline refuses the message with the replies' Loading text.
var ErrNotReady = errors.New("bot: the knowledge index is loading")

// ErrNoMessage is returned for a message (or cluster) the session does
// not have.
var ErrNoMessage = errors.New("bot: no such message in this session")

// ErrBadLevel is returned for a 好差评 level outside 1–5.
var ErrBadLevel = errors.New("bot: rating level must be 1-5")

// ErrInvalid marks a request the pipeline refuses; its text is Chinese.
var ErrInvalid = errors.New("invalid")

// InvalidError is a refusal; Msg is in Chinese, for the user.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }

// Unwrap makes it ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func invalid(format string, args ...any) error {
	return &InvalidError{Msg: fmt.Sprintf(format, args...)}
}

// muteSteps are the escalating mutes; the last, 0, is the whole session.
var muteSteps = []time.Duration{time.Minute, 10 * time.Minute, 0}

// Pipeline is the live chat: every message of every channel goes through
// it. Each live session's state (rate limits, mutes, open clusters, the
// current segment) is owned by one goroutine, started on the session's
// first message and stopped when it has been idle; Run owns them all.
type Pipeline struct {
	cfg PipelineConfig

	mu      sync.Mutex
	runCtx  context.Context // nil until Run, and after it ends
	actors  map[content.SessionID]*actor
	workers sync.WaitGroup // actors and model replies
}

// NewPipeline returns a Pipeline; it runs once Run is called.
func NewPipeline(cfg PipelineConfig) (*Pipeline, error) {
	if cfg.Decider == nil || cfg.Normalize == nil || cfg.Store == nil || cfg.Publish == nil || cfg.Log == nil {
		return nil, errors.New("bot: PipelineConfig needs Decider, Normalize, Store, Publish and Log")
	}
	if cfg.Replies == nil {
		cfg.Replies = func() content.Replies { return content.DefaultReplies }
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.ModelDeadline, 3*time.Second)
	def(&cfg.Window, 2*time.Minute)
	def(&cfg.RateEvery, 3*time.Second)
	def(&cfg.Retention, 180*24*time.Hour)
	def(&cfg.IdleAfter, 10*time.Minute)
	if cfg.MaxLen <= 0 {
		cfg.MaxLen = 500
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = 5
	}
	if cfg.Strikes <= 0 {
		cfg.Strikes = 3
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Pipeline{cfg: cfg, actors: map[content.SessionID]*actor{}}, nil
}

// Run runs the pipeline until ctx ends, purging messages past the
// retention period every hour; it returns once every session goroutine
// and model reply has ended.
func (p *Pipeline) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.runCtx != nil {
		p.mu.Unlock()
		return errors.New("bot: pipeline already running")
	}
	p.runCtx = ctx
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.runCtx = nil
		p.mu.Unlock()
		p.workers.Wait()
	}()
	purge := time.NewTicker(time.Hour)
	defer purge.Stop()
	for {
		p.purge(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-purge.C:
		}
	}
}

func (p *Pipeline) purge(ctx context.Context) {
	if p.cfg.Retention < 0 {
		return
	}
	n, err := p.cfg.Store.Purge(ctx, p.cfg.Now().Add(-p.cfg.Retention))
	switch {
	case err != nil && ctx.Err() == nil:
		p.cfg.Log.Error("purge old chat messages", "err", err)
	case n > 0:
		p.cfg.Log.Info("purged old chat messages", "messages", n, "retention_days", int(p.cfg.Retention.Hours()/24))
	}
}

// Purge deletes the messages past the retention period now.
func (p *Pipeline) Purge(ctx context.Context) { p.purge(ctx) }

// actor is the goroutine that owns one session's chat state.
type actor struct {
	ops    chan op
	exited chan struct{}
}

// op is an operation on a session's state: a message (sub), or anything
// else (fn).
type op struct {
	fn  func(*sessionState)
	sub *submission
}

// submission is a message waiting for the session's goroutine.
type submission struct {
	ctx  context.Context
	in   Inbound
	out  Submitted
	err  error
	done chan struct{}
}

// maxBatch bounds how many messages share one commit.
const maxBatch = 64

// do runs fn in the goroutine of session's state and waits for it.
func (p *Pipeline) do(ctx context.Context, id content.SessionID, fn func(*sessionState)) error {
	done := make(chan struct{})
	return p.send(ctx, id, op{fn: func(s *sessionState) { defer close(done); fn(s) }}, done)
}

// send hands o to session id's goroutine (starting it if need be) and
// waits until done is closed.
func (p *Pipeline) send(ctx context.Context, id content.SessionID, o op, done <-chan struct{}) error {
	for {
		a, err := p.actor(id)
		if err != nil {
			return err
		}
		select {
		case a.ops <- o:
			select {
			case <-done:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		case <-a.exited: // stopped idle just now: start another
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *Pipeline) actor(id content.SessionID) (*actor, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runCtx == nil || p.runCtx.Err() != nil {
		return nil, ErrStopped
	}
	if a, ok := p.actors[id]; ok {
		return a, nil
	}
	a := &actor{ops: make(chan op), exited: make(chan struct{})}
	p.actors[id] = a
	ctx := p.runCtx
	p.workers.Add(1)
	go func() {
		defer p.workers.Done()
		p.runActor(ctx, id, a)
	}()
	return a, nil
}

func (p *Pipeline) runActor(ctx context.Context, id content.SessionID, a *actor) {
	s := p.loadSession(ctx, id)
	idle := time.NewTimer(p.cfg.IdleAfter)
	defer idle.Stop()
	stop := func() {
		p.mu.Lock()
		delete(p.actors, id)
		close(a.exited)
		p.mu.Unlock()
	}
	for {
		select {
		case o := <-a.ops:
			for next := &o; next != nil; {
				next = p.run(ctx, s, a, *next)
			}
			idle.Reset(p.cfg.IdleAfter)
		case <-idle.C:
			stop()
			return
		case <-ctx.Done():
			stop()
			return
		}
	}
}

// run runs o. A message takes the messages queued behind it along: they
// are decided one after the other and their records stored in one
// commit (a group commit), so that a busy session does not wait for the
// disk once per message. run returns the first other operation it took
// off the queue, to be run next.
func (p *Pipeline) run(ctx context.Context, s *sessionState, a *actor, o op) *op {
	if o.sub == nil {
		o.fn(s)
		return nil
	}
	batch := []*submission{o.sub}
	var next *op
	// Let senders that are ready to run queue their messages first: the
	// goroutine woken by a send runs next, so without this a busy session
	// on one core would still commit one message at a time.
	runtime.Gosched()
take:
	for len(batch) < maxBatch {
		select {
		case o := <-a.ops:
			if o.sub == nil {
				next = &o
				break take
			}
			batch = append(batch, o.sub)
		default:
			break take
		}
	}
	p.submitBatch(ctx, s, batch)
	return next
}

// submitBatch decides each message, stores their records in one commit,
// then opens cases and publishes, in order.
func (p *Pipeline) submitBatch(ctx context.Context, s *sessionState, batch []*submission) {
	stages := make([]staged, len(batch))
	var recs []Record
	for i, sub := range batch {
		stages[i], sub.err = p.stage(sub.ctx, s, sub.in)
		if sub.err == nil && stages[i].rec != nil {
			recs = append(recs, *stages[i].rec)
		}
	}
	// Store, all or nothing. The messages were decided against the
	// session's state as if the earlier ones were stored (clusters,
	// replies to quote, offers): should the commit fail, every message of
	// the batch is refused and the state is read again from what is
	// stored, so that no later message points at a record that is not.
	var saveErr error
	if len(recs) > 0 {
		if saveErr = p.cfg.Store.SaveBatch(ctx, recs); saveErr != nil {
			p.cfg.Log.Error("store chat messages", "session", s.id, "messages", len(recs), "err", saveErr)
			*s = *p.loadSession(ctx, s.id)
		}
	}
	for i, sub := range batch {
		st := &stages[i]
		switch {
		case sub.err != nil:
		case st.rec == nil:
			sub.out = st.out
		case saveErr != nil:
			sub.err = saveErr
		default:
			sub.out = p.finish(context.WithoutCancel(sub.ctx), s, st) // stored: its case must open even if the sender left
		}
		close(sub.done)
	}
}

// answers says d answers the question (not a clarifying question back).
func answers(d Decision) bool { return d.Action == ActionAnswer && d.Reason != ReasonClarify }

// choice reads a viewer's answer to the bot's clarifying question, sent
// within window of it: "2", "２", "第二个", "2." — the option it names.
func (v *viewerState) choice(text string, now time.Time, window time.Duration) (Option, bool) {
	if len(v.offer) == 0 || now.Sub(v.offerAt) >= window {
		return Option{}, false
	}
	t := strings.TrimSpace(text)
	t = strings.TrimPrefix(t, "第")
	t = strings.TrimRight(t, "个条项。.、！!")
	n := 0
	switch t {
	case "1", "１", "一":
		n = 1
	case "2", "２", "二", "两":
		n = 2
	case "3", "３", "三":
		n = 3
	}
	if n == 0 || n > len(v.offer) {
		return Option{}, false
	}
	return v.offer[n-1], true
}

// viewerState is what the pipeline tracks of one viewer in a session.
type viewerState struct {
	tokens  float64
	filled  time.Time
	mute    Mute
	strikes int
	lastKey string
	repeats int
	// The options of the clarifying question the bot last asked them.
	offer   []Option
	offerAt time.Time
}

// liveCluster is an open cluster with what the pipeline remembers of it:
// the decision its first question got (reused for the same text), and its
// reply, quoted to later askers.
type liveCluster struct {
	Cluster
	keys      map[string]Decision // normalised texts seen → their decision
	asked     map[string]bool     // anonymous ids of the askers
	grams     map[string]bool
	segment   int
	replyText string
}

// sessionState is one session's chat state, owned by its actor.
type sessionState struct {
	id       content.SessionID
	state    SessionState
	viewers  map[string]*viewerState
	clusters []*liveCluster
}

func (p *Pipeline) loadSession(ctx context.Context, id content.SessionID) *sessionState {
	s := &sessionState{id: id, viewers: map[string]*viewerState{}}
	st, err := p.cfg.Store.State(ctx, id)
	if err != nil {
		p.cfg.Log.Error("load chat state", "session", id, "err", err)
	}
	s.state = st
	mutes, err := p.cfg.Store.Mutes(ctx, id)
	if err != nil {
		p.cfg.Log.Error("load mutes", "session", id, "err", err)
	}
	for _, m := range mutes {
		s.viewers[m.Viewer] = &viewerState{tokens: float64(p.cfg.RateBurst), filled: p.cfg.Now(), mute: m}
	}
	now := p.cfg.Now()
	cs, err := p.cfg.Store.Clusters(ctx, id, now.Add(-p.cfg.Window), 200)
	if err != nil {
		p.cfg.Log.Error("load clusters", "session", id, "err", err)
	}
	for _, c := range cs {
		lc := &liveCluster{Cluster: c, keys: map[string]Decision{}, grams: bigrams(c.Key), segment: st.Segment}
		if c.Reply != 0 {
			if r, err := p.cfg.Store.Post(ctx, id, c.Reply); err == nil {
				lc.replyText = r.Text
			}
		}
		s.clusters = append(s.clusters, lc)
	}
	return s
}

func (s *sessionState) viewer(p *Pipeline, id string, now time.Time) *viewerState {
	v, ok := s.viewers[id]
	if !ok {
		v = &viewerState{tokens: float64(p.cfg.RateBurst), filled: now}
		s.viewers[id] = v
	}
	return v
}

// Submit takes one message from an adapter through the pipeline: size
// limit, mutes and rate limit, then the decision (normalise, moderate,
// mask, group with the same question, decide), the reply, storage and
// publication. It returns once the message and the reply decided at once
// are stored: nothing accepted is lost.
func (p *Pipeline) Submit(ctx context.Context, in Inbound) (Submitted, error) {
	if in.Session == "" || in.Sender.ID == "" {
		return Submitted{}, errors.New("bot: submit: session and sender are required")
	}
	sub := &submission{ctx: ctx, in: in, done: make(chan struct{})}
	if err := p.send(ctx, in.Session, op{sub: sub}, sub.done); err != nil {
		return Submitted{}, err
	}
	return sub.out, sub.err
}

// staged is a message decided, with its records numbered but not stored.
type staged struct {
	out   Submitted // a refusal (rec is nil)
	rec   *Record
	d     Decision
	async []Passage // for the model, which writes the reply later
}

func refused(msg string) (staged, error) { return staged{out: Submitted{Refused: msg}}, nil }

// stage takes a message through the limits and the decision to the
// records it adds; finish does the rest once they are stored.
func (p *Pipeline) stage(ctx context.Context, s *sessionState, in Inbound) (staged, error) {
	start := time.Now()
	now := p.cfg.Now()
	rep := p.cfg.Replies()
	text := strings.TrimSpace(strings.ToValidUTF8(in.Text, "\uFFFD"))
	if text == "" {
		return refused("消息不能为空。")
	}
	if utf8.RuneCountInString(text) > p.cfg.MaxLen {
		return refused(content.Fill(rep.TooLong, "max", fmt.Sprint(p.cfg.MaxLen)))
	}
	v := s.viewer(p, in.Sender.ID, now)
	if msg := p.muted(v, now, rep); msg != "" {
		return refused(msg)
	}
	// The token bucket: RateBurst at once, then one every RateEvery.
	v.tokens = min(float64(p.cfg.RateBurst), v.tokens+float64(now.Sub(v.filled))/float64(p.cfg.RateEvery))
	v.filled = now
	if v.tokens < 1 {
		m := p.muteNext(ctx, s, v, in.Sender, now)
		return refused(p.muteText(m, now, rep))
	}
	v.tokens--

	// Normalise, and group with the same text: the same normalised text
	// within the window gets the decision its first asker got.
	key := squash(p.cfg.Normalize(text))
	seg := s.state.Segment
	s.expire(now, p.cfg.Window)
	var d Decision
	var lc *liveCluster
	reused := false
	// A viewer answering the bot's "您想问的是：1… 2…" with a number gets
	// that entry's standard answer (a reply to their own question: not
	// clustered).
	o, chosen := v.choice(text, now, p.cfg.Window)
	v.offer = nil
	if chosen {
		d, reused = Chosen(o, text), true
	} else {
		for _, c := range s.clusters {
			if cd, ok := c.keys[key]; ok && c.segment == seg {
				d, lc, reused = cd, c, true
				break
			}
		}
	}
	if !reused {
		var err error
		d, err = p.cfg.Decider.Decide(ctx, Message{Text: text, Session: in.Session, Segment: seg, Sender: in.Sender, Time: now})
		if errors.Is(err, ErrNotReady) {
			return refused(rep.Loading)
		}
		if err != nil {
			return staged{}, fmt.Errorf("bot: decide: %w", err)
		}
	}
	// The same text sent again and again by one viewer is flooding.
	if key == v.lastKey && key != "" {
		v.repeats++
	} else {
		v.lastKey, v.repeats = key, 0
	}
	if v.repeats >= 2 && d.Action != ActionModerate {
		d.Action, d.Reason, d.Cue, d.Hidden = ActionModerate, ReasonSpam, "重复发送", true
	}
	if d.Reason == ReasonClarify {
		v.offer, v.offerAt = d.Options, now
	}

	post := Post{
		Session: in.Session, Author: in.Sender, Time: now, Text: d.Masked, ExternalID: in.ExternalID,
		Action: d.Action, Reason: d.Reason, Confidence: d.Confidence, Hits: hitRefs(d.Search),
		Hidden: d.Hidden,
	}
	if d.Hidden {
		post.HiddenBy = "bot"
	}
	var cluster *Cluster
	if !chosen && d.Action != ActionModerate && !(d.Action == ActionDecline && d.Reason == ReasonChitchat) {
		if lc == nil {
			lc = s.match(key, d, seg)
		}
		if lc == nil {
			lc = &liveCluster{
				Cluster: Cluster{Session: in.Session, Text: d.Masked, Key: squash(p.cfg.Normalize(d.Masked)), First: now,
					Top: topRef(d), Action: d.Action, Reason: d.Reason},
				keys: map[string]Decision{}, segment: seg,
			}
			lc.grams = bigrams(lc.Key)
			s.clusters = append(s.clusters, lc)
		}
		if _, ok := lc.keys[key]; !ok && len(lc.keys) < 64 {
			lc.keys[key] = d
		}
		lc.Count++
		lc.Last = now
		lc.Joined = nil
		if lc.addAsker(in.Sender) {
			j := in.Sender
			lc.Joined = &j
		}
		cluster = &lc.Cluster
	}
	reply, async := p.reply(lc, &post, d, rep, now)
	if reply != nil && reply.Quotes == 0 && cluster != nil && cluster.Reply == 0 && answers(d) {
		cluster.Answered = now
		lc.replyText = reply.Text
	}
	// Number the records; the cluster is stored as it is now.
	rec := &Record{Post: &post, Reply: reply, Cluster: cluster}
	rec.Number(p.cfg.Store.NewMessageID, p.cfg.Store.NewClusterID)
	if cluster != nil {
		c := *cluster
		rec.Cluster = &c
		lc.Joined = nil
	}
	post.Latency = float64(time.Since(start).Microseconds()) / 1000
	return staged{rec: rec, d: d, async: async}, nil
}

// finish opens the case of a stored escalation, mutes a viewer who keeps
// being hidden, and publishes the message, its cluster and its reply.
func (p *Pipeline) finish(ctx context.Context, s *sessionState, st *staged) Submitted {
	post, reply, cluster, d := *st.rec.Post, st.rec.Reply, st.rec.Cluster, st.d
	session, sender, now, rep := post.Session, post.Author, post.Time, p.cfg.Replies()
	v := s.viewer(p, sender.ID, now)
	if d.Action == ActionEscalate && p.cfg.Cases != nil {
		id, err := p.cfg.Cases.OpenCase(ctx, CaseOpening{Session: session, Reason: d.Reason, Question: d.Masked,
			Cluster: post.Cluster, Message: post.ID, Viewer: sender})
		if err != nil {
			p.cfg.Log.Error("open case", "session", session, "message", post.ID, "err", err)
		} else if err := p.cfg.Store.SetCase(ctx, post.ID, id); err != nil {
			p.cfg.Log.Error("link case", "session", session, "message", post.ID, "err", err)
		} else {
			post.Case = id
		}
	}
	if d.Hidden {
		v.strikes++
		if v.strikes >= p.cfg.Strikes {
			v.strikes = 0
			p.muteNext(ctx, s, v, sender, now)
		}
	}
	p.publish(Event{Kind: EventMessage, Session: session, Time: now, Post: &post})
	if cluster != nil {
		p.publish(Event{Kind: EventCluster, Session: session, Time: now, Cluster: eventCluster(cluster)})
	}
	if reply != nil {
		p.publish(Event{Kind: EventMessage, Session: session, Time: now, Post: reply})
	}
	if d.Hidden && d.Action == ActionModerate {
		p.publish(Event{Kind: EventNotice, Session: session, Time: now, To: sender.ID, Notice: rep.Moderated})
	}
	if st.async != nil {
		p.compose(session, post, d, st.async)
	}
	return Submitted{Post: post, Reply: reply, PII: len(d.PII) > 0}
}

// expire drops the clusters the window has closed.
func (s *sessionState) expire(now time.Time, window time.Duration) {
	keep := s.clusters[:0]
	for _, c := range s.clusters {
		if now.Sub(c.Last) < window {
			keep = append(keep, c)
		}
	}
	clear(s.clusters[len(keep):])
	s.clusters = keep
}

// match finds the open cluster a question joins: the same FAQ entry or
// passage and close wording, or near-identical wording.
func (s *sessionState) match(key string, d Decision, seg int) *liveCluster {
	top := topRef(d)
	grams := bigrams(key)
	var best *liveCluster
	bestSim := 0.0
	for _, c := range s.clusters {
		if c.segment != seg {
			continue
		}
		sim := jaccard(grams, c.grams)
		sameTop := top != nil && c.Top != nil && top.Kind == c.Top.Kind && top.ID == c.Top.ID && top.Chunk == c.Top.Chunk
		if (sameTop && c.Action == d.Action && sim >= 0.35) || sim >= 0.8 {
			if sim > bestSim || best == nil {
				best, bestSim = c, sim
			}
		}
	}
	return best
}

// addAsker adds s to the cluster's askers, reporting whether s is new.
func (c *liveCluster) addAsker(s Sender) bool {
	if c.asked == nil {
		c.asked = make(map[string]bool, len(c.Askers)+1)
		for _, a := range c.Askers {
			c.asked[a.ID] = true
		}
	}
	if c.asked[s.ID] {
		return false
	}
	c.asked[s.ID] = true
	c.Askers = append(c.Askers, s)
	if len(c.Askers) > eventAskers {
		c.Askers = c.Askers[len(c.Askers)-eventAskers:]
	}
	return true
}

// eventAskers is how many of a cluster's latest askers a live event
// carries (the API lists them all).
const eventAskers = 5

// eventCluster is the copy of c that an event carries.
func eventCluster(c *Cluster) *Cluster {
	cc := *c
	cc.Joined = nil
	if n := len(cc.Askers); n > eventAskers {
		cc.Askers = cc.Askers[n-eventAskers:]
	}
	cc.Askers = slices.Clone(cc.Askers)
	return &cc
}

// bigrams are the character pairs of s, the measure of close wording.
func bigrams(s string) map[string]bool {
	rs := []rune(s)
	out := make(map[string]bool, len(rs))
	if len(rs) == 1 {
		out[s] = true
	}
	for i := 0; i+1 < len(rs); i++ {
		out[string(rs[i:i+2])] = true
	}
	return out
}

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n := 0
	for k := range a {
		if b[k] {
			n++
		}
	}
	return float64(n) / float64(len(a)+len(b)-n)
}

func topRef(d Decision) *HitRef {
	switch {
	case d.FAQ != nil:
		return &HitRef{Kind: "faq", ID: string(d.FAQ.ID), Score: d.Confidence}
	case d.Hit != nil && d.Hit.Chunk != nil:
		return &HitRef{Kind: "doc", ID: string(d.Hit.Chunk.DocID), Chunk: d.Hit.Chunk.Seq, Score: d.Confidence}
	case d.Search != nil && len(d.Search.FAQ) > 0 && d.Search.FAQ[0].FAQ != nil:
		h := d.Search.FAQ[0]
		return &HitRef{Kind: "faq", ID: string(h.FAQ.ID), Score: h.Confidence}
	}
	return nil
}

func hitRefs(res *retrieval.Result) []HitRef {
	if res == nil {
		return nil
	}
	var out []HitRef
	for i, h := range res.FAQ {
		if i == 3 {
			break
		}
		if h.FAQ != nil {
			out = append(out, HitRef{Kind: "faq", ID: string(h.FAQ.ID), Score: h.Confidence})
		}
	}
	for i, h := range res.Docs {
		if i == 3 {
			break
		}
		if h.Chunk != nil {
			out = append(out, HitRef{Kind: "doc", ID: string(h.Chunk.DocID), Chunk: h.Chunk.Seq, Score: h.Confidence})
		}
	}
	return out
}

// reply is the bot's reply to a post, with the texts of rep; async is the
// question and passages for the model when it writes the reply later.
func (p *Pipeline) reply(lc *liveCluster, post *Post, d Decision, rep content.Replies, now time.Time) (reply *Post, async []Passage) {
	r := &Post{Session: post.Session, Author: BotSender, Time: now}
	switch d.Action {
	case ActionModerate:
		return nil, nil
	case ActionAnswer:
		// A question answered within the window: point to that reply.
		if answers(d) && lc != nil && lc.Reply != 0 && lc.replyText != "" && now.Sub(lc.Answered) < p.cfg.Window {
			r.Quotes = lc.Reply
			r.Text = content.Fill(rep.Repeat, "nick", post.Author.Nick, "quote", quote(lc.replyText, 40))
			r.Source = sourceRef(d)
			return r, nil
		}
		r.Source = sourceRef(d)
		if d.Reason == ReasonDocument && d.Hit != nil && d.Hit.Chunk != nil && p.cfg.Composer != nil && lc != nil && d.Search != nil {
			return nil, passages(d.Search)
		}
	}
	if r.Text = ReplyText(d, rep); r.Text == "" {
		return nil, nil
	}
	return r, nil
}

func sourceRef(d Decision) *SourceRef {
	switch {
	case d.FAQ != nil:
		return &SourceRef{Kind: "faq", ID: string(d.FAQ.ID), Label: d.Source}
	case d.Hit != nil && d.Hit.Chunk != nil:
		return &SourceRef{Kind: "doc", ID: string(d.Hit.Chunk.DocID), Chunk: d.Hit.Chunk.Seq, Label: d.Hit.Chunk.Citation()}
	}
	return nil
}

func passages(res *retrieval.Result) []Passage {
	var out []Passage
	for i, h := range res.Docs {
		if i == 3 {
			break
		}
		if h.Chunk != nil {
			out = append(out, Passage{Label: h.Chunk.Citation(), Text: plainText(h.Chunk.Text)})
		}
	}
	return out
}

func quote(s string, n int) string {
	s = strings.SplitN(s, "\n", 2)[0]
	if rs := []rune(s); len(rs) > n {
		return string(rs[:n]) + "……"
	}
	return s
}

func (p *Pipeline) publish(e Event) { p.cfg.Publish.Publish(e) }

func (p *Pipeline) muted(v *viewerState, now time.Time, rep content.Replies) string {
	m := v.mute
	if !m.Active {
		return ""
	}
	if !m.Until.IsZero() && !now.Before(m.Until) {
		v.mute.Active = false
		return ""
	}
	return p.muteText(m, now, rep)
}

func (p *Pipeline) muteText(m Mute, now time.Time, rep content.Replies) string {
	if m.Until.IsZero() {
		return rep.MutedAll
	}
	if m.By == "bot" && m.Level > 0 && m.Level <= len(muteSteps) {
		return content.Fill(rep.RateLimited, "minutes", fmt.Sprint(int(muteSteps[m.Level-1].Minutes())))
	}
	return content.Fill(rep.Muted, "until", m.Until.Local().Format("15:04"))
}

// muteNext mutes a viewer at the next level: 1 minute, 10 minutes, the
// session.
func (p *Pipeline) muteNext(ctx context.Context, s *sessionState, v *viewerState, who Sender, now time.Time) Mute {
	level := min(v.mute.Level+1, len(muteSteps))
	m := Mute{Viewer: who.ID, Nick: who.Nick, By: "bot", Level: level, Active: true}
	if d := muteSteps[level-1]; d > 0 {
		m.Until = now.Add(d)
	}
	v.mute = m
	v.tokens = float64(p.cfg.RateBurst)
	if err := p.cfg.Store.SaveMute(ctx, s.id, m, now); err != nil {
		p.cfg.Log.Error("store mute", "session", s.id, "err", err)
	}
	mm := m
	p.publish(Event{Kind: EventMuted, Session: s.id, Time: now, Muted: &mm})
	return m
}

// compose has the model write a document answer in the background: its
// text streams to the chat as reply_delta events; the reply is stored and
// published when done, or the extractive reply instead on an error or
// after the deadline.
func (p *Pipeline) compose(session content.SessionID, q Post, d Decision, ps []Passage) {
	p.mu.Lock()
	ctx := p.runCtx
	p.mu.Unlock()
	if ctx == nil {
		return
	}
	rep := p.cfg.Replies()
	fallback := ""
	if d.Hit != nil && d.Hit.Chunk != nil {
		fallback = extractive(d, rep)
	}
	src := sourceRef(d)
	p.workers.Add(1)
	go func() {
		defer p.workers.Done()
		mctx, cancel := context.WithTimeout(ctx, p.cfg.ModelDeadline)
		text, err := p.cfg.Composer.Compose(mctx, q.Text, ps, func(delta string) {
			p.publish(Event{Kind: EventReplyDelta, Session: session, Time: p.cfg.Now(), ID: q.ID, Delta: delta})
		})
		cancel()
		r := &Post{Session: session, Author: BotSender, Time: p.cfg.Now(), ReplyTo: q.ID, Source: src}
		if err != nil || strings.TrimSpace(text) == "" {
			if err != nil && ctx.Err() == nil {
				p.cfg.Log.Warn("model reply failed; sending the quoted passage", "session", session, "message", q.ID, "err", err)
			}
			r.Text = fallback
		} else {
			r.Text, r.Generated = text+"\n"+rep.Generated, true
		}
		if r.Text == "" {
			return
		}
		save := func(s *sessionState) {
			var c *Cluster
			for _, x := range s.clusters {
				if x.ID == q.Cluster {
					if x.Reply == 0 {
						x.Answered = r.Time
						x.replyText = r.Text
						c = &x.Cluster
					}
					break
				}
			}
			if err := p.cfg.Store.Save(ctx, nil, r, c); err != nil {
				p.cfg.Log.Error("store model reply", "session", session, "err", err)
				return
			}
			p.publish(Event{Kind: EventMessage, Session: session, Time: r.Time, Post: r})
		}
		if err := p.do(ctx, session, save); err != nil {
			// Stopping: keep the reply without the session's goroutine.
			if err := p.cfg.Store.Save(context.WithoutCancel(ctx), nil, r, nil); err != nil {
				p.cfg.Log.Error("store model reply", "session", session, "err", err)
			}
		}
	}()
}

// Hide hides a post from every client at once (by an anchor).
func (p *Pipeline) Hide(ctx context.Context, session content.SessionID, id MessageID, by string) (Post, error) {
	var post Post
	var err error
	if e := p.do(ctx, session, func(s *sessionState) {
		post, err = p.cfg.Store.Hide(ctx, session, id, by)
		if err == nil {
			p.publish(Event{Kind: EventHidden, Session: session, Time: p.cfg.Now(), ID: id})
		}
	}); e != nil {
		return post, e
	}
	return post, err
}

// Mute mutes a viewer of session for d (0: the whole session).
func (p *Pipeline) Mute(ctx context.Context, session content.SessionID, viewer, nick, by string, d time.Duration) (Mute, error) {
	if viewer == "" {
		return Mute{}, invalid("缺少要禁言的观众")
	}
	var m Mute
	err := p.do(ctx, session, func(s *sessionState) {
		now := p.cfg.Now()
		v := s.viewer(p, viewer, now)
		m = Mute{Viewer: viewer, Nick: nick, By: by, Level: max(v.mute.Level, 1), Active: true}
		if m.Nick == "" {
			m.Nick = v.mute.Nick
		}
		if d > 0 {
			m.Until = now.Add(d)
		}
		v.mute = m
		if err := p.cfg.Store.SaveMute(ctx, session, m, now); err != nil {
			p.cfg.Log.Error("store mute", "session", session, "err", err)
		}
		mm := m
		p.publish(Event{Kind: EventMuted, Session: session, Time: now, Muted: &mm})
		p.publish(Event{Kind: EventNotice, Session: session, Time: now, To: viewer, Notice: p.muteText(m, now, p.cfg.Replies())})
	})
	return m, err
}

// Unmute lifts a viewer's mute (the level of the next automatic mute
// stays).
func (p *Pipeline) Unmute(ctx context.Context, session content.SessionID, viewer, by string) (Mute, error) {
	var m Mute
	err := p.do(ctx, session, func(s *sessionState) {
		now := p.cfg.Now()
		v := s.viewer(p, viewer, now)
		v.mute.Active, v.mute.By = false, by
		m = v.mute
		m.Viewer = viewer
		if err := p.cfg.Store.SaveMute(ctx, session, m, now); err != nil {
			p.cfg.Log.Error("store mute", "session", session, "err", err)
		}
		mm := m
		p.publish(Event{Kind: EventMuted, Session: session, Time: now, Muted: &mm})
	})
	return m, err
}

// maxPinned bounds an announcement.
const maxPinned = 200

// Pin sets (or, with "", clears) the session's pinned announcement.
func (p *Pipeline) Pin(ctx context.Context, session content.SessionID, text, by string) error {
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) > maxPinned {
		return invalid("公告不能超过 %d 个字", maxPinned)
	}
	var err error
	if e := p.do(ctx, session, func(s *sessionState) {
		st := s.state
		st.Pinned = text
		if err = p.cfg.Store.SaveState(ctx, session, st, by, p.cfg.Now()); err == nil {
			s.state = st
			p.publish(Event{Kind: EventPinned, Session: session, Time: p.cfg.Now(), Pinned: text})
		}
	}); e != nil {
		return e
	}
	return err
}

// SetSegment makes n (from 1; 0 for none) the session's current segment:
// the bot's search is scoped to it from the next message on.
func (p *Pipeline) SetSegment(ctx context.Context, session content.SessionID, n int, by string) error {
	if n < 0 {
		return invalid("环节序号从 1 开始")
	}
	var err error
	if e := p.do(ctx, session, func(s *sessionState) {
		st := s.state
		st.Segment = n
		if err = p.cfg.Store.SaveState(ctx, session, st, by, p.cfg.Now()); err == nil {
			s.state = st
			p.publish(Event{Kind: EventSegment, Session: session, Time: p.cfg.Now(), Segment: n})
		}
	}); e != nil {
		return e
	}
	return err
}

// Plus adds a viewer's "+1" to the cluster of a question.
func (p *Pipeline) Plus(ctx context.Context, session content.SessionID, id MessageID, by Sender) error {
	var err error
	if e := p.do(ctx, session, func(s *sessionState) {
		var q Post
		if q, err = p.cfg.Store.Post(ctx, session, id); err != nil {
			return
		}
		if q.Cluster == 0 || q.Hidden {
			err = invalid("这条消息不能 +1")
			return
		}
		var lc *liveCluster
		for _, x := range s.clusters {
			if x.ID == q.Cluster {
				lc = x
				break
			}
		}
		if lc == nil { // closed: a +1 still counts
			stored, e := p.cfg.Store.Cluster(ctx, session, q.Cluster)
			if e != nil {
				err = e
				return
			}
			lc = &liveCluster{Cluster: stored}
		}
		if !lc.addAsker(by) {
			return // asked or +1'd already: once is enough
		}
		lc.Plus++
		lc.Count++
		j := by
		lc.Joined = &j
		err = p.cfg.Store.SaveCluster(ctx, &lc.Cluster)
		lc.Joined = nil
		if err == nil {
			p.publish(Event{Kind: EventCluster, Session: session, Time: p.cfg.Now(), Cluster: eventCluster(&lc.Cluster)})
		}
	}); e != nil {
		return e
	}
	return err
}

// Rate records a viewer's 👍 (up) or 👎 of a bot reply, or its 好差评
// level 1–5 (0: none; a level ≥3 counts up, ≤2 down).
func (p *Pipeline) Rate(ctx context.Context, session content.SessionID, reply MessageID, by Sender, up bool, level int) error {
	if level < 0 || level > 5 {
		return fmt.Errorf("rate: level %d: %w", level, ErrBadLevel)
	}
	ups, downs, err := p.cfg.Store.Rate(ctx, session, reply, by.ID, up, level, p.cfg.Now())
	if err != nil {
		return err
	}
	p.publish(Event{Kind: EventRating, Session: session, Time: p.cfg.Now(), ID: reply, Up: ups, Down: downs})
	return nil
}

// State returns a session's pinned announcement and current segment.
func (p *Pipeline) State(ctx context.Context, session content.SessionID) (SessionState, error) {
	return p.cfg.Store.State(ctx, session)
}

// PublishCase tells a session's console that a case changed.
func (p *Pipeline) PublishCase(session content.SessionID, c any) {
	p.publish(Event{Kind: EventCase, Session: session, Time: p.cfg.Now(), Case: c})
}

// Rated returns the 好差评 levels a viewer gave the replies of session,
// by reply: what a rejoining client shows as its choice.
func (p *Pipeline) Rated(ctx context.Context, session content.SessionID, viewer string) (map[MessageID]int, error) {
	return p.cfg.Store.ViewerLevels(ctx, session, viewer)
}

// History returns the public posts of session after id after (0: the
// last limit), oldest first: what a joining or resuming client is sent.
func (p *Pipeline) History(ctx context.Context, session content.SessionID, after MessageID, limit int) ([]Post, error) {
	return p.cfg.Store.Posts(ctx, session, PostFilter{After: after, Limit: limit, Public: true})
}

// Posts returns the posts of session that pass f, for the anchors.
func (p *Pipeline) Posts(ctx context.Context, session content.SessionID, f PostFilter) ([]Post, error) {
	return p.cfg.Store.Posts(ctx, session, f)
}

// Clusters returns the question board of session: the clusters of the
// last since (0: all), by count and recency.
func (p *Pipeline) Clusters(ctx context.Context, session content.SessionID, since time.Duration, limit int) ([]Cluster, error) {
	var from time.Time
	if since > 0 {
		from = p.cfg.Now().Add(-since)
	}
	return p.cfg.Store.Clusters(ctx, session, from, limit)
}
