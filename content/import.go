package content

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ImportReport counts what an import did, by kind.
type ImportReport struct {
	FAQ       ImportCounts `json:"faq"`
	Documents ImportCounts `json:"documents"`
	Sessions  ImportCounts `json:"sessions"`
	Lexicon   ImportCounts `json:"lexicon"`
}

// ImportCounts counts items created, updated and left as they were.
type ImportCounts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

func (c *ImportCounts) add(created, changed bool) {
	switch {
	case !changed:
		c.Unchanged++
	case created:
		c.Created++
	default:
		c.Updated++
	}
}

// Import stores every item of p in one transaction: documents, then FAQ
// entries, then sessions, each created or updated with a revision by actor
// that carries note. Items in the store that p lacks are kept. If anything
// is wrong, such as a FAQ source that names a document neither in p nor in
// the store, nothing is stored and the error names the place in the pack
// (a *PackError, ErrPack). Other failures, such as a cancelled context or
// a database error, also store nothing but are not pack errors.
func (s *Store) Import(ctx context.Context, p *Pack, actor, note string) (ImportReport, error) {
	c := s.change(actor, ActionCreate, note)
	if err := c.valid(); err != nil {
		return ImportReport{}, fmt.Errorf("import: %w", err)
	}
	var rep ImportReport
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rep = ImportReport{}
		for _, d := range p.Documents {
			created, err := isNew(ctx, tx, "documents", string(d.ID))
			if err != nil {
				return err
			}
			changed, err := putDocument(ctx, tx, c, d)
			if err != nil {
				return p.errorAt(KindDocument, string(d.ID), err)
			}
			rep.Documents.add(created, changed)
		}
		for _, e := range p.FAQ {
			created, err := isNew(ctx, tx, "faq", string(e.ID))
			if err != nil {
				return err
			}
			changed, err := putFAQ(ctx, tx, c, e)
			if err != nil {
				return p.errorAt(KindFAQ, string(e.ID), err)
			}
			rep.FAQ.add(created, changed)
		}
		for _, ss := range p.Sessions {
			created, err := isNew(ctx, tx, "sessions", string(ss.ID))
			if err != nil {
				return err
			}
			changed, err := putSession(ctx, tx, c, ss)
			if err != nil {
				return p.errorAt(KindSession, string(ss.ID), err)
			}
			rep.Sessions.add(created, changed)
		}
		for _, name := range LexiconFiles {
			text, ok := p.Lexicon[name]
			if !ok {
				continue
			}
			_, err := getLexiconFile(ctx, tx, name)
			created := errors.Is(err, ErrNotFound)
			changed, err := putLexiconFile(ctx, tx, c, name, text)
			if err != nil {
				return err
			}
			rep.Lexicon.add(created, changed)
		}
		return nil
	})
	if err != nil {
		return ImportReport{}, fmt.Errorf("import: %w", err)
	}
	return rep, nil
}

func isNew(ctx context.Context, q querier, table, id string) (bool, error) {
	ok, err := exists(ctx, q, table, id)
	return !ok, err
}

// Export returns everything in the store as a pack, in the order items
// were first added: FAQ entries with any status, all documents, all
// sessions and the lexicon files. It reads them all in one snapshot, so the
// pack is consistent even while editors write.
func (s *Store) Export(ctx context.Context) (*Pack, error) {
	p := &Pack{Lexicon: map[string]string{}}
	err := s.inReadTx(ctx, func(q querier) error {
		var err error
		if p.FAQ, _, err = s.listFAQ(ctx, q, FAQFilter{}, Page{}); err != nil {
			return err
		}
		if p.Documents, _, err = listDocs(ctx, s, q, DocumentFilter{}, Page{}, docColumns, scanDocument); err != nil {
			return err
		}
		if p.Sessions, _, err = s.listSessions(ctx, q, SessionFilter{}, Page{}); err != nil {
			return err
		}
		for _, name := range LexiconFiles {
			text, err := getLexiconFile(ctx, q, name)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			p.Lexicon[name] = text
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return p, nil
}
