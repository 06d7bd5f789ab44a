package stream

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// openNetwork opens the shared ICE sockets: one UDP port on every usable
// address, and optionally one ICE-TCP listener.
func (r *Relay) openNetwork() error {
	ice := r.cfg.ICE
	if ice.UDPPort < 0 || ice.UDPPort > 65535 || ice.TCPPort < 0 || ice.TCPPort > 65535 {
		return fmt.Errorf("stream: ports must be 0–65535")
	}
	for _, ip := range ice.PublicIPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("stream: public IP %q is not an IP address", ip)
		}
	}
	if ice.UDPPort > 0 {
		mux, err := newUDPMux(ice.UDPPort, ice.Loopback)
		if err != nil {
			return fmt.Errorf("stream: UDP port %d: %w", ice.UDPPort, err)
		}
		r.udpMux = mux
	}
	if ice.TCPPort > 0 {
		host := ""
		if ice.Loopback {
			host = "127.0.0.1"
		}
		ln, err := net.Listen("tcp4", net.JoinHostPort(host, strconv.Itoa(ice.TCPPort)))
		if err != nil {
			r.closeNetwork()
			return fmt.Errorf("stream: ICE-TCP port %d: %w", ice.TCPPort, err)
		}
		r.tcpLn = ln
		r.tcpMux = webrtc.NewICETCPMux(nil, ln, 64)
	}
	return nil
}

func newUDPMux(port int, loopback bool) (ice.UDPMux, error) {
	opts := []ice.UDPMuxFromPortOption{
		ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4),
		ice.UDPMuxFromPortWithReadBufferSize(4 << 20),
		ice.UDPMuxFromPortWithWriteBufferSize(4 << 20),
	}
	if loopback {
		opts = append(opts, ice.UDPMuxFromPortWithLoopback(),
			ice.UDPMuxFromPortWithIPFilter(func(ip net.IP) bool { return ip.IsLoopback() }))
	}
	return ice.NewMultiUDPMuxFromPort(port, opts...)
}

func (r *Relay) closeNetwork() {
	if r.udpMux != nil {
		if err := r.udpMux.Close(); err != nil {
			r.log.Debug("close UDP mux", "err", err)
		}
	}
	if r.tcpMux != nil {
		if err := r.tcpMux.Close(); err != nil {
			r.log.Debug("close TCP mux", "err", err)
		}
	}
}

// newAPI builds the pion API for publishers (TWCC, NACK generation,
// receiver reports) or viewers (sender reports only).
func (r *Relay) newAPI(publisher bool) (*webrtc.API, error) {
	m, err := mediaEngine(publisher)
	if err != nil {
		return nil, err
	}
	var reg *interceptor.Registry
	logs := pionLogger{r.log}
	if publisher {
		reg, err = publisherInterceptors(m, logs)
	} else {
		reg, err = viewerInterceptors(logs)
	}
	if err != nil {
		return nil, fmt.Errorf("stream: interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.LoggerFactory = pionLogger{r.log}
	se.SetICETimeouts(5*time.Second, 10*time.Second, 2*time.Second)
	se.SetNetworkTypes(r.networkTypes())
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// AES-128-GCM first: the cheapest protection per packet (pion's CTR
	// mode costs several times more), which matters for fan-out.
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	if r.udpMux != nil {
		se.SetICEUDPMux(r.udpMux)
	}
	if r.tcpMux != nil {
		se.SetICETCPMux(r.tcpMux)
	}
	if len(r.cfg.ICE.PublicIPs) > 0 {
		se.SetNAT1To1IPs(r.cfg.ICE.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	if r.cfg.ICE.Loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(se)), nil
}

func (r *Relay) networkTypes() []webrtc.NetworkType {
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if r.tcpMux != nil {
		types = append(types, webrtc.NetworkTypeTCP4)
	}
	return types
}

// gather waits for ICE gathering to finish (answers carry every candidate,
// so clients without trickle work).
func gather(ctx context.Context, pc *webrtc.PeerConnection, timeout time.Duration) error {
	done := webrtc.GatheringCompletePromise(pc)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf("ICE gathering took longer than %s", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pionLogger routes pion's own logging into the relay's slog at debug
// level: pion reports per-connection trouble (a closed pipe after a peer
// left) that is noise at info, but useful when debugging.
type pionLogger struct{ log *slog.Logger }

func (f pionLogger) NewLogger(scope string) logging.LeveledLogger {
	return scopedLogger{f.log.With("pion", scope)}
}

type scopedLogger struct{ log *slog.Logger }

func (scopedLogger) Trace(string)          {}
func (scopedLogger) Tracef(string, ...any) {}
func (scopedLogger) Debug(string)          {}
func (scopedLogger) Debugf(string, ...any) {}
func (scopedLogger) Info(string)           {}
func (scopedLogger) Infof(string, ...any)  {}
func (l scopedLogger) Warn(msg string)     { l.log.Debug(msg, "pion_level", "warn") }
func (l scopedLogger) Warnf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "pion_level", "warn")
}
func (l scopedLogger) Error(msg string) { l.log.Debug(msg, "pion_level", "error") }
func (l scopedLogger) Errorf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "pion_level", "error")
}
