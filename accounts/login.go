package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Session is a login session. The token that names it is only given to
// the client (Grant.Token); the store keeps its SHA-256.
type Session struct {
	ID      int64
	User    UserID
	Addr    string    // the client address it was opened from
	Created time.Time // login
	Seen    time.Time // last use (updated at most once a minute)
	Expires time.Time // the absolute expiry; the idle one is Seen + Expiry.Idle
	// CSRF is the session's synchronizer token: every state-changing
	// request of the session must carry it (CheckCSRF).
	CSRF string
}

// CheckCSRF reports, in constant time, whether token is the session's
// CSRF token.
func (s Session) CheckCSRF(token string) bool {
	return s.CSRF != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) == 1
}

// Grant is a successful login: the new session, its token (for the
// cookie; shown only here) and the user.
type Grant struct {
	Token   string
	Session Session
	User    User
}

// Credentials are what a login form sends, and where from.
type Credentials struct {
	Name, Password string
	// Addr is the client's IP address (failed logins are counted per
	// address too); "" counts nothing per address.
	Addr string
}

// tokenPrefix marks login session tokens, as glt_ marks publishing tokens.
const tokenPrefix = "gls_"

// touchEvery is how stale Seen may get before a use updates it: a
// session used all the time costs one write a minute, not one a request.
const touchEvery = time.Minute

// Login checks the credentials and opens a session. Before anything else
// it refuses a locked name or address (a *LockedError). An unknown name
// and a wrong password both answer ErrBadCredentials after the same work
// (an unknown name is checked against a hash of nothing), and both count
// as a failure of the name and of the address, durably: a restart does
// not lift a lock-out. A right password of a disabled account answers
// ErrDisabled. A hash of other parameters than the store's is redone.
func (s *Store) Login(ctx context.Context, c Credentials) (Grant, error) {
	name := NormalizeName(c.Name)
	keys := []failKey{{nameKey(clip(name, 64)), s.limits.AccountFailures}}
	addr := addrKey(c.Addr)
	if addr != "" {
		keys = append(keys, failKey{addr, s.limits.AddressFailures})
	}
	// The attempt counts before the password is checked: logins sent all
	// at once cannot all pass a lock that none of them has yet set.
	if until, err := s.attempt(ctx, keys); err != nil {
		return Grant{}, fmt.Errorf("login: %w", err)
	} else if !until.IsZero() {
		return Grant{}, &LockedError{Until: until}
	}

	var (
		u    User
		hash string
	)
	u, err := scanUser(s.db.Read().QueryRowContext(ctx, `SELECT `+userColumns+`, hash FROM users WHERE name = ?`, name), &hash)
	known := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Grant{}, fmt.Errorf("login: %w", err)
	}
	if !known {
		hash = s.dummyHash()
	}
	ok, rehash, err := s.verify(ctx, c.Password, hash)
	if err != nil {
		return Grant{}, fmt.Errorf("login %s: %w", name, err)
	}
	if !ok || !known {
		var target UserID
		if known {
			target = u.ID
		}
		if err := s.inTx(ctx, func(tx *sql.Tx) error {
			return s.event(ctx, tx, Event{Action: ActionLoginFailed, Target: target, Addr: c.Addr, Detail: clip(name, 64)})
		}); err != nil {
			return Grant{}, fmt.Errorf("login: %w", err)
		}
		return Grant{}, ErrBadCredentials
	}
	if u.Disabled {
		if err := s.forgive(ctx, name, addr); err != nil {
			return Grant{}, fmt.Errorf("login: %w", err)
		}
		return Grant{}, ErrDisabled
	}
	newHash := ""
	if rehash {
		if newHash, err = s.hash(ctx, c.Password); err != nil {
			return Grant{}, fmt.Errorf("login %s: %w", name, err)
		}
	}
	g := Grant{User: u}
	if g.Token, err = randomToken(tokenPrefix); err != nil {
		return Grant{}, fmt.Errorf("login: %w", err)
	}
	csrf, err := randomToken("")
	if err != nil {
		return Grant{}, fmt.Errorf("login: %w", err)
	}
	now := s.now()
	g.Session = Session{User: u.ID, Addr: c.Addr, Created: now.UTC().Truncate(time.Millisecond),
		Seen: now.UTC().Truncate(time.Millisecond), Expires: now.Add(s.expiry.Absolute).UTC().Truncate(time.Millisecond), CSRF: csrf}
	digest := sha256.Sum256([]byte(g.Token))
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO login_sessions(digest, user_id, csrf, addr, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			digest[:], int64(u.ID), csrf, c.Addr, ms(now), ms(now), ms(g.Session.Expires))
		if err != nil {
			return err
		}
		if g.Session.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := forgive(ctx, tx, name, addr); err != nil {
			return err
		}
		if newHash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET hash = ? WHERE id = ?`, newHash, int64(u.ID)); err != nil {
				return err
			}
		}
		// sessions long gone are forgotten (a week after their expiry)
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_sessions WHERE expires_at < ?`, ms(now.Add(-7*24*time.Hour))); err != nil {
			return err
		}
		return s.event(ctx, tx, Event{Actor: u.ID, Action: ActionLogin, Target: u.ID, Addr: c.Addr})
	})
	if err != nil {
		return Grant{}, fmt.Errorf("login %s: %w", name, err)
	}
	if newHash != "" {
		s.log.Info("password rehashed with new parameters", "user", u.Name)
	}
	return g, nil
}

// dummyHash is a hash of nothing with the store's parameters, made once.
func (s *Store) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := hashPassword("", s.params)
		if err != nil { // no randomness: a fixed salt does as well here
			h = fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", s.params.Memory, s.params.Time, s.params.Threads,
				b64.EncodeToString(make([]byte, s.params.SaltLen)), b64.EncodeToString(make([]byte, s.params.KeyLen)))
		}
		s.dummy = h
	})
	return s.dummy
}

// Authenticate returns the live session that token names and its user.
// A session is over (ErrNoSession) once revoked, past its absolute
// expiry, unused for Expiry.Idle, or when its user is disabled.
func (s *Store) Authenticate(ctx context.Context, token string) (User, Session, error) {
	if len(token) != len(tokenPrefix)+43 || token[:len(tokenPrefix)] != tokenPrefix {
		return User{}, Session{}, ErrNoSession
	}
	digest := sha256.Sum256([]byte(token))
	var (
		ss                     Session
		created, seen, expires int64
		revoked                sql.NullInt64
	)
	u, err := scanUser(s.db.Read().QueryRowContext(ctx, `SELECT u.id, u.name, u.display, u.roles, u.disabled, u.created_at, u.updated_at,
			s.id, s.csrf, s.addr, s.created_at, s.seen_at, s.expires_at, s.revoked_at
		FROM login_sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = ?`, digest[:]),
		&ss.ID, &ss.CSRF, &ss.Addr, &created, &seen, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, Session{}, ErrNoSession
	}
	if err != nil {
		return User{}, Session{}, fmt.Errorf("authenticate: %w", err)
	}
	ss.User, ss.Created, ss.Seen, ss.Expires = u.ID, fromMS(created), fromMS(seen), fromMS(expires)
	now := s.now()
	if revoked.Valid || u.Disabled || !now.Before(ss.Expires) || !now.Before(ss.Seen.Add(s.expiry.Idle)) {
		return User{}, Session{}, ErrNoSession
	}
	if now.Sub(ss.Seen) >= touchEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE login_sessions SET seen_at = ? WHERE id = ? AND seen_at < ?`, ms(now), ss.ID, ms(now)); err != nil {
			return User{}, Session{}, fmt.Errorf("authenticate: %w", err)
		}
		ss.Seen = now.UTC().Truncate(time.Millisecond)
	}
	return u, ss, nil
}

// Logout ends the session that token names (nothing if there is none).
func (s *Store) Logout(ctx context.Context, token string) error {
	digest := sha256.Sum256([]byte(token))
	now := s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var user int64
		err := tx.QueryRowContext(ctx, `UPDATE login_sessions SET revoked_at = ? WHERE digest = ? AND revoked_at IS NULL RETURNING user_id`,
			ms(now), digest[:]).Scan(&user)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("logout: %w", err)
		}
		return s.event(ctx, tx, Event{Actor: UserID(user), Action: ActionLogout, Target: UserID(user)})
	})
}

// Sessions lists the user's live sessions, newest first.
func (s *Store) Sessions(ctx context.Context, id UserID) ([]Session, error) {
	now := s.now()
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, addr, created_at, seen_at, expires_at FROM login_sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND seen_at > ? ORDER BY id DESC`,
		int64(id), ms(now), ms(now.Add(-s.expiry.Idle)))
	if err != nil {
		return nil, fmt.Errorf("sessions of user %d: %w", id, err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		ss := Session{User: id}
		var c, seen, e int64
		if err := rows.Scan(&ss.ID, &ss.Addr, &c, &seen, &e); err != nil {
			return nil, fmt.Errorf("sessions of user %d: %w", id, err)
		}
		ss.Created, ss.Seen, ss.Expires = fromMS(c), fromMS(seen), fromMS(e)
		out = append(out, ss)
	}
	return out, rows.Err()
}

// revokeUser ends every session of the user.
func revokeUser(ctx context.Context, tx *sql.Tx, id UserID, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE login_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, ms(now), int64(id))
	return err
}

// randomToken is prefix and 256 random bits in base64url (43 characters).
func randomToken(prefix string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// failKey is a counter of failed logins and the count that locks it.
type failKey struct {
	key   string
	limit int
}

func nameKey(name string) string { return "name:" + name }

// addrKey is the counter of a client address: the address itself for
// IPv4, its /64 for IPv6 (one host has a whole /64 to pick from).
func addrKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + ip.String()
}

// attempt counts a login attempt against each key, in one transaction,
// unless a key is locked: then it counts nothing and returns until when
// the latest lock holds. A count that reaches its limit within the
// window locks its key for LockFor (this attempt still goes on) and
// starts again from nothing.
func (s *Store) attempt(ctx context.Context, keys []failKey) (locked time.Time, err error) {
	now := s.now()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		type row struct {
			count        int
			first, until int64
		}
		rows := make([]row, len(keys))
		for i, k := range keys {
			err := tx.QueryRowContext(ctx, `SELECT count, first_at, locked_until FROM login_failures WHERE key = ?`, k.key).
				Scan(&rows[i].count, &rows[i].first, &rows[i].until)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if rows[i].until > ms(now) && fromMS(rows[i].until).After(locked) {
				locked = fromMS(rows[i].until)
			}
		}
		if !locked.IsZero() {
			return nil
		}
		for i, k := range keys {
			r := rows[i]
			if r.first == 0 || now.Sub(fromMS(r.first)) >= s.limits.Window {
				r.count, r.first = 0, ms(now)
			}
			r.count++
			if r.count >= k.limit {
				r.until, r.count, r.first = ms(now.Add(s.limits.LockFor)), 0, ms(now)
				if err := s.event(ctx, tx, Event{Action: ActionLocked, Detail: k.key}); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures(key, count, first_at, locked_until) VALUES (?, ?, ?, ?)
				ON CONFLICT(key) DO UPDATE SET count = excluded.count, first_at = excluded.first_at, locked_until = excluded.locked_until`,
				k.key, r.count, r.first, r.until); err != nil {
				return err
			}
		}
		return s.prune(ctx, tx, now)
	})
	return locked, err
}

// forgive takes back what a login attempt counted once it turned out to
// be the right password: the name's count goes, the address's loses this
// attempt (its other failures stand, else one account of one's own would
// reset the count between guesses at others'). A lock this attempt set
// stays.
func forgive(ctx context.Context, tx *sql.Tx, name, addr string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, nameKey(name)); err != nil {
		return err
	}
	if addr != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE login_failures SET count = count - 1 WHERE key = ? AND count > 0`, addr); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) forgive(ctx context.Context, name, addr string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return forgive(ctx, tx, name, addr) })
}

// prune forgets, at most once a minute, the counters whose window and
// lock have passed: names sprayed by a guesser do not pile up.
func (s *Store) prune(ctx context.Context, tx *sql.Tx, now time.Time) error {
	s.pruneMu.Lock()
	due := now.Sub(s.lastPrune) >= time.Minute
	if due {
		s.lastPrune = now
	}
	s.pruneMu.Unlock()
	if !due {
		return nil
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE first_at < ? AND locked_until < ?`,
		ms(now.Add(-s.limits.Window)), ms(now))
	return err
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// Unlock lifts the lock-out of a login name and forgets its failures.
func (s *Store) Unlock(ctx context.Context, name string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, nameKey(NormalizeName(name)))
	if err != nil {
		return fmt.Errorf("unlock %s: %w", name, err)
	}
	return nil
}
