// Package demo provides a media source that needs no camera: a looping
// 640x360 VP8 test card with an Opus beep track, both embedded in the
// binary, paced in real time and handed out as RTP packets, so the relay can
// publish it like a live anchor (govlive serve --demo).
//
// The loop is five seconds long. The card carries a keyframe every second
// and a white box that flashes with each beep, so audio/video sync can be
// checked by eye and ear; the first beep of the loop is higher.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

const (
	// VideoMime is the codec of the video track.
	VideoMime = webrtc.MimeTypeVP8
	// AudioMime is the codec of the audio track.
	AudioMime = webrtc.MimeTypeOpus

	// VideoClockRate is the RTP clock rate of the video track in Hz.
	VideoClockRate = 90000
	// AudioClockRate is the RTP clock rate of the audio track in Hz.
	AudioClockRate = 48000

	// VideoPayloadType is the RTP payload type of the video packets
	// (pion's default for VP8). A relay may rewrite it to the negotiated one.
	VideoPayloadType uint8 = 96
	// AudioPayloadType is the RTP payload type of the audio packets
	// (pion's default for Opus). A relay may rewrite it to the negotiated one.
	AudioPayloadType uint8 = 111

	// MTU is the largest RTP packet Run produces, header included.
	MTU = 1200

	// maxLag is how far Run may fall behind its schedule before it stops
	// catching up and shifts the schedule instead of bursting.
	maxLag = 500 * time.Millisecond
)

var (
	// ErrInvalidMedia means the embedded (or given) media cannot be looped
	// seamlessly: wrong codec, no keyframe at the start, timestamps that do
	// not fit the RTP clocks, or Ogg pages holding other than one 20 ms
	// Opus packet.
	ErrInvalidMedia = errors.New("invalid demo media")
	// ErrRunning is returned by Run while another Run of the same Source
	// is in progress.
	ErrRunning = errors.New("demo source already running")
)

// Source is the looping test card and tone. Create it with New and send its
// packets with Run. Its SSRCs, sequence numbers and RTP timestamps carry on
// from one Run to the next.
type Source struct {
	clip clip

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration)

	videoSSRC, audioSSRC uint32

	// mu is held by the one running Run; the packetizers keep sequence
	// numbers, timestamps and the VP8 picture ID across loops and runs.
	mu          sync.Mutex
	videoPacker rtp.Packetizer
	audioPacker rtp.Packetizer
}

// Option configures a Source.
type Option func(*Source)

// WithClock makes Run pace against now and sleep instead of the system
// clock. sleep must block for d or until ctx is done, whichever is first.
// A fake clock whose sleep only advances now runs Run as fast as the
// callbacks allow while keeping the schedule exact, which tests use.
func WithClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration)) Option {
	return func(s *Source) {
		s.now = now
		s.sleep = sleep
	}
}

// New parses the embedded test card and tone and returns a Source with
// random SSRCs, sequence numbers and initial timestamps.
func New(opts ...Option) (*Source, error) {
	c, err := parseClip(cardIVF, toneOgg)
	if err != nil {
		return nil, fmt.Errorf("new demo source: %w", err)
	}
	return newSource(c, opts...), nil
}

// newSource returns a Source that loops c.
func newSource(c clip, opts ...Option) *Source {
	s := &Source{
		clip:      c,
		now:       time.Now,
		sleep:     sleepCtx,
		videoSSRC: rand.Uint32(),
		audioSSRC: rand.Uint32(),
	}
	for s.audioSSRC == s.videoSSRC {
		s.audioSSRC = rand.Uint32()
	}
	for _, o := range opts {
		o(s)
	}
	s.videoPacker = rtp.NewPacketizer(MTU, VideoPayloadType, s.videoSSRC,
		&codecs.VP8Payloader{EnablePictureID: true}, rtp.NewRandomSequencer(), VideoClockRate)
	s.audioPacker = rtp.NewPacketizer(MTU, AudioPayloadType, s.audioSSRC,
		&codecs.OpusPayloader{}, rtp.NewRandomSequencer(), AudioClockRate)
	return s
}

// VideoSSRC returns the SSRC of the video packets; it is fixed for s.
func (s *Source) VideoSSRC() uint32 { return s.videoSSRC }

// AudioSSRC returns the SSRC of the audio packets; it is fixed for s.
func (s *Source) AudioSSRC() uint32 { return s.audioSSRC }

// Loop returns the length of one loop of the card and the tone.
func (s *Source) Loop() time.Duration { return s.clip.length }

// Run sends the card and the tone in real time, from the start of the loop
// and looping until ctx is done, and then returns ctx.Err(). The packets of
// each video frame go to video and each audio packet to audio, in time
// order, called on the goroutine that called Run; every call gets a new
// *rtp.Packet with its own payload, which the callback may keep. A nil callback drops its track.
// Callbacks should return quickly: they delay the schedule, and a Run more
// than half a second behind shifts its schedule rather than bursting.
//
// Packets are at most MTU bytes. Sequence numbers go up by one per packet
// and RTP timestamps by the media duration (3000 per video frame at 90 kHz,
// 960 per 20 ms Opus packet at 48 kHz), with no jump at the loop point nor
// between runs. The marker bit is set on the last packet of each video
// frame and on the first audio packet of a run (start of a talkspurt).
// Both tracks follow one wall clock, so they stay in sync.
//
// Run returns ErrRunning if another Run of s has not returned yet.
func (s *Source) Run(ctx context.Context, video, audio func(*rtp.Packet)) error {
	if !s.mu.TryLock() {
		return ErrRunning
	}
	defer s.mu.Unlock()

	var (
		start     = s.now()
		vLoop     int64 // loops of video sent so far
		aLoop     int64
		vi, ai    int // next frame / packet within the loop
		firstTalk = true
		c         = &s.clip
	)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		vDue := time.Duration(vLoop)*c.length + c.video[vi].at
		aDue := time.Duration(aLoop)*c.length + c.audio[ai].at
		isVideo := vDue <= aDue
		due := aDue
		if isVideo {
			due = vDue
		}

		wait := due - s.now().Sub(start)
		if wait > 0 {
			s.sleep(ctx, wait)
			if err := ctx.Err(); err != nil {
				return err
			}
		} else if -wait > maxLag {
			// Paused or starved: carry on from now rather than flood
			// the receivers with the backlog. RTP timestamps stay
			// continuous; the wall-clock gap looks like a stall.
			start = start.Add(-wait)
		}

		if isVideo {
			f := c.video[vi]
			for _, p := range s.videoPacker.Packetize(f.data, f.ticks) {
				if video != nil {
					video(p)
				}
			}
			if vi++; vi == len(c.video) {
				vi, vLoop = 0, vLoop+1
			}
			continue
		}
		f := c.audio[ai]
		for _, p := range s.audioPacker.Packetize(f.data, f.ticks) {
			p.Marker = firstTalk
			firstTalk = false
			if audio != nil {
				audio(p)
			}
		}
		if ai++; ai == len(c.audio) {
			ai, aLoop = 0, aLoop+1
		}
	}
}

// Keyframe does nothing: the card has a keyframe every second (checked by
// New), so a viewer that asks for one (PLI/FIR) gets it within a second.
// It exists so the source can stand in wherever a live anchor's keyframe
// request is forwarded.
func (s *Source) Keyframe() {}

// sleepCtx blocks for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
