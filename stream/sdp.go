package stream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// maxOfferSize bounds an SDP offer or trickle fragment.
const maxOfferSize = 64 << 10

// offerMedia checks an offer and counts its audio and video m-lines that
// send (publish) or receive (play).
func offerMedia(offer string, publish bool) (map[webrtc.RTPCodecType]int, error) {
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
	counts := map[webrtc.RTPCodecType]int{}
	for _, m := range d.MediaDescriptions {
		kind := webrtc.NewRTPCodecType(m.MediaName.Media)
		if kind == 0 || m.MediaName.Port.Value == 0 {
			continue
		}
		dir := direction(m)
		usable := dir == "sendrecv"
		if publish {
			usable = usable || dir == "sendonly"
		} else {
			usable = usable || dir == "recvonly"
		}
		if usable {
			counts[kind]++
		}
	}
	if counts[webrtc.RTPCodecTypeAudio]+counts[webrtc.RTPCodecTypeVideo] == 0 {
		if publish {
			return nil, fmt.Errorf("%w: the offer sends no audio or video", ErrUnsupported)
		}
		return nil, fmt.Errorf("%w: the offer receives no audio or video", ErrUnsupported)
	}
	if publish && (counts[webrtc.RTPCodecTypeAudio] > 1 || counts[webrtc.RTPCodecTypeVideo] > 1) {
		return nil, fmt.Errorf("%w: one publication carries at most one audio and one video track", ErrUnsupported)
	}
	return counts, nil
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
func checkNegotiated(offered map[webrtc.RTPCodecType]int, answer string) error {
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

// applyTrickle adds the candidates of a trickle-ICE SDP fragment (RFC
// 8840). A fragment with new ICE credentials asks for a restart, which the
// relay does not do.
func applyTrickle(pc *webrtc.PeerConnection, frag string) error {
	if len(frag) > maxOfferSize {
		return fmt.Errorf("%w: fragment larger than %d bytes", ErrInvalid, maxOfferSize)
	}
	remote := pc.RemoteDescription()
	if remote == nil {
		return fmt.Errorf("%w: no remote description", ErrInvalid)
	}
	ufrag := strings.Trim(iceETag(remote.SDP), `"`)
	var cands []string
	end := false
	for _, line := range strings.Split(frag, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			if u := strings.TrimPrefix(line, "a=ice-ufrag:"); u != ufrag {
				return ErrRestartUnsupported
			}
		case strings.HasPrefix(line, "a=candidate:"):
			cands = append(cands, strings.TrimPrefix(line, "a="))
		case line == "a=end-of-candidates":
			end = true
		}
	}
	for _, c := range cands {
		if err := pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c}); err != nil {
			return fmt.Errorf("%w: candidate %q: %v", ErrInvalid, c, err)
		}
	}
	if end {
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
