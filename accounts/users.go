package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// namePattern is the rule for login names (after lower-casing): a letter,
// then 1 to 31 letters, digits, dots, underscores or hyphens.
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,31}$`)

// NormalizeName is the login name as stored: trimmed and lower-cased.
func NormalizeName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

func checkName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%w: %q: want 2 to 32 letters, digits, '.', '_' or '-', starting with a letter", ErrInvalidName, name)
	}
	return nil
}

func checkDisplay(display string) error {
	n := utf8.RuneCountInString(display)
	if !utf8.ValidString(display) || n == 0 || n > 64 {
		return fmt.Errorf("%w: want 1 to 64 characters", ErrInvalidDisplay)
	}
	for _, r := range display {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: control characters", ErrInvalidDisplay)
		}
	}
	return nil
}

// cleanRoles checks roles, drops repeats and puts them in the order of
// Roles; at least one is needed.
func cleanRoles(roles []Role) ([]Role, error) {
	var out []Role
	for _, r := range Roles {
		if slices.Contains(roles, r) {
			out = append(out, r)
		}
	}
	for _, r := range roles {
		if !slices.Contains(Roles, r) {
			return nil, fmt.Errorf("%w: %q", ErrInvalidRole, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: a user needs at least one role", ErrInvalidRole)
	}
	return out, nil
}

func joinRoles(roles []Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

func splitRoles(s string) []Role {
	var out []Role
	for _, r := range strings.Split(s, ",") {
		if r != "" {
			out = append(out, Role(r))
		}
	}
	return out
}

// NewUser is what Add needs.
type NewUser struct {
	Name     string
	Display  string // "" = the name
	Roles    []Role
	Password string
}

// Add creates a user. by is who adds it (0: the command line).
func (s *Store) Add(ctx context.Context, n NewUser, by UserID) (User, error) {
	name := NormalizeName(n.Name)
	if err := checkName(name); err != nil {
		return User{}, fmt.Errorf("add user: %w", err)
	}
	display := strings.TrimSpace(n.Display)
	if display == "" {
		display = name
	}
	if err := checkDisplay(display); err != nil {
		return User{}, fmt.Errorf("add user %s: %w", name, err)
	}
	roles, err := cleanRoles(n.Roles)
	if err != nil {
		return User{}, fmt.Errorf("add user %s: %w", name, err)
	}
	if err := checkPassword(name, n.Password); err != nil {
		return User{}, fmt.Errorf("add user %s: %w", name, err)
	}
	hash, err := s.hash(ctx, n.Password)
	if err != nil {
		return User{}, fmt.Errorf("add user %s: %w", name, err)
	}
	now := s.now().UTC()
	u := User{Name: name, Display: display, Roles: roles, Created: now.Truncate(time.Millisecond), Updated: now.Truncate(time.Millisecond)}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM users WHERE name = ?)`, name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return ErrExists
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO users(name, display, roles, hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			name, display, joinRoles(roles), hash, ms(now), ms(now))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		u.ID = UserID(id)
		return s.event(ctx, tx, Event{Actor: by, Action: ActionAdd, Target: u.ID, Detail: joinRoles(roles)})
	})
	if err != nil {
		return User{}, fmt.Errorf("add user %s: %w", name, err)
	}
	return u, nil
}

const userColumns = `id, name, display, roles, disabled, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanUser(row scanner, extra ...any) (User, error) {
	var (
		u            User
		roles        string
		created, upd int64
	)
	dest := append([]any{&u.ID, &u.Name, &u.Display, &roles, &u.Disabled, &created, &upd}, extra...)
	if err := row.Scan(dest...); err != nil {
		return User{}, err
	}
	u.Roles, u.Created, u.Updated = splitRoles(roles), fromMS(created), fromMS(upd)
	return u, nil
}

// User returns the user with the id.
func (s *Store) User(ctx context.Context, id UserID) (User, error) {
	u, err := scanUser(s.db.Read().QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// UserByName returns the user with the login name (any case).
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	name = NormalizeName(name)
	u, err := scanUser(s.db.Read().QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", name, err)
	}
	return u, nil
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// SetPassword sets the user's password, ends every login session of the
// user, and lifts a lock-out of the name. by is who does it (0: the
// command line).
func (s *Store) SetPassword(ctx context.Context, id UserID, password string, by UserID) error {
	u, err := s.User(ctx, id)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := checkPassword(u.Name, password); err != nil {
		return fmt.Errorf("set password of %s: %w", u.Name, err)
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", u.Name, err)
	}
	now := s.now()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET hash = ?, updated_at = ? WHERE id = ?`, hash, ms(now), int64(id)); err != nil {
			return err
		}
		if err := revokeUser(ctx, tx, id, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, nameKey(u.Name)); err != nil {
			return err
		}
		return s.event(ctx, tx, Event{Actor: by, Action: ActionPassword, Target: id})
	})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", u.Name, err)
	}
	return nil
}

// SetDisabled disables (ending every login session of the user) or
// enables the user; enabling lifts a lock-out of the name. It refuses to
// disable the last enabled admin (ErrLastAdmin).
func (s *Store) SetDisabled(ctx context.Context, id UserID, disabled bool, by UserID) (User, error) {
	action := ActionEnable
	if disabled {
		action = ActionDisable
	}
	return s.update(ctx, id, by, action, func(u *User) { u.Disabled = disabled })
}

// SetRoles replaces the user's roles. It refuses to take the admin role
// from the last enabled admin (ErrLastAdmin).
func (s *Store) SetRoles(ctx context.Context, id UserID, roles []Role, by UserID) (User, error) {
	roles, err := cleanRoles(roles)
	if err != nil {
		return User{}, fmt.Errorf("set roles: %w", err)
	}
	return s.update(ctx, id, by, ActionRoles, func(u *User) { u.Roles = roles })
}

// update changes a user's roles or disabled flag in one transaction that
// checks an enabled admin remains.
func (s *Store) update(ctx context.Context, id UserID, by UserID, action Action, change func(*User)) (User, error) {
	var u User
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, int64(id)))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		wasAdmin := u.Has(RoleAdmin) && !u.Disabled
		change(&u)
		if wasAdmin && (!u.Has(RoleAdmin) || u.Disabled) {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id != ? AND disabled = 0 AND ','||roles||',' LIKE '%,admin,%'`,
				int64(id)).Scan(&others); err != nil {
				return err
			}
			if others == 0 {
				return fmt.Errorf("%s: %w", u.Name, ErrLastAdmin)
			}
		}
		u.Updated = now.UTC().Truncate(time.Millisecond)
		if _, err := tx.ExecContext(ctx, `UPDATE users SET roles = ?, disabled = ?, updated_at = ? WHERE id = ?`,
			joinRoles(u.Roles), u.Disabled, ms(now), int64(id)); err != nil {
			return err
		}
		if u.Disabled {
			if err := revokeUser(ctx, tx, id, now); err != nil {
				return err
			}
		}
		if action == ActionEnable {
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, nameKey(u.Name)); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, Event{Actor: by, Action: action, Target: id, Detail: joinRoles(u.Roles)})
	})
	if err != nil {
		return User{}, fmt.Errorf("%s user %d: %w", action, id, err)
	}
	return u, nil
}

// inTx runs fn in a write transaction on the writer.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// hash hashes a password with the store's parameters, waiting for one of
// the Hashers slots (each hash takes Params.Memory).
func (s *Store) hash(ctx context.Context, password string) (string, error) {
	select {
	case s.hashers <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.hashers }()
	return hashPassword(password, s.params)
}

// verify is verifyPassword in one of the Hashers slots.
func (s *Store) verify(ctx context.Context, password, hash string) (ok, rehash bool, err error) {
	select {
	case s.hashers <- struct{}{}:
	case <-ctx.Done():
		return false, false, ctx.Err()
	}
	defer func() { <-s.hashers }()
	return verifyPassword(password, hash, s.params)
}
