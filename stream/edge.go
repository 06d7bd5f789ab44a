package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// puller is an edge's WHEP client pulling one session from the origin
// while the edge has viewers of it. Each of the origin's slots becomes a
// source in the same slot here.
type puller struct {
	s      *session
	cancel context.CancelFunc
	done   chan struct{}
}

func newPuller(s *session) *puller {
	return &puller{s: s, done: make(chan struct{})}
}

// start runs the pull until stop (caller holds session.mu).
func (p *puller) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	if !p.s.relay.goOwned(func() {
		defer close(p.done)
		p.run(ctx)
	}) {
		close(p.done)
	}
}

// stop ends the pull and waits for it.
func (p *puller) stop() {
	p.cancel()
	<-p.done
}

// run pulls, and pulls again after a failure (backing off up to 10 s).
func (p *puller) run(ctx context.Context) {
	log := p.s.relay.log.With("session", p.s.id, "origin", p.s.relay.cfg.Origin)
	backoff := 500 * time.Millisecond
	for {
		start := time.Now()
		err := p.pull(ctx)
		if ctx.Err() != nil {
			return
		}
		log.Warn("pull from origin ended", "err", err)
		if time.Since(start) > 30*time.Second {
			backoff = 500 * time.Millisecond
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// pull makes one WHEP connection to the origin and relays it until it
// fails or ctx is done.
func (p *puller) pull(ctx context.Context) error {
	r := p.s.relay
	pc, err := r.publishAPI.NewPeerConnection(webrtc.Configuration{ICEServers: r.cfg.ICE.Servers})
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	failed := make(chan struct{})
	var failOnce sync.Once
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		if state == webrtc.PeerConnectionStateFailed || state == webrtc.PeerConnectionStateClosed {
			failOnce.Do(func() { close(failed) })
		}
	})
	var (
		mu      sync.Mutex
		closed  bool // under mu: no track is taken any more
		sources = map[int]*source{}
		readers sync.WaitGroup
	)
	defer func() {
		mu.Lock()
		closed = true
		mu.Unlock()
		_ = pc.Close()
		readers.Wait()
		for _, src := range sources {
			p.s.removeSource(src)
		}
	}()
	for range r.cfg.Slots {
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				return fmt.Errorf("pull: %w", err)
			}
		}
	}
	pc.OnTrack(func(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
		slot, err := strconv.Atoi(strings.TrimPrefix(remote.StreamID(), "slot"))
		if err != nil || slot < 0 || slot >= r.cfg.Slots {
			slot = -1
		}
		ssrc := uint32(remote.SSRC())
		t := newTrack(remote.Kind(), remote.Codec().RTPCodecCapability, &p.s.counters, r.cfg.Now, func() {
			_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
		})
		// pion runs OnTrack on its own goroutine: it may come after the
		// pull ended, and must then take nothing
		mu.Lock()
		defer mu.Unlock()
		if closed {
			return
		}
		src := sources[slot]
		if src == nil {
			src = &source{anchor: "origin/" + remote.StreamID(), since: r.cfg.Now(), prefer: slot}
			sources[slot] = src
			p.s.addSource(src)
		}
		if !p.s.addTrack(src, t) {
			return
		}
		readers.Add(2)
		go func() {
			defer readers.Done()
			readTrack(remote, t, nil)
		}()
		go func() {
			defer readers.Done()
			for {
				if _, _, err := receiver.ReadRTCP(); err != nil {
					return
				}
			}
		}()
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	if err := gather(ctx, pc, r.cfg.GatherTimeout); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	answer, location, err := p.post(ctx, pc.LocalDescription().SDP)
	if err != nil {
		return err
	}
	defer p.delete(location)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("pull: origin answer: %w", err)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-failed:
		return errors.New("connection to the origin failed")
	}
}

// checkOrigin asks the origin whether session id exists before an edge
// takes the first viewer of it (GET {origin}/api/sessions/{id}/stats);
// while the edge already pulls the session, nothing is asked.
func (r *Relay) checkOrigin(ctx context.Context, id SessionID) error {
	r.mu.Lock()
	_, live := r.sessions[id]
	r.mu.Unlock()
	if live {
		return nil
	}
	u, err := url.JoinPath(r.cfg.Origin, "api", "sessions", url.PathEscape(string(id)), "stats")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrOrigin, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrOrigin, err)
	}
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrOrigin, err)
	}
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("session %q at the origin: %w", id, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%w: session %q: %s", ErrOrigin, id, resp.Status)
	}
	return nil
}

// post sends the WHEP offer to the origin.
func (p *puller) post(ctx context.Context, offer string) (answer, location string, err error) {
	r := p.s.relay
	endpoint, err := url.JoinPath(r.cfg.Origin, "whep", url.PathEscape(string(p.s.id)))
	if err != nil {
		return "", "", fmt.Errorf("pull: origin URL: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(offer))
	if err != nil {
		return "", "", fmt.Errorf("pull: %w", err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("pull: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOfferSize))
	if err != nil {
		return "", "", fmt.Errorf("pull: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", "", fmt.Errorf("pull: origin answered %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	loc, err := resp.Location()
	if err != nil {
		return "", "", fmt.Errorf("pull: origin answer has no Location: %w", err)
	}
	return string(body), loc.String(), nil
}

// delete ends the pull's resource on the origin.
func (p *puller) delete(location string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return
	}
	resp, err := p.s.relay.cfg.HTTPClient.Do(req)
	if err != nil {
		p.s.relay.log.Debug("delete origin resource", "err", err)
		return
	}
	_ = resp.Body.Close()
}

// readTrack relays one remote track into t until the track ends; then,
// if not nil, sees every packet relayed, and the padding-only packets
// too, with an empty payload: a sender probing its bandwidth (Chromium
// without RTX) sends them on the media's own sequence numbers, and a
// recorder that did not see them would take each one for a lost packet.
func readTrack(remote *webrtc.TrackRemote, t *track, then func(*rtp.Header, []byte)) {
	buf := make([]byte, 1500)
	var h rtp.Header
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		payload, ok := rtpPayload(&h, buf[:n])
		if !ok {
			continue
		}
		if len(payload) > 0 {
			t.deliver(&h, payload)
		}
		if then != nil {
			then(&h, payload)
		}
	}
}

// rtpPayload parses an RTP packet into h and returns a copy of its payload
// without padding: empty for a padding-only packet; ok is false for a
// malformed packet.
func rtpPayload(h *rtp.Header, b []byte) ([]byte, bool) {
	hn, err := h.Unmarshal(b)
	if err != nil {
		return nil, false
	}
	end := len(b)
	if h.Padding && end > hn {
		pad := int(b[end-1])
		if pad == 0 || hn+pad > end {
			return nil, false
		}
		end -= pad
	}
	if end < hn {
		return nil, false
	}
	if end == hn {
		return []byte{}, true
	}
	payload := make([]byte, end-hn)
	copy(payload, b[hn:end])
	return payload, true
}
