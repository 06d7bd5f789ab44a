package main

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// BenchmarkServeStartup measures a first start in-process: from calling
// run on an empty data directory (open the database, migrate, import the
// sample pack, listen) to /healthz answering 200, then a clean shutdown
// (not timed).
func BenchmarkServeStartup(b *testing.B) {
	client := &http.Client{Timeout: time.Second}
	for b.Loop() {
		data := b.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		stdout, stderr := &syncBuffer{}, &syncBuffer{}
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"serve", "--data", data, "--addr", "127.0.0.1:0"}, envFunc(nil), stdout, stderr)
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
		for {
			resp, err := client.Get(url + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
