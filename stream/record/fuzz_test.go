package record

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen fuzzes the session and file name of a recording download (both
// come from the URL). The session folder holds one recording, the data
// folder beside it a secret and a link pointing at it. Properties: Open
// either opens exactly that recording, for a name equal to its name, or
// answers ErrNotFound; nothing else is ever opened.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	const session, name = "课程_1", "主播A-20250314T092653Z.webm"
	if err := os.MkdirAll(filepath.Join(dir, session), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, session, name), []byte("webm"), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret-20250314T092653Z.webm"), []byte("secret"), 0o600); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "secret-20250314T092653Z.webm"), filepath.Join(dir, session, "link-20250314T092653Z.webm")); err != nil {
		f.Fatal(err)
	}
	f.Add(session, name)
	f.Add("课程/1", name)
	f.Add(session, "../secret-20250314T092653Z.webm")
	f.Add("..", "secret-20250314T092653Z.webm")
	f.Add(session, "link-20250314T092653Z.webm")
	f.Add(session, "主播A-20250314T092653Z.webm/")
	f.Fuzz(func(t *testing.T, sess, n string) {
		file, info, err := Open(dir, sess, n)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("Open(%q, %q): %v, not ErrNotFound", sess, n, err)
			}
			return
		}
		defer file.Close()
		b := make([]byte, 16)
		got, _ := file.Read(b)
		if n != name || sanitize(sess) != session || info.Name != name || string(b[:got]) != "webm" {
			t.Fatalf("Open(%q, %q) opened %q holding %q", sess, n, info.Name, b[:got])
		}
	})
}
