package record

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"govlive/browsertest"
)

var testStart = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// fakeClock is Params.Now for tests; only the feeding goroutine uses it.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// scenario is a publication fed to a Recorder and what the file must hold.
type scenario struct {
	name                 string
	videoMime, audioMime string
	h264NoStapA          bool
	videoSeq, audioSeq   uint16
	videoTS, audioTS     uint32
	audioDelay           time.Duration // audio's first packet arrives this much after video's
	impairVideo          func(t *testing.T, p []tpkt) []tpkt
	impairAudio          func(t *testing.T, p []tpkt) []tpkt
	lostParamSets        int // H264: the SPS/PPS packet of this frame is lost (0: none)

	wantExt    string
	wantVideo  int // video frames written
	firstVideo int // source index of the first one
	wantAudio  int // audio frames written, give or take one
}

// source is the media a scenario sends and the samples expected back.
type source struct {
	video    [][]byte // expected sample data per frame
	videoKey []bool
	audio    [][]byte
	events   []event
}

func buildSource(t *testing.T, sc scenario) source {
	t.Helper()
	var src source
	var vp, ap []tpkt
	switch sc.videoMime {
	case webrtc.MimeTypeVP8:
		frames := loadVP8(t)
		for _, f := range frames {
			src.video = append(src.video, f)
			src.videoKey = append(src.videoKey, f[0]&1 == 0)
		}
		vp = packetize(frames, &codecs.VP8Payloader{}, 300, videoClock, videoStep, sc.videoSeq, sc.videoTS)
	case webrtc.MimeTypeH264:
		aus := loadH264(t)
		var frames [][]byte
		for _, au := range aus {
			frames = append(frames, annexB(au))
			if sc.lostParamSets > 0 && len(frames)-1 == sc.lostParamSets {
				src.video = append(src.video, avcSample(au[2:]))
			} else {
				src.video = append(src.video, avcSample(au))
			}
			key := false
			for _, n := range au {
				key = key || n[0]&0x1f == nalIDR
			}
			src.videoKey = append(src.videoKey, key)
		}
		vp = packetize(frames, &codecs.H264Payloader{DisableStapA: sc.h264NoStapA}, 300, videoClock, videoStep, sc.videoSeq, sc.videoTS)
	}
	if sc.audioMime != "" {
		src.audio = loadOpus(t)
		ap = packetize(src.audio, &codecs.OpusPayloader{}, 1200, audioClock, audioStep, sc.audioSeq, sc.audioTS)
	}
	if sc.impairVideo != nil {
		vp = sc.impairVideo(t, vp)
	}
	if sc.impairAudio != nil {
		ap = sc.impairAudio(t, ap)
	}
	src.events = merge(schedule(video, vp, 0, videoFrame), schedule(audio, ap, sc.audioDelay, audioFrame))
	return src
}

// record feeds events to a new Recorder with Run going, closes it and
// returns the file.
func record(t *testing.T, dir string, sc scenario, events []event) (string, Stats) {
	t.Helper()
	clock := &fakeClock{t: testStart}
	r, err := Start(Params{
		Dir: dir, Session: "课程-1", Anchor: "主播A", Start: testStart,
		VideoMime: sc.videoMime, AudioMime: sc.audioMime,
		Log: testLogger(t), QueueLen: 8192, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run(context.Background()) }()
	for _, e := range events {
		clock.t = testStart.Add(e.at)
		if e.k == video {
			r.Video(e.p)
		} else {
			r.Audio(e.p)
		}
	}
	// Let Run do the work (Close would do it if Run had not started).
	waitProcessed(t, r, uint64(len(events)))
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	path := filepath.Join(dir, sanitize("课程-1"), r.File().Name)
	if !strings.HasSuffix(path, sc.wantExt) {
		t.Fatalf("file %s: want extension %s", path, sc.wantExt)
	}
	return path, r.Stats()
}

// waitProcessed waits until Run has taken n packets off the queues.
func waitProcessed(t *testing.T, r *Recorder, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.processed.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("Run processed %d of %d packets", r.processed.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func readRecording(t *testing.T, path string) recorded {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, extWebM) {
		return readWebM(t, b)
	}
	return readMP4(t, b)
}

// checkRecording checks what is in a file against the source.
func checkRecording(t *testing.T, sc scenario, src source, rec recorded, complete bool) {
	t.Helper()
	isMP4 := sc.wantExt == extMP4
	if sc.videoMime != "" {
		want := "V_VP8"
		if isMP4 {
			want = "avc1"
		}
		if rec.videoCodec != want {
			t.Errorf("video codec: got %q, want %q", rec.videoCodec, want)
		}
		if rec.width != 160 || rec.height != 120 {
			t.Errorf("picture: got %dx%d, want 160x120", rec.width, rec.height)
		}
	} else if rec.videoCodec != "" {
		t.Errorf("video codec: got %q, want none", rec.videoCodec)
	}
	if sc.audioMime != "" {
		want := "A_OPUS"
		if isMP4 {
			want = "Opus"
		}
		if rec.audioCodec != want {
			t.Errorf("audio codec: got %q, want %q", rec.audioCodec, want)
		}
	} else if rec.audioCodec != "" {
		t.Errorf("audio codec: got %q, want none", rec.audioCodec)
	}

	if complete && len(rec.video) != sc.wantVideo {
		t.Errorf("video frames: got %d, want %d", len(rec.video), sc.wantVideo)
	}
	for i, s := range rec.video {
		if i == 0 && (!s.key || s.at != 0) {
			t.Errorf("first video frame: key %v at %v, want a keyframe at 0", s.key, s.at)
		}
		if i > 0 && s.at <= rec.video[i-1].at {
			t.Errorf("video frame %d at %v, not after %v", i, s.at, rec.video[i-1].at)
		}
		idx := sc.firstVideo + int((s.at+videoFrame/2)/videoFrame)
		if idx >= len(src.video) {
			t.Errorf("video frame %d at %v: beyond the source", i, s.at)
			continue
		}
		if !bytes.Equal(s.data, src.video[idx]) {
			t.Errorf("video frame %d at %v: data differs from source frame %d", i, s.at, idx)
		}
		if s.key != src.videoKey[idx] {
			t.Errorf("video frame %d: key %v, want %v", i, s.key, src.videoKey[idx])
		}
		if isMP4 && s.dur != videoFrame {
			t.Errorf("video frame %d: duration %v, want %v", i, s.dur, videoFrame)
		}
	}

	if complete && (len(rec.audio) < sc.wantAudio-1 || len(rec.audio) > sc.wantAudio+1) {
		t.Errorf("audio frames: got %d, want %d±1", len(rec.audio), sc.wantAudio)
	}
	known := map[string]bool{}
	for _, p := range src.audio {
		known[string(p)] = true
	}
	for i, s := range rec.audio {
		if i > 0 && s.at <= rec.audio[i-1].at {
			t.Errorf("audio frame %d at %v, not after %v", i, s.at, rec.audio[i-1].at)
		}
		if !known[string(s.data)] {
			t.Errorf("audio frame %d: not a source packet", i)
		}
	}
	if len(rec.audio) > 0 {
		// The tracks are lined up by the arrival of their first packets.
		want := sc.audioDelay - time.Duration(sc.firstVideo)*videoFrame
		for want < 0 {
			want += audioFrame
		}
		if sc.videoMime == "" {
			want = 0
		}
		if d := rec.audio[0].at - want; d < -2*time.Millisecond || d > 2*time.Millisecond {
			t.Errorf("first audio frame at %v, want %v", rec.audio[0].at, want)
		}
	}

	if complete {
		var want time.Duration
		if n := len(rec.video); n > 0 {
			want = rec.video[n-1].at + videoFrame
		}
		if n := len(rec.audio); n > 0 {
			want = max(want, rec.audio[n-1].at+audioFrame)
		}
		if d := rec.duration - want; d < -40*time.Millisecond || d > 40*time.Millisecond {
			t.Errorf("duration in header: got %v, want about %v", rec.duration, want)
		}
	}
}

func scenarios() []scenario {
	vp8 := webrtc.MimeTypeVP8
	h264 := webrtc.MimeTypeH264
	opus := webrtc.MimeTypeOpus
	return []scenario{
		{
			name: "vp8 opus clean, sequence and timestamps wrap", videoMime: vp8, audioMime: opus,
			videoSeq: 65500, videoTS: 0xffffffff - 20*videoStep, audioSeq: 65530, audioTS: 0xffffffff - 30*audioStep,
			wantExt: extWebM, wantVideo: 60, wantAudio: 101,
		},
		{
			name: "vp8 opus audio starts 200ms late", videoMime: vp8, audioMime: opus,
			videoSeq: 100, videoTS: 5, audioSeq: 7, audioTS: 123456, audioDelay: 200 * time.Millisecond,
			wantExt: extWebM, wantVideo: 60, wantAudio: 101,
		},
		{
			name: "vp8 reordered and duplicated packets", videoMime: vp8, audioMime: opus,
			videoSeq: 65530, audioSeq: 65535,
			impairVideo: func(t *testing.T, p []tpkt) []tpkt {
				p = delayPkt(p, pktOfFrame(t, p, 5, 0), 3)    // a frame's first packet after the rest
				p = delayPkt(p, pktOfFrame(t, p, 21, 0)-1, 1) // frame 20's last (marker) after frame 21's first
				p = dupPkt(p, pktOfFrame(t, p, 40, 1))
				return delayPkt(p, pktOfFrame(t, p, 31, 0), 20)
			},
			impairAudio: func(t *testing.T, p []tpkt) []tpkt {
				return dupPkt(delayPkt(p, 20, 2), 60)
			},
			wantExt: extWebM, wantVideo: 60, wantAudio: 101,
		},
		{
			name: "vp8 loses a packet mid-frame, waits for the next keyframe", videoMime: vp8, audioMime: opus,
			impairVideo: func(t *testing.T, p []tpkt) []tpkt { return dropPkts(p, pktOfFrame(t, p, 10, 1)) },
			impairAudio: func(t *testing.T, p []tpkt) []tpkt { return dropPkts(p, 10, 11, 50) },
			wantExt:     extWebM, wantVideo: 40, wantAudio: 98,
		},
		{
			name: "vp8 loses a frame's marker packet", videoMime: vp8,
			impairVideo: func(t *testing.T, p []tpkt) []tpkt { return dropPkts(p, pktOfFrame(t, p, 16, 0)-1) },
			wantExt:     extWebM, wantVideo: 45,
		},
		{
			name: "vp8 loses a whole frame", videoMime: vp8, audioMime: opus,
			impairVideo: func(t *testing.T, p []tpkt) []tpkt { return dropFrames(p, 40, 41) },
			wantExt:     extWebM, wantVideo: 40, wantAudio: 101,
		},
		{
			name: "vp8 joined mid-GOP starts at the next keyframe", videoMime: vp8, audioMime: opus,
			impairVideo: func(t *testing.T, p []tpkt) []tpkt { return dropFrames(p, 0, 5) },
			wantExt:     extWebM, wantVideo: 30, firstVideo: 30, wantAudio: 51,
		},
		{
			name: "opus only", audioMime: opus, audioSeq: 65500, audioTS: 0xffffff00,
			wantExt: extWebM, wantAudio: 101,
		},
		{
			name: "h264 opus clean, STAP-A and FU-A, wraps", videoMime: h264, audioMime: opus,
			videoSeq: 65400, videoTS: 0xffffffff - 45*videoStep, audioSeq: 65500, audioTS: 0xfffffff0,
			wantExt: extMP4, wantVideo: 60, wantAudio: 101,
		},
		{
			name: "h264 single-NAL SPS and PPS, audio late", videoMime: h264, audioMime: opus, h264NoStapA: true,
			audioDelay: 130 * time.Millisecond,
			wantExt:    extMP4, wantVideo: 60, wantAudio: 101,
		},
		{
			name: "h264 reordered", videoMime: h264, audioMime: opus,
			impairVideo: func(t *testing.T, p []tpkt) []tpkt {
				p = delayPkt(p, pktOfFrame(t, p, 0, 1), 2) // inside the first IDR's FU-A
				return delayPkt(p, pktOfFrame(t, p, 31, 0)-1, 1)
			},
			wantExt: extMP4, wantVideo: 60, wantAudio: 101,
		},
		{
			name: "h264 loses an FU-A fragment of the first IDR", videoMime: h264, audioMime: opus,
			impairVideo: func(t *testing.T, p []tpkt) []tpkt { return dropPkts(p, pktOfFrame(t, p, 0, 3)) },
			wantExt:     extMP4, wantVideo: 30, firstVideo: 30, wantAudio: 51,
		},
		{
			name: "h264 loses the SPS/PPS packet of the second IDR", videoMime: h264,
			impairVideo:   func(t *testing.T, p []tpkt) []tpkt { return dropPkts(p, pktOfFrame(t, p, 30, 0)) },
			lostParamSets: 30,
			// The IDR still decodes with the parameter sets already known.
			wantExt: extMP4, wantVideo: 60,
		},
		{
			// a sender that sets the marker on every packet (one per NAL
			// unit or slice): the packets of one timestamp are still one
			// access unit, one sample
			name: "h264 marker on every packet", videoMime: h264, audioMime: opus,
			impairVideo: markEvery,
			wantExt:     extMP4, wantVideo: 60, wantAudio: 101,
		},
		{
			name: "vp8 marker on every packet", videoMime: vp8, audioMime: opus,
			impairVideo: markEvery,
			wantExt:     extWebM, wantVideo: 60, wantAudio: 101,
		},
		{
			name: "h264 loses a delta frame packet", videoMime: h264, audioMime: opus,
			impairVideo: func(t *testing.T, p []tpkt) []tpkt { return dropPkts(p, pktOfFrame(t, p, 45, 0)) },
			wantExt:     extMP4, wantVideo: 45, wantAudio: 101,
		},
	}
}

// markEvery sets the marker bit on every packet.
func markEvery(_ *testing.T, p []tpkt) []tpkt {
	for _, x := range p {
		x.p.Marker = true
	}
	return p
}

func TestRecord(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			src := buildSource(t, sc)
			path, st := record(t, t.TempDir(), sc, src.events)
			rec := readRecording(t, path)
			checkRecording(t, sc, src, rec, true)
			if st.VideoFrames != uint64(len(rec.video)) || st.AudioFrames != uint64(len(rec.audio)) {
				t.Errorf("stats frames: got %d video %d audio, file has %d and %d",
					st.VideoFrames, st.AudioFrames, len(rec.video), len(rec.audio))
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Bytes != info.Size() {
				t.Errorf("stats bytes: got %d, file has %d", st.Bytes, info.Size())
			}
			if st.VideoDropped != 0 || st.AudioDropped != 0 {
				t.Errorf("queue drops: got %d video %d audio, want none", st.VideoDropped, st.AudioDropped)
			}
			if sc.wantExt == extMP4 && rec.fragments < 2 {
				t.Errorf("fragments: got %d, want at least 2", rec.fragments)
			}
		})
	}
}

// TestRecordPlayable checks the files with FFmpeg when it is installed:
// they must decode without a single error.
func TestRecordPlayable(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		if browsertest.Required() {
			t.Fatalf("GOVLIVE_BROWSER_TESTS=required (CI installs ffmpeg), but: %v", err)
		}
		t.Skip("ffmpeg not installed")
	}
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			src := buildSource(t, sc)
			path, _ := record(t, t.TempDir(), sc, src.events)
			out, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("ffmpeg decoding %s: %v\n%s", filepath.Base(path), err, out)
			}
		})
	}
}

// TestRecordKilled reads a file while its publisher is still sending, as
// a crash would leave it: it must be valid up to the last cluster or
// fragment written.
func TestRecordKilled(t *testing.T) {
	for _, sc := range scenarios() {
		if sc.impairVideo != nil || sc.impairAudio != nil {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			src := buildSource(t, sc)
			clock := &fakeClock{t: testStart}
			dir := t.TempDir()
			r, err := Start(Params{
				Dir: dir, Session: "s", Anchor: "a", VideoMime: sc.videoMime, AudioMime: sc.audioMime,
				Log: testLogger(t), QueueLen: 8192, Now: clock.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			runErr := make(chan error, 1)
			go func() { runErr <- r.Run(ctx) }()
			t.Cleanup(func() {
				cancel()
				if err := <-runErr; err != nil {
					t.Errorf("Run: %v", err)
				}
				if err := r.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			fed := 0
			for _, e := range src.events {
				if e.at >= 1500*time.Millisecond {
					break
				}
				clock.t = testStart.Add(e.at)
				if e.k == video {
					r.Video(e.p)
				} else {
					r.Audio(e.p)
				}
				fed++
			}
			waitProcessed(t, r, uint64(fed))
			b, err := os.ReadFile(filepath.Join(dir, "s", r.File().Name))
			if err != nil {
				t.Fatal(err)
			}
			var rec recorded
			if sc.wantExt == extWebM {
				rec = readWebM(t, b)
				if rec.duration != 0 {
					t.Errorf("duration of an unfinished file: got %v, want none", rec.duration)
				}
			} else {
				rec = readMP4(t, b)
				if rec.fragments < 1 {
					t.Fatalf("fragments: got %d, want at least 1", rec.fragments)
				}
				if _, complete := walkBoxes(b); !complete {
					t.Errorf("file ends inside a box")
				}
				// Cut short inside its last fragment, the file still
				// reads up to the fragment before.
				cut := readMP4(t, b[:len(b)-5])
				if cut.fragments != rec.fragments-1 {
					t.Errorf("cut file: got %d fragments, want %d", cut.fragments, rec.fragments-1)
				}
			}
			checkRecording(t, sc, src, rec, false)
			if sc.videoMime != "" && (len(rec.video) < 25 || len(rec.video) > 45) {
				t.Errorf("video frames on disk after 1.5s: got %d, want 25 to 45", len(rec.video))
			}
			if sc.videoMime == "" && len(rec.audio) < 60 {
				t.Errorf("audio frames on disk after 1.5s: got %d, want at least 60", len(rec.audio))
			}
		})
	}
}

func TestNeverBlocks(t *testing.T) {
	dir := t.TempDir()
	r, err := Start(Params{Dir: dir, Session: "s", Anchor: "a",
		VideoMime: webrtc.MimeTypeVP8, AudioMime: webrtc.MimeTypeOpus, QueueLen: 8})
	if err != nil {
		t.Fatal(err)
	}
	pkt := &rtp.Packet{Header: rtp.Header{Marker: true}, Payload: []byte{0x10, 0, 0, 0}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			pkt.SequenceNumber = uint16(i)
			r.Video(pkt)
			r.Audio(pkt)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Video/Audio blocked with a full queue and no Run")
	}
	st := r.Stats()
	if st.VideoPackets != 100 || st.VideoDropped != 92 || st.AudioPackets != 100 || st.AudioDropped != 92 {
		t.Errorf("stats: got %+v, want 100 packets and 92 dropped per track", st)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := r.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: got %v, want ErrClosed", err)
	}
	r.Video(pkt) // after Close: dropped, no panic
	if _, err := os.Stat(filepath.Join(dir, "s", r.File().Name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty recording: got %v, want it removed", err)
	}
}

func TestRunStops(t *testing.T) {
	r, err := Start(Params{Dir: t.TempDir(), Session: "s", Anchor: "a", AudioMime: webrtc.MimeTypeOpus})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run(ctx) }()
	// Packets from two goroutines while Run goes (for the race detector).
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		for i := range 500 {
			r.Audio(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i * audioStep)}, Payload: []byte{0xfc, 1, 2}})
		}
	}()
	for range 100 {
		_ = r.Stats()
	}
	<-feedDone
	for r.processed.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := r.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: got %v, want ErrRunning", err)
	}
	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after ctx was cancelled")
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after Run: %v", err)
	}
	if st := r.Stats(); st.AudioFrames == 0 || st.Bytes == 0 {
		t.Errorf("stats: got %+v, want frames written", st)
	}
}

func TestStartCodecs(t *testing.T) {
	tests := []struct {
		name, video, audio string
		wantExt            string // "" = ErrUnsupported
	}{
		{"vp8 opus", webrtc.MimeTypeVP8, webrtc.MimeTypeOpus, extWebM},
		{"vp8", webrtc.MimeTypeVP8, "", extWebM},
		{"opus", "", webrtc.MimeTypeOpus, extWebM},
		{"h264 opus", webrtc.MimeTypeH264, webrtc.MimeTypeOpus, extMP4},
		{"h264 lower case", "video/h264", "audio/opus", extMP4},
		{"h264", webrtc.MimeTypeH264, "", extMP4},
		{"nothing", "", "", ""},
		{"vp9", webrtc.MimeTypeVP9, webrtc.MimeTypeOpus, ""},
		{"pcmu", webrtc.MimeTypeVP8, webrtc.MimeTypePCMU, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Start(Params{Dir: t.TempDir(), Session: "s", Anchor: "a", Start: testStart, VideoMime: tt.video, AudioMime: tt.audio})
			if tt.wantExt == "" {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("got %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := r.Close(); err != nil {
					t.Error(err)
				}
			}()
			if want := "a-20250314T092653Z" + tt.wantExt; r.File().Name != want {
				t.Errorf("name: got %q, want %q", r.File().Name, want)
			}
			if want := mimeTypes[tt.wantExt]; r.File().MimeType != want {
				t.Errorf("mime type: got %q, want %q", r.File().MimeType, want)
			}
		})
	}
}
