package retrieval

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"govlive/content"
	"govlive/retrieval/words"
)

// Query is one question to search for.
type Query struct {
	Text string
	// Session and Segment (from 1) scope the search: the FAQ entries and
	// documents the segment links are always candidates and are boosted.
	Session content.SessionID
	Segment int
	// K is how many hits of each kind to return; 0 means 5.
	K int
}

// Hit is one search result: a FAQ entry or a document chunk.
type Hit struct {
	Kind  Kind              `json:"kind"`
	ID    string            `json:"id"` // FAQ id, or chunk id "doc-id#seq"
	FAQ   *content.FAQEntry `json:"faq,omitempty"`
	Chunk *Chunk            `json:"chunk,omitempty"`
	// Lexical is the rescored lexical similarity in [0,1]; BM25 is bleve's
	// score for the best matching text; Vector is the vector store's score
	// (hybrid mode only: a cosine from the embedded store, Qdrant's own
	// fusion score when it fuses dense and sparse); Fused is the
	// reciprocal-rank-fusion score of the lexical and vector rankings.
	Lexical float64 `json:"lexical"`
	BM25    float64 `json:"bm25"`
	Vector  float64 `json:"vector,omitempty"`
	Fused   float64 `json:"fused"`
	// Confidence in [0,1] means the same from question to question: about
	// the share of the question's weight that this item explains, and of
	// the item that the question asks for.
	Confidence float64 `json:"confidence"`
	// InScope says the current segment links this item.
	InScope bool `json:"in_scope,omitempty"`
	// Spans are the runs of the matched text that the question shares.
	Spans []string `json:"spans,omitempty"`
	// Matched is the analysed text that matched best (a FAQ phrasing or the chunk).
	Matched string `json:"matched,omitempty"`
	// Beyond (a chunk hit) is the share of the question this passage
	// explains that the best FAQ entry — its phrasings and its answer —
	// does not: what a document answer would add to the FAQ's.
	Beyond float64 `json:"beyond,omitempty"`
	// Missing are the question's salient words (Result.Salient) that the
	// item does not contain — a FAQ entry in any phrasing or its answer, a
	// chunk in its title, headings or text: a sign that it is about
	// another matter (结婚证 against the entry on a lost 从业资格证).
	Missing []string `json:"missing,omitempty"`
	// Unasked (FAQ hits) are the question's salient words that no
	// phrasing of the entry names, though its answer may: 身份证 in an
	// answer that lists what to bring does not make the entry about a lost
	// 身份证.
	Unasked []string `json:"unasked,omitempty"`
	// Other names the documents the question is about (结婚证) when it
	// names none of those the item is about — a FAQ entry's phrasings name
	// (从业资格证), a chunk's title and headings: the item answers for
	// another document than the one asked about.
	Other []string `json:"other,omitempty"`
}

// Citation names the source of a chunk hit for a reply: 《title》label.
// A FAQ hit has none here (its sources are document ids; the bot names
// their titles).
func (h Hit) Citation() string {
	if h.Chunk != nil {
		return h.Chunk.Citation()
	}
	return ""
}

// Result is what a search found, FAQ entries and document chunks apart
// (FAQ entries would otherwise crowd the passages out).
type Result struct {
	Query    string    `json:"query"` // the analysed question
	FAQ      []Hit     `json:"faq"`
	Docs     []Hit     `json:"docs"`
	Mode     string    `json:"mode"` // "lexical" or "hybrid"
	Warnings []Warning `json:"warnings,omitempty"`
	// Coverage is the share of the question's weight that the whole
	// knowledge base knows at all: low for out-of-scope questions.
	Coverage float64 `json:"coverage"`
	// Terms are the distinctive domain terms of the lexicon the question
	// names (canonical form; named by few FAQ entries): a sign that it is
	// about the center's matters.
	Terms []string `json:"terms,omitempty"`
	// Salient are the question's content words (words.Salient: nouns
	// rare enough in general Chinese to name a matter — 结婚证, 户口,
	// 公积金), and Foreign those of them that no FAQ entry and no chunk
	// contains: a sign that the question is about another agency's matter.
	Salient []string `json:"salient,omitempty"`
	Foreign []string `json:"foreign,omitempty"`
	// Elsewhere are the documents the question names (words.Documents:
	// 结婚证, 驾驶证, 营业执照) when no phrasing of the knowledge base asks
	// about any of them: the question is about another office's document.
	// A document is asked about when a phrasing has it or, named with
	// other nouns before it, one of its words (see elsewhere). A question
	// that also names a matter of the phrasings (a domain term they name
	// that is no verb and no document: 出租车, 网约车; not 补办) has none:
	// the document is a detail of a question on that matter
	// (驾驶证拿了几年才能开出租车).
	Elsewhere []string `json:"elsewhere,omitempty"`
	// Outside are the question's salient words when the knowledge base has
	// none of them (all are Foreign), one of them is a frequent noun
	// (words.FrequentIDF: 户口, 公积金, 个体工商户's 个体) and the question
	// names no document the phrasings ask about: it is about a matter the
	// knowledge base does not cover, not about one of its own with a word
	// it lacks on the side (辣椒酱 in a question on a production licence;
	// 面包 in 开面包店办哪个证, which asks about a document all the same).
	Outside []string `json:"outside,omitempty"`
}

const rrfK = 60 // reciprocal rank fusion constant: 1/(60+rank)

// vectorBackoff is how long search stays lexical after a vector failure.
const vectorBackoff = 30 * time.Second

// Search finds the FAQ entries and document chunks that answer q.
func (ix *Index) Search(ctx context.Context, q Query) (Result, error) {
	k := q.K
	if k <= 0 {
		k = 5
	}
	ix.mu.RLock()
	an, seg := ix.an, ix.seg
	ix.mu.RUnlock()
	norm := an.norm.Normalize(q.Text)
	text := an.canonical(norm) // an.Text
	docs := seg.Documents(norm)
	qf := an.features(text)
	salient := seg.Salient(text)
	var asks []string // the documents the question names (nouns of the dictionary)
	namesDoc := false // a document, by name or as 证 alone (哪个证)
	for _, w := range seg.Cut(text) {
		if w.Noun {
			asks = append(asks, w.Text)
			namesDoc = namesDoc || words.DocumentWord(w.Text)
		}
	}
	asks = certificateWords(asks)
	res := Result{Query: text, Mode: "lexical", FAQ: []Hit{}, Docs: []Hit{}, Terms: an.termsIn(text)}
	for _, w := range salient {
		res.Salient = append(res.Salient, w.Text)
	}
	if strings.TrimSpace(text) == "" {
		return res, nil
	}
	py := an.Pinyin(text)
	w := ix.cfg.Weights
	// Vectors, when configured: a failure degrades to lexical search.
	var faqVec, docVec []VectorHit
	vecFused := false // the vector store fused dense and sparse itself
	if ix.cfg.Embedder != nil && ix.cfg.Vectors != nil {
		now := ix.cfg.Now()
		if now.UnixNano() < ix.down.Load() {
			res.Warnings = append(res.Warnings, Warning{Code: WarnVectorsBackoff})
		} else {
			var sparse SparseVector
			if _, ok := ix.cfg.Vectors.(HybridStore); ok {
				ix.mu.RLock()
				sparse = ix.querySparse(qf)
				ix.mu.RUnlock()
			}
			var err error
			faqVec, docVec, vecFused, err = ix.vectorCandidates(ctx, q.Text, sparse, w.Candidates)
			if err != nil {
				// Back off so that a dead endpoint does not cost every
				// question a timeout.
				ix.down.Store(now.Add(vectorBackoff).UnixNano())
				res.Warnings = append(res.Warnings, Warning{Code: WarnVectorsFailed, Detail: err.Error()})
				ix.log.Warn("vector search failed; lexical only", "err", err, "retry_after", vectorBackoff)
			} else if len(faqVec)+len(docVec) == 0 {
				res.Warnings = append(res.Warnings, Warning{Code: WarnVectorsEmpty})
			} else {
				res.Mode = "hybrid"
			}
		}
	}

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	res.Terms = ix.distinctive(res.Terms)
	res.Foreign = ix.kbWords.foreign(salient)
	if !ix.namesMatter(seg, res.Terms) {
		res.Elsewhere = ix.elsewhere(an, norm, docs)
	}
	if len(res.Foreign) > 0 && len(res.Foreign) == len(salient) && (!namesDoc || res.Elsewhere != nil) &&
		slices.ContainsFunc(salient, func(w words.Word) bool { return w.IDF <= words.FrequentIDF }) {
		res.Outside = res.Foreign
	}
	faqCand, err := ix.lexicalCandidates(ctx, text, py, fieldPhrasing, ix.phrases, w.Candidates+w.Candidates/2)
	if err != nil {
		return res, err
	}
	chunkCand, err := ix.lexicalCandidates(ctx, text, "", fieldPassage, ix.passages, w.Candidates*2/3)
	if err != nil {
		return res, err
	}
	scope := ix.scope(q)
	qv, unknown := ix.vocab.query(qf)
	qa := question{v: qv, faqMass: ix.phrases.queryMass(qv, unknown), docMass: ix.passages.queryMass(qv, unknown), ansMass: ix.answers.queryMass(qv, unknown)}
	for _, f := range qv {
		if int(f.id) < len(ix.passages.df) && ix.passages.df[f.id] > 0 {
			qa.docKnown += f.w * ix.passages.weight(f.id)
		}
	}
	res.Coverage = ix.coverage(qv, unknown)

	// FAQ entries: candidates from bleve (phrasings and answers), from
	// vectors, and every entry the segment links.
	bm25 := make(map[string]float64, len(faqCand)+len(faqVec)+len(scope.faq))
	for _, c := range faqCand {
		bm25[c.id] = math.Max(bm25[c.id], c.score)
	}
	for _, v := range faqVec {
		if _, ok := bm25[string(v.Payload.FAQID)]; !ok {
			bm25[string(v.Payload.FAQID)] = 0
		}
	}
	for id := range scope.faq {
		if _, ok := bm25[string(id)]; !ok {
			bm25[string(id)] = 0
		}
	}
	faqCands := make([]candidate, 0, len(bm25))
	for id, s := range bm25 {
		it := ix.faqs[content.FAQID(id)]
		if it == nil {
			continue
		}
		lex, phrasing := ix.scoreFAQ(qa, it)
		faqCands = append(faqCands, candidate{id: id, lexical: lex, bm25: s, inScope: scope.faq[it.entry.ID], phrasing: phrasing})
	}

	// Document chunks likewise.
	cbm := make(map[string]float64, len(chunkCand)+len(docVec))
	for _, c := range chunkCand {
		cbm[c.id] = c.score
	}
	for _, v := range docVec {
		if id, ok := strings.CutPrefix(v.ID, "doc:"); ok {
			if _, seen := cbm[id]; !seen {
				cbm[id] = 0
			}
		}
	}
	for d := range scope.docs {
		for _, cid := range ix.docs[d] {
			if _, ok := cbm[cid]; !ok {
				cbm[cid] = 0
			}
		}
	}
	docCands := make([]candidate, 0, len(cbm))
	for id, s := range cbm {
		c := ix.chunks[id]
		if c == nil {
			continue
		}
		docCands = append(docCands, candidate{id: id, lexical: ix.scoreChunk(qa, c), bm25: s, inScope: scope.docs[c.chunk.DocID]})
	}

	// Only the hits returned are made, get their item copied and their
	// spans found.
	faqRanked := ix.rank(faqCands, faqVec, vecFused, "faq:", k)
	res.FAQ = make([]Hit, len(faqRanked))
	for i, c := range faqRanked {
		it := ix.faqs[content.FAQID(c.id)]
		e := it.entry
		p := it.phrasings[c.phrasing]
		h := &res.FAQ[i]
		*h = c.hit(KindFAQ, p.text)
		h.FAQ = &e
		h.Spans = ix.spans(p.text, shared(qv, p.v))
		h.Missing = ix.kbWords.missing(salient, it.words)
		h.Unasked = ix.kbWords.missing(salient, it.asked)
		h.Other = otherThing(asks, it.things)
	}
	var faqTop *faqItem
	if len(res.FAQ) > 0 {
		faqTop = ix.faqs[content.FAQID(res.FAQ[0].ID)]
	}
	docRanked := ix.rank(docCands, docVec, vecFused, "doc:", k)
	res.Docs = make([]Hit, len(docRanked))
	for i, cand := range docRanked {
		c := ix.chunks[cand.id]
		ch := c.chunk
		h := &res.Docs[i]
		*h = cand.hit(KindDoc, c.text.text)
		h.Chunk = &ch
		h.Spans = ix.spans(c.text.text, shared(qv, c.text.v))
		h.Beyond = ix.beyond(qa, c, faqTop)
		h.Missing = ix.kbWords.missing(salient, c.words)
		h.Other = otherThing(asks, c.things)
	}
	return res, nil
}

// question is a search question in numbered form, with its weighted size
// against each corpus.
type question struct {
	v                fvec
	faqMass, docMass float64
	docKnown         float64 // weight of the features some passage has
	ansMass          float64 // weighted size by the answers' document frequencies
}

// candidate is a FAQ entry or a chunk being ranked: what ranking needs of
// its Hit, which is only made for the hits returned.
type candidate struct {
	id                                       string // FAQ id or chunk id
	lexical, bm25, vector, fused, confidence float64
	inScope                                  bool
	phrasing                                 int // a FAQ entry's best matching phrasing
}

// hit is the Hit of a ranked candidate, its item and spans not filled in.
func (c *candidate) hit(kind Kind, matched string) Hit {
	return Hit{
		Kind: kind, ID: c.id, Lexical: c.lexical, BM25: c.bm25, Vector: c.vector, Fused: c.fused,
		Confidence: c.confidence, InScope: c.inScope, Matched: matched,
	}
}

// scoreFAQ is the lexical similarity of a question to a FAQ entry (its
// best phrasing, with shares from all phrasings together and from the
// answer text) and which phrasing matched best.
func (ix *Index) scoreFAQ(q question, it *faqItem) (sim float64, phrasing int) {
	w := ix.cfg.Weights
	best, bestI := -1.0, 0
	for i, p := range it.phrasings {
		cq, cp := ix.phrases.overlap(q.v, p.v, q.faqMass, p.mass)
		if s := fscore(cq, cp, w.Beta); s > best {
			best, bestI = s, i
		}
	}
	ansQ, _ := ix.phrases.overlap(q.v, it.answer.v, q.faqMass, it.answer.mass)
	uniQ, _ := ix.phrases.overlap(q.v, it.union.v, q.faqMass, it.union.mass)
	sim = (1-w.AnswerWeight-w.UnionWeight)*best + w.UnionWeight*uniQ + w.AnswerWeight*ansQ
	sim += answerOnlyWeight * ix.answerOnly(q, it)
	return sim, bestI
}

// scoreChunk is the lexical similarity of a question to a chunk: how much
// of the question the passage covers (a passage is long; covering all of
// it is not expected).
//
// A passage is long, so a short question is easily covered by chance
// (多少钱 is in many passages): the coverage is scaled down for a question
// that carries little evidence — less than refPassageEvidence times the
// weight of the rarest feature.
func (ix *Index) scoreChunk(q question, c *chunkItem) float64 {
	cq, _ := ix.passages.overlap(q.v, c.text.v, q.docMass, c.text.mass)
	if ref := refPassageEvidence * ix.passages.maxIDF(); q.docKnown < ref {
		cq *= q.docKnown / ref
	}
	return cq
}

// otherThing returns the documents a question names (asks) when it names
// none of the entry's own (things, see sameThing); nil when they agree or
// either names none.
func otherThing(asks, things []string) []string {
	if len(asks) == 0 || len(things) == 0 {
		return nil
	}
	for _, a := range asks {
		for _, t := range things {
			if sameThing(a, t) {
				return nil
			}
		}
	}
	return asks
}

// namesMatter reports whether terms (distinctive domain terms of a
// question) include one the phrasings name that the dictionary does not
// know as a verb and that names no document: a thing the center deals
// with (出租车, 网约车), not what one does with it (补办, 注销) — and not
// a document, which elsewhere weighs itself (证照 is what 学历证书 is
// analysed into). Caller holds mu.
func (ix *Index) namesMatter(seg *words.Segmenter, terms []string) bool {
	return slices.ContainsFunc(terms, func(t string) bool {
		w, known := seg.Lookup(t)
		return ix.termDF[t] > 0 && (w.Noun || !known) && !words.DocumentWord(t)
	})
}

// elsewhere returns the documents docs of text (normalised, not
// analysed) names when no phrasing of the knowledge base asks about any
// of them (see Result.Elsewhere); nil when one is asked about or there
// are none (caller holds mu). A document of one word is asked about when
// a phrasing has the word, or the lexicon's term it is a synonym of
// (资格证书 is the 从业资格证 the phrasings name); one of several words
// when a phrasing has one of its words of two characters or more — its
// kind (许可证 in 食品厂许可证) or what it is for (出租车 in 出租车驾驶证,
// 电子 in 电子驾驶证).
func (ix *Index) elsewhere(an *Analyzer, text string, docs []words.Document) []string {
	var out []string
	for _, d := range docs {
		for i, b := range d.Words {
			e := d.End
			if i+1 < len(d.Words) {
				e = d.Words[i+1]
			}
			if w := text[b:e]; len(d.Words) == 1 || utf8.RuneCountInString(w) >= 2 {
				// A word of the phrasings, or a term of the lexicon they
				// name (资格证书 is the 从业资格证 of the synonyms).
				if c := an.canonical(w); ix.isAsked(c) || ix.termDF[c] > 0 {
					return nil
				}
			}
		}
		out = append(out, d.Text(text))
	}
	return out
}

// sameThing reports whether two document words may name one document: one
// contains the other, or they share two characters in a row besides the
// last (巡游证 and 巡游出租汽车驾驶员证; not 结婚证 and 资格证).
func sameThing(a, b string) bool {
	if strings.Contains(a, b) || strings.Contains(b, a) {
		return true
	}
	ra, rb := []rune(a), []rune(b)
	ra, rb = ra[:len(ra)-1], rb[:len(rb)-1]
	for i := 0; i+1 < len(ra); i++ {
		if strings.Contains(string(rb), string(ra[i:i+2])) {
			return true
		}
	}
	return false
}

// beyond is the share of the question's weight (by the passages' document
// frequencies) that chunk c covers and FAQ entry e does not, in its
// phrasings or its answer.
func (ix *Index) beyond(q question, c *chunkItem, e *faqItem) float64 {
	if q.docMass == 0 {
		return 0
	}
	var m float64
	for i, j := 0, 0; i < len(q.v) && j < len(c.text.v); {
		switch f := q.v[i]; {
		case f.id < c.text.v[j].id:
			i++
		case f.id > c.text.v[j].id:
			j++
		default:
			if e == nil || (!hasFeature(e.union.v, f.id) && !hasFeature(e.answer.v, f.id)) {
				m += min(f.w, c.text.v[j].w) * ix.passages.weight(f.id)
			}
			i++
			j++
		}
	}
	return m / q.docMass
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hasFeature(v fvec, id uint32) bool {
	_, ok := slices.BinarySearchFunc(v, id, func(f fw, id uint32) int { return cmp.Compare(f.id, id) })
	return ok
}

// refPassageEvidence is how much evidence, in rarest-feature weights, a
// question needs before a passage can cover it with full confidence.
const refPassageEvidence = 2

// coverage is the share of the question's weight made of features the
// knowledge base has at all (in any phrasing, answer or passage).
func (ix *Index) coverage(qv fvec, unknown float64) float64 {
	var known, all float64
	for _, f := range qv {
		v := f.w * ix.phrases.weight(f.id)
		all += v
		if ix.phrases.df[f.id] > 0 || ix.passages.df[f.id] > 0 {
			known += v
		}
	}
	all += unknown * ix.phrases.maxIDF()
	if all == 0 {
		return 0
	}
	return known / all
}

// spans names the shared features' runs in a matched text (see spans).
func (ix *Index) spans(text string, ids map[uint32]bool) []string {
	m := features{}
	for id := range ids {
		if k := ix.vocab.names[id]; strings.HasPrefix(k, "b:") {
			m[k] = 1
		}
	}
	// Each run once, longest first, without runs contained in a longer one.
	all := spans(text, m)
	sort.SliceStable(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	var out []string
	for _, s := range all {
		dup := false
		for _, o := range out {
			if strings.Contains(o, s) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
		if len(out) == 8 {
			break
		}
	}
	return out
}

// rank orders candidates by confidence (lexical, blended with the vector
// score in hybrid mode, plus the scope boost), computes the RRF score of
// the lexical and vector rankings, and keeps the best k. Ids are unique,
// so both orders are total.
func (ix *Index) rank(cands []candidate, vec []VectorHit, fused bool, prefix string, k int) []candidate {
	w := ix.cfg.Weights
	vrank := make(map[string]int, len(vec)) // id → index in vec
	for i, v := range vec {
		vrank[strings.TrimPrefix(v.ID, prefix)] = i
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.lexical, a.lexical); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	for i := range cands {
		c := &cands[i]
		c.fused = 1.0 / float64(rrfK+i+1)
		conf := c.lexical
		if r, ok := vrank[c.id]; ok {
			c.vector = float64(vec[r].Score)
			c.fused += 1.0 / float64(rrfK+r+1)
			if !fused { // a fusion score is a rank, not a similarity
				conf = 0.5*c.lexical + 0.5*calibrateCosine(c.vector)
			}
		} else if len(vec) > 0 && !fused {
			// Not among the vector store's nearest: no closer than the
			// farthest of them, not as if vectors had not been asked.
			conf = 0.5 * c.lexical
		}
		if c.inScope {
			conf += w.ScopeBoost
		}
		c.confidence = math.Max(0, math.Min(1, conf))
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.confidence, a.confidence); c != 0 {
			return c
		}
		if c := cmp.Compare(b.fused, a.fused); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return cands[:min(k, len(cands))]
}

// calibrateCosine maps a cosine similarity of typical sentence embeddings
// onto [0,1]: unrelated texts sit near 0.3, paraphrases above 0.8.
func calibrateCosine(c float64) float64 {
	return math.Max(0, math.Min(1, (c-0.3)/0.55))
}

type scopeSet struct {
	faq  map[content.FAQID]bool
	docs map[content.DocID]bool
}

// scope returns what the query's segment links (caller holds mu).
func (ix *Index) scope(q Query) scopeSet {
	s := scopeSet{faq: map[content.FAQID]bool{}, docs: map[content.DocID]bool{}}
	segs := ix.links[q.Session]
	if q.Segment < 1 || q.Segment > len(segs) {
		return s
	}
	return scopeSet(segs[q.Segment-1])
}

// vectorCandidates embeds the question and searches the vector store for
// FAQ entries and chunks apart.
//
// When the store holds both sides (HybridStore: Qdrant), it fuses the
// dense and the sparse lexical list itself (prefetch + RRF) and the
// scores it returns are fusion scores, not cosines: fused reports that.
func (ix *Index) vectorCandidates(ctx context.Context, question string, sparse SparseVector, n int) (faq, docs []VectorHit, fused bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	vecs, err := ix.cfg.Embedder.Embed(ctx, []string{question})
	if err != nil {
		return nil, nil, false, fmt.Errorf("embed question: %w", err)
	}
	if len(vecs) != 1 {
		return nil, nil, false, fmt.Errorf("embed question: got %d vectors", len(vecs))
	}
	// One pass over the store for both kinds, split afterwards.
	var hits []VectorHit
	if hs, ok := ix.cfg.Vectors.(HybridStore); ok && len(sparse.Indices) > 0 {
		hits, err = hs.SearchHybrid(ctx, vecs[0], sparse, 2*n, Filter{})
		fused = true
	} else {
		hits, err = ix.cfg.Vectors.Search(ctx, vecs[0], 2*n, Filter{})
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("vector search: %w", err)
	}
	// Split in place: FAQ entries first, each kind in its order.
	slices.SortStableFunc(hits, func(a, b VectorHit) int {
		return cmp.Compare(b2i(a.Payload.Kind != KindFAQ), b2i(b.Payload.Kind != KindFAQ))
	})
	split := sort.Search(len(hits), func(i int) bool { return hits[i].Payload.Kind != KindFAQ })
	return hits[:split:split], hits[split:], fused, nil
}

// WarningCode says why a search fell back to lexical search alone. The
// words for people are chosen where they are shown.
type WarningCode string

// The warnings.
const (
	WarnVectorsBackoff WarningCode = "vectors_backoff" // the vector store failed recently; not asked again yet
	WarnVectorsFailed  WarningCode = "vectors_failed"  // the vector store or the embedder failed (Detail says how)
	WarnVectorsEmpty   WarningCode = "vectors_empty"   // the vector index has nothing yet
)

// Warning is a typed note on a search result.
type Warning struct {
	Code   WarningCode `json:"code"`
	Detail string      `json:"detail,omitempty"`
}

// String is the warning for a log line.
func (w Warning) String() string {
	if w.Detail == "" {
		return string(w.Code)
	}
	return string(w.Code) + ": " + w.Detail
}
