package content

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
)

// faqColumns reads an entry with its sources. The ORDER BY inside the
// aggregate (SQLite 3.44 and later) is what orders the list: the order of
// rows from an ordered subquery is not guaranteed to reach the aggregate.
const faqColumns = `f.id, f.category, f.question, f.similar, f.answer, f.updated, f.status,
	(SELECT json_group_array(doc_id ORDER BY position) FROM faq_sources WHERE faq_id = f.id)`

type scanner interface{ Scan(dest ...any) error }

func scanFAQ(row scanner) (FAQEntry, error) {
	var (
		e                      FAQEntry
		similar, updated, srcs string
		id, category, question string
		answer, status         string
	)
	if err := row.Scan(&id, &category, &question, &similar, &answer, &updated, &status, &srcs); err != nil {
		return FAQEntry{}, err
	}
	e = FAQEntry{ID: FAQID(id), Category: category, Question: question, Answer: answer, Status: Status(status)}
	var err error
	if e.Similar, err = unmarshalList[string](similar, "similar"); err != nil {
		return FAQEntry{}, err
	}
	if e.Sources, err = unmarshalList[DocID](srcs, "sources"); err != nil {
		return FAQEntry{}, err
	}
	if e.Updated, err = ParseDate(updated); err != nil {
		return FAQEntry{}, fmt.Errorf("decode updated: %w", err)
	}
	return e, nil
}

func getFAQ(ctx context.Context, q querier, id FAQID) (FAQEntry, error) {
	e, err := scanFAQ(q.QueryRowContext(ctx, `SELECT `+faqColumns+` FROM faq f WHERE f.id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return FAQEntry{}, fmt.Errorf("faq %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return FAQEntry{}, fmt.Errorf("read faq %s: %w", id, err)
	}
	return e, nil
}

// FAQ returns the FAQ entry with the given id.
func (s *Store) FAQ(ctx context.Context, id FAQID) (FAQEntry, error) {
	return getFAQ(ctx, s.r, id)
}

// FAQFilter selects FAQ entries; a zero field selects everything.
type FAQFilter struct {
	Category string
	Status   Status
}

// ListFAQ returns the entries that match f, in the order they were added,
// limited to page, and the number that match in all.
func (s *Store) ListFAQ(ctx context.Context, f FAQFilter, page Page) (list []FAQEntry, total int, err error) {
	err = s.inReadTx(ctx, func(q querier) error {
		list, total, err = s.listFAQ(ctx, q, f, page)
		return err
	})
	return list, total, err
}

// listFAQ reads the window of the list from an index that covers the
// filter (seq numbers only), then those rows; the total is counted once
// per content version.
func (s *Store) listFAQ(ctx context.Context, q querier, f FAQFilter, page Page) ([]FAQEntry, int, error) {
	where, args := " WHERE 1=1", []any{}
	if f.Category != "" {
		where += " AND category = ?"
		args = append(args, f.Category)
	}
	if f.Status != "" {
		where += " AND status = ?"
		args = append(args, string(f.Status))
	}
	rev, err := version(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	total, err := s.count(ctx, q, rev, "faq\x00"+f.Category+"\x00"+string(f.Status), `SELECT COUNT(*) FROM faq`+where, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("count faq: %w", err)
	}
	list, err := queryList(ctx, q, scanFAQ, `SELECT `+faqColumns+` FROM faq f WHERE f.seq IN (SELECT seq FROM faq`+
		where+` ORDER BY seq`+page.sql()+`) ORDER BY f.seq`, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list faq: %w", err)
	}
	return list, total, nil
}

// PutFAQ creates the entry or replaces the stored one with the same id,
// and records a revision by actor. Storing an entry equal to the stored
// one changes nothing and records nothing; changed reports which happened.
func (s *Store) PutFAQ(ctx context.Context, e FAQEntry, actor string) (changed bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		changed, err = putFAQ(ctx, tx, s.change(actor, ActionCreate, ""), e)
		return err
	})
	return changed, err
}

// DeleteFAQ removes an entry and records a revision by actor. An entry that
// a session segment links to is not deleted (ErrInUse).
func (s *Store) DeleteFAQ(ctx context.Context, id FAQID, actor string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return deleteFAQ(ctx, tx, s.change(actor, ActionDelete, ""), id)
	})
}

func checkFAQRefs(ctx context.Context, q querier, e *FAQEntry) error {
	for i, src := range e.Sources {
		ok, err := exists(ctx, q, "documents", string(src))
		if err != nil {
			return err
		}
		if !ok {
			return invalid(fmt.Sprintf("sources[%d]", i), "文档 %q 不存在", src)
		}
	}
	return nil
}

func putFAQ(ctx context.Context, tx *sql.Tx, c change, e FAQEntry) (bool, error) {
	e.normalize()
	if err := e.Validate(); err != nil {
		return false, err
	}
	if err := c.valid(); err != nil {
		return false, err
	}
	if err := checkFAQRefs(ctx, tx, &e); err != nil {
		return false, err
	}
	stored, err := getFAQ(ctx, tx, e.ID)
	prev, unchanged, err := prior(&c, stored, err, func(v FAQEntry) bool { return reflect.DeepEqual(v, e) })
	if err != nil || unchanged {
		return false, err
	}
	seq, err := nextSeq(ctx, tx, "faq")
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO faq (id, seq, category, question, similar, answer, updated, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET category = excluded.category, question = excluded.question,
			similar = excluded.similar, answer = excluded.answer, updated = excluded.updated, status = excluded.status`,
		string(e.ID), seq, e.Category, e.Question, marshalList(e.Similar), e.Answer, e.Updated.String(), string(e.Status),
	); err != nil {
		return false, fmt.Errorf("write faq %s: %w", e.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM faq_sources WHERE faq_id = ?`, string(e.ID)); err != nil {
		return false, fmt.Errorf("write faq %s sources: %w", e.ID, err)
	}
	for i, src := range e.Sources {
		if _, err := tx.ExecContext(ctx, `INSERT INTO faq_sources (faq_id, position, doc_id) VALUES (?, ?, ?)`,
			string(e.ID), i, string(src)); err != nil {
			return false, fmt.Errorf("write faq %s sources: %w", e.ID, err)
		}
	}
	if err := c.record(ctx, tx, KindFAQ, string(e.ID), prev, &e); err != nil {
		return false, err
	}
	return true, nil
}

func deleteFAQ(ctx context.Context, tx *sql.Tx, c change, id FAQID) error {
	if err := c.valid(); err != nil {
		return err
	}
	before, err := getFAQ(ctx, tx, id)
	if err != nil {
		return err
	}
	var session string
	err = tx.QueryRowContext(ctx, `SELECT session_id FROM segment_faq WHERE faq_id = ? LIMIT 1`, string(id)).Scan(&session)
	switch {
	case err == nil:
		return fmt.Errorf("faq %s is linked from session %s: %w", id, session, ErrInUse)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("delete faq %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM faq WHERE id = ?`, string(id)); err != nil {
		return fmt.Errorf("delete faq %s: %w", id, err)
	}
	return c.record(ctx, tx, KindFAQ, string(id), &before, (*FAQEntry)(nil))
}
