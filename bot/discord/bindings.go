package discord

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"govlive/content"
	"govlive/store"
)

// bindingSchema: one row per bound channel, with who bound it and when.
var bindingSchema = []string{
	`CREATE TABLE discord_bindings (
		channel  TEXT PRIMARY KEY,
		session  TEXT NOT NULL,
		bound_by TEXT NOT NULL,
		bound_at TEXT NOT NULL
	);`,
}

// Bindings is a BindingStore in the SQLite database.
type Bindings struct {
	db *sql.DB // the writer
	r  *sql.DB // the read pool
}

var _ BindingStore = (*Bindings)(nil)

// NewBindings migrates the bindings table in db.
func NewBindings(ctx context.Context, db *store.DB) (*Bindings, error) {
	if err := store.Migrate(ctx, db, "discord", bindingSchema); err != nil {
		return nil, err
	}
	return &Bindings{db: db.DB, r: db.Read()}, nil
}

// Bind implements BindingStore.
func (b *Bindings) Bind(ctx context.Context, channelID string, session content.SessionID, by string) error {
	if channelID == "" || session == "" {
		return fmt.Errorf("bind discord channel: channel and session are required")
	}
	if _, err := b.db.ExecContext(ctx,
		`INSERT INTO discord_bindings(channel, session, bound_by, bound_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT(channel) DO UPDATE SET session = excluded.session, bound_by = excluded.bound_by, bound_at = excluded.bound_at`,
		channelID, string(session), by, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("bind discord channel %s: %w", channelID, err)
	}
	return nil
}

// Bindings implements BindingStore.
func (b *Bindings) Bindings(ctx context.Context) (map[string]content.SessionID, error) {
	rows, err := b.r.QueryContext(ctx, `SELECT channel, session FROM discord_bindings`)
	if err != nil {
		return nil, fmt.Errorf("read discord bindings: %w", err)
	}
	defer rows.Close()
	out := map[string]content.SessionID{}
	for rows.Next() {
		var channel, session string
		if err := rows.Scan(&channel, &session); err != nil {
			return nil, fmt.Errorf("read discord bindings: %w", err)
		}
		out[channel] = content.SessionID(session)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read discord bindings: %w", err)
	}
	return out, nil
}
