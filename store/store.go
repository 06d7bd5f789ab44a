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

// Open opens (creating if needed) the SQLite database file at path, and
// its directory, and checks that it answers. Write transactions begin
// IMMEDIATE so that two writers queue on the busy timeout instead of
// failing on lock upgrade; read-only transactions begin with a plain BEGIN.
//
// There is no in-memory mode: a pool of connections to ":memory:" would be
// a pool of separate, empty databases. Tests use a file in a temp dir.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("store: open %q: want the path of a database file", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: create directory: %w", err)
	}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
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
