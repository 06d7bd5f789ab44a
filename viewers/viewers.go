// Package viewers keeps how many viewers watched each session, minute by
// minute, in SQLite: a Sampler reads the relay's live count once a minute
// while a session is live and the session report draws the series.
package viewers

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"govlive/store"
)

var schema = []string{`CREATE TABLE viewer_samples (
	session TEXT NOT NULL,
	minute  INTEGER NOT NULL, -- unix seconds of the minute's start
	viewers INTEGER NOT NULL, -- the most seen in the minute
	PRIMARY KEY (session, minute)
) WITHOUT ROWID;`}

// Log is the stored series. It is safe for concurrent use.
type Log struct{ db, r *sql.DB }

// Open migrates the samples' table in db.
func Open(ctx context.Context, db *store.DB) (*Log, error) {
	if err := store.Migrate(ctx, db, "viewers", schema); err != nil {
		return nil, err
	}
	return &Log{db: db.DB, r: db.Read()}, nil
}

// Sample is the number of viewers in the minute starting at Minute.
type Sample struct {
	Minute  time.Time
	Viewers int
}

// Record stores n viewers of session at at; a minute keeps its largest count.
func (l *Log) Record(ctx context.Context, session string, at time.Time, n int) error {
	m := at.Truncate(time.Minute).Unix()
	if _, err := l.db.ExecContext(ctx, `INSERT INTO viewer_samples (session, minute, viewers) VALUES (?,?,?)
		ON CONFLICT (session, minute) DO UPDATE SET viewers = max(viewers, excluded.viewers)`, session, m, n); err != nil {
		return fmt.Errorf("viewers: record: %w", err)
	}
	return nil
}

// Series returns the samples of session, oldest first.
func (l *Log) Series(ctx context.Context, session string) ([]Sample, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT minute, viewers FROM viewer_samples WHERE session = ? ORDER BY minute`, session)
	if err != nil {
		return nil, fmt.Errorf("viewers: series: %w", err)
	}
	defer rows.Close()
	var out []Sample
	for rows.Next() {
		var m int64
		var s Sample
		if err := rows.Scan(&m, &s.Viewers); err != nil {
			return nil, fmt.Errorf("viewers: series: %w", err)
		}
		s.Minute = time.Unix(m, 0).UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// Sampler records the live sessions' viewer counts every Every.
type Sampler struct {
	Log *Log
	// Live returns the sessions live now with their viewer counts (the
	// relay's stats).
	Live  func(ctx context.Context) (map[string]int, error)
	Every time.Duration // 0: a minute
	Now   func() time.Time
	Slog  *slog.Logger
}

// Run samples until ctx is done; it returns nil then.
func (s *Sampler) Run(ctx context.Context) error {
	every := s.Every
	if every <= 0 {
		every = time.Minute
	}
	now := s.Now
	if now == nil {
		now = time.Now
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Once(ctx, now()); err != nil && ctx.Err() == nil && s.Slog != nil {
				s.Slog.Warn("sample viewers", "err", err)
			}
		}
	}
}

// Once records one sample of every live session at at.
func (s *Sampler) Once(ctx context.Context, at time.Time) error {
	live, err := s.Live(ctx)
	if err != nil {
		return err
	}
	for id, n := range live {
		if err := s.Log.Record(ctx, id, at, n); err != nil {
			return err
		}
	}
	return nil
}
