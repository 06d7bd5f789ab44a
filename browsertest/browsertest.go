// Package browsertest starts a real Chromium for tests, driven with
// chromedp: headless, in a user data directory of its own, closed when the
// test ends with a check that none of its processes is left behind.
//
// Browser tests are skipped where Chromium is not installed, unless the
// environment has GOVLIVE_BROWSER_TESTS=required (as in CI): then a
// missing browser, or a tool a browser test needs, fails the test.
//
// It is for tests only: no non-test code may import it.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path is where Debian's chromium package puts the browser.
const Path = "/usr/bin/chromium"

// Required reports whether the environment requires the browser tests to
// run (GOVLIVE_BROWSER_TESTS=required): what they need must then be
// there, and a test fails instead of skipping without it.
func Required() bool {
	return os.Getenv("GOVLIVE_BROWSER_TESTS") == "required"
}

// Find returns the browser's path (Path, else chromium on PATH). Without
// Chromium the test is skipped, unless Required: then it fails.
func Find(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath(Path)
	if err != nil {
		path, err = exec.LookPath("chromium")
	}
	if err != nil {
		if Required() {
			t.Fatalf("GOVLIVE_BROWSER_TESTS=required, but no Chromium: %v", err)
		}
		t.Skipf("no Chromium (%v); install Debian's chromium package to run the browser tests", err)
	}
	return path
}

// Start starts the Chromium at path for the test — headless, without
// sandbox or GPU, playing media without a user gesture, without component
// updates, in a new user data directory, with opts added — and returns
// its context: chromedp runs actions in its first tab, and
// chromedp.NewContext of it opens another. At the end of the test it
// closes the browser and fails the test if a process of it is still
// running 3 seconds later (and kills that process).
func Start(t testing.TB, path string, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	dir := t.TempDir()
	all := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-component-update", true),
	)
	all = append(all, opts...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), all...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("close Chromium: %v", err)
		}
		ccancel()
		cancel()
		cancelAlloc()
		checkGone(t, dir)
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// checkGone fails the test if a process of the browser with the user data
// dir dir is still running 3 seconds after it was closed, and kills it.
func checkGone(t testing.TB, dir string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	left := processes(dir)
	for len(left) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		left = processes(dir)
	}
	if len(left) > 0 {
		t.Errorf("Chromium processes %v still running after the browser was closed; killing them", left)
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// processes lists the processes whose command line names the user data
// dir dir (what pgrep -f would find).
func processes(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	needle := []byte("--user-data-dir=" + dir)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, needle) {
			pids = append(pids, pid)
		}
	}
	return pids
}
