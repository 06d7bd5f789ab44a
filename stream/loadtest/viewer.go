package loadtest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// connectTimeout bounds one peer's ICE and DTLS after signalling.
const connectTimeout = 20 * time.Second

// loopbackSettings keep a peer on loopback UDP4 without mDNS.
func loopbackSettings() webrtc.SettingEngine {
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return se
}

// viewer is one WHEP playback with one slot, recording per packet of the
// window its latency.
type viewer struct {
	pc       *webrtc.PeerConnection
	location string
	win      *window
	// lat[i] is 1 + the latency in µs of the window's packet i, 0 if it
	// has not arrived. The video and the audio reader write distinct
	// elements; they are read after both readers have ended.
	lat   []uint32
	keyed atomic.Bool // a keyframe start has arrived

	mu      sync.Mutex
	closed  bool
	readers sync.WaitGroup
}

// connectViewers connects p.Viewers viewers, p.Connecting at a time. On
// error the viewers connected so far are closed.
func connectViewers(ctx context.Context, p Params, win *window, capacity int) ([]*viewer, error) {
	api, err := mediaAPI()
	if err != nil {
		return nil, err
	}
	viewers := make([]*viewer, p.Viewers)
	err = parallel(p.Viewers, p.Connecting, func(i int) error {
		v, err := play(ctx, p, api, win, capacity)
		if err != nil {
			return fmt.Errorf("loadtest: viewer %d: %w", i+1, err)
		}
		viewers[i] = v
		return nil
	})
	if err != nil {
		closeViewers(p, viewers)
		return nil, err
	}
	return viewers, nil
}

func play(ctx context.Context, p Params, api *webrtc.API, win *window, capacity int) (*viewer, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	v := &viewer{pc: pc, win: win, lat: make([]uint32, capacity)}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			_ = pc.Close()
			return nil, err
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		v.mu.Lock()
		if v.closed {
			v.mu.Unlock()
			return
		}
		v.readers.Add(2)
		v.mu.Unlock()
		go func() {
			defer v.readers.Done()
			drainRTCP(recv)
		}()
		defer v.readers.Done()
		v.read(tr, tr.Kind() == webrtc.RTPCodecTypeVideo)
	})
	connected := watchConnected(pc)
	loc, err := exchange(ctx, p, pc, "/whep/", "")
	if err != nil {
		v.close(p)
		return nil, err
	}
	v.location = loc
	if err := waitConnected(ctx, connected, connectTimeout); err != nil {
		v.close(p)
		return nil, err
	}
	return v, nil
}

// read records the track's packets until the connection closes: one
// reused buffer, the RTP header parsed only as far as the payload.
func (v *viewer) read(tr *webrtc.TrackRemote, video bool) {
	buf := make([]byte, 1500)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		pl := payload(buf[:n])
		if len(pl) < minPayload {
			continue
		}
		if video && pl[0]&0x17 == 0x10 && pl[1]&0x01 == 0 {
			v.keyed.Store(true)
		}
		first := v.win.first.Load()
		num := binary.BigEndian.Uint64(pl[2:10])
		if first == 0 || num < first || num-first >= uint64(len(v.lat)) {
			continue
		}
		d := (now - int64(binary.BigEndian.Uint64(pl[10:18]))) / 1000
		d = max(0, min(d, math.MaxUint32-1))
		v.lat[num-first] = uint32(d) + 1
	}
}

// payload returns the payload of the RTP packet b (nil if malformed).
func payload(b []byte) []byte {
	if len(b) < rtpHeaderLen || b[0]>>6 != 2 {
		return nil
	}
	off := rtpHeaderLen + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // header extension
		if len(b) < off+4 {
			return nil
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > 0 { // padding
		end -= int(b[end-1])
	}
	if off > end {
		return nil
	}
	return b[off:end]
}

// drainRTCP reads the relay's RTCP so that the receiver's interceptors
// see its sender reports.
func drainRTCP(r *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := r.Read(buf); err != nil {
			return
		}
	}
}

// close ends the playback (WHEP DELETE) and the connection and waits for
// the readers; safe to call more than once.
func (v *viewer) close(p Params) {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	v.closed = true
	v.mu.Unlock()
	if v.location != "" {
		deleteResource(p, v.location, "")
	}
	_ = v.pc.Close()
	v.readers.Wait()
}

func closeViewers(p Params, viewers []*viewer) {
	_ = parallel(len(viewers), 16, func(i int) error {
		if v := viewers[i]; v != nil {
			v.close(p)
		}
		return nil
	})
}

// watchConnected returns a channel that gets nil when pc connects, or an
// error when it fails or closes first.
func watchConnected(pc *webrtc.PeerConnection) <-chan error {
	ch := make(chan error, 1)
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { ch <- nil })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			once.Do(func() { ch <- fmt.Errorf("connection %s", s) })
		}
	})
	return ch
}

func waitConnected(ctx context.Context, ch <-chan error, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-ch:
		return err
	case <-t.C:
		return fmt.Errorf("not connected after %s", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// exchange makes pc's offer with every candidate, POSTs it to
// BaseURL+prefix+Session and applies the answer; it returns the
// resource's URL.
func exchange(ctx context.Context, p Params, pc *webrtc.PeerConnection, prefix, token string) (string, error) {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return "", err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	endpoint := p.BaseURL + prefix + url.PathEscape(p.Session)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/sdp")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := p.HTTPClient.Do(req)
	if err != nil {
		return "", err
	}
	body, rerr := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); rerr == nil {
		rerr = cerr
	}
	if rerr != nil {
		return "", fmt.Errorf("POST %s: %w", endpoint, rerr)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("POST %s: %s: %.200s", endpoint, resp.Status, body)
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return "", fmt.Errorf("POST %s: bad Location %q", endpoint, resp.Header.Get("Location"))
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		return "", fmt.Errorf("answer: %w", err)
	}
	return loc.String(), nil
}

// deleteResource ends a WHIP/WHEP resource; token is the publisher's for
// a WHIP resource (every request on it is authenticated), "" for WHEP.
// Failures are logged only (the relay also drops a peer whose connection
// closes).
func deleteResource(p Params, location, token string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		p.Log.Warn("delete resource", "err", err)
		return
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := p.HTTPClient.Do(req)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			p.Log.Warn("delete resource", "url", location, "err", err)
		}
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		p.Log.Warn("delete resource", "url", location, "status", resp.Status)
	}
}
