// Package baseline is the yardstick that govlive's search is measured
// against: a deliberately plain BM25 ranking of FAQ entries. It is never
// used to answer. govlive eval builds it over the same content as the
// search, in the same run, and prints its figures beside the search's, so
// that a ranking figure reads as a lift over plain BM25 rather than as a
// number on its own.
//
// Plain means: one bleve document per FAQ entry, with a field q (the
// question and every similar phrasing) and a field a (the answer); text
// changed only from traditional to simplified characters
// (retrieval.Normalizer.Simplified) and analysed with bleve's stock cjk
// analyzer (CJK bigrams, a lone CJK character as a unigram, width folding
// and lower case); a match query over both fields, q boosted 3 and a 1,
// scored with BM25. No synonyms, no pinyin, no numeral rewriting, no
// per-phrasing documents, no vectors: whatever the search does beyond
// this shows as lift.
package baseline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/mapping"

	"govlive/content"
	"govlive/retrieval"
)

// The fields of a document and their boosts at query time.
const (
	fieldQuestion = "q"
	fieldAnswer   = "a"

	boostQuestion = 3
	boostAnswer   = 1
)

// Index ranks FAQ entries by plain BM25. It is safe for concurrent use.
type Index struct {
	idx  bleve.Index
	norm *retrieval.Normalizer
}

// New indexes faqs in memory (every entry given, whatever its status: the
// caller passes the entries the search answers from).
func New(faqs []content.FAQEntry, norm *retrieval.Normalizer) (*Index, error) {
	if norm == nil {
		return nil, errors.New("baseline: no normalizer")
	}
	idx, err := bleve.NewUsing("", indexMapping(), bleve.Config.DefaultIndexType, bleve.Config.DefaultMemKVStore, nil)
	if err != nil {
		return nil, fmt.Errorf("baseline: create index: %w", err)
	}
	batch := idx.NewBatch()
	for _, e := range faqs {
		doc := map[string]any{
			fieldQuestion: norm.Simplified(strings.Join(append([]string{e.Question}, e.Similar...), "\n")),
			fieldAnswer:   norm.Simplified(e.Answer),
		}
		if err := batch.Index(string(e.ID), doc); err != nil {
			return nil, errors.Join(fmt.Errorf("baseline: index %s: %w", e.ID, err), idx.Close())
		}
	}
	if err := idx.Batch(batch); err != nil {
		return nil, errors.Join(fmt.Errorf("baseline: index: %w", err), idx.Close())
	}
	return &Index{idx: idx, norm: norm}, nil
}

func indexMapping() mapping.IndexMapping {
	m := bleve.NewIndexMapping()
	m.ScoringModel = "bm25"
	field := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = cjk.AnalyzerName
		f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = false, false, false, false
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fieldQuestion, field())
	doc.AddFieldMappingsAt(fieldAnswer, field())
	m.DefaultMapping = doc
	return m
}

// RankFAQ returns the ids of the k best entries for question, best first
// (ties by id); fewer when fewer match.
func (ix *Index) RankFAQ(ctx context.Context, question string, k int) ([]content.FAQID, error) {
	text := ix.norm.Simplified(question)
	q := bleve.NewMatchQuery(text)
	q.SetField(fieldQuestion)
	q.SetBoost(boostQuestion)
	a := bleve.NewMatchQuery(text)
	a.SetField(fieldAnswer)
	a.SetBoost(boostAnswer)
	req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(q, a), k, 0, false)
	req.SortBy([]string{"-_score", "_id"})
	res, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("baseline: search: %w", err)
	}
	ids := make([]content.FAQID, 0, len(res.Hits))
	for _, h := range res.Hits {
		ids = append(ids, content.FAQID(h.ID))
	}
	return ids, nil
}

// Close releases the index.
func (ix *Index) Close() error {
	if err := ix.idx.Close(); err != nil {
		return fmt.Errorf("baseline: close: %w", err)
	}
	return nil
}
