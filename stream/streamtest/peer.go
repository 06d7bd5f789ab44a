package streamtest

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// Loopback returns the settings of a test peer on loopback: host
// candidates on loopback addresses only, over UDP on IPv4. A test may
// change them further before it makes an API with them.
func Loopback() webrtc.SettingEngine {
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return se
}

// API returns a pion API for test peers on loopback (Loopback) with
// pion's default codecs and interceptors, as a real client has them.
func API(t testing.TB) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatalf("register codecs: %v", err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		t.Fatalf("register interceptors: %v", err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(Loopback()))
}

// Peer returns a new peer connection of api with cfg, closed when the
// test ends.
func Peer(t testing.TB, api *webrtc.API, cfg webrtc.Configuration) *webrtc.PeerConnection {
	t.Helper()
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		t.Fatalf("new peer connection: %v", err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

// Viewer returns a Peer that receives one video and one audio track: the
// offer of a WHEP player with one slot.
func Viewer(t testing.TB, api *webrtc.API, cfg webrtc.Configuration) *webrtc.PeerConnection {
	t.Helper()
	return peerWith(t, api, cfg, webrtc.RTPTransceiverDirectionRecvonly)
}

// Sender returns a Peer with one video and one audio transceiver that
// send, with no track behind them: the offer of a WHIP publisher, all a
// test of signalling needs. (Media tests attach tracks of their own.)
func Sender(t testing.TB, api *webrtc.API, cfg webrtc.Configuration) *webrtc.PeerConnection {
	t.Helper()
	return peerWith(t, api, cfg, webrtc.RTPTransceiverDirectionSendonly)
}

// peerWith is a Peer with a video and an audio transceiver in direction dir.
func peerWith(t testing.TB, api *webrtc.API, cfg webrtc.Configuration, dir webrtc.RTPTransceiverDirection) *webrtc.PeerConnection {
	t.Helper()
	pc := Peer(t, api, cfg)
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: dir}); err != nil {
			t.Fatalf("add a %s %s transceiver: %v", dir, kind, err)
		}
	}
	return pc
}

// Count counts the video and the audio packets pc receives from now on
// (it sets pc's OnTrack).
func Count(pc *webrtc.PeerConnection) (video, audio *atomic.Int64) {
	video, audio = new(atomic.Int64), new(atomic.Int64)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		n := audio
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			n = video
		}
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			n.Add(1)
		}
	})
	return video, audio
}

// Offer makes pc's offer its local description, waits until ICE
// gathering is complete and returns the SDP with every candidate in it,
// as a client that does not trickle sends it.
func Offer(t testing.TB, pc *webrtc.PeerConnection) string {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatalf("create offer: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatalf("set local description: %v", err)
	}
	<-gathered
	return pc.LocalDescription().SDP
}

// Accept applies answer, the SDP a relay or an endpoint answered pc's
// offer with, as pc's remote description.
func Accept(t testing.TB, pc *webrtc.PeerConnection, answer string) {
	t.Helper()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatalf("set remote description: %v", err)
	}
}

// Post sends offer to the WHIP or WHEP endpoint at url, as
// application/sdp with token as its bearer token ("" for none), and
// returns the response, its body already read and closed, and the body.
func Post(t testing.TB, url, token, offer string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(offer))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	body, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("POST %s: read the answer: %v", url, err)
	}
	return resp, string(body)
}

// Signal posts pc's Offer to url with token and, when the endpoint answers
// 201 Created, Accepts the answer. It returns what Post returns, for the
// test to check the status.
func Signal(t testing.TB, pc *webrtc.PeerConnection, url, token string) (*http.Response, string) {
	t.Helper()
	resp, body := Post(t, url, token, Offer(t, pc))
	if resp.StatusCode == http.StatusCreated {
		Accept(t, pc, body)
	}
	return resp, body
}
