package record

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// TestTimestampJumpBeforeFirstKeyframe: delta frames, then a video
// timestamp jump of 20 s, then keyframes: the file starts at the first
// keyframe (its arrival), not in the future, and the recording succeeds.
func TestTimestampJumpBeforeFirstKeyframe(t *testing.T) {
	frames := loadVP8(t) // keyframes at 0 and 30
	pkts := packetize(frames, &codecs.VP8Payloader{}, 1200, 90000, 3000, 100, 1000)
	// frames 1..29 are delta frames sent first; then the timestamps jump by
	// 20 s and frames 30.. (from a keyframe) follow
	var evs []event
	for _, p := range pkts {
		if p.frame == 0 {
			continue
		}
		if p.frame >= 30 {
			p.p.Timestamp += 20 * 90000
		}
		evs = append(evs, event{k: video, p: p.p, at: time.Duration(p.frame) * time.Second / 30})
	}
	var asked atomic.Int32
	dir := t.TempDir()
	clock := &fakeClock{t: testStart}
	r, err := Start(Params{Dir: dir, Session: "s", Anchor: "a", Start: testStart, VideoMime: webrtc.MimeTypeVP8,
		Log: testLogger(t), QueueLen: 8192, Now: clock.Now, RequestKeyframe: func() { asked.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run(context.Background()) }()
	for _, e := range evs {
		clock.t = testStart.Add(e.at)
		r.Video(e.p)
	}
	waitProcessed(t, r, uint64(len(evs)))
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	rec := readRecording(t, filepath.Join(dir, "s", r.File().Name))
	if len(rec.video) != len(frames)-30 {
		t.Fatalf("recorded %d video frames, want %d (from the keyframe after the jump)", len(rec.video), len(frames)-30)
	}
	if !rec.video[0].key || rec.video[0].at != 0 {
		t.Fatalf("first frame %+v, want a keyframe at 0", rec.video[0])
	}
	if asked.Load() == 0 {
		t.Fatal("the recorder waited for a keyframe without asking for one")
	}
}

// TestFrameSizeBounded: packets of one timestamp without a marker do not
// grow a frame without end.
func TestFrameSizeBounded(t *testing.T) {
	a := &assembler{isStart: func([]byte) bool { return true }}
	payload := make([]byte, 1000)
	var discarded uint64
	for i := range maxFrameParts + 10 {
		_, d := a.push(packet{seq: uint16(i), ts: 5, payload: payload}, 5, false)
		discarded += d
	}
	if discarded == 0 || (a.cur != nil && len(a.cur.parts) > maxFrameParts) {
		t.Fatalf("a frame of %d packets kept (discarded %d)", maxFrameParts+10, discarded)
	}
}

// TestLongRecordingClock: conversions stay exact past 28 hours (where
// nanoseconds × 90 kHz overflows int64).
func TestLongRecordingClock(t *testing.T) {
	for _, h := range []int64{1, 29, 200} {
		d := time.Duration(h) * time.Hour
		if got, want := durationToUnits(d, 90000), h*3600*90000; got != want {
			t.Errorf("durationToUnits(%dh) = %d, want %d", h, got, want)
		}
		if got := durationToUnits(-d, 48000); got != -h*3600*48000 {
			t.Errorf("durationToUnits(-%dh) = %d", h, got)
		}
		if got := unitsToDuration(h*3600*90000, 90000); got != d {
			t.Errorf("unitsToDuration(%dh) = %v", h, got)
		}
	}
}

// videoPackets packetizes the test video of a codec.
func videoPackets(t *testing.T, mime string) []tpkt {
	t.Helper()
	if mime == webrtc.MimeTypeVP8 {
		return packetize(loadVP8(t), &codecs.VP8Payloader{}, 300, videoClock, videoStep, 100, 1000)
	}
	var frames [][]byte
	for _, au := range loadH264(t) {
		frames = append(frames, annexB(au))
	}
	return packetize(frames, &codecs.H264Payloader{}, 300, videoClock, videoStep, 100, 1000)
}

// TestTimestampsGoBack: the video clock steps 2 s back at the second
// keyframe (a sender that restarted its timestamps, by less than
// reanchorAfter). The frames after it keep their spacing; they were
// pushed one clock unit after each other until the clock caught up (60
// frames in 11 µs steps in MP4, on one millisecond in WebM).
func TestTimestampsGoBack(t *testing.T) {
	for _, sc := range []scenario{
		{name: "h264", videoMime: webrtc.MimeTypeH264, wantExt: extMP4},
		{name: "vp8", videoMime: webrtc.MimeTypeVP8, wantExt: extWebM},
	} {
		t.Run(sc.name, func(t *testing.T) {
			pkts := videoPackets(t, sc.videoMime)
			for _, p := range pkts {
				if p.frame >= 30 {
					p.p.Timestamp -= 2 * videoClock
				}
			}
			path, _ := record(t, t.TempDir(), sc, schedule(video, pkts, 0, videoFrame))
			rec := readRecording(t, path)
			if len(rec.video) != 60 {
				t.Fatalf("recorded %d video frames, want 60", len(rec.video))
			}
			for i := 1; i < len(rec.video); i++ {
				if d := rec.video[i].at - rec.video[i-1].at; d < videoFrame-time.Millisecond || d > videoFrame+time.Millisecond {
					t.Fatalf("video frame %d at %v, %v after the one before; want about %v", i, rec.video[i].at, d, videoFrame)
				}
			}
		})
	}
}

// TestWebMTimecodesIncrease: two frames of a track less than a
// millisecond apart get distinct block timecodes, as their timestamps
// are distinct.
func TestWebMTimecodesIncrease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "close.webm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	frames := loadVP8(t)
	m := newWebMWriter(f, f, true, false, testStart)
	for i, dts := range []int64{0, 30, 3000, 3030} { // 0, 0.3, 33.3, 33.7 ms
		if err := m.write(video, sample{data: frames[i], key: i == 0, dts: dts, width: 160, height: 120}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.finish(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	rec := readRecording(t, path)
	var got []time.Duration
	for _, s := range rec.video {
		got = append(got, s.at)
	}
	want := []time.Duration{0, time.Millisecond, 33 * time.Millisecond, 34 * time.Millisecond}
	if !slices.Equal(got, want) {
		t.Fatalf("block timecodes %v, want %v", got, want)
	}
}
