package stream_test

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"govlive/store/storetest"
	"govlive/stream"
	"govlive/stream/streamtest"
)

// sessionSet is the set of sessions that exist.
type sessionSet map[stream.SessionID]bool

func (s sessionSet) SessionExists(_ context.Context, id stream.SessionID) (bool, error) {
	return s[id], nil
}

// newRelay starts a relay on loopback with real tokens in SQLite; edit
// adjusts the config.
func newRelay(t testing.TB, edit func(*stream.Config)) (*stream.Relay, *stream.Tokens) {
	t.Helper()
	tokens, err := stream.OpenTokens(context.Background(), storetest.Open(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := stream.Config{
		Sessions: sessionSet{"live": true, "other": true},
		Tokens:   tokens,
		ICE:      stream.ICEConfig{Loopback: true},
	}
	if edit != nil {
		edit(&cfg)
	}
	r, err := stream.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, tokens
}

func issue(t testing.TB, tokens *stream.Tokens, session stream.SessionID, anchor string) string {
	t.Helper()
	tok, err := tokens.Issue(context.Background(), session, anchor)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func waitConnected(t testing.TB, pc *webrtc.PeerConnection) {
	t.Helper()
	start := time.Now()
	for pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("peer connection state %s after 30 s (ICE %s)", pc.ConnectionState(), pc.ICEConnectionState())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Logf("connected after %s", d.Round(time.Millisecond))
	}
}

// testPublisher is an anchor: a pion peer sending synthetic VP8 and Opus.
type testPublisher struct {
	pc     *webrtc.PeerConnection
	video  *webrtc.TrackLocalStaticRTP
	audio  *webrtc.TrackLocalStaticRTP
	answer *stream.Answer
	token  string // the token it published with
	vseq   uint16
	aseq   uint16
	vts    uint32
	ats    uint32
	n      uint64 // packets sent, numbered from 1 in each payload
	plis   *counter
	h264   bool
	// plisAnswered is how many keyframe requests frames has answered
	plisAnswered int
}

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add() { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func newPublisher(t testing.TB, api *webrtc.API) *testPublisher {
	t.Helper()
	return newPublisherCodec(t, api, webrtc.MimeTypeVP8)
}

func newPublisherCodec(t testing.TB, api *webrtc.API, videoMime string) *testPublisher {
	t.Helper()
	pc := streamtest.Peer(t, api, webrtc.Configuration{})
	p := &testPublisher{pc: pc, plis: &counter{}, h264: videoMime == webrtc.MimeTypeH264}
	vcap := webrtc.RTPCodecCapability{MimeType: videoMime}
	if p.h264 {
		vcap.ClockRate = 90000
		vcap.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	}
	var err error
	p.video, err = webrtc.NewTrackLocalStaticRTP(vcap, "video", "anchor")
	if err != nil {
		t.Fatal(err)
	}
	p.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "anchor")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []*webrtc.TrackLocalStaticRTP{p.video, p.audio} {
		sender, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		s := sender.Sender()
		go func() {
			for {
				pkts, _, err := s.ReadRTCP()
				if err != nil {
					return
				}
				for _, pk := range pkts {
					if _, ok := pk.(*rtcp.PictureLossIndication); ok {
						p.plis.add()
					}
				}
			}
		}()
	}
	return p
}

// publish connects a test publisher to session with token.
func publish(t testing.TB, r *stream.Relay, api *webrtc.API, session stream.SessionID, token string) *testPublisher {
	t.Helper()
	return publishCodec(t, r, api, session, token, webrtc.MimeTypeVP8)
}

func publishCodec(t testing.TB, r *stream.Relay, api *webrtc.API, session stream.SessionID, token, videoMime string) *testPublisher {
	t.Helper()
	p := newPublisherCodec(t, api, videoMime)
	ans, err := r.Publish(context.Background(), session, token, streamtest.Offer(t, p.pc))
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	p.answer, p.token = ans, token
	streamtest.Accept(t, p.pc, ans.SDP)
	waitConnected(t, p.pc)
	return p
}

// payload layout after the codec header: packet number, send time.
func markPayload(b []byte, n uint64, at time.Time) {
	binary.BigEndian.PutUint64(b[0:8], n)
	binary.BigEndian.PutUint64(b[8:16], uint64(at.UnixNano()))
}

// sendFrame sends one video frame of packets packets (a keyframe if key)
// and one audio packet.
func (p *testPublisher) sendFrame(t testing.TB, key bool, packets, size int) {
	t.Helper()
	p.vts += 3000
	for i := range packets {
		b := make([]byte, size)
		switch {
		case p.h264 && key:
			b[0] = 0x65 // IDR slice
		case p.h264:
			b[0] = 0x41 // non-IDR slice
		case i == 0:
			b[0] = 0x10 // VP8 descriptor: S=1, partition 0
			if key {
				b[1] = 0x00 // P=0: keyframe
			} else {
				b[1] = 0x01
			}
		}
		p.n++
		markPayload(b[2:], p.n, time.Now())
		p.vseq++
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.vseq, Timestamp: p.vts, Marker: i == packets-1}, Payload: b}
		if err := p.video.WriteRTP(pkt); err != nil {
			t.Fatal(err)
		}
	}
	p.ats += 960
	b := make([]byte, 80)
	b[0] = 0x78
	p.n++
	markPayload(b[2:], p.n, time.Now())
	p.aseq++
	if err := p.audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.aseq, Timestamp: p.ats}, Payload: b}); err != nil {
		t.Fatal(err)
	}
}

// testViewer is a WHEP viewer: a pion peer with n audio and n video slots
// recording what arrives on each.
type testViewer struct {
	pc     *webrtc.PeerConnection
	answer *stream.Answer
	mu     sync.Mutex
	got    map[string][]received // by stream id + kind ("slot0/video")
	read   bool
}

type received struct {
	n      uint64
	seq    uint16
	ts     uint32
	at     time.Time
	sentAt time.Time
	key    bool
	mime   string
}

func play(t testing.TB, r *stream.Relay, api *webrtc.API, session stream.SessionID, slots int, read bool) *testViewer {
	t.Helper()
	pc := streamtest.Peer(t, api, webrtc.Configuration{})
	v := &testViewer{pc: pc, got: map[string][]received{}, read: read}
	for range slots {
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				t.Fatal(err)
			}
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if !v.read {
			return
		}
		key := tr.StreamID() + "/" + tr.Kind().String()
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			rc := received{seq: pkt.SequenceNumber, ts: pkt.Timestamp, at: time.Now()}
			off := 2
			if len(pkt.Payload) >= off+16 {
				rc.n = binary.BigEndian.Uint64(pkt.Payload[off:])
				rc.sentAt = time.Unix(0, int64(binary.BigEndian.Uint64(pkt.Payload[off+8:])))
				switch tr.Codec().MimeType {
				case webrtc.MimeTypeVP8:
					rc.key = pkt.Payload[0]&0x10 != 0 && pkt.Payload[1]&1 == 0
				case webrtc.MimeTypeH264:
					rc.key = pkt.Payload[0]&0x1f == 5
				}
				rc.mime = tr.Codec().MimeType
			}
			v.mu.Lock()
			v.got[key] = append(v.got[key], rc)
			v.mu.Unlock()
		}
	})
	ans, err := r.Play(context.Background(), session, streamtest.Offer(t, pc))
	if err != nil {
		t.Fatalf("play: %v", err)
	}
	v.answer = ans
	streamtest.Accept(t, pc, ans.SDP)
	waitConnected(t, pc)
	return v
}

func (v *testViewer) packets(key string) []received {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]received(nil), v.got[key]...)
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
