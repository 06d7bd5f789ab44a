package stream_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

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
