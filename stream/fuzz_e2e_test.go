package stream_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"govlive/stream"
	"govlive/stream/streamtest"
)

// FuzzOfferEndToEnd feeds arbitrary offers to WHIP and WHEP through real
// peer connections: no panic, and every refusal is one of the relay's
// client errors (a clear 4xx at the edge). It is slow (a few executions a
// second); FuzzOffer explores the checks made before pion.
func FuzzOfferEndToEnd(f *testing.F) {
	r, tokens := newRelay(f, func(c *stream.Config) { c.GatherTimeout = 2 * time.Second })
	token := issue(f, tokens, "live", "甲")
	api := streamtest.API(f)
	pc := streamtest.Peer(f, api, webrtc.Configuration{})
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
			f.Fatal(err)
		}
	}
	offer := streamtest.Offer(f, pc)
	f.Add(offer)
	f.Add(offer[:len(offer)/2])
	f.Add(strings.ReplaceAll(offer, "VP8", "AV1X"))
	f.Add(strings.ReplaceAll(offer, "m=video 9", "m=video 0"))
	f.Add(streamtest.MaxBundle(offer))
	f.Add(strings.ReplaceAll(offer, "a=fingerprint", "a=x-fingerprint"))
	f.Add(strings.ReplaceAll(offer, "a=ice-ufrag", "a=x-ice-ufrag"))
	f.Add("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, offer string) {
		ctx := context.Background()
		for _, do := range []func() (*stream.Answer, error){
			func() (*stream.Answer, error) { return r.Publish(ctx, "live", token, offer) },
			func() (*stream.Answer, error) { return r.Play(ctx, "live", offer) },
		} {
			start := time.Now()
			ans, err := do()
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("offer %q took %s", offer, d)
			}
			if err == nil {
				if err := r.Delete(ctx, "live", ans.ID, token); err != nil {
					t.Fatalf("delete %s: %v", ans.ID, err)
				}
				continue
			}
			if !errors.Is(err, stream.ErrInvalid) && !errors.Is(err, stream.ErrUnsupported) {
				t.Fatalf("offer %q: error %v is not ErrInvalid or ErrUnsupported", offer, err)
			}
		}
	})
}
