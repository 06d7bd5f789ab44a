package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/transport/v5/udp"
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
		mux, err := newUDPMux(ice.UDPPort, ice.Loopback, pionLogger{r.log})
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

// newUDPMux listens on port on every usable IPv4 address (loopback only,
// or every other address) and muxes all ICE traffic over those sockets.
// Writes are batched: each socket sends with sendmmsg what the viewers'
// writers queued in the last millisecond (or 64 packets), instead of one
// system call per packet.
func newUDPMux(port int, loopback bool, logs logging.LoggerFactory) (ice.UDPMux, error) {
	ips, err := localIPv4s(loopback)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, errors.New("no usable IPv4 address")
	}
	var muxes []ice.UDPMux
	closeAll := func() {
		for _, m := range muxes {
			_ = m.Close()
		}
	}
	for _, ip := range ips {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: port})
		if err != nil {
			closeAll()
			return nil, err
		}
		_ = conn.SetReadBuffer(4 << 20)
		_ = conn.SetWriteBuffer(4 << 20)
		muxes = append(muxes, ice.NewUDPMuxDefault(ice.UDPMuxParams{
			Logger:  logs.NewLogger("udpmux"),
			UDPConn: udp.NewBatchConn(conn, batchSize, batchInterval),
		}))
	}
	return ice.NewMultiUDPMuxDefault(muxes...), nil
}

// Send batching on the shared UDP sockets.
const (
	batchSize     = 64
	batchInterval = time.Millisecond
)

// localIPv4s lists the addresses ICE should use: loopback only, or the
// IPv4 addresses of every interface that is up, except loopback.
func localIPv4s(loopback bool) ([]net.IP, error) {
	if loopback {
		return []net.IP{net.IPv4(127, 0, 0, 1)}, nil
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var ips []net.IP
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			if ip4 := ipn.IP.To4(); ip4 != nil && !ip4.IsLinkLocalUnicast() {
				ips = append(ips, ip4)
			}
		}
	}
	return ips, nil
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
		// NAT 1:1: host candidates announce the public address instead
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        r.cfg.ICE.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return nil, fmt.Errorf("stream: public IP: %w", err)
		}
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
