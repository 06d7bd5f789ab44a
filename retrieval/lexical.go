package retrieval

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/shingle"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/whitespace"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bolt "go.etcd.io/bbolt"

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
		// Only the terms are used: no stored text, no term vectors, no doc
		// values (nothing sorts or facets on a field), nothing in _all.
		f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = false, false, false, false
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("faq", field(keyword.Name))
	doc.AddFieldMappingsAt("doc", field(keyword.Name))
	doc.AddFieldMappingsAt(fieldPhrasing, field("govlive_cjk"))
	doc.AddFieldMappingsAt(fieldAnswer, field("govlive_cjk"))
	doc.AddFieldMappingsAt(fieldPassage, field("govlive_cjk_pairs"))
	doc.AddFieldMappingsAt(fieldPinyin, field("govlive_pinyin"))
	all := bleve.NewDocumentDisabledMapping()
	doc.AddSubDocumentMapping("_all", all)
	m.DefaultMapping = doc
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("retrieval: index mapping: %w", err)
	}
	return m, nil
}

// lexicalPath is the directory of the lexical index; a rebuild writes
// beside it (".new") and swaps it in.
func (ix *Index) lexicalPath() string { return filepath.Join(ix.cfg.Dir, "lexical.bleve") }

// lockWait is how long opening the lexical index waits for another
// process to let go of it before giving up with ErrLocked.
const lockWait = 2 * time.Second

// openLexical opens the lexical index as it was left, or creates an empty
// one when there is none or it is outdated or unreadable (CatchUp then
// builds it: its lexicon key is unset).
func (ix *Index) openLexical() (bleve.Index, error) {
	if ix.cfg.Dir == "" {
		return newLexical("")
	}
	path := ix.lexicalPath()
	idx, err := bleve.OpenUsing(path, map[string]any{"bolt_timeout": lockWait.String()})
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("retrieval: open %s: %w", path, ErrLocked)
	case err == nil:
		format, ferr := idx.GetInternal(keyFormat)
		if ferr == nil && string(format) == indexFormat {
			ix.removeLeftovers()
			return idx, nil
		}
		ix.log.Info("lexical index is outdated, rebuilding", "path", path)
		if err := idx.Close(); err != nil {
			return nil, fmt.Errorf("retrieval: close outdated index: %w", err)
		}
	case !errors.Is(err, bleve.ErrorIndexPathDoesNotExist) && !errors.Is(err, bleve.ErrorIndexMetaMissing):
		ix.log.Warn("lexical index unreadable, rebuilding", "path", path, "err", err)
	}
	ix.removeLeftovers()
	if err := os.RemoveAll(path); err != nil {
		return nil, fmt.Errorf("retrieval: remove outdated index: %w", err)
	}
	if err := os.MkdirAll(ix.cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("retrieval: %w", err)
	}
	return newLexical(path)
}

// removeLeftovers removes what a rebuild interrupted by a crash left
// beside the index (only once this process holds the index).
func (ix *Index) removeLeftovers() {
	for _, p := range []string{ix.lexicalPath() + ".new", ix.lexicalPath() + ".old"} {
		if err := os.RemoveAll(p); err != nil {
			ix.log.Warn("remove leftover index", "path", p, "err", err)
		}
	}
}

// newLexical creates an empty lexical index at path ("" in memory) marked
// with the current format.
func newLexical(path string) (bleve.Index, error) {
	m, err := indexMapping()
	if err != nil {
		return nil, err
	}
	var idx bleve.Index
	if path == "" {
		idx, err = bleve.NewUsing("", m, bleve.Config.DefaultIndexType, bleve.Config.DefaultMemKVStore, nil)
	} else {
		idx, err = bleve.New(path, m)
	}
	if err != nil {
		return nil, fmt.Errorf("retrieval: create index %s: %w", path, err)
	}
	if err := idx.SetInternal(keyFormat, []byte(indexFormat)); err != nil {
		return nil, errors.Join(fmt.Errorf("retrieval: %w", err), idx.Close())
	}
	return idx, nil
}

// rebuildLexical builds a new lexical index from model m beside the
// current one, without holding up search, and swaps both m and the new
// index in at once (caller holds syncMu). A crash before the swap leaves
// the old index as it was; one during the swap leaves no index, rebuilt on
// the next start.
func (ix *Index) rebuildLexical(ctx context.Context, m *model) error {
	start := time.Now()
	ix.progress.done.Store(0)
	ix.progress.total.Store(int64(len(m.faqs) + len(m.docs)))
	path := ""
	if ix.cfg.Dir != "" {
		path = ix.lexicalPath() + ".new"
		if err := os.RemoveAll(path); err != nil {
			return fmt.Errorf("retrieval: %w", err)
		}
	}
	idx, err := ix.buildLexical(ctx, path, m)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		err = errors.Join(err, idx.Close())
		if path != "" {
			err = errors.Join(err, os.RemoveAll(path))
		}
		return err
	}
	if err := idx.SetInternal(keyLexicon, []byte(m.lexHash)); err != nil {
		return fail(fmt.Errorf("retrieval: %w", err))
	}
	if err := idx.SetInternal(keyRev, []byte(strconv.FormatInt(m.rev, 10))); err != nil {
		return fail(fmt.Errorf("retrieval: %w", err))
	}
	if path == "" {
		ix.mu.Lock()
		old := ix.bleve
		ix.bleve, ix.model = idx, m
		ix.mu.Unlock()
		return old.Close()
	}
	// bleve keeps writing under the path it was opened with: close the new
	// index, move it into place and open it there.
	if err := idx.Close(); err != nil {
		return fail(fmt.Errorf("retrieval: close new index: %w", err))
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	cur := ix.lexicalPath()
	if err := ix.bleve.Close(); err != nil {
		ix.log.Warn("close the replaced lexical index", "err", err)
	}
	err = os.Rename(cur, cur+".old")
	if err == nil || errors.Is(err, os.ErrNotExist) {
		err = os.Rename(path, cur)
	}
	var opened bleve.Index
	if err == nil {
		opened, err = bleve.Open(cur)
	}
	if err != nil {
		// Leave search a usable (empty) index; the next start rebuilds.
		ix.bleve, _ = newLexical("")
		ix.caughtUp.Store(false)
		return fmt.Errorf("retrieval: swap in the new lexical index: %w", err)
	}
	ix.bleve, ix.model = opened, m
	if err := os.RemoveAll(cur + ".old"); err != nil {
		ix.log.Warn("remove the replaced lexical index", "err", err)
	}
	ix.log.Info("lexical index built", "faq", len(m.faqs), "documents", len(m.docs), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// buildLexical writes every item of model m into a new lexical index at
// path ("" in memory) and returns it open. On disk it uses bleve's offline
// builder, which writes segments straight to files and merges them once at
// the end, instead of introducing batch after batch into a live index.
func (ix *Index) buildLexical(ctx context.Context, path string, m *model) (bleve.Index, error) {
	if path == "" || len(m.faqs)+len(m.docs) == 0 {
		// (bleve's builder cannot close without a document)
		idx, err := newLexical(path)
		if err != nil {
			return nil, err
		}
		if err := ix.writeAll(ctx, idx, m); err != nil {
			return nil, errors.Join(err, idx.Close())
		}
		return idx, nil
	}
	mapping, err := indexMapping()
	if err != nil {
		return nil, err
	}
	b, err := bleve.NewBuilder(path, mapping, map[string]any{"batchSize": float64(batchOps)})
	if err != nil {
		return nil, fmt.Errorf("retrieval: build index %s: %w", path, err)
	}
	n := 0
	fail := func(err error) (bleve.Index, error) {
		if n > 0 { // (nor with none)
			err = errors.Join(err, b.Close())
		}
		return nil, errors.Join(err, os.RemoveAll(path))
	}
	add := func(key string, d lexDoc) error {
		if n%batchOps == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := b.Index(key, d); err != nil {
			return fmt.Errorf("retrieval: index %s: %w", key, err)
		}
		n++
		return nil
	}
	for id := range m.faqs {
		if err := m.faqDocs(id, add); err != nil {
			return fail(err)
		}
		ix.progress.done.Add(1)
	}
	for id := range m.docs {
		if err := m.docDocs(id, add); err != nil {
			return fail(err)
		}
		ix.progress.done.Add(1)
	}
	if err := b.Close(); err != nil {
		return nil, errors.Join(fmt.Errorf("retrieval: build index %s: %w", path, err), os.RemoveAll(path))
	}
	idx, err := bleve.Open(path)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("retrieval: open the new index: %w", err), os.RemoveAll(path))
	}
	if err := idx.SetInternal(keyFormat, []byte(indexFormat)); err != nil {
		return nil, errors.Join(fmt.Errorf("retrieval: %w", err), idx.Close(), os.RemoveAll(path))
	}
	return idx, nil
}

// batchOps is how many document operations go into one bleve batch.
const batchOps = 2000

// writeAll writes every item of model m into the empty index idx.
func (ix *Index) writeAll(ctx context.Context, idx bleve.Index, m *model) error {
	w := &batchWriter{idx: idx, b: idx.NewBatch(), ctx: ctx}
	for id := range m.faqs {
		if err := w.faq(m, id); err != nil {
			return err
		}
		ix.progress.done.Add(1)
	}
	for id := range m.docs {
		if err := w.document(m, id); err != nil {
			return err
		}
		ix.progress.done.Add(1)
	}
	return w.flush(true)
}

// replaceItems replaces the lexical documents of the given items in idx
// with those of their version in model m (none for an item m lacks), in
// batches: the old documents of each item are found with a term query,
// deleted and the new ones indexed in the same batch.
func (ix *Index) replaceItems(ctx context.Context, idx bleve.Index, m *model, faqs map[content.FAQID]bool, docs map[content.DocID]bool) error {
	w := &batchWriter{idx: idx, b: idx.NewBatch(), ctx: ctx}
	for id := range faqs {
		if err := w.deleteWhere("faq", string(id)); err != nil {
			return err
		}
		if err := w.faq(m, id); err != nil {
			return err
		}
		ix.progress.done.Add(1)
	}
	for id := range docs {
		if err := w.deleteWhere("doc", string(id)); err != nil {
			return err
		}
		if err := w.document(m, id); err != nil {
			return err
		}
		ix.progress.done.Add(1)
	}
	return w.flush(true)
}

// batchWriter fills bleve batches and commits each once it is full,
// stopping when ctx is done.
type batchWriter struct {
	idx bleve.Index
	b   *bleve.Batch
	ctx context.Context
}

func (w *batchWriter) flush(final bool) error {
	if !final && w.b.Size() < batchOps {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.b.Size() == 0 {
		return nil
	}
	if err := w.idx.Batch(w.b); err != nil {
		return fmt.Errorf("retrieval: index: %w", err)
	}
	// A new batch, not Reset: scorch's Batch returns while the goroutine
	// that queued the documents for analysis may still be finishing its
	// range over the batch's map, which Reset would write to (a data race
	// the race detector shows under repeated syncs).
	w.b = w.idx.NewBatch()
	return nil
}

func (w *batchWriter) index(key string, d lexDoc) error {
	if err := w.b.Index(key, d); err != nil {
		return fmt.Errorf("retrieval: index %s: %w", key, err)
	}
	return nil
}

func (w *batchWriter) faq(m *model, id content.FAQID) error {
	if err := m.faqDocs(id, w.index); err != nil {
		return err
	}
	return w.flush(false)
}

func (w *batchWriter) document(m *model, id content.DocID) error {
	if err := m.docDocs(id, w.index); err != nil {
		return err
	}
	return w.flush(false)
}

// faqDocs hands the lexical documents of a FAQ entry of the model to emit:
// one per phrasing ("faq:ID:n") and one for the answer ("faq:ID:a"); none
// for an entry the model lacks.
func (m *model) faqDocs(id content.FAQID, emit func(key string, d lexDoc) error) error {
	it := m.faqs[id]
	if it == nil {
		return nil
	}
	for n, p := range it.phrasings {
		if err := emit(fmt.Sprintf("faq:%s:%d", id, n), lexDoc{FAQ: string(id), Phrasing: p.text, Pinyin: m.an.Pinyin(p.text)}); err != nil {
			return err
		}
	}
	return emit(fmt.Sprintf("faq:%s:a", id), lexDoc{FAQ: string(id), Answer: it.answer.text})
}

// docDocs hands the lexical documents of a document's chunks to emit
// ("doc:CHUNK").
func (m *model) docDocs(id content.DocID, emit func(key string, d lexDoc) error) error {
	for _, cid := range m.docs[id] {
		if err := emit("doc:"+cid, lexDoc{Doc: string(id), Passage: m.chunks[cid].text.text}); err != nil {
			return err
		}
	}
	return nil
}

// deleteWhere adds to the batch the deletion of the documents whose
// keyword field equals value. A document the same batch indexes again is
// indexed, not deleted: a batch keeps the last operation on an id.
func (w *batchWriter) deleteWhere(field, value string) error {
	q := bleve.NewTermQuery(value)
	q.SetField(field)
	res, err := w.idx.SearchInContext(w.ctx, &bleve.SearchRequest{Query: q, Size: 10000})
	if err != nil {
		return fmt.Errorf("retrieval: find old entries: %w", err)
	}
	for _, h := range res.Hits {
		w.b.Delete(h.ID)
	}
	return nil
}

// Candidate generation keeps the question's most telling terms: a term
// found in most texts costs a long posting list and decides nothing.
const (
	maxQueryTerms   = 24
	commonTermShare = 0.2
)

// A question's disjunction has up to maxQueryTerms clauses. bleve runs a
// disjunction of more than searcher.DisjunctionHeapTakeover clauses (10 by
// default; a setting bleve leaves to the application) with a heap of its
// clauses, fewer with a slice; at this size the slice is the faster (a
// fifth less time for a question of 20 clauses or more, on 11,000
// documents). Both find the same documents with the same scores, up to
// the order in which a document's clause scores are summed.
func init() {
	searcher.DisjunctionHeapTakeover = max(searcher.DisjunctionHeapTakeover, maxQueryTerms)
}

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

// compact merges the segments a bulk build leaves into one: a query then
// opens one term reader per term instead of one per term and segment.
// A failure only costs speed, so it is logged.
func (ix *Index) compact(ctx context.Context, idx bleve.Index) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	adv, err := idx.Advanced()
	if err != nil {
		return
	}
	if s, ok := adv.(*scorch.Scorch); ok {
		if err := s.ForceMerge(ctx, nil); err != nil && ctx.Err() == nil {
			ix.log.Warn("lexical index: merge segments", "err", err)
		}
	}
}
