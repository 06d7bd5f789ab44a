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

// wall is the wall-clock time of an (extended) RTP timestamp.
func (t *track) wall(ext int64) time.Time {
	return t.anchorWall.Add(time.Duration((ext - t.anchorTS) * int64(time.Second) / t.clock))
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
}

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
	if ext > b.highest {
		b.highest = ext
	}
	switch {
	case ext-b.next > int64(8*b.window) || b.next-ext > int64(8*b.window):
		// A jump far from the packets so far (the sender restarted its
		// sequence): give up on everything before it.
		out := b.flush()
		b.highest, b.next = ext, ext+1
		return append(out, orderedPacket{p: p, lost: 1})
	case ext < b.next:
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
	ts        int64     // extended RTP timestamp
	at        time.Time // arrival of the first packet
	afterLoss bool      // packets were lost between the previous frame and this one
}

// assembler groups packets in sequence order into frames: a frame is the
// packets of one timestamp, ended by the marker bit (or by the next
// timestamp). A frame that lost a packet is discarded, and so is every
// packet of its timestamp.
type assembler struct {
	single  bool // every packet is a frame (audio)
	isStart func(payload []byte) bool

	cur       *frame
	broken    bool // a frame was damaged; skip its packets
	brokenTS  int64
	lossSince bool // packets were lost since the last frame returned
}

// push adds a packet; it returns the frames it completes and the number
// of frames it discarded.
func (a *assembler) push(p packet, ext int64, lost bool) (out []frame, discarded uint64) {
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
	if p.marker {
		out = append(out, *a.cur)
		a.cur = nil
	}
	return out, discarded
}

// flush discards a frame left without its end; it returns how many it
// discarded.
func (a *assembler) flush() uint64 {
	if a.cur == nil {
		return 0
	}
	a.cur = nil
	return 1
}
