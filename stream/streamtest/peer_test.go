package streamtest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"govlive/stream/streamtest"
)

// whep is a WHEP endpoint answering with a pion peer that sends one VP8
// track; it keeps what it was sent.
type whep struct {
	t     *testing.T
	api   *webrtc.API
	mu    sync.Mutex
	auth  []string // Authorization of every request
	ctype []string // Content-Type of every request
	video *webrtc.TrackLocalStaticRTP
}

func (e *whep) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	offer, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	e.auth = append(e.auth, r.Header.Get("Authorization"))
	e.ctype = append(e.ctype, r.Header.Get("Content-Type"))
	e.mu.Unlock()
	if r.URL.Path != "/whep/live" {
		http.Error(w, `{"error": "no such session"}`, http.StatusNotFound)
		return
	}
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{}) // not Peer: no t.Fatal off the test's goroutine
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	e.t.Cleanup(func() { _ = pc.Close() })
	if _, err := pc.AddTrack(e.video); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	<-gathered
	w.Header().Set("Content-Type", "application/sdp")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, pc.LocalDescription().SDP)
}

// TestOffers: a Viewer offers one video and one audio m-line, both
// receive-only, a Sender the same sending; both with all their candidates,
// on loopback UDP only.
func TestOffers(t *testing.T) {
	for _, tc := range []struct {
		name string
		peer func(testing.TB, *webrtc.API, webrtc.Configuration) *webrtc.PeerConnection
		dir  string
	}{
		{"Viewer", streamtest.Viewer, "a=recvonly"},
		{"Sender", streamtest.Sender, "a=sendonly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sdp := streamtest.Offer(t, tc.peer(t, streamtest.API(t), webrtc.Configuration{}))
			var media, dirs, candidates []string
			for _, l := range strings.Split(sdp, "\r\n") {
				switch {
				case strings.HasPrefix(l, "m="):
					media = append(media, strings.Fields(l)[0])
				case l == "a=recvonly", l == "a=sendonly", l == "a=sendrecv", l == "a=inactive":
					dirs = append(dirs, l)
				case strings.HasPrefix(l, "a=candidate:"):
					candidates = append(candidates, l)
				}
			}
			if got, want := strings.Join(media, " ")+" "+strings.Join(dirs, " "), "m=video m=audio "+tc.dir+" "+tc.dir; got != want {
				t.Errorf("got m-lines and directions %q, want %q", got, want)
			}
			if len(candidates) == 0 || !strings.Contains(sdp, "a=end-of-candidates") {
				t.Fatalf("offer without its candidates:\n%s", sdp)
			}
			for _, c := range candidates {
				if f := strings.Fields(c); len(f) < 5 || strings.ToLower(f[2]) != "udp" || !strings.HasPrefix(f[4], "127.") {
					t.Errorf("candidate %q: want UDP on loopback", c)
				}
			}
		})
	}
}

// TestSignal: Signal posts the offer as application/sdp with the bearer
// token, applies a 201's answer (the peers connect; Count counts the
// video that arrives) and leaves an error's body unapplied.
func TestSignal(t *testing.T) {
	sent, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "test")
	if err != nil {
		t.Fatal(err)
	}
	api := streamtest.API(t)
	e := &whep{t: t, api: api, video: sent}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	missing := streamtest.Viewer(t, api, webrtc.Configuration{})
	resp, body := streamtest.Signal(t, missing, srv.URL+"/whep/nosuch", "")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "no such session") {
		t.Fatalf("unknown session: got %d %q, want 404 with the endpoint's body", resp.StatusCode, body)
	}
	if missing.RemoteDescription() != nil {
		t.Errorf("an error's body was applied as the answer")
	}

	pc := streamtest.Viewer(t, api, webrtc.Configuration{})
	video, audio := streamtest.Count(pc)
	resp, body = streamtest.Signal(t, pc, srv.URL+"/whep/live", "glt_token")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("got %d %q, want 201", resp.StatusCode, body)
	}
	if pc.RemoteDescription() == nil || pc.RemoteDescription().SDP != body {
		t.Fatalf("the answer was not applied")
	}
	deadline := time.Now().Add(10 * time.Second)
	for seq := uint16(0); video.Load() < 10; seq++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 10 video packets arrived within 10 s (connection %s)", video.Load(), pc.ConnectionState())
		}
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: true}, Payload: []byte{0x10, 0, 0, 0}}
		if err := sent.WriteRTP(pkt); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := audio.Load(); n != 0 {
		t.Errorf("counted %d audio packets, want 0 (only video was sent)", n)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if want := []string{"", "Bearer glt_token"}; strings.Join(e.auth, ",") != strings.Join(want, ",") {
		t.Errorf("Authorization: got %q, want %q", e.auth, want)
	}
	for _, ct := range e.ctype {
		if ct != "application/sdp" {
			t.Errorf("Content-Type: got %q, want application/sdp", ct)
		}
	}
}
