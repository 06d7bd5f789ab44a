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
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Memory is the path that opens a private in-memory database. All pooled
// connections share it (a plain ":memory:" would give each connection its
// own, empty, database).
const Memory = ":memory:"

// pragmas are applied by the driver to every new connection.
var pragmas = []string{
	"journal_mode(WAL)",
	"busy_timeout(5000)",
	"foreign_keys(1)",
	"synchronous(NORMAL)",
}

// Open opens (creating if needed) the SQLite database at path and checks
// that it answers. Write transactions begin IMMEDIATE so that two writers
// queue on the busy timeout instead of failing on lock upgrade.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	var dsn string
	if path == Memory {
		// A named shared-cache memory database, unique to this call, so
		// every pooled connection sees the same data.
		name := fmt.Sprintf("govlive-mem-%d-%d", os.Getpid(), memorySeq.Add(1))
		dsn = "file:" + name + "?mode=memory&cache=shared&_txlock=immediate&_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)"
	} else {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store: create directory: %w", err)
		}
		q := url.Values{}
		for _, p := range pragmas {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		dsn = "file:" + path + "?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if path == Memory {
		// Keep one connection open for the life of db: a shared-cache
		// memory database disappears when its last connection closes.
		db.SetConnMaxIdleTime(0)
		db.SetMaxIdleConns(4)
	}
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %s: %w", path, err), db.Close())
	}
	return db, nil
}

// memorySeq numbers in-memory databases so that no two Open calls share one.
var memorySeq atomic.Uint64
