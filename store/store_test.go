package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"govlive/store"
)

func TestMigrateFromEmpty(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "db.sqlite")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	steps := []string{
		`CREATE TABLE a (id INTEGER PRIMARY KEY)`,
		`ALTER TABLE a ADD COLUMN name TEXT NOT NULL DEFAULT ''`,
	}
	if v, err := store.Version(ctx, db, "x"); err == nil && v != 0 {
		t.Fatalf("version before migrating: got %d, want 0", v)
	}
	if err := store.Migrate(ctx, db, "x", steps[:1]); err != nil {
		t.Fatal(err)
	}
	if v, _ := store.Version(ctx, db, "x"); v != 1 {
		t.Fatalf("version: got %d, want 1", v)
	}
	// The next release adds a step; the first is not run again.
	if err := store.Migrate(ctx, db, "x", steps); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO a (name) VALUES ('n')`); err != nil {
		t.Fatalf("second step not applied: %v", err)
	}
	// Running again is a no-op.
	if err := store.Migrate(ctx, db, "x", steps); err != nil {
		t.Fatal(err)
	}
	// Components are versioned apart.
	if v, _ := store.Version(ctx, db, "y"); v != 0 {
		t.Errorf("version of y: got %d, want 0", v)
	}
	// An older binary refuses a newer database.
	if err := store.Migrate(ctx, db, "x", steps[:1]); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("older binary: got %v, want ErrSchemaTooNew", err)
	}
}

func TestMigrateFailingStepChangesNothing(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = store.Migrate(ctx, db, "x", []string{`CREATE TABLE a (id INTEGER)`, `THIS IS NOT SQL`})
	if err == nil {
		t.Fatal("a bad step migrated")
	}
	if v, _ := store.Version(ctx, db, "x"); v != 0 {
		t.Errorf("version after failed migration: got %d, want 0", v)
	}
	if _, err := db.ExecContext(ctx, `SELECT * FROM a`); err == nil {
		t.Error("table of the first step exists after the migration failed")
	}
}

func TestPragmas(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct{ pragma, want string }{
		{"journal_mode", "wal"}, {"foreign_keys", "1"}, {"busy_timeout", "5000"},
	} {
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s: got %q, want %q", tc.pragma, got, tc.want)
		}
	}
}

// A memory database is one database for every pooled connection, and two
// Opens get two databases.
func TestMemoryShared(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(8)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := db.ExecContext(ctx, `INSERT INTO t VALUES (?)`, i); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 8 {
		t.Errorf("rows seen: got %d, want 8", n)
	}
	other, err := store.Open(ctx, store.Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, `SELECT * FROM t`); err == nil {
		t.Error("a second memory database sees the first one's table")
	}
}
