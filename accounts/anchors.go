package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"govlive/content"
)

// AnchorLink says that a user is one of the anchors of a content session:
// the anchor of that name in content.Session.Anchors (or a guest anchor
// the session does not list). The link lives here and not in content: a
// content pack is the same in every installation and names its anchors,
// while the accounts are those of one installation. Publishing tokens
// (stream.Tokens) name the same (session, anchor) pair.
type AnchorLink struct {
	Session content.SessionID `json:"session"`
	Anchor  string            `json:"anchor"`
	User    UserID            `json:"user"`
}

// LinkAnchor makes the user the anchor of that name in session, in place
// of whoever was; the user must hold the anchor role (ErrNotAnchor) and
// be that session's anchor under one name only (ErrAnchorTaken). Whether
// the session lists the name is the caller's check, against content.
func (s *Store) LinkAnchor(ctx context.Context, l AnchorLink, by UserID) error {
	l.Anchor = strings.TrimSpace(l.Anchor)
	if l.Session == "" || l.Anchor == "" || len([]rune(l.Anchor)) > 64 {
		return fmt.Errorf("link anchor: want a session and an anchor name of at most 64 characters")
	}
	u, err := s.User(ctx, l.User)
	if err != nil {
		return fmt.Errorf("link anchor: %w", err)
	}
	if !u.Has(RoleAnchor) {
		return fmt.Errorf("link %s to %s in %s: %w", u.Name, l.Anchor, l.Session, ErrNotAnchor)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var other string
		err := tx.QueryRowContext(ctx, `SELECT anchor FROM session_anchors WHERE session = ? AND user_id = ? AND anchor != ?`,
			string(l.Session), int64(l.User), l.Anchor).Scan(&other)
		if err == nil {
			return fmt.Errorf("%s is already %s: %w", u.Name, other, ErrAnchorTaken)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO session_anchors(session, anchor, user_id) VALUES (?, ?, ?)
			ON CONFLICT(session, anchor) DO UPDATE SET user_id = excluded.user_id`, string(l.Session), l.Anchor, int64(l.User)); err != nil {
			return err
		}
		return s.event(ctx, tx, Event{Actor: by, Action: ActionLink, Target: l.User, Detail: string(l.Session) + " " + l.Anchor})
	})
	if err != nil {
		return fmt.Errorf("link %s to %s in %s: %w", u.Name, l.Anchor, l.Session, err)
	}
	return nil
}

// UnlinkAnchor removes the link of the anchor of that name in session,
// and reports whether there was one.
func (s *Store) UnlinkAnchor(ctx context.Context, session content.SessionID, anchor string, by UserID) (bool, error) {
	var found bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var user int64
		err := tx.QueryRowContext(ctx, `DELETE FROM session_anchors WHERE session = ? AND anchor = ? RETURNING user_id`,
			string(session), strings.TrimSpace(anchor)).Scan(&user)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return s.event(ctx, tx, Event{Actor: by, Action: ActionUnlink, Target: UserID(user), Detail: string(session) + " " + anchor})
	})
	if err != nil {
		return false, fmt.Errorf("unlink %s in %s: %w", anchor, session, err)
	}
	return found, nil
}

// AnchorName returns the name under which the user anchors session; ok
// is false when the user is not linked to it.
func (s *Store) AnchorName(ctx context.Context, id UserID, session content.SessionID) (name string, ok bool, err error) {
	err = s.db.Read().QueryRowContext(ctx, `SELECT anchor FROM session_anchors WHERE session = ? AND user_id = ?`,
		string(session), int64(id)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("anchor of user %d in %s: %w", id, session, err)
	}
	return name, true, nil
}

// AnchorLinks lists the links of a user (user > 0) or of every user,
// by session and anchor.
func (s *Store) AnchorLinks(ctx context.Context, user UserID) ([]AnchorLink, error) {
	q, args := `SELECT session, anchor, user_id FROM session_anchors ORDER BY session, anchor`, []any{}
	if user > 0 {
		q, args = `SELECT session, anchor, user_id FROM session_anchors WHERE user_id = ? ORDER BY session, anchor`, []any{int64(user)}
	}
	rows, err := s.db.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("anchor links: %w", err)
	}
	defer rows.Close()
	out := []AnchorLink{}
	for rows.Next() {
		var l AnchorLink
		var session string
		if err := rows.Scan(&session, &l.Anchor, &l.User); err != nil {
			return nil, fmt.Errorf("anchor links: %w", err)
		}
		l.Session = content.SessionID(session)
		out = append(out, l)
	}
	return out, rows.Err()
}
