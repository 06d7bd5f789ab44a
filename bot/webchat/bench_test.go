package webchat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"

	"govlive/bot"
)

var (
	benchClients = flag.Int("webchat.clients", 2000, "BenchmarkHub2000: websocket clients in one session")
	benchRate    = flag.Int("webchat.rate", 50, "BenchmarkHub2000: messages published per second")
	benchFor     = flag.Duration("webchat.for", 5*time.Second, "BenchmarkHub2000: how long to publish")
	loadURL      = flag.String("webchat.load", "", "internal: run TestLoadClients as the benchmark's client process against this URL")
)

// endMarker is the pinned text that tells the load clients publishing is
// over; its Segment is the number of messages published.
const endMarker = "bench-end"

// loadResult is what the client process reports.
type loadResult struct {
	Clients  int     `json:"clients"`
	Ended    int     `json:"ended"` // clients whose connection ended early (cut off)
	Received int64   `json:"received"`
	Lost     int64   `json:"lost"`      // messages not received by clients that stayed
	Reorder  int64   `json:"reordered"` // messages out of order
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
}

// BenchmarkHub2000 publishes messages at a steady rate to one session
// with -webchat.clients websocket clients over loopback. The clients run in
// a second process (this test binary, TestLoadClients), so the server
// figures — CPU from getrusage, RSS from /proc — are the hub's and
// fiber's alone. Latency is from the event's timestamp to the client's
// receipt, on the same clock.
//
//	go test -run '^$' -bench Hub2000 -benchtime 1x ./bot/webchat/
func BenchmarkHub2000(b *testing.B) {
	raiseFileLimit(b)
	rssIdle := procStatus(b, "VmRSS")
	h := start(b, Config{}, listenOpt{})

	for range b.N {
		b.StopTimer()
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoadClients$",
			"-webchat.load="+h.base+"bench/chat/ws", "-webchat.clients="+strconv.Itoa(*benchClients))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		lines.Buffer(make([]byte, 1<<16), 1<<20)
		waitLine := func(prefix string) string {
			for lines.Scan() {
				if rest, ok := strings.CutPrefix(lines.Text(), prefix); ok {
					return rest
				}
			}
			b.Fatalf("client process ended before %q: %v", prefix, lines.Err())
			return ""
		}
		waitLine("LOAD ready")
		if st := h.hubs.Stats(); st.Connections != *benchClients {
			b.Fatalf("%d connections, want %d", st.Connections, *benchClients)
		}
		rssConnected := procStatus(b, "VmRSS")
		before := h.hubs.Stats()

		total := int(benchFor.Seconds() * float64(*benchRate))
		text := strings.Repeat("请问社保卡丢了怎么补办？", 4)
		tick := time.NewTicker(time.Second / time.Duration(*benchRate))
		cpu0, wall0 := cpuTime(b), time.Now()
		b.StartTimer()
		for id := 1; id <= total; id++ {
			<-tick.C
			now := time.Now()
			h.hubs.Publish(bot.Event{Kind: bot.EventMessage, Session: "bench", Time: now,
				Post: &bot.Post{ID: bot.MessageID(id), Session: "bench", Author: viewerA, Time: now, Text: text}})
		}
		h.hubs.Publish(bot.Event{Kind: bot.EventPinned, Session: "bench", Pinned: endMarker, Segment: total})
		var res loadResult
		if err := json.Unmarshal([]byte(waitLine("LOAD result ")), &res); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
		tick.Stop()
		if err := cmd.Wait(); err != nil {
			b.Fatalf("client process: %v", err)
		}
		after := h.hubs.Stats()

		b.ReportMetric(float64(res.Lost), "lost")
		b.ReportMetric(float64(res.Reorder), "reordered")
		b.ReportMetric(float64(after.CutOff-before.CutOff), "cut_off")
		b.ReportMetric(float64(after.Dropped-before.Dropped), "dropped")
		b.ReportMetric(res.P50, "p50_ms")
		b.ReportMetric(res.P99, "p99_ms")
		b.ReportMetric(res.Max, "max_ms")
		b.ReportMetric(float64(after.Delivered-before.Delivered)/wall.Seconds(), "frames/s")
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "server_cpu_%")
		b.ReportMetric(float64(rssConnected-rssIdle)/float64(*benchClients), "server_KB/conn")
		b.ReportMetric(float64(procStatus(b, "VmHWM"))/1024, "server_peak_RSS_MB")
		b.Logf("%d clients, %d messages at %d/s: %+v; server CPU %v over %v", *benchClients, total, *benchRate, res, cpu, wall.Round(time.Millisecond))
	}
}

// TestLoadClients is BenchmarkHub2000's client process; it does nothing
// without -webchat.load.
func TestLoadClients(t *testing.T) {
	if *loadURL == "" {
		t.Skip("the client process of BenchmarkHub2000")
	}
	raiseFileLimit(t)
	n := *benchClients
	conns := make([]*fws.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d := fws.Dialer{HandshakeTimeout: safety}
			ws, _, err := d.Dial(*loadURL, nil)
			if err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			if err := ws.WriteJSON(map[string]any{"type": "join", "key": fmt.Sprint("bench-", i), "after": 0}); err != nil {
				errs <- err
				return
			}
			if _, _, err := ws.ReadMessage(); err != nil { // the welcome
				errs <- err
				return
			}
			conns[i] = ws
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	fmt.Println("LOAD ready")

	type clientResult struct {
		lat             []float32
		received, reord int64
		want            int64
		ended           bool
	}
	results := make([]clientResult, n)
	timeKey, idKey := []byte(`"time":"`), []byte(`"post":{"id":`)
	for i, ws := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			var last int64
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					r.ended = true
					return
				}
				got := time.Now()
				if bytes.Contains(data, []byte(endMarker)) {
					var f struct{ Event bot.Event }
					if err := json.Unmarshal(data, &f); err == nil {
						r.want = int64(f.Event.Segment)
					}
					return
				}
				ts, ok := field(data, timeKey, '"')
				id, ok2 := field(data, idKey, ',')
				if !ok || !ok2 {
					continue
				}
				sent, err := time.Parse(time.RFC3339Nano, string(ts))
				if err != nil {
					continue
				}
				r.lat = append(r.lat, float32(got.Sub(sent).Seconds()*1000))
				r.received++
				if v, _ := strconv.ParseInt(string(id), 10, 64); v <= last {
					r.reord++
				} else {
					last = v // a gap shows in lost
				}
			}
		}()
	}
	wg.Wait()

	var res loadResult
	var all []float32
	res.Clients = n
	for _, r := range results {
		res.Received += r.received
		res.Reorder += r.reord
		if r.ended {
			res.Ended++
			continue
		}
		res.Lost += r.want - r.received
		all = append(all, r.lat...)
	}
	slices.Sort(all)
	if len(all) > 0 {
		res.P50 = float64(all[len(all)/2])
		res.P99 = float64(all[len(all)*99/100])
		res.Max = float64(all[len(all)-1])
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("LOAD result %s\n", out)
	for _, ws := range conns {
		_ = ws.Close()
	}
}

// field returns the bytes after the first key, up to end.
func field(data, key []byte, end byte) ([]byte, bool) {
	i := bytes.Index(data, key)
	if i < 0 {
		return nil, false
	}
	rest := data[i+len(key):]
	j := bytes.IndexByte(rest, end)
	if j < 0 {
		return nil, false
	}
	return rest[:j], true
}

func raiseFileLimit(t testing.TB) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if need := uint64(*benchClients) + 100; lim.Cur < need {
		t.Skipf("open-file limit %d, need %d", lim.Cur, need)
	}
}

func cpuTime(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatus reads a kB figure of /proc/self/status.
func procStatus(t testing.TB, key string) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no %s in /proc/self/status", key)
	return 0
}
