package content

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Kind names a kind of content item.
type Kind string

// The kinds of content that keep revisions.
const (
	KindFAQ      Kind = "faq"
	KindDocument Kind = "doc"
	KindSession  Kind = "session"
	KindLexicon  Kind = "lexicon"
)

// Action says what a revision did to its item.
type Action string

// The actions a revision records.
const (
	ActionCreate  Action = "create"
	ActionUpdate  Action = "update"
	ActionDelete  Action = "delete"
	ActionRestore Action = "restore"
)

// Revision is one recorded change to a FAQ entry, a document or a session:
// who made it, when, and the item as it was before and after (JSON; null
// before a creation and after a deletion).
type Revision struct {
	ID     int64           `json:"id"`
	Kind   Kind            `json:"kind"`
	ItemID string          `json:"item_id"`
	Action Action          `json:"action"`
	Actor  string          `json:"actor"`
	At     time.Time       `json:"at"`
	Note   string          `json:"note,omitempty"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// change carries who is making a change and why, through the write
// functions down to the revision it records.
type change struct {
	actor  string
	action Action
	note   string
	at     time.Time
}

func (s *Store) change(actor string, action Action, note string) change {
	return change{actor: actor, action: action, note: note, at: s.now().UTC()}
}

func (c change) valid() error {
	if c.actor == "" {
		return invalid("actor", "修改人不能为空")
	}
	return checkText("actor", c.actor, true, maxShortLen)
}

func (c change) record(ctx context.Context, tx *sql.Tx, kind Kind, id string, before, after any) error {
	enc := func(v any) (sql.NullString, error) {
		if isNilPtr(v) {
			return sql.NullString{}, nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return sql.NullString{}, fmt.Errorf("encode revision of %s %s: %w", kind, id, err)
		}
		return sql.NullString{String: string(b), Valid: true}, nil
	}
	b, err := enc(before)
	if err != nil {
		return err
	}
	a, err := enc(after)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO revisions (kind, item_id, action, actor, at, note, before, after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		string(kind), id, string(c.action), c.actor, c.at.Format(time.RFC3339Nano), c.note, b, a,
	); err != nil {
		return fmt.Errorf("record revision of %s %s: %w", kind, id, err)
	}
	return nil
}

func isNilPtr(v any) bool {
	switch p := v.(type) {
	case *FAQEntry:
		return p == nil
	case *Document:
		return p == nil
	case *Session:
		return p == nil
	case *lexiconText:
		return p == nil
	}
	return v == nil
}

const revisionColumns = `id, kind, item_id, action, actor, at, note, before, after`

func scanRevision(row scanner) (Revision, error) {
	var (
		r             Revision
		kind, action  string
		at            string
		before, after sql.NullString
	)
	if err := row.Scan(&r.ID, &kind, &r.ItemID, &action, &r.Actor, &at, &r.Note, &before, &after); err != nil {
		return Revision{}, err
	}
	r.Kind, r.Action = Kind(kind), Action(action)
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return Revision{}, fmt.Errorf("decode revision %d time: %w", r.ID, err)
	}
	r.At = t
	r.Before, r.After = json.RawMessage("null"), json.RawMessage("null")
	if before.Valid {
		r.Before = json.RawMessage(before.String)
	}
	if after.Valid {
		r.After = json.RawMessage(after.String)
	}
	return r, nil
}

func (s *Store) queryRevisions(ctx context.Context, query string, args ...any) ([]Revision, error) {
	list, err := queryList(ctx, s.r, scanRevision, `SELECT `+revisionColumns+` FROM revisions `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("list revisions: %w", err)
	}
	return list, nil
}

// Revisions lists the revisions of one item, newest first.
func (s *Store) Revisions(ctx context.Context, kind Kind, id string) ([]Revision, error) {
	return s.queryRevisions(ctx, `WHERE kind = ? AND item_id = ? ORDER BY id DESC`, string(kind), id)
}

// RevisionsSince lists up to limit revisions with an id above after, oldest
// first: a change feed for whoever keeps a copy of the content current
// (the search index remembers the last revision it applied).
func (s *Store) RevisionsSince(ctx context.Context, after int64, limit int) ([]Revision, error) {
	if limit <= 0 {
		limit = 1000
	}
	return s.queryRevisions(ctx, `WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// Revision returns one revision by id.
func (s *Store) Revision(ctx context.Context, id int64) (Revision, error) {
	r, err := scanRevision(s.r.QueryRowContext(ctx, `SELECT `+revisionColumns+` FROM revisions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Revision{}, fmt.Errorf("revision %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Revision{}, fmt.Errorf("read revision %d: %w", id, err)
	}
	return r, nil
}

// Restore returns an item to the state recorded after revision id: the
// item as that revision left it, or no item if that revision deleted it.
// The restore is itself recorded as a new revision by actor, so it can be
// undone the same way. Restoring a state equal to the current one changes
// nothing.
func (s *Store) Restore(ctx context.Context, id int64, actor string) error {
	r, err := s.Revision(ctx, id)
	if err != nil {
		return err
	}
	c := s.change(actor, ActionRestore, fmt.Sprintf("恢复到修订 #%d", id))
	deleted := string(r.After) == "null"
	return s.inTx(ctx, func(tx *sql.Tx) error {
		switch r.Kind {
		case KindFAQ:
			if deleted {
				return ignoreNotFound(deleteFAQ(ctx, tx, c, FAQID(r.ItemID)))
			}
			var e FAQEntry
			if err := json.Unmarshal(r.After, &e); err != nil {
				return fmt.Errorf("decode revision %d: %w", id, err)
			}
			_, err := putFAQ(ctx, tx, c, e)
			return err
		case KindDocument:
			if deleted {
				return ignoreNotFound(deleteDocument(ctx, tx, c, DocID(r.ItemID)))
			}
			var d Document
			if err := json.Unmarshal(r.After, &d); err != nil {
				return fmt.Errorf("decode revision %d: %w", id, err)
			}
			_, err := putDocument(ctx, tx, c, d)
			return err
		case KindLexicon:
			var lt lexiconText
			if deleted || json.Unmarshal(r.After, &lt) != nil {
				return fmt.Errorf("revision %d: cannot restore lexicon file", id)
			}
			_, err := putLexiconFile(ctx, tx, c, lt.Name, lt.Text)
			return err
		case KindSession:
			if deleted {
				return ignoreNotFound(deleteSession(ctx, tx, c, SessionID(r.ItemID)))
			}
			var ss Session
			if err := json.Unmarshal(r.After, &ss); err != nil {
				return fmt.Errorf("decode revision %d: %w", id, err)
			}
			_, err := putSession(ctx, tx, c, ss)
			return err
		}
		return fmt.Errorf("revision %d has unknown kind %q", id, r.Kind)
	})
}

func ignoreNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
