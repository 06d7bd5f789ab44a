package stream

import (
	"fmt"
	"strings"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Codecs the relay forwards. Publishers may send VP8 or H264 video (one
// of them) and Opus audio; viewers must accept what the anchor sends.
var (
	codecVP8 = webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		PayloadType:        96,
	}
	// H264 packetization-mode 1 in the profiles Chromium, Safari and OBS
	// send: constrained baseline (42e0xx), baseline (4200xx), main (4d00xx)
	// and high (6400xx).
	codecH264 = []webrtc.RTPCodecParameters{
		h264Codec(102, "42e01f"),
		h264Codec(104, "42001f"),
		h264Codec(106, "4d001f"),
		h264Codec(108, "64001f"),
	}
	codecOpus = webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1",
		},
		PayloadType: 111,
	}
)

func h264Codec(pt webrtc.PayloadType, profile string) webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType:    webrtc.MimeTypeH264,
			ClockRate:   90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile,
		},
		PayloadType: pt,
	}
}

// videoFeedback is what the relay understands from and asks of video peers.
var videoFeedback = []webrtc.RTCPFeedback{
	{Type: webrtc.TypeRTCPFBNACK},
	{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
	{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
	{Type: webrtc.TypeRTCPFBGoogREMB},
}

// mediaEngine registers the codecs; transportCC adds TWCC feedback and its
// header extension (publishers: so a browser ramps its bitrate up).
func mediaEngine(transportCC bool) (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	fb := append([]webrtc.RTCPFeedback(nil), videoFeedback...)
	var audioFB []webrtc.RTCPFeedback
	if transportCC {
		fb = append(fb, webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC})
		audioFB = append(audioFB, webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC})
	}
	video := append([]webrtc.RTPCodecParameters{codecVP8}, codecH264...)
	for _, c := range video {
		c.RTCPFeedback = fb
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("register %s: %w", c.MimeType, err)
		}
	}
	opus := codecOpus
	opus.RTCPFeedback = audioFB
	if err := m.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register opus: %w", err)
	}
	if transportCC {
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, kind); err != nil {
				return nil, fmt.Errorf("register transport-cc: %w", err)
			}
		}
	}
	return m, nil
}

// publisherInterceptors: NACK generation towards the publisher, receiver
// reports, and TWCC feedback.
func publisherInterceptors(m *webrtc.MediaEngine, logs logging.LoggerFactory) (*interceptor.Registry, error) {
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureNackWithOptions(m, reg,
		[]nack.GeneratorOption{nack.WithGeneratorLoggerFactory(logs)},
		nack.WithResponderLoggerFactory(logs)); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReportsWithOptions(reg,
		[]report.ReceiverOption{report.WithReceiverLoggerFactory(logs)},
		report.WithSenderLoggerFactory(logs)); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureTWCCSenderWithOptions(m, reg, twcc.WithLoggerFactory(logs)); err != nil {
		return nil, err
	}
	return reg, nil
}

// viewerInterceptors: sender reports only. NACKs are answered by the relay
// from each publisher track's packet cache, not by a per-viewer copy.
func viewerInterceptors(logs logging.LoggerFactory) (*interceptor.Registry, error) {
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReportsWithOptions(reg, nil, report.WithSenderLoggerFactory(logs)); err != nil {
		return nil, err
	}
	return reg, nil
}

// matchCodec picks, among the codecs negotiated with a viewer, the one that
// carries src: same MIME type, and for H264 packetization-mode 1 with the
// same profile if offered (any packetization-mode 1 H264 otherwise).
func matchCodec(negotiated []webrtc.RTPCodecParameters, src webrtc.RTPCodecCapability) (webrtc.RTPCodecParameters, bool) {
	var fallback *webrtc.RTPCodecParameters
	for i, c := range negotiated {
		if !strings.EqualFold(c.MimeType, src.MimeType) {
			continue
		}
		if !strings.EqualFold(src.MimeType, webrtc.MimeTypeH264) {
			return c, true
		}
		if fmtpValue(c.SDPFmtpLine, "packetization-mode") != "1" {
			continue
		}
		if profileIDC(c.SDPFmtpLine) == profileIDC(src.SDPFmtpLine) {
			return c, true
		}
		if fallback == nil {
			fallback = &negotiated[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return webrtc.RTPCodecParameters{}, false
}

func fmtpValue(fmtp, key string) string {
	for _, kv := range strings.Split(fmtp, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// profileIDC is the profile_idc byte of an H264 profile-level-id ("42", "4d", "64").
func profileIDC(fmtp string) string {
	id := fmtpValue(fmtp, "profile-level-id")
	if len(id) < 2 {
		return "42"
	}
	return strings.ToLower(id[:2])
}

// isKeyframeStart reports whether an RTP payload begins a keyframe.
func isKeyframeStart(mime string, payload []byte) bool {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		return vp8KeyframeStart(payload)
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		return h264KeyframeStart(payload)
	}
	return false
}

// vp8KeyframeStart: payload descriptor with S=1 and partition 0, then a
// frame header whose P bit (inverse keyframe flag) is 0 (RFC 7741).
func vp8KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	x := p[0]&0x80 != 0
	s := p[0]&0x10 != 0
	pid := p[0] & 0x07
	if !s || pid != 0 {
		return false
	}
	i := 1
	if x {
		if len(p) < 2 {
			return false
		}
		ext := p[1]
		i = 2
		if ext&0x80 != 0 { // I: picture id
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i += 2
			} else {
				i++
			}
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if ext&0x20 != 0 || ext&0x10 != 0 { // T or K
			i++
		}
	}
	if len(p) <= i {
		return false
	}
	return p[i]&0x01 == 0
}

// h264KeyframeStart: an IDR slice or SPS begins the payload, directly, in
// a STAP-A, or as the first fragment of an FU-A (RFC 6184).
func h264KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch nal := p[0] & 0x1f; nal {
	case 5, 7:
		return true
	case 24: // STAP-A
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			i += 2
			if size == 0 || i+size > len(p) {
				return false
			}
			if t := p[i] & 0x1f; t == 5 || t == 7 {
				return true
			}
			i += size
		}
	case 28: // FU-A
		if len(p) < 2 {
			return false
		}
		return p[1]&0x80 != 0 && p[1]&0x1f == 5
	}
	return false
}
