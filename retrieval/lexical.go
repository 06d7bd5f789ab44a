package retrieval

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/shingle"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/whitespace"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"govlive/content"
)

// The lexical index holds one bleve document per FAQ phrasing (question
// and each similar phrasing apart, so that a question matches the closest
// phrasing, not a bag of all of them), one per FAQ answer, and one per
// document chunk. Texts are analysed by Analyzer before they reach bleve;
// bleve then splits them into CJK bigrams plus unigrams (so that a
// one-character question still matches) and pinyin syllable pairs.
const (
	lexKindPhrasing = "phrasing"
	lexKindAnswer   = "answer"
	lexKindChunk    = "chunk"
)

// lexDoc is the bleve document.
type lexDoc struct {
	Kind   string `json:"kind"`
	Item   string `json:"item"` // FAQ id or chunk id
	Text   string `json:"text"`
	Pinyin string `json:"pinyin"`
}

func indexMapping() mapping.IndexMapping {
	m := bleve.NewIndexMapping()
	m.ScoringModel = "bm25"
	must := func(err error) {
		if err != nil {
			// The mapping is static; an error here is a programming error
			// caught by every test that opens an index.
			panic(fmt.Sprintf("retrieval: index mapping: %v", err))
		}
	}
	must(m.AddCustomTokenFilter("govlive_bigram", map[string]any{
		"type": cjk.BigramName, "output_unigram": true,
	}))
	must(m.AddCustomAnalyzer("govlive_cjk", map[string]any{
		"type": custom.Name, "tokenizer": unicode.Name, "token_filters": []any{"govlive_bigram"},
	}))
	must(m.AddCustomTokenFilter("govlive_syllable_pairs", map[string]any{
		"type": shingle.Name, "min": 2.0, "max": 2.0, "output_original": false, "separator": " ",
	}))
	must(m.AddCustomAnalyzer("govlive_pinyin", map[string]any{
		"type": custom.Name, "tokenizer": whitespace.Name, "token_filters": []any{"govlive_syllable_pairs"},
	}))

	kw := bleve.NewTextFieldMapping()
	kw.Analyzer = keyword.Name
	kw.IncludeInAll, kw.IncludeTermVectors = false, false
	text := bleve.NewTextFieldMapping()
	text.Analyzer = "govlive_cjk"
	text.Store, text.IncludeInAll = false, false
	py := bleve.NewTextFieldMapping()
	py.Analyzer = "govlive_pinyin"
	py.Store, py.IncludeInAll = false, false

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("kind", kw)
	item := bleve.NewTextFieldMapping()
	item.Analyzer = keyword.Name
	item.Store = true
	doc.AddFieldMappingsAt("item", item)
	doc.AddFieldMappingsAt("text", text)
	doc.AddFieldMappingsAt("pinyin", py)
	m.DefaultMapping = doc
	return m
}

// indexAll writes every item of the in-memory model to the lexical
// index, replacing what it held (caller holds mu).
func (ix *Index) indexAll() error {
	// Delete everything first: documents of items that no longer exist.
	for {
		res, err := ix.bleve.Search(&bleve.SearchRequest{Query: bleve.NewMatchAllQuery(), Size: 1000, Fields: nil})
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
	for id := range ix.faqs {
		if err := ix.batchFAQ(b, id); err != nil {
			return err
		}
	}
	for id := range ix.docs {
		if err := ix.batchDocument(b, id); err != nil {
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
		if err := b.Index(key, lexDoc{Kind: lexKindPhrasing, Item: string(id), Text: p.text, Pinyin: ix.an.Pinyin(p.text)}); err != nil {
			return fmt.Errorf("retrieval: index %s: %w", key, err)
		}
	}
	key := fmt.Sprintf("faq:%s:a", id)
	if err := b.Index(key, lexDoc{Kind: lexKindAnswer, Item: string(id), Text: it.answer.text}); err != nil {
		return fmt.Errorf("retrieval: index %s: %w", key, err)
	}
	return nil
}

func (ix *Index) batchDocument(b *bleve.Batch, id content.DocID) error {
	for _, cid := range ix.docs[id] {
		c := ix.chunks[cid]
		if err := b.Index("doc:"+cid, lexDoc{Kind: lexKindChunk, Item: cid, Text: c.text.text, Pinyin: ix.an.Pinyin(c.text.text)}); err != nil {
			return fmt.Errorf("retrieval: index %s: %w", cid, err)
		}
	}
	return nil
}

// deleteItems removes the bleve documents whose item field matches one of
// items (caller holds mu).
func (ix *Index) deleteItems(prefix string, match func(item string) bool) error {
	q := bleve.NewPrefixQuery(prefix)
	q.SetField("item")
	for from := 0; ; {
		res, err := ix.bleve.Search(&bleve.SearchRequest{Query: q, Size: 500, From: from, Fields: []string{"item"}})
		if err != nil {
			return fmt.Errorf("retrieval: find old entries: %w", err)
		}
		if len(res.Hits) == 0 {
			return nil
		}
		b := ix.bleve.NewBatch()
		for _, h := range res.Hits {
			if item, _ := h.Fields["item"].(string); match(item) {
				b.Delete(h.ID)
			} else {
				from++
			}
		}
		if b.Size() == 0 {
			continue
		}
		if err := ix.bleve.Batch(b); err != nil {
			return fmt.Errorf("retrieval: delete old entries: %w", err)
		}
	}
}

// reindexFAQ replaces the lexical entries of one FAQ entry with those of
// its current version in the model (none if it is gone).
func (ix *Index) reindexFAQ(id content.FAQID) error {
	if err := ix.deleteItems(string(id), func(item string) bool { return item == string(id) }); err != nil {
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
	prefix := string(id) + "#"
	if err := ix.deleteItems(prefix, func(item string) bool { return len(item) > len(prefix) && item[:len(prefix)] == prefix }); err != nil {
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

// lexicalCandidates asks bleve for the best items of one kind for an
// analysed question: item ids with their best BM25 score, best first.
func (ix *Index) lexicalCandidates(text, pinyin, kind string, size int) ([]scored, error) {
	kq := bleve.NewTermQuery(kind)
	kq.SetField("kind")
	tq := bleve.NewMatchQuery(text)
	tq.SetField("text")
	var match query.Query = tq
	if pinyin != "" {
		pq := bleve.NewMatchQuery(pinyin)
		pq.SetField("pinyin")
		pq.SetBoost(0.3)
		match = bleve.NewDisjunctionQuery(tq, pq)
	}
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(kq, match), size, 0, false)
	req.Fields = []string{"item"}
	res, err := ix.bleve.Search(req)
	if err != nil {
		return nil, fmt.Errorf("retrieval: lexical search: %w", err)
	}
	var out []scored
	seen := map[string]bool{}
	for _, h := range res.Hits {
		item, _ := h.Fields["item"].(string)
		if item == "" || seen[item] {
			continue
		}
		seen[item] = true
		out = append(out, scored{id: item, score: h.Score})
	}
	return out, nil
}

type scored struct {
	id    string
	score float64
}
