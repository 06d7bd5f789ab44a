package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// metric reads one sample of /metrics ("name" or `name{label="v"}`); ok
// is false when serve does not export it.
func metric(t *testing.T, p *serveProc, sample string) (float64, bool) {
	t.Helper()
	body := getText(t, p.url+"/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("metric %s: %v", sample, err)
	}
	return v, true
}

// readyz is serve's /readyz: the status code and the checks.
func readyz(t *testing.T, p *serveProc) (int, map[string]string) {
	t.Helper()
	var body struct {
		Checks map[string]string `json:"checks"`
	}
	resp, err := p.client.Get(p.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("/readyz: %v: %s", err, b)
	}
	return resp.StatusCode, body.Checks
}

// TestServeRemovesOldRecordings: serve's janitor removes a finished
// recording past --record-retention as soon as serve starts, keeps a
// recent one, logs the removal and counts it in /metrics; recordings are
// ready.
func TestServeRemovesOldRecordings(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "recordings", "demo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	old := "旧主播-" + now.Add(-40*24*time.Hour).Format("20060102T150405Z") + ".webm"
	recent := "新主播-" + now.Add(-2*time.Hour).Format("20060102T150405Z") + ".webm"
	for name, age := range map[string]time.Duration{old: 40 * 24 * time.Hour, recent: time.Hour} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, bytes.Repeat([]byte{1}, 5000), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	p := startServeArgs(t, data, "--ice-loopback", "--record-retention", "30", "--record-min-free", "1MB")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, old)); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there 10 s after serve started; stderr:\n%s", old, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, recent)); err != nil {
		t.Fatalf("the recent recording: %v", err)
	}
	removal := regexp.MustCompile(`msg="recording removed" .*session=demo name=` + regexp.QuoteMeta(old) + ` size=5000 reason=retention`)
	if !removal.MatchString(p.stderr.String()) {
		t.Errorf("no log line of the removal; stderr:\n%s", p.stderr)
	}
	if v, ok := metric(t, p, `govlive_recordings_removed_total{reason="retention"}`); !ok || v != 1 {
		t.Errorf("govlive_recordings_removed_total{reason=\"retention\"}: got %v (%v), want 1", v, ok)
	}
	if v, ok := metric(t, p, "govlive_recordings_files"); !ok || v != 1 {
		t.Errorf("govlive_recordings_files: got %v (%v), want 1", v, ok)
	}
	if _, ok := metric(t, p, "govlive_recordings_disk_free_bytes"); !ok {
		t.Error("no govlive_recordings_disk_free_bytes")
	}
	waitReady(t, p)
	if code, checks := readyz(t, p); code != http.StatusOK || checks["recordings"] != "ok" {
		t.Errorf("/readyz: %d %v, want 200 with recordings ok", code, checks)
	}
}
