package storetest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"govlive/store"
	"govlive/store/storetest"
)

// TestOpen: the database answers, its file is in the test's temporary
// directory, and a second handle opened with OpenAt on the same file sees
// what the first wrote.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := store.Migrate(ctx, db, "storetest", []string{`CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)`}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO kv VALUES ('a', 'b')`); err != nil {
		t.Fatal(err)
	}
	var path string
	if err := db.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	other := storetest.OpenAt(t, path)
	var v string
	if err := other.Read().QueryRowContext(ctx, `SELECT v FROM kv WHERE k = 'a'`).Scan(&v); err != nil || v != "b" {
		t.Fatalf("through the second handle: got %q (%v), want \"b\"", v, err)
	}
}

// TestOpenAtCreatesDirectories: a path in directories that do not exist
// yet is opened, as store.Open does.
func TestOpenAtCreatesDirectories(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "govlive.db")
	db := storetest.OpenAt(t, path)
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("got no file at %s: %v", path, err)
	}
}
