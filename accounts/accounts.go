// Package accounts keeps the studio's staff accounts in SQLite: users with
// their roles (admin, editor, anchor, moderator), passwords hashed with
// argon2id, server-side login sessions with a CSRF token each, login rate
// limiting with a lock-out that survives a restart, the link between a
// user and the anchor they are in a content session, and an audit log of
// what was done to the accounts and by whom.
//
// Viewers have no account. The package knows nothing of HTTP: the studio
// puts the cookie, the form and the middleware around it.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"govlive/store"
)

// UserID identifies a user. It is never reused.
type UserID int64

// Role is what a user may do. A user may hold several.
type Role string

// The roles.
const (
	// RoleAdmin manages the accounts and passes every role check.
	RoleAdmin Role = "admin"
	// RoleEditor changes the content: FAQ, documents, sessions, lexicon.
	RoleEditor Role = "editor"
	// RoleAnchor hosts sessions: publishes to the sessions it is linked
	// to as an anchor and acts on their chat and cases.
	RoleAnchor Role = "anchor"
	// RoleModerator (场控) screens a session's chat beside the anchors:
	// shortlists questions and cases, hides messages, mutes viewers.
	RoleModerator Role = "moderator"
)

// Roles lists every role in the order the pages show them.
var Roles = []Role{RoleAdmin, RoleEditor, RoleAnchor, RoleModerator}

// ParseRole returns the role named s (case and spaces ignored).
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("role %q: %w", s, ErrInvalidRole)
	}
	return r, nil
}

// User is a staff account. The password hash never leaves the package.
type User struct {
	ID       UserID    `json:"id"`
	Name     string    `json:"name"`    // the login name: lower case, never changes
	Display  string    `json:"display"` // the name the pages show (中文姓名)
	Roles    []Role    `json:"roles"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// Has reports whether u holds role r itself (an admin does not hold the
// other roles by this test; see Can).
func (u User) Has(r Role) bool { return slices.Contains(u.Roles, r) }

// Can reports whether u may act in one of the roles: it holds one of
// them, or it is an admin. A disabled user can do nothing.
func (u User) Can(roles ...Role) bool {
	if u.Disabled || u.ID == 0 {
		return false
	}
	if u.Has(RoleAdmin) {
		return true
	}
	for _, r := range roles {
		if u.Has(r) {
			return true
		}
	}
	return false
}

// Actor is how a content revision (content.Revision.Actor) and other
// records name the user: "user:ID:NAME" — the id stays the key, the name
// is for people reading the record. ParseActor reads it back.
func (u User) Actor() string { return "user:" + strconv.FormatInt(int64(u.ID), 10) + ":" + u.Name }

// ParseActor returns the user id and name of an Actor string; ok is false
// for actors that are not users (the command line's "cli:…", imports).
func ParseActor(s string) (id UserID, name string, ok bool) {
	rest, found := strings.CutPrefix(s, "user:")
	if !found {
		return 0, "", false
	}
	num, name, found := strings.Cut(rest, ":")
	n, err := strconv.ParseInt(num, 10, 64)
	if !found || err != nil || n <= 0 {
		return 0, "", false
	}
	return UserID(n), name, true
}

// Errors of the package, wrapped with context; test with errors.Is.
var (
	// ErrNotFound means no user has the id or name.
	ErrNotFound = errors.New("no such user")
	// ErrExists means a user of that name exists already.
	ErrExists = errors.New("user exists")
	// ErrInvalidName means a login name breaks the rule (NameRule).
	ErrInvalidName = errors.New("invalid user name")
	// ErrInvalidDisplay means a display name is empty, too long or has
	// control characters.
	ErrInvalidDisplay = errors.New("invalid display name")
	// ErrInvalidRole means an unknown role, or no role at all.
	ErrInvalidRole = errors.New("invalid role")
	// ErrWeakPassword means a password breaks the rule (PasswordRule).
	ErrWeakPassword = errors.New("password too weak")
	// ErrLastAdmin means the change would leave no enabled admin.
	ErrLastAdmin = errors.New("the last enabled admin")
	// ErrBadCredentials is the one answer to an unknown user and to a
	// wrong password.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrDisabled means the password was right but the account is
	// disabled.
	ErrDisabled = errors.New("account disabled")
	// ErrLocked means too many failed logins: the account or the address
	// is locked for a while (LockedError says until when).
	ErrLocked = errors.New("login locked")
	// ErrNoSession means the session token is unknown, expired or revoked.
	ErrNoSession = errors.New("no login session")
	// ErrNotAnchor means a user without the anchor role was to be linked
	// to an anchor of a session.
	ErrNotAnchor = errors.New("user is not an anchor")
	// ErrAnchorTaken means another user is already linked to that anchor
	// of the session.
	ErrAnchorTaken = errors.New("anchor linked to another user")
)

// LockedError says until when logins are refused. It unwraps to ErrLocked.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "login locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Limits bound failed logins. A zero field takes its default.
type Limits struct {
	// AccountFailures failed logins for one name within Window lock that
	// name for LockFor (default 5); unknown names count like known ones.
	AccountFailures int
	// AddressFailures failed logins from one client address (an IPv6
	// /64) within Window lock that address (default 20).
	AddressFailures int
	Window          time.Duration // default 15 minutes
	LockFor         time.Duration // default 15 minutes
}

// Expiry bounds login sessions. A zero field takes its default.
type Expiry struct {
	// Idle ends a session unused for this long (default 2 hours).
	Idle time.Duration
	// Absolute ends a session this long after login, used or not
	// (default 12 hours: one working day with a long live session).
	Absolute time.Duration
}

// Config is what Open needs.
type Config struct {
	DB  *store.DB
	Log *slog.Logger // nil: discard
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Params are the argon2id parameters of new hashes (zero:
	// DefaultParams); a login with a hash of other parameters rehashes.
	Params Params
	Limits Limits
	Expiry Expiry
	// Hashers bounds how many passwords are hashed at once (each takes
	// Params.Memory); default 2.
	Hashers int
}

// Store is the accounts database.
type Store struct {
	db      *store.DB
	log     *slog.Logger
	now     func() time.Time
	params  Params
	limits  Limits
	expiry  Expiry
	hashers chan struct{}

	dummyOnce sync.Once
	dummy     string // a hash of nothing, verified for unknown users

	pruneMu   sync.Mutex
	lastPrune time.Time
}

// Open migrates the accounts tables in cfg.DB and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.DB == nil {
		return nil, errors.New("accounts: Config needs DB")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams
	}
	if err := cfg.Params.check(); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	l := &cfg.Limits
	l.AccountFailures = orDefault(l.AccountFailures, 5)
	l.AddressFailures = orDefault(l.AddressFailures, 20)
	l.Window = orDefault(l.Window, 15*time.Minute)
	l.LockFor = orDefault(l.LockFor, 15*time.Minute)
	e := &cfg.Expiry
	e.Idle = orDefault(e.Idle, 2*time.Hour)
	e.Absolute = orDefault(e.Absolute, 12*time.Hour)
	cfg.Hashers = orDefault(cfg.Hashers, 2)
	if err := store.Migrate(ctx, cfg.DB, "accounts", schema); err != nil {
		return nil, err
	}
	return &Store{db: cfg.DB, log: cfg.Log, now: cfg.Now, params: cfg.Params, limits: cfg.Limits,
		expiry: cfg.Expiry, hashers: make(chan struct{}, cfg.Hashers)}, nil
}

// orDefault is v, or def when v is not positive.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// schema is the accounts' own migration history. Times are unix
// milliseconds.
var schema = []string{
	`CREATE TABLE users (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		name        TEXT NOT NULL UNIQUE,
		display     TEXT NOT NULL,
		roles       TEXT NOT NULL, -- comma-separated, in the order of Roles
		hash        TEXT NOT NULL, -- argon2id in the PHC string format
		disabled    INTEGER NOT NULL DEFAULT 0,
		created_at  INTEGER NOT NULL,
		updated_at  INTEGER NOT NULL
	);
	CREATE TABLE login_sessions (
		id         INTEGER PRIMARY KEY,
		digest     BLOB NOT NULL UNIQUE, -- SHA-256 of the token; the token is never stored
		user_id    INTEGER NOT NULL REFERENCES users(id),
		csrf       TEXT NOT NULL,
		addr       TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		seen_at    INTEGER NOT NULL,
		expires_at INTEGER NOT NULL, -- the absolute expiry
		revoked_at INTEGER
	);
	CREATE INDEX login_sessions_user ON login_sessions(user_id);
	CREATE TABLE login_failures (
		key          TEXT PRIMARY KEY, -- "name:…" or "addr:…"
		count        INTEGER NOT NULL,
		first_at     INTEGER NOT NULL,
		locked_until INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID;
	CREATE TABLE session_anchors (
		session TEXT NOT NULL,
		anchor  TEXT NOT NULL,
		user_id INTEGER NOT NULL REFERENCES users(id),
		PRIMARY KEY (session, anchor),
		UNIQUE (session, user_id)
	) WITHOUT ROWID;
	CREATE INDEX session_anchors_user ON session_anchors(user_id);
	CREATE TABLE account_events (
		id     INTEGER PRIMARY KEY AUTOINCREMENT,
		at     INTEGER NOT NULL,
		actor  INTEGER NOT NULL DEFAULT 0, -- who did it: a user id, 0 = the command line or nobody known
		action TEXT NOT NULL,
		target INTEGER NOT NULL DEFAULT 0, -- the user it was done to
		addr   TEXT NOT NULL DEFAULT '',
		detail TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX account_events_target ON account_events(target, id);`,
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
