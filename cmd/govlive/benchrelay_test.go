package main

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"govlive/logtest"
)

var benchLine = regexp.MustCompile(`^viewers=3 delivery=\d+\.\d\d% p50=[\d.]+ms p99=[\d.]+ms max=[\d.]+ms ` +
	`cpu_per_viewer_s=\d\.\de[-+]\d\d relay_cpu=\d+% rss=\d+MB missed_viewers=0 harness_cpu=\d+%\n$`)

func TestBenchRelay(t *testing.T) {
	t.Setenv(asCommandEnv, "1")
	var stdout, stderr logtest.Buffer
	start := time.Now()
	reps, err := benchRelay(context.Background(), benchOptions{
		viewers: []int{3}, duration: 2 * time.Second, warmup: 200 * time.Millisecond,
		bitrate: 2_500_000, audio: true, relayCPU: -1, harnessCPU: -1,
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("benchRelay: %v\nstderr:\n%s", err, stderr.String())
	}
	t.Logf("%s in %s", strings.TrimSpace(stdout.String()), time.Since(start).Round(time.Millisecond))
	if len(reps) != 1 {
		t.Fatalf("got %d reports, want 1", len(reps))
	}
	r := reps[0]
	if r.Viewers != 3 || r.Delivery < 0.99 || r.MissedViewers != 0 {
		t.Errorf("got %d viewers, delivery %.4f, %d missed, want 3, ≥ 0.99, 0", r.Viewers, r.Delivery, r.MissedViewers)
	}
	// 2.5 Mbit/s in ≤ 1200-byte packets and 50 audio packets/s: about
	// 320 packets/s.
	if pps := float64(r.Sent) / r.Window.Seconds(); pps < 250 || pps > 400 {
		t.Errorf("got %d packets in %s (%.0f/s), want 250–400/s", r.Sent, r.Window, pps)
	}
	if r.Window < 1900*time.Millisecond || r.Window > 3*time.Second {
		t.Errorf("got window %s, want about 2 s", r.Window)
	}
	if !(0 < r.P50 && r.P50 <= r.P90 && r.P90 <= r.P99 && r.P99 <= r.Max && r.P99 < time.Second) {
		t.Errorf("got latency p50 %s p90 %s p99 %s max %s, want 0 < p50 ≤ p90 ≤ p99 ≤ max, p99 < 1 s", r.P50, r.P90, r.P99, r.Max)
	}
	if r.RelayCPU <= 0 || r.RelayRSS < 10<<20 || r.CPUPerViewerSecond <= 0 {
		t.Errorf("got relay CPU %s, RSS %d, %.2g CPU s per viewer-second, want all positive and RSS ≥ 10 MB",
			r.RelayCPU, r.RelayRSS, r.CPUPerViewerSecond)
	}
	if !benchLine.MatchString(stdout.String()) {
		t.Errorf("got stdout %q, want one line matching %s", stdout.String(), benchLine)
	}
}

func TestBenchRelayFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr error
	}{
		{"help", []string{"-h"}, errHelp},
		{"unknown flag", []string{"--nosuch"}, usageError{}},
		{"argument", []string{"300"}, usageError{}},
		{"zero viewers", []string{"--viewers", "50,0"}, usageError{}},
		{"not a count", []string{"--viewers", "50,x"}, usageError{}},
		{"zero duration", []string{"--duration", "0s"}, usageError{}},
		{"negative warmup", []string{"--warmup", "-1s"}, usageError{}},
		{"low bitrate", []string{"--bitrate", "100"}, usageError{}},
		{"no such CPU", []string{"--relay-cpu", "4096"}, usageError{}},
		{"below -1", []string{"--harness-cpu", "-2"}, usageError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr logtest.Buffer
			err := benchRelayCmd(context.Background(), tc.args, envFunc(nil), &stdout, &stderr)
			if tc.wantErr == errHelp {
				if !errors.Is(err, errHelp) || !strings.Contains(stdout.String(), "usage: govlive bench-relay [flags]") {
					t.Fatalf("got %v and stdout %q, want errHelp and the usage", err, stdout.String())
				}
				return
			}
			if !errors.As(err, new(usageError)) || !strings.HasPrefix(err.Error(), "bench-relay: ") {
				t.Fatalf("got %v, want a bench-relay usage error", err)
			}
		})
	}
}

var apiLines = regexp.MustCompile(`(?s)before the load: RSS \d+ MB, (\d+) open files on govlive\.db\*\n` +
	`during the load \(peak\): RSS \d+ MB, (\d+) open files.*\n` +
	`after the load: RSS \d+ MB, (\d+) open files.*\n` +
	`2 rounds of 50 simultaneous GET /api/faq\?page=2: answers map\[200:100\], 0 failed, \d+ requests/s\n` +
	`first round \(opens 50 connections\): p50 \S+  p99 \S+  max \S+\n` +
	`later rounds \(connections kept\): p50 \S+  p99 \S+  max \S+\n$`)

// TestBenchAPI runs bench-api small: every answer 200, and the server
// never holds more files on the database than its pools allow.
func TestBenchAPI(t *testing.T) {
	t.Setenv(asCommandEnv, "1")
	var stdout, stderr logtest.Buffer
	err := benchAPI(context.Background(), apiBenchOptions{clients: 50, rounds: 2, path: "/api/faq?page=2",
		faq: 200, serverCPU: -1, harnessCPU: -1}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("benchAPI: %v\nstderr:\n%s", err, stderr.String())
	}
	m := apiLines.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("bench-api printed:\n%s", stdout.String())
	}
	t.Logf("\n%s", stdout.String())
	for i, n := range m[1:] {
		// a writer and at most one reader per core, three files each
		if k, _ := strconv.Atoi(n); k > 3*(runtime.GOMAXPROCS(0)+1) || k == 0 {
			t.Errorf("figure %d: %d files open on the database, want 1 to %d", i, k, 3*(runtime.GOMAXPROCS(0)+1))
		}
	}
}
