package stream

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Recorder records one anchor's publication. Video and Audio must not
// block (they are called on the tracks' reader goroutines); Run writes
// until ctx is done or Close is called.
type Recorder interface {
	Video(*rtp.Packet)
	Audio(*rtp.Packet)
	Run(ctx context.Context) error
	Close() error
}

// Recording describes a recording to start.
type Recording struct {
	Session SessionID
	Anchor  string
	Start   time.Time
	// VideoMime and AudioMime are the negotiated codecs ("" if absent).
	VideoMime, AudioMime string
	// RequestKeyframe asks the anchor for a keyframe (throttled by the
	// relay); the recorder calls it while its video waits for one.
	RequestKeyframe func()
}

// StartRecorder starts a recording of an anchor's publication.
type StartRecorder func(Recording) (Recorder, error)

// recordWait is how long a publication waits for its second track before
// recording starts with what it has.
const recordWait = 2 * time.Second

// publication is one WHIP publisher.
type publication struct {
	relay      *Relay
	id         string
	session    *session
	src        *source
	pc         *webrtc.PeerConnection
	log        *slog.Logger
	answerETag string // ETag of the answer (its ICE ufrag)
	expect     int    // tracks the answer accepted
	// token is the SHA-256 digest of the bearer token it was published
	// with: requests on the resource must carry the same one
	token [sha256.Size]byte
	// sessionName is the session of the resource URL (session is the live
	// state, which a released session replaces)
	sessionName SessionID

	mu         sync.Mutex
	arrived    int
	videoMime  string
	audioMime  string
	videoTrack *track
	rec        Recorder
	recCancel  context.CancelFunc
	recTimer   *time.Timer
	closed     bool
	recording  atomic.Pointer[Recorder]
	// recFailed is set when the recorder's Run failed (and was logged):
	// Close gives the same error again
	recFailed atomic.Bool

	closeOnce sync.Once
}

// Publish answers a WHIP offer from an anchor of session id with a bearer
// token. An unknown session is ErrNotFound; a bad token ErrUnauthorized
// (checked before anything is created).
func (r *Relay) Publish(ctx context.Context, id SessionID, token, offer string) (*Answer, error) {
	if r.cfg.Origin != "" {
		return nil, ErrEdge
	}
	if err := r.checkSession(ctx, id); err != nil {
		return nil, err
	}
	anchor, err := r.cfg.Tokens.Authorize(ctx, id, token)
	if err != nil {
		return nil, err
	}
	offered, err := offerMedia(offer, true)
	if err != nil {
		r.warnNoVideo(id, err)
		return nil, err
	}
	pc, err := r.acceptOffer(r.publishAPI, offer)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = pc.Close()
		}
	}()
	local, err := r.answer(ctx, pc)
	if err != nil {
		return nil, err
	}
	if err := checkNegotiated(offered, local); err != nil {
		return nil, err
	}
	p := &publication{
		relay:       r,
		id:          newID("p"),
		sessionName: id,
		pc:          pc,
		answerETag:  iceETag(local),
		token:       sha256.Sum256([]byte(token)),
		src:         &source{anchor: anchor, since: r.cfg.Now(), prefer: -1},
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if negotiated(local, kind) != "" {
			p.expect++
		}
	}
	p.log = r.log.With("session", id, "anchor", anchor, "publication", shortID(p.id))
	p.src.stop = p.close
	r.replaceAnchor(id, anchor)
	s, err := r.join(id, func(s *session) bool {
		p.session = s
		return s.addSource(p.src)
	})
	if err != nil {
		return nil, err
	}
	ok = true
	if err := r.addResource(p.id, p); err != nil {
		p.close("relay closed")
		return nil, err
	}
	// the handlers are set after p.session (registering synchronises with
	// pion's callbacks); media cannot flow before the answer is returned
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		switch state {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			r.goOwned(func() { p.close("connection " + state.String()) })
		}
	})
	p.log.Info("anchor live", "video", negotiated(local, webrtc.RTPCodecTypeVideo),
		"audio", negotiated(local, webrtc.RTPCodecTypeAudio), "slot", s.slotOf(p.src))
	return &Answer{ID: p.id, SDP: local, ETag: p.answerETag}, nil
}

func (p *publication) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	ssrc := uint32(remote.SSRC())
	kind := remote.Kind()
	t := newTrack(kind, remote.Codec().RTPCodecCapability, &p.session.counters, p.relay.cfg.Now, func() {
		_ = p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	})
	if !p.session.addTrack(p.src, t) {
		return
	}
	if !p.relay.goOwned(func() { p.read(remote, t) }) {
		return
	}
	// the publisher's sender reports feed the receiver-report interceptor
	p.relay.goOwned(func() {
		for {
			if _, _, err := receiver.ReadRTCP(); err != nil {
				return
			}
		}
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	p.arrived++
	if kind == webrtc.RTPCodecTypeVideo {
		p.videoMime = t.codec.MimeType
		p.videoTrack = t
	} else {
		p.audioMime = t.codec.MimeType
	}
	switch {
	case p.closed || p.rec != nil:
	case p.arrived >= p.expect:
		if p.recTimer != nil {
			p.recTimer.Stop()
			p.recTimer = nil
		}
		p.startRecordingLocked()
	case p.recTimer == nil:
		p.recTimer = time.AfterFunc(recordWait, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.recTimer = nil
			p.startRecordingLocked()
		})
	}
}

// startRecordingLocked starts the recorder with the tracks that arrived.
func (p *publication) startRecordingLocked() {
	start := p.relay.cfg.Record
	if start == nil || p.closed || p.rec != nil {
		return
	}
	video, audio := p.videoMime, p.audioMime
	spec := Recording{Session: p.session.id, Anchor: p.src.anchor, Start: p.relay.cfg.Now(),
		VideoMime: video, AudioMime: audio}
	if vt := p.videoTrack; vt != nil {
		spec.RequestKeyframe = vt.requestKeyframe
	}
	rec, err := start(spec)
	if err != nil {
		p.log.Error("recording not started", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	if !p.relay.goOwned(func() {
		if err := rec.Run(ctx); err != nil && ctx.Err() == nil {
			p.recFailed.Store(true)
			p.log.Error("recording failed", "err", err)
		}
	}) {
		cancel()
		_ = rec.Close()
		return
	}
	p.rec, p.recCancel = rec, cancel
	p.recording.Store(&rec)
	p.log.Info("recording", "video", video, "audio", audio)
}

// read is the reader goroutine of one publisher track: it relays, and
// hands each packet to the recording once it runs.
func (p *publication) read(remote *webrtc.TrackRemote, t *track) {
	video := t.kind == webrtc.RTPCodecTypeVideo
	readTrack(remote, t, func(h *rtp.Header, payload []byte) {
		rp := p.recording.Load()
		if rp == nil {
			return
		}
		pkt := rtp.Packet{Header: *h, Payload: payload}
		if video {
			(*rp).Video(&pkt)
		} else {
			(*rp).Audio(&pkt)
		}
	})
}

// close ends the publication; safe to call more than once.
func (p *publication) close(reason string) {
	p.closeOnce.Do(func() {
		if err := p.pc.Close(); err != nil {
			p.log.Debug("close publisher connection", "err", err)
		}
		p.session.removeSource(p.src)
		p.mu.Lock()
		p.closed = true
		if p.recTimer != nil {
			p.recTimer.Stop()
			p.recTimer = nil
		}
		rec, cancel := p.rec, p.recCancel
		p.mu.Unlock()
		p.recording.Store(nil)
		if rec != nil {
			cancel()
			if err := rec.Close(); err != nil && !p.recFailed.Load() {
				p.log.Error("close recording", "err", err)
			}
		}
		p.relay.removeResource(p.id)
		p.log.Info("anchor left", "reason", reason, "live", p.relay.cfg.Now().Sub(p.src.since).Round(time.Second))
	})
}

func (p *publication) patch(ctx context.Context, frag string) error {
	return applyTrickle(p.pc, frag)
}

// authorize takes the token the publication was made with, as long as it
// is live: a revoked token ends the publisher's control of the resource
// too (the stream itself goes on until it ends).
func (p *publication) authorize(ctx context.Context, token string) error {
	digest := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(digest[:], p.token[:]) != 1 {
		return fmt.Errorf("not the publication's token: %w", ErrUnauthorized)
	}
	if _, err := p.relay.cfg.Tokens.Authorize(ctx, p.sessionName, token); err != nil {
		return err
	}
	return nil
}

func (p *publication) sessionID() SessionID { return p.sessionName }
func (p *publication) etag() string         { return p.answerETag }
