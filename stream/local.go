package stream

import (
	"fmt"
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Local is a publication produced in this process (the demo test card):
// an anchor of a session whose packets come from Go code, not from a peer.
// It is not recorded.
type Local struct {
	session *session
	src     *source
	video   *track
	audio   *track
}

// PublishLocal makes a live anchor of session id fed by the caller.
// videoMime/audioMime name the codecs ("" for none); keyframe, if not nil,
// is called (throttled) when viewers need a keyframe. Video and Audio must
// each be called from one goroutine at a time; Close ends the publication.
func (r *Relay) PublishLocal(id SessionID, anchor, videoMime, audioMime string, keyframe func()) (*Local, error) {
	var video, audio *webrtc.RTPCodecCapability
	switch {
	case videoMime == "":
	case strings.EqualFold(videoMime, webrtc.MimeTypeVP8):
		video = &codecVP8.RTPCodecCapability
	case strings.EqualFold(videoMime, webrtc.MimeTypeH264):
		video = &codecH264[0].RTPCodecCapability
	default:
		return nil, fmt.Errorf("publish %s: %w: video %q", id, ErrUnsupported, videoMime)
	}
	switch {
	case audioMime == "":
	case strings.EqualFold(audioMime, webrtc.MimeTypeOpus):
		audio = &codecOpus.RTPCodecCapability
	default:
		return nil, fmt.Errorf("publish %s: %w: audio %q", id, ErrUnsupported, audioMime)
	}
	if keyframe == nil {
		keyframe = func() {}
	}
	l := &Local{src: &source{anchor: anchor, since: r.cfg.Now(), prefer: -1}}
	l.src.stop = func(string) { l.Close() }
	s, err := r.join(id, func(s *session) bool {
		l.video, l.audio = nil, nil
		if video != nil {
			l.video = newTrack(webrtc.RTPCodecTypeVideo, *video, &s.counters, r.cfg.Now, keyframe)
		}
		if audio != nil {
			l.audio = newTrack(webrtc.RTPCodecTypeAudio, *audio, &s.counters, r.cfg.Now, nil)
		}
		l.src.video, l.src.audio = l.video, l.audio
		return s.addSource(l.src)
	})
	if err != nil {
		return nil, err
	}
	l.session = s
	return l, nil
}

// Video relays one video packet (the payload is kept: do not reuse it).
func (l *Local) Video(p *rtp.Packet) {
	if l.video != nil {
		l.video.deliver(&p.Header, p.Payload)
	}
}

// Audio relays one audio packet (the payload is kept: do not reuse it).
func (l *Local) Audio(p *rtp.Packet) {
	if l.audio != nil {
		l.audio.deliver(&p.Header, p.Payload)
	}
}

// Close ends the publication.
func (l *Local) Close() { l.session.removeSource(l.src) }
