//go:build linux

package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"golang.org/x/sys/unix"

	"govlive/stream/demo"
	"govlive/stream/streamtest"
)

// TestServeDiskFullKeepsViewers records onto a full disk — a 64 KiB
// tmpfs mounted on DATA/recordings, where the test may mount one: the
// recording stops, logged once and counted in /metrics, /readyz reports
// recordings failing while /healthz stays 200, and the viewer keeps
// getting the anchor's media.
func TestServeDiskFullKeepsViewers(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "recordings")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0755"); err != nil {
		t.Skipf("no tmpfs to fill (mounting needs privileges): %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount the tmpfs: %v", err)
		}
	})
	p := startServeArgs(t, data, "--ice-loopback", "--record-min-free", "0")
	token := issueToken(t, data, "demo", "满盘主播")

	pub, video, audio := cardPeer(t)
	if resp, body := streamtest.Signal(t, pub, p.url+"/whip/demo", token); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whip/demo: %s %s", resp.Status, body)
	}
	viewer, videoIn, audioIn := recvOnlyViewer(t)
	if resp, body := streamtest.Signal(t, viewer, p.url+"/whep/demo", ""); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whep/demo: %s %s", resp.Status, body)
	}
	src, err := demo.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sent := make(chan error, 1)
	go func() {
		sent <- src.Run(ctx,
			func(pkt *rtp.Packet) { _ = video.WriteRTP(pkt) },
			func(pkt *rtp.Packet) { _ = audio.WriteRTP(pkt) })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-sent; !errors.Is(err, context.Canceled) {
			t.Errorf("demo source: %v", err)
		}
	})

	deadline := time.Now().Add(20 * time.Second)
	for {
		if v, _ := metric(t, p, "govlive_recording_write_failures_total"); v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no write failure counted 20 s into the publication (viewer got %d video packets); stderr:\n%s",
				videoIn.Load(), p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	atFailure, audioAtFailure := videoIn.Load(), audioIn.Load()
	code, checks := readyz(t, p)
	if code != http.StatusServiceUnavailable || !strings.Contains(checks["recordings"], "fail to write") ||
		!strings.Contains(checks["recordings"], "no space left on device") {
		t.Errorf("/readyz with the disk full: %d %v, want 503 with recordings failing", code, checks)
	}
	if resp, err := p.client.Get(p.url + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz with the disk full: %v %v, want 200", resp, err)
	} else {
		resp.Body.Close()
	}
	// the viewer goes on getting media: a second of video and audio more
	deadline = time.Now().Add(10 * time.Second)
	for videoIn.Load() < atFailure+30 || audioIn.Load() < audioAtFailure+50 {
		if time.Now().After(deadline) {
			t.Fatalf("viewer got %d video and %d audio packets more in 10 s after the disk filled, want 30 and 50",
				videoIn.Load()-atFailure, audioIn.Load()-audioAtFailure)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := strings.Count(p.stderr.String(), `msg="recording failed: stopped, the live stream goes on"`); n != 1 {
		t.Errorf("the failure was logged %d times, want once; stderr:\n%s", n, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "disk_full=true") {
		t.Errorf("the failure's log line does not say the disk is full; stderr:\n%s", p.stderr)
	}
	// what fitted is kept and listed
	var list struct {
		Items []struct {
			Size int64 `json:"size"`
		} `json:"items"`
	}
	getJSON(t, p.url+"/api/sessions/demo/recordings", &list)
	if len(list.Items) != 1 || list.Items[0].Size == 0 {
		t.Errorf("recordings on the full disk: %+v, want the one that filled it", list.Items)
	}
}
