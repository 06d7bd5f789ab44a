//go:build linux

package record

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pion/webrtc/v4"
	"golang.org/x/sys/unix"
)

// TestDiskFull records onto a real 16 KiB tmpfs (where the test may
// mount one): the recording stops with ENOSPC and keeps what fitted,
// recordings are not ready, the janitor's floor removes the finished
// file, and once writing works again they are ready.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=16k,mode=0755"); err != nil {
		t.Skipf("no tmpfs to fill (mounting needs privileges): %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount the tmpfs: %v", err)
		}
	})
	reg := NewRegistry()
	j, err := NewJanitor(JanitorConfig{Dir: dir, Registry: reg, MinFree: MinFree{Percent: 50}, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Ready(context.Background()); err != nil {
		t.Fatalf("Ready on the empty tmpfs: %v", err)
	}
	sc := scenario{videoMime: webrtc.MimeTypeVP8, audioMime: webrtc.MimeTypeOpus}
	src := buildSource(t, sc)
	clock := &fakeClock{t: testStart}
	r, err := Start(Params{Dir: dir, Session: "s", Anchor: "a", Start: testStart, VideoMime: sc.videoMime,
		AudioMime: sc.audioMime, QueueLen: 8192, Now: clock.Now, Log: testLogger(t), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range src.events {
		clock.t = testStart.Add(e.at)
		if e.k == video {
			r.Video(e.p)
		} else {
			r.Audio(e.p)
		}
	}
	if err := r.Run(context.Background()); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Run on a full disk: got %v, want ENOSPC", err)
	}
	info, err := os.Stat(filepath.Join(dir, "s", r.File().Name))
	if err != nil || info.Size() == 0 {
		t.Fatalf("the part that fitted: %v, want it kept", err)
	}
	t.Logf("%d bytes recorded before the disk was full", info.Size())
	if err := j.Ready(context.Background()); !errors.Is(err, ErrWriteFailing) {
		t.Fatalf("Ready after the failure: got %v, want ErrWriteFailing", err)
	}
	if u, err := (Statfs{}).Usage(dir); err != nil || u.Free >= u.Size/2 {
		t.Fatalf("tmpfs usage %+v (%v), want less than half free", u, err)
	}
	st, err := j.pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.removed != 1 || j.removed[ReasonMinFree].Load() != 1 {
		t.Fatalf("pass: %d removed (%d for the floor), want the finished recording", st.removed, j.removed[ReasonMinFree].Load())
	}
	// the same pass found that writing works again
	if err := j.Ready(context.Background()); err != nil {
		t.Fatalf("Ready once there is room again: %v", err)
	}
}
