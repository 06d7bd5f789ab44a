package stream_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"govlive/stream"
	"govlive/stream/streamtest"
)

// checkDelivery asserts that got holds exactly the packets numbered in
// want, and that the relay numbered them in order: sorted by the sequence
// numbers the relay gave them, they run without a gap in want's order.
// Arrival order may differ where a loopback socket loss was repaired by
// a NACK, and a repair may arrive twice.
func checkDelivery(t *testing.T, name string, got []received, want []uint64) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: nothing sent", name)
	}
	index := make(map[uint64]int, len(want))
	for i, n := range want {
		index[n] = i
	}
	var first *received
	for i := range got {
		if got[i].n == want[0] {
			first = &got[i]
			break
		}
	}
	if first == nil {
		t.Fatalf("%s: packet #%d (the first) never arrived", name, want[0])
	}
	seen := make(map[uint64]bool, len(want))
	for _, p := range got {
		i, ok := index[p.n]
		if !ok {
			t.Fatalf("%s: packet #%d was not sent in this run", name, p.n)
		}
		if d := int(p.seq - first.seq); d != i {
			t.Fatalf("%s: packet #%d has sequence number %d, %d after the first; want %d (in order, no gap)", name, p.n, p.seq, d, i)
		}
		seen[p.n] = true
	}
	if len(seen) != len(want) {
		t.Fatalf("%s: %d of %d packets arrived", name, len(seen), len(want))
	}
}

// only keeps the packets numbered in want (a test's later phase).
func only(got []received, want []uint64) []received {
	keep := make(map[uint64]bool, len(want))
	for _, n := range want {
		keep[n] = true
	}
	var out []received
	for _, p := range got {
		if keep[p.n] {
			out = append(out, p)
		}
	}
	return out
}

// waitAll waits up to d for every packet of want on key, and names the
// missing ones (by index in want) with the session's stats if they do
// not come.
func waitAll(t *testing.T, r *stream.Relay, v *testViewer, key string, want []uint64, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !hasAll(v, key, want) {
		if time.Now().After(deadline) {
			got := map[uint64]bool{}
			for _, p := range v.packets(key) {
				got[p.n] = true
			}
			var missing []int
			for i, n := range want {
				if !got[n] {
					missing = append(missing, i)
				}
			}
			st, _ := r.Stats("live")
			t.Fatalf("%s: %d of %d packets missing after %s, first at %v; stats %+v",
				key, len(missing), len(want), d, missing[:min(10, len(missing))], st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hasAll reports whether every packet of want has arrived on key.
func hasAll(v *testViewer, key string, want []uint64) bool {
	got := map[uint64]bool{}
	for _, p := range v.packets(key) {
		got[p.n] = true
	}
	for _, n := range want {
		if !got[n] {
			return false
		}
	}
	return true
}

// sent numbers the packets a run of sendFrame calls produces.
type sent struct{ video, audio []uint64 }

func (p *testPublisher) frames(t *testing.T, s *sent, count, perFrame int) {
	t.Helper()
	for f := range count {
		// a keyframe every 30 frames, and after a keyframe request (as an
		// encoder answers a PLI)
		key := f%30 == 0 || p.plis.get() > p.plisAnswered
		p.plisAnswered = p.plis.get()
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
	api := streamtest.API(t)
	var viewers []*testViewer
	for range 3 {
		viewers = append(viewers, play(t, r, api, "live", 4, true))
	}
	pub := publish(t, r, api, "live", issue(t, tokens, "live", "张主播"))
	var s sent
	pub.frames(t, &s, 90, 4)
	for i, v := range viewers {
		waitFor(t, 5*time.Second, "all packets", func() bool {
			return hasAll(v, "slot0/video", s.video) && hasAll(v, "slot0/audio", s.audio)
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
	api := streamtest.API(t)
	good := issue(t, tokens, "live", "李主播")
	revoked := issue(t, tokens, "live", "王主播")
	if n, err := tokens.Revoke(context.Background(), "live", "王主播"); err != nil || n != 1 {
		t.Fatalf("revoke = %d, %v", n, err)
	}
	offer := streamtest.Offer(t, newPublisher(t, api).pc)
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
	api := streamtest.API(t)
	v := play(t, r, api, "live", 4, true)
	a := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
	b := publish(t, r, api, "live", issue(t, tokens, "live", "乙"))
	var sa, sb sent
	for range 3 {
		a.frames(t, &sa, 10, 2)
		b.frames(t, &sb, 10, 2)
	}
	waitFor(t, 5*time.Second, "both anchors' packets", func() bool {
		return hasAll(v, "slot0/video", sa.video) && hasAll(v, "slot1/video", sb.video)
	})
	checkDelivery(t, "anchor 甲 in slot 0", v.packets("slot0/video"), sa.video)
	checkDelivery(t, "anchor 乙 in slot 1", v.packets("slot1/video"), sb.video)

	// 甲 leaves: slot 0 goes quiet, 乙 keeps slot 1.
	if err := r.Delete(context.Background(), "live", a.answer.ID, a.token); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "one anchor left", func() bool {
		st, _ := r.Stats("live")
		return len(st.Anchors) == 1 && st.Anchors[0].Anchor == "乙" && st.Anchors[0].Slot == 1
	})
	before := len(v.packets("slot0/video"))
	b.frames(t, &sb, 30, 2)
	waitFor(t, 5*time.Second, "乙 after 甲 left", func() bool { return hasAll(v, "slot1/video", sb.video) })
	if got := len(v.packets("slot0/video")); got != before {
		t.Fatalf("slot 0 got %d packets after its anchor left", got-before)
	}

	// 甲 rejoins with a new connection (new SSRC, new sequence numbers):
	// the viewer's slot 0 continues its own sequence without a gap.
	a2 := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
	a2.vseq, a2.vts = 40000, 123456789 // far from the old numbering
	a2.n = 1_000_000
	var sa2 sent
	a2.frames(t, &sa2, 30, 2)
	waitFor(t, 5*time.Second, "甲 again in slot 0", func() bool { return hasAll(v, "slot0/video", sa2.video) })
	all := v.packets("slot0/video")
	again := only(all, sa2.video)
	checkDelivery(t, "slot 0 after rejoin", again, sa2.video)
	lastOld := only(all, sa.video)
	prev, next := lastOld[0], again[0]
	for _, p := range lastOld {
		if int16(p.seq-prev.seq) > 0 {
			prev = p
		}
	}
	for _, p := range again {
		if int16(p.seq-next.seq) < 0 {
			next = p
		}
	}
	if next.seq != prev.seq+1 {
		t.Fatalf("slot 0 sequence jumps from %d to %d across the change of source", prev.seq, next.seq)
	}
	if d := next.ts - prev.ts; d == 0 || d > 90000*30 {
		t.Fatalf("slot 0 timestamp steps by %d across the change of source", d)
	}
	if !next.key {
		t.Fatalf("the new source does not start with a keyframe")
	}
}

func TestStalledViewerDoesNotHoldOthers(t *testing.T) {
	r, tokens := newRelay(t, func(c *stream.Config) { c.QueueLen = 128 })
	api := streamtest.API(t)
	good := play(t, r, api, "live", 1, true)
	stalled := play(t, r, api, "live", 1, false) // never reads
	_ = stalled
	pub := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
	var s sent
	pub.frames(t, &s, 150, 6)
	waitFor(t, 5*time.Second, "the reading viewer's packets", func() bool {
		return hasAll(good, "slot0/video", s.video)
	})
	checkDelivery(t, "reading viewer", good.packets("slot0/video"), s.video)
}

// TestSlowViewerRecovers: bursts larger than a viewer's queue make the
// relay drop (counted) and ask the publisher for a keyframe; once the
// burst is over the viewer gets every packet again, from a keyframe on.
// (That drops take whole frames is checked in TestLaggardDisconnected,
// without the loopback socket losses of a burst.)
func TestSlowViewerRecovers(t *testing.T) {
	// a queue of 16 overflows on a burst of 5 frames of 10 packets, a load
	// the relay's own socket takes easily
	r, tokens := newRelay(t, func(c *stream.Config) { c.QueueLen = 16 })
	api := streamtest.API(t)
	v := play(t, r, api, "live", 1, true)
	pub := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
	for range 5 {
		for f := range 5 {
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
	var s sent
	pub.frames(t, &s, 30, 4)
	// late repairs of the burst may interleave: wait for every packet
	// sent after it, in any order (loopback losses are repaired by NACK).
	waitAll(t, r, v, "slot0/video", s.video, 10*time.Second)
}

func TestNoGoroutineLeftAfterDelete(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		r, tokens := newRelay(t, nil)
		api := streamtest.API(t)
		v := play(t, r, api, "live", 2, true)
		pub := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
		var s sent
		pub.frames(t, &s, 10, 2)
		waitFor(t, 5*time.Second, "packets", func() bool { return hasAll(v, "slot0/video", s.video) })
		if err := r.Delete(context.Background(), "live", pub.answer.ID, pub.token); err != nil {
			t.Fatal(err)
		}
		if err := r.Delete(context.Background(), "live", v.answer.ID, ""); err != nil {
			t.Fatal(err)
		}
		if err := r.Delete(context.Background(), "live", v.answer.ID, ""); !errors.Is(err, stream.ErrNotFound) {
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
	api := streamtest.API(t)
	v := play(t, r, api, "live", 2, true)
	a := publishCodec(t, r, api, "live", issue(t, tokens, "live", "甲"), webrtc.MimeTypeH264)
	b := publish(t, r, api, "live", issue(t, tokens, "live", "乙"))
	var sa, sb sent
	a.frames(t, &sa, 40, 3)
	b.frames(t, &sb, 40, 3)
	waitFor(t, 5*time.Second, "both anchors", func() bool {
		return hasAll(v, "slot0/video", sa.video) && hasAll(v, "slot1/video", sb.video)
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

// TestSessionsReleased: a session's live state goes when its last anchor
// and viewer leave, and refused requests leave none behind.
func TestSessionsReleased(t *testing.T) {
	r, tokens := newRelay(t, nil)
	api := streamtest.API(t)
	for range 5 {
		if _, err := r.Play(context.Background(), "live", "v=0 garbage"); err == nil {
			t.Fatal("garbage offer accepted")
		}
	}
	if got := r.AllStats(); len(got) != 0 {
		t.Fatalf("refused offers left sessions: %+v", got)
	}
	v := play(t, r, api, "live", 1, true)
	pub := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
	if _, ok := r.Stats("live"); !ok {
		t.Fatal("no live state while watched")
	}
	if err := r.Delete(context.Background(), "live", pub.answer.ID, pub.token); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(context.Background(), "live", v.answer.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the session released", func() bool {
		_, ok := r.Stats("live")
		return !ok
	})
	// and it comes back for the next viewer
	play(t, r, api, "live", 1, true)
	if st, ok := r.Stats("live"); !ok || st.Viewers != 1 {
		t.Fatalf("after release: %+v, %v", st, ok)
	}
}

// TestAnchorPublishingAgainReplacesItself: a reloaded publish page (same
// anchor, new connection) replaces the old publication at once, in the
// same slot, and viewers go on receiving without reconnecting.
func TestAnchorPublishingAgainReplacesItself(t *testing.T) {
	r, tokens := newRelay(t, nil)
	api := streamtest.API(t)
	v := play(t, r, api, "live", 2, true)
	token := issue(t, tokens, "live", "甲")
	first := publish(t, r, api, "live", token)
	var s1 sent
	first.frames(t, &s1, 10, 2)
	second := publish(t, r, api, "live", token)
	second.n = 1_000_000
	st, _ := r.Stats("live")
	if len(st.Anchors) != 1 || st.Anchors[0].Anchor != "甲" || st.Anchors[0].Slot != 0 {
		t.Fatalf("after publishing again: anchors %+v, want 甲 once in slot 0", st.Anchors)
	}
	var s2 sent
	second.frames(t, &s2, 30, 2)
	waitFor(t, 5*time.Second, "the new publication in slot 0", func() bool { return hasAll(v, "slot0/video", s2.video) })
	checkDelivery(t, "slot 0 after the replacement", only(v.packets("slot0/video"), s2.video), s2.video)
	waitFor(t, 5*time.Second, "the old connection closed", func() bool {
		return first.pc.ConnectionState() == webrtc.PeerConnectionStateClosed ||
			first.pc.ConnectionState() == webrtc.PeerConnectionStateFailed ||
			first.pc.ConnectionState() == webrtc.PeerConnectionStateDisconnected
	})
}

func TestMaxViewers(t *testing.T) {
	r, _ := newRelay(t, func(c *stream.Config) { c.MaxViewers = 2 })
	api := streamtest.API(t)
	a := play(t, r, api, "live", 1, false)
	play(t, r, api, "other", 1, false)
	if _, err := r.Play(context.Background(), "live", streamtest.Offer(t, streamtest.Viewer(t, api, webrtc.Configuration{}))); !errors.Is(err, stream.ErrFull) {
		t.Fatalf("third viewer: %v, want ErrFull", err)
	}
	if err := r.Delete(context.Background(), "live", a.answer.ID, ""); err != nil {
		t.Fatal(err)
	}
	play(t, r, api, "live", 1, false) // a place is free again
}

// TestSequenceAndTimestampWrap: an anchor whose sequence numbers and
// timestamps wrap while viewers watch.
func TestSequenceAndTimestampWrap(t *testing.T) {
	r, tokens := newRelay(t, nil)
	api := streamtest.API(t)
	v := play(t, r, api, "live", 1, true)
	pub := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
	pub.vseq, pub.vts = 65400, 1<<32-3000*20
	var s sent
	pub.frames(t, &s, 60, 4) // 240 video packets across both wraps
	waitFor(t, 5*time.Second, "every packet across the wrap", func() bool { return hasAll(v, "slot0/video", s.video) })
	got := only(v.packets("slot0/video"), s.video)
	checkDelivery(t, "across the wrap", got, s.video)
	sort.Slice(got, func(i, j int) bool { return int16(got[i].seq-got[j].seq) < 0 }) // arrival order may differ
	for i := 1; i < len(got); i++ {
		if d := int32(got[i].ts - got[i-1].ts); d < 0 || d > 3000 {
			t.Fatalf("timestamp steps by %d at packet %d", d, i)
		}
	}
}

// TestLongStreamThroughPeers: more packets than the sequence space holds
// half of (40,000 > 32,768) through one slot between real peers.
func TestLongStreamThroughPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("long stream")
	}
	r, tokens := newRelay(t, nil)
	api := streamtest.API(t)
	v := play(t, r, api, "live", 1, true)
	pub := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
	const frames = 40000
	var s sent
	for f := range frames {
		// one small video packet per frame, a keyframe every 300
		b := make([]byte, 120)
		b[0], b[1] = 0x10, 0x01
		if f%300 == 0 {
			b[1] = 0x00
		}
		pub.n++
		markPayload(b[2:], pub.n, time.Now())
		pub.vseq++
		pub.vts += 3000
		if err := pub.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: pub.vseq, Timestamp: pub.vts, Marker: true}, Payload: b}); err != nil {
			t.Fatal(err)
		}
		s.video = append(s.video, pub.n)
		if f%8 == 7 {
			time.Sleep(time.Millisecond) // under 8,000 packets a second: no socket overflow
		}
	}
	waitAll(t, r, v, "slot0/video", s.video, 30*time.Second)
	checkDelivery(t, "long stream", only(v.packets("slot0/video"), s.video), s.video)
}
