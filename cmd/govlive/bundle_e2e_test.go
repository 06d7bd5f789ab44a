package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"govlive/stream/streamtest"
)

// TestWHEPMaxBundlePlayer: a WHEP player that bundles everything, as
// GStreamer's webrtcbin with bundle-policy max-bundle does (the video
// m-line has port 0 and a=bundle-only; mids audio0 and video1), gets the
// demo card's video and audio over HTTP, and its trickle PATCHes naming
// those mids are taken (204).
func TestWHEPMaxBundlePlayer(t *testing.T) {
	p := startServeArgs(t, t.TempDir(), "--demo", "--ice-loopback")
	pc := streamtest.Peer(t, streamtest.API(t), webrtc.Configuration{})
	for _, m := range []struct {
		kind webrtc.RTPCodecType
		mid  string
	}{{webrtc.RTPCodecTypeAudio, "audio0"}, {webrtc.RTPCodecTypeVideo, "video1"}} {
		tr, err := pc.AddTransceiverFromKind(m.kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.SetMid(m.mid); err != nil {
			t.Fatal(err)
		}
	}
	video, audio := streamtest.Count(pc)
	sent := streamtest.MaxBundle(streamtest.Offer(t, pc))
	if !strings.Contains(sent, "m=video 0 ") || !strings.Contains(sent, "a=bundle-only") {
		t.Fatalf("the rewritten offer is not max-bundle:\n%s", sent)
	}
	resp, body := streamtest.Post(t, p.url+"/whep/demo", "", sent)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whep/demo: %s %s", resp.Status, body)
	}
	streamtest.Accept(t, pc, body)
	deadline := time.Now().Add(8 * time.Second)
	for video.Load() < 30 || audio.Load() < 25 {
		if time.Now().After(deadline) {
			t.Fatalf("after 8 s: %d video, %d audio packets (want video on the bundle-only m-line)", video.Load(), audio.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}

	ufrag := ""
	for _, line := range strings.Split(pc.LocalDescription().SDP, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "a=ice-ufrag:"); ok {
			ufrag = v
		}
	}
	frags := map[string]string{
		"a candidate on audio0": "a=ice-ufrag:" + ufrag + "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:audio0\r\n" +
			"a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n",
		"end of candidates on video1": "a=ice-ufrag:" + ufrag + "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:audio0\r\n" +
			"m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:video1\r\na=bundle-only\r\na=end-of-candidates\r\n",
	}
	for name, frag := range frags {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPatch, p.url+resp.Header.Get("Location"), strings.NewReader(frag))
			req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
			presp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(presp.Body)
			presp.Body.Close()
			if presp.StatusCode != http.StatusNoContent {
				t.Fatalf("PATCH: %s %s, want 204", presp.Status, b)
			}
		})
	}
}
