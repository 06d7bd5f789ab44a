package stream_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"govlive/stream"
	"govlive/stream/streamtest"
)

// fakeRecorder is a stream.Recorder that keeps the video sequence numbers
// it is handed.
type fakeRecorder struct {
	mu      sync.Mutex
	seqs    []uint16
	padding int // packets without payload
	audio   int
}

func (f *fakeRecorder) Video(p *rtp.Packet) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seqs = append(f.seqs, p.SequenceNumber)
	if len(p.Payload) == 0 {
		f.padding++
	}
}

func (f *fakeRecorder) Audio(*rtp.Packet) {
	f.mu.Lock()
	f.audio++
	f.mu.Unlock()
}

func (f *fakeRecorder) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (f *fakeRecorder) Close() error { return nil }

func (f *fakeRecorder) seen() (seqs []uint16, padding int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uint16(nil), f.seqs...), f.padding
}

// recordInto is a stream.Config.Record that hands every publication to rec.
func recordInto(rec stream.Recorder) stream.StartRecorder {
	return func(stream.Recording) (stream.Recorder, error) { return rec, nil }
}

// sendPadding sends n padding-only video packets on the media's own
// sequence numbers, as Chromium probes its bandwidth when no RTX is
// negotiated.
func (p *testPublisher) sendPadding(t testing.TB, n int) {
	t.Helper()
	for range n {
		p.vseq++
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, PaddingSize: 200, SequenceNumber: p.vseq, Timestamp: p.vts}}
		if err := p.video.WriteRTP(pkt); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPaddingReachesRecorder: the recorder is handed the padding-only
// packets too, so that the video sequence it sees has no gaps; without
// them it took every probe for loss and dropped the video up to the next
// keyframe (the H264 browser recording with 0.7 s missing after its
// first frame). Viewers still get media packets only.
func TestPaddingReachesRecorder(t *testing.T) {
	rec := &fakeRecorder{}
	r, tokens := newRelay(t, func(c *stream.Config) { c.Record = recordInto(rec) })
	api := streamtest.API(t)
	pub := publishCodec(t, r, api, "live", issue(t, tokens, "live", "张主播"), webrtc.MimeTypeH264)
	v := play(t, r, api, "live", 1, true)
	// the recording starts once both tracks have arrived
	waitFor(t, 5*time.Second, "the recording to start", func() bool {
		pub.sendFrame(t, true, 2, 600)
		seqs, _ := rec.seen()
		return len(seqs) > 0
	})
	var s sent
	for f := range 30 {
		pub.frames(t, &s, 1, 3)
		if f%3 == 1 {
			pub.sendPadding(t, 4)
		}
	}
	last := pub.vseq
	waitFor(t, 5*time.Second, "the last packet at the recorder", func() bool {
		seqs, _ := rec.seen()
		return len(seqs) > 0 && seqs[len(seqs)-1] == last
	})
	seqs, padding := rec.seen()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("recorder saw sequence %d after %d: a gap where padding was sent", seqs[i], seqs[i-1])
		}
	}
	if padding != 40 {
		t.Errorf("recorder saw %d padding packets, want 40", padding)
	}
	waitFor(t, 5*time.Second, "all packets at the viewer", func() bool { return hasAll(v, "slot0/video", s.video) })
	for _, p := range v.packets("slot0/video") {
		if p.n == 0 {
			t.Fatalf("viewer got a packet without payload (seq %d)", p.seq)
		}
	}
}

// failingRecorder is a stream.Recorder whose Run fails, as a full disk
// ends a recording, once it has been handed some video.
type failingRecorder struct {
	fakeRecorder
	after int
	fail  chan struct{}
	once  sync.Once
}

func (f *failingRecorder) Video(p *rtp.Packet) {
	f.fakeRecorder.Video(p)
	if seqs, _ := f.seen(); len(seqs) >= f.after {
		f.once.Do(func() { close(f.fail) })
	}
}

func (f *failingRecorder) Run(ctx context.Context) error {
	select {
	case <-f.fail:
		return errors.New("record: write webm block: no space left on device")
	case <-ctx.Done():
		return nil
	}
}

// TestRecordingFailureKeepsViewers: a recording that fails mid-stream
// ends alone; the viewer goes on getting every packet and the anchor
// stays live.
func TestRecordingFailureKeepsViewers(t *testing.T) {
	rec := &failingRecorder{after: 20, fail: make(chan struct{})}
	r, tokens := newRelay(t, func(c *stream.Config) { c.Record = recordInto(rec) })
	api := streamtest.API(t)
	v := play(t, r, api, "live", 1, true)
	pub := publish(t, r, api, "live", issue(t, tokens, "live", "张主播"))
	var s sent
	pub.frames(t, &s, 10, 3)
	select {
	case <-rec.fail:
	case <-time.After(5 * time.Second):
		t.Fatal("the recording was not handed 20 video packets")
	}
	pub.frames(t, &s, 60, 3)
	waitFor(t, 5*time.Second, "all packets at the viewer", func() bool {
		return hasAll(v, "slot0/video", s.video) && hasAll(v, "slot0/audio", s.audio)
	})
	checkDelivery(t, "video", v.packets("slot0/video"), s.video)
	if st, ok := r.Stats("live"); !ok || len(st.Anchors) != 1 {
		t.Fatalf("stats after the recording failed: %+v, want the anchor live", st)
	}
}
