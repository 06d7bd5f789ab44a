package stream_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"govlive/stream"
)

// checkDelivery asserts that key received exactly the packets numbered in
// want, in order, with sequence numbers increasing by one.
func checkDelivery(t *testing.T, name string, got []received, want []uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d packets, want %d", name, len(got), len(want))
	}
	for i := range got {
		if got[i].n != want[i] {
			t.Fatalf("%s: packet %d is #%d, want #%d", name, i, got[i].n, want[i])
		}
		if i > 0 && got[i].seq != got[i-1].seq+1 {
			t.Fatalf("%s: sequence %d follows %d", name, got[i].seq, got[i-1].seq)
		}
	}
}

// sent numbers the packets a run of sendFrame calls produces.
type sent struct{ video, audio []uint64 }

func (p *testPublisher) frames(t *testing.T, s *sent, count, perFrame int) {
	t.Helper()
	for f := range count {
		key := f%30 == 0
		start := p.n
		p.sendFrame(t, key, perFrame, 900)
		for i := range perFrame {
			s.video = append(s.video, start+uint64(i)+1)
		}
		s.audio = append(s.audio, p.n)
		time.Sleep(2 * time.Millisecond)
	}
}

func TestPublishToManyViewers(t *testing.T) {
	r, tokens := newRelay(t, nil)
	api := peerAPI(t)
	var viewers []*testViewer
	for range 3 {
		viewers = append(viewers, play(t, r, api, "live", 4, true))
	}
	pub := publish(t, r, api, "live", issue(t, tokens, "live", "张主播"))
	var s sent
	pub.frames(t, &s, 90, 4)
	for i, v := range viewers {
		waitFor(t, 5*time.Second, "all packets", func() bool {
			return len(v.packets("slot0/video")) >= len(s.video) && len(v.packets("slot0/audio")) >= len(s.audio)
		})
		checkDelivery(t, fmt.Sprintf("viewer %d video", i), v.packets("slot0/video"), s.video)
		checkDelivery(t, fmt.Sprintf("viewer %d audio", i), v.packets("slot0/audio"), s.audio)
		if !v.packets("slot0/video")[0].key {
			t.Errorf("viewer %d: first video packet is not a keyframe", i)
		}
	}
	st, ok := r.Stats("live")
	if !ok || len(st.Anchors) != 1 || st.Anchors[0].Anchor != "张主播" || st.Viewers != 3 {
		t.Fatalf("stats = %+v", st)
	}
	if st.Drops != 0 {
		t.Errorf("drops = %d, want 0", st.Drops)
	}
}

func TestPublishRefused(t *testing.T) {
	r, tokens := newRelay(t, nil)
	api := peerAPI(t)
	good := issue(t, tokens, "live", "李主播")
	revoked := issue(t, tokens, "live", "王主播")
	if n, err := tokens.Revoke(context.Background(), "live", "王主播"); err != nil || n != 1 {
		t.Fatalf("revoke = %d, %v", n, err)
	}
	offer := offerOf(t, newPublisher(t, api).pc)
	tests := []struct {
		name    string
		session stream.SessionID
		token   string
		offer   string
		want    error
	}{
		{"no token", "live", "", offer, stream.ErrUnauthorized},
		{"wrong token", "live", good + "x", offer, stream.ErrUnauthorized},
		{"token of another session", "other", good, offer, stream.ErrUnauthorized},
		{"revoked token", "live", revoked, offer, stream.ErrUnauthorized},
		{"unknown session", "nope", good, offer, stream.ErrNotFound},
		{"not SDP", "live", good, "hello", stream.ErrInvalid},
		{"empty offer", "live", good, "", stream.ErrInvalid},
		{"receive-only offer", "live", good, strings.ReplaceAll(offer, "a=sendonly", "a=recvonly"), stream.ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Publish(context.Background(), tc.session, tc.token, tc.offer)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if st, _ := r.Stats(tc.session); len(st.Anchors) != 0 {
				t.Fatalf("a refused publication is live: %+v", st.Anchors)
			}
		})
	}
}

// goroutines waits for the goroutine count to fall to at most n.
func goroutinesBackTo(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := runtime.NumGoroutine()
		if now <= n {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", now, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTwoAnchorsLeaveAndRejoin(t *testing.T) {
	r, tokens := newRelay(t, nil)
	api := peerAPI(t)
	v := play(t, r, api, "live", 4, true)
	a := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
	b := publish(t, r, api, "live", issue(t, tokens, "live", "乙"))
	var sa, sb sent
	for range 3 {
		a.frames(t, &sa, 10, 2)
		b.frames(t, &sb, 10, 2)
	}
	waitFor(t, 5*time.Second, "both anchors' packets", func() bool {
		return len(v.packets("slot0/video")) >= len(sa.video) && len(v.packets("slot1/video")) >= len(sb.video)
	})
	checkDelivery(t, "anchor 甲 in slot 0", v.packets("slot0/video"), sa.video)
	checkDelivery(t, "anchor 乙 in slot 1", v.packets("slot1/video"), sb.video)

	// 甲 leaves: slot 0 goes quiet, 乙 keeps slot 1.
	if err := r.Delete(a.answer.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "one anchor left", func() bool {
		st, _ := r.Stats("live")
		return len(st.Anchors) == 1 && st.Anchors[0].Anchor == "乙" && st.Anchors[0].Slot == 1
	})
	before := len(v.packets("slot0/video"))
	b.frames(t, &sb, 30, 2)
	waitFor(t, 5*time.Second, "乙 after 甲 left", func() bool { return len(v.packets("slot1/video")) >= len(sb.video) })
	if got := len(v.packets("slot0/video")); got != before {
		t.Fatalf("slot 0 got %d packets after its anchor left", got-before)
	}

	// 甲 rejoins with a new connection (new SSRC, new sequence numbers):
	// the viewer's slot 0 continues its own sequence without a gap.
	a2 := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
	a2.vseq, a2.vts = 40000, 123456789 // far from the old numbering
	var sa2 sent
	a2.frames(t, &sa2, 30, 2)
	waitFor(t, 5*time.Second, "甲 again in slot 0", func() bool {
		return len(v.packets("slot0/video")) >= before+len(sa2.video)
	})
	all := v.packets("slot0/video")
	checkDelivery(t, "slot 0 after rejoin", all[before:], sa2.video)
	if all[before].seq != all[before-1].seq+1 {
		t.Fatalf("slot 0 sequence jumps from %d to %d across the change of source", all[before-1].seq, all[before].seq)
	}
	if d := all[before].ts - all[before-1].ts; d == 0 || d > 90000*30 {
		t.Fatalf("slot 0 timestamp steps by %d across the change of source", d)
	}
	if !all[before].key {
		t.Fatalf("the new source does not start with a keyframe")
	}
}

func TestStalledViewerDoesNotHoldOthers(t *testing.T) {
	r, tokens := newRelay(t, func(c *stream.Config) { c.QueueLen = 128 })
	api := peerAPI(t)
	good := play(t, r, api, "live", 1, true)
	stalled := play(t, r, api, "live", 1, false) // never reads
	_ = stalled
	pub := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
	var s sent
	pub.frames(t, &s, 150, 6)
	waitFor(t, 5*time.Second, "the reading viewer's packets", func() bool {
		return len(good.packets("slot0/video")) >= len(s.video)
	})
	checkDelivery(t, "reading viewer", good.packets("slot0/video"), s.video)
}

// TestSlowViewerRecovers: bursts larger than a viewer's queue make the
// relay drop (counted) and ask the publisher for a keyframe; once the
// burst is over the viewer gets every packet again, from a keyframe on.
// (That drops take whole frames is checked in TestLaggardDisconnected,
// without the loopback socket losses of a burst.)
func TestSlowViewerRecovers(t *testing.T) {
	r, tokens := newRelay(t, func(c *stream.Config) { c.QueueLen = 80 })
	api := peerAPI(t)
	v := play(t, r, api, "live", 1, true)
	pub := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
	for range 5 {
		for f := range 20 {
			pub.sendFrame(t, f == 0, 10, 900)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitFor(t, 5*time.Second, "drops and a keyframe request", func() bool {
		st, _ := r.Stats("live")
		return st.Drops > 0 && pub.plis.get() > 0
	})
	// the burst is over once the relay has stopped sending
	last := uint64(0)
	waitFor(t, 10*time.Second, "the relay to drain", func() bool {
		time.Sleep(300 * time.Millisecond)
		st, _ := r.Stats("live")
		done := st.PacketsOut == last
		last = st.PacketsOut
		return done
	})
	before := len(v.packets("slot0/video"))
	var s sent
	pub.frames(t, &s, 30, 4)
	waitFor(t, 10*time.Second, "every packet after the burst", func() bool {
		return len(v.packets("slot0/video")) >= before+len(s.video)
	})
	checkDelivery(t, "after the burst", v.packets("slot0/video")[before:], s.video)
}

func TestNoGoroutineLeftAfterDelete(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		r, tokens := newRelay(t, nil)
		api := peerAPI(t)
		v := play(t, r, api, "live", 2, true)
		pub := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
		var s sent
		pub.frames(t, &s, 10, 2)
		waitFor(t, 5*time.Second, "packets", func() bool { return len(v.packets("slot0/video")) >= len(s.video) })
		if err := r.Delete(pub.answer.ID); err != nil {
			t.Fatal(err)
		}
		if err := r.Delete(v.answer.ID); err != nil {
			t.Fatal(err)
		}
		if err := r.Delete(v.answer.ID); !errors.Is(err, stream.ErrNotFound) {
			t.Fatalf("second DELETE: %v, want ErrNotFound", err)
		}
		_ = pub.pc.Close()
		_ = v.pc.Close()
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	goroutinesBackTo(t, base+2)
}

func TestH264AndVP8AnchorsInOneSession(t *testing.T) {
	r, tokens := newRelay(t, nil)
	api := peerAPI(t)
	v := play(t, r, api, "live", 2, true)
	a := publishCodec(t, r, api, "live", issue(t, tokens, "live", "甲"), webrtc.MimeTypeH264)
	b := publish(t, r, api, "live", issue(t, tokens, "live", "乙"))
	var sa, sb sent
	a.frames(t, &sa, 40, 3)
	b.frames(t, &sb, 40, 3)
	waitFor(t, 5*time.Second, "both anchors", func() bool {
		return len(v.packets("slot0/video")) >= len(sa.video) && len(v.packets("slot1/video")) >= len(sb.video)
	})
	checkDelivery(t, "H264 anchor", v.packets("slot0/video"), sa.video)
	checkDelivery(t, "VP8 anchor", v.packets("slot1/video"), sb.video)
	if got := v.packets("slot0/video")[0].mime; got != webrtc.MimeTypeH264 {
		t.Fatalf("slot 0 arrives as %s, want H264", got)
	}
	if got := v.packets("slot1/video")[0].mime; got != webrtc.MimeTypeVP8 {
		t.Fatalf("slot 1 arrives as %s, want VP8", got)
	}
}
