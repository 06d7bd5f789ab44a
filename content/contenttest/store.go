package contenttest

import (
	"context"
	"io/fs"
	"sync"
	"testing"
	"time"

	"govlive/content"
	"govlive/content/sample"
	"govlive/store"
	"govlive/store/storetest"
)

// SamplePack reads the built-in sample pack (85 FAQ entries, 18 documents,
// its sessions and lexicon).
func SamplePack(t testing.TB) *content.Pack {
	t.Helper()
	return ReadPack(t, sample.FS)
}

// ReadPack reads the pack in fsys.
func ReadPack(t testing.TB, fsys fs.FS) *content.Pack {
	t.Helper()
	p, err := content.ReadPack(fsys)
	if err != nil {
		t.Fatalf("read pack: %v", err)
	}
	return p
}

// NewStore returns a content store on db with the clock now (time.Now,
// or Clock when a test compares revision times).
func NewStore(t testing.TB, db *store.DB, now func() time.Time) *content.Store {
	t.Helper()
	cs, err := content.NewStore(context.Background(), db, now)
	if err != nil {
		t.Fatalf("content store: %v", err)
	}
	return cs
}

// Import imports p into cs as the actor "test".
func Import(t testing.TB, cs *content.Store, p *content.Pack) {
	t.Helper()
	if _, err := cs.Import(context.Background(), p, "test", ""); err != nil {
		t.Fatalf("import pack: %v", err)
	}
}

// SampleStore returns a content store on a new database file in a
// temporary directory, on the real clock, with the sample pack imported.
func SampleStore(t testing.TB) *content.Store {
	t.Helper()
	cs := NewStore(t, storetest.Open(t), time.Now)
	Import(t, cs, SamplePack(t))
	return cs
}

// Clock returns a clock for a store whose revision times a test compares:
// it reads 2026-03-01 09:00:01 UTC first and one second later on every
// reading after. It is safe for concurrent use.
func Clock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}
