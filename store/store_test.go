package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"govlive/store"
	"govlive/store/storetest"
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
	db := storetest.Open(t)
	err := store.Migrate(ctx, db, "x", []string{`CREATE TABLE a (id INTEGER)`, `THIS IS NOT SQL`})
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
	db := storetest.Open(t)
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

// A path with the characters that mean something in a SQLite URI opens
// the file at that path, with the pragmas applied.
func TestOpenPathWithURICharacters(t *testing.T) {
	ctx := context.Background()
	for _, dir := range []string{"a?b", "a#b", "a%3fb", "a%b", "?#%"} {
		t.Run(dir, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), dir, "db?x#y.sqlite")
			db, err := store.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.ExecContext(ctx, `CREATE TABLE t (v INTEGER)`); err != nil {
				t.Fatal(err)
			}
			var file string
			if err := db.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
				t.Fatal(err)
			}
			if file != path {
				t.Errorf("database file: got %q, want %q", file, path)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("no file at the path: %v", err)
			}
			var mode string
			if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if mode != "wal" {
				t.Errorf("journal_mode: got %q, want wal", mode)
			}
		})
	}
}

// A memory database would be one empty database per pooled connection:
// Open refuses it.
func TestOpenRefusesMemory(t *testing.T) {
	for _, path := range []string{":memory:", ""} {
		if db, err := store.Open(context.Background(), path); err == nil {
			db.Close()
			t.Errorf("Open(%q): got a database, want an error", path)
		}
	}
}

// openFiles counts this process's open file descriptors on path and its
// -wal and -shm files.
func openFiles(t *testing.T, path string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err != nil {
			continue
		}
		if target == path || target == path+"-wal" || target == path+"-shm" {
			n++
		}
	}
	return n
}

// TestPoolsBounded: a thousand concurrent readers and a hundred writers
// leave at most one writer and Readers() reader connections, during the
// load and after it, each holding the database, its WAL and its shared
// memory open.
func TestPoolsBounded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	limit := 3 * (db.Readers() + 1)
	var wg sync.WaitGroup
	errs := make(chan error, 1100)
	peak := make(chan int, 1100)
	for i := range 1100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%11 == 0 {
				if _, err := db.ExecContext(ctx, `INSERT INTO a (v) VALUES (?)`, "x"); err != nil {
					errs <- err
				}
				return
			}
			rows, err := db.Read().QueryContext(ctx, `SELECT COUNT(*) FROM a`)
			if err != nil {
				errs <- err
				return
			}
			peak <- openFiles(t, path)
			errs <- rows.Close()
		}()
	}
	wg.Wait()
	close(errs)
	close(peak)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for n := range peak {
		if n > limit {
			t.Fatalf("during the load %d files of the database were open, want at most %d", n, limit)
		}
	}
	if n := openFiles(t, path); n > limit {
		t.Errorf("after the load %d files of the database are open, want at most %d", n, limit)
	}
	var count int
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM a`).Scan(&count); err != nil || count != 100 {
		t.Errorf("rows written: got %d (%v), want 100", count, err)
	}
}

// TestReadPoolIsReadOnly: a write through the read pool is refused, so a
// write cannot slip past the one writer.
func TestReadPoolIsReadOnly(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	if _, err := db.ExecContext(ctx, `CREATE TABLE a (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Read().ExecContext(ctx, `INSERT INTO a DEFAULT VALUES`); err == nil {
		t.Error("a write through the read pool succeeded")
	}
	// and a read sees what the writer committed
	if _, err := db.ExecContext(ctx, `INSERT INTO a DEFAULT VALUES`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM a`).Scan(&n); err != nil || n != 1 {
		t.Errorf("read after write: got %d (%v), want 1", n, err)
	}
}
