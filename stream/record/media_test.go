package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// Test media: see testdata/README.md for how it was made.

const (
	videoFPS   = 30
	videoStep  = videoClock / videoFPS // RTP ticks per video frame
	audioStep  = audioClock / 50       // RTP ticks per 20 ms Opus packet
	videoFrame = time.Second / videoFPS
	audioFrame = 20 * time.Millisecond
)

// loadVP8 returns the frames of testdata/vp8.ivf.
func loadVP8(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "vp8.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	r, h, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	if h.FourCC != "VP80" {
		t.Fatalf("vp8.ivf FourCC: got %q, want VP80", h.FourCC)
	}
	var frames [][]byte
	for {
		fr, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, fr)
	}
	if len(frames) != 2*videoFPS {
		t.Fatalf("vp8.ivf: got %d frames, want %d", len(frames), 2*videoFPS)
	}
	return frames
}

// loadH264 returns the access units of testdata/h264.h264, each a list
// of NAL units (SPS and PPS before every IDR, SEI in the first).
func loadH264(t *testing.T) [][][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "h264.h264"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	r, err := h264reader.NewReaderWithOptions(f, h264reader.WithIncludeSEI(true))
	if err != nil {
		t.Fatal(err)
	}
	var aus [][][]byte
	var cur [][]byte
	hasVCL := false
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		typ := nal.Data[0] & 0x1f
		vcl := typ == nalSlice || typ == nalIDR
		if hasVCL && (!vcl || firstMB(t, nal.Data) == 0) {
			aus = append(aus, cur)
			cur, hasVCL = nil, false
		}
		cur = append(cur, append([]byte(nil), nal.Data...))
		hasVCL = hasVCL || vcl
	}
	if len(cur) > 0 {
		aus = append(aus, cur)
	}
	if len(aus) != 2*videoFPS {
		t.Fatalf("h264.h264: got %d access units, want %d", len(aus), 2*videoFPS)
	}
	return aus
}

func firstMB(t *testing.T, nal []byte) uint32 {
	t.Helper()
	v, ok := firstMBInSlice(nal)
	if !ok {
		t.Fatal("bad slice header")
	}
	return v
}

// annexB joins NAL units with start codes.
func annexB(nals [][]byte) []byte {
	var b []byte
	for _, n := range nals {
		b = append(b, 0, 0, 0, 1)
		b = append(b, n...)
	}
	return b
}

// avcSample is what the recorder should write for an access unit.
func avcSample(nals [][]byte) []byte {
	var b []byte
	for _, n := range nals {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
	}
	return b
}

// loadOpus returns the Opus packets of testdata/opus.ogg (one per page).
func loadOpus(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "opus.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	var lastGranule uint64
	for {
		p, h, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(p, []byte("OpusTags")) {
			lastGranule = h.GranulePosition
			continue
		}
		if len(pkts) > 0 && h.GranulePosition-lastGranule > uint64(opusDuration(p)) {
			t.Fatalf("opus.ogg page %d holds more than one packet", len(pkts))
		}
		lastGranule = h.GranulePosition
		pkts = append(pkts, p)
	}
	if len(pkts) < 95 {
		t.Fatalf("opus.ogg: got %d packets, want about 100", len(pkts))
	}
	return pkts
}

// tpkt is a test RTP packet with the index of the frame it carries.
type tpkt struct {
	frame int
	p     *rtp.Packet
}

// packetize turns frames into RTP packets starting at the given sequence
// number and timestamp.
func packetize(frames [][]byte, payloader rtp.Payloader, mtu uint16, clock, step uint32, seq uint16, ts uint32) []tpkt {
	pz := rtp.NewPacketizerWithOptions(mtu, payloader, rtp.NewFixedSequencer(seq), clock,
		rtp.WithTimestamp(ts), rtp.WithSSRC(1234), rtp.WithPayloadType(96))
	var out []tpkt
	for i, f := range frames {
		for _, p := range pz.Packetize(f, step) {
			out = append(out, tpkt{frame: i, p: p})
		}
	}
	return out
}

// event is one call of Video or Audio at a time from the start.
type event struct {
	k  kind
	p  *rtp.Packet
	at time.Duration
}

// schedule gives each packet the arrival time of its frame (never earlier
// than the packet before it, so delayed packets arrive late).
func schedule(k kind, pkts []tpkt, start, frameDur time.Duration) []event {
	var out []event
	var last time.Duration
	for _, p := range pkts {
		at := max(start+time.Duration(p.frame)*frameDur, last)
		last = at
		out = append(out, event{k: k, p: p.p, at: at})
	}
	return out
}

// merge puts the events of both tracks in arrival order.
func merge(a, b []event) []event {
	out := append(append([]event(nil), a...), b...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

// Impairments of a track's packet list.

func dropPkts(pkts []tpkt, idx ...int) []tpkt {
	skip := map[int]bool{}
	for _, i := range idx {
		skip[i] = true
	}
	var out []tpkt
	for i, p := range pkts {
		if !skip[i] {
			out = append(out, p)
		}
	}
	return out
}

// delayPkt moves packet i to after the n packets that follow it.
func delayPkt(pkts []tpkt, i, n int) []tpkt {
	out := append([]tpkt(nil), pkts[:i]...)
	out = append(out, pkts[i+1:i+1+n]...)
	out = append(out, pkts[i])
	return append(out, pkts[i+1+n:]...)
}

func dupPkt(pkts []tpkt, i int) []tpkt {
	out := append([]tpkt(nil), pkts[:i+1]...)
	return append(out, pkts[i:]...)
}

// dropFrames drops every packet of the frames from..to-1.
func dropFrames(pkts []tpkt, from, to int) []tpkt {
	var out []tpkt
	for _, p := range pkts {
		if p.frame < from || p.frame >= to {
			out = append(out, p)
		}
	}
	return out
}

// pktOfFrame is the index of the n-th packet of a frame.
func pktOfFrame(t *testing.T, pkts []tpkt, frame, n int) int {
	t.Helper()
	for i, p := range pkts {
		if p.frame == frame {
			if n == 0 {
				return i
			}
			n--
		}
	}
	t.Fatalf("frame %d has too few packets", frame)
	return -1
}

// recorded is a recording read back.
type recorded struct {
	videoCodec, audioCodec string
	width, height          int
	duration               time.Duration // from the header, 0 if absent
	video, audio           []rsample
	avcC                   []byte
	fragments              int
}

// rsample is a frame read back from a file.
type rsample struct {
	at   time.Duration
	dur  time.Duration // MP4 only
	key  bool
	data []byte
}

// webmDoc is what a test reads a WebM file into.
type webmDoc struct {
	Header  webm.EBMLHeader    `ebml:"EBML"`
	Segment webm.SegmentStream `ebml:"Segment"`
}

// readWebM parses a WebM file with ebml-go.
func readWebM(t *testing.T, b []byte) recorded {
	t.Helper()
	var doc webmDoc
	if err := ebml.Unmarshal(bytes.NewReader(b), &doc); err != nil {
		t.Fatalf("parse webm: %v", err)
	}
	if doc.Header.DocType != "webm" {
		t.Fatalf("DocType: got %q, want webm", doc.Header.DocType)
	}
	var rec recorded
	if doc.Segment.Info.TimecodeScale != 1_000_000 {
		t.Fatalf("TimecodeScale: got %d, want 1000000", doc.Segment.Info.TimecodeScale)
	}
	rec.duration = time.Duration(doc.Segment.Info.Duration * float64(time.Millisecond))
	kinds := map[uint64]kind{}
	for _, e := range doc.Segment.Tracks.TrackEntry {
		switch e.TrackType {
		case 1:
			rec.videoCodec = e.CodecID
			kinds[e.TrackNumber] = video
			if e.Video == nil {
				t.Fatal("video track without Video element")
			}
			rec.width, rec.height = int(e.Video.PixelWidth), int(e.Video.PixelHeight)
		case 2:
			rec.audioCodec = e.CodecID
			kinds[e.TrackNumber] = audio
			if !bytes.HasPrefix(e.CodecPrivate, []byte("OpusHead")) || e.Audio == nil || e.Audio.SamplingFrequency != 48000 {
				t.Fatalf("audio track: bad CodecPrivate or Audio: %+v", e)
			}
		}
	}
	for _, c := range doc.Segment.Cluster {
		for _, bl := range c.SimpleBlock {
			k, ok := kinds[bl.TrackNumber]
			if !ok {
				t.Fatalf("block of unknown track %d", bl.TrackNumber)
			}
			if len(bl.Data) != 1 {
				t.Fatalf("block with %d frames", len(bl.Data))
			}
			s := rsample{
				at:   time.Duration(int64(c.Timecode)+int64(bl.Timecode)) * time.Millisecond,
				key:  bl.Keyframe,
				data: bl.Data[0],
			}
			if k == video {
				rec.video = append(rec.video, s)
			} else {
				rec.audio = append(rec.audio, s)
			}
		}
	}
	return rec
}

// mp4Box is a box found by walkBoxes.
type mp4Box struct {
	typ  string
	off  int // of the box in the buffer walked
	body []byte
}

// walkBoxes lists the complete boxes in b; it stops at a box cut short.
func walkBoxes(b []byte) (boxes []mp4Box, complete bool) {
	off := 0
	for off+8 <= len(b) {
		size := int(binary.BigEndian.Uint32(b[off:]))
		if size < 8 || off+size > len(b) {
			return boxes, false
		}
		boxes = append(boxes, mp4Box{typ: string(b[off+4 : off+8]), off: off, body: b[off+8 : off+size]})
		off += size
	}
	return boxes, off == len(b)
}

// find returns the body of the first box on a path of box types.
func find(t *testing.T, b []byte, path ...string) []byte {
	t.Helper()
	for _, typ := range path {
		boxes, _ := walkBoxes(b)
		found := false
		for _, x := range boxes {
			if x.typ == typ {
				b, found = x.body, true
				break
			}
		}
		if !found {
			t.Fatalf("no %s box on path %v", typ, path)
		}
	}
	return b
}

// readMP4 parses a fragmented MP4 file box by box; a last box cut short
// is ignored, as a player would.
func readMP4(t *testing.T, b []byte) recorded {
	t.Helper()
	boxes, _ := walkBoxes(b)
	if len(boxes) < 2 || boxes[0].typ != "ftyp" || boxes[1].typ != "moov" {
		t.Fatalf("file does not start with ftyp, moov")
	}
	var rec recorded
	kinds := map[uint32]kind{}
	scale := map[kind]int64{}
	moov := boxes[1].body
	traks, _ := walkBoxes(moov)
	for _, tr := range traks {
		if tr.typ != "trak" {
			continue
		}
		tkhd := find(t, tr.body, "tkhd")
		id := binary.BigEndian.Uint32(tkhd[12:])
		handler := string(find(t, tr.body, "mdia", "hdlr")[8:12])
		ts := int64(binary.BigEndian.Uint32(find(t, tr.body, "mdia", "mdhd")[12:]))
		stsd := find(t, tr.body, "mdia", "minf", "stbl", "stsd")
		entries, _ := walkBoxes(stsd[8:])
		if len(entries) != 1 {
			t.Fatalf("stsd: got %d entries, want 1", len(entries))
		}
		e := entries[0]
		switch handler {
		case "vide":
			kinds[id], scale[video] = video, ts
			rec.videoCodec = e.typ
			rec.width = int(binary.BigEndian.Uint16(e.body[24:]))
			rec.height = int(binary.BigEndian.Uint16(e.body[26:]))
			rec.avcC = find(t, e.body[78:], "avcC")
		case "soun":
			kinds[id], scale[audio] = audio, ts
			rec.audioCodec = e.typ
			dops := find(t, e.body[28:], "dOps")
			if len(dops) != 11 || dops[1] != 2 || binary.BigEndian.Uint32(dops[4:]) != 48000 {
				t.Fatalf("dOps: got % x", dops)
			}
		default:
			t.Fatalf("unknown handler %q", handler)
		}
	}
	mehd := find(t, moov, "mvex", "mehd")
	rec.duration = time.Duration(binary.BigEndian.Uint64(mehd[4:])) * time.Millisecond

	var seq uint32
	end := map[kind]int64{}
	for i := 2; i < len(boxes); i++ {
		moof := boxes[i]
		if moof.typ != "moof" {
			t.Fatalf("box %d: got %s, want moof", i, moof.typ)
		}
		if i+1 == len(boxes) || boxes[i+1].typ != "mdat" {
			break // the last fragment was cut short
		}
		mdatEnd := boxes[i+1].off + 8 + len(boxes[i+1].body)
		i++
		rec.fragments++
		if s := binary.BigEndian.Uint32(find(t, moof.body, "mfhd")[4:]); s != seq+1 {
			t.Fatalf("mfhd sequence: got %d, want %d", s, seq+1)
		} else {
			seq = s
		}
		trafs, _ := walkBoxes(moof.body)
		for _, traf := range trafs {
			if traf.typ != "traf" {
				continue
			}
			tfhd := find(t, traf.body, "tfhd")
			k, ok := kinds[binary.BigEndian.Uint32(tfhd[4:])]
			if !ok {
				t.Fatal("traf of unknown track")
			}
			if binary.BigEndian.Uint32(tfhd)&0x020000 == 0 {
				t.Fatal("tfhd without default-base-is-moof")
			}
			tfdt := find(t, traf.body, "tfdt")
			dts := int64(binary.BigEndian.Uint64(tfdt[4:]))
			if e, ok := end[k]; ok && dts != e {
				t.Fatalf("%v fragment %d starts at %d, previous ended at %d", k, rec.fragments, dts, e)
			}
			trun := find(t, traf.body, "trun")
			if flags := binary.BigEndian.Uint32(trun) & 0xffffff; flags != 0x701 {
				t.Fatalf("trun flags: got %#x", flags)
			}
			n := int(binary.BigEndian.Uint32(trun[4:]))
			data := moof.off + int(int32(binary.BigEndian.Uint32(trun[8:])))
			for j := range n {
				e := trun[12+12*j:]
				dur := int64(binary.BigEndian.Uint32(e))
				size := int(binary.BigEndian.Uint32(e[4:]))
				flags := binary.BigEndian.Uint32(e[8:])
				if data+size > mdatEnd {
					t.Fatalf("sample data beyond mdat")
				}
				s := rsample{
					at:   time.Duration(dts * int64(time.Second) / scale[k]),
					dur:  time.Duration(dur * int64(time.Second) / scale[k]),
					key:  flags&0x00010000 == 0,
					data: b[data : data+size],
				}
				if k == video {
					rec.video = append(rec.video, s)
				} else {
					rec.audio = append(rec.audio, s)
				}
				data += size
				dts += dur
			}
			end[k] = dts
		}
	}
	return rec
}
