package retrieval

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/shingle"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/whitespace"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"govlive/content"
)

// The lexical index holds one bleve document per FAQ phrasing (question
// and each similar phrasing apart, so that a question matches the closest
// phrasing, not a bag of all of them), one per FAQ answer, and one per
// document chunk. Each kind has its own field, so that a search of one
// kind is a plain disjunction of term queries. Texts are analysed by
// Analyzer before they reach bleve; bleve then splits them into CJK
// bigrams (plus unigrams for phrasings, so that a one-character question
// still matches) and, for phrasings, pinyin syllable pairs.
const (
	fieldPhrasing = "phrasing"
	fieldAnswer   = "answer"
	fieldPassage  = "passage"
	fieldPinyin   = "pinyin"
)

// lexDoc is the bleve document; one of Phrasing, Answer, Passage is set.
type lexDoc struct {
	FAQ      string `json:"faq,omitempty"` // the FAQ entry of a phrasing or answer
	Doc      string `json:"doc,omitempty"` // the document of a passage
	Phrasing string `json:"phrasing,omitempty"`
	Answer   string `json:"answer,omitempty"`
	Passage  string `json:"passage,omitempty"`
	Pinyin   string `json:"pinyin,omitempty"`
}

func indexMapping() (mapping.IndexMapping, error) {
	m := bleve.NewIndexMapping()
	m.ScoringModel = "bm25"
	var errs []error
	must := func(err error) { errs = append(errs, err) }
	must(m.AddCustomTokenFilter("govlive_bigram_unigram", map[string]any{
		"type": cjk.BigramName, "output_unigram": true,
	}))
	must(m.AddCustomAnalyzer("govlive_cjk", map[string]any{
		"type": custom.Name, "tokenizer": unicodetok.Name, "token_filters": []any{"govlive_bigram_unigram"},
	}))
	must(m.AddCustomTokenFilter("govlive_bigram", map[string]any{
		"type": cjk.BigramName, "output_unigram": false,
	}))
	must(m.AddCustomAnalyzer("govlive_cjk_pairs", map[string]any{
		"type": custom.Name, "tokenizer": unicodetok.Name, "token_filters": []any{"govlive_bigram"},
	}))
	must(m.AddCustomTokenFilter("govlive_syllable_pairs", map[string]any{
		"type": shingle.Name, "min": 2.0, "max": 2.0, "output_original": false, "separator": " ",
	}))
	must(m.AddCustomAnalyzer("govlive_pinyin", map[string]any{
		"type": custom.Name, "tokenizer": whitespace.Name, "token_filters": []any{"govlive_syllable_pairs"},
	}))

	field := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store, f.IncludeInAll, f.IncludeTermVectors = false, false, false
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("faq", field(keyword.Name))
	doc.AddFieldMappingsAt("doc", field(keyword.Name))
	doc.AddFieldMappingsAt(fieldPhrasing, field("govlive_cjk"))
	doc.AddFieldMappingsAt(fieldAnswer, field("govlive_cjk"))
	doc.AddFieldMappingsAt(fieldPassage, field("govlive_cjk_pairs"))
	doc.AddFieldMappingsAt(fieldPinyin, field("govlive_pinyin"))
	m.DefaultMapping = doc
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("retrieval: index mapping: %w", err)
	}
	return m, nil
}

// indexAll writes every item of the in-memory model to the lexical
// index, replacing what it held (caller holds mu).
func (ix *Index) indexAll() error {
	// Delete everything first: documents of items that no longer exist.
	for {
		res, err := ix.bleve.Search(&bleve.SearchRequest{Query: bleve.NewMatchAllQuery(), Size: 1000})
		if err != nil {
			return fmt.Errorf("retrieval: clear index: %w", err)
		}
		if len(res.Hits) == 0 {
			break
		}
		b := ix.bleve.NewBatch()
		for _, h := range res.Hits {
			b.Delete(h.ID)
		}
		if err := ix.bleve.Batch(b); err != nil {
			return fmt.Errorf("retrieval: clear index: %w", err)
		}
	}
	b := ix.bleve.NewBatch()
	flush := func() error {
		if b.Size() < 2000 {
			return nil
		}
		if err := ix.bleve.Batch(b); err != nil {
			return fmt.Errorf("retrieval: index: %w", err)
		}
		b.Reset()
		return nil
	}
	for id := range ix.faqs {
		if err := ix.batchFAQ(b, id); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
	}
	for id := range ix.docs {
		if err := ix.batchDocument(b, id); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
	}
	if err := ix.bleve.Batch(b); err != nil {
		return fmt.Errorf("retrieval: index: %w", err)
	}
	return nil
}

func (ix *Index) batchFAQ(b *bleve.Batch, id content.FAQID) error {
	it := ix.faqs[id]
	if it == nil {
		return nil
	}
	for n, p := range it.phrasings {
		key := fmt.Sprintf("faq:%s:%d", id, n)
		if err := b.Index(key, lexDoc{FAQ: string(id), Phrasing: p.text, Pinyin: ix.an.Pinyin(p.text)}); err != nil {
			return fmt.Errorf("retrieval: index %s: %w", key, err)
		}
	}
	key := fmt.Sprintf("faq:%s:a", id)
	if err := b.Index(key, lexDoc{FAQ: string(id), Answer: it.answer.text}); err != nil {
		return fmt.Errorf("retrieval: index %s: %w", key, err)
	}
	return nil
}

func (ix *Index) batchDocument(b *bleve.Batch, id content.DocID) error {
	for _, cid := range ix.docs[id] {
		c := ix.chunks[cid]
		if err := b.Index("doc:"+cid, lexDoc{Doc: string(id), Passage: c.text.text}); err != nil {
			return fmt.Errorf("retrieval: index %s: %w", cid, err)
		}
	}
	return nil
}

// deleteWhere removes the bleve documents whose keyword field equals value
// (caller holds mu).
func (ix *Index) deleteWhere(field, value string) error {
	q := bleve.NewTermQuery(value)
	q.SetField(field)
	for {
		res, err := ix.bleve.Search(&bleve.SearchRequest{Query: q, Size: 1000})
		if err != nil {
			return fmt.Errorf("retrieval: find old entries: %w", err)
		}
		if len(res.Hits) == 0 {
			return nil
		}
		b := ix.bleve.NewBatch()
		for _, h := range res.Hits {
			b.Delete(h.ID)
		}
		if err := ix.bleve.Batch(b); err != nil {
			return fmt.Errorf("retrieval: delete old entries: %w", err)
		}
	}
}

// reindexFAQ replaces the lexical entries of one FAQ entry with those of
// its current version in the model (none if it is gone).
func (ix *Index) reindexFAQ(id content.FAQID) error {
	if err := ix.deleteWhere("faq", string(id)); err != nil {
		return err
	}
	b := ix.bleve.NewBatch()
	if err := ix.batchFAQ(b, id); err != nil {
		return err
	}
	if err := ix.bleve.Batch(b); err != nil {
		return fmt.Errorf("retrieval: index %s: %w", id, err)
	}
	return nil
}

// reindexDocument does the same for the chunks of one document.
func (ix *Index) reindexDocument(id content.DocID) error {
	if err := ix.deleteWhere("doc", string(id)); err != nil {
		return err
	}
	b := ix.bleve.NewBatch()
	if err := ix.batchDocument(b, id); err != nil {
		return err
	}
	if err := ix.bleve.Batch(b); err != nil {
		return fmt.Errorf("retrieval: index %s: %w", id, err)
	}
	return nil
}

// Candidate generation keeps the question's most telling terms: a term
// found in most texts costs a long posting list and decides nothing.
const (
	maxQueryTerms   = 24
	commonTermShare = 0.2
)

// lexicalCandidates asks bleve for the best items in one field for an
// analysed question: item ids with their best BM25 score, best first. The
// query is a disjunction of the question's character pairs and words
// (single characters only for a question that has no pair), the most
// telling first, and for phrasings its syllable pairs, weaker. Caller
// holds mu (for the document frequencies).
func (ix *Index) lexicalCandidates(ctx context.Context, text, pinyin, field string, c *corpus, size int) ([]scored, error) {
	type term struct {
		field, t string
		boost    float64
		idf      float64
	}
	var terms []term
	seen := map[string]bool{}
	add := func(f, t string, boost float64, feature string) {
		if t == "" || seen[f+t] {
			return
		}
		seen[f+t] = true
		w := c.maxIDF()
		if id, ok := ix.vocab.ids[feature]; ok {
			if int(id) < len(c.df) && float64(c.df[id]) > commonTermShare*float64(c.n) && c.n > 20 {
				return
			}
			w = c.weight(id)
		}
		terms = append(terms, term{f, t, boost, w})
	}
	for _, t := range queryTerms(text) {
		prefix := "b:"
		switch {
		case utf8.RuneCountInString(t) == 1 && unicode.Is(unicode.Han, []rune(t)[0]):
			prefix = "u:"
		case !unicode.Is(unicode.Han, []rune(t)[0]):
			prefix = "w:"
		}
		add(field, t, 1, prefix+t)
		if field == fieldPhrasing {
			// FAQ answers are searched in the same query, weaker.
			add(fieldAnswer, t, 0.3, prefix+t)
		}
	}
	if field == fieldPhrasing {
		py := strings.Fields(pinyin)
		for i := 0; i+1 < len(py); i++ {
			add(fieldPinyin, py[i]+" "+py[i+1], 0.3, "p:"+py[i]+" "+py[i+1])
		}
	}
	if len(terms) == 0 {
		return nil, nil
	}
	sort.SliceStable(terms, func(i, j int) bool { return terms[i].idf*terms[i].boost > terms[j].idf*terms[j].boost })
	if len(terms) > maxQueryTerms {
		terms = terms[:maxQueryTerms]
	}
	qs := make([]query.Query, len(terms))
	for i, t := range terms {
		tq := bleve.NewTermQuery(t.t)
		tq.SetField(t.field)
		tq.SetBoost(t.boost)
		qs[i] = tq
	}
	res, err := ix.bleve.SearchInContext(ctx, bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(qs...), size, 0, false))
	if err != nil {
		return nil, fmt.Errorf("retrieval: lexical search: %w", err)
	}
	var out []scored
	seenItem := map[string]bool{}
	for _, h := range res.Hits {
		item := itemOf(h.ID) // no stored field is loaded: the item is in the document id
		if item == "" || seenItem[item] {
			continue
		}
		seenItem[item] = true
		out = append(out, scored{id: item, score: h.Score})
	}
	return out, nil
}

// queryTerms lists the index terms of an analysed text the way the
// analyzers make them, pairs and words; single Han characters only when
// the text has no pair.
func queryTerms(text string) []string {
	var pairs, singles []string
	for _, tok := range strings.Fields(text) {
		rs := []rune(tok)
		for i := 0; i < len(rs); {
			j := i
			han := unicode.Is(unicode.Han, rs[i])
			for j < len(rs) && unicode.Is(unicode.Han, rs[j]) == han {
				j++
			}
			run := rs[i:j]
			switch {
			case !han:
				pairs = append(pairs, string(run))
			case len(run) == 1:
				singles = append(singles, string(run))
			default:
				for k := 0; k+1 < len(run); k++ {
					pairs = append(pairs, string(run[k:k+2]))
				}
			}
			i = j
		}
	}
	if len(pairs) == 0 {
		return singles
	}
	return pairs
}

// itemOf returns the item of a lexical document id: "faq:ID:n" and
// "faq:ID:a" → ID, "doc:CHUNK" → CHUNK.
func itemOf(docID string) string {
	switch {
	case strings.HasPrefix(docID, "faq:"):
		rest := docID[len("faq:"):]
		if i := strings.LastIndexByte(rest, ':'); i > 0 {
			return rest[:i]
		}
	case strings.HasPrefix(docID, "doc:"):
		return docID[len("doc:"):]
	}
	return ""
}

type scored struct {
	id    string
	score float64
}
