package stream

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// sessionCounters are a session's running totals.
type sessionCounters struct {
	packetsIn, bytesIn, lost, duplicates atomic.Uint64
	packetsOut, bytesOut, drops          atomic.Uint64
	keyframeRequests, nacks, resent      atomic.Uint64
	viewersKicked, viewersTotal          atomic.Uint64
	publicationsTotal, codecMismatches   atomic.Uint64
}

// source is one anchor's live publication (or, on an edge, one slot of the
// origin): up to one video and one audio track.
type source struct {
	anchor string
	since  time.Time
	video  *track
	audio  *track
	slot   int // -1 while waiting for a free slot
	// prefer is the slot to take if free (an edge keeps the origin's slots).
	prefer int
	// stop ends the publication (closes its peer connection).
	stop func(reason string)
	// gone: removed from its session (session.mu); it is not added again
	gone bool
}

func (s *source) tracks() []*track {
	var ts []*track
	if s.video != nil {
		ts = append(ts, s.video)
	}
	if s.audio != nil {
		ts = append(ts, s.audio)
	}
	return ts
}

// session is the live state of one session: which source holds which slot,
// and the viewers watching.
type session struct {
	relay    *Relay
	id       SessionID
	counters sessionCounters

	mu      sync.Mutex
	slots   []*source
	waiting []*source
	viewers map[*viewer]struct{}
	edge    *puller // edge mode: the pull from the origin, while viewers watch
	rate    rateSample
	// dead: released by the relay once idle; joiners take a new session
	dead bool
}

func newSession(r *Relay, id SessionID) *session {
	return &session{
		relay:   r,
		id:      id,
		slots:   make([]*source, r.cfg.Slots),
		viewers: make(map[*viewer]struct{}),
	}
}

// addSource puts a new publication in the lowest free slot (or its
// preferred one), or queues it when every slot is taken. It returns false
// if the session was released or the source is already gone.
func (s *session) addSource(src *source) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead || src.gone {
		return false
	}
	s.counters.publicationsTotal.Add(1)
	src.slot = -1
	if src.prefer >= 0 && src.prefer < len(s.slots) && s.slots[src.prefer] == nil {
		src.slot = src.prefer
		s.slots[src.prefer] = src
	}
	for i, x := range s.slots {
		if src.slot >= 0 {
			break
		}
		if x == nil {
			src.slot = i
			s.slots[i] = src
		}
	}
	if src.slot < 0 {
		s.waiting = append(s.waiting, src)
		return true
	}
	for v := range s.viewers {
		for _, t := range src.tracks() {
			v.attach(src.slot, t)
		}
	}
	return true
}

// slotOf is the slot a source holds (-1: waiting or gone).
func (s *session) slotOf(src *source) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return src.slot
}

// addTrack adds a track that arrived after its source was added; false
// (and the track closed) if the source is gone.
func (s *session) addTrack(src *source, t *track) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if src.gone {
		t.close()
		return false
	}
	if t.kind == webrtc.RTPCodecTypeVideo {
		src.video = t
	} else {
		src.audio = t
	}
	if src.slot < 0 {
		return true
	}
	for v := range s.viewers {
		v.attach(src.slot, t)
	}
	return true
}

// removeSource frees the source's slot (or its place in the queue) and
// hands the slot to the first waiting source.
func (s *session) removeSource(src *source) {
	s.mu.Lock()
	src.gone = true
	for i, w := range s.waiting {
		if w == src {
			s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
			break
		}
	}
	tracks := src.tracks()
	if src.slot >= 0 && s.slots[src.slot] == src {
		slot := src.slot
		s.slots[slot] = nil
		for v := range s.viewers {
			for _, t := range tracks {
				v.detach(slot, t)
			}
		}
		if len(s.waiting) > 0 {
			next := s.waiting[0]
			s.waiting = s.waiting[1:]
			next.slot = slot
			s.slots[slot] = next
			for v := range s.viewers {
				for _, t := range next.tracks() {
					v.attach(slot, t)
				}
			}
		}
	}
	src.slot = -1
	s.mu.Unlock()
	for _, t := range tracks {
		t.close()
	}
	s.relay.release(s)
}

// addViewer subscribes v to every source in a slot; on an edge, the first
// viewer starts the pull from the origin.
func (s *session) addViewer(v *viewer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return false
	}
	select {
	case <-v.done: // closed before it could join (relay shutting down)
		return true
	default:
	}
	s.viewers[v] = struct{}{}
	s.counters.viewersTotal.Add(1)
	for i, src := range s.slots {
		if src == nil {
			continue
		}
		for _, t := range src.tracks() {
			v.attach(i, t)
		}
	}
	if s.relay.cfg.Origin != "" && s.edge == nil {
		s.edge = newPuller(s)
		s.edge.start()
	}
	return true
}

// removeViewer unsubscribes v; on an edge, the last viewer ends the pull.
func (s *session) removeViewer(v *viewer) {
	s.mu.Lock()
	delete(s.viewers, v)
	for i, src := range s.slots {
		if src == nil {
			continue
		}
		for _, t := range src.tracks() {
			v.detach(i, t)
		}
	}
	var edge *puller
	if len(s.viewers) == 0 && s.edge != nil {
		edge, s.edge = s.edge, nil
	}
	s.mu.Unlock()
	if edge != nil {
		edge.stop()
	}
	s.relay.release(s)
}

// idle: nothing live and nobody watching (caller holds s.mu).
func (s *session) idle() bool {
	if len(s.viewers) > 0 || len(s.waiting) > 0 || s.edge != nil {
		return false
	}
	for _, src := range s.slots {
		if src != nil {
			return false
		}
	}
	return true
}

// closeSources ends every publication (relay shutdown).
func (s *session) closeSources() {
	s.mu.Lock()
	var srcs []*source
	for _, src := range s.slots {
		if src != nil {
			srcs = append(srcs, src)
		}
	}
	srcs = append(srcs, s.waiting...)
	edge := s.edge
	s.edge = nil
	s.mu.Unlock()
	for _, src := range srcs {
		if src.stop != nil {
			src.stop("relay closed")
		}
	}
	if edge != nil {
		edge.stop()
	}
}
