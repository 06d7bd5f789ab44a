package words

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	g := gseOf(t)
	if got, want := s.dict.total, g.Dict.TotalFreq(); got != want {
		t.Errorf("total frequency %g, gse's %g", got, want)
	}
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
		if want := g.CutDAG(f); !slices.Equal(got, want) {
			bad++
			if bad <= 10 {
				t.Errorf("Cut(%q) = %q, gse CutDAG = %q", f, got, want)
			}
		}
		if got, want := s.Search(f), sortedSet(g.CutSearch(f, false)); !slices.Equal(got, want) {
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

// gseOf is gse's own segmenter on the dictionary of s: the embedded file
// read into a gse.Dictionary (and gse's HMM, which both use).
func gseOf(t testing.TB) *gse.Segmenter {
	t.Helper()
	seg, err := gseOracle()
	if err != nil {
		t.Fatal(err)
	}
	return seg
}

var gseOracle = sync.OnceValues(func() (*gse.Segmenter, error) {
	loadHMM()
	zr, err := gzip.NewReader(bytes.NewReader(dictGz))
	if err != nil {
		return nil, err
	}
	seg := &gse.Segmenter{Dict: gse.NewDict()}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if strings.HasPrefix(f[0], "#") {
			continue
		}
		freq, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return nil, err
		}
		if err := seg.AddToken(f[0], freq, f[2]); err != nil {
			return nil, err
		}
	}
	return seg, sc.Err()
})

// TestDictMatchesGse looks every run of up to eight characters of the
// sample pack up in both dictionaries: the same answer (a word, with its
// frequency and part of speech; the beginning of one; neither).
func TestDictMatchesGse(t *testing.T) {
	s := mustLoad(t)
	g := gseOf(t)
	n := 0
	for _, f := range every(sampleFields(t), 3) {
		rs := []rune(f)
		for i := range rs {
			for j := i + 1; j <= len(rs) && j <= i+8; j++ {
				w := []byte(string(rs[i:j]))
				freq, pos, ok := g.Dict.Find(w)
				e, got := s.dict.find(w)
				var gotFreq float64
				var gotPos string
				if got {
					gotFreq = s.dict.freq[e]
					if gotFreq > 0 {
						gotPos = s.dict.tags[s.dict.tag[e]]
					}
				}
				if got != ok || gotFreq != freq || gotPos != pos {
					t.Fatalf("find(%q) = %v, %g, %q; gse: %v, %g, %q", w, got, gotFreq, gotPos, ok, freq, pos)
				}
				n++
			}
		}
	}
	if n < 10000 {
		t.Errorf("looked up %d strings, want more", n)
	}
}
