package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// failingFile is a recording file on which writing fails once limit
// bytes are written (the write that crosses it writes what fits, as a
// full disk does).
type failingFile struct {
	f       *os.File
	limit   int
	written int
	err     error
}

func (w *failingFile) Write(b []byte) (int, error) {
	if w.written+len(b) > w.limit {
		n, _ := w.f.Write(b[:w.limit-w.written])
		w.written += n
		return n, &fs.PathError{Op: "write", Path: w.f.Name(), Err: w.err}
	}
	n, err := w.f.Write(b)
	w.written += n
	return n, err
}

func (w *failingFile) WriteAt(b []byte, off int64) (int, error) {
	if w.written >= w.limit {
		return 0, &fs.PathError{Op: "write", Path: w.f.Name(), Err: w.err}
	}
	return w.f.WriteAt(b, off)
}

func (w *failingFile) Close() error { return w.f.Close() }

// logBuffer collects JSON log records for a test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// count is how many records have the message msg at level.
func (b *logBuffer) count(t *testing.T, level slog.Level, msg string) int {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, line := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Level == level.String() && rec.Msg == msg {
			n++
		}
	}
	return n
}

// TestWriteFailure: a write that fails ends the recording with the error
// (logged once, not once per frame), tells the Registry, takes no more
// packets, and keeps the file when something playable was written.
func TestWriteFailure(t *testing.T) {
	tests := []struct {
		name     string
		limit    int   // bytes the file takes
		err      error // then
		wantKept bool
	}{
		{"disk full mid-recording", 20_000, syscall.ENOSPC, true},
		{"disk full at the header", 0, syscall.ENOSPC, false},
		{"I/O error", 5_000, syscall.EIO, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scenario{videoMime: webrtc.MimeTypeVP8, audioMime: webrtc.MimeTypeOpus}
			src := buildSource(t, sc)
			dir := t.TempDir()
			reg := NewRegistry()
			logs := &logBuffer{}
			clock := &fakeClock{t: testStart}
			r, err := Start(Params{Dir: dir, Session: "s", Anchor: "a", Start: testStart,
				VideoMime: sc.videoMime, AudioMime: sc.audioMime, QueueLen: 8192, Now: clock.Now,
				Log: slog.New(slog.NewJSONHandler(logs, nil)), Registry: reg,
				openFile: func(path string) (recordFile, error) {
					f, err := createFile(path)
					if err != nil {
						return nil, err
					}
					return &failingFile{f: f.(*os.File), limit: tt.limit, err: tt.err}, nil
				}})
			if err != nil {
				t.Fatal(err)
			}
			if !reg.Live("s", r.File().Name) {
				t.Fatal("the recording is not live in the registry")
			}
			for _, e := range src.events {
				clock.t = testStart.Add(e.at)
				if e.k == video {
					r.Video(e.p)
				} else {
					r.Audio(e.p)
				}
			}
			runErr := make(chan error, 1)
			go func() { runErr <- r.Run(context.Background()) }()
			select {
			case err = <-runErr:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not stop after the write failed")
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("Run: got %v, want %v", err, tt.err)
			}
			if cerr := r.Close(); !errors.Is(cerr, tt.err) {
				t.Errorf("Close after the failure: got %v, want %v", cerr, tt.err)
			}
			// packets after the failure are not taken (the relay goes on)
			before := r.Stats()
			for _, e := range src.events[:50] {
				r.Video(e.p)
				r.Audio(e.p)
			}
			if after := r.Stats(); after.VideoPackets != before.VideoPackets || after.AudioPackets != before.AudioPackets {
				t.Errorf("packets taken after the failure: %+v, before %+v", after, before)
			}
			if n := logs.count(t, slog.LevelError, "recording failed: stopped, the live stream goes on"); n != 1 {
				t.Errorf("got %d error records of the failure, want 1", n)
			}
			if reg.Failures() != 1 {
				t.Errorf("registry: %d failures, want 1", reg.Failures())
			}
			if _, err := reg.Failing(); !errors.Is(err, tt.err) {
				t.Errorf("registry failing: got %v, want %v", err, tt.err)
			}
			if reg.Live("s", r.File().Name) || reg.Len() != 0 {
				t.Error("the failed recording is still live in the registry")
			}
			info, err := os.Stat(filepath.Join(dir, "s", r.File().Name))
			switch {
			case tt.wantKept && err != nil:
				t.Errorf("the file with what was written: %v, want it kept", err)
			case tt.wantKept && info.Size() != int64(tt.limit):
				t.Errorf("file of %d bytes, want the %d written", info.Size(), tt.limit)
			case !tt.wantKept && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("the file without a frame: %v, want it removed", err)
			}
		})
	}
}

// TestStartFailure: a recording whose file cannot be made counts as a
// failure and leaves nothing registered.
func TestStartFailure(t *testing.T) {
	reg := NewRegistry()
	_, err := Start(Params{Dir: t.TempDir(), Session: "s", Anchor: "a", VideoMime: webrtc.MimeTypeVP8, Registry: reg,
		openFile: func(string) (recordFile, error) { return nil, &fs.PathError{Op: "open", Err: syscall.ENOSPC} }})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Start: got %v, want ENOSPC", err)
	}
	if reg.Failures() != 1 || reg.Len() != 0 {
		t.Errorf("registry: %d failures, %d live; want 1, 0", reg.Failures(), reg.Len())
	}
}
