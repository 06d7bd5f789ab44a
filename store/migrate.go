package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrSchemaTooNew is returned by Migrate when the database was written by a
// newer govlive that applied migrations this binary does not know.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// Migrate brings the tables of one component (a package name such as
// "content") up to date. steps[i] is the SQL of schema version i+1; a
// version once released is never edited, only followed by new steps. All
// pending steps run in one transaction: either the schema reaches the last
// version or it stays as it was.
func Migrate(ctx context.Context, db *DB, component string, steps []string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	defer func() { _ = tx.Rollback() }()

	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component  TEXT NOT NULL,
		version    INTEGER NOT NULL,
		applied_at TEXT NOT NULL,
		PRIMARY KEY (component, version)
	)`); err != nil {
		return fmt.Errorf("migrate %s: create schema_migrations: %w", component, err)
	}
	var current int
	if err := tx.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?`, component,
	).Scan(&current); err != nil {
		return fmt.Errorf("migrate %s: read version: %w", component, err)
	}
	if current > len(steps) {
		return fmt.Errorf("migrate %s: at version %d, binary knows %d: %w", component, current, len(steps), ErrSchemaTooNew)
	}
	for v := current + 1; v <= len(steps); v++ {
		if _, err := tx.ExecContext(ctx, steps[v-1]); err != nil {
			return fmt.Errorf("migrate %s to version %d: %w", component, v, err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)`,
			component, v, time.Now().UTC().Format(time.RFC3339),
		); err != nil {
			return fmt.Errorf("migrate %s: record version %d: %w", component, v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: commit: %w", component, err)
	}
	return nil
}

// Version reports the schema version of component, 0 when none is applied.
func Version(ctx context.Context, db *DB, component string) (int, error) {
	var v int
	err := db.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?`, component,
	).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("schema version of %s: %w", component, err)
	}
	return v, nil
}
