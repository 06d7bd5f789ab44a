package demo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"govlive/stream/demo"
)

// fakeClock is a clock whose sleep only moves now forward, so Run keeps its
// exact schedule but runs as fast as the test can take the packets.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func (c *fakeClock) sleep(_ context.Context, d time.Duration) { c.t = c.t.Add(d) }

// sent is one packet Run handed out and when, on Run's clock, relative to
// the start of the run.
type sent struct {
	p  *rtp.Packet
	at time.Duration
}

// recording is what one fast run produced.
type recording struct {
	src          *demo.Source
	video, audio []sent
}

// record runs a Source on a fake clock until loops loops have been sent and
// returns every packet. It fails the test unless Run returns ctx.Err().
func record(t *testing.T, loops float64) recording {
	t.Helper()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	start := clock.t
	src, err := demo.New(demo.WithClock(clock.now, clock.sleep))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	end := time.Duration(loops * float64(src.Loop()))
	rec := recording{src: src}
	keep := func(to *[]sent) func(*rtp.Packet) {
		return func(p *rtp.Packet) {
			at := clock.now().Sub(start)
			if at >= end {
				cancel()
				return
			}
			*to = append(*to, sent{p: p, at: at})
		}
	}
	if err := src.Run(ctx, keep(&rec.video), keep(&rec.audio)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want %v", err, context.Canceled)
	}
	return rec
}

// trackCase describes one track of the source for table tests.
type trackCase struct {
	name       string
	packets    func(recording) []sent
	ssrc       func(*demo.Source) uint32
	pt         uint8
	clockRate  uint32
	step       uint32 // RTP ticks per frame
	perLoop    int    // frames per loop
	depacketer func() rtp.Depacketizer
}

func trackCases(t *testing.T) []trackCase {
	t.Helper()
	video := readIVF(t)
	return []trackCase{
		{
			name:       "video",
			packets:    func(r recording) []sent { return r.video },
			ssrc:       (*demo.Source).VideoSSRC,
			pt:         demo.VideoPayloadType,
			clockRate:  demo.VideoClockRate,
			step:       3000,
			perLoop:    len(video),
			depacketer: func() rtp.Depacketizer { return &codecs.VP8Packet{} },
		},
		{
			name:       "audio",
			packets:    func(r recording) []sent { return r.audio },
			ssrc:       (*demo.Source).AudioSSRC,
			pt:         demo.AudioPayloadType,
			clockRate:  demo.AudioClockRate,
			step:       960,
			perLoop:    250, // 5 s of 20 ms packets; the Ogg has one more, trimmed
			depacketer: func() rtp.Depacketizer { return &codecs.OpusPacket{} },
		},
	}
}

func TestRunContinuousAcrossLoops(t *testing.T) {
	rec := record(t, 2.5) // two loop points
	for _, tc := range trackCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			pkts := tc.packets(rec)
			if len(pkts) == 0 {
				t.Fatal("got no packets")
			}
			first := pkts[0].p
			frames := 1
			for i, s := range pkts {
				p := s.p
				if p.SSRC != tc.ssrc(rec.src) {
					t.Fatalf("packet %d: got SSRC %d, want %d", i, p.SSRC, tc.ssrc(rec.src))
				}
				if p.PayloadType != tc.pt {
					t.Fatalf("packet %d: got payload type %d, want %d", i, p.PayloadType, tc.pt)
				}
				// Sent on time, on a clock shared by both tracks: the
				// send time is the RTP time since the first packet.
				wantAt := time.Duration(uint64(p.Timestamp-first.Timestamp) * uint64(time.Second) / uint64(tc.clockRate))
				if s.at != wantAt {
					t.Fatalf("packet %d (ts %d): sent at %v, want %v", i, p.Timestamp, s.at, wantAt)
				}
				if i == 0 {
					continue
				}
				prev := pkts[i-1].p
				if got, want := p.SequenceNumber, prev.SequenceNumber+1; got != want {
					t.Fatalf("packet %d: got sequence number %d, want %d", i, got, want)
				}
				// A frame ends with a marked packet (video); every Opus
				// packet is a frame of its own.
				newFrame := tc.name == "audio" || prev.Marker
				wantStep := uint32(0)
				if newFrame {
					wantStep = tc.step
					frames++
				}
				if got := p.Timestamp - prev.Timestamp; got != wantStep {
					t.Fatalf("packet %d (frame %d): got timestamp step %d, want %d", i, frames-1, got, wantStep)
				}
			}
			if min := 2*tc.perLoop + 1; frames < min {
				t.Fatalf("got %d frames, want at least %d to cross two loop points", frames, min)
			}
		})
	}
}

func TestRunPayloadSize(t *testing.T) {
	rec := record(t, 1.2)
	for _, tc := range trackCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			largest := 0
			for i, s := range tc.packets(rec) {
				b, err := s.p.Marshal()
				if err != nil {
					t.Fatalf("packet %d: marshal: %v", i, err)
				}
				if len(b) > demo.MTU {
					t.Fatalf("packet %d: got %d bytes, want at most %d", i, len(b), demo.MTU)
				}
				largest = max(largest, len(b))
			}
			t.Logf("largest %s packet: %d bytes", tc.name, largest)
		})
	}
}

func TestRunMarkers(t *testing.T) {
	rec := record(t, 1.2)
	t.Run("video marks the last packet of each frame", func(t *testing.T) {
		v := rec.video
		for i, s := range v {
			// Run delivers whole frames, so the last packet ends one.
			want := i == len(v)-1 || v[i+1].p.Timestamp != s.p.Timestamp
			if s.p.Marker != want {
				t.Fatalf("packet %d: got marker %v, want %v", i, s.p.Marker, want)
			}
		}
	})
	t.Run("audio marks the first packet only", func(t *testing.T) {
		for i, s := range rec.audio {
			if want := i == 0; s.p.Marker != want {
				t.Fatalf("packet %d: got marker %v, want %v", i, s.p.Marker, want)
			}
		}
	})
}

func TestRunStartsEachLoopWithKeyframe(t *testing.T) {
	rec := record(t, 2.1)
	video := readIVF(t)
	frame := 0
	for i, s := range rec.video {
		if i > 0 && !rec.video[i-1].p.Marker {
			continue // not the first packet of a frame
		}
		var vp8 codecs.VP8Packet
		payload, err := vp8.Unmarshal(s.p.Payload)
		if err != nil {
			t.Fatalf("packet %d: unmarshal VP8 descriptor: %v", i, err)
		}
		if vp8.S != 1 || vp8.PID != 0 {
			t.Fatalf("packet %d, first of frame %d: got S=%d PID=%d, want S=1 PID=0", i, frame, vp8.S, vp8.PID)
		}
		key := payload[0]&0x01 == 0 // VP8 frame tag: 0 means keyframe
		if frame%len(video) == 0 && !key {
			t.Fatalf("frame %d (loop start, packet %d) is not a keyframe", frame, i)
		}
		frame++
	}
	if frame <= 2*len(video) {
		t.Fatalf("got %d frames, want more than %d", frame, 2*len(video))
	}
}

func TestRunDepacketizesToTheFiles(t *testing.T) {
	rec := record(t, 2.5)
	ivf, ogg := readIVF(t), readOgg(t)
	want := map[string][][]byte{"video": ivf, "audio": ogg[:250]}
	for _, tc := range trackCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			sb := samplebuilder.New(512, tc.depacketer(), tc.clockRate)
			var got [][]byte
			var stamps []uint32
			pop := func() {
				for s := sb.Pop(); s != nil; s = sb.Pop() {
					got = append(got, s.Data)
					stamps = append(stamps, s.PacketTimestamp)
				}
			}
			for _, s := range tc.packets(rec) {
				sb.Push(s.p)
				pop()
			}
			sb.Flush()
			pop()

			frames := want[tc.name]
			if len(frames) != tc.perLoop {
				t.Fatalf("file has %d frames, want %d", len(frames), tc.perLoop)
			}
			perLoop := map[uint32]int{}
			loopTicks := uint32(tc.perLoop) * tc.step
			for i, data := range got {
				loop := (stamps[i] - stamps[0]) / loopTicks
				perLoop[loop]++
				if !bytes.Equal(data, frames[i%len(frames)]) {
					t.Fatalf("frame %d (loop %d): got %d bytes differing from file frame %d (%d bytes)",
						i, loop, len(data), i%len(frames), len(frames[i%len(frames)]))
				}
			}
			for loop := uint32(0); loop < 2; loop++ {
				if perLoop[loop] != len(frames) {
					t.Errorf("loop %d: got %d frames, want %d", loop, perLoop[loop], len(frames))
				}
			}
		})
	}
}

func TestRunReturnsOnDone(t *testing.T) {
	tests := []struct {
		name string
		ctx  func(context.Context) (context.Context, context.CancelFunc)
		want error
	}{
		{
			name: "cancel",
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				time.AfterFunc(100*time.Millisecond, cancel)
				return ctx, cancel
			},
			want: context.Canceled,
		},
		{
			name: "deadline",
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 100*time.Millisecond)
			},
			want: context.DeadlineExceeded,
		},
		{
			name: "already done",
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return ctx, cancel
			},
			want: context.Canceled,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := demo.New() // real clock, real time
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ctx, cancel := tc.ctx(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- src.Run(ctx, func(*rtp.Packet) {}, func(*rtp.Packet) {}) }()
			<-ctx.Done()
			select {
			case err := <-done:
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
			case <-time.After(time.Second):
				t.Fatal("Run did not return within 1 s of ctx being done")
			}
		})
	}
}

func TestRunTwiceAtOnce(t *testing.T) {
	src, err := demo.New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{})
	var once bool
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(*rtp.Packet) {
			if !once {
				once = true
				close(started)
			}
		}, nil)
	}()
	<-started
	if err := src.Run(ctx, nil, nil); !errors.Is(err, demo.ErrRunning) {
		t.Errorf("second Run: got %v, want %v", err, demo.ErrRunning)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("first Run: got %v, want %v", err, context.Canceled)
	}
}

func TestRunContinuesAcrossRuns(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	src, err := demo.New(demo.WithClock(clock.now, clock.sleep))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var last, next *rtp.Packet
	for run := range 2 {
		ctx, cancel := context.WithCancel(t.Context())
		n := 0
		err := src.Run(ctx, func(p *rtp.Packet) {
			n++
			if run == 0 {
				last = p
			} else if next == nil {
				next = p
			}
			if n == 40 { // a few frames in
				cancel()
			}
		}, nil)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: got %v, want %v", run, err, context.Canceled)
		}
	}
	if got, want := next.SequenceNumber, last.SequenceNumber+1; got != want {
		t.Errorf("got sequence number %d after a restart, want %d", got, want)
	}
	if got, want := next.Timestamp, last.Timestamp+3000; got != want {
		t.Errorf("got timestamp %d after a restart, want %d", got, want)
	}
	if next.SSRC != last.SSRC {
		t.Errorf("got SSRC %d after a restart, want %d", next.SSRC, last.SSRC)
	}
}

// readIVF returns the frames of the card, read from the file with pion's
// reader, independently of the package's parser.
func readIVF(t *testing.T) [][]byte {
	t.Helper()
	b, err := os.ReadFile("media/card.ivf")
	if err != nil {
		t.Fatalf("read card: %v", err)
	}
	r, _, err := ivfreader.NewWith(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("read card header: %v", err)
	}
	var frames [][]byte
	for {
		f, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatalf("read card frame %d: %v", len(frames), err)
		}
		frames = append(frames, f)
	}
}

// readOgg returns the Opus packets of the tone (one per page), read with
// pion's reader.
func readOgg(t *testing.T) [][]byte {
	t.Helper()
	b, err := os.ReadFile("media/tone.ogg")
	if err != nil {
		t.Fatalf("read tone: %v", err)
	}
	r, _, err := oggreader.NewWith(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("read tone header: %v", err)
	}
	var pkts [][]byte
	for {
		p, ph, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return pkts
		}
		if err != nil {
			t.Fatalf("read tone page: %v", err)
		}
		if _, ok := ph.HeaderType(p); ok {
			continue
		}
		pkts = append(pkts, p)
	}
}

func TestRunStallShiftsSchedule(t *testing.T) {
	const stall = 3 * time.Second
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	start := clock.t
	stalled := false
	// One sleep after a second of media oversleeps by stall, as if the
	// process had been paused.
	sleep := func(ctx context.Context, d time.Duration) {
		clock.sleep(ctx, d)
		if !stalled && clock.t.Sub(start) > time.Second {
			stalled = true
			clock.t = clock.t.Add(stall)
		}
	}
	src, err := demo.New(demo.WithClock(clock.now, sleep))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var video []sent
	err = src.Run(ctx, func(p *rtp.Packet) {
		at := clock.now().Sub(start)
		if at > 3*time.Second+stall {
			cancel()
			return
		}
		video = append(video, sent{p: p, at: at})
	}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want %v", err, context.Canceled)
	}

	// Once past the stall, every frame is sent at its RTP time plus one
	// fixed delay: no burst of the backlog.
	first := video[0].p
	lag := map[time.Duration]int{}
	for i, s := range video {
		media := time.Duration(uint64(s.p.Timestamp-first.Timestamp) * uint64(time.Second) / demo.VideoClockRate)
		if i > 0 && s.p.Timestamp != video[i-1].p.Timestamp {
			if got := s.p.Timestamp - video[i-1].p.Timestamp; got != 3000 {
				t.Fatalf("packet %d: got timestamp step %d, want 3000", i, got)
			}
		}
		lag[(s.at-media).Round(time.Millisecond)]++
	}
	if len(lag) != 2 || lag[0] == 0 {
		t.Fatalf("got send delays %v, want 0 before the stall and one fixed delay after", lag)
	}
	for d := range lag {
		if d != 0 && (d < stall-100*time.Millisecond || d > stall+100*time.Millisecond) {
			t.Errorf("got delay %v after the stall, want about %v", d, stall)
		}
	}
}
