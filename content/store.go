package content

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"govlive/store"
)

// schema holds the content tables, one entry per schema version. Released
// versions are never edited; a change is a new entry.
var schema = []string{
	// 1: documents, FAQ entries with their sources, sessions with their
	// segments and links, and the revision log.
	`
CREATE TABLE documents (
	id        TEXT PRIMARY KEY,
	seq       INTEGER NOT NULL UNIQUE,
	title     TEXT NOT NULL,
	issuer    TEXT NOT NULL,
	effective TEXT NOT NULL,
	category  TEXT NOT NULL,
	body      TEXT NOT NULL
);
CREATE INDEX documents_category ON documents (category, seq);

CREATE TABLE faq (
	id       TEXT PRIMARY KEY,
	seq      INTEGER NOT NULL UNIQUE,
	category TEXT NOT NULL,
	question TEXT NOT NULL,
	similar  TEXT NOT NULL,
	answer   TEXT NOT NULL,
	updated  TEXT NOT NULL,
	status   TEXT NOT NULL CHECK (status IN ('draft', 'published'))
);
CREATE INDEX faq_category ON faq (category, seq);

CREATE TABLE faq_sources (
	faq_id   TEXT NOT NULL REFERENCES faq (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	doc_id   TEXT NOT NULL REFERENCES documents (id),
	PRIMARY KEY (faq_id, position)
);
CREATE INDEX faq_sources_doc ON faq_sources (doc_id);

CREATE TABLE sessions (
	id       TEXT PRIMARY KEY,
	seq      INTEGER NOT NULL UNIQUE,
	title    TEXT NOT NULL,
	category TEXT NOT NULL,
	summary  TEXT NOT NULL,
	start_at TEXT NOT NULL, -- RFC 3339 with the editor's zone offset
	end_at   TEXT NOT NULL,
	start_ts INTEGER NOT NULL, -- Unix seconds, for ordering
	public   INTEGER NOT NULL,
	anchors  TEXT NOT NULL
);
CREATE INDEX sessions_start ON sessions (start_ts);

CREATE TABLE segments (
	session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	position   INTEGER NOT NULL,
	title      TEXT NOT NULL,
	points     TEXT NOT NULL,
	PRIMARY KEY (session_id, position)
);

CREATE TABLE segment_faq (
	session_id TEXT NOT NULL,
	position   INTEGER NOT NULL,
	rank       INTEGER NOT NULL,
	faq_id     TEXT NOT NULL REFERENCES faq (id),
	PRIMARY KEY (session_id, position, rank),
	FOREIGN KEY (session_id, position) REFERENCES segments (session_id, position) ON DELETE CASCADE
);
CREATE INDEX segment_faq_faq ON segment_faq (faq_id);

CREATE TABLE segment_docs (
	session_id TEXT NOT NULL,
	position   INTEGER NOT NULL,
	rank       INTEGER NOT NULL,
	doc_id     TEXT NOT NULL REFERENCES documents (id),
	PRIMARY KEY (session_id, position, rank),
	FOREIGN KEY (session_id, position) REFERENCES segments (session_id, position) ON DELETE CASCADE
);
CREATE INDEX segment_docs_doc ON segment_docs (doc_id);

CREATE TABLE revisions (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	kind    TEXT NOT NULL,
	item_id TEXT NOT NULL,
	action  TEXT NOT NULL,
	actor   TEXT NOT NULL,
	at      TEXT NOT NULL,
	note    TEXT NOT NULL,
	before  TEXT,
	after   TEXT
);
CREATE INDEX revisions_item ON revisions (kind, item_id, id);
`,
	// 2: the lexicon files (synonyms, intent cues), stored as written.
	`
CREATE TABLE lexicon_files (
	name TEXT PRIMARY KEY,
	body TEXT NOT NULL
);
`,
	// 3: indexes that cover a page of a filtered list (a window of the
	// index, then the rows of that window), and its count.
	`
CREATE INDEX faq_status_seq ON faq (status, seq);
CREATE INDEX faq_category_status_seq ON faq (category, status, seq);
CREATE INDEX sessions_public_start ON sessions (public, start_ts, seq);
`,
}

// Store keeps content in SQLite. Every method is safe for concurrent use;
// writes are serialised by SQLite, reads run beside them (WAL).
type Store struct {
	db     *sql.DB // the writer
	r      *sql.DB // the read pool
	now    func() time.Time
	counts countCache
	ver    versionMemo
}

// versionMemo remembers the content version for a moment: a server asks
// for it on every request of the read API, and a query per request would
// be most of that request's cost. A write through this Store forgets it at
// once; a write by another process on the same file (govlive import beside
// serve) shows within versionTTL.
type versionMemo struct {
	mu  sync.Mutex
	v   int64
	at  time.Time // when v was read; zero: forgotten
	gen uint64    // counts the writes, so that a read begun before one is not kept
}

// versionTTL is how long a version read from the database is trusted.
const versionTTL = 500 * time.Millisecond

// countCache remembers how many items a filter selects at one content
// version, so that a page of a list costs a window of an index, not a
// count of the table. Every change of content records a revision in the
// same transaction, so the last revision id names the version.
type countCache struct {
	mu  sync.Mutex
	rev int64
	n   map[string]int
}

// count returns the number of rows query counts (with args) at revision
// rev, from the cache when it was counted at rev. key names the query and
// its arguments. It runs inside the read transaction in which rev was
// read, so that the count and the version agree.
func (s *Store) count(ctx context.Context, q querier, rev int64, key, query string, args ...any) (int, error) {
	c := &s.counts
	c.mu.Lock()
	n, ok := c.n[key]
	if c.rev != rev {
		ok = false
	}
	c.mu.Unlock()
	if ok {
		return n, nil
	}
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case rev > c.rev || c.n == nil:
		c.rev, c.n = rev, map[string]int{key: n}
	case rev == c.rev && len(c.n) < maxCounts:
		c.n[key] = n
	}
	return n, nil
}

// maxCounts bounds the count cache (filters are few: categories × status).
const maxCounts = 1024

// version is the last revision id, 0 for a store without any.
func version(ctx context.Context, q querier) (int64, error) {
	var v int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM revisions`).Scan(&v); err != nil {
		return 0, fmt.Errorf("content version: %w", err)
	}
	return v, nil
}

// Version names the content as it is now: the id of the last revision
// recorded (every change records one), 0 for a store that never held
// content. Equal versions mean equal content, so a cache of anything read
// from the store can be keyed by it.
func (s *Store) Version(ctx context.Context) (int64, error) {
	m := &s.ver
	m.mu.Lock()
	if !m.at.IsZero() && time.Since(m.at) < versionTTL {
		v := m.v
		m.mu.Unlock()
		return v, nil
	}
	gen := m.gen
	m.mu.Unlock()
	at := time.Now()
	v, err := version(ctx, s.r)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	if m.gen == gen {
		m.v, m.at = v, at
	}
	m.mu.Unlock()
	return v, nil
}

// forget is called after every write transaction.
func (m *versionMemo) forget() {
	m.mu.Lock()
	m.at = time.Time{}
	m.gen++
	m.mu.Unlock()
}

// NewStore returns a Store on db after bringing the content tables up to
// the current schema version. now is the clock used for revision times.
func NewStore(ctx context.Context, db *store.DB, now func() time.Time) (*Store, error) {
	if db == nil || now == nil {
		return nil, errors.New("content: NewStore needs a database and a clock")
	}
	if err := store.Migrate(ctx, db, "content", schema); err != nil {
		return nil, err
	}
	return &Store{db: db.DB, r: db.Read(), now: now}, nil
}

// querier is what both *sql.DB and *sql.Tx provide; reads take one so that
// they run inside a write transaction as well as outside.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in one write transaction, committed if fn returns nil and
// rolled back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	err = tx.Commit()
	s.ver.forget() // also after a failed commit: the outcome is unknown
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// inReadTx runs fn in one read-only transaction, so that every query of
// a read that takes several sees one snapshot of the database, whatever
// writers commit meanwhile. (The driver begins a read-only transaction
// with a plain, deferred BEGIN even when write transactions begin
// IMMEDIATE, so readers do not queue behind writers.)
func (s *Store) inReadTx(ctx context.Context, fn func(q querier) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	return errors.Join(fn(tx), ignoreDone(tx.Rollback()))
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// Page selects a window of a list: Limit items after skipping Offset.
// A Limit of 0 means no limit.
type Page struct {
	Limit  int
	Offset int
}

func (p Page) sql() string {
	if p.Limit <= 0 {
		return fmt.Sprintf(" LIMIT -1 OFFSET %d", max(p.Offset, 0))
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", p.Limit, max(p.Offset, 0))
}

// Counts says how many items of each kind the store holds.
type Counts struct {
	FAQ       int `json:"faq"`
	Documents int `json:"documents"`
	Sessions  int `json:"sessions"`
}

// Counts reports how many FAQ entries, documents and sessions are stored.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM faq), (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM sessions)`,
	).Scan(&c.FAQ, &c.Documents, &c.Sessions)
	if err != nil {
		return Counts{}, fmt.Errorf("count content: %w", err)
	}
	return c, nil
}

// nextSeq returns the sequence number for a new row of table: items keep
// the order in which they were first added, which is the order of a pack.
func nextSeq(ctx context.Context, q querier, table string) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM `+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("next %s seq: %w", table, err)
	}
	return n, nil
}

func exists(ctx context.Context, q querier, table, id string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up %s %s: %w", table, id, err)
	}
	return true, nil
}

func marshalList[T any](list []T) string {
	b, err := json.Marshal(list)
	if err != nil {
		// Lists of strings and plain structs always marshal.
		return "[]"
	}
	return string(b)
}

func unmarshalList[T any](s string, field string) ([]T, error) {
	var list []T
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, fmt.Errorf("decode %s: %w", field, err)
	}
	if list == nil {
		list = []T{}
	}
	return list, nil
}

// queryList runs a query and scans every row with scan. The list is
// empty, not nil, when no row matches.
func queryList[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}

// prior looks up the stored version of an item about to be put. It
// reports whether the put would change nothing, and otherwise the version
// to record as "before" (nil for a creation); a creation of an item that
// exists becomes an update.
func prior[T any](c *change, stored T, err error, equal func(T) bool) (prev *T, unchanged bool, _ error) {
	switch {
	case err == nil:
		if equal(stored) {
			return nil, true, nil
		}
		if c.action == ActionCreate {
			c.action = ActionUpdate
		}
		return &stored, false, nil
	case errors.Is(err, ErrNotFound):
		return nil, false, nil
	}
	return nil, false, err
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
