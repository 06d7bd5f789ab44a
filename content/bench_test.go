package content_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/content/sample"
	"govlive/store"
	"govlive/store/storetest"
)

// BenchmarkImportSample measures reading the built-in sample pack and
// importing it into a fresh database file: what a first start does.
func BenchmarkImportSample(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		db, err := store.Open(ctx, filepath.Join(b.TempDir(), "db"))
		if err != nil {
			b.Fatal(err)
		}
		s, err := content.NewStore(ctx, db, time.Now)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		p, err := content.ReadPack(sample.FS)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Import(ctx, p, "bench", ""); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}

// BenchmarkFAQRead measures reading one entry by id, and a page of 20 at
// the start and at the end of the list, in the sample pack and in a store
// of 10,000 entries:
//
//	go test -run XXX -bench FAQRead ./content/
func BenchmarkFAQRead(b *testing.B) {
	for _, n := range []int{85, 10_000} {
		b.Run(fmt.Sprintf("faq-%d", n), func(b *testing.B) {
			ctx := context.Background()
			s := contenttest.NewStore(b, storetest.Open(b), time.Now)
			p, err := contenttest.SyntheticPack(n, 0)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Import(ctx, p, "bench", ""); err != nil {
				b.Fatal(err)
			}
			pub := content.FAQFilter{Status: content.StatusPublished}
			b.Run("by-id", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.FAQ(ctx, "faq-taxi-license-materials"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("page-20-first", func(b *testing.B) {
				for b.Loop() {
					if _, _, err := s.ListFAQ(ctx, pub, content.Page{Limit: 20, Offset: 40}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("page-20-last", func(b *testing.B) {
				for b.Loop() {
					if _, _, err := s.ListFAQ(ctx, pub, content.Page{Limit: 20, Offset: n - 20}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("page-20-category", func(b *testing.B) {
				f := content.FAQFilter{Status: content.StatusPublished, Category: p.FAQ[0].Category}
				for b.Loop() {
					if _, _, err := s.ListFAQ(ctx, f, content.Page{Limit: 20, Offset: 20}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
