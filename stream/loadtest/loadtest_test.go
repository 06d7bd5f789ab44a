package loadtest

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestPayload(t *testing.T) {
	body := []byte("0123456789abcdefghij")
	for _, tc := range []struct {
		name string
		pkt  rtp.Packet
	}{
		{"plain", rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 7}, Payload: body}},
		{"csrc", rtp.Packet{Header: rtp.Header{Version: 2, CSRC: []uint32{1, 2}}, Payload: body}},
		{"extension", extended(t, body)},
		{"padding", rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, PaddingSize: 5}, Payload: body}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.pkt.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if got := payload(b); string(got) != string(body) {
				t.Errorf("got payload %q, want %q", got, body)
			}
		})
	}
	for _, bad := range [][]byte{nil, {0x80, 0}, {0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe}} {
		if got := payload(bad); got != nil {
			t.Errorf("payload(%x): got %x, want nil", bad, got)
		}
	}
}

// extended is a packet with a one-byte header extension.
func extended(t *testing.T, body []byte) rtp.Packet {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2}, Payload: body}
	if err := p.SetExtension(3, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       uint64
		wantErr    bool
	}{
		{"plain", "4242 (govlive) S 1 4242 4242 0 -1 4194560 3000 0 0 0 150 25 0 0 20 0 9 0 100 1000 200", 175, false},
		{"spaces and parens in the name", "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 10 20", 10, false},
		{"no name", "4242 govlive S 1", 0, true},
		{"short", "4242 (govlive) S 1 2 3", 0, true},
		{"not a number", "4242 (govlive) S 1 4242 4242 0 -1 4194560 3000 0 0 0 x 25 0", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.stat))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("got %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseRSS(t *testing.T) {
	got, err := parseRSS([]byte("Name:\tgovlive\nVmPeak:\t  900000 kB\nVmRSS:\t   85200 kB\nThreads:\t9\n"))
	if err != nil || got != 85200<<10 {
		t.Errorf("got %d, %v; want %d", got, err, 85200<<10)
	}
	if _, err := parseRSS([]byte("Name:\tgovlive\n")); err == nil {
		t.Error("got no error without a VmRSS line")
	}
}

func TestOwnProcess(t *testing.T) {
	pid := os.Getpid()
	if _, err := cpuTime(pid); err != nil {
		t.Fatal(err)
	}
	n, err := RSS(pid)
	if err != nil || n < 1<<20 {
		t.Fatalf("got RSS %d, %v; want at least 1 MB", n, err)
	}
}

func TestPlan(t *testing.T) {
	p := Params{VideoBitrate: 2_500_000, FPS: 30, MaxPacket: 1200, Audio: true}
	pl := newPlan(p)
	if pl.gopFrames != 60 || pl.maxPayload != 1188 {
		t.Fatalf("got %d frames per GOP, %d bytes per packet; want 60, 1188", pl.gopFrames, pl.maxPayload)
	}
	bits := float64(8*(pl.key+(pl.gopFrames-1)*pl.delta)) / gop.Seconds()
	if math.Abs(bits-2_500_000) > 2_500_000*0.01 {
		t.Errorf("got %.0f bit/s of video, want 2.5 Mbit/s ± 1 %%", bits)
	}
	if pps := pl.packetsPerSecond(); pps < 300 || pps > 330 {
		t.Errorf("got %.1f packets/s, want about 317", pps)
	}
}

func TestQuantile(t *testing.T) {
	var lat []uint32
	for i := range 100 {
		lat = append(lat, uint32(i+1)*1000)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		if got := quantile(lat, tc.q); got != tc.want {
			t.Errorf("quantile %.2f: got %s, want %s", tc.q, got, tc.want)
		}
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("quantile of nothing: got %s, want 0", got)
	}
}

func TestParamsCheck(t *testing.T) {
	good := Params{BaseURL: "http://127.0.0.1:1", Session: "demo", Viewers: 1, Duration: time.Second}
	p := good
	if err := p.check(); err != nil {
		t.Fatal(err)
	}
	if p.VideoBitrate != 2_500_000 || p.FPS != 30 || p.MaxPacket != 1200 || p.HTTPClient == nil || p.Log == nil {
		t.Errorf("got defaults %+v", p)
	}
	for _, tc := range []struct {
		name string
		edit func(*Params)
		want string
	}{
		{"no URL", func(p *Params) { p.BaseURL = "127.0.0.1:1" }, "BaseURL"},
		{"no session", func(p *Params) { p.Session = "" }, "Session"},
		{"no viewers", func(p *Params) { p.Viewers = 0 }, "Viewers"},
		{"no duration", func(p *Params) { p.Duration = 0 }, "Duration"},
		{"huge packets", func(p *Params) { p.MaxPacket = 9000 }, "MaxPacket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			tc.edit(&p)
			err := p.check()
			if !errors.Is(err, ErrParams) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrParams naming %s", err, tc.want)
			}
		})
	}
}

func TestReportString(t *testing.T) {
	r := Report{Viewers: 300, Window: 20 * time.Second, Delivery: 0.99953, P50: 1234 * time.Microsecond,
		P99: 8400 * time.Microsecond, Max: 30 * time.Millisecond, RelayCPU: 13200 * time.Millisecond,
		RelayRSS: 85 << 20, CPUPerViewerSecond: 0.0011, HarnessCPU: 16 * time.Second}
	want := "viewers=300 delivery=99.95% p50=1.2ms p99=8.4ms max=30ms cpu_per_viewer_s=1.1e-03 relay_cpu=66% rss=85MB missed_viewers=0 harness_cpu=80%"
	if got := r.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
