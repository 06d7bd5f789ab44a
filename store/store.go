// Package store provides govlive's embedded database: a SQLite file opened
// through the pure-Go modernc.org/sqlite driver with the settings that make
// one writer and many readers safe (WAL, busy timeout, foreign keys,
// immediate write transactions), and versioned schema migrations that each
// package declares for its own tables.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// pragmas are applied by the driver to every new connection.
var pragmas = []string{
	"journal_mode(WAL)",
	"busy_timeout(5000)",
	"foreign_keys(1)",
	"synchronous(NORMAL)",
}

// DB is the database as two bounded pools of connections to one file: the
// embedded *sql.DB is the single writer connection (every write, and
// migrations, go through it, so writers of this process queue in the pool
// instead of contending for SQLite's lock), and Read is a pool of read-only
// connections, as many as the process has cores (reads are CPU work in
// this driver; more connections would only add open files). WAL lets the
// readers run beside the writer. Under any load the process holds at most
// Readers()+1 connections, each with its database, WAL and shared-memory
// files open.
type DB struct {
	*sql.DB
	read    *sql.DB
	readers int
}

// Read returns the pool of read-only connections.
func (db *DB) Read() *sql.DB { return db.read }

// Readers is the size of the read pool.
func (db *DB) Readers() int { return db.readers }

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.DB.Close())
}

// PingContext checks that both pools answer.
func (db *DB) PingContext(ctx context.Context) error {
	if err := db.DB.PingContext(ctx); err != nil {
		return err
	}
	return db.read.PingContext(ctx)
}

// Open opens (creating if needed) the SQLite database file at path, and
// its directory, and checks that it answers. Write transactions begin
// IMMEDIATE so that a writer in another process queues on the busy timeout
// instead of failing on lock upgrade; read-only transactions begin with a
// plain BEGIN.
//
// There is no in-memory mode: a pool of connections to ":memory:" would be
// a pool of separate, empty databases. Tests use a file in a temp dir.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("store: open %q: want the path of a database file", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: create directory: %w", err)
	}
	// The writer first: it creates the file and turns WAL on, which the
	// read-only connections cannot.
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	w, err := openPool(ctx, path, q, 1)
	if err != nil {
		return nil, err
	}
	readers := max(2, runtime.GOMAXPROCS(0))
	q = url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	q.Add("_pragma", "query_only(1)")
	r, err := openPool(ctx, path, q, readers)
	if err != nil {
		return nil, errors.Join(err, w.Close())
	}
	return &DB{DB: w, read: r, readers: readers}, nil
}

func openPool(ctx context.Context, path string, q url.Values, n int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Connections are kept, not churned: an idle one costs three open
	// files, a new one a file open, a schema read and the pragmas.
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %s: %w", path, err), db.Close())
	}
	return db, nil
}

// escapePath makes a file path safe in a SQLite URI filename, where "?"
// starts the parameters, "#" a fragment, and "%" an escape: SQLite decodes
// the escapes back to the path.
func escapePath(path string) string { return pathEscaper.Replace(path) }

var pathEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
