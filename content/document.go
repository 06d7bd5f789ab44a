package content

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const docColumns = `id, title, issuer, effective, category, body`

func scanDocument(row scanner) (Document, error) {
	var (
		d             Document
		id, effective string
	)
	if err := row.Scan(&id, &d.Title, &d.Issuer, &effective, &d.Category, &d.Body); err != nil {
		return Document{}, err
	}
	d.ID = DocID(id)
	var err error
	if d.Effective, err = ParseDate(effective); err != nil {
		return Document{}, fmt.Errorf("decode effective: %w", err)
	}
	return d, nil
}

func getDocument(ctx context.Context, q querier, id DocID) (Document, error) {
	d, err := scanDocument(q.QueryRowContext(ctx, `SELECT `+docColumns+` FROM documents WHERE id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, fmt.Errorf("document %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Document{}, fmt.Errorf("read document %s: %w", id, err)
	}
	return d, nil
}

// Document returns the document with the given id.
func (s *Store) Document(ctx context.Context, id DocID) (Document, error) {
	return getDocument(ctx, s.r, id)
}

// DocumentFilter selects documents; a zero field selects everything.
type DocumentFilter struct {
	Category string
}

// ListDocuments returns the documents that match f, in the order they were
// added, limited to page, and the number that match in all.
func (s *Store) ListDocuments(ctx context.Context, f DocumentFilter, page Page) (list []Document, total int, err error) {
	err = s.inReadTx(ctx, func(q querier) error {
		list, total, err = listDocs(ctx, s, q, f, page, docColumns, scanDocument)
		return err
	})
	return list, total, err
}

// DocumentInfo is a document without its body, which can be long, and
// the body's length in characters.
type DocumentInfo struct {
	ID        DocID  `json:"id"`
	Title     string `json:"title"`
	Issuer    string `json:"issuer"`
	Effective Date   `json:"effective"`
	Category  string `json:"category"`
	BodyChars int    `json:"body_chars"`
}

const docInfoColumns = `id, title, issuer, effective, category, length(body)`

func scanDocumentInfo(row scanner) (DocumentInfo, error) {
	var (
		d             DocumentInfo
		id, effective string
	)
	if err := row.Scan(&id, &d.Title, &d.Issuer, &effective, &d.Category, &d.BodyChars); err != nil {
		return DocumentInfo{}, err
	}
	d.ID = DocID(id)
	var err error
	if d.Effective, err = ParseDate(effective); err != nil {
		return DocumentInfo{}, fmt.Errorf("decode effective: %w", err)
	}
	return d, nil
}

// ListDocumentInfo is ListDocuments without the bodies: what a list shows.
func (s *Store) ListDocumentInfo(ctx context.Context, f DocumentFilter, page Page) (list []DocumentInfo, total int, err error) {
	err = s.inReadTx(ctx, func(q querier) error {
		list, total, err = listDocs(ctx, s, q, f, page, docInfoColumns, scanDocumentInfo)
		return err
	})
	return list, total, err
}

func listDocs[T any](ctx context.Context, s *Store, q querier, f DocumentFilter, page Page, columns string, scan func(scanner) (T, error)) ([]T, int, error) {
	where, args := "", []any{}
	if f.Category != "" {
		where, args = " WHERE category = ?", append(args, f.Category)
	}
	rev, err := version(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	total, err := s.count(ctx, q, rev, "documents\x00"+f.Category, `SELECT COUNT(*) FROM documents`+where, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("count documents: %w", err)
	}
	list, err := queryList(ctx, q, scan, `SELECT `+columns+` FROM documents WHERE seq IN (SELECT seq FROM documents`+
		where+` ORDER BY seq`+page.sql()+`) ORDER BY seq`, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list documents: %w", err)
	}
	return list, total, nil
}

// PutDocument creates the document or replaces the stored one with the
// same id, and records a revision by actor. Storing a document equal to
// the stored one changes nothing; changed reports which happened.
func (s *Store) PutDocument(ctx context.Context, d Document, actor string) (changed bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		changed, err = putDocument(ctx, tx, s.change(actor, ActionCreate, ""), d)
		return err
	})
	return changed, err
}

// DeleteDocument removes a document and records a revision by actor. A
// document that a FAQ entry cites or a segment links is not deleted
// (ErrInUse).
func (s *Store) DeleteDocument(ctx context.Context, id DocID, actor string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return deleteDocument(ctx, tx, s.change(actor, ActionDelete, ""), id)
	})
}

func putDocument(ctx context.Context, tx *sql.Tx, c change, d Document) (bool, error) {
	if err := d.Validate(); err != nil {
		return false, err
	}
	if err := c.valid(); err != nil {
		return false, err
	}
	stored, err := getDocument(ctx, tx, d.ID)
	prev, unchanged, err := prior(&c, stored, err, func(v Document) bool { return v == d })
	if err != nil || unchanged {
		return false, err
	}
	seq, err := nextSeq(ctx, tx, "documents")
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO documents (id, seq, title, issuer, effective, category, body)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET title = excluded.title, issuer = excluded.issuer,
			effective = excluded.effective, category = excluded.category, body = excluded.body`,
		string(d.ID), seq, d.Title, d.Issuer, d.Effective.String(), d.Category, d.Body,
	); err != nil {
		return false, fmt.Errorf("write document %s: %w", d.ID, err)
	}
	if err := c.record(ctx, tx, KindDocument, string(d.ID), prev, &d); err != nil {
		return false, err
	}
	return true, nil
}

func deleteDocument(ctx context.Context, tx *sql.Tx, c change, id DocID) error {
	if err := c.valid(); err != nil {
		return err
	}
	before, err := getDocument(ctx, tx, id)
	if err != nil {
		return err
	}
	var user string
	err = tx.QueryRowContext(ctx, `SELECT 'faq ' || faq_id FROM faq_sources WHERE doc_id = ?
		UNION ALL SELECT 'session ' || session_id FROM segment_docs WHERE doc_id = ? LIMIT 1`,
		string(id), string(id)).Scan(&user)
	switch {
	case err == nil:
		return fmt.Errorf("document %s is used by %s: %w", id, user, ErrInUse)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("delete document %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, string(id)); err != nil {
		return fmt.Errorf("delete document %s: %w", id, err)
	}
	return c.record(ctx, tx, KindDocument, string(id), &before, (*Document)(nil))
}
