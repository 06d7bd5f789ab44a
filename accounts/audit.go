package accounts

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Action names what an Event records.
type Action string

// The actions of the audit log.
const (
	ActionAdd         Action = "add"
	ActionPassword    Action = "password"
	ActionDisable     Action = "disable"
	ActionEnable      Action = "enable"
	ActionRoles       Action = "roles"
	ActionLogin       Action = "login"
	ActionLoginFailed Action = "login_failed"
	ActionLocked      Action = "login_locked" // Detail: the name or address locked
	ActionLogout      Action = "logout"
	ActionLink        Action = "link_anchor"
	ActionUnlink      Action = "unlink_anchor"
)

// Event is one entry of the accounts' audit log: who (Actor; 0 = the
// command line, or nobody known for a failed login) did what to whom
// (Target), from where.
type Event struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  UserID    `json:"actor"`
	Action Action    `json:"action"`
	Target UserID    `json:"target"`
	Addr   string    `json:"addr,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

func (s *Store) event(ctx context.Context, tx *sql.Tx, e Event) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO account_events(at, actor, action, target, addr, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		ms(e.At), int64(e.Actor), string(e.Action), int64(e.Target), e.Addr, e.Detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// Events returns the newest limit events of the audit log, newest first;
// of one user's account (as target) when target > 0.
func (s *Store) Events(ctx context.Context, target UserID, limit int) ([]Event, error) {
	q := `SELECT id, at, actor, action, target, addr, detail FROM account_events`
	args := []any{}
	if target > 0 {
		q += ` WHERE target = ?`
		args = append(args, int64(target))
	}
	rows, err := s.db.Read().QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Addr, &e.Detail); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
