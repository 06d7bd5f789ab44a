package retrieval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"govlive/content"
)

// vectorItem is one text to embed and what the vector store keeps with it.
type vectorItem struct {
	id      string // "faq:ID" or "doc:CHUNK"
	text    string
	payload Payload
	sparse  SparseVector // its lexical features, for a HybridStore
}

// sparseIndex numbers a feature stably across processes (the vocabulary's
// numbers depend on the order content was read): FNV-1a of its key.
func sparseIndex(key string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return h.Sum32()
}

// sparseOf is the sparse vector of an item's features: their weights
// without inverse document frequency, which the question side applies
// (caller holds mu).
func (ix *Index) sparseOf(v fvec) SparseVector {
	m := map[uint32]float32{}
	for _, f := range v {
		m[sparseIndex(ix.vocab.names[f.id])] += float32(f.w)
	}
	return sparseFromMap(m)
}

// querySparse is the sparse vector of a question: feature weight times
// inverse document frequency over passages (caller holds mu).
func (ix *Index) querySparse(f features) SparseVector {
	m := map[uint32]float32{}
	for k, w := range f {
		idf := ix.passages.maxIDF()
		if id, ok := ix.vocab.ids[k]; ok {
			idf = ix.passages.weight(id)
		}
		m[sparseIndex(k)] += float32(w * idf)
	}
	return sparseFromMap(m)
}

func sparseFromMap(m map[uint32]float32) SparseVector {
	sv := SparseVector{Indices: make([]uint32, 0, len(m)), Values: make([]float32, 0, len(m))}
	for i := range m {
		sv.Indices = append(sv.Indices, i)
	}
	sort.Slice(sv.Indices, func(a, b int) bool { return sv.Indices[a] < sv.Indices[b] })
	for _, i := range sv.Indices {
		sv.Values = append(sv.Values, m[i])
	}
	return sv
}

// vectorItems lists what should be in the vector store now: one text per
// FAQ entry (its question and similar phrasings) and per chunk (title,
// heading path and text). Caller holds mu.
func (ix *Index) vectorItems(withSparse bool) []vectorItem {
	sparse := func(v fvec) SparseVector {
		if !withSparse {
			return SparseVector{}
		}
		return ix.sparseOf(v)
	}
	sessionsOf := ix.linkedSessions()
	var out []vectorItem
	for id, it := range ix.faqs {
		e := it.entry
		out = append(out, vectorItem{
			id:   "faq:" + string(id),
			text: e.Question + "\n" + strings.Join(e.Similar, "\n"),
			payload: Payload{Kind: KindFAQ, Category: e.Category, FAQID: id,
				Sessions: sessionsOf["faq:"+string(id)]},
			sparse: sparse(it.union.v),
		})
	}
	for cid, c := range ix.chunks {
		ch := c.chunk
		out = append(out, vectorItem{
			id:   "doc:" + cid,
			text: ch.Title + " " + strings.Join(ch.Path, " ") + "\n" + ch.Text,
			payload: Payload{Kind: KindDoc, DocID: ch.DocID,
				Sessions: sessionsOf["doc:"+string(ch.DocID)]},
			sparse: sparse(c.text.v),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// linkedSessions maps "faq:ID" and "doc:ID" to the sessions that link them.
func (ix *Index) linkedSessions() map[string][]content.SessionID {
	m := map[string][]content.SessionID{}
	ids := make([]content.SessionID, 0, len(ix.links))
	for s := range ix.links {
		ids = append(ids, s)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, s := range ids {
		seen := map[string]bool{}
		for _, g := range ix.links[s] {
			for f := range g.faq {
				seen["faq:"+string(f)] = true
			}
			for d := range g.docs {
				seen["doc:"+string(d)] = true
			}
		}
		for k := range seen {
			m[k] = append(m[k], s)
		}
	}
	return m
}

// vectorState remembers which text each stored vector was made from, so
// that only changed texts are embedded again (embedding costs money and
// time on a remote endpoint).
type vectorState struct {
	Hashes map[string]string `json:"hashes"`
	// Stored is how many vectors the store held after the last sync (it
	// can hold strays: records this index never wrote).
	Stored int `json:"stored"`
}

// sparseDigest folds a sparse vector into the state hash, so that a
// lexicon change that alters an item's features re-sends it.
func sparseDigest(sv SparseVector) string {
	h := fnv.New64a()
	for i, idx := range sv.Indices {
		fmt.Fprintf(h, "%d:%g,", idx, sv.Values[i])
	}
	return fmt.Sprintf("|%x", h.Sum64())
}

// storedVectors asks the vector store how many vectors it holds, if it
// can tell.
func (ix *Index) storedVectors(ctx context.Context) (int, bool) {
	switch v := ix.cfg.Vectors.(type) {
	case interface{ Len() int }:
		return v.Len(), true
	case interface {
		Count(context.Context) (int, error)
	}:
		n, err := v.Count(ctx)
		if err != nil {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

func textHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:12])
}

func (ix *Index) vectorStatePath() string {
	if ix.cfg.Dir == "" {
		return ""
	}
	return filepath.Join(ix.cfg.Dir, "vectors.state.json")
}

func (ix *Index) loadVectorState() vectorState {
	st := vectorState{Hashes: map[string]string{}}
	path := ix.vectorStatePath()
	if path == "" {
		return st
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return st
	}
	if json.Unmarshal(b, &st) != nil || st.Hashes == nil {
		return vectorState{Hashes: map[string]string{}}
	}
	return st
}

func (ix *Index) saveVectorState(st vectorState) error {
	path := ix.vectorStatePath()
	if path == "" {
		return nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// embedBatch is how many texts go to the embedder at once from here; the
// embedder splits further if it must.
const embedBatch = 64

// syncVectors brings the vector store in line with the model: embeds new
// and changed texts, deletes vectors of items that are gone, and saves
// the store if it persists itself. A failure leaves search lexical-only
// for the items not embedded, with a warning in the log.
func (ix *Index) syncVectors(ctx context.Context) error {
	if ix.cfg.Embedder == nil || ix.cfg.Vectors == nil {
		return nil
	}
	ix.vecMu.Lock()
	defer ix.vecMu.Unlock()
	_, hybrid := ix.cfg.Vectors.(HybridStore)
	ix.mu.RLock()
	items := ix.vectorItems(hybrid)
	ix.mu.RUnlock()
	if ix.vstate == nil {
		s := ix.loadVectorState()
		ix.vstate = &s
	}
	st := ix.vstate
	// The state says what the store held after the last sync; if the store
	// now disagrees (its file or volume was lost, the collection is
	// another), embed everything again.
	if n, ok := ix.storedVectors(ctx); ok && n != st.Stored {
		ix.log.Info("vector store does not hold what was embedded; embedding everything again", "stored", n, "expected", len(st.Hashes))
		st = &vectorState{Hashes: map[string]string{}}
		ix.vstate = st
	}
	hashOf := func(it vectorItem) string {
		if hybrid {
			return textHash(it.text + sparseDigest(it.sparse))
		}
		return textHash(it.text)
	}
	want := map[string]bool{}
	var todo []vectorItem
	for _, it := range items {
		want[it.id] = true
		if st.Hashes[it.id] != hashOf(it) {
			todo = append(todo, it)
		}
	}
	var stale []string
	for id := range st.Hashes {
		if !want[id] {
			stale = append(stale, id)
		}
	}
	if len(stale) > 0 {
		if err := ix.cfg.Vectors.Delete(ctx, stale); err != nil {
			ix.vecStale.Store(true)
			return fmt.Errorf("retrieval: delete vectors: %w", err)
		}
		for _, id := range stale {
			delete(st.Hashes, id)
		}
	}
	var errs []error
	for start := 0; start < len(todo); start += embedBatch {
		batch := todo[start:min(start+embedBatch, len(todo))]
		texts := make([]string, len(batch))
		for i, it := range batch {
			texts[i] = it.text
		}
		vecs, err := ix.cfg.Embedder.Embed(ctx, texts)
		if err != nil {
			errs = append(errs, fmt.Errorf("retrieval: embed %d texts: %w", len(texts), err))
			break
		}
		recs := make([]VectorRecord, len(batch))
		sparse := make([]SparseVector, len(batch))
		for i, it := range batch {
			recs[i] = VectorRecord{ID: it.id, Vector: vecs[i], Payload: it.payload}
			sparse[i] = it.sparse
		}
		if hybrid {
			err = ix.cfg.Vectors.(HybridStore).UpsertHybrid(ctx, recs, sparse)
		} else {
			err = ix.cfg.Vectors.Upsert(ctx, recs)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("retrieval: store vectors: %w", err))
			break
		}
		for _, it := range batch {
			st.Hashes[it.id] = hashOf(it)
		}
	}
	saved := true
	if s, ok := ix.cfg.Vectors.(interface{ Save() error }); ok {
		if err := s.Save(); err != nil {
			errs = append(errs, fmt.Errorf("retrieval: save vectors: %w", err))
			saved = false
		}
	}
	if n, ok := ix.storedVectors(ctx); ok {
		st.Stored = n
	}
	if saved {
		if err := ix.saveVectorState(*st); err != nil {
			errs = append(errs, fmt.Errorf("retrieval: save vector state: %w", err))
		}
	} else {
		// The vectors on disk are older than the state in memory: forget
		// it, so that the next sync compares with what is on disk.
		ix.vstate = nil
	}
	if err := errors.Join(errs...); err != nil {
		ix.vecStale.Store(true)
		ix.log.Warn("vector index incomplete; search falls back to lexical for missing items", "err", err)
		return err
	}
	ix.vecStale.Store(false)
	if len(todo) > 0 || len(stale) > 0 {
		ix.log.Info("vector index updated", "embedded", len(todo), "deleted", len(stale), "total", len(st.Hashes))
	}
	return nil
}
