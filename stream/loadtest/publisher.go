package loadtest

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

const (
	rtpHeaderLen = 12
	// minPayload: the 2-byte VP8 header, the packet number and the send
	// time.
	minPayload = 2 + 8 + 8
	// gop is the time between two regular keyframes.
	gop = 2 * time.Second
	// keyframeWeight: a keyframe is this many times the size of a delta
	// frame.
	keyframeWeight = 8
	// forcedKeyframeGap is the least time between a keyframe and one sent
	// on request (an encoder's throttle).
	forcedKeyframeGap = 500 * time.Millisecond
	audioInterval     = 20 * time.Millisecond
	audioPayload      = 120
)

// plan is the shape of the synthetic video: frame sizes in bytes of
// payload.
type plan struct {
	fps        int
	maxPayload int
	gopFrames  int
	key, delta int
	audio      bool
}

func newPlan(p Params) plan {
	gopFrames := max(1, int(gop.Seconds()*float64(p.FPS)))
	bytesPerGOP := float64(p.VideoBitrate) / 8 * gop.Seconds()
	delta := int(bytesPerGOP / float64(gopFrames-1+keyframeWeight))
	delta = max(delta, minPayload)
	return plan{
		fps:        p.FPS,
		maxPayload: p.MaxPacket - rtpHeaderLen,
		gopFrames:  gopFrames,
		key:        keyframeWeight * delta,
		delta:      delta,
		audio:      p.Audio,
	}
}

// packets is how many packets a frame of size bytes takes.
func (pl plan) packets(size int) int {
	return (size + pl.maxPayload - 1) / pl.maxPayload
}

// packetsPerSecond is the regular rate, video and audio.
func (pl plan) packetsPerSecond() float64 {
	perGOP := pl.packets(pl.key) + (pl.gopFrames-1)*pl.packets(pl.delta)
	pps := float64(perGOP) / gop.Seconds()
	if pl.audio {
		pps += float64(time.Second / audioInterval)
	}
	return pps
}

// window is the measurement window as the viewers see it: the number of
// its first packet (0 until it opens).
type window struct {
	first atomic.Uint64
}

// mark is the publisher's position when the window opened or closed.
type mark struct {
	n         uint64 // number of the next packet
	at        time.Time
	keyframes int // keyframes sent so far
}

type markRequest struct {
	open  bool
	reply chan mark
}

// publisher is the WHIP anchor: synthetic VP8 and Opus-like audio.
type publisher struct {
	pc       *webrtc.PeerConnection
	video    *webrtc.TrackLocalStaticRTP
	audio    *webrtc.TrackLocalStaticRTP
	location string
	plan     plan
	win      *window
	marks    chan markRequest
	stopped  chan struct{} // closed when run returns
	err      error         // why run stopped early; read after stopped

	keyRequested atomic.Bool
	requests     atomic.Int64 // PLI and FIR received
	rtcp         sync.WaitGroup

	// run's state
	next      uint64 // number of the next packet, from 1
	keyframes int
	vseq      uint16
	aseq      uint16
	vts, ats  uint32
	buf       []byte
}

// mediaAPI is a pion API with VP8 and Opus only, NACK and RTCP reports, on
// loopback UDP4 without mDNS.
func mediaAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range []struct {
		codec webrtc.RTPCodecParameters
		kind  webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
	} {
		if err := m.RegisterCodec(c.codec, c.kind); err != nil {
			return nil, fmt.Errorf("loadtest: register codec: %w", err)
		}
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(loopbackSettings())), nil
}

// publish connects the publisher over WHIP; it sends nothing until run.
func publish(ctx context.Context, p Params, pl plan, win *window) (*publisher, error) {
	api, err := mediaAPI()
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("loadtest: publisher: %w", err)
	}
	pub := &publisher{pc: pc, plan: pl, win: win, marks: make(chan markRequest), stopped: make(chan struct{}),
		next: 1, buf: make([]byte, pl.maxPayload)}
	ok := false
	defer func() {
		if !ok {
			pub.close(p)
		}
	}()
	pub.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "loadtest")
	if err != nil {
		return nil, fmt.Errorf("loadtest: publisher: %w", err)
	}
	tracks := []*webrtc.TrackLocalStaticRTP{pub.video}
	if pl.audio {
		pub.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "loadtest")
		if err != nil {
			return nil, fmt.Errorf("loadtest: publisher: %w", err)
		}
		tracks = append(tracks, pub.audio)
	}
	for _, tr := range tracks {
		tc, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return nil, fmt.Errorf("loadtest: publisher: %w", err)
		}
		s := tc.Sender()
		pub.rtcp.Add(1)
		go func() {
			defer pub.rtcp.Done()
			pub.readRTCP(s)
		}()
	}
	connected := watchConnected(pc)
	loc, err := exchange(ctx, p, pc, "/whip/", p.Token)
	if err != nil {
		return nil, fmt.Errorf("loadtest: publish: %w", err)
	}
	pub.location = loc
	if err := waitConnected(ctx, connected, connectTimeout); err != nil {
		return nil, fmt.Errorf("loadtest: publisher: %w", err)
	}
	ok = true
	return pub, nil
}

// readRTCP notes keyframe requests; it ends when the connection closes.
func (pub *publisher) readRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, pk := range pkts {
			switch pk.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				pub.requests.Add(1)
				pub.keyRequested.Store(true)
			}
		}
	}
}

// run sends one video frame per tick (and the audio packets due) until ctx
// ends, and answers mark requests between frames.
func (pub *publisher) run(ctx context.Context) {
	defer close(pub.stopped)
	pl := pub.plan
	tick := time.NewTicker(time.Second / time.Duration(pl.fps))
	defer tick.Stop()
	start := time.Now()
	var (
		sinceKey  = pl.gopFrames // the first frame is a keyframe
		lastKey   time.Time
		audioSent int64
	)
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-pub.marks:
			if r.open {
				pub.win.first.Store(pub.next)
			}
			r.reply <- mark{n: pub.next, at: time.Now(), keyframes: pub.keyframes}
		case now := <-tick.C:
			key := sinceKey >= pl.gopFrames ||
				(pub.keyRequested.Load() && now.Sub(lastKey) >= forcedKeyframeGap)
			if key {
				pub.keyRequested.Store(false)
				pub.keyframes++
				sinceKey, lastKey = 0, now
			}
			sinceKey++
			if err := pub.sendFrame(key); err != nil {
				pub.err = fmt.Errorf("send video: %w", err)
				return
			}
			if !pl.audio {
				continue
			}
			for due := int64(time.Since(start) / audioInterval); audioSent < due; audioSent++ {
				if err := pub.sendAudio(); err != nil {
					pub.err = fmt.Errorf("send audio: %w", err)
					return
				}
			}
		}
	}
}

// mark asks run for its position; open also opens the window.
func (pub *publisher) mark(ctx context.Context, open bool) (mark, error) {
	r := markRequest{open: open, reply: make(chan mark, 1)}
	select {
	case pub.marks <- r:
		return <-r.reply, nil
	case <-pub.stopped:
		return mark{}, fmt.Errorf("loadtest: publisher stopped: %v", pub.err)
	case <-ctx.Done():
		return mark{}, ctx.Err()
	}
}

// stamp writes the packet number and the send time after the 2-byte codec
// header.
func stamp(b []byte, n uint64) {
	binary.BigEndian.PutUint64(b[2:10], n)
	binary.BigEndian.PutUint64(b[10:18], uint64(time.Now().UnixNano()))
}

func (pub *publisher) sendFrame(key bool) error {
	pl := pub.plan
	size := pl.delta
	if key {
		size = pl.key
	}
	pub.vts += uint32(90000 / pl.fps)
	for first := true; size > 0; first = false {
		n := min(size, pl.maxPayload)
		size -= n
		n = max(n, minPayload)
		b := pub.buf[:n]
		b[0], b[1] = 0, 0
		if first {
			b[0] = 0x10 // VP8 payload descriptor: S=1, partition 0
			if !key {
				b[1] = 0x01 // frame header P=1: interframe
			}
		}
		stamp(b, pub.next)
		pub.next++
		pub.vseq++
		h := rtp.Header{Version: 2, SequenceNumber: pub.vseq, Timestamp: pub.vts, Marker: size == 0}
		if err := pub.video.WriteRTP(&rtp.Packet{Header: h, Payload: b}); err != nil {
			return err
		}
	}
	return nil
}

func (pub *publisher) sendAudio() error {
	b := pub.buf[:audioPayload]
	b[0], b[1] = 0x78, 0 // an Opus TOC byte (SILK wideband 20 ms)
	stamp(b, pub.next)
	pub.next++
	pub.aseq++
	pub.ats += 960
	h := rtp.Header{Version: 2, SequenceNumber: pub.aseq, Timestamp: pub.ats}
	return pub.audio.WriteRTP(&rtp.Packet{Header: h, Payload: b})
}

// close ends the publication (WHIP DELETE) and the connection, and waits
// for its RTCP readers.
func (pub *publisher) close(p Params) {
	if pub.location != "" {
		deleteResource(p, pub.location, p.Token)
	}
	_ = pub.pc.Close()
	pub.rtcp.Wait()
}
