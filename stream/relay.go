// Package stream is the WebRTC relay: anchors publish over WHIP (RFC 9725),
// viewers play over WHEP, each session carries several anchors mapped onto
// a fixed number of audio/video slots per viewer, and every anchor is
// recorded while live. A relay can be an edge that pulls its sessions from
// an origin relay over WHEP.
//
// Fan-out: each publisher track has one reader goroutine that stores the
// packet in the track's cache and offers it to every subscribed viewer's
// bounded queue without blocking; each viewer has its own writer goroutine
// that rewrites sequence numbers and timestamps per slot and sends. A
// viewer whose queue is full loses whole frames up to the next keyframe; a
// viewer that stays behind is disconnected.
package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// SessionID names a session (content.Session's id).
type SessionID string

// Errors the HTTP edge maps to statuses.
var (
	// ErrUnauthorized: missing, malformed, wrong or revoked token.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: unknown session or resource.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: an offer or request that cannot be used.
	ErrInvalid = errors.New("invalid request")
	// ErrUnsupported: nothing in the offer can be relayed (codecs, directions).
	ErrUnsupported = errors.New("unsupported media")
	// ErrNoVideo: an offer asks for video that the relay cannot use (always
	// wrapped with ErrUnsupported); refused rather than answered with audio
	// only, which a player would show as a black picture without a word.
	ErrNoVideo = errors.New("the offer's video cannot be used")
	// ErrClosed: the relay is shutting down.
	ErrClosed = errors.New("relay closed")
	// ErrPrecondition: a PATCH whose If-Match is not the resource's ETag.
	ErrPrecondition = errors.New("ETag does not match")
	// ErrFull: the relay has as many viewers as it may take (MaxViewers).
	ErrFull = errors.New("relay full")
	// ErrOrigin: an edge cannot reach its origin.
	ErrOrigin = errors.New("origin unavailable")
	// ErrEdge: publishing to an edge relay (publish to the origin).
	ErrEdge = errors.New("this relay is an edge: publish to the origin")
)

// Sessions tells whether a session exists (whether a viewer may see it is
// decided before Play: the relay serves whoever its caller lets through).
type Sessions interface {
	SessionExists(ctx context.Context, id SessionID) (bool, error)
}

// Authorizer maps an anchor's bearer token to the anchor's name.
type Authorizer interface {
	Authorize(ctx context.Context, session SessionID, token string) (anchor string, err error)
}

// ICEConfig is the network side of the relay.
type ICEConfig struct {
	// UDPPort is the one UDP port all ICE traffic uses (0: an ephemeral
	// port per connection).
	UDPPort int
	// TCPPort is the ICE-TCP port (0: no ICE-TCP).
	TCPPort int
	// PublicIPs replace the host candidates' addresses (NAT 1:1).
	PublicIPs []string
	// Servers are STUN/TURN servers, used by the relay and handed to pages.
	Servers []webrtc.ICEServer
	// Loopback includes loopback candidates (tests, local benchmarks) and
	// restricts candidates to loopback.
	Loopback bool
}

// Config configures a Relay.
type Config struct {
	Sessions Sessions   // required unless Origin is set
	Tokens   Authorizer // required unless Origin is set
	ICE      ICEConfig
	// Slots is the number of audio and of video slots per viewer (default 4).
	Slots int
	// MaxViewers caps the viewers of the whole relay (0: no cap); past it
	// Play answers ErrFull, so an operator can send the overflow to edges.
	MaxViewers int
	// Record starts the recording of each publication (nil: no recording).
	Record StartRecorder
	// Origin makes this relay an edge that pulls sessions from Origin
	// (the origin's base URL, e.g. http://origin:8080).
	Origin string
	// HTTPClient talks to the origin (default: a client with a 10 s timeout).
	HTTPClient *http.Client
	// QueueLen bounds each viewer's packet queue (default 1024 packets).
	QueueLen int
	// LagLimit: a viewer whose queue has not drained for this long while
	// packets are dropped is disconnected (default 5 s).
	LagLimit time.Duration
	// GatherTimeout bounds ICE gathering before an answer (default 5 s).
	GatherTimeout time.Duration
	Log           *slog.Logger
	Now           func() time.Time
}

// Relay is the WebRTC relay.
type Relay struct {
	cfg        Config
	log        *slog.Logger
	publishAPI *webrtc.API
	viewAPI    *webrtc.API
	udpMux     ice.UDPMux
	tcpMux     ice.TCPMux
	tcpLn      net.Listener

	mu        sync.Mutex
	closed    bool
	viewers   int // live viewers, for MaxViewers
	sessions  map[SessionID]*session
	resources map[string]resource // resource id → publication or viewer
	wg        sync.WaitGroup      // goroutines owned by the relay
}

// resource is what a WHIP/WHEP resource URL names.
type resource interface {
	patch(ctx context.Context, frag string) error
	close(reason string)
	// authorize checks the bearer token of a request on the resource: a
	// publication takes its publisher's token only; a viewer's URL is a
	// capability and takes any
	authorize(ctx context.Context, token string) error
	// sessionID and etag: the session in the resource's URL, and the
	// ETag of its ICE session (its answer's ufrag)
	sessionID() SessionID
	etag() string
}

// New opens the relay's sockets.
func New(cfg Config) (*Relay, error) {
	if cfg.Origin == "" && (cfg.Sessions == nil || cfg.Tokens == nil) {
		return nil, errors.New("stream: Sessions and Tokens are required")
	}
	if cfg.Slots <= 0 {
		cfg.Slots = 4
	}
	if cfg.Slots > 16 {
		return nil, fmt.Errorf("stream: %d slots: at most 16", cfg.Slots)
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 1024
	}
	if cfg.LagLimit <= 0 {
		cfg.LagLimit = 5 * time.Second
	}
	if cfg.GatherTimeout <= 0 {
		cfg.GatherTimeout = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	r := &Relay{
		cfg:       cfg,
		log:       cfg.Log,
		sessions:  make(map[SessionID]*session),
		resources: make(map[string]resource),
	}
	if err := r.openNetwork(); err != nil {
		return nil, err
	}
	var err error
	if r.publishAPI, err = r.newAPI(true); err != nil {
		r.closeNetwork()
		return nil, err
	}
	if r.viewAPI, err = r.newAPI(false); err != nil {
		r.closeNetwork()
		return nil, err
	}
	return r, nil
}

// Slots is the number of audio and of video slots per viewer.
func (r *Relay) Slots() int { return r.cfg.Slots }

// ICEServers are the STUN/TURN servers browser pages should use.
func (r *Relay) ICEServers() []webrtc.ICEServer { return r.cfg.ICE.Servers }

// Close ends every publication and viewer and waits for the relay's
// goroutines.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	res := make([]resource, 0, len(r.resources))
	for _, x := range r.resources {
		res = append(res, x)
	}
	sessions := make([]*session, 0, len(r.sessions))
	for _, s := range r.sessions {
		sessions = append(sessions, s)
	}
	r.mu.Unlock()
	for _, x := range res {
		x.close("relay closed")
	}
	for _, s := range sessions {
		s.closeSources()
	}
	r.wg.Wait()
	r.closeNetwork()
	return nil
}

// go runs f as a goroutine the relay waits for on Close.
func (r *Relay) goOwned(f func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
	return true
}

// session returns the live state of id, creating it.
func (r *Relay) session(id SessionID) (*session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	s := r.sessions[id]
	if s == nil {
		s = newSession(r, id)
		r.sessions[id] = s
	}
	return s, nil
}

// join adds something live to session id with add, taking a new session
// state when the current one was just released.
func (r *Relay) join(id SessionID, add func(*session) bool) (*session, error) {
	for {
		s, err := r.session(id)
		if err != nil {
			return nil, err
		}
		if add(s) {
			return s, nil
		}
		runtime.Gosched() // the released state is leaving the map
	}
}

// release forgets a session's state once nothing is live in it and nobody
// watches: sessions come and go with their anchors and viewers (their
// counters and metrics with them).
func (r *Relay) release(s *session) {
	s.mu.Lock()
	idle := !s.dead && s.idle()
	if idle {
		s.dead = true
	}
	s.mu.Unlock()
	if !idle {
		return
	}
	r.mu.Lock()
	if r.sessions[s.id] == s {
		delete(r.sessions, s.id)
	}
	r.mu.Unlock()
}

func (r *Relay) addResource(id string, x resource) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	r.resources[id] = x
	return nil
}

func (r *Relay) removeResource(id string) {
	r.mu.Lock()
	delete(r.resources, id)
	r.mu.Unlock()
}

// takeViewer counts a new viewer against MaxViewers; giveViewer returns
// the place.
func (r *Relay) takeViewer() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cfg.MaxViewers > 0 && r.viewers >= r.cfg.MaxViewers {
		return fmt.Errorf("%w: %d viewers", ErrFull, r.viewers)
	}
	r.viewers++
	return nil
}

func (r *Relay) giveViewer() {
	r.mu.Lock()
	r.viewers--
	r.mu.Unlock()
}

// replaceAnchor ends the live publications of anchor in session: an
// anchor who publishes again (a reloaded page, a restarted OBS) replaces
// the old connection at once instead of taking a second slot until it
// times out.
func (r *Relay) replaceAnchor(id SessionID, anchor string) {
	r.mu.Lock()
	s := r.sessions[id]
	r.mu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	var old []*source
	for _, src := range append(append([]*source(nil), s.slots...), s.waiting...) {
		if src != nil && src.anchor == anchor && src.stop != nil {
			old = append(old, src)
		}
	}
	s.mu.Unlock()
	for _, src := range old {
		src.stop("replaced by a new publication")
	}
}

// lookup finds resource id of session and checks the request's bearer
// token against it.
func (r *Relay) lookup(ctx context.Context, session SessionID, id, token string) (resource, error) {
	r.mu.Lock()
	x, ok := r.resources[id]
	r.mu.Unlock()
	if !ok || x.sessionID() != session {
		return nil, fmt.Errorf("resource %s: %w", shortID(id), ErrNotFound)
	}
	if err := x.authorize(ctx, token); err != nil {
		return nil, fmt.Errorf("resource %s: %w", shortID(id), err)
	}
	return x, nil
}

// Patch applies a trickle-ICE fragment (application/trickle-ice-sdpfrag)
// to a publication or a viewer of session. token is the request's bearer
// token: every request on a publication carries the token it was
// published with (RFC 9725 §4.3), still live, else ErrUnauthorized; a
// viewer's resource URL is its capability (token ignored). ifMatch is the
// request's If-Match header: "" (none), "*" (an ICE restart, not
// supported) or the ETag the resource was created with (else
// ErrPrecondition).
func (r *Relay) Patch(ctx context.Context, session SessionID, id, token, ifMatch, frag string) error {
	x, err := r.lookup(ctx, session, id, token)
	if err != nil {
		return err
	}
	switch ifMatch {
	case "":
	case "*":
		return ErrRestartUnsupported
	default:
		if ifMatch != x.etag() {
			return ErrPrecondition
		}
	}
	return x.patch(ctx, frag)
}

// Delete ends a publication or a viewer of session (WHIP/WHEP DELETE);
// token as for Patch.
func (r *Relay) Delete(ctx context.Context, session SessionID, id, token string) error {
	x, err := r.lookup(ctx, session, id, token)
	if err != nil {
		return err
	}
	x.close("deleted")
	return nil
}

// checkSession answers ErrNotFound for a session that does not exist.
func (r *Relay) checkSession(ctx context.Context, id SessionID) error {
	if r.cfg.Sessions == nil {
		return nil
	}
	ok, err := r.cfg.Sessions.SessionExists(ctx, id)
	if err != nil {
		return fmt.Errorf("session %q: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	return nil
}

// Answer is the relay's side of a WHIP/WHEP exchange.
type Answer struct {
	// ID names the resource (its URL is /whip|whep/{session}/{ID}).
	ID  string
	SDP string
	// ETag identifies the ICE session (RFC 9725 §4.3.1).
	ETag string
}
