package retrieval

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"

	"govlive/content"
)

// Source is where the index reads content: the content store.
type Source interface {
	FAQ(ctx context.Context, id content.FAQID) (content.FAQEntry, error)
	Document(ctx context.Context, id content.DocID) (content.Document, error)
	ListFAQ(ctx context.Context, f content.FAQFilter, p content.Page) ([]content.FAQEntry, int, error)
	ListDocuments(ctx context.Context, f content.DocumentFilter, p content.Page) ([]content.Document, int, error)
	ListSessions(ctx context.Context, f content.SessionFilter, p content.Page) ([]content.Session, int, error)
	Lexicon(ctx context.Context) (content.Lexicon, error)
	RevisionsSince(ctx context.Context, after int64, limit int) ([]content.Revision, error)
}

var _ Source = (*content.Store)(nil)

// Config is what an Index needs.
type Config struct {
	// Dir holds the lexical index (and the vectors of the embedded vector
	// store); "" keeps everything in memory.
	Dir string
	// Source is the content to index.
	Source Source
	// Normalizer is shared with whoever else normalises text (the bot).
	Normalizer *Normalizer
	// Embedder and Vectors enable hybrid search; both nil means lexical only.
	Embedder Embedder
	Vectors  VectorStore
	// Weights tune the scoring; the zero value means DefaultWeights.
	Weights Weights
	// ChunkChars is the longest document chunk; 0 means the chunker's default.
	ChunkChars int
	Log        *slog.Logger
	// Now is the clock (for the vector back-off); nil means time.Now.
	Now func() time.Time
}

// Weights tune how lexical evidence becomes a score.
type Weights struct {
	Beta         float64 // F-score beta: >1 favours covering the question
	UnionWeight  float64 // share of a FAQ score from all its phrasings together
	AnswerWeight float64 // share of a FAQ score taken from its answer text
	ScopeBoost   float64 // added to the confidence of items linked from the current segment
	Candidates   int     // hits taken from the lexical index before rescoring
}

// DefaultWeights are chosen on the development question set.
var DefaultWeights = Weights{Beta: 0.7, UnionWeight: 0.5, AnswerWeight: 0.1, ScopeBoost: 0.05, Candidates: 60}

// Index is the knowledge index: FAQ entries and document chunks, searchable
// lexically (and by vector when an embedder is configured), kept current
// with the content store through its revision feed.
type Index struct {
	cfg       Config
	log       *slog.Logger
	bleve     bleve.Index
	closeOnce sync.Once

	vecMu    sync.Mutex   // one vector sync at a time
	down     atomic.Int64 // Unix nanoseconds until which vector search is skipped after a failure
	vecStale atomic.Bool  // the last vector sync failed: retry on the next SyncAll
	vstate   *vectorState // what the vector store holds, guarded by vecMu

	mu        sync.RWMutex // guards everything below
	an        *Analyzer
	vocab     *vocab
	faqs      map[content.FAQID]*faqItem
	chunks    map[string]*chunkItem // by chunk id "doc-id#seq"
	docs      map[content.DocID][]string
	phrases   *corpus // over FAQ entries (the union of their phrasings)
	passages  *corpus // over document chunks
	links     map[content.SessionID][]segmentLinks
	termDF    map[string]int // domain term → FAQ entries whose phrasings name it
	titleText string         // the documents' titles, analysed
	rev       int64          // last revision applied
}

type faqItem struct {
	entry     content.FAQEntry
	phrasings []analysed // question first, then similar phrasings
	union     analysed   // the features of all phrasings together
	answer    analysed
}

type chunkItem struct {
	chunk Chunk
	text  analysed
}

// analysed is a text in analysed form with its feature vector and that
// vector's weighted size (refreshed whenever document frequencies change).
type analysed struct {
	text string
	v    fvec
	mass float64
}

type segmentLinks struct {
	faq  map[content.FAQID]bool
	docs map[content.DocID]bool
}

// indexFormat changes when the analysis or the bleve mapping changes, so
// that an index written by an older binary is rebuilt, not misread.
const indexFormat = "govlive-lexical-4"

// Open builds the in-memory part of the index from the source, and opens
// (or creates, or rebuilds if outdated) the lexical index in cfg.Dir.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	if cfg.Source == nil || cfg.Normalizer == nil {
		return nil, errors.New("retrieval: Config needs Source and Normalizer")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Weights == (Weights{}) {
		cfg.Weights = DefaultWeights
	}
	ix := &Index{cfg: cfg, log: cfg.Log}
	if err := ix.openBleve(); err != nil {
		return nil, err
	}
	if err := ix.rebuild(ctx); err != nil {
		return nil, errors.Join(err, ix.bleve.Close())
	}
	if ix.cfg.Embedder == nil || ix.cfg.Vectors == nil {
		ix.log.Info("no embedder configured: search is lexical only")
	} else if err := ix.syncVectors(ctx); err != nil {
		// Logged by syncVectors. Back off as a failed search would, so
		// that the first questions do not wait on a dead endpoint again.
		ix.down.Store(ix.cfg.Now().Add(vectorBackoff).UnixNano())
	}
	return ix, nil
}

// Close closes the lexical index. Closing twice is harmless.
func (ix *Index) Close() error {
	var err error
	ix.closeOnce.Do(func() {
		if cerr := ix.bleve.Close(); cerr != nil {
			err = fmt.Errorf("retrieval: close index: %w", cerr)
		}
	})
	return err
}

func (ix *Index) openBleve() error {
	m, err := indexMapping()
	if err != nil {
		return err
	}
	if ix.cfg.Dir == "" {
		idx, err := bleve.NewUsing("", m, bleve.Config.DefaultIndexType, bleve.Config.DefaultMemKVStore, nil)
		if err != nil {
			return fmt.Errorf("retrieval: create in-memory index: %w", err)
		}
		ix.bleve = idx
		return nil
	}
	path := filepath.Join(ix.cfg.Dir, "lexical.bleve")
	idx, err := bleve.Open(path)
	if err == nil {
		format, ferr := idx.GetInternal([]byte("format"))
		if ferr == nil && string(format) == indexFormat {
			ix.bleve = idx
			return nil
		}
		ix.log.Info("lexical index is outdated, rebuilding", "path", path)
		if err := idx.Close(); err != nil {
			return fmt.Errorf("retrieval: close outdated index: %w", err)
		}
	}
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("retrieval: remove outdated index: %w", err)
	}
	if err := os.MkdirAll(ix.cfg.Dir, 0o750); err != nil {
		return fmt.Errorf("retrieval: %w", err)
	}
	idx, err = bleve.New(path, m)
	if err != nil {
		return fmt.Errorf("retrieval: create index %s: %w", path, err)
	}
	if err := idx.SetInternal([]byte("format"), []byte(indexFormat)); err != nil {
		return errors.Join(fmt.Errorf("retrieval: %w", err), idx.Close())
	}
	ix.bleve = idx
	return nil
}

// rebuild reads all content and lexicon from the source and makes the
// in-memory model. The lexical index is caught up from the revision it
// last applied, or rebuilt when the lexicon (the analysis) changed.
func (ix *Index) rebuild(ctx context.Context) error {
	src := ix.cfg.Source
	lx, err := src.Lexicon(ctx)
	if err != nil {
		return fmt.Errorf("retrieval: lexicon: %w", err)
	}
	revs, err := lastRevision(ctx, src)
	if err != nil {
		return err
	}
	faqs, _, err := src.ListFAQ(ctx, content.FAQFilter{Status: content.StatusPublished}, content.Page{})
	if err != nil {
		return fmt.Errorf("retrieval: %w", err)
	}
	docs, _, err := src.ListDocuments(ctx, content.DocumentFilter{}, content.Page{})
	if err != nil {
		return fmt.Errorf("retrieval: %w", err)
	}
	an := NewAnalyzer(ix.cfg.Normalizer, lx.Synonyms)

	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.an = an
	ix.vocab = newVocab()
	ix.faqs = map[content.FAQID]*faqItem{}
	ix.chunks = map[string]*chunkItem{}
	ix.docs = map[content.DocID][]string{}
	ix.phrases, ix.passages = &corpus{}, &corpus{}
	for _, e := range faqs {
		ix.addFAQ(e)
	}
	for _, d := range docs {
		ix.addDocument(d)
	}
	ix.refresh()
	if err := ix.loadLinks(ctx); err != nil {
		return err
	}

	// The lexical index: reuse it if it was built with this lexicon and
	// only lags behind by some revisions; otherwise index everything.
	// The analysis depends on the lexicon and on the chunk size: either
	// changing means indexing everything again.
	lexHash := fmt.Sprintf("%x-%d", hashLexicon(lx.Synonyms), ix.cfg.ChunkChars)
	stored, _ := ix.bleve.GetInternal([]byte("lexicon"))
	revB, _ := ix.bleve.GetInternal([]byte("rev"))
	applied, _ := strconv.ParseInt(string(revB), 10, 64)
	// Reuse only an index that this store's revisions can bring up to
	// date: one that applied a revision the store never had was built from
	// another database.
	if string(stored) == lexHash && revB != nil && applied <= revs {
		changed, err := changedSince(ctx, src, applied)
		if err != nil {
			return err
		}
		for id := range changed.faq {
			if err := ix.reindexFAQ(id); err != nil {
				return err
			}
		}
		for id := range changed.docs {
			if err := ix.reindexDocument(id); err != nil {
				return err
			}
		}
	} else {
		if err := ix.indexAll(); err != nil {
			return err
		}
		ix.compact(ctx)
		if err := ix.bleve.SetInternal([]byte("lexicon"), []byte(lexHash)); err != nil {
			return fmt.Errorf("retrieval: %w", err)
		}
	}
	ix.rev = revs
	return ix.bleve.SetInternal([]byte("rev"), []byte(strconv.FormatInt(revs, 10)))
}

func lastRevision(ctx context.Context, src Source) (int64, error) {
	var last int64
	for {
		revs, err := src.RevisionsSince(ctx, last, 1000)
		if err != nil {
			return 0, fmt.Errorf("retrieval: revisions: %w", err)
		}
		if len(revs) == 0 {
			return last, nil
		}
		last = revs[len(revs)-1].ID
	}
}

type changes struct {
	faq      map[content.FAQID]bool
	docs     map[content.DocID]bool
	sessions bool
	lexicon  bool
	last     int64
	count    int // revisions seen
}

func changedSince(ctx context.Context, src Source, after int64) (changes, error) {
	c := changes{faq: map[content.FAQID]bool{}, docs: map[content.DocID]bool{}, last: after}
	for {
		revs, err := src.RevisionsSince(ctx, c.last, 1000)
		if err != nil {
			return c, fmt.Errorf("retrieval: revisions: %w", err)
		}
		if len(revs) == 0 {
			return c, nil
		}
		for _, r := range revs {
			switch r.Kind {
			case content.KindFAQ:
				c.faq[content.FAQID(r.ItemID)] = true
			case content.KindDocument:
				c.docs[content.DocID(r.ItemID)] = true
			case content.KindSession:
				c.sessions = true
			case content.KindLexicon:
				c.lexicon = true
			}
			c.last = r.ID
			c.count++
		}
	}
}

// Sync applies the content changes recorded since the last sync: changed
// FAQ entries and documents are re-indexed one by one; a changed lexicon
// re-analyses everything. It returns how many revisions it applied.
func (ix *Index) Sync(ctx context.Context) (int, error) {
	ix.mu.RLock()
	after := ix.rev
	ix.mu.RUnlock()
	c, err := changedSince(ctx, ix.cfg.Source, after)
	if err != nil {
		return 0, err
	}
	if c.last == after {
		return 0, nil
	}
	if c.lexicon {
		if err := ix.rebuild(ctx); err != nil {
			return 0, err
		}
		return c.count, nil // SyncAll brings the vectors along
	}
	// Read the changed items before taking the lock.
	faqs := map[content.FAQID]*content.FAQEntry{}
	for id := range c.faq {
		e, err := ix.cfg.Source.FAQ(ctx, id)
		switch {
		case errors.Is(err, content.ErrNotFound):
			faqs[id] = nil
		case err != nil:
			return 0, fmt.Errorf("retrieval: sync: %w", err)
		default:
			if e.Status != content.StatusPublished {
				faqs[id] = nil
			} else {
				faqs[id] = &e
			}
		}
	}
	docs := map[content.DocID]*content.Document{}
	for id := range c.docs {
		d, err := ix.cfg.Source.Document(ctx, id)
		switch {
		case errors.Is(err, content.ErrNotFound):
			docs[id] = nil
		case err != nil:
			return 0, fmt.Errorf("retrieval: sync: %w", err)
		default:
			docs[id] = &d
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	// Whatever happens below, the weights must match the model (an item
	// added before a failure would otherwise weigh nothing).
	defer ix.refresh()
	for id, e := range faqs {
		ix.removeFAQ(id)
		if e != nil {
			ix.addFAQ(*e)
		}
		if err := ix.reindexFAQ(id); err != nil {
			return 0, err
		}
	}
	for id, d := range docs {
		ix.removeDocument(id)
		if d != nil {
			ix.addDocument(*d)
		}
		if err := ix.reindexDocument(id); err != nil {
			return 0, err
		}
	}
	if c.sessions {
		if err := ix.loadLinks(ctx); err != nil {
			return 0, err
		}
	}
	ix.rev = c.last
	if err := ix.bleve.SetInternal([]byte("rev"), []byte(strconv.FormatInt(c.last, 10))); err != nil {
		return 0, fmt.Errorf("retrieval: %w", err)
	}
	return c.count, nil
}

// SyncAll applies content changes (Sync) and then brings the vectors up
// to date — also when nothing changed but an earlier vector sync failed;
// the vector step runs without holding the index lock.
func (ix *Index) SyncAll(ctx context.Context) (int, error) {
	n, err := ix.Sync(ctx)
	if err != nil {
		return n, err
	}
	if n > 0 || ix.vecStale.Load() {
		return n, ix.syncVectors(ctx)
	}
	return 0, nil
}

// analyse turns a text into its analysed form, numbering its features
// (caller holds mu for writing).
func (ix *Index) analyse(s string) analysed {
	t := ix.an.Text(s)
	return analysed{text: t, v: ix.vocab.vector(ix.an.features(t))}
}

// addFAQ adds an entry to the in-memory model (caller holds mu).
func (ix *Index) addFAQ(e content.FAQEntry) {
	it := &faqItem{entry: e}
	union := features{}
	for _, p := range append([]string{e.Question}, e.Similar...) {
		t := ix.an.Text(p)
		f := ix.an.features(t)
		it.phrasings = append(it.phrasings, analysed{text: t, v: ix.vocab.vector(f)})
		for k, w := range f {
			union.set(k, w)
		}
	}
	it.union = analysed{v: ix.vocab.vector(union)}
	// Document frequency counts entries, not phrasings: a word shared by
	// the phrasings of one entry is what tells it apart.
	ix.phrases.add(it.union.v)
	it.answer = ix.analyse(e.Answer)
	ix.faqs[e.ID] = it
}

func (ix *Index) removeFAQ(id content.FAQID) {
	it, ok := ix.faqs[id]
	if !ok {
		return
	}
	ix.phrases.remove(it.union.v)
	delete(ix.faqs, id)
}

// refresh recomputes document frequencies' weights and every item's
// weighted size after the model changed (caller holds mu).
func (ix *Index) refresh() {
	n := len(ix.vocab.ids)
	ix.phrases.refresh(n)
	ix.passages.refresh(n)
	for _, it := range ix.faqs {
		for i := range it.phrasings {
			it.phrasings[i].mass = ix.phrases.mass(it.phrasings[i].v)
		}
		it.union.mass = ix.phrases.mass(it.union.v)
		it.answer.mass = ix.phrases.mass(it.answer.v)
	}
	for _, c := range ix.chunks {
		c.text.mass = ix.passages.mass(c.text.v)
	}
	// Matters the documents' titles name (预约, 投诉, 食品经营许可): a
	// two-character term counts as the center's own matter only if a title
	// names it; question words (哪里, 多久) never do.
	var titles strings.Builder
	for _, c := range ix.chunks {
		titles.WriteString(ix.an.Text(c.chunk.Title))
		titles.WriteByte(' ')
	}
	ix.titleText = titles.String()
	ix.termDF = map[string]int{}
	for _, it := range ix.faqs {
		seen := map[string]bool{}
		for _, p := range it.phrasings {
			for _, t := range ix.an.termsIn(p.text) {
				if !seen[t] {
					seen[t] = true
					ix.termDF[t]++
				}
			}
		}
	}
}

// distinctiveShare is the largest share of FAQ entries a lexicon term may
// be named by and still count as a sign that a question is about the
// center's matters: 注销 or 同城通办 do, 什么 or 多久 do not.
const distinctiveShare = 0.25

// distinctive keeps the terms that few FAQ entries name (caller holds mu).
func (ix *Index) distinctive(terms []string) []string {
	var out []string
	for _, t := range terms {
		if utf8.RuneCountInString(t) < 3 && !strings.Contains(ix.titleText, t) {
			continue
		}
		if float64(ix.termDF[t]) <= distinctiveShare*float64(len(ix.faqs)) {
			out = append(out, t)
		}
	}
	return out
}

func (ix *Index) addDocument(d content.Document) {
	var ids []string
	for _, c := range ChunkDocument(d, ix.cfg.ChunkChars) {
		id := chunkID(c)
		a := ix.analyse(c.Title + " " + strings.Join(c.Path, " ") + " " + c.Text)
		ix.chunks[id] = &chunkItem{chunk: c, text: a}
		ix.passages.add(a.v)
		ids = append(ids, id)
	}
	ix.docs[d.ID] = ids
}

func (ix *Index) removeDocument(id content.DocID) {
	for _, cid := range ix.docs[id] {
		if c, ok := ix.chunks[cid]; ok {
			ix.passages.remove(c.text.v)
			delete(ix.chunks, cid)
		}
	}
	delete(ix.docs, id)
}

func chunkID(c Chunk) string { return fmt.Sprintf("%s#%d", c.DocID, c.Seq) }

func (ix *Index) loadLinks(ctx context.Context) error {
	sessions, _, err := ix.cfg.Source.ListSessions(ctx, content.SessionFilter{}, content.Page{})
	if err != nil {
		return fmt.Errorf("retrieval: sessions: %w", err)
	}
	links := map[content.SessionID][]segmentLinks{}
	for _, s := range sessions {
		segs := make([]segmentLinks, len(s.Segments))
		for i, g := range s.Segments {
			segs[i] = segmentLinks{faq: map[content.FAQID]bool{}, docs: map[content.DocID]bool{}}
			for _, f := range g.FAQ {
				segs[i].faq[f] = true
			}
			for _, d := range g.Docs {
				segs[i].docs[d] = true
			}
		}
		links[s.ID] = segs
	}
	ix.links = links
	return nil
}

// hashLexicon fingerprints the synonym groups: the analysis depends on them.
func hashLexicon(groups [][]string) uint64 {
	h := fnv.New64a()
	for _, g := range groups {
		h.Write([]byte(strings.Join(g, "|") + "\n"))
	}
	return h.Sum64()
}

// compact merges the segments a bulk build leaves into one: a query then
// opens one term reader per term instead of one per term and segment.
// A failure only costs speed, so it is logged.
func (ix *Index) compact(ctx context.Context) {
	if ix.cfg.Dir == "" {
		return // an in-memory index runs no merger to ask
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	adv, err := ix.bleve.Advanced()
	if err != nil {
		return
	}
	if s, ok := adv.(*scorch.Scorch); ok {
		if err := s.ForceMerge(ctx, nil); err != nil {
			ix.log.Warn("lexical index: merge segments", "err", err)
		}
	}
}

// Stats reports what the index holds.
type Stats struct {
	FAQ       int   `json:"faq"`
	Phrasings int   `json:"phrasings"`
	Documents int   `json:"documents"`
	Chunks    int   `json:"chunks"`
	Revision  int64 `json:"revision"`
	Hybrid    bool  `json:"hybrid"`
}

// Stats reports what the index holds.
func (ix *Index) Stats() Stats {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := Stats{FAQ: len(ix.faqs), Documents: len(ix.docs), Chunks: len(ix.chunks), Revision: ix.rev,
		Hybrid: ix.cfg.Embedder != nil && ix.cfg.Vectors != nil}
	for _, it := range ix.faqs {
		st.Phrasings += len(it.phrasings)
	}
	return st
}

// Chunks returns the chunks of a document, in order.
func (ix *Index) Chunks(id content.DocID) []Chunk {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []Chunk
	for _, cid := range ix.docs[id] {
		out = append(out, ix.chunks[cid].chunk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}
