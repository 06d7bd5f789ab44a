// Package loadtest measures a relay under load: one synthetic VP8 (and
// Opus) publisher over WHIP and many viewers over WHEP, all pion peers on
// loopback. Every payload carries a packet number and its send time, so
// each viewer's packets give delivery and added latency; the relay
// process's CPU time and memory come from /proc.
//
// It is a benchmark tool (govlive bench-relay), not a test of correctness:
// the latency it reports runs from the publisher's WriteRTP to the viewer's
// Read and so includes the harness's own SRTP and scheduling.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrParams: Params that cannot be run.
var ErrParams = errors.New("loadtest: bad parameters")

// Params describes one load run.
type Params struct {
	// BaseURL is the relay's web server, e.g. http://127.0.0.1:8080.
	BaseURL string
	// Session is the session published into and played.
	Session string
	// Token is the anchor's publishing token (never logged).
	Token string
	// Viewers is the number of WHEP viewers, one slot each.
	Viewers int
	// Duration is the measurement window.
	Duration time.Duration
	// Warmup is how long to wait, after every viewer is connected and has
	// received a keyframe, before the window opens.
	Warmup time.Duration
	// VideoBitrate in bits per second (default 2 500 000).
	VideoBitrate int
	// FPS is the video frame rate (default 30).
	FPS int
	// MaxPacket is the largest RTP packet, header included (default 1200).
	MaxPacket int
	// Audio adds an Opus-like track: one 120-byte packet every 20 ms.
	Audio bool
	// RelayPID, when positive, is the relay process whose CPU time and RSS
	// are reported.
	RelayPID int
	// Connecting is how many viewers connect at once (default 8).
	Connecting int
	// HTTPClient signals WHIP and WHEP (default: a client with a 15 s
	// timeout).
	HTTPClient *http.Client
	// Log receives progress (default: discarded).
	Log *slog.Logger
}

// check fills in the defaults and reports every bad value at once.
func (p *Params) check() error {
	var bad []string
	if !strings.HasPrefix(p.BaseURL, "http://") && !strings.HasPrefix(p.BaseURL, "https://") {
		bad = append(bad, fmt.Sprintf("BaseURL %q is not an http(s) URL", p.BaseURL))
	}
	if p.Session == "" {
		bad = append(bad, "no Session")
	}
	if p.Viewers < 1 {
		bad = append(bad, fmt.Sprintf("Viewers %d: want at least 1", p.Viewers))
	}
	if p.Duration <= 0 {
		bad = append(bad, "Duration must be positive")
	}
	if p.Warmup < 0 {
		bad = append(bad, "Warmup must not be negative")
	}
	if p.VideoBitrate == 0 {
		p.VideoBitrate = 2_500_000
	}
	if p.FPS == 0 {
		p.FPS = 30
	}
	if p.MaxPacket == 0 {
		p.MaxPacket = 1200
	}
	if p.Connecting <= 0 {
		p.Connecting = 8
	}
	if p.VideoBitrate < 10_000 {
		bad = append(bad, fmt.Sprintf("VideoBitrate %d: want at least 10000", p.VideoBitrate))
	}
	if p.FPS < 1 || p.FPS > 120 {
		bad = append(bad, fmt.Sprintf("FPS %d: want 1 to 120", p.FPS))
	}
	if p.MaxPacket < rtpHeaderLen+minPayload || p.MaxPacket > 1400 {
		bad = append(bad, fmt.Sprintf("MaxPacket %d: want %d to 1400", p.MaxPacket, rtpHeaderLen+minPayload))
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrParams, strings.Join(bad, "; "))
	}
	if p.HTTPClient == nil {
		p.HTTPClient = &http.Client{
			Timeout:   15 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: p.Connecting},
		}
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	p.BaseURL = strings.TrimRight(p.BaseURL, "/")
	return nil
}

// Report is what one run measured.
type Report struct {
	Viewers int
	// Window is the measurement window as it really lasted.
	Window time.Duration
	// Sent is the number of packets (video and audio) sent in the window.
	Sent int
	// Received is the number of those packets that arrived, summed over
	// the viewers (duplicates counted once).
	Received int
	// Delivery is Received / (Sent × Viewers).
	Delivery float64
	// Added latency (send to receive) of the packets that arrived.
	P50, P90, P99, Max time.Duration
	// MissedViewers counts viewers that missed more than 1 % of Sent.
	MissedViewers int
	// Keyframes the publisher sent in the window (every 2 s, and at most
	// every 500 ms on a keyframe request).
	Keyframes int
	// KeyframeRequests (PLI, FIR) the publisher received during the run.
	KeyframeRequests int
	// Connect is how long connecting every viewer took.
	Connect time.Duration
	// HarnessCPU is the CPU time of this process in the window.
	HarnessCPU time.Duration
	// RelayCPU and RelayRSS (bytes, at the end of the window) of
	// Params.RelayPID; zero without one.
	RelayCPU time.Duration
	RelayRSS int64
	// CPUPerViewerSecond is RelayCPU in seconds / (Viewers × Window in
	// seconds).
	CPUPerViewerSecond float64
}

// String is the report on one line, e.g. "viewers=300 delivery=99.95%
// p50=1.2ms p99=8.4ms max=30ms cpu_per_viewer_s=1.1e-03 relay_cpu=66%
// rss=85MB missed_viewers=0 harness_cpu=80%".
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "viewers=%d delivery=%.2f%% p50=%s p99=%s max=%s", r.Viewers, 100*r.Delivery,
		ms(r.P50), ms(r.P99), ms(r.Max))
	if r.RelayCPU > 0 || r.RelayRSS > 0 {
		fmt.Fprintf(&b, " cpu_per_viewer_s=%.1e relay_cpu=%.0f%% rss=%dMB", r.CPUPerViewerSecond,
			100*r.RelayCPU.Seconds()/r.Window.Seconds(), (r.RelayRSS+1<<19)>>20)
	} else {
		b.WriteString(" cpu_per_viewer_s=- relay_cpu=- rss=-")
	}
	fmt.Fprintf(&b, " missed_viewers=%d harness_cpu=%.0f%%", r.MissedViewers, 100*r.HarnessCPU.Seconds()/r.Window.Seconds())
	return b.String()
}

// ms writes d in milliseconds: one decimal below 10 ms, none above.
func ms(d time.Duration) string {
	x := float64(d) / float64(time.Millisecond)
	if x < 10 {
		return fmt.Sprintf("%.1fms", x)
	}
	return fmt.Sprintf("%.0fms", x)
}

// stragglers is how long viewers keep reading after the window closes.
const stragglers = time.Second

// keyframeWait bounds the wait for every viewer's first keyframe.
const keyframeWait = 15 * time.Second

// Run publishes, connects p.Viewers viewers, measures for p.Duration and
// tears everything down (WHIP/WHEP DELETE) before it returns.
func Run(ctx context.Context, p Params) (Report, error) {
	if err := p.check(); err != nil {
		return Report{}, err
	}
	log := p.Log.With("viewers", p.Viewers)
	plan := newPlan(p)
	win := &window{}

	pub, err := publish(ctx, p, plan, win)
	if err != nil {
		return Report{}, err
	}
	pubCtx, stopPub := context.WithCancel(ctx)
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		pub.run(pubCtx)
	}()
	var viewers []*viewer
	defer func() {
		closeViewers(p, viewers)
		stopPub()
		<-pubDone
		pub.close(p)
	}()

	// Room for the window's packets with a wide margin for keyframes forced
	// by requests; a window that sends more fails rather than miscounts.
	capacity := int(2*plan.packetsPerSecond()*p.Duration.Seconds()) + 1000
	start := time.Now()
	viewers, err = connectViewers(ctx, p, win, capacity)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Viewers: p.Viewers, Connect: time.Since(start)}
	log.Info("viewers connected", "took", rep.Connect.Round(time.Millisecond))

	if err := waitKeyframes(ctx, viewers); err != nil {
		return Report{}, err
	}
	if err := sleep(ctx, p.Warmup); err != nil {
		return Report{}, err
	}

	first, err := pub.mark(ctx, true)
	if err != nil {
		return Report{}, err
	}
	self := os.Getpid()
	h0, err := cpuTime(self)
	if err != nil {
		return Report{}, err
	}
	var r0 time.Duration
	if p.RelayPID > 0 {
		if r0, err = cpuTime(p.RelayPID); err != nil {
			return Report{}, err
		}
	}
	log.Info("window open", "duration", p.Duration)
	if err := sleep(ctx, p.Duration); err != nil {
		return Report{}, err
	}
	end, err := pub.mark(ctx, false)
	if err != nil {
		return Report{}, err
	}
	h1, err := cpuTime(self)
	if err != nil {
		return Report{}, err
	}
	if p.RelayPID > 0 {
		r1, err := cpuTime(p.RelayPID)
		if err != nil {
			return Report{}, err
		}
		rep.RelayCPU = r1 - r0
		if rep.RelayRSS, err = RSS(p.RelayPID); err != nil {
			return Report{}, err
		}
	}
	rep.HarnessCPU = h1 - h0
	rep.Window = end.at.Sub(first.at)
	rep.Sent = int(end.n - first.n)
	rep.Keyframes = end.keyframes - first.keyframes
	if rep.Sent == 0 {
		return Report{}, errors.New("loadtest: no packet sent in the window")
	}
	if rep.Sent > capacity {
		return Report{}, fmt.Errorf("loadtest: %d packets in the window, room for %d", rep.Sent, capacity)
	}
	if planned := plan.packetsPerSecond() * rep.Window.Seconds(); float64(rep.Sent) < 0.95*planned ||
		rep.Window > p.Duration+p.Duration/10+100*time.Millisecond {
		// The publisher's sends blocked (a full socket buffer: the relay
		// reads too slowly) or this process was starved of CPU.
		log.Warn("publisher fell behind", "window", rep.Window.Round(time.Millisecond), "sent", rep.Sent,
			"planned", int(planned))
	}
	if err := sleep(ctx, stragglers); err != nil {
		return Report{}, err
	}
	stopPub()
	<-pubDone
	rep.KeyframeRequests = int(pub.requests.Load())
	// Closing the viewers ends their readers, so their records are
	// complete and no longer written.
	closeViewers(p, viewers)

	lat := make([]uint32, 0, rep.Sent*len(viewers))
	for _, v := range viewers {
		got := 0
		for _, x := range v.lat[:rep.Sent] {
			if x != 0 {
				got++
				lat = append(lat, x-1)
			}
		}
		rep.Received += got
		if float64(got) < 0.99*float64(rep.Sent) {
			rep.MissedViewers++
		}
	}
	rep.Delivery = float64(rep.Received) / float64(rep.Sent*len(viewers))
	slices.Sort(lat)
	rep.P50, rep.P90, rep.P99 = quantile(lat, 0.50), quantile(lat, 0.90), quantile(lat, 0.99)
	if len(lat) > 0 {
		rep.Max = time.Duration(lat[len(lat)-1]) * time.Microsecond
	}
	if rep.Window > 0 {
		rep.CPUPerViewerSecond = rep.RelayCPU.Seconds() / (float64(rep.Viewers) * rep.Window.Seconds())
	}
	log.Info("window closed", "sent", rep.Sent, "received", rep.Received, "keyframes", rep.Keyframes,
		"keyframe_requests", rep.KeyframeRequests)
	return rep, nil
}

// quantile is the nearest-rank q-quantile of sorted latencies in µs.
func quantile(sorted []uint32, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return time.Duration(sorted[i]) * time.Microsecond
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitKeyframes waits until every viewer has received the start of a
// keyframe.
func waitKeyframes(ctx context.Context, viewers []*viewer) error {
	deadline := time.Now().Add(keyframeWait)
	for {
		missing := 0
		for _, v := range viewers {
			if !v.keyed.Load() {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("loadtest: %d of %d viewers got no keyframe within %s", missing, len(viewers), keyframeWait)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// parallel runs f(i) for i in [0, n) with at most k at once and returns
// the first error.
func parallel(n, k int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, k)
	for i := range n {
		sem <- struct{}{}
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}
