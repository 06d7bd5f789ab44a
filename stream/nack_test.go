package stream_test

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"govlive/stream/streamtest"
)

// lossy drops the first copy of every 25th video packet a viewer receives,
// below pion's NACK generator, so the viewer asks for it again.
type lossy struct {
	interceptor.NoOp
	mu      sync.Mutex
	dropped map[uint16]bool
	n       int
}

func (l *lossy) NewInterceptor(string) (interceptor.Interceptor, error) { return l, nil }

func (l *lossy) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	if info.MimeType != webrtc.MimeTypeVP8 {
		return reader
	}
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, attr, err := reader.Read(b, a)
			if err != nil {
				return n, attr, err
			}
			var h rtp.Header
			if _, err := h.Unmarshal(b[:n]); err != nil {
				return n, attr, nil
			}
			l.mu.Lock()
			l.n++
			drop := l.n%25 == 0 && !l.dropped[h.SequenceNumber]
			if drop {
				l.dropped[h.SequenceNumber] = true
			}
			l.mu.Unlock()
			if !drop {
				return n, attr, nil
			}
		}
	})
}

func TestNACKAnsweredFromCache(t *testing.T) {
	r, tokens := newRelay(t, nil)
	pub := publish(t, r, streamtest.API(t), "live", issue(t, tokens, "live", "甲"))

	loss := &lossy{dropped: map[uint16]bool{}}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	reg.Add(loss) // innermost: the NACK generator sees the gaps
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		t.Fatal(err)
	}
	se := streamtest.Loopback()
	// the drop happens after decryption, so SRTP would take the resent copy
	// for a replay; real loss happens on the wire, before it.
	se.DisableSRTPReplayProtection(true)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	v := play(t, r, api, "live", 1, true)

	// The viewer joined a live publication: its slot fills once the relay
	// has subscribed it, which may come a moment after ICE connects. Send
	// until the first packet arrives; the count starts after.
	var warm sent
	waitFor(t, 10*time.Second, "the viewer's first packet", func() bool {
		pub.frames(t, &warm, 1, 4)
		return len(v.packets("slot0/video")) > 0
	})
	var s sent
	pub.frames(t, &s, 120, 4)
	// A lost last packet shows as a gap only to the packets after it: the
	// stream goes on (not counted).
	pub.frames(t, &warm, 5, 4)
	// (generous: under -race on a loaded machine the NACK rounds are slow)
	waitAll(t, r, v, "slot0/video", s.video, 15*time.Second)
	got := v.packets("slot0/video")
	seen := map[uint64]bool{}
	for _, p := range got {
		seen[p.n] = true
	}
	for _, n := range s.video {
		if !seen[n] {
			t.Fatalf("packet #%d never arrived", n)
		}
	}
	loss.mu.Lock()
	dropped := len(loss.dropped)
	loss.mu.Unlock()
	st, _ := r.Stats("live")
	if dropped == 0 || st.NACKs == 0 || st.Resent < uint64(dropped) {
		t.Fatalf("dropped %d, NACKs %d, resent %d: want every drop resent", dropped, st.NACKs, st.Resent)
	}
}
