package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"govlive/logtest"
)

// BenchmarkServeStartup measures a first start in-process: from calling
// run on an empty data directory (open the database, migrate, import the
// sample pack, listen) to /healthz answering 200, and to /readyz (the
// index built), then a clean shutdown (not timed).
func BenchmarkServeStartup(b *testing.B) {
	var healthz, readyz time.Duration
	for b.Loop() {
		h, r := startAndStop(b, b.TempDir())
		healthz += h
		readyz += r
	}
	b.ReportMetric(healthz.Seconds()*1000/float64(b.N), "healthz-ms")
	b.ReportMetric(readyz.Seconds()*1000/float64(b.N), "readyz-ms")
}

// BenchmarkServeStartLarge measures a start of serve in-process on a store
// of 10,000 FAQ entries: the time to /healthz 200 (listening) and to
// /readyz 200 (the index caught up), with the index as the last serve left
// it, and after 5,000 entries were imported while no server ran (data
// directory copied afresh for each run):
//
//	go test -run XXX -bench ServeStartLarge -benchtime 3x ./cmd/govlive/
func BenchmarkServeStartLarge(b *testing.B) {
	ctx := context.Background()
	// grown: 5,000 entries, served once (index built), then 5,000 more.
	prepare := func(b *testing.B, first, then int) string {
		data := filepath.Join(b.TempDir(), "data")
		if err := growStore(ctx, data, first); err != nil {
			b.Fatal(err)
		}
		startAndStop(b, data)
		if then > first {
			if err := growStore(ctx, data, then); err != nil {
				b.Fatal(err)
			}
		}
		return data
	}
	for _, c := range []struct {
		name        string
		first, then int
	}{
		{"10k-unchanged", 10_000, 0},
		{"10k-after-5k-imported", 5_000, 10_000},
	} {
		b.Run(c.name, func(b *testing.B) {
			src := prepare(b, c.first, c.then)
			var healthz, readyz time.Duration
			for b.Loop() {
				b.StopTimer()
				data := filepath.Join(b.TempDir(), "data")
				if err := os.CopyFS(data, os.DirFS(src)); err != nil {
					b.Fatal(err)
				}
				_ = os.Remove(filepath.Join(data, lockName))
				b.StartTimer()
				h, r := startAndStop(b, data)
				healthz += h
				readyz += r
			}
			b.ReportMetric(healthz.Seconds()/float64(b.N), "healthz-s")
			b.ReportMetric(readyz.Seconds()/float64(b.N), "readyz-s")
		})
	}
}

// startAndStop runs serve on data until /readyz answers 200, stops it, and
// returns how long /healthz and /readyz took to answer 200.
func startAndStop(b *testing.B, data string) (healthz, readyz time.Duration) {
	b.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &logtest.Buffer{}, &logtest.Buffer{}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- run(ctx, []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--demo=false", "--record=false"}, envFunc(nil), stdout, stderr)
	}()
	var url string
	for url == "" {
		if m := servingLine.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case err := <-done:
			b.Fatalf("serve ended: %v\n%s", err, stderr)
		case <-time.After(time.Millisecond):
		}
	}
	wait := func(path string) time.Duration {
		for {
			resp, err := client.Get(url + path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return time.Since(start)
				}
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("%s not 200 after 5 minutes", path)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	healthz = wait("/healthz")
	readyz = wait("/readyz")
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	return healthz, readyz
}

// BenchmarkEvalFolds measures eval --kb-folds on the sample pack (one
// store, search and baseline built per fold, every phrasing asked):
//
//	go test -run XXX -bench EvalFolds -benchtime 3x ./cmd/govlive/
func BenchmarkEvalFolds(b *testing.B) {
	for b.Loop() {
		var out, errOut logtest.Buffer
		if err := run(b.Context(), []string{"eval", "--kb-folds", "--json"}, envFunc(nil), &out, &errOut); err != nil {
			b.Fatalf("eval --kb-folds: %v\n%s", err, errOut.String())
		}
	}
}
