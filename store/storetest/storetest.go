// Package storetest opens govlive's embedded database for tests: a SQLite
// file in the test's temporary directory, closed when the test ends.
//
// It is for tests only: no non-test code may import it.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"govlive/store"
)

// Open opens a new database file in a temporary directory of t and closes
// it when the test ends; a failure to open or to close fails the test.
func Open(t testing.TB) *store.DB {
	t.Helper()
	return OpenAt(t, filepath.Join(t.TempDir(), "govlive.db"))
}

// OpenAt opens (creating if needed) the database file at path — a file a
// test wants to reopen, or one that another store or a command also has
// open — and closes it when the test ends; a failure to open or to close
// fails the test.
func OpenAt(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open database %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close database %s: %v", path, err)
		}
	})
	return db
}
