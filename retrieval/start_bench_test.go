package retrieval_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/retrieval"
	"govlive/store/storetest"
)

// BenchmarkIndexStart measures what a start costs the index on a store of
// 10,000 FAQ entries: Load (the model, with the lexical index as it was
// left) when nothing changed, and Load + CatchUp after 100 or 10,000
// entries were added with the index closed, and a build from nothing.
//
//	go test -run XXX -bench IndexStart -benchtime 3x ./retrieval/
func BenchmarkIndexStart(b *testing.B) {
	ctx := context.Background()
	root := b.TempDir()
	// base: the sample pack; grown: the same first revisions, then more.
	base := filepath.Join(root, "base.db")
	openStore := func(path string) *content.Store {
		return contenttest.NewStore(b, storetest.OpenAt(b, path), time.Now)
	}
	importN := func(cs *content.Store, n int) {
		p, err := contenttest.SyntheticPack(n, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cs.Import(ctx, p, "bench", ""); err != nil {
			b.Fatal(err)
		}
	}
	grown := func(name string, n int) *content.Store {
		path := filepath.Join(root, name+".db")
		copyFile(b, base, path)
		cs := openStore(path)
		importN(cs, n)
		return cs
	}
	importN(openStore(base), 85)
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		b.Fatal(err)
	}
	baseIndex := filepath.Join(root, "base-index")
	build(b, retrieval.Config{Dir: baseIndex, Source: openStore(base), Normalizer: norm})
	full := grown("full", 10_000)
	fullIndex := filepath.Join(root, "full-index")
	build(b, retrieval.Config{Dir: fullIndex, Source: full, Normalizer: norm})
	more := grown("more", 10_000)
	// 100 changed: the full store with 100 answers edited after its index.
	changed := filepath.Join(root, "changed.db")
	copyFile(b, filepath.Join(root, "full.db"), changed)
	edited := openStore(changed)
	list, _, err := edited.ListFAQ(ctx, content.FAQFilter{}, content.Page{Limit: 100, Offset: 500})
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range list {
		e.Answer += "（已更新）"
		if _, err := edited.PutFAQ(ctx, e, "bench"); err != nil {
			b.Fatal(err)
		}
	}

	for _, c := range []struct {
		name  string
		cs    *content.Store
		index string // copied before each run; "" for none
		catch bool
	}{
		{"load-10k-unchanged", full, fullIndex, false},
		{"catchup-100-changed-of-10k", edited, fullIndex, true},
		{"catchup-10k-new", more, baseIndex, true},
		{"build-10k-from-nothing", full, "", true},
	} {
		b.Run(c.name, func(b *testing.B) {
			var load, catch time.Duration
			for b.Loop() {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), "index")
				if c.index != "" {
					copyDir(b, c.index, dir)
				}
				b.StartTimer()
				start := time.Now()
				ix, err := retrieval.Load(ctx, retrieval.Config{Dir: dir, Source: c.cs, Normalizer: norm})
				if err != nil {
					b.Fatal(err)
				}
				load += time.Since(start)
				if c.catch {
					start = time.Now()
					if err := ix.CatchUp(ctx); err != nil {
						b.Fatal(err)
					}
					catch += time.Since(start)
				}
				b.StopTimer()
				if err := ix.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(load.Seconds()/float64(b.N), "load-s")
			b.ReportMetric(catch.Seconds()/float64(b.N), "catchup-s")
		})
	}
}

func build(b *testing.B, cfg retrieval.Config) {
	b.Helper()
	ix, err := retrieval.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		b.Fatal(err)
	}
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

func copyDir(b *testing.B, from, to string) {
	b.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		b.Fatal(err)
	}
}
