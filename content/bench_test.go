package content_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"govlive/content"
	"govlive/content/sample"
	"govlive/store"
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

// BenchmarkFAQRead measures reading one entry by id, and a page of 20.
func BenchmarkFAQRead(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := content.NewStore(ctx, db, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	p, _ := content.ReadPack(sample.FS)
	if _, err := s.Import(ctx, p, "bench", ""); err != nil {
		b.Fatal(err)
	}
	b.Run("by-id", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.FAQ(ctx, "faq-taxi-license-materials"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("page-20", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.ListFAQ(ctx, content.FAQFilter{Status: content.StatusPublished}, content.Page{Limit: 20, Offset: 40}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
