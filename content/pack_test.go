package content_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/content/sample"
	"govlive/store/storetest"
)

// newStore returns a content store on a fresh database file in a temp dir.
func newStore(t *testing.T) (*content.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "govlive.db")
	return contenttest.NewStore(t, storetest.OpenAt(t, path), contenttest.Clock()), path
}

func TestSampleRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	p := contenttest.SamplePack(t)
	if len(p.FAQ) != 85 || len(p.Documents) != 18 || len(p.Sessions) < 2 {
		t.Fatalf("sample pack has %d faq, %d docs, %d sessions; want 85, 18, ≥2", len(p.FAQ), len(p.Documents), len(p.Sessions))
	}
	rep, err := s.Import(ctx, p, "test", "sample")
	if err != nil {
		t.Fatal(err)
	}
	if rep.FAQ.Created != 85 || rep.Documents.Created != 18 {
		t.Errorf("import report %+v", rep)
	}
	out := t.TempDir()
	exported, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := content.WritePack(out, exported); err != nil {
		t.Fatal(err)
	}
	// The export is byte-identical to the sample files it came from.
	err = fs.WalkDir(sample.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(name) == ".go" {
			return err
		}
		want, _ := fs.ReadFile(sample.FS, name)
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Errorf("export lacks %s: %v", name, err)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("export of %s differs from the sample (%d bytes, want %d)", name, len(got), len(want))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Re-importing the export changes nothing and records nothing.
	again, err := content.ReadPack(os.DirFS(out))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := s.RevisionsSince(ctx, 0, 0)
	rep, err = s.Import(ctx, again, "test", "again")
	if err != nil {
		t.Fatal(err)
	}
	if rep.FAQ.Unchanged != 85 || rep.Documents.Unchanged != 18 || rep.Sessions.Unchanged != len(p.Sessions) {
		t.Errorf("second import report %+v, want all unchanged", rep)
	}
	after, _ := s.RevisionsSince(ctx, 0, 0)
	if len(after) != len(before) {
		t.Errorf("second import recorded %d revisions, want 0", len(after)-len(before))
	}
}
