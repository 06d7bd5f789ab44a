package stream

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// packet is one RTP packet of a source track, shared read-only by every
// viewer it is offered to.
type packet struct {
	seq        uint16
	ts         uint32
	marker     bool
	keyframe   bool      // the first packet of a keyframe
	frameStart bool      // the first packet of a frame (previous had the marker)
	at         time.Time // arrival (read once, for every viewer)
	payload    []byte
}

// cacheSize packets per track are kept to answer NACKs (about 1.5 s of
// 2.5 Mbps video).
const cacheSize = 512

// keyframeInterval is the least time between two keyframe requests sent
// to one publisher track.
const keyframeInterval = 500 * time.Millisecond

// track is one source track: an anchor's audio or video, from a WHIP
// publisher, the demo loop or an origin relay. Exactly one goroutine calls
// deliver.
type track struct {
	kind  webrtc.RTPCodecType
	codec webrtc.RTPCodecCapability
	now   func() time.Time
	stats *sessionCounters

	// subs is the copy-on-write list of viewer slots fed by this track.
	subs   atomic.Pointer[[]*subscription]
	subsMu sync.Mutex

	cacheMu sync.Mutex
	cache   [cacheSize]*packet

	// reader state (deliver's goroutine only)
	started  bool
	lastSeq  uint16
	prevMark bool

	kfMu      sync.Mutex
	keyframer func() // sends a keyframe request upstream (nil: none possible)
	kfLast    time.Time
	kfTimer   *time.Timer
	kfClosed  bool
}

func newTrack(kind webrtc.RTPCodecType, codec webrtc.RTPCodecCapability, stats *sessionCounters, now func() time.Time, keyframer func()) *track {
	t := &track{kind: kind, codec: codec, now: now, stats: stats, keyframer: keyframer}
	t.subs.Store(&[]*subscription{})
	return t
}

// deliver takes one packet from upstream: counts it, caches it and offers
// it to every subscribed viewer without blocking.
func (t *track) deliver(h *rtp.Header, payload []byte) *packet {
	if t.started && t.isDuplicate(h) {
		// a retransmission that crossed the original: viewers have it
		t.stats.duplicates.Add(1)
		return nil
	}
	p := &packet{seq: h.SequenceNumber, ts: h.Timestamp, marker: h.Marker, payload: payload, at: t.now()}
	if t.kind == webrtc.RTPCodecTypeVideo {
		p.keyframe = isKeyframeStart(t.codec.MimeType, payload)
		p.frameStart = !t.started || t.prevMark || p.keyframe
		t.prevMark = h.Marker
	}
	if t.started {
		if d := h.SequenceNumber - t.lastSeq; d > 1 && d < 0x8000 {
			t.stats.lost.Add(uint64(d - 1))
		}
	}
	if !t.started || int16(h.SequenceNumber-t.lastSeq) > 0 {
		t.lastSeq = h.SequenceNumber
	}
	t.started = true
	t.stats.packetsIn.Add(1)
	t.stats.bytesIn.Add(uint64(len(payload) + 12))

	t.cacheMu.Lock()
	t.cache[p.seq%cacheSize] = p
	t.cacheMu.Unlock()

	for _, s := range *t.subs.Load() {
		s.offer(p)
	}
	return p
}

// isDuplicate: the packet is already in the cache (same sequence number
// and timestamp).
func (t *track) isDuplicate(h *rtp.Header) bool {
	t.cacheMu.Lock()
	defer t.cacheMu.Unlock()
	c := t.cache[h.SequenceNumber%cacheSize]
	return c != nil && c.seq == h.SequenceNumber && c.ts == h.Timestamp
}

// cached returns the packet with sequence number seq if still cached.
func (t *track) cached(seq uint16) *packet {
	t.cacheMu.Lock()
	defer t.cacheMu.Unlock()
	if p := t.cache[seq%cacheSize]; p != nil && p.seq == seq {
		return p
	}
	return nil
}

func (t *track) subscribe(s *subscription) {
	t.subsMu.Lock()
	defer t.subsMu.Unlock()
	old := *t.subs.Load()
	next := make([]*subscription, 0, len(old)+1)
	next = append(next, old...)
	next = append(next, s)
	t.subs.Store(&next)
}

func (t *track) unsubscribe(s *subscription) {
	t.subsMu.Lock()
	defer t.subsMu.Unlock()
	old := *t.subs.Load()
	next := make([]*subscription, 0, len(old))
	for _, x := range old {
		if x != s {
			next = append(next, x)
		}
	}
	t.subs.Store(&next)
}

// requestKeyframe asks upstream for a keyframe, at most once per
// keyframeInterval; a request inside the interval is sent when it ends
// (once, however many came in).
func (t *track) requestKeyframe() {
	if t.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	t.kfMu.Lock()
	if t.keyframer == nil || t.kfClosed || t.kfTimer != nil {
		t.kfMu.Unlock()
		return
	}
	now := t.now()
	if wait := keyframeInterval - now.Sub(t.kfLast); wait > 0 {
		t.kfTimer = time.AfterFunc(wait, func() {
			t.kfMu.Lock()
			t.kfTimer = nil
			if t.kfClosed {
				t.kfMu.Unlock()
				return
			}
			t.kfLast = t.now()
			t.kfMu.Unlock()
			t.sendKeyframeRequest()
		})
		t.kfMu.Unlock()
		return
	}
	t.kfLast = now
	t.kfMu.Unlock()
	t.sendKeyframeRequest()
}

func (t *track) sendKeyframeRequest() {
	t.stats.keyframeRequests.Add(1)
	t.keyframer()
}

// close stops keyframe requests and detaches every subscriber.
func (t *track) close() {
	t.kfMu.Lock()
	t.kfClosed = true
	if t.kfTimer != nil {
		t.kfTimer.Stop()
		t.kfTimer = nil
	}
	t.kfMu.Unlock()
}
