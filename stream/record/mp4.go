package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// mp4FragmentMax is the longest, in ms, that samples are held before a
// fragment is written when no video keyframe comes.
const mp4FragmentMax = 1000

// Sample flags in trun (ISO/IEC 14496-12 section 8.8.3.1).
const (
	flagsSync    = 0x02000000 // depends on no other sample
	flagsNonSync = 0x01010000 // depends on others, not a sync sample
)

// box builds ISO BMFF boxes in a byte slice.
type box struct{ b []byte }

// open starts a box and returns where it starts, for close.
func (x *box) open(typ string) int {
	at := len(x.b)
	x.b = append(x.b, 0, 0, 0, 0)
	x.b = append(x.b, typ...)
	return at
}

// openFull starts a full box (version and flags).
func (x *box) openFull(typ string, version byte, flags uint32) int {
	at := x.open(typ)
	x.u32(uint32(version)<<24 | flags&0xffffff)
	return at
}

func (x *box) close(at int) {
	binary.BigEndian.PutUint32(x.b[at:], uint32(len(x.b)-at))
}

func (x *box) u8(v uint8)     { x.b = append(x.b, v) }
func (x *box) u16(v uint16)   { x.b = binary.BigEndian.AppendUint16(x.b, v) }
func (x *box) u32(v uint32)   { x.b = binary.BigEndian.AppendUint32(x.b, v) }
func (x *box) u64(v uint64)   { x.b = binary.BigEndian.AppendUint64(x.b, v) }
func (x *box) zeros(n int)    { x.b = append(x.b, make([]byte, n)...) }
func (x *box) bytes(v []byte) { x.b = append(x.b, v...) }
func (x *box) str(v string)   { x.b = append(x.b, v...) }
func (x *box) matrix() {
	x.u32(0x00010000)
	x.zeros(12)
	x.u32(0x00010000)
	x.zeros(12)
	x.u32(0x40000000)
}

// mp4Sample is a sample waiting for its fragment.
type mp4Sample struct {
	data    []byte
	dts     int64
	dur     int64 // 0 until the next sample of the track is known
	nominal int64 // duration to use if the sample ends the file
	key     bool
}

// mp4Writer writes H264 and Opus as fragmented MP4: ftyp and moov first,
// then a moof and mdat per fragment, each written whole, starting at every
// video keyframe and at least every mp4FragmentMax.
type mp4Writer struct {
	w        io.Writer
	at       io.WriterAt
	hasAudio bool

	started   bool
	pos       int64 // bytes written
	mehdPos   int64 // file offset of mehd's fragment_duration
	seq       uint32
	pending   [2][]mp4Sample
	fragStart int64 // ms of the earliest held sample; -1 when none is held
	end       [2]int64
	trackID   [2]uint32
	timescale [2]int64
}

func newMP4Writer(w io.Writer, at io.WriterAt, hasAudio bool) *mp4Writer {
	m := &mp4Writer{w: w, at: at, hasAudio: hasAudio, fragStart: -1}
	m.trackID[video], m.timescale[video] = 1, videoClock
	m.trackID[audio], m.timescale[audio] = 2, audioClock
	return m
}

func (m *mp4Writer) ms(k kind, units int64) int64 { return units * 1000 / m.timescale[k] }

func (m *mp4Writer) emit(b []byte) error {
	n, err := m.w.Write(b)
	m.pos += int64(n)
	return err
}

func (m *mp4Writer) write(k kind, s sample) error {
	if !m.started {
		if k != video || !s.key || s.sps == nil || s.pps == nil {
			return errors.New("record: mp4: first frame is not an H264 keyframe with parameter sets")
		}
		init, mehd, err := m.initSegment(s)
		if err != nil {
			return err
		}
		if err := m.emit(init); err != nil {
			return fmt.Errorf("record: write mp4 header: %w", err)
		}
		m.mehdPos = int64(mehd)
		m.started = true
	}
	q := m.pending[k]
	nominal := s.dur
	if n := len(q); n > 0 {
		q[n-1].dur = s.dts - q[n-1].dts
		if k == video {
			nominal = q[n-1].dur
		}
	}
	if nominal <= 0 {
		nominal = m.timescale[k] / 30
	}
	if k == video && s.key && len(q) > 0 {
		if err := m.flush(false); err != nil {
			return err
		}
	}
	m.pending[k] = append(m.pending[k], mp4Sample{data: s.data, dts: s.dts, nominal: nominal, key: s.key})
	now := m.ms(k, s.dts)
	if m.fragStart < 0 {
		m.fragStart = now
	}
	if now-m.fragStart >= mp4FragmentMax {
		return m.flush(false)
	}
	return nil
}

// flush writes a fragment of the samples whose durations are known (all of
// them when final).
func (m *mp4Writer) flush(final bool) error {
	var take [2]int
	total := 0
	for k, q := range m.pending {
		n := 0
		for n < len(q) && q[n].dur > 0 {
			n++
		}
		if final && n < len(q) {
			for i := n; i < len(q); i++ {
				q[i].dur = q[i].nominal
			}
			n = len(q)
		}
		take[k] = n
		total += n
	}
	if total == 0 {
		return nil
	}
	m.seq++
	var x box
	moof := x.open("moof")
	mfhd := x.openFull("mfhd", 0, 0)
	x.u32(m.seq)
	x.close(mfhd)
	var offsets []int // where each traf's trun data_offset goes
	for k, q := range m.pending {
		n := take[k]
		if n == 0 {
			continue
		}
		traf := x.open("traf")
		tfhd := x.openFull("tfhd", 0, 0x020000) // default-base-is-moof
		x.u32(m.trackID[k])
		x.close(tfhd)
		tfdt := x.openFull("tfdt", 1, 0)
		x.u64(uint64(q[0].dts))
		x.close(tfdt)
		// data-offset, sample-duration, sample-size and sample-flags present
		trun := x.openFull("trun", 0, 0x000701)
		x.u32(uint32(n))
		offsets = append(offsets, len(x.b))
		x.u32(0)
		for _, s := range q[:n] {
			x.u32(uint32(s.dur))
			x.u32(uint32(len(s.data)))
			if s.key {
				x.u32(flagsSync)
			} else {
				x.u32(flagsNonSync)
			}
		}
		x.close(trun)
		x.close(traf)
	}
	x.close(moof)
	mdat := x.open("mdat")
	i := 0
	for k, q := range m.pending {
		n := take[k]
		if n == 0 {
			continue
		}
		binary.BigEndian.PutUint32(x.b[offsets[i]:], uint32(len(x.b)-moof))
		i++
		for _, s := range q[:n] {
			x.bytes(s.data)
		}
		last := q[n-1]
		m.end[k] = last.dts + last.dur
	}
	x.close(mdat)
	if err := m.emit(x.b); err != nil {
		return fmt.Errorf("record: write mp4 fragment %d: %w", m.seq, err)
	}
	m.fragStart = -1
	for k, q := range m.pending {
		clear(q[:take[k]])
		m.pending[k] = q[take[k]:]
		if len(m.pending[k]) > 0 {
			t := m.ms(kind(k), m.pending[k][0].dts)
			if m.fragStart < 0 || t < m.fragStart {
				m.fragStart = t
			}
		}
	}
	return nil
}

func (m *mp4Writer) finish() error {
	if !m.started {
		return nil
	}
	if err := m.flush(true); err != nil {
		return err
	}
	var d int64
	for k := range m.end {
		d = max(d, m.ms(kind(k), m.end[k]))
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(d))
	if _, err := m.at.WriteAt(b[:], m.mehdPos); err != nil {
		return fmt.Errorf("record: write mp4 duration: %w", err)
	}
	return nil
}

// initSegment builds ftyp and moov for the tracks, the video sample entry
// from the first keyframe's parameter sets. It returns where mehd's
// fragment_duration is.
func (m *mp4Writer) initSegment(s sample) ([]byte, int, error) {
	avcC, err := avcConfig(s.sps, s.pps)
	if err != nil {
		return nil, 0, err
	}
	var x box
	ftyp := x.open("ftyp")
	x.str("isom")
	x.u32(0x200)
	x.str("isomiso6iso2avc1mp41")
	x.close(ftyp)

	moov := x.open("moov")
	mvhd := x.openFull("mvhd", 0, 0)
	x.u32(0)    // creation_time
	x.u32(0)    // modification_time
	x.u32(1000) // timescale
	x.u32(0)    // duration: see mehd
	x.u32(0x00010000)
	x.u16(0x0100)
	x.zeros(10)
	x.matrix()
	x.zeros(24)
	x.u32(3) // next_track_ID
	x.close(mvhd)

	m.trak(&x, video, s.width, s.height, func() {
		avc1 := x.open("avc1")
		x.zeros(6)
		x.u16(1) // data_reference_index
		x.zeros(16)
		x.u16(uint16(s.width))
		x.u16(uint16(s.height))
		x.u32(0x00480000) // 72 dpi
		x.u32(0x00480000)
		x.u32(0)
		x.u16(1) // frame_count
		x.zeros(32)
		x.u16(0x0018) // depth
		x.u16(0xffff) // pre_defined = -1
		c := x.open("avcC")
		x.bytes(avcC)
		x.close(c)
		x.close(avc1)
	})
	if m.hasAudio {
		m.trak(&x, audio, 0, 0, func() {
			opus := x.open("Opus")
			x.zeros(6)
			x.u16(1) // data_reference_index
			x.zeros(8)
			x.u16(2)  // channelcount
			x.u16(16) // samplesize
			x.u16(0)
			x.u16(0)
			x.u32(audioClock << 16)
			dops := x.open("dOps")
			x.u8(0)  // Version
			x.u8(2)  // OutputChannelCount
			x.u16(0) // PreSkip
			x.u32(audioClock)
			x.u16(0) // OutputGain
			x.u8(0)  // ChannelMappingFamily
			x.close(dops)
			x.close(opus)
		})
	}

	mvex := x.open("mvex")
	mehd := x.openFull("mehd", 1, 0)
	mehdPos := len(x.b)
	x.u64(0)
	x.close(mehd)
	for _, k := range []kind{video, audio} {
		if k == audio && !m.hasAudio {
			continue
		}
		trex := x.openFull("trex", 0, 0)
		x.u32(m.trackID[k])
		x.u32(1) // default_sample_description_index
		x.u32(0)
		x.u32(0)
		x.u32(0)
		x.close(trex)
	}
	x.close(mvex)
	x.close(moov)
	return x.b, mehdPos, nil
}

// trak writes a track box whose sample entry entry writes.
func (m *mp4Writer) trak(x *box, k kind, width, height int, entry func()) {
	trak := x.open("trak")
	tkhd := x.openFull("tkhd", 0, 3) // enabled, in movie
	x.u32(0)
	x.u32(0)
	x.u32(m.trackID[k])
	x.u32(0)
	x.u32(0) // duration
	x.zeros(8)
	x.u16(0) // layer
	x.u16(0) // alternate_group
	if k == audio {
		x.u16(0x0100)
	} else {
		x.u16(0)
	}
	x.u16(0)
	x.matrix()
	x.u32(uint32(width) << 16)
	x.u32(uint32(height) << 16)
	x.close(tkhd)

	mdia := x.open("mdia")
	mdhd := x.openFull("mdhd", 0, 0)
	x.u32(0)
	x.u32(0)
	x.u32(uint32(m.timescale[k]))
	x.u32(0)
	x.u16(0x55c4) // "und"
	x.u16(0)
	x.close(mdhd)
	hdlr := x.openFull("hdlr", 0, 0)
	x.u32(0)
	if k == video {
		x.str("vide")
	} else {
		x.str("soun")
	}
	x.zeros(12)
	if k == video {
		x.str("VideoHandler\x00")
	} else {
		x.str("SoundHandler\x00")
	}
	x.close(hdlr)

	minf := x.open("minf")
	if k == video {
		vmhd := x.openFull("vmhd", 0, 1)
		x.zeros(8)
		x.close(vmhd)
	} else {
		smhd := x.openFull("smhd", 0, 0)
		x.zeros(4)
		x.close(smhd)
	}
	dinf := x.open("dinf")
	dref := x.openFull("dref", 0, 0)
	x.u32(1)
	x.close(x.openFull("url ", 0, 1)) // media in this file
	x.close(dref)
	x.close(dinf)
	stbl := x.open("stbl")
	stsd := x.openFull("stsd", 0, 0)
	x.u32(1)
	entry()
	x.close(stsd)
	for _, t := range []string{"stts", "stsc", "stco"} {
		b := x.openFull(t, 0, 0)
		x.u32(0)
		x.close(b)
	}
	stsz := x.openFull("stsz", 0, 0)
	x.u32(0)
	x.u32(0)
	x.close(stsz)
	x.close(stbl)
	x.close(minf)
	x.close(mdia)
	x.close(trak)
}

// avcConfig builds an AVCDecoderConfigurationRecord (ISO/IEC 14496-15
// section 5.3.3.1) for 4-byte NAL unit lengths.
func avcConfig(sps, pps []byte) ([]byte, error) {
	if len(sps) < 4 || len(pps) < 1 || len(sps) > 0xffff || len(pps) > 0xffff {
		return nil, errors.New("record: avcC: bad parameter sets")
	}
	b := []byte{1, sps[1], sps[2], sps[3], 0xfc | 3, 0xe0 | 1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	b = append(b, pps...)
	switch sps[1] {
	case 100, 110, 122, 144:
		// High profiles: chroma format and bit depths, no SPS extensions.
		chroma, depthLuma, depthChroma := spsChroma(sps)
		b = append(b, 0xfc|chroma, 0xf8|depthLuma, 0xf8|depthChroma, 0)
	}
	return b, nil
}

// spsChroma reads chroma_format_idc and the bit depths (minus 8) of a
// High-profile SPS; it falls back to 4:2:0, 8 bit.
func spsChroma(sps []byte) (chroma, depthLuma, depthChroma byte) {
	r := newBitReader(sps[1:])
	r.u(24)
	r.ue()
	c := r.ue()
	if c == 3 {
		r.flag()
	}
	l, ch := r.ue(), r.ue()
	if r.err != nil || c > 3 || l > 7 || ch > 7 {
		return 1, 0, 0
	}
	return byte(c), byte(l), byte(ch)
}
