package record

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"主播小王", "主播小王"},
		{"课程-2025_春", "课程-2025_春"},
		{"../../etc/passwd", "______etc_passwd"},
		{`a\b/c:d`, "a_b_c_d"},
		{"中文 空格", "中文_空格"},
		{"", "_"},
		{".", "_"},
		{strings.Repeat("长", 100), strings.Repeat("长", maxNameLen)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := sanitize(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// writeFile makes a file with some content in dir/session.
func writeFile(t *testing.T, dir, session, name, content string) {
	t.Helper()
	d := filepath.Join(dir, session)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "课程_1", "主播A-20250314T092653Z.webm", "aaaa")
	writeFile(t, dir, "课程_1", "主播B-20250314T100000Z.mp4", "bb")
	writeFile(t, dir, "课程_1", "a-b-20250101T000000Z.webm", "c")
	writeFile(t, dir, "课程_1", "empty-20250314T110000Z.webm", "")
	writeFile(t, dir, "课程_1", "notes.txt", "x")
	writeFile(t, dir, "课程_1", "x-2025-03-14.webm", "x")
	writeFile(t, dir, "other", "主播C-20250314T120000Z.webm", "x")
	if err := os.Mkdir(filepath.Join(dir, "课程_1", "d-20250314T120000Z.webm"), 0o755); err != nil {
		t.Fatal(err)
	}

	got, err := List(dir, "课程 1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got {
		names = append(names, f.Name)
	}
	want := []string{"主播B-20250314T100000Z.mp4", "主播A-20250314T092653Z.webm", "a-b-20250101T000000Z.webm"}
	if !slices.Equal(names, want) {
		t.Fatalf("got %q, want %q", names, want)
	}
	if f := got[1]; f.Anchor != "主播A" || f.Session != "课程 1" || f.Size != 4 || f.MimeType != "video/webm" ||
		!f.Start.Equal(time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)) {
		t.Errorf("got %+v", f)
	}
	if f := got[0]; f.MimeType != "video/mp4" {
		t.Errorf("mp4 mime type: got %q", f.MimeType)
	}
	if got[2].Anchor != "a-b" {
		t.Errorf("anchor with a dash: got %q", got[2].Anchor)
	}

	t.Run("missing directory", func(t *testing.T) {
		got, err := List(filepath.Join(dir, "nope"), "s")
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("got %v %v, want an empty list", got, err)
		}
	})
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "s1", "主播A-20250314T092653Z.webm", "webm data")
	writeFile(t, dir, "s2", "b-20250314T092653Z.mp4", "other session")
	writeFile(t, dir, "", "secret-20250314T092653Z.webm", "outside")
	if err := os.Symlink(filepath.Join(dir, "secret-20250314T092653Z.webm"), filepath.Join(dir, "s1", "link-20250314T092653Z.webm")); err != nil {
		t.Fatal(err)
	}

	t.Run("a recording", func(t *testing.T) {
		f, info, err := Open(dir, "s1", "主播A-20250314T092653Z.webm")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Close() }()
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != "webm data" || info.Size != 9 || info.Anchor != "主播A" || info.MimeType != "video/webm" {
			t.Errorf("got %q %+v", b, info)
		}
	})

	bad := []struct{ name, session, file string }{
		{"parent", "s1", "../secret-20250314T092653Z.webm"},
		{"parent of session", "..", "secret-20250314T092653Z.webm"},
		{"absolute", "s1", filepath.Join(dir, "secret-20250314T092653Z.webm")},
		{"other session", "s1", "b-20250314T092653Z.mp4"},
		{"subdirectory", "s1", "x/主播A-20250314T092653Z.webm"},
		{"not a recording name", "s1", "主播A.webm"},
		{"dot dot", "s1", ".."},
		{"empty", "s1", ""},
		{"missing", "s1", "主播A-20250314T092654Z.webm"},
		{"missing session", "s9", "主播A-20250314T092653Z.webm"},
		{"symlink out of the session", "s1", "link-20250314T092653Z.webm"},
		{"unsanitised anchor", "s1", "主 播-20250314T092653Z.webm"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			f, _, err := Open(dir, tt.session, tt.file)
			if err == nil {
				_ = f.Close()
			}
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("got %v, want ErrNotFound", err)
			}
		})
	}
}

// TestStartNames checks the file a Recorder makes: sanitised names and a
// second recording in the same second.
func TestStartNames(t *testing.T) {
	dir := t.TempDir()
	p := Params{Dir: dir, Session: "课程/1", Anchor: "../主播A", Start: testStart, AudioMime: webrtc.MimeTypeOpus}
	r1, err := Start(p)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Start(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Recorder{r1, r2} {
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := r1.File().Name, "___主播A-20250314T092653Z.webm"; got != want {
		t.Errorf("first: got %q, want %q", got, want)
	}
	if got, want := r2.File().Name, "___主播A-20250314T092654Z.webm"; got != want {
		t.Errorf("second: got %q, want %q", got, want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != "课程_1" {
		t.Errorf("data directory: got %v %v, want only 课程_1", entries, err)
	}
}
