package stream_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"govlive/stream"
	"govlive/stream/streamtest"
)

// apiWith is a loopback pion API with only the given video codec and
// network types.
func apiWith(t *testing.T, video webrtc.RTPCodecParameters, networks ...webrtc.NetworkType) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(video, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	se := streamtest.Loopback()
	if len(networks) > 0 {
		se.SetNetworkTypes(networks)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
}

var vp8 = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}

func TestNoCommonCodecRefused(t *testing.T) {
	r, tokens := newRelay(t, nil)
	vp9 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000}, PayloadType: 98}
	api := apiWith(t, vp9)
	pub := streamtest.Sender(t, api, webrtc.Configuration{})
	viewer := streamtest.Viewer(t, api, webrtc.Configuration{})
	if _, err := r.Publish(context.Background(), "live", issue(t, tokens, "live", "甲"), streamtest.Offer(t, pub)); !errors.Is(err, stream.ErrUnsupported) || !strings.Contains(err.Error(), "video") {
		t.Fatalf("VP9-only publisher: %v, want ErrUnsupported naming video", err)
	}
	if _, err := r.Play(context.Background(), "live", streamtest.Offer(t, viewer)); !errors.Is(err, stream.ErrUnsupported) {
		t.Fatalf("VP9-only viewer: %v, want ErrUnsupported", err)
	}
	if st, _ := r.Stats("live"); len(st.Anchors) != 0 || st.Viewers != 0 {
		t.Fatalf("refused peers are live: %+v", st)
	}
}

// freeTCPPort returns a TCP port free on loopback a moment ago.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestICETCPFallback(t *testing.T) {
	port := freeTCPPort(t)
	r, tokens := newRelay(t, func(c *stream.Config) { c.ICE.TCPPort = port })
	pub := publish(t, r, streamtest.API(t), "live", issue(t, tokens, "live", "甲"))
	// a viewer that can only use TCP (UDP blocked)
	v := play(t, r, apiWith(t, vp8, webrtc.NetworkTypeTCP4), "live", 1, true)
	if !strings.Contains(v.answer.SDP, " tcp ") {
		t.Fatalf("answer has no TCP candidate:\n%s", v.answer.SDP)
	}
	var s sent
	pub.frames(t, &s, 30, 3)
	waitFor(t, 5*time.Second, "packets over ICE-TCP", func() bool {
		return hasAll(v, "slot0/video", s.video)
	})
	checkDelivery(t, "ICE-TCP viewer", v.packets("slot0/video"), s.video)
}

func TestPublicIPAnnounced(t *testing.T) {
	r, _ := newRelay(t, func(c *stream.Config) { c.ICE.PublicIPs = []string{"203.0.113.7"} })
	pc := streamtest.Peer(t, streamtest.API(t), webrtc.Configuration{})
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	ans, err := r.Play(context.Background(), "live", streamtest.Offer(t, pc))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ans.SDP, " 203.0.113.7 ") {
		t.Fatalf("answer does not announce the public IP:\n%s", ans.SDP)
	}
	if strings.Contains(ans.SDP, " 127.0.0.1 ") {
		t.Fatalf("answer still announces the host address:\n%s", ans.SDP)
	}
}

func TestBadNetworkConfig(t *testing.T) {
	tests := []struct {
		name string
		ice  stream.ICEConfig
	}{
		{"bad public IP", stream.ICEConfig{PublicIPs: []string{"not-an-ip"}}},
		{"port out of range", stream.ICEConfig{UDPPort: 70000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stream.New(stream.Config{Sessions: sessionSet{}, Tokens: noTokens{}, ICE: tc.ice})
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

type noTokens struct{}

func (noTokens) Authorize(context.Context, stream.SessionID, string) (string, error) {
	return "", stream.ErrUnauthorized
}
