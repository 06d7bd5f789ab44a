package stream

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func TestKeyframeStart(t *testing.T) {
	tests := []struct {
		name    string
		mime    string
		payload []byte
		want    bool
	}{
		{"vp8 keyframe", webrtc.MimeTypeVP8, []byte{0x10, 0x00, 0x9d}, true},
		{"vp8 interframe", webrtc.MimeTypeVP8, []byte{0x10, 0x01}, false},
		{"vp8 continuation", webrtc.MimeTypeVP8, []byte{0x00, 0x00}, false},
		{"vp8 keyframe, 15-bit picture id", webrtc.MimeTypeVP8, []byte{0x90, 0x80, 0x81, 0x23, 0x00}, true},
		{"vp8 interframe, 7-bit picture id + tl0", webrtc.MimeTypeVP8, []byte{0x90, 0xc0, 0x11, 0x05, 0x01}, false},
		{"vp8 truncated extension", webrtc.MimeTypeVP8, []byte{0x90, 0x80}, false},
		{"vp8 partition 1", webrtc.MimeTypeVP8, []byte{0x11, 0x00}, false},
		{"vp8 empty", webrtc.MimeTypeVP8, nil, false},
		{"h264 IDR", webrtc.MimeTypeH264, []byte{0x65, 0x88}, true},
		{"h264 SPS", webrtc.MimeTypeH264, []byte{0x67, 0x42}, true},
		{"h264 non-IDR slice", webrtc.MimeTypeH264, []byte{0x41, 0x9a}, false},
		{"h264 STAP-A SPS+PPS", webrtc.MimeTypeH264, []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"h264 STAP-A SEI only", webrtc.MimeTypeH264, []byte{0x78, 0x00, 0x02, 0x06, 0x05}, false},
		{"h264 STAP-A bad size", webrtc.MimeTypeH264, []byte{0x78, 0x00, 0x09, 0x67}, false},
		{"h264 FU-A start of IDR", webrtc.MimeTypeH264, []byte{0x7c, 0x85, 0x88}, true},
		{"h264 FU-A middle of IDR", webrtc.MimeTypeH264, []byte{0x7c, 0x05, 0x88}, false},
		{"h264 FU-A start of non-IDR", webrtc.MimeTypeH264, []byte{0x7c, 0x81}, false},
		{"opus never", webrtc.MimeTypeOpus, []byte{0x78}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isKeyframeStart(tc.mime, tc.payload); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMatchCodec(t *testing.T) {
	negotiated := []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, PayloadType: 96},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, SDPFmtpLine: "packetization-mode=0;profile-level-id=42e01f"}, PayloadType: 100},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, SDPFmtpLine: "packetization-mode=1;profile-level-id=42e01f"}, PayloadType: 102},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, SDPFmtpLine: "packetization-mode=1;profile-level-id=4d001f"}, PayloadType: 106},
	}
	tests := []struct {
		name string
		src  webrtc.RTPCodecCapability
		want webrtc.PayloadType
		ok   bool
	}{
		{"vp8", webrtc.RTPCodecCapability{MimeType: "video/vp8"}, 96, true},
		{"h264 main", webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, SDPFmtpLine: "profile-level-id=4d0032;packetization-mode=1"}, 106, true},
		{"h264 baseline", webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, SDPFmtpLine: "profile-level-id=42e01f;packetization-mode=1"}, 102, true},
		{"h264 high falls back to a mode-1 entry", webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, SDPFmtpLine: "profile-level-id=640032;packetization-mode=1"}, 102, true},
		{"opus not negotiated", webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := matchCodec(negotiated, tc.src)
			if ok != tc.ok || (ok && got.PayloadType != tc.want) {
				t.Fatalf("got %d, %v; want %d, %v", got.PayloadType, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestKeyframeRequestsThrottled: any number of requests inside 500 ms
// reach the publisher as one now and one at the end of the interval.
func TestKeyframeRequestsThrottled(t *testing.T) {
	var (
		mu    sync.Mutex
		times []time.Time
	)
	var counters sessionCounters
	tr := newTrack(webrtc.RTPCodecTypeVideo, codecVP8.RTPCodecCapability, &counters, time.Now, func() {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
	})
	defer tr.close()
	start := time.Now()
	for time.Since(start) < 300*time.Millisecond {
		tr.requestKeyframe()
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(time.Second) // the trailing request is due 500 ms after the first
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 2 {
		t.Fatalf("%d keyframe requests sent, want 2 (one at once, one trailing)", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < keyframeInterval-10*time.Millisecond {
		t.Fatalf("requests %s apart, want at least %s", gap, keyframeInterval)
	}
	if got := counters.keyframeRequests.Load(); got != 2 {
		t.Fatalf("counted %d keyframe requests, want 2", got)
	}

	var audioCalls int
	audio := newTrack(webrtc.RTPCodecTypeAudio, codecOpus.RTPCodecCapability, &counters, time.Now, func() { audioCalls++ })
	audio.requestKeyframe()
	if audioCalls != 0 {
		t.Fatalf("an audio track asked for a keyframe")
	}
}

type allSessions struct{}

func (allSessions) SessionExists(context.Context, SessionID) (bool, error) { return true, nil }

type noTokens struct{}

func (noTokens) Authorize(context.Context, SessionID, string) (string, error) {
	return "", ErrUnauthorized
}

// TestLaggardDisconnected: a viewer whose writer is stuck (its queue never
// drains) loses whole frames, then is cut off after LagLimit; the
// publisher is asked for keyframes.
func TestLaggardDisconnected(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r, err := New(Config{Sessions: allSessions{}, Tokens: noTokens{}, ICE: ICEConfig{Loopback: true},
		QueueLen: 16, LagLimit: time.Second, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := r.session("x")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := r.viewAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	v := &viewer{relay: r, id: "vtest", session: s, sessionName: "x", pc: pc, queue: make(chan item, 16), headroom: 4,
		subs: map[*slotTrack]*subscription{}, done: make(chan struct{}), since: clock(), log: r.log}
	v.lastDrain.Store(clock().UnixNano())
	v.video = []*slotTrack{{v: v, kind: webrtc.RTPCodecTypeVideo, id: "video0"}}
	if err := r.addResource(v.id, v); err != nil {
		t.Fatal(err)
	}
	s.addViewer(v) // no writer goroutine: the queue never drains
	var keyframes sync.WaitGroup
	keyframes.Add(1)
	var once sync.Once
	tr := newTrack(webrtc.RTPCodecTypeVideo, codecVP8.RTPCodecCapability, &s.counters, clock,
		func() { once.Do(keyframes.Done) })
	s.addSource(&source{anchor: "甲", video: tr, prefer: -1})

	seq := uint16(0)
	frame := func(key bool) {
		for i := range 3 {
			seq++
			payload := []byte{0x00, 0x01}
			if i == 0 {
				payload = []byte{0x10, 0x01}
				if key {
					payload[1] = 0
				}
			}
			tr.deliver(&rtp.Header{SequenceNumber: seq, Timestamp: uint32(seq / 3), Marker: i == 2}, payload)
		}
	}
	frame(true)
	for range 10 {
		frame(false)
	}
	if got := len(v.queue); got != 15 {
		t.Fatalf("queue holds %d packets, want 15 (5 whole frames: a frame starts while 4 places are free)", got)
	}
	if v.drops.Load() == 0 {
		t.Fatal("no drops counted")
	}
	if _, err := r.lookup(context.Background(), "x", v.id, ""); err != nil {
		t.Fatal("cut off before LagLimit")
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	frame(true)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := r.lookup(context.Background(), "x", v.id, ""); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a viewer stuck for 2 s was not cut off")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.counters.viewersKicked.Load(); got != 1 {
		t.Fatalf("viewers cut off = %d, want 1", got)
	}
	keyframes.Wait()
}

// TestSourceSeq: a NACK is mapped back only within the slot's current
// mapping (a number sent for an earlier source or before a resync is not
// answered with whatever the current source had there).
func TestSourceSeq(t *testing.T) {
	st := &slotTrack{live: &subscription{}, sent: true,
		seqOff: 65530 - 100, mapStart: 65530, lastSeq: 4} // source 100… → out 65530…4 (wraps)
	tests := []struct {
		out  uint16
		want uint16
		ok   bool
	}{
		{65530, 100, true},
		{65535, 105, true},
		{0, 106, true},
		{4, 110, true},
		{5, 0, false},     // not sent yet
		{65529, 0, false}, // sent under the previous mapping
		{30000, 0, false},
	}
	for _, tc := range tests {
		got, ok := st.sourceSeq(tc.out)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("sourceSeq(%d) = %d, %v; want %d, %v", tc.out, got, ok, tc.want, tc.ok)
		}
	}
	st.live = nil
	if _, ok := st.sourceSeq(65530); ok {
		t.Error("mapped with no live source")
	}
}

// countWriter is a TrackLocalWriter that only counts: the benchmark below
// measures the relay's own fan-out, without pion's SRTP and sockets.
type countWriter struct{ n atomic.Int64 }

func (w *countWriter) WriteRTP(_ *rtp.Header, payload []byte) (int, error) {
	w.n.Add(1)
	return len(payload) + 12, nil
}
func (w *countWriter) Write(b []byte) (int, error) { w.n.Add(1); return len(b), nil }

// fanoutRig is one video track feeding n viewers whose writer goroutines
// write into counting writers (no pion, no sockets).
func fanoutRig(tb testing.TB, n int) (*track, []*countWriter) {
	tb.Helper()
	r, err := New(Config{Sessions: allSessions{}, Tokens: noTokens{}, ICE: ICEConfig{Loopback: true}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	s, err := r.session("rig")
	if err != nil {
		tb.Fatal(err)
	}
	var writers []*countWriter
	for i := range n {
		v := &viewer{relay: r, id: fmt.Sprintf("v%d", i), session: s, queue: make(chan item, 1024), headroom: 64,
			subs: map[*slotTrack]*subscription{}, done: make(chan struct{}), log: r.log}
		w := &countWriter{}
		writers = append(writers, w)
		v.video = []*slotTrack{{v: v, kind: webrtc.RTPCodecTypeVideo, id: "video0", writer: w, ssrc: 1,
			codecs: []webrtc.RTPCodecParameters{codecVP8}}}
		s.addViewer(v)
		done := make(chan struct{})
		go func() { defer close(done); v.run() }()
		tb.Cleanup(func() { close(v.done); <-done })
	}
	tr := newTrack(webrtc.RTPCodecTypeVideo, codecVP8.RTPCodecCapability, &s.counters, time.Now, nil)
	s.addSource(&source{anchor: "甲", video: tr, prefer: -1})
	return tr, writers
}

// feed delivers packet i of a stream of 9-packet frames with a keyframe
// every 100 frames, and after each frame waits until every writer has it
// (as the network would pace the frames); it fails if a writer stalls.
func feed(tb testing.TB, tr *track, writers []*countWriter, i int) {
	payload := make([]byte, 1100)
	switch {
	case i%900 == 0:
		payload[0], payload[1] = 0x10, 0x00 // keyframe start
	case i%9 == 0:
		payload[0], payload[1] = 0x10, 0x01 // frame start
	}
	tr.deliver(&rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i / 9 * 3000), Marker: i%9 == 8}, payload)
	if i%9 != 8 {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, w := range writers {
		for w.n.Load() < int64(i+1) {
			if time.Now().After(deadline) {
				tb.Fatalf("packet %d: a writer has only %d", i, w.n.Load())
			}
			runtime.Gosched()
		}
	}
}

// TestLongStreamKeepsFlowing: more than 65,536 packets (the sequence
// space) go through a slot without a stall or a loss.
func TestLongStreamKeepsFlowing(t *testing.T) {
	tr, writers := fanoutRig(t, 2)
	const n = 3 * 65536
	for i := range n {
		feed(t, tr, writers, i)
	}
}

// BenchmarkFanout: one video track offered to 100 viewers' queues, each
// drained by its writer goroutine (header rewrite, counters) into a
// counting writer. Reports ns per packet per viewer of the relay's own
// code: go test -run XXX -bench Fanout -cpu 1 ./stream/
func BenchmarkFanout(b *testing.B) {
	const viewers = 100
	tr, writers := fanoutRig(b, viewers)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N - b.N%9 {
		feed(b, tr, writers, i)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N-b.N%9)/viewers, "ns/packet/viewer")
}
