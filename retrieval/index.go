package retrieval

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"

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
//
// Two parts: the in-memory model (analysed texts and their weights, what
// search scores with) and the lexical index on disk (bleve, which proposes
// candidates). Load builds the model and opens the lexical index as it was
// left; CatchUp brings the lexical index up to the model — the changed
// items in batches, or a whole new index built beside the old one and
// swapped in — while search goes on answering from the old one. Sync and
// CatchUp are the only writers; one runs at a time.
type Index struct {
	cfg       Config
	log       *slog.Logger
	closeOnce sync.Once

	syncMu sync.Mutex // one Sync or CatchUp at a time

	vecMu    sync.Mutex   // one vector sync at a time
	down     atomic.Int64 // Unix nanoseconds until which vector search is skipped after a failure
	vecStale atomic.Bool  // the last vector sync failed: retry on the next SyncAll
	vstate   *vectorState // what the vector store holds, guarded by vecMu

	caughtUp atomic.Bool // the lexical index has applied the model's revision
	progress progress

	mu     sync.RWMutex // guards the model and the lexical index handle
	*model              // swapped whole under mu, or changed item by item under mu
	bleve  bleve.Index
}

// progress counts the items a catch-up has written of those it has to.
type progress struct{ done, total atomic.Int64 }

// indexFormat changes when the analysis or the bleve mapping changes, so
// that an index written by an older binary is rebuilt, not misread.
const indexFormat = "govlive-lexical-5"

// Keys of the values the lexical index keeps beside its documents.
var (
	keyFormat  = []byte("format")
	keyLexicon = []byte("lexicon") // the model's lexHash it was built with
	keyRev     = []byte("rev")     // the last revision it applied
)

// ErrLocked is returned by Open and Load when another process holds the
// lexical index open (a running govlive serve on the same data directory).
var ErrLocked = errors.New("the search index is in use by another process")

// Open builds the index from the source and brings the lexical index in
// cfg.Dir up to date (creating it, or rebuilding it if outdated) before it
// returns: Load followed by CatchUp.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	ix, err := Load(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := ix.CatchUp(ctx); err != nil {
		return nil, errors.Join(err, ix.Close())
	}
	return ix, nil
}

// Load builds the in-memory model from the source and opens the lexical
// index in cfg.Dir as it was left (creating an empty one if there is none
// or it is outdated). Search works as soon as Load returns; until CatchUp
// has run, its candidates come from the lexical index as of the last
// revision it applied, so that entries added since are not yet found.
func Load(ctx context.Context, cfg Config) (*Index, error) {
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
	idx, err := ix.openLexical()
	if err != nil {
		return nil, err
	}
	ix.bleve = idx
	m, err := newModel(ctx, cfg.Source, cfg.Normalizer, cfg.ChunkChars)
	if err != nil {
		return nil, errors.Join(err, idx.Close())
	}
	ix.model = m
	return ix, nil
}

// CatchUp brings the lexical index up to the model and then the vectors
// (when configured). It is a no-op once caught up; a failure of the
// vectors only leaves search lexical for a while (logged).
func (ix *Index) CatchUp(ctx context.Context) error {
	ix.syncMu.Lock()
	defer ix.syncMu.Unlock()
	if !ix.caughtUp.Load() {
		if err := ix.catchUpLexical(ctx); err != nil {
			return err
		}
		if ix.cfg.Embedder == nil || ix.cfg.Vectors == nil {
			return nil
		}
		if err := ix.syncVectors(ctx); err != nil {
			// Logged by syncVectors. Back off as a failed search would, so
			// that the first questions do not wait on a dead endpoint again.
			ix.down.Store(ix.cfg.Now().Add(vectorBackoff).UnixNano())
		}
	}
	return nil
}

// CaughtUp reports whether the lexical index has applied every revision
// the model reflects, and how far a catch-up in progress has got (items
// written, of how many).
func (ix *Index) CaughtUp() (ok bool, done, total int64) {
	return ix.caughtUp.Load(), ix.progress.done.Load(), ix.progress.total.Load()
}

// Close closes the lexical index. Closing twice is harmless.
func (ix *Index) Close() error {
	var err error
	ix.closeOnce.Do(func() {
		ix.mu.Lock()
		defer ix.mu.Unlock()
		if cerr := ix.bleve.Close(); cerr != nil {
			err = fmt.Errorf("retrieval: close index: %w", cerr)
		}
	})
	return err
}

// catchUpLexical decides how the lexical index reaches the model: a
// lexical index built with another analysis, or one that applied a
// revision this store never had (built from another database), is built
// anew; one that lags behind by some revisions gets the changed items
// (caller holds syncMu). Once it has, the index is caught up.
func (ix *Index) catchUpLexical(ctx context.Context) error {
	if err := ix.reachModel(ctx); err != nil {
		return err
	}
	ix.caughtUp.Store(true)
	return nil
}

func (ix *Index) reachModel(ctx context.Context) error {
	m := ix.model
	stored, _ := ix.bleve.GetInternal(keyLexicon)
	revB, _ := ix.bleve.GetInternal(keyRev)
	applied, _ := strconv.ParseInt(string(revB), 10, 64)
	if string(stored) != m.lexHash || revB == nil || applied > m.rev {
		return ix.rebuildLexical(ctx, m)
	}
	if applied == m.rev {
		return nil
	}
	c, err := changedSince(ctx, ix.cfg.Source, applied)
	if err != nil {
		return err
	}
	ix.log.Info("search index catching up", "from_revision", applied, "to_revision", m.rev,
		"faq", len(c.faq), "documents", len(c.docs))
	return ix.applyLexical(ctx, m, c.faq, c.docs)
}

// rebuildShare: when more than this share of the items changed, building
// a new lexical index is faster than replacing their documents one by one.
const rebuildShare = 0.25

// applyLexical writes the model's version of the given items to the
// lexical index, in batches, or builds it anew when that is cheaper, and
// records the model's revision there (caller holds syncMu).
func (ix *Index) applyLexical(ctx context.Context, m *model, faqs map[content.FAQID]bool, docs map[content.DocID]bool) error {
	n := len(faqs) + len(docs)
	if float64(n) > rebuildShare*float64(len(m.faqs)+len(m.docs)) && n > 50 {
		return ix.rebuildLexical(ctx, m)
	}
	ix.progress.done.Store(0)
	ix.progress.total.Store(int64(n))
	if err := ix.replaceItems(ctx, ix.bleve, m, faqs, docs); err != nil {
		return err
	}
	if err := ix.bleve.SetInternal(keyRev, []byte(strconv.FormatInt(m.rev, 10))); err != nil {
		return fmt.Errorf("retrieval: %w", err)
	}
	return nil
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
// FAQ entries and documents are analysed again and their lexical entries
// replaced in one batch; a changed lexicon re-analyses everything into a
// new model and a new lexical index, swapped in together when both are
// ready. Search answers from the old ones meanwhile. It returns how many
// revisions it applied.
func (ix *Index) Sync(ctx context.Context) (int, error) {
	ix.syncMu.Lock()
	defer ix.syncMu.Unlock()
	if !ix.caughtUp.Load() {
		if err := ix.catchUpLexical(ctx); err != nil {
			return 0, err
		}
	}
	after := ix.model.rev
	c, err := changedSince(ctx, ix.cfg.Source, after)
	if err != nil {
		return 0, err
	}
	if c.last == after {
		return 0, nil
	}
	if c.lexicon {
		m, err := newModel(ctx, ix.cfg.Source, ix.cfg.Normalizer, ix.cfg.ChunkChars)
		if err != nil {
			return 0, err
		}
		if err := ix.rebuildLexical(ctx, m); err != nil {
			return 0, err
		}
		return c.count, nil // SyncAll brings the vectors along
	}
	// Read and analyse the changed items before taking the lock.
	m := ix.model
	faqs := map[content.FAQID]*faqAnalysis{}
	entries := map[content.FAQID]content.FAQEntry{}
	for id := range c.faq {
		e, err := ix.cfg.Source.FAQ(ctx, id)
		switch {
		case errors.Is(err, content.ErrNotFound):
			faqs[id] = nil
		case err != nil:
			return 0, fmt.Errorf("retrieval: sync: %w", err)
		case e.Status != content.StatusPublished:
			faqs[id] = nil
		default:
			a := m.analyseFAQ(e)
			faqs[id], entries[id] = &a, e
		}
	}
	docs := map[content.DocID][]chunkAnalysis{}
	for id := range c.docs {
		d, err := ix.cfg.Source.Document(ctx, id)
		switch {
		case errors.Is(err, content.ErrNotFound):
			docs[id] = nil
		case err != nil:
			return 0, fmt.Errorf("retrieval: sync: %w", err)
		default:
			docs[id] = m.analyseDocument(d)
			if docs[id] == nil {
				docs[id] = []chunkAnalysis{}
			}
		}
	}
	var links map[content.SessionID][]segmentLinks
	if c.sessions {
		if links, err = readLinks(ctx, ix.cfg.Source); err != nil {
			return 0, err
		}
	}
	ix.mu.Lock()
	for id, a := range faqs {
		m.removeFAQ(id)
		if a != nil {
			m.addFAQ(entries[id], *a)
		}
	}
	for id, chunks := range docs {
		m.removeDocument(id)
		if chunks != nil {
			m.addDocument(content.Document{ID: id}, chunks)
		}
	}
	m.refresh()
	if links != nil {
		m.links = links
	}
	m.rev = c.last
	ix.mu.Unlock()
	// The lexical index follows without holding up search; until it has,
	// its candidates are those of the items' previous versions.
	if err := ix.applyLexical(ctx, m, c.faq, c.docs); err != nil {
		ix.caughtUp.Store(false) // the next Sync or CatchUp tries again
		return 0, err
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

// hashLexicon fingerprints the synonym groups: the analysis depends on them.
func hashLexicon(groups [][]string) uint64 {
	h := fnv.New64a()
	for _, g := range groups {
		h.Write([]byte(strings.Join(g, "|") + "\n"))
	}
	return h.Sum64()
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
