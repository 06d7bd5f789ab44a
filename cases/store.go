package cases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"govlive/store"
)

// schema holds the case tables, one entry per schema version. Released
// versions are never edited; a change is a new entry. Times are Unix
// nanoseconds (UTC).
var schema = []string{
	// 1: cases, the chat messages that joined them, their history.
	`
CREATE TABLE cases (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	session     TEXT NOT NULL,
	reason      TEXT NOT NULL,
	question    TEXT NOT NULL,
	cluster     INTEGER NOT NULL,
	viewer_id   TEXT NOT NULL,
	viewer_nick TEXT NOT NULL,
	state       TEXT NOT NULL CHECK (state IN ('open', 'claimed', 'on_air', 'resolved', 'referred')),
	anchor      TEXT NOT NULL DEFAULT '',
	referred_to TEXT NOT NULL DEFAULT '',
	note        TEXT NOT NULL DEFAULT '',
	rating      INTEGER CHECK (rating BETWEEN 1 AND 5),
	rating_note TEXT NOT NULL DEFAULT '',
	opened      INTEGER NOT NULL,
	updated     INTEGER NOT NULL
);
CREATE INDEX cases_session_state ON cases (session, state, id);
-- A viewer has at most one case per session waiting for handling.
CREATE UNIQUE INDEX cases_active_viewer ON cases (session, viewer_id)
	WHERE state IN ('open', 'claimed', 'on_air');

CREATE TABLE case_messages (
	id      INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases (id),
	message INTEGER NOT NULL,
	at      INTEGER NOT NULL,
	UNIQUE (case_id, message)
);

CREATE TABLE case_history (
	id         INTEGER PRIMARY KEY,
	case_id    INTEGER NOT NULL REFERENCES cases (id),
	from_state TEXT NOT NULL,
	to_state   TEXT NOT NULL,
	actor      TEXT NOT NULL,
	note       TEXT NOT NULL,
	rating     INTEGER,
	at         INTEGER NOT NULL
);
CREATE INDEX case_history_case ON case_history (case_id, id);
`,
}

// Store keeps cases in SQLite. Every method is safe for concurrent use:
// a change reads the case's state and sets the new one only if it is
// still that state, inside one write transaction, so of two anchors
// claiming one case exactly one wins.
type Store struct {
	db       *sql.DB // the writer
	r        *sql.DB // the read pool
	now      func() time.Time
	onChange func(Case)
}

// Option configures a Store.
type Option func(*Store)

// WithOnChange has f called with the case as committed after every
// change: an opening, a join, a transition, a rating. f is called
// synchronously on the caller's goroutine, in no lock of the Store, and
// must not block (queue the event, drop it, or hand it to a goroutine
// you own); changes of one case made concurrently may reach f out of
// order, so compare Updated or the history's length.
func WithOnChange(f func(Case)) Option { return func(s *Store) { s.onChange = f } }

// NewStore returns a Store on db after bringing the case tables up to the
// current schema version. now is the clock of the opening, transition and
// rating times.
func NewStore(ctx context.Context, db *store.DB, now func() time.Time, opts ...Option) (*Store, error) {
	if db == nil || now == nil {
		return nil, errors.New("cases: NewStore needs a database and a clock")
	}
	if err := store.Migrate(ctx, db, "cases", schema); err != nil {
		return nil, err
	}
	s := &Store{db: db.DB, r: db.Read(), now: now}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Open opens a case for o, or — when the viewer already has a case in
// this session that is not yet resolved or referred — adds o.Message to
// that case, keeping its first question, and reports joined.
func (s *Store) Open(ctx context.Context, o Opening) (c Case, joined bool, err error) {
	if o.Session == "" || o.Viewer.ID == "" || o.Reason == "" {
		return Case{}, false, fmt.Errorf("open case: %w: session, viewer and reason are required", ErrInvalid)
	}
	c, err = s.change(ctx, func(tx *sql.Tx, now int64) (ID, error) {
		var id ID
		err := tx.QueryRowContext(ctx, `SELECT id FROM cases
			WHERE session = ? AND viewer_id = ? AND state IN ('open', 'claimed', 'on_air')`,
			o.Session, o.Viewer.ID).Scan(&id)
		switch {
		case err == nil:
			joined = true
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET updated = ? WHERE id = ?`, now, id); err != nil {
				return 0, fmt.Errorf("join case %d: %w", id, err)
			}
		case errors.Is(err, sql.ErrNoRows):
			res, err := tx.ExecContext(ctx, `INSERT INTO cases
				(session, reason, question, cluster, viewer_id, viewer_nick, state, opened, updated)
				VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
				o.Session, o.Reason, o.Question, o.Cluster, o.Viewer.ID, o.Viewer.Nick, now, now)
			if err != nil {
				return 0, fmt.Errorf("open case: %w", err)
			}
			n, err := res.LastInsertId()
			if err != nil {
				return 0, fmt.Errorf("open case: %w", err)
			}
			id = ID(n)
			if err := addHistory(ctx, tx, id, Transition{To: StateOpen, Actor: ActorBot, Note: o.Reason}, now); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("open case: find the viewer's case: %w", err)
		}
		if o.Message != 0 {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO case_messages (case_id, message, at) VALUES (?, ?, ?)`,
				id, o.Message, now); err != nil {
				return 0, fmt.Errorf("case %d: add message: %w", id, err)
			}
		}
		return id, nil
	})
	return c, joined, err
}

// Claim has anchor take an open case: open → claimed.
func (s *Store) Claim(ctx context.Context, id ID, anchor string) (Case, error) {
	return s.move(ctx, id, anchor, StateClaimed, []State{StateOpen}, "", nil, ", anchor = ?", strings.TrimSpace(anchor))
}

// OnAir records that anchor takes a claimed case on air: claimed → on_air.
// The claimant stays the case's Anchor; the history names who went on air.
func (s *Store) OnAir(ctx context.Context, id ID, anchor string) (Case, error) {
	return s.move(ctx, id, anchor, StateOnAir, []State{StateClaimed}, "", nil, "")
}

// Resolve marks a claimed or on-air case handled: → resolved.
func (s *Store) Resolve(ctx context.Context, id ID, actor, note string) (Case, error) {
	return s.move(ctx, id, actor, StateResolved, []State{StateClaimed, StateOnAir}, note, nil, ", note = ?", note)
}

// Refer hands a case that is not yet final to a window or a department
// (to, required): open, claimed or on_air → referred.
func (s *Store) Refer(ctx context.Context, id ID, actor, to, note string) (Case, error) {
	to = strings.TrimSpace(to)
	if to == "" {
		return Case{}, fmt.Errorf("refer case %d: %w: say where to", id, ErrInvalid)
	}
	return s.move(ctx, id, actor, StateReferred, []State{StateOpen, StateClaimed, StateOnAir}, note, nil,
		", referred_to = ?, note = ?", to, note)
}

// Rate records the viewer's satisfaction with a resolved or referred case,
// replacing an earlier rating; the history keeps every rating given.
func (s *Store) Rate(ctx context.Context, id ID, actor string, r Rating, note string) (Case, error) {
	if !r.Valid() {
		return Case{}, fmt.Errorf("rate case %d: %w: rating %d is off the scale", id, ErrInvalid, int(r))
	}
	return s.move(ctx, id, actor, "", []State{StateResolved, StateReferred}, note, &r,
		", rating = ?, rating_note = ?", int(r), note)
}

// move changes case id from one of the states from to state to (empty:
// the state stays, for a rating), setting the columns of set (", col = ?"
// with args) and recording the history row. The state is read and set
// with a check-and-set inside one write transaction.
func (s *Store) move(ctx context.Context, id ID, actor string, to State, from []State, note string, r *Rating, set string, args ...any) (Case, error) {
	actor = strings.TrimSpace(actor)
	if actor == "" {
		return Case{}, fmt.Errorf("case %d: %w: the actor is required", id, ErrInvalid)
	}
	return s.change(ctx, func(tx *sql.Tx, now int64) (ID, error) {
		var cur State
		err := tx.QueryRowContext(ctx, `SELECT state FROM cases WHERE id = ?`, id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("case %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return 0, fmt.Errorf("case %d: read state: %w", id, err)
		}
		if !slices.Contains(from, cur) {
			return 0, &IllegalError{Case: id, State: cur, To: to}
		}
		next := to
		if next == "" {
			next = cur
		}
		all := append([]any{next, now}, args...)
		res, err := tx.ExecContext(ctx, `UPDATE cases SET state = ?, updated = ?`+set+` WHERE id = ? AND state = ?`,
			append(all, id, cur)...)
		if err != nil {
			return 0, fmt.Errorf("case %d: set %s: %w", id, next, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("case %d: set %s: %w", id, next, err)
		}
		if n != 1 {
			// Another writer moved it between the read and the update
			// (only a process whose writes do not begin IMMEDIATE can).
			return 0, &IllegalError{Case: id, State: cur, To: to}
		}
		return id, addHistory(ctx, tx, id, Transition{From: cur, To: next, Actor: actor, Note: note, Rating: r}, now)
	})
}

// change runs fn in one write transaction, reads back the case fn names
// inside it, commits, and then tells the observer.
func (s *Store) change(ctx context.Context, fn func(tx *sql.Tx, now int64) (ID, error)) (Case, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Case{}, fmt.Errorf("cases: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	id, err := fn(tx, s.now().UnixNano())
	if err != nil {
		return Case{}, err
	}
	cs, err := s.load(ctx, tx, `WHERE id = ?`, id)
	if err != nil {
		return Case{}, err
	}
	if len(cs) != 1 {
		return Case{}, fmt.Errorf("case %d: %w after change", id, ErrNotFound)
	}
	if err := tx.Commit(); err != nil {
		return Case{}, fmt.Errorf("case %d: commit: %w", id, err)
	}
	if s.onChange != nil {
		s.onChange(cs[0])
	}
	return cs[0], nil
}

func addHistory(ctx context.Context, tx *sql.Tx, id ID, t Transition, now int64) error {
	var r any
	if t.Rating != nil {
		r = int(*t.Rating)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_history
		(case_id, from_state, to_state, actor, note, rating, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, t.From, t.To, t.Actor, t.Note, r, now); err != nil {
		return fmt.Errorf("case %d: record history: %w", id, err)
	}
	return nil
}

// Get returns case id with its messages and history, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id ID) (Case, error) {
	var cs []Case
	err := s.inReadTx(ctx, func(tx *sql.Tx) (err error) {
		cs, err = s.load(ctx, tx, `WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return Case{}, err
	}
	if len(cs) == 0 {
		return Case{}, fmt.Errorf("case %d: %w", id, ErrNotFound)
	}
	return cs[0], nil
}

// Filter selects cases for List. The zero Filter selects the first
// DefaultLimit cases of every session in every state.
type Filter struct {
	Session string  // empty: every session
	States  []State // empty: every state
	Limit   int     // 0: DefaultLimit; at most MaxLimit
	After   ID      // only cases opened after this one (the last id of the previous page)
}

// Page sizes of List.
const (
	DefaultLimit = 100
	MaxLimit     = 500
)

// List returns the cases f selects, with their messages and history, in
// the order they were opened, oldest first — the order of a queue. Ids are
// given in that order, so the next page is Filter.After = the last id.
func (s *Store) List(ctx context.Context, f Filter) ([]Case, error) {
	where, args := []string{"id > ?"}, []any{f.After}
	if f.Session != "" {
		where, args = append(where, "session = ?"), append(args, f.Session)
	}
	if len(f.States) > 0 {
		for _, st := range f.States {
			if !st.Valid() {
				return nil, fmt.Errorf("list cases: %w: state %q", ErrInvalid, st)
			}
			args = append(args, st)
		}
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var cs []Case
	err := s.inReadTx(ctx, func(tx *sql.Tx) (err error) {
		cs, err = s.load(ctx, tx, fmt.Sprintf("WHERE %s ORDER BY id LIMIT %d", strings.Join(where, " AND "), limit), args...)
		return err
	})
	return cs, err
}

// Counts returns how many cases of session are in each state; every
// state is in the map, with 0 when none.
func (s *Store) Counts(ctx context.Context, session string) (map[State]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM cases WHERE session = ? GROUP BY state`, session)
	if err != nil {
		return nil, fmt.Errorf("count cases: %w", err)
	}
	defer rows.Close()
	counts := make(map[State]int, len(States))
	for _, st := range States {
		counts[st] = 0
	}
	for rows.Next() {
		var st State
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count cases: %w", err)
		}
		counts[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count cases: %w", err)
	}
	return counts, nil
}

func (s *Store) inReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("cases: begin read: %w", err)
	}
	err = fn(tx)
	if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
		err = errors.Join(err, rerr)
	}
	return err
}

// load reads the cases that tail (a WHERE clause, maybe with ORDER BY and
// LIMIT) selects, then their messages and history in one query each.
func (s *Store) load(ctx context.Context, tx *sql.Tx, tail string, args ...any) ([]Case, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, session, reason, question, cluster, viewer_id, viewer_nick,
		state, anchor, referred_to, note, rating, rating_note, opened, updated FROM cases `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	defer rows.Close()
	var cs []Case
	at := map[ID]int{}
	for rows.Next() {
		var c Case
		var rating sql.NullInt64
		var opened, updated int64
		if err := rows.Scan(&c.ID, &c.Session, &c.Reason, &c.Question, &c.Cluster, &c.Viewer.ID, &c.Viewer.Nick,
			&c.State, &c.Anchor, &c.ReferredTo, &c.Note, &rating, &c.RatingNote, &opened, &updated); err != nil {
			return nil, fmt.Errorf("read cases: %w", err)
		}
		if rating.Valid {
			r := Rating(rating.Int64)
			c.Rating = &r
		}
		c.Opened, c.Updated = fromNanos(opened), fromNanos(updated)
		c.Messages, c.History = []int64{}, []Transition{}
		at[c.ID] = len(cs)
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	ids := make([]any, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	in := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"

	err = eachRow(ctx, tx, `SELECT case_id, message FROM case_messages WHERE case_id IN `+in+` ORDER BY id`, ids,
		func(r *sql.Rows) error {
			var id ID
			var m int64
			if err := r.Scan(&id, &m); err != nil {
				return err
			}
			cs[at[id]].Messages = append(cs[at[id]].Messages, m)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read case messages: %w", err)
	}
	err = eachRow(ctx, tx, `SELECT case_id, from_state, to_state, actor, note, rating, at
		FROM case_history WHERE case_id IN `+in+` ORDER BY id`, ids,
		func(r *sql.Rows) error {
			var id ID
			var t Transition
			var rating sql.NullInt64
			var when int64
			if err := r.Scan(&id, &t.From, &t.To, &t.Actor, &t.Note, &rating, &when); err != nil {
				return err
			}
			if rating.Valid {
				v := Rating(rating.Int64)
				t.Rating = &v
			}
			t.At = fromNanos(when)
			cs[at[id]].History = append(cs[at[id]].History, t)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read case history: %w", err)
	}
	return cs, nil
}

func eachRow(ctx context.Context, tx *sql.Tx, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
