package stream_test

import (
	"net"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"govlive/stream"
	"govlive/stream/streamtest"
)

// startTURN runs a real TURN server (pion/turn) on loopback with one user.
func startTURN(t *testing.T, user, pass string) string {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const realm = "govlive.test"
	key := turn.GenerateAuthKey(user, realm, pass)
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: realm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			return ra.Username, key, ra.Username == user
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: conn,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{
				RelayAddress: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1",
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return "turn:" + conn.LocalAddr().String() + "?transport=udp"
}

// TestViewerThroughTURN: a viewer that may only use a TURN relay (as behind
// a strict firewall) gets the anchor's media through the TURN server the
// relay was configured with.
func TestViewerThroughTURN(t *testing.T) {
	turnURL := startTURN(t, "govlive", "secret")
	servers := []webrtc.ICEServer{{URLs: []string{turnURL}, Username: "govlive", Credential: "secret"}}
	r, tokens := newRelay(t, func(c *stream.Config) { c.ICE.Servers = servers })
	if got := r.ICEServers(); len(got) != 1 || got[0].URLs[0] != turnURL {
		t.Fatalf("ICE servers handed to pages: %+v", got)
	}
	pub := publish(t, r, streamtest.API(t), "live", issue(t, tokens, "live", "甲"))

	pc := streamtest.Viewer(t, streamtest.API(t), webrtc.Configuration{
		ICEServers: servers, ICETransportPolicy: webrtc.ICETransportPolicyRelay,
	})
	got := make(chan struct{}, 1)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			select {
			case got <- struct{}{}:
			default:
			}
		}
	})
	ans, err := r.Play(t.Context(), "live", streamtest.Offer(t, pc))
	if err != nil {
		t.Fatal(err)
	}
	streamtest.Accept(t, pc, ans.SDP)
	waitConnected(t, pc)
	deadline := time.After(5 * time.Second)
	for received := false; !received; {
		var s sent
		pub.frames(t, &s, 1, 1)
		select {
		case <-got:
			received = true
		case <-deadline:
			t.Fatal("no media through the TURN relay")
		case <-time.After(30 * time.Millisecond):
		}
	}
	pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("selected pair: %v %v", pair, err)
	}
	if pair.Local.Typ != webrtc.ICECandidateTypeRelay {
		t.Fatalf("viewer's selected candidate is %s, want relay", pair.Local.Typ)
	}
}
