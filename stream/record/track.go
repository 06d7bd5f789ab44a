package record

import (
	"sort"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
)

// track is the state Run keeps for one of the publication's tracks.
type track struct {
	kind    kind
	clock   int64
	reorder *reorderBuffer
	asm     *assembler
	codec   codec

	// RTP timestamp unwrapping and the track's anchor: the first packet
	// taken in order and its arrival time.
	tsInit     bool
	lastExt    int64
	anchorTS   int64
	anchorWall time.Time

	// offset turns (ts - anchorTS) into the file's time base.
	offset    int64
	offsetSet bool

	needKey bool // video: frames are skipped until the next keyframe
	lastDTS int64
	written bool
}

func newTrack(k kind, mime string) *track {
	t := &track{kind: k, reorder: newReorderBuffer(reorderWindow), needKey: true}
	switch {
	case k == audio:
		t.clock = audioClock
		t.asm = &assembler{single: true}
		t.codec = opusCodec{}
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		t.clock = videoClock
		t.asm = &assembler{isStart: vp8IsStart}
		t.codec = vp8Codec{}
	default:
		t.clock = videoClock
		t.asm = &assembler{isStart: h264IsStart}
		t.codec = &h264Codec{}
	}
	return t
}

// unwrap extends a 32-bit RTP timestamp to 64 bits, handling wrap in
// either direction, and anchors the track on its first packet.
func (t *track) unwrap(ts uint32, at time.Time) int64 {
	if !t.tsInit {
		t.tsInit = true
		t.lastExt = int64(ts)
		t.anchorTS = t.lastExt
		t.anchorWall = at
		return t.lastExt
	}
	t.lastExt += int64(int32(ts - uint32(t.lastExt)))
	return t.lastExt
}

// unitsToDuration converts clock units to a duration without overflowing
// for long recordings (whole seconds first, then the rest).
func unitsToDuration(units, clock int64) time.Duration {
	sec, rem := units/clock, units%clock
	return time.Duration(sec)*time.Second + time.Duration(rem*int64(time.Second)/clock)
}

// orderedPacket is a packet released in sequence order; lost counts the
// packets missing right before it.
type orderedPacket struct {
	p    packet
	lost uint64
}

// reorderBuffer puts packets back in sequence order. A missing packet is
// waited for until window later packets are held; then it is taken as lost.
type reorderBuffer struct {
	window  int
	started bool
	highest int64 // highest extended sequence number seen
	next    int64 // extended sequence number released next
	held    map[int64]packet
	// farHeld are consecutive packets far from the sequence so far: a
	// restart is believed only when restartAfter of them agree (a stale
	// duplicate or retransmission is dropped)
	farHeld []orderedPacket
	farNext int64
}

// restartAfter is how many consecutive packets a sequence jump takes to
// be believed as a sender restart.
const restartAfter = 3

func newReorderBuffer(window int) *reorderBuffer {
	return &reorderBuffer{window: window, held: make(map[int64]packet)}
}

// push adds a packet and returns the packets now released in order.
// Duplicates and packets older than what was released count as lost.
func (b *reorderBuffer) push(p packet) []orderedPacket {
	if !b.started {
		b.started = true
		b.highest = int64(p.seq)
		b.next = b.highest + 1
		return []orderedPacket{{p: p}}
	}
	ext := b.highest + int64(int16(p.seq-uint16(b.highest)))
	if ext-b.next > int64(8*b.window) || b.next-ext > int64(8*b.window) {
		// Far from the packets so far: a stale packet (dropped), or the
		// sender restarted its sequence once a few in a row agree, and
		// everything before it is given up.
		if len(b.farHeld) > 0 && ext != b.farNext {
			b.farHeld = b.farHeld[:0]
		}
		lost := uint64(0)
		if len(b.farHeld) == 0 {
			lost = 1
		}
		b.farHeld = append(b.farHeld, orderedPacket{p: p, lost: lost})
		b.farNext = ext + 1
		if len(b.farHeld) < restartAfter {
			return nil
		}
		out := append(b.flush(), b.farHeld...)
		b.farHeld = nil
		b.highest, b.next = ext, ext+1
		return out
	}
	b.farHeld = b.farHeld[:0]
	if ext > b.highest {
		b.highest = ext
	}
	if ext < b.next {
		return nil // too late or a duplicate
	}
	if _, dup := b.held[ext]; dup {
		return nil
	}
	b.held[ext] = p
	var out []orderedPacket
	var lost uint64
	for len(b.held) > 0 {
		if q, ok := b.held[b.next]; ok {
			delete(b.held, b.next)
			out = append(out, orderedPacket{p: q, lost: lost})
			lost = 0
			b.next++
			continue
		}
		if len(b.held) <= b.window {
			break
		}
		b.next++ // give up on the missing packet
		lost++
	}
	return out
}

// flush releases every held packet in order, the gaps counted as lost.
func (b *reorderBuffer) flush() []orderedPacket {
	keys := make([]int64, 0, len(b.held))
	for k := range b.held {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	out := make([]orderedPacket, 0, len(keys))
	for _, k := range keys {
		out = append(out, orderedPacket{p: b.held[k], lost: uint64(k - b.next)})
		delete(b.held, k)
		b.next = k + 1
	}
	return out
}

// frame is the payloads of the packets that carry one frame.
type frame struct {
	parts     [][]byte
	size      int       // bytes in parts
	ts        int64     // extended RTP timestamp
	at        time.Time // arrival of the first packet
	afterLoss bool      // packets were lost between the previous frame and this one
	ended     bool      // its last packet so far had the marker bit
}

// A frame larger than this is taken as broken (a sender that never sets
// the marker nor changes the timestamp must not grow memory without end).
const (
	maxFrameBytes = 8 << 20
	maxFrameParts = 8192
)

// assembler groups packets in sequence order into frames: a frame is the
// packets of one timestamp. The marker bit ends it, but a frame ended by
// a marker is only returned once a packet of another timestamp comes (or
// at flush): a sender that sets the marker on a packet before the last of
// an access unit (one per slice, or on its parameter sets) still makes
// one frame, not two of the same time. A frame that lost a packet is
// discarded, and so is every packet of its timestamp.
type assembler struct {
	single  bool // every packet is a frame (audio)
	isStart func(payload []byte) bool

	cur       *frame
	broken    bool // a frame was damaged; skip its packets
	brokenTS  int64
	lossSince bool // packets were lost since the last frame returned
}

// push adds a packet; it returns the frames it completes and the number
// of frames it discarded. A packet without payload (padding) only tells
// that no packet was lost.
func (a *assembler) push(p packet, ext int64, lost bool) (out []frame, discarded uint64) {
	if a.cur != nil && a.cur.ended && ext != a.cur.ts {
		// the next timestamp: the frame ended by its marker is whole,
		// whatever was lost after it
		out = append(out, *a.cur)
		a.cur = nil
	}
	if lost {
		a.lossSince = true
		if a.cur != nil {
			a.broken, a.brokenTS = true, a.cur.ts
			a.cur = nil
			discarded++
		}
	}
	if len(p.payload) == 0 {
		return out, discarded // padding
	}
	if a.single {
		out = append(out, frame{parts: [][]byte{p.payload}, ts: ext, at: p.at, afterLoss: a.lossSince})
		a.lossSince = false
		return out, discarded
	}
	if a.cur != nil && a.cur.ts != ext {
		// A new timestamp without a marker before it: the packets so far
		// were contiguous, so the frame is whole.
		out = append(out, *a.cur)
		a.cur = nil
	}
	if a.cur == nil {
		if a.broken && ext == a.brokenTS {
			return out, discarded
		}
		if !a.isStart(p.payload) {
			// The start of this frame is missing.
			a.broken, a.brokenTS = true, ext
			a.lossSince = true
			return out, discarded + 1
		}
		a.broken = false
		a.cur = &frame{ts: ext, at: p.at, afterLoss: a.lossSince}
		a.lossSince = false
	}
	a.cur.parts = append(a.cur.parts, p.payload)
	a.cur.size += len(p.payload)
	a.cur.ended = p.marker
	if a.cur.size > maxFrameBytes || len(a.cur.parts) > maxFrameParts {
		// no marker and no new timestamp for far too long: not a frame
		a.broken, a.brokenTS = true, a.cur.ts
		a.cur = nil
		a.lossSince = true
		return out, discarded + 1
	}
	return out, discarded
}

// flush returns the frame held when it was ended by its marker, and
// discards one left without its end; discarded counts those.
func (a *assembler) flush() (out []frame, discarded uint64) {
	if a.cur == nil {
		return nil, 0
	}
	f := *a.cur
	a.cur = nil
	if f.ended {
		return []frame{f}, 0
	}
	return nil, 1
}
