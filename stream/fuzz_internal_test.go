package stream

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// smallOffer is an offer with one m-line per kind in kinds ("v", "a"), a
// BUNDLE group of them all, and direction dir: small, so that the fuzzer
// mutates structure rather than codec lists, and minimises fast.
func smallOffer(dir string, kinds ...string) string {
	var b strings.Builder
	var mids []string
	for i := range kinds {
		mids = append(mids, strconv.Itoa(i))
	}
	b.WriteString("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE " + strings.Join(mids, " ") + "\r\n")
	for i, k := range kinds {
		if k == "v" {
			b.WriteString("m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n")
		} else {
			b.WriteString("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n")
		}
		b.WriteString("a=mid:" + mids[i] + "\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\na=" + dir + "\r\n")
	}
	return b.String()
}

// bundleOnly marks the m-lines after the first port 0 + a=bundle-only.
func bundleOnly(offer string) string {
	parts := strings.Split(offer, "\r\nm=")
	for i := 2; i < len(parts); i++ {
		parts[i] = strings.Replace(parts[i], " 9 ", " 0 ", 1)
		parts[i] = strings.Replace(parts[i], "a=ice-ufrag", "a=bundle-only\r\na=ice-ufrag", 1)
	}
	return strings.Join(parts, "\r\nm=")
}

// FuzzOffer fuzzes what the relay reads from an offer before pion sees it
// (offerMedia: size, SDP syntax, kinds, directions, port-0 and
// bundle-only m-lines), fast enough to explore: no peer connection is
// made (FuzzOfferEndToEnd does that). Properties: a refusal is
// ErrInvalid or ErrUnsupported only; an accepted offer yields at least one
// m-line, each one an audio or video m-line of the offer, in order, that
// is not rejected; a publication has at most one of each kind; and an
// offer that asks for video never ends up without (ErrNoVideo instead).
func FuzzOffer(f *testing.F) {
	video, audio := webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio
	view := smallOffer("recvonly", "a", "v", "a", "v")
	pub := smallOffer("sendonly", "v", "a")
	for _, o := range []string{view, pub} {
		f.Add(o, true)
		f.Add(o, false)
		f.Add(bundleOnly(o), false)
		f.Add(bundleOnly(o), true)
		f.Add(strings.Replace(o, "m=video 9", "m=video 0", 1), false)
		f.Add(strings.Replace(bundleOnly(o), "a=group:BUNDLE", "a=group:LS", 1), false)
	}
	f.Add(smallOffer("sendrecv", "v", "v", "a"), false)
	f.Add(smallOffer("inactive", "v", "a"), false)
	f.Add("", true)
	f.Fuzz(func(t *testing.T, offer string, publish bool) {
		media, err := offerMedia(offer, publish)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v is not ErrInvalid or ErrUnsupported", err)
			}
			if errors.Is(err, ErrNoVideo) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("ErrNoVideo without ErrUnsupported: %v", err)
			}
			return
		}
		if len(media) == 0 {
			t.Fatal("an accepted offer yields no media")
		}
		var d sdp.SessionDescription
		if err := d.UnmarshalString(offer); err != nil {
			t.Fatalf("accepted an offer that is not SDP: %v", err)
		}
		// each m-line served is one of the offer's, in order, not rejected
		next := 0
		for _, m := range media {
			if m.kind != video && m.kind != audio {
				t.Fatalf("m-line %q of kind %s", m.mid, m.kind)
			}
			found := false
			for ; next < len(d.MediaDescriptions) && !found; next++ {
				md := d.MediaDescriptions[next]
				mid, _ := md.Attribute("mid")
				found = webrtc.NewRTPCodecType(md.MediaName.Media) == m.kind && mid == m.mid
				if _, bundleOnly := md.Attribute("bundle-only"); found && md.MediaName.Port.Value == 0 && !bundleOnly {
					t.Fatalf("m-line %q is rejected (port 0) but served", m.mid)
				}
			}
			if !found {
				t.Fatalf("served m-line %+v is not in the offer (in order)", m)
			}
		}
		counts := countMedia(media)
		if publish && (counts[video] > 1 || counts[audio] > 1) {
			t.Fatalf("a publication with %v", counts)
		}
		// an offer that asks for video gets video
		for _, md := range d.MediaDescriptions {
			_, bundleOnly := md.Attribute("bundle-only")
			dir := direction(md)
			asks := webrtc.NewRTPCodecType(md.MediaName.Media) == video &&
				(md.MediaName.Port.Value != 0 || bundleOnly) &&
				(dir == "sendrecv" || (publish && dir == "sendonly") || (!publish && dir == "recvonly"))
			if asks && counts[video] == 0 {
				t.Fatalf("the offer asks for video and ends up with %v", counts)
			}
		}
	})
}

// FuzzTrickle fuzzes the reading of trickle-ICE fragments (PATCH with
// application/trickle-ice-sdpfrag). Properties: a refusal is ErrInvalid
// or ErrRestartUnsupported; an accepted fragment yields exactly its
// candidate lines, each one a candidate pion parses, and its
// end-of-candidates; one with other ICE credentials is never accepted.
func FuzzTrickle(f *testing.F) {
	const ufrag = "fuzzufrag"
	f.Add("a=ice-ufrag:" + ufrag + "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\na=end-of-candidates\r\n")
	f.Add("a=ice-ufrag:" + ufrag + "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:audio0\r\na=candidate:2 1 tcp 1518280447 192.0.2.1 9 typ host tcptype passive\r\n" +
		"m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:video1\r\na=bundle-only\r\na=end-of-candidates\r\n")
	f.Add("a=candidate:3 1 udp 1686052607 198.51.100.7 61000 typ srflx raddr 10.0.0.2 rport 61000 generation 0 ufrag x\r\n")
	f.Add("a=ice-ufrag:other\r\na=ice-pwd:newpasswordnewpassword12\r\n")
	f.Add("a=candidate:garbage\r\n")
	f.Add("a=end-of-candidates")
	f.Fuzz(func(t *testing.T, frag string) {
		tr, err := parseTrickle(frag, ufrag)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrRestartUnsupported) {
				t.Fatalf("error %v is not ErrInvalid or ErrRestartUnsupported", err)
			}
			return
		}
		var cands int
		end := false
		for _, line := range strings.Split(frag, "\n") {
			line = strings.TrimSpace(line)
			if u, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok && u != ufrag {
				t.Fatalf("accepted a fragment with ufrag %q (an ICE restart)", u)
			}
			if strings.HasPrefix(line, "a=candidate:") {
				cands++
			}
			end = end || line == "a=end-of-candidates"
		}
		if len(tr.candidates) != cands || tr.end != end {
			t.Fatalf("got %d candidates, end %v; the fragment has %d, end %v", len(tr.candidates), tr.end, cands, end)
		}
		for _, c := range tr.candidates {
			if _, err := ice.UnmarshalCandidate(c); err != nil {
				t.Fatalf("accepted candidate %q pion cannot read: %v", c, err)
			}
		}
	})
}
