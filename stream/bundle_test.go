package stream_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"govlive/stream"
	"govlive/stream/streamtest"
)

// mlineSpec is one transceiver of a test viewer: its kind and mid ("" for
// pion's own numbering).
type mlineSpec struct {
	kind webrtc.RTPCodecType
	mid  string
}

// playSpec connects a viewer with the given transceivers; rewrite changes
// the offer the relay gets (the viewer keeps its own). What arrives is
// recorded by the mid it arrives on ("video1").
func playSpec(t *testing.T, r *stream.Relay, api *webrtc.API, specs []mlineSpec, rewrite func(string) string) (*testViewer, error) {
	t.Helper()
	pc := streamtest.Peer(t, api, webrtc.Configuration{})
	v := &testViewer{pc: pc, got: map[string][]received{}, read: true}
	for _, s := range specs {
		tr, err := pc.AddTransceiverFromKind(s.kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			t.Fatal(err)
		}
		if s.mid != "" {
			if err := tr.SetMid(s.mid); err != nil {
				t.Fatal(err)
			}
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
		mid := "?"
		for _, x := range pc.GetTransceivers() {
			if x.Receiver() == receiver {
				mid = x.Mid()
			}
		}
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			rc := received{seq: pkt.SequenceNumber, ts: pkt.Timestamp, at: time.Now()}
			if len(pkt.Payload) >= 18 {
				rc.n = binary.BigEndian.Uint64(pkt.Payload[2:]) // markPayload's packet number
			}
			v.mu.Lock()
			v.got[mid] = append(v.got[mid], rc)
			v.mu.Unlock()
		}
	})
	offer := streamtest.Offer(t, pc)
	if rewrite != nil {
		offer = rewrite(offer)
	}
	ans, err := r.Play(context.Background(), "live", offer)
	if err != nil {
		return nil, err
	}
	v.answer = ans
	streamtest.Accept(t, pc, ans.SDP)
	waitConnected(t, pc)
	return v, nil
}

// TestMaxBundleViewers: viewers whose offers bundle everything (port-0
// m-lines with a=bundle-only, non-numeric mids) get video and audio on the
// m-lines they offered; a port-0 m-line without bundle-only stays
// rejected and carries nothing.
func TestMaxBundleViewers(t *testing.T) {
	audio0 := mlineSpec{webrtc.RTPCodecTypeAudio, "audio0"}
	video1 := mlineSpec{webrtc.RTPCodecTypeVideo, "video1"}
	tests := []struct {
		name    string
		specs   []mlineSpec
		rewrite func(string) string
		// mids on which the anchor's video and audio must arrive, and
		// mids on which nothing may arrive
		video, audio string
		silent       []string
	}{
		{
			name:  "GStreamer webrtcbin max-bundle: audio0, bundle-only video1",
			specs: []mlineSpec{audio0, video1}, rewrite: streamtest.MaxBundle,
			video: "video1", audio: "audio0",
		},
		{
			name: "max-bundle with two slots each, bundle-only after the first",
			specs: []mlineSpec{{webrtc.RTPCodecTypeVideo, "v0"}, {webrtc.RTPCodecTypeAudio, "a0"},
				{webrtc.RTPCodecTypeVideo, "v1"}, {webrtc.RTPCodecTypeAudio, "a1"}},
			rewrite: streamtest.MaxBundle,
			video:   "v0", audio: "a0", silent: []string{"v1", "a1"},
		},
		{
			name: "a rejected video m-line before the live one",
			specs: []mlineSpec{{webrtc.RTPCodecTypeVideo, "0"}, {webrtc.RTPCodecTypeVideo, "1"},
				{webrtc.RTPCodecTypeAudio, "2"}},
			rewrite: func(o string) string { return strings.Replace(o, "m=video 9 ", "m=video 0 ", 1) },
			video:   "1", audio: "2", silent: []string{"0"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, tokens := newRelay(t, nil)
			api := streamtest.API(t)
			v, err := playSpec(t, r, api, tc.specs, tc.rewrite)
			if err != nil {
				t.Fatalf("play: %v", err)
			}
			pub := publish(t, r, api, "live", issue(t, tokens, "live", "甲"))
			var s sent
			pub.frames(t, &s, 30, 2)
			waitAll(t, r, v, tc.video, s.video, 5*time.Second)
			waitAll(t, r, v, tc.audio, s.audio, 5*time.Second)
			checkDelivery(t, "video on "+tc.video, v.packets(tc.video), s.video)
			for _, mid := range tc.silent {
				if n := len(v.packets(mid)); n > 0 {
					t.Errorf("%d packets arrived on m-line %s, want none", n, mid)
				}
			}
		})
	}
}

// TestOfferVideoUnusable: an offer that asks for video the relay cannot
// use is refused with ErrNoVideo (and ErrUnsupported), not answered with
// audio only.
func TestOfferVideoUnusable(t *testing.T) {
	r, tokens := newRelay(t, nil)
	api := streamtest.API(t)
	notGrouped := func(o string) string {
		o = streamtest.MaxBundle(o)
		return strings.Replace(o, "a=group:BUNDLE audio0 video1", "a=group:BUNDLE audio0", 1)
	}
	_, err := playSpec(t, r, api, []mlineSpec{{webrtc.RTPCodecTypeAudio, "audio0"}, {webrtc.RTPCodecTypeVideo, "video1"}}, notGrouped)
	if !errors.Is(err, stream.ErrNoVideo) || !errors.Is(err, stream.ErrUnsupported) {
		t.Fatalf("play: got %v, want ErrNoVideo and ErrUnsupported", err)
	}
	pub := newPublisher(t, api)
	offer := strings.ReplaceAll(streamtest.Offer(t, pub.pc), "a=group:BUNDLE 0 1", "a=group:BUNDLE 1")
	offer = strings.Replace(offer, "m=video 9 ", "m=video 0 ", 1)
	offer = strings.Replace(offer, "a=mid:0\r\n", "a=mid:0\r\na=bundle-only\r\n", 1)
	_, err = r.Publish(context.Background(), "live", issue(t, tokens, "live", "甲"), offer)
	if !errors.Is(err, stream.ErrNoVideo) {
		t.Fatalf("publish: got %v, want ErrNoVideo", err)
	}
}

// TestMaxBundlePublisher: an anchor whose WHIP offer bundles everything
// (GStreamer's whipclientsink on webrtcbin, max-bundle) is published with
// both its tracks.
func TestMaxBundlePublisher(t *testing.T) {
	r, tokens := newRelay(t, nil)
	api := streamtest.API(t)
	v := play(t, r, api, "live", 1, true)
	pub := newPublisher(t, api)
	ans, err := r.Publish(context.Background(), "live", issue(t, tokens, "live", "甲"), streamtest.MaxBundle(streamtest.Offer(t, pub.pc)))
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	streamtest.Accept(t, pub.pc, ans.SDP)
	waitConnected(t, pub.pc)
	var s sent
	pub.frames(t, &s, 30, 2)
	waitAll(t, r, v, "slot0/video", s.video, 5*time.Second)
	waitAll(t, r, v, "slot0/audio", s.audio, 5*time.Second)
}
