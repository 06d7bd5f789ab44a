package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// muxer writes samples of both tracks to a file as they come. The first
// sample written is a video keyframe when the file has video.
type muxer interface {
	write(k kind, s sample) error
	// finish writes what is held back and completes the file's header;
	// it does not close the file.
	finish() error
}

const (
	// webmClusterMax is the longest a WebM cluster runs, in ms, when no
	// video keyframe starts a new one.
	webmClusterMax = 5000
	// webmInterleaveMax is how long, in ms, one track's frames are held
	// waiting for the other track before they are written anyway.
	webmInterleaveMax = 1000
	// opusSeekPreRoll is the pre-roll a decoder needs after a seek (ns).
	opusSeekPreRoll = 80_000_000
)

// webmInfo is the Segment Info with a Void that finish overwrites with
// the Duration once it is known. A file cut short keeps the Void and is
// read as a live stream.
type webmInfo struct {
	TimecodeScale uint64    `ebml:"TimecodeScale"`
	MuxingApp     string    `ebml:"MuxingApp"`
	WritingApp    string    `ebml:"WritingApp"`
	DateUTC       time.Time `ebml:"DateUTC"`
	Void          []byte    `ebml:"Void"`
}

type webmHeader struct {
	Header  webm.EBMLHeader `ebml:"EBML"`
	Segment struct {
		Info   webmInfo    `ebml:"Info"`
		Tracks webm.Tracks `ebml:"Tracks"`
	} `ebml:"Segment,size=unknown"`
}

type webmCluster struct {
	Cluster struct {
		Timecode uint64 `ebml:"Timecode"`
	} `ebml:"Cluster,size=unknown"`
}

type webmSimpleBlock struct {
	Block ebml.Block `ebml:"SimpleBlock"`
}

// durationVoid is the Void element reserved for Duration: ID 0xEC, size 9,
// nine zero bytes; a Duration element (ID 0x4489, size 8, float64) has
// the same 11 bytes.
var durationVoid = []byte{0xec, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0}

// webmFrame is a frame waiting to be interleaved.
type webmFrame struct {
	k    kind
	tc   int64 // ms from the file's zero
	key  bool
	data []byte
}

// webmWriter writes VP8 and Opus to WebM as a live stream: unknown-size
// Segment and Clusters, one SimpleBlock per frame, each element written
// whole, so the file is valid up to its last block whenever it stops.
type webmWriter struct {
	w        io.Writer
	at       io.WriterAt
	hasTrack [2]bool
	number   [2]uint64 // track numbers
	date     time.Time

	started     bool
	durationPos int64
	pending     [2][]webmFrame
	inCluster   bool
	clusterTC   int64
	lastTC      [2]int64
	lastStep    [2]int64 // ms between a track's last two frames
	seen        [2]bool  // a frame of the track was given to write
	buf         bytes.Buffer
}

func newWebMWriter(w io.Writer, at io.WriterAt, hasVideo, hasAudio bool, date time.Time) *webmWriter {
	m := &webmWriter{w: w, at: at, date: date, durationPos: -1}
	m.hasTrack[video], m.hasTrack[audio] = hasVideo, hasAudio
	n := uint64(1)
	for _, k := range []kind{video, audio} {
		if m.hasTrack[k] {
			m.number[k] = n
			n++
		}
	}
	return m
}

// opusHead is the Opus identification header (RFC 7845 section 5.1) used
// as CodecPrivate: two channels (mono packets decode to both), no
// pre-skip, 48 kHz, no gain, mapping family 0.
func opusHead() []byte {
	b := []byte("OpusHead")
	b = append(b, 1, 2)                                 // version, channels
	b = binary.LittleEndian.AppendUint16(b, 0)          // pre-skip
	b = binary.LittleEndian.AppendUint32(b, audioClock) // input sample rate
	b = binary.LittleEndian.AppendUint16(b, 0)          // output gain
	return append(b, 0)                                 // channel mapping family
}

func (m *webmWriter) writeHeader(s sample) error {
	var h webmHeader
	h.Header = webm.EBMLHeader{
		EBMLVersion: 1, EBMLReadVersion: 1, EBMLMaxIDLength: 4, EBMLMaxSizeLength: 8,
		DocType: "webm", DocTypeVersion: 4, DocTypeReadVersion: 2,
	}
	h.Segment.Info = webmInfo{
		TimecodeScale: 1_000_000, // ms
		MuxingApp:     "govlive",
		WritingApp:    "govlive",
		DateUTC:       m.date,
		Void:          make([]byte, 9),
	}
	if m.hasTrack[video] {
		h.Segment.Tracks.TrackEntry = append(h.Segment.Tracks.TrackEntry, webm.TrackEntry{
			Name: "video", TrackNumber: m.number[video], TrackUID: m.number[video],
			CodecID: "V_VP8", TrackType: 1,
			Video: &webm.Video{PixelWidth: uint64(s.width), PixelHeight: uint64(s.height)},
		})
	}
	if m.hasTrack[audio] {
		h.Segment.Tracks.TrackEntry = append(h.Segment.Tracks.TrackEntry, webm.TrackEntry{
			Name: "audio", TrackNumber: m.number[audio], TrackUID: m.number[audio],
			CodecID: "A_OPUS", TrackType: 2, CodecPrivate: opusHead(),
			SeekPreRoll: opusSeekPreRoll,
			Audio:       &webm.Audio{SamplingFrequency: audioClock, Channels: 2},
		})
	}
	m.buf.Reset()
	if err := ebml.Marshal(&h, &m.buf); err != nil {
		return fmt.Errorf("record: webm header: %w", err)
	}
	if i := bytes.Index(m.buf.Bytes(), durationVoid); i >= 0 {
		m.durationPos = int64(i)
	}
	if _, err := m.w.Write(m.buf.Bytes()); err != nil {
		return fmt.Errorf("record: write webm header: %w", err)
	}
	m.started = true
	return nil
}

func (m *webmWriter) write(k kind, s sample) error {
	if !m.started {
		if m.hasTrack[video] && (k != video || !s.key) {
			return errors.New("record: webm: first frame is not a video keyframe")
		}
		if err := m.writeHeader(s); err != nil {
			return err
		}
	}
	clock := int64(audioClock)
	if k == video {
		clock = videoClock
	}
	tc := (s.dts*1000 + clock/2) / clock
	if m.seen[k] {
		// a track's timecodes increase, as its timestamps do, even where
		// two of them round to the same millisecond
		tc = max(tc, m.lastTC[k]+1)
		m.lastStep[k] = tc - m.lastTC[k]
	}
	m.lastTC[k], m.seen[k] = tc, true
	if k == audio && s.dur > 0 {
		m.lastStep[k] = (s.dur*1000 + clock/2) / clock
	}
	m.pending[k] = append(m.pending[k], webmFrame{k: k, tc: tc, key: s.key, data: s.data})
	return m.release(false)
}

// release writes the held frames that can be written in timestamp order:
// the earlier head of the two tracks while both have frames, a lone
// track's frames once they run webmInterleaveMax ahead, everything when
// final.
func (m *webmWriter) release(final bool) error {
	for {
		v, a := m.pending[video], m.pending[audio]
		var k kind
		switch {
		case len(v) > 0 && len(a) > 0:
			k = video
			if a[0].tc <= v[0].tc {
				k = audio
			}
		case len(v) > 0:
			k = video
		case len(a) > 0:
			k = audio
		default:
			return nil
		}
		q := m.pending[k]
		other := video
		if k == video {
			other = audio
		}
		if m.hasTrack[other] && len(m.pending[other]) == 0 && !final &&
			q[len(q)-1].tc-q[0].tc < webmInterleaveMax {
			return nil // wait for the other track
		}
		if err := m.writeBlock(q[0]); err != nil {
			return err
		}
		q[0] = webmFrame{}
		m.pending[k] = q[1:]
	}
}

func (m *webmWriter) writeBlock(f webmFrame) error {
	m.buf.Reset()
	// A block's timecode is an int16 of ms from its cluster's.
	if !m.inCluster || (f.k == video && f.key) ||
		f.tc-m.clusterTC >= webmClusterMax || f.tc-m.clusterTC < math.MinInt16 {
		var c webmCluster
		c.Cluster.Timecode = uint64(f.tc)
		if err := ebml.Marshal(&c, &m.buf); err != nil {
			return fmt.Errorf("record: webm cluster: %w", err)
		}
		m.inCluster, m.clusterTC = true, f.tc
	}
	b := webmSimpleBlock{Block: ebml.Block{
		TrackNumber: m.number[f.k],
		Timecode:    int16(f.tc - m.clusterTC),
		Keyframe:    f.key,
		Data:        [][]byte{f.data},
	}}
	if err := ebml.Marshal(&b, &m.buf); err != nil {
		return fmt.Errorf("record: webm block: %w", err)
	}
	if _, err := m.w.Write(m.buf.Bytes()); err != nil {
		return fmt.Errorf("record: write webm block: %w", err)
	}
	return nil
}

func (m *webmWriter) finish() error {
	if !m.started {
		return nil
	}
	if err := m.release(true); err != nil {
		return err
	}
	if m.durationPos < 0 {
		return nil
	}
	var end int64
	for k := range m.lastTC {
		if m.seen[k] {
			end = max(end, m.lastTC[k]+m.lastStep[k])
		}
	}
	d := []byte{0x44, 0x89, 0x88}
	d = binary.BigEndian.AppendUint64(d, math.Float64bits(float64(end)))
	if _, err := m.at.WriteAt(d, m.durationPos); err != nil {
		return fmt.Errorf("record: write webm duration: %w", err)
	}
	return nil
}
