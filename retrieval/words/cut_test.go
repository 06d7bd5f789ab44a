package words

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/go-ego/gse"

	"govlive/content/sample"
)

// sampleFields returns the runs of letters, digits and Han characters of
// every file of the sample pack, lower case.
func sampleFields(t testing.TB) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(sample.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sample.FS, path)
		if err != nil {
			return err
		}
		out = append(out, strings.FieldsFunc(strings.ToLower(string(b)), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCutMatchesGse checks the allocation-free cut against gse's own
// CutDAG on every text of the sample pack.
func TestCutMatchesGse(t *testing.T) {
	s := mustLoad(t)
	fields := sampleFields(t)
	if len(fields) < 1000 {
		t.Fatalf("got %d fields of the sample pack, want more", len(fields))
	}
	bad := 0
	for _, f := range fields {
		var got []string
		for _, w := range s.Cut(f) {
			got = append(got, w.Text)
		}
		if want := gseOf(s).CutDAG(f); !slices.Equal(got, want) {
			bad++
			if bad <= 10 {
				t.Errorf("Cut(%q) = %q, gse CutDAG = %q", f, got, want)
			}
		}
		if got, want := s.Search(f), sortedSet(gseOf(s).CutSearch(f, false)); !slices.Equal(got, want) {
			bad++
			if bad <= 10 {
				t.Errorf("Search(%q) = %q, gse CutSearch = %q", f, got, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d fields cut differently", bad, len(fields))
	}
}

func sortedSet(ws []string) []string {
	ws = slices.Clone(ws)
	slices.Sort(ws)
	return slices.Compact(ws)
}

func mustLoad(t testing.TB) *Segmenter {
	t.Helper()
	s, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

// gseOf is gse's own segmenter on the dictionary of s.
func gseOf(s *Segmenter) *gse.Segmenter { return &gse.Segmenter{Dict: s.dict} }
