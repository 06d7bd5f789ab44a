package stream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// maxOfferSize bounds an SDP offer or trickle fragment.
const maxOfferSize = 64 << 10

// mline is an audio or video m-line of an offer that the relay serves:
// one that sends (publish) or receives (play), and is not rejected.
type mline struct {
	kind webrtc.RTPCodecType
	mid  string
}

// offerMedia checks an offer before pion sees it and returns, in m-line
// order, the audio and video m-lines that send (publish) or receive
// (play). A port-0 m-line is rejected, unless it carries a=bundle-only and
// its mid is in a BUNDLE group (RFC 8843 §6: a bundle-only m-line of a
// max-bundle offer, as GStreamer's webrtcbin sends). An offer that asks
// for video the relay cannot serve is refused (ErrNoVideo), not played or
// published as audio only.
func offerMedia(offer string, publish bool) ([]mline, error) {
	if strings.TrimSpace(offer) == "" {
		return nil, fmt.Errorf("%w: empty offer", ErrInvalid)
	}
	if len(offer) > maxOfferSize {
		return nil, fmt.Errorf("%w: offer larger than %d bytes", ErrInvalid, maxOfferSize)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return nil, fmt.Errorf("%w: offer is not SDP: %v", ErrInvalid, err)
	}
	bundled := bundleMids(&d)
	var (
		media      []mline
		askedVideo []string // mids of video m-lines that ask to be used, usable or not
		unbundled  []string // bundle-only mids outside every BUNDLE group
		mids       = map[string]bool{}
	)
	for i, m := range d.MediaDescriptions {
		// slots are bound to m-lines by mid (RFC 8843 requires one each)
		mid, _ := m.Attribute("mid")
		if mid == "" || mids[mid] {
			return nil, fmt.Errorf("%w: m-line %d: a=mid missing or used twice (%q)", ErrInvalid, i, mid)
		}
		mids[mid] = true
		kind := webrtc.NewRTPCodecType(m.MediaName.Media)
		if kind == 0 {
			continue
		}
		dir := direction(m)
		usable := dir == "sendrecv"
		if publish {
			usable = usable || dir == "sendonly"
		} else {
			usable = usable || dir == "recvonly"
		}
		_, bundleOnly := m.Attribute("bundle-only")
		if m.MediaName.Port.Value == 0 && !bundleOnly {
			continue // rejected by the offerer
		}
		if !usable {
			continue
		}
		if kind == webrtc.RTPCodecTypeVideo {
			askedVideo = append(askedVideo, mid)
		}
		if m.MediaName.Port.Value == 0 && !bundled[mid] {
			unbundled = append(unbundled, mid)
			continue
		}
		media = append(media, mline{kind: kind, mid: mid})
	}
	counts := countMedia(media)
	if len(askedVideo) > 0 && counts[webrtc.RTPCodecTypeVideo] == 0 {
		return nil, fmt.Errorf("%w: %w: video m-lines %q are bundle-only but not in a BUNDLE group (a=group:BUNDLE)",
			ErrUnsupported, ErrNoVideo, unbundled)
	}
	if len(media) == 0 {
		if publish {
			return nil, fmt.Errorf("%w: the offer sends no audio or video", ErrUnsupported)
		}
		return nil, fmt.Errorf("%w: the offer receives no audio or video", ErrUnsupported)
	}
	if publish && (counts[webrtc.RTPCodecTypeAudio] > 1 || counts[webrtc.RTPCodecTypeVideo] > 1) {
		return nil, fmt.Errorf("%w: one publication carries at most one audio and one video track", ErrUnsupported)
	}
	return media, nil
}

// warnNoVideo logs an offer refused for its video: the player or
// encoder behind it needs fixing, and whoever runs the relay should hear
// of it, not only the client that got the 422.
func (r *Relay) warnNoVideo(id SessionID, err error) {
	if errors.Is(err, ErrNoVideo) {
		r.log.Warn("offer refused: it asks for video the relay cannot use", "session", id, "err", err)
	}
}

// countMedia counts m-lines by kind.
func countMedia(media []mline) map[webrtc.RTPCodecType]int {
	counts := map[webrtc.RTPCodecType]int{}
	for _, m := range media {
		counts[m.kind]++
	}
	return counts
}

// bundleMids is the set of mids named in the offer's BUNDLE groups.
func bundleMids(d *sdp.SessionDescription) map[string]bool {
	mids := map[string]bool{}
	for _, a := range d.Attributes {
		if a.Key != "group" {
			continue
		}
		fields := strings.Fields(a.Value)
		if len(fields) == 0 || fields[0] != "BUNDLE" {
			continue
		}
		for _, mid := range fields[1:] {
			mids[mid] = true
		}
	}
	return mids
}

func direction(m *sdp.MediaDescription) string {
	for _, a := range m.Attributes {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			return a.Key
		}
	}
	return "sendrecv"
}

// checkNegotiated fails when a kind the offer carries found no codec in
// the answer (an anchor offering only VP9 video is refused, not silently
// published as audio only).
func checkNegotiated(media []mline, answer string) error {
	offered := countMedia(media)
	if offered[webrtc.RTPCodecTypeVideo] > 0 && negotiated(answer, webrtc.RTPCodecTypeVideo) == "" {
		return fmt.Errorf("%w: no common video codec (VP8, or H264 packetization-mode 1)", ErrUnsupported)
	}
	if offered[webrtc.RTPCodecTypeAudio] > 0 && negotiated(answer, webrtc.RTPCodecTypeAudio) == "" {
		return fmt.Errorf("%w: no common audio codec (Opus)", ErrUnsupported)
	}
	return nil
}

// negotiated returns the MIME type of the first codec the answer accepts
// for kind ("" if none).
func negotiated(answer string, kind webrtc.RTPCodecType) string {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(answer); err != nil {
		return ""
	}
	for _, m := range d.MediaDescriptions {
		if webrtc.NewRTPCodecType(m.MediaName.Media) != kind || m.MediaName.Port.Value == 0 || len(m.MediaName.Formats) == 0 {
			continue
		}
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			pt, rest, _ := strings.Cut(a.Value, " ")
			if pt != m.MediaName.Formats[0] {
				continue
			}
			name, _, _ := strings.Cut(rest, "/")
			return kind.String() + "/" + name
		}
	}
	return ""
}

// iceETag identifies the ICE session of a local description (its ufrag).
func iceETag(desc string) string {
	for _, line := range strings.Split(desc, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "a=ice-ufrag:"); ok {
			return `"` + v + `"`
		}
	}
	return ""
}

// ErrRestartUnsupported: a PATCH that asks for an ICE restart (RFC 9725
// §4.3.2: answered 422).
var ErrRestartUnsupported = errors.New("ICE restart is not supported")

// trickle is what a trickle-ICE SDP fragment (RFC 8840) brings.
type trickle struct {
	candidates []string // "candidate:…" values, each one a valid ICE candidate
	end        bool     // a=end-of-candidates
}

// parseTrickle reads a trickle-ICE fragment for the ICE session with
// ufrag. m= and a=mid lines are not needed (the relay bundles everything
// on one transport), so any mids pass, numeric or not (audio0, video1). A
// fragment with other ICE credentials asks for a restart
// (ErrRestartUnsupported); a malformed candidate is ErrInvalid.
func parseTrickle(frag, ufrag string) (trickle, error) {
	var t trickle
	if len(frag) > maxOfferSize {
		return t, fmt.Errorf("%w: fragment larger than %d bytes", ErrInvalid, maxOfferSize)
	}
	for _, line := range strings.Split(frag, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			if u := strings.TrimPrefix(line, "a=ice-ufrag:"); u != ufrag {
				return trickle{}, ErrRestartUnsupported
			}
		case strings.HasPrefix(line, "a=candidate:"):
			c := strings.TrimPrefix(line, "a=")
			if _, err := ice.UnmarshalCandidate(c); err != nil {
				return trickle{}, fmt.Errorf("%w: candidate %q: %v", ErrInvalid, c, err)
			}
			t.candidates = append(t.candidates, c)
		case line == "a=end-of-candidates":
			t.end = true
		}
	}
	return t, nil
}

// applyTrickle adds the candidates of a trickle-ICE SDP fragment to pc.
func applyTrickle(pc *webrtc.PeerConnection, frag string) error {
	remote := pc.RemoteDescription()
	if remote == nil {
		return fmt.Errorf("%w: no remote description", ErrInvalid)
	}
	t, err := parseTrickle(frag, strings.Trim(iceETag(remote.SDP), `"`))
	if err != nil {
		return err
	}
	for _, c := range t.candidates {
		if err := pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c}); err != nil {
			return fmt.Errorf("%w: candidate %q: %v", ErrInvalid, c, err)
		}
	}
	if t.end {
		if err := pc.AddICECandidate(webrtc.ICECandidateInit{}); err != nil {
			return fmt.Errorf("%w: end of candidates: %v", ErrInvalid, err)
		}
	}
	return nil
}

// acceptOffer creates a peer connection with api and applies the offer.
func (r *Relay) acceptOffer(api *webrtc.API, offer string) (*webrtc.PeerConnection, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: r.cfg.ICE.Servers})
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return pc, nil
}

// answer creates and applies the answer and waits for ICE gathering, so
// that the answer carries every candidate.
func (r *Relay) answer(ctx context.Context, pc *webrtc.PeerConnection) (string, error) {
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if err := gather(ctx, pc, r.cfg.GatherTimeout); err != nil {
		return "", fmt.Errorf("answer: %w", err)
	}
	return pc.LocalDescription().SDP, nil
}

// newID returns a random resource id with a prefix.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// shortID is the part of a resource id that logs show: the whole id is
// the capability to PATCH or DELETE the resource.
func shortID(id string) string {
	if len(id) > 9 {
		return id[:9]
	}
	return id
}
