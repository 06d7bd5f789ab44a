package content

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"time"
)

const sessionColumns = `id, title, category, summary, start_at, end_at, public, anchors`

func scanSession(row scanner) (Session, error) {
	var (
		ss                 Session
		id, start, end, an string
	)
	if err := row.Scan(&id, &ss.Title, &ss.Category, &ss.Summary, &start, &end, &ss.Public, &an); err != nil {
		return Session{}, err
	}
	ss.ID = SessionID(id)
	var err error
	if ss.Start, err = time.Parse(time.RFC3339, start); err != nil {
		return Session{}, fmt.Errorf("decode start: %w", err)
	}
	if ss.End, err = time.Parse(time.RFC3339, end); err != nil {
		return Session{}, fmt.Errorf("decode end: %w", err)
	}
	if ss.Anchors, err = unmarshalList[Anchor](an, "anchors"); err != nil {
		return Session{}, err
	}
	return ss, nil
}

// loadSegments reads the run-sheets of the given sessions in three
// queries, however many sessions there are. With publishedOnly, links to
// draft FAQ entries are left out. Run it in the transaction that read the
// sessions, so that the three queries see the same run-sheets.
func loadSegments(ctx context.Context, q querier, sessions []Session, publishedOnly bool) error {
	if len(sessions) == 0 {
		return nil
	}
	index := make(map[SessionID]int, len(sessions))
	args := make([]any, len(sessions))
	for i := range sessions {
		sessions[i].Segments = []Segment{}
		index[sessions[i].ID] = i
		args[i] = string(sessions[i].ID)
	}
	in := ` IN (` + placeholders(len(sessions)) + `)`
	rows, err := q.QueryContext(ctx, `SELECT session_id, title, points FROM segments WHERE session_id`+in+` ORDER BY session_id, position`, args...)
	if err != nil {
		return fmt.Errorf("read segments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, title, points string
		if err := rows.Scan(&id, &title, &points); err != nil {
			return fmt.Errorf("read segments: %w", err)
		}
		ss := &sessions[index[SessionID(id)]]
		g := Segment{Order: len(ss.Segments) + 1, Title: title, FAQ: []FAQID{}, Docs: []DocID{}}
		if g.Points, err = unmarshalList[string](points, "points"); err != nil {
			return err
		}
		ss.Segments = append(ss.Segments, g)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read segments: %w", err)
	}
	faqQuery := `SELECT session_id, position, faq_id FROM segment_faq WHERE session_id` + in + ` ORDER BY session_id, position, rank`
	if publishedOnly {
		faqQuery = `SELECT l.session_id, l.position, l.faq_id FROM segment_faq l JOIN faq f ON f.id = l.faq_id
			WHERE f.status = 'published' AND l.session_id` + in + ` ORDER BY l.session_id, l.position, l.rank`
	}
	for _, link := range []struct{ table, col, query string }{
		{"segment_faq", "faq_id", faqQuery},
		{"segment_docs", "doc_id", `SELECT session_id, position, doc_id FROM segment_docs WHERE session_id` + in + ` ORDER BY session_id, position, rank`},
	} {
		table, col := link.table, link.col
		rows, err := q.QueryContext(ctx, link.query, args...)
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		for rows.Next() {
			var (
				id, link string
				pos      int
			)
			if err := rows.Scan(&id, &pos, &link); err != nil {
				rows.Close()
				return fmt.Errorf("read %s: %w", table, err)
			}
			segs := sessions[index[SessionID(id)]].Segments
			if pos < 0 || pos >= len(segs) {
				rows.Close()
				return fmt.Errorf("read %s: session %s has no segment %d", table, id, pos)
			}
			if col == "faq_id" {
				segs[pos].FAQ = append(segs[pos].FAQ, FAQID(link))
			} else {
				segs[pos].Docs = append(segs[pos].Docs, DocID(link))
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
	}
	return nil
}

func getSession(ctx context.Context, q querier, id SessionID, publishedOnly bool) (Session, error) {
	ss, err := scanSession(q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("session %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("read session %s: %w", id, err)
	}
	list := []Session{ss}
	if err := loadSegments(ctx, q, list, publishedOnly); err != nil {
		return Session{}, fmt.Errorf("read session %s: %w", id, err)
	}
	return list[0], nil
}

// Session returns the session with the given id, with its run-sheet.
func (s *Store) Session(ctx context.Context, id SessionID) (ss Session, err error) {
	err = s.inReadTx(ctx, func(q querier) error {
		ss, err = getSession(ctx, q, id, false)
		return err
	})
	return ss, err
}

// PublicSession returns the session with the given id as viewers see it:
// ErrNotFound unless the session is public, and no links to draft FAQ
// entries in its segments.
func (s *Store) PublicSession(ctx context.Context, id SessionID) (ss Session, err error) {
	ss, err = s.ViewerSession(ctx, id)
	if err == nil && !ss.Public {
		return Session{}, fmt.Errorf("session %s is not public: %w", id, ErrNotFound)
	}
	return ss, err
}

// ViewerSession returns the session with the given id as viewers see it,
// without links to draft FAQ entries, public or not: the caller decides
// who may see a private one (its anchors).
func (s *Store) ViewerSession(ctx context.Context, id SessionID) (ss Session, err error) {
	err = s.inReadTx(ctx, func(q querier) error {
		ss, err = getSession(ctx, q, id, true)
		return err
	})
	return ss, err
}

// SessionFilter selects sessions; a zero field selects everything.
type SessionFilter struct {
	Category string
	// PublicOnly selects what viewers may see: public sessions, with the
	// links to draft FAQ entries left out of their segments.
	PublicOnly bool
}

// ListSessions returns the sessions that match f with their run-sheets,
// by start time, limited to page, and the number that match in all.
func (s *Store) ListSessions(ctx context.Context, f SessionFilter, page Page) (list []Session, total int, err error) {
	err = s.inReadTx(ctx, func(q querier) error {
		list, total, err = s.listSessions(ctx, q, f, page)
		return err
	})
	return list, total, err
}

func (s *Store) listSessions(ctx context.Context, q querier, f SessionFilter, page Page) ([]Session, int, error) {
	where, args := " WHERE 1=1", []any{}
	if f.Category != "" {
		where += " AND category = ?"
		args = append(args, f.Category)
	}
	if f.PublicOnly {
		where += " AND public = 1"
	}
	rev, err := version(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	total, err := s.count(ctx, q, rev, fmt.Sprintf("sessions\x00%s\x00%t", f.Category, f.PublicOnly), `SELECT COUNT(*) FROM sessions`+where, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("count sessions: %w", err)
	}
	list, err := queryList(ctx, q, scanSession, `SELECT `+sessionColumns+` FROM sessions`+where+` ORDER BY start_ts, seq`+page.sql(), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list sessions: %w", err)
	}
	if err := loadSegments(ctx, q, list, f.PublicOnly); err != nil {
		return nil, 0, fmt.Errorf("list sessions: %w", err)
	}
	return list, total, nil
}

// PutSession creates the session or replaces the stored one with the same
// id (run-sheet included), and records a revision by actor. Every linked
// FAQ entry and document must exist. Storing a session equal to the stored
// one changes nothing; changed reports which happened.
func (s *Store) PutSession(ctx context.Context, ss Session, actor string) (changed bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		changed, err = putSession(ctx, tx, s.change(actor, ActionCreate, ""), ss)
		return err
	})
	return changed, err
}

// DeleteSession removes a session with its run-sheet and records a
// revision by actor.
func (s *Store) DeleteSession(ctx context.Context, id SessionID, actor string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return deleteSession(ctx, tx, s.change(actor, ActionDelete, ""), id)
	})
}

func checkSessionRefs(ctx context.Context, q querier, ss *Session) error {
	for i, g := range ss.Segments {
		for j, id := range g.FAQ {
			ok, err := exists(ctx, q, "faq", string(id))
			if err != nil {
				return err
			}
			if !ok {
				return invalid(fmt.Sprintf("segments[%d].faq[%d]", i, j), "FAQ 条目 %q 不存在", id)
			}
		}
		for j, id := range g.Docs {
			ok, err := exists(ctx, q, "documents", string(id))
			if err != nil {
				return err
			}
			if !ok {
				return invalid(fmt.Sprintf("segments[%d].docs[%d]", i, j), "文档 %q 不存在", id)
			}
		}
	}
	return nil
}

// sessionTime is how session times are stored: RFC 3339 keeps the zone
// offset the editor gave, and sorts correctly within one offset.
func sessionTime(t time.Time) string { return t.Format(time.RFC3339) }

func putSession(ctx context.Context, tx *sql.Tx, c change, ss Session) (bool, error) {
	ss.normalize()
	if err := ss.Validate(); err != nil {
		return false, err
	}
	if err := c.valid(); err != nil {
		return false, err
	}
	if err := checkSessionRefs(ctx, tx, &ss); err != nil {
		return false, err
	}
	// Compare in the stored form: times at second precision, as written.
	ss.Start, _ = time.Parse(time.RFC3339, sessionTime(ss.Start))
	ss.End, _ = time.Parse(time.RFC3339, sessionTime(ss.End))
	stored, err := getSession(ctx, tx, ss.ID, false)
	prev, unchanged, err := prior(&c, stored, err, func(v Session) bool { return sessionsEqual(v, ss) })
	if err != nil || unchanged {
		return false, err
	}
	seq, err := nextSeq(ctx, tx, "sessions")
	if err != nil {
		return false, err
	}
	id := string(ss.ID)
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, seq, title, category, summary, start_at, end_at, start_ts, public, anchors)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET title = excluded.title, category = excluded.category, summary = excluded.summary,
			start_at = excluded.start_at, end_at = excluded.end_at, start_ts = excluded.start_ts, public = excluded.public, anchors = excluded.anchors`,
		id, seq, ss.Title, ss.Category, ss.Summary, sessionTime(ss.Start), sessionTime(ss.End), ss.Start.Unix(), ss.Public, marshalList(ss.Anchors),
	); err != nil {
		return false, fmt.Errorf("write session %s: %w", id, err)
	}
	// segment_faq and segment_docs rows go with their segment (cascade).
	if _, err := tx.ExecContext(ctx, `DELETE FROM segments WHERE session_id = ?`, id); err != nil {
		return false, fmt.Errorf("write session %s segments: %w", id, err)
	}
	for pos, g := range ss.Segments {
		if _, err := tx.ExecContext(ctx, `INSERT INTO segments (session_id, position, title, points) VALUES (?, ?, ?, ?)`,
			id, pos, g.Title, marshalList(g.Points)); err != nil {
			return false, fmt.Errorf("write session %s segment %d: %w", id, pos+1, err)
		}
		for rank, f := range g.FAQ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO segment_faq (session_id, position, rank, faq_id) VALUES (?, ?, ?, ?)`,
				id, pos, rank, string(f)); err != nil {
				return false, fmt.Errorf("write session %s segment %d: %w", id, pos+1, err)
			}
		}
		for rank, d := range g.Docs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO segment_docs (session_id, position, rank, doc_id) VALUES (?, ?, ?, ?)`,
				id, pos, rank, string(d)); err != nil {
				return false, fmt.Errorf("write session %s segment %d: %w", id, pos+1, err)
			}
		}
	}
	if err := c.record(ctx, tx, KindSession, id, prev, &ss); err != nil {
		return false, err
	}
	return true, nil
}

// sessionsEqual compares sessions with times compared as instants and
// offsets, not by their location pointers.
func sessionsEqual(a, b Session) bool {
	if sessionTime(a.Start) != sessionTime(b.Start) || sessionTime(a.End) != sessionTime(b.End) {
		return false
	}
	a.Start, a.End, b.Start, b.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func deleteSession(ctx context.Context, tx *sql.Tx, c change, id SessionID) error {
	if err := c.valid(); err != nil {
		return err
	}
	before, err := getSession(ctx, tx, id, false)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, string(id)); err != nil {
		return fmt.Errorf("delete session %s: %w", id, err)
	}
	return c.record(ctx, tx, KindSession, string(id), &before, (*Session)(nil))
}
