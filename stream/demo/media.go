package demo

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

//go:generate sh media/gen.sh

// The media were made once by media/gen.sh; media/README.md lists the
// ffmpeg commands.
var (
	//go:embed media/card.ivf
	cardIVF []byte
	//go:embed media/tone.ogg
	toneOgg []byte
)

const (
	// opusFrameSamples is the length of one Opus packet of the tone:
	// 20 ms at 48 kHz.
	opusFrameSamples = AudioClockRate / 50
	// opusFrame is opusFrameSamples as a duration.
	opusFrame = 20 * time.Millisecond
	// videoTicksPerOpusFrame is opusFrame in video clock ticks; the loop
	// must be a whole number of them so both tracks loop together.
	videoTicksPerOpusFrame = VideoClockRate / 50
)

// opusSilence is a 20 ms Opus packet (CELT, fullband, mono, one frame) that
// decodes to silence. It pads the tone if it is shorter than the card.
var opusSilence = []byte{0xf8, 0xff, 0xfe}

// frame is one encoded video frame or audio packet of the loop.
type frame struct {
	data  []byte
	ticks uint32        // duration in the track's RTP clock
	at    time.Duration // offset from the start of the loop
}

// clip is the parsed loop: the video frames and the audio packets that
// cover the same span of time.
type clip struct {
	video  []frame
	audio  []frame
	length time.Duration // loop length, the same for both tracks
}

// parseClip parses a VP8 IVF file and an Opus Ogg file into a clip. The
// audio is trimmed or padded with silence to the length of the video.
func parseClip(ivf, ogg []byte) (clip, error) {
	video, ticks, err := parseIVF(ivf)
	if err != nil {
		return clip{}, fmt.Errorf("parse demo video: %w", err)
	}
	if ticks%videoTicksPerOpusFrame != 0 {
		return clip{}, fmt.Errorf("demo video lasts %d ticks of 90 kHz, not a whole number of 20 ms audio frames: %w",
			ticks, ErrInvalidMedia)
	}
	audio, err := parseOgg(ogg)
	if err != nil {
		return clip{}, fmt.Errorf("parse demo audio: %w", err)
	}
	audio = fitAudio(audio, int(ticks/videoTicksPerOpusFrame))
	return clip{
		video:  video,
		audio:  audio,
		length: ticksToDuration(uint64(ticks), VideoClockRate),
	}, nil
}

// parseIVF reads every frame of a VP8 IVF file and returns the frames with
// their durations in 90 kHz ticks and the total length of the loop. It checks
// that the loop can be repeated seamlessly: the first frame is a keyframe,
// every frame is shown (no alt-ref), timestamps are whole ticks and strictly
// increasing, and keyframes are at most one second apart, also across the
// loop point.
func parseIVF(b []byte) ([]frame, uint32, error) {
	r, hdr, err := ivfreader.NewWith(bytes.NewReader(b))
	if err != nil {
		return nil, 0, fmt.Errorf("read ivf header: %w", err)
	}
	if hdr.FourCC != "VP80" {
		return nil, 0, fmt.Errorf("ivf codec %q, want VP80: %w", hdr.FourCC, ErrInvalidMedia)
	}
	// pion's IVFFrameHeader.Timestamp is pts*rate/scale (TimebaseDenominator
	// holds the IVF rate, TimebaseNumerator the scale). With scale 1, as
	// ffmpeg writes for a 1/fps time base, pts = Timestamp/rate exactly.
	rate, scale := uint64(hdr.TimebaseDenominator), uint64(hdr.TimebaseNumerator)
	if scale != 1 {
		return nil, 0, fmt.Errorf("ivf time base %d/%d, want 1/rate: %w", scale, rate, ErrInvalidMedia)
	}

	var (
		frames []frame
		starts []uint64 // start of each frame in 90 kHz ticks
	)
	for i := 0; ; i++ {
		data, fh, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read ivf frame %d: %w", i, err)
		}
		if len(data) < 3 {
			return nil, 0, fmt.Errorf("ivf frame %d has %d bytes: %w", i, len(data), ErrInvalidMedia)
		}
		if !vp8Shown(data) {
			return nil, 0, fmt.Errorf("ivf frame %d is not shown (alt-ref): %w", i, ErrInvalidMedia)
		}
		if i == 0 && !vp8Keyframe(data) {
			return nil, 0, fmt.Errorf("ivf frame 0 is not a keyframe: %w", ErrInvalidMedia)
		}
		pts := fh.Timestamp / rate
		if (pts*VideoClockRate)%rate != 0 {
			return nil, 0, fmt.Errorf("ivf frame %d at pts %d/%d s is not a whole 90 kHz tick: %w",
				i, pts, rate, ErrInvalidMedia)
		}
		start := pts * VideoClockRate / rate
		if i == 0 && start != 0 {
			return nil, 0, fmt.Errorf("ivf frame 0 at pts %d, want 0: %w", pts, ErrInvalidMedia)
		}
		if n := len(starts); n > 0 && start <= starts[n-1] {
			return nil, 0, fmt.Errorf("ivf frame %d at tick %d, not after tick %d: %w",
				i, start, starts[n-1], ErrInvalidMedia)
		}
		frames = append(frames, frame{data: data, at: ticksToDuration(start, VideoClockRate)})
		starts = append(starts, start)
	}
	if len(frames) == 0 {
		return nil, 0, fmt.Errorf("ivf has no frames: %w", ErrInvalidMedia)
	}

	// The last frame lasts as long as the one before it, or one frame
	// period of the IVF rate if it is the only one.
	last := VideoClockRate / rate
	if n := len(starts); n > 1 {
		last = starts[n-1] - starts[n-2]
	}
	total := starts[len(starts)-1] + last
	if total > 1<<31 {
		return nil, 0, fmt.Errorf("ivf lasts %d ticks, too long for a loop: %w", total, ErrInvalidMedia)
	}
	for i := range frames {
		end := total
		if i+1 < len(frames) {
			end = starts[i+1]
		}
		frames[i].ticks = uint32(end - starts[i])
	}

	// Keyframes at most one second apart, counting the jump from the end
	// of the loop back to frame 0.
	prevKey := uint64(0)
	for i := 1; i <= len(frames); i++ {
		at := total
		if i < len(frames) {
			if !vp8Keyframe(frames[i].data) {
				continue
			}
			at = starts[i]
		}
		if at-prevKey > VideoClockRate {
			where := fmt.Sprintf("frame %d", i)
			if i == len(frames) {
				where = "the loop point"
			}
			return nil, 0, fmt.Errorf("ivf keyframes %.2f s apart before %s, want at most 1 s: %w",
				float64(at-prevKey)/VideoClockRate, where, ErrInvalidMedia)
		}
		prevKey = at
	}
	return frames, uint32(total), nil
}

// vp8Keyframe reports whether a VP8 frame is a keyframe (RFC 6386 section
// 9.1: bit 0 of the frame tag is 0 for keyframes).
func vp8Keyframe(b []byte) bool { return len(b) > 0 && b[0]&0x01 == 0 }

// vp8Shown reports whether a VP8 frame is meant to be displayed (the
// show_frame bit of the frame tag); alt-ref frames are not.
func vp8Shown(b []byte) bool { return len(b) > 0 && b[0]&0x10 != 0 }

// parseOgg reads the Opus packets of an Ogg file. It needs one packet per
// page (ffmpeg -page_duration 20000) and 20 ms packets, and checks both
// against the granule positions, so a page holding several packets is an
// error rather than a garbled stream.
func parseOgg(b []byte) ([]frame, error) {
	r, _, err := oggreader.NewWith(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("read ogg opus header: %w", err)
	}
	type page struct {
		data    []byte
		granule uint64
	}
	var pages []page
	for i := 1; ; i++ { // page 0 was the OpusHead
		data, ph, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read ogg page %d: %w", i, err)
		}
		if _, ok := ph.HeaderType(data); ok {
			continue // OpusTags
		}
		pages = append(pages, page{data: data, granule: ph.GranulePosition})
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("ogg has no audio pages: %w", ErrInvalidMedia)
	}

	frames := make([]frame, 0, len(pages))
	for i, p := range pages {
		n, err := opusSamples(p.data)
		if err != nil {
			return nil, fmt.Errorf("ogg audio page %d: %w", i, err)
		}
		if n != opusFrameSamples {
			return nil, fmt.Errorf("ogg audio page %d holds %d samples, want %d (one 20 ms packet): %w",
				i, n, opusFrameSamples, ErrInvalidMedia)
		}
		// The granule position counts samples up to the end of the page;
		// the last page may be shorter (end trimming).
		want := uint64(i+1) * opusFrameSamples
		if p.granule != want && !(i == len(pages)-1 && p.granule < want && p.granule > want-opusFrameSamples) {
			return nil, fmt.Errorf("ogg audio page %d ends at sample %d, want %d (one 20 ms packet per page): %w",
				i, p.granule, want, ErrInvalidMedia)
		}
		frames = append(frames, frame{data: p.data})
	}
	return frames, nil
}

// fitAudio returns exactly n audio packets: the first n of audio, padded
// with silence if audio is shorter. Packet i starts i×20 ms into the loop.
func fitAudio(audio []frame, n int) []frame {
	out := make([]frame, n)
	for i := range out {
		data := opusSilence
		if i < len(audio) {
			data = audio[i].data
		}
		out[i] = frame{data: data, ticks: opusFrameSamples, at: time.Duration(i) * opusFrame}
	}
	return out
}

// opusSamples returns the number of 48 kHz samples in an Opus packet from
// its TOC byte (RFC 6716 section 3.1).
func opusSamples(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, fmt.Errorf("empty opus packet: %w", ErrInvalidMedia)
	}
	config := int(p[0] >> 3)
	var per int // samples per frame at 48 kHz
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		per = []int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		per = []int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		per = []int{120, 240, 480, 960}[config%4]
	}
	switch p[0] & 0x03 {
	case 0:
		return per, nil
	case 1, 2:
		return 2 * per, nil
	default:
		if len(p) < 2 {
			return 0, fmt.Errorf("opus code 3 packet without frame count: %w", ErrInvalidMedia)
		}
		return int(p[1]&0x3f) * per, nil
	}
}

// ticksToDuration converts a count of clock ticks at rate Hz to a duration,
// exactly to the nanosecond for the loop lengths used here.
func ticksToDuration(ticks, rate uint64) time.Duration {
	return time.Duration(ticks * uint64(time.Second) / rate)
}
