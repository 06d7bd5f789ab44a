package stream

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// frameHeadroom: a new video frame is only queued for a viewer when this
// many queue places are free (at most a quarter of the queue), so frames
// are mostly dropped whole; a frame larger than the headroom can still be
// cut, and then the rest is skipped up to the next keyframe.
const frameHeadroom = 64

// item is one packet queued for one viewer slot.
type item struct {
	sub    *subscription
	p      *packet
	resync bool // first packet after a drop: re-anchor the slot's offsets
}

// subscription feeds one viewer slot from one source track. offer runs on
// the track's reader goroutine only.
type subscription struct {
	v      *viewer
	st     *slotTrack
	t      *track
	closed atomic.Bool

	dropping bool // reader goroutine only: skipping to the next keyframe
}

func (s *subscription) offer(p *packet) {
	if s.closed.Load() {
		return
	}
	v := s.v
	resync := false
	if s.t.kind == webrtc.RTPCodecTypeVideo {
		if s.dropping {
			if !p.keyframe {
				v.dropped(false)
				return
			}
			s.dropping = false
			resync = true
		}
		if p.frameStart && len(v.queue) > cap(v.queue)-v.headroom {
			s.drop()
			return
		}
	}
	select {
	case v.queue <- item{sub: s, p: p, resync: resync}:
	default:
		s.drop()
	}
}

func (s *subscription) drop() {
	s.v.dropped(true)
	if s.t.kind == webrtc.RTPCodecTypeVideo {
		s.dropping = true
		s.t.requestKeyframe()
	}
}

// slotTrack is one of a viewer's fixed audio or video slots: a pion
// TrackLocal bound to one RTP sender, fed by whichever source holds the
// slot, with sequence numbers and timestamps kept continuous.
type slotTrack struct {
	v     *viewer
	kind  webrtc.RTPCodecType
	index int
	id    string

	mu     sync.Mutex
	writer webrtc.TrackLocalWriter
	ssrc   webrtc.SSRC
	codecs []webrtc.RTPCodecParameters
	live   *subscription // the source whose packets are being sent
	pt     webrtc.PayloadType
	clock  uint32
	seqOff uint16
	// mapStart is the first outgoing sequence number of the current
	// mapping (source and offsets), or mapWindow behind the newest on a
	// long stream: NACKs for older numbers are not answered from this
	// source, and its packets older than that are not sent.
	mapStart uint16
	tsOff    uint32
	lastSeq  uint16
	lastTs   uint32
	lastAt   time.Time
	sent     bool
	hdr      rtp.Header // writer goroutine's header, reused
}

var _ webrtc.TrackLocal = (*slotTrack)(nil)

func (st *slotTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codecs := ctx.CodecParameters()
	if len(codecs) == 0 {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("slot %s: %w", st.id, webrtc.ErrUnsupportedCodec)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.writer = ctx.WriteStream()
	st.ssrc = ctx.SSRC()
	st.codecs = codecs
	return codecs[0], nil
}

func (st *slotTrack) Unbind(webrtc.TrackLocalContext) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.writer = nil
	return nil
}

func (st *slotTrack) ID() string                { return st.id }
func (st *slotTrack) RID() string               { return "" }
func (st *slotTrack) StreamID() string          { return "slot" + strconv.Itoa(st.index) }
func (st *slotTrack) Kind() webrtc.RTPCodecType { return st.kind }
func (st *slotTrack) current() *subscription    { st.mu.Lock(); defer st.mu.Unlock(); return st.live }
func (st *slotTrack) source() *track {
	if s := st.current(); s != nil {
		return s.t
	}
	return nil
}

// viewer is one WHEP playback.
type viewer struct {
	relay    *Relay
	id       string
	session  *session
	pc       *webrtc.PeerConnection
	log      *slog.Logger
	video    []*slotTrack
	audio    []*slotTrack
	queue    chan item
	headroom int
	since    time.Time
	// sessionName is the session of the resource URL; answerETag the
	// ETag of the answer
	sessionName SessionID
	answerETag  string

	// subs is each slot's current subscription (session.mu).
	subs map[*slotTrack]*subscription

	drops        atomic.Uint64
	lastDrain    atomic.Int64 // arrival (unix nanos) of the last packet written when the queue ran empty
	lossFraction atomic.Uint32

	kicked    atomic.Bool // cut off for falling behind (once)
	closeOnce sync.Once
	done      chan struct{}
}

func (v *viewer) slot(kind webrtc.RTPCodecType, i int) *slotTrack {
	slots := v.audio
	if kind == webrtc.RTPCodecTypeVideo {
		slots = v.video
	}
	if i < 0 || i >= len(slots) {
		return nil
	}
	return slots[i]
}

// attach points the viewer's slot i of t's kind at t (caller holds
// session.mu).
func (v *viewer) attach(i int, t *track) {
	st := v.slot(t.kind, i)
	if st == nil {
		return
	}
	if old := v.subs[st]; old != nil {
		old.closed.Store(true)
		old.t.unsubscribe(old)
	}
	s := &subscription{v: v, st: st, t: t}
	v.subs[st] = s
	t.subscribe(s)
	t.requestKeyframe()
}

// detach stops feeding slot i from t (caller holds session.mu).
func (v *viewer) detach(i int, t *track) {
	st := v.slot(t.kind, i)
	if st == nil {
		return
	}
	if s := v.subs[st]; s != nil && s.t == t {
		s.closed.Store(true)
		t.unsubscribe(s)
		delete(v.subs, st)
	}
}

// dropped counts a dropped packet; a viewer whose queue has not drained
// for LagLimit is disconnected.
func (v *viewer) dropped(queueFull bool) {
	v.drops.Add(1)
	v.session.counters.drops.Add(1)
	if !queueFull {
		return
	}
	last := time.Unix(0, v.lastDrain.Load())
	if v.relay.cfg.Now().Sub(last) > v.relay.cfg.LagLimit && v.kicked.CompareAndSwap(false, true) {
		v.session.counters.viewersKicked.Add(1)
		v.relay.goOwned(func() { v.close("fell behind") })
	}
}

// run is the viewer's writer goroutine.
func (v *viewer) run() {
	for {
		select {
		case it := <-v.queue:
			v.write(it)
			if len(v.queue) == 0 {
				v.lastDrain.Store(it.p.at.UnixNano())
			}
		case <-v.done:
			return
		}
	}
}

func (v *viewer) write(it item) {
	s := it.sub
	if s.closed.Load() {
		return
	}
	st, p := s.st, it.p
	st.mu.Lock()
	if st.writer == nil {
		st.mu.Unlock()
		return
	}
	if st.live != s || it.resync {
		if st.kind == webrtc.RTPCodecTypeVideo && !p.keyframe {
			// a new source (or a resumed one) starts at a keyframe
			st.mu.Unlock()
			s.t.requestKeyframe()
			return
		}
		codec, ok := matchCodec(st.codecs, s.t.codec)
		if !ok {
			st.mu.Unlock()
			v.session.counters.codecMismatches.Add(1)
			return
		}
		st.pt, st.clock = codec.PayloadType, codec.ClockRate
		if st.sent {
			st.seqOff = st.lastSeq + 1 - p.seq
			// the media time between the last packet sent and this one's
			// arrival, at least one tick and far from wrapping
			gap := p.at.Sub(st.lastAt).Seconds() * float64(st.clock)
			st.tsOff = st.lastTs + uint32(min(max(gap, 1), 1<<30)) - p.ts
		}
		st.live = s
		st.mapStart = p.seq + st.seqOff
	} else if int16(p.seq+st.seqOff-st.mapStart) < 0 {
		// older than the packet the mapping started at (a late or resent
		// packet from before a keyframe resync): its number is taken
		st.mu.Unlock()
		return
	}
	h := &st.hdr
	*h = rtp.Header{
		Version:        2,
		Marker:         p.marker,
		PayloadType:    uint8(st.pt),
		SequenceNumber: p.seq + st.seqOff,
		Timestamp:      p.ts + st.tsOff,
		SSRC:           uint32(st.ssrc),
	}
	if !st.sent || int16(h.SequenceNumber-st.lastSeq) > 0 {
		st.lastSeq, st.lastTs, st.lastAt = h.SequenceNumber, h.Timestamp, p.at
		if st.lastSeq-st.mapStart > mapWindow {
			// keep the mapping's start within half the sequence space, so
			// that "before the start" stays meaningful on a long stream
			st.mapStart = st.lastSeq - mapWindow
		}
	}
	st.sent = true
	w := st.writer
	st.mu.Unlock()
	n, err := w.WriteRTP(h, p.payload)
	if err != nil {
		return
	}
	v.session.counters.packetsOut.Add(1)
	v.session.counters.bytesOut.Add(uint64(n))
}

// mapWindow is how far behind the newest packet a slot's mapping start
// may trail (older numbers count as before it).
const mapWindow = 1 << 14

// sourceSeq maps an outgoing sequence number of the slot back to the live
// source's, if it was sent under the current mapping (caller holds st.mu).
func (st *slotTrack) sourceSeq(out uint16) (uint16, bool) {
	if st.live == nil || !st.sent || int16(out-st.mapStart) < 0 || int16(out-st.lastSeq) > 0 {
		return 0, false
	}
	return out - st.seqOff, true
}

// resend answers a NACK for the slot's outgoing sequence number out from
// the source track's cache.
func (v *viewer) resend(st *slotTrack, out uint16) {
	st.mu.Lock()
	in, ok := st.sourceSeq(out)
	if st.writer == nil || !ok {
		st.mu.Unlock()
		return
	}
	p := st.live.t.cached(in)
	if p == nil {
		st.mu.Unlock()
		return
	}
	h := rtp.Header{
		Version:        2,
		Marker:         p.marker,
		PayloadType:    uint8(st.pt),
		SequenceNumber: out,
		Timestamp:      p.ts + st.tsOff,
		SSRC:           uint32(st.ssrc),
	}
	w := st.writer
	st.mu.Unlock()
	if _, err := w.WriteRTP(&h, p.payload); err == nil {
		v.session.counters.resent.Add(1)
	}
}

// readRTCP serves one slot's RTCP from the viewer: keyframe requests go to
// the slot's source, NACKs are answered from the cache, receiver reports
// give the loss.
func (v *viewer) readRTCP(st *slotTrack, sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch p := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if t := st.source(); t != nil {
					t.requestKeyframe()
				}
			case *rtcp.TransportLayerNack:
				v.session.counters.nacks.Add(1)
				for _, pair := range p.Nacks {
					for _, seq := range pair.PacketList() {
						v.resend(st, seq)
					}
				}
			case *rtcp.ReceiverReport:
				for _, rep := range p.Reports {
					v.lossFraction.Store(uint32(rep.FractionLost))
				}
			}
		}
	}
}

// close ends the playback; safe to call more than once.
func (v *viewer) close(reason string) {
	v.closeOnce.Do(func() {
		defer v.relay.giveViewer()
		close(v.done)
		v.session.removeViewer(v)
		if err := v.pc.Close(); err != nil {
			v.log.Debug("close viewer connection", "err", err)
		}
		v.relay.removeResource(v.id)
		v.log.Info("viewer left", "reason", reason, "drops", v.drops.Load(),
			"watched", v.relay.cfg.Now().Sub(v.since).Round(time.Second))
	})
}

func (v *viewer) patch(ctx context.Context, frag string) error {
	return applyTrickle(v.pc, frag)
}

// authorize takes any request: a viewer's resource URL is its capability.
func (v *viewer) authorize(context.Context, string) error { return nil }

func (v *viewer) sessionID() SessionID { return v.sessionName }
func (v *viewer) etag() string         { return v.answerETag }

// bindSlots gives each m-line the viewer receives on, in offer order, a
// slot track of its kind (up to Slots of each), bound to the transceiver
// of that m-line's mid. (pion's AddTrack takes the first free transceiver
// of a kind, which may be an m-line the offer rejected with port 0.)
func (v *viewer) bindSlots(media []mline) (map[*slotTrack]*webrtc.RTPSender, error) {
	byMid := map[string]*webrtc.RTPTransceiver{}
	for _, tr := range v.pc.GetTransceivers() {
		byMid[tr.Mid()] = tr
	}
	senders := map[*slotTrack]*webrtc.RTPSender{}
	for _, m := range media {
		slots := &v.audio
		if m.kind == webrtc.RTPCodecTypeVideo {
			slots = &v.video
		}
		if len(*slots) == v.relay.cfg.Slots {
			continue
		}
		tr := byMid[m.mid]
		if tr == nil || tr.Kind() != m.kind || tr.Sender() != nil {
			return nil, fmt.Errorf("%w: no transceiver for m-line %q", ErrInvalid, m.mid)
		}
		i := len(*slots)
		st := &slotTrack{v: v, kind: m.kind, index: i, id: m.kind.String() + strconv.Itoa(i)}
		// what AddTrack does, on the chosen transceiver (the connection's
		// DTLS transport is reachable through its SCTP transport)
		sender, err := v.relay.viewAPI.NewRTPSender(st, v.pc.SCTP().Transport())
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		if err := tr.SetSender(sender, st); err != nil {
			_ = sender.Stop()
			return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		*slots = append(*slots, st)
		senders[st] = sender
	}
	return senders, nil
}

// Play answers a WHEP offer: one viewer of session id. The viewer gets as
// many audio and video slots as its offer has receiving m-lines (at most
// Slots each); anchors fill the slots as they go live.
func (r *Relay) Play(ctx context.Context, id SessionID, offer string) (*Answer, error) {
	if r.cfg.Origin == "" {
		if err := r.checkSession(ctx, id); err != nil {
			return nil, err
		}
	} else if err := r.checkOrigin(ctx, id); err != nil {
		return nil, err
	}
	want, err := offerMedia(offer, false)
	if err != nil {
		r.warnNoVideo(id, err)
		return nil, err
	}
	if err := r.takeViewer(); err != nil {
		return nil, err
	}
	counted := true
	defer func() {
		if counted {
			r.giveViewer()
		}
	}()
	pc, err := r.acceptOffer(r.viewAPI, offer)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = pc.Close()
		}
	}()
	v := &viewer{
		relay:       r,
		id:          newID("v"),
		sessionName: id,
		pc:          pc,
		queue:       make(chan item, r.cfg.QueueLen),
		headroom:    min(frameHeadroom, r.cfg.QueueLen/4),
		since:       r.cfg.Now(),
		subs:        make(map[*slotTrack]*subscription),
		done:        make(chan struct{}),
	}
	v.log = r.log.With("session", id, "viewer", shortID(v.id))
	v.lastDrain.Store(v.since.UnixNano())
	senders, err := v.bindSlots(want)
	if err != nil {
		return nil, err
	}
	local, err := r.answer(ctx, pc)
	if err != nil {
		return nil, err
	}
	if err := checkNegotiated(want, local); err != nil {
		return nil, err
	}
	v.answerETag = iceETag(local)
	if !r.goOwned(v.run) {
		return nil, ErrClosed
	}
	ok = true // from here on v.close cleans up
	counted = false
	if _, err := r.join(id, func(s *session) bool {
		v.session = s
		return s.addViewer(v)
	}); err != nil {
		close(v.done)
		_ = pc.Close()
		r.giveViewer()
		return nil, err
	}
	if err := r.addResource(v.id, v); err != nil {
		v.close("relay closed")
		return nil, err
	}
	for st, sender := range senders {
		r.goOwned(func() { v.readRTCP(st, sender) })
	}
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		switch state {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			r.goOwned(func() { v.close("connection " + state.String()) })
		}
	})
	v.log.Info("viewer joined", "video_slots", len(v.video), "audio_slots", len(v.audio))
	return &Answer{ID: v.id, SDP: local, ETag: v.answerETag}, nil
}
