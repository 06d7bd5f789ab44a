package stream

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"govlive/store"
)

// tokenSchema: anchor tokens are stored as SHA-256 digests only; a
// revoked token keeps its row (who had access, and until when).
var tokenSchema = []string{
	`CREATE TABLE anchor_tokens (
		id         INTEGER PRIMARY KEY,
		session    TEXT NOT NULL,
		anchor     TEXT NOT NULL,
		digest     BLOB NOT NULL UNIQUE,
		created_at TEXT NOT NULL,
		revoked_at TEXT
	);
	CREATE INDEX anchor_tokens_session ON anchor_tokens(session, anchor);`,
}

// tokenPrefix marks govlive anchor tokens (so a leaked one is recognisable).
const tokenPrefix = "glt_"

// Tokens issues, checks and revokes the bearer tokens anchors publish with.
type Tokens struct {
	db  *sql.DB // the writer
	r   *sql.DB // the read pool
	now func() time.Time
}

// OpenTokens migrates the token table in db.
func OpenTokens(ctx context.Context, db *store.DB, now func() time.Time) (*Tokens, error) {
	if now == nil {
		now = time.Now
	}
	if err := store.Migrate(ctx, db, "stream", tokenSchema); err != nil {
		return nil, err
	}
	return &Tokens{db: db.DB, r: db.Read(), now: now}, nil
}

// Issue creates a new token for anchor in session and returns it. Only its
// digest is stored: the token cannot be shown again.
func (t *Tokens) Issue(ctx context.Context, session SessionID, anchor string) (string, error) {
	anchor = strings.TrimSpace(anchor)
	if session == "" || anchor == "" {
		return "", fmt.Errorf("issue token: %w: session and anchor are required", ErrInvalid)
	}
	if len([]rune(anchor)) > 64 || strings.ContainsAny(anchor, "\x00\r\n/\\") {
		return "", fmt.Errorf("issue token: %w: anchor name must be at most 64 characters without / \\ or line breaks", ErrInvalid)
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	digest := sha256.Sum256([]byte(token))
	if _, err := t.db.ExecContext(ctx,
		`INSERT INTO anchor_tokens(session, anchor, digest, created_at) VALUES (?, ?, ?, ?)`,
		string(session), anchor, digest[:], t.now().UTC().Format(time.RFC3339Nano)); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	return token, nil
}

// Revoke revokes every live token of anchor in session and returns how many.
func (t *Tokens) Revoke(ctx context.Context, session SessionID, anchor string) (int, error) {
	res, err := t.db.ExecContext(ctx,
		`UPDATE anchor_tokens SET revoked_at = ? WHERE session = ? AND anchor = ? AND revoked_at IS NULL`,
		t.now().UTC().Format(time.RFC3339Nano), string(session), strings.TrimSpace(anchor))
	if err != nil {
		return 0, fmt.Errorf("revoke tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("revoke tokens: %w", err)
	}
	return int(n), nil
}

// Authorize returns the anchor a live token of session belongs to, or
// ErrUnauthorized. Digests are compared in constant time against every live
// token of the session, so timing tells nothing about near misses.
func (t *Tokens) Authorize(ctx context.Context, session SessionID, token string) (string, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return "", ErrUnauthorized
	}
	digest := sha256.Sum256([]byte(token))
	rows, err := t.r.QueryContext(ctx,
		`SELECT anchor, digest FROM anchor_tokens WHERE session = ? AND revoked_at IS NULL`, string(session))
	if err != nil {
		return "", fmt.Errorf("check token: %w", err)
	}
	defer rows.Close()
	found := ""
	for rows.Next() {
		var anchor string
		var d []byte
		if err := rows.Scan(&anchor, &d); err != nil {
			return "", fmt.Errorf("check token: %w", err)
		}
		if subtle.ConstantTimeCompare(d, digest[:]) == 1 {
			found = anchor
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("check token: %w", err)
	}
	if found == "" {
		return "", ErrUnauthorized
	}
	return found, nil
}

// Live counts the live tokens of each anchor of session (anchors with
// none are left out).
func (t *Tokens) Live(ctx context.Context, session SessionID) (map[string]int, error) {
	rows, err := t.r.QueryContext(ctx,
		`SELECT anchor, COUNT(*) FROM anchor_tokens WHERE session = ? AND revoked_at IS NULL GROUP BY anchor`, string(session))
	if err != nil {
		return nil, fmt.Errorf("count tokens: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var anchor string
		var n int
		if err := rows.Scan(&anchor, &n); err != nil {
			return nil, fmt.Errorf("count tokens: %w", err)
		}
		out[anchor] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count tokens: %w", err)
	}
	return out, nil
}
