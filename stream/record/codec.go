package record

import (
	"encoding/binary"

	"github.com/pion/rtp/codecs"
)

// sample is one frame ready for the file.
type sample struct {
	data []byte // VP8 frame, H264 access unit as 4-byte length-prefixed NAL units, or Opus packet
	key  bool
	dts  int64 // in the track's clock units from the file's zero; set by the Recorder
	dur  int64 // nominal duration in clock units when the codec tells it (Opus), else 0

	width, height int    // video keyframes: the picture size when known
	sps, pps      []byte // H264 keyframes: the parameter sets in force
}

// verdict says what a codec made of a frame.
type verdict int

const (
	frameOK      verdict = iota
	frameDamaged         // unusable: video waits for the next keyframe
	frameEmpty           // nothing to write (e.g. parameter sets alone); not damage
)

// codec turns the payloads of a frame's packets into a sample.
type codec interface {
	sample(fr frame) (sample, verdict)
}

// vp8IsStart tells whether a VP8 RTP payload starts a frame: the S bit is
// set and the partition index is 0 (RFC 7741).
func vp8IsStart(payload []byte) bool {
	return len(payload) > 0 && payload[0]&0x10 != 0 && payload[0]&0x07 == 0
}

// vp8Codec strips the VP8 payload descriptors.
type vp8Codec struct{}

func (vp8Codec) sample(fr frame) (sample, verdict) {
	var data []byte
	for _, part := range fr.parts {
		var p codecs.VP8Packet
		b, err := p.Unmarshal(part)
		if err != nil {
			return sample{}, frameDamaged
		}
		data = append(data, b...)
	}
	if len(data) == 0 {
		return sample{}, frameDamaged
	}
	s := sample{data: data, key: data[0]&0x01 == 0}
	if s.key {
		// Key frame header: 3-byte frame tag, start code 9d 01 2a, then
		// 14-bit width and height (RFC 6386 section 9.1).
		if len(data) < 10 || data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a {
			return sample{}, frameDamaged
		}
		s.width = int(binary.LittleEndian.Uint16(data[6:8]) & 0x3fff)
		s.height = int(binary.LittleEndian.Uint16(data[8:10]) & 0x3fff)
	}
	return s, frameOK
}

// H264 NAL unit types used here (ITU-T H.264 table 7-1, RFC 6184).
const (
	nalSlice  = 1
	nalIDR    = 5
	nalSPS    = 7
	nalPPS    = 8
	nalAUD    = 9
	nalFiller = 12
	nalSTAPA  = 24
	nalFUA    = 28
)

// h264IsStart tells whether an H264 RTP payload (packetization-mode 1)
// can start an access unit: a single NAL unit, a STAP-A or the first
// fragment of an FU-A.
func h264IsStart(payload []byte) bool {
	if len(payload) == 0 {
		return false
	}
	switch t := payload[0] & 0x1f; {
	case t >= 1 && t <= 23, t == nalSTAPA:
		return true
	case t == nalFUA:
		return len(payload) > 1 && payload[1]&0x80 != 0
	}
	return false
}

// h264NALs depacketises the payloads of one access unit (single NAL
// units, STAP-A and FU-A) into NAL units; ok is false when the packets do
// not make whole NAL units.
func h264NALs(parts [][]byte) (nals [][]byte, ok bool) {
	var fu []byte
	inFU := false
	for _, part := range parts {
		if len(part) == 0 {
			continue
		}
		switch t := part[0] & 0x1f; {
		case t >= 1 && t <= 23:
			if inFU {
				return nil, false
			}
			nals = append(nals, part)
		case t == nalSTAPA:
			if inFU {
				return nil, false
			}
			for off := 1; off < len(part); {
				if off+2 > len(part) {
					return nil, false
				}
				n := int(binary.BigEndian.Uint16(part[off:]))
				off += 2
				if n == 0 || off+n > len(part) {
					return nil, false
				}
				nals = append(nals, part[off:off+n])
				off += n
			}
		case t == nalFUA:
			if len(part) < 2 {
				return nil, false
			}
			start, end := part[1]&0x80 != 0, part[1]&0x40 != 0
			switch {
			case start && inFU, !start && !inFU:
				return nil, false
			case start:
				fu = []byte{part[0]&0xe0 | part[1]&0x1f}
				inFU = true
			}
			fu = append(fu, part[2:]...)
			if end {
				nals = append(nals, fu)
				fu, inFU = nil, false
			}
		default: // STAP-B, MTAP, FU-B: not in packetization-mode 1
			return nil, false
		}
	}
	if inFU {
		return nil, false
	}
	return nals, true
}

// maxHeldParams bounds the bytes of parameter sets held for the next picture.
const maxHeldParams = 4096

// h264Codec rebuilds access units as length-prefixed NAL units and keeps
// the parameter sets it has seen.
type h264Codec struct {
	sps, pps []byte
	width    int
	height   int
	// params holds parameter sets that came in a frame of their own; they
	// go in front of the next picture so that a decoder sees them in band.
	params []byte
}

func (c *h264Codec) sample(fr frame) (sample, verdict) {
	nals, ok := h264NALs(fr.parts)
	if !ok {
		return sample{}, frameDamaged
	}
	var s sample
	vcl := false
	for _, nal := range nals {
		if len(nal) == 0 {
			continue
		}
		switch nal[0] & 0x1f {
		case nalAUD, nalFiller:
			continue
		case nalSPS:
			c.sps = append([]byte(nil), nal...)
			if w, h, err := parseSPS(nal); err == nil {
				c.width, c.height = w, h
			}
		case nalPPS:
			c.pps = append([]byte(nil), nal...)
		case nalSlice, nalIDR:
			if !vcl {
				vcl = true
				// The access unit must start with the picture's first
				// macroblock; otherwise its first slice was lost.
				if first, ok := firstMBInSlice(nal); !ok || first != 0 {
					return sample{}, frameDamaged
				}
			}
			if nal[0]&0x1f == nalIDR {
				s.key = true
			}
		}
		s.data = binary.BigEndian.AppendUint32(s.data, uint32(len(nal)))
		s.data = append(s.data, nal...)
	}
	if !vcl {
		if len(c.params)+len(s.data) <= maxHeldParams {
			c.params = append(c.params, s.data...)
		}
		return sample{}, frameEmpty
	}
	if c.params != nil {
		s.data = append(c.params, s.data...)
		c.params = nil
	}
	if s.key {
		if c.sps == nil || c.pps == nil {
			s.key = false // cannot be decoded on its own without them
		} else {
			s.sps, s.pps, s.width, s.height = c.sps, c.pps, c.width, c.height
		}
	}
	return s, frameOK
}

// firstMBInSlice reads first_mb_in_slice from a slice NAL unit.
func firstMBInSlice(nal []byte) (uint32, bool) {
	r := newBitReader(nal[1:])
	v := r.ue()
	return v, r.err == nil
}

// opusCodec passes Opus packets through with their duration.
type opusCodec struct{}

func (opusCodec) sample(fr frame) (sample, verdict) {
	data := fr.parts[0]
	dur := opusDuration(data)
	if dur == 0 || dur > audioClock*120/1000 {
		// malformed (an Opus packet holds at most 120 ms): 20 ms,
		// WebRTC's usual packet
		dur = audioClock / 50
	}
	return sample{data: data, key: true, dur: dur}, frameOK
}

// opusDuration is an Opus packet's duration in 48 kHz samples from its
// TOC byte (RFC 6716 section 3.1), or 0 if the packet is malformed.
func opusDuration(p []byte) int64 {
	if len(p) == 0 {
		return 0
	}
	toc := p[0]
	config := int(toc >> 3)
	var frameSamples int64
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frameSamples = []int64{480, 960, 1920, 2880}[config%4]
	case config < 16: // Hybrid: 10, 20 ms
		frameSamples = []int64{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frameSamples = []int64{120, 240, 480, 960}[config%4]
	}
	var frames int64
	switch toc & 0x03 {
	case 0:
		frames = 1
	case 1, 2:
		frames = 2
	default:
		if len(p) < 2 {
			return 0
		}
		frames = int64(p[1] & 0x3f)
	}
	return frames * frameSamples
}
