package retrieval

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"govlive/content"
	"govlive/retrieval/words"
)

// model is the in-memory side of the index: every published FAQ entry
// and document chunk in analysed form with its feature vector, the
// document frequencies that weigh features, and the run-sheet links. It
// is what search scores with; the lexical index only proposes candidates.
// A model is built whole (newModel) or changed item by item (Sync); an
// Index swaps in a new one under its lock.
type model struct {
	an *Analyzer
	// passageAn analyses document chunks: an without cutting words, which
	// would double the time a model takes to build; a chunk's pair across
	// two words then counts fully, but a question's counts little
	// whatever it is compared with (overlap takes the smaller weight).
	passageAn  *Analyzer
	chunkChars int
	vocab      *vocab
	faqs       map[content.FAQID]*faqItem
	chunks     map[string]*chunkItem // by chunk id "doc-id#seq"
	docs       map[content.DocID][]string
	phrases    *corpus // over FAQ entries (the union of their phrasings)
	passages   *corpus // over document chunks
	links      map[content.SessionID][]segmentLinks
	termDF     map[string]int  // domain term → FAQ entries whose phrasings name it
	titleTerms map[string]bool // the domain terms of fewer than 3 characters the documents' titles name
	rev        int64           // last revision the model reflects
	lexHash    string          // fingerprint of the analysis (lexicon, chunk size)
	seg        *words.Segmenter
	kbWords    *wordSet // the words of every FAQ entry and chunk (Result.Foreign, Hit.Missing)
	answers    *corpus  // over FAQ answers: what weighs an answer's evidence (answerOnly)
	asked      []bool   // by word number in kbWords: some entry's phrasings have the word (Result.Elsewhere)
}

type faqItem struct {
	entry     content.FAQEntry
	phrasings []analysed // question first, then similar phrasings
	union     analysed   // the features of all phrasings together
	answer    analysed
	words     []uint32 // in kbWords: the words of the phrasings and the answer
	asked     []uint32 // in kbWords: the words of the phrasings
	things    []string // the documents its phrasings name (certificateWords): what it is about
}

type chunkItem struct {
	chunk  Chunk
	text   analysed
	words  []uint32 // in kbWords
	things []string // the documents its title and headings name (certificateWords): what it is about
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

// newModel reads all published FAQ entries, documents, sessions and the
// lexicon from src and analyses them, on as many goroutines as there are
// cores (the analysis of a text depends on nothing else; numbering the
// features is done in order afterwards, so that the same content gives
// the same model).
func newModel(ctx context.Context, src Source, norm *Normalizer, chunkChars int) (*model, error) {
	lx, err := src.Lexicon(ctx)
	if err != nil {
		return nil, fmt.Errorf("retrieval: lexicon: %w", err)
	}
	rev, err := lastRevision(ctx, src)
	if err != nil {
		return nil, err
	}
	faqs, _, err := src.ListFAQ(ctx, content.FAQFilter{Status: content.StatusPublished}, content.Page{})
	if err != nil {
		return nil, fmt.Errorf("retrieval: %w", err)
	}
	docs, _, err := src.ListDocuments(ctx, content.DocumentFilter{}, content.Page{})
	if err != nil {
		return nil, fmt.Errorf("retrieval: %w", err)
	}
	seg, err := words.Load()
	if err != nil {
		return nil, fmt.Errorf("retrieval: %w", err)
	}
	m := &model{
		passageAn:  NewAnalyzer(norm, lx.Synonyms),
		chunkChars: chunkChars,
		faqs:       map[content.FAQID]*faqItem{},
		chunks:     map[string]*chunkItem{},
		docs:       map[content.DocID][]string{},
		phrases:    &corpus{},
		answers:    &corpus{},
		passages:   &corpus{},
		rev:        rev,
		lexHash:    fmt.Sprintf("%x-%d", hashLexicon(lx.Synonyms), chunkChars),
		seg:        seg,
		kbWords:    newWordSet(),
	}
	m.an = m.passageAn.withWords(seg)
	// Analysed and numbered on every core; the numbers then depend on the
	// order in which the goroutines meet the features, which nothing else
	// does.
	in := newInterner()
	fa := make([]faqAnalysis, len(faqs))
	da := make([][]chunkAnalysis, len(docs))
	if err := parallel(ctx, len(faqs)+len(docs), func(i int) {
		if i < len(faqs) {
			fa[i] = m.numberFAQ(faqs[i], in)
		} else {
			da[i-len(faqs)] = m.numberDocument(docs[i-len(faqs)], in)
		}
	}); err != nil {
		return nil, err
	}
	m.vocab = in.vocab()
	for i, e := range faqs {
		m.addFAQ(e, fa[i])
	}
	for i, d := range docs {
		m.addDocument(d, da[i])
	}
	m.refresh()
	if m.links, err = readLinks(ctx, src); err != nil {
		return nil, err
	}
	return m, nil
}

// parallel calls f(0) … f(n-1) on GOMAXPROCS goroutines and waits for
// them; it stops handing out work once ctx is done.
func parallel(ctx context.Context, n int, f func(i int)) error {
	workers := min(runtime.GOMAXPROCS(0), max(n, 1))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	var err error
	for i := 0; i < n; i++ {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return err
}

// faqAnalysis is the analysed form of one entry: its texts with their
// feature vectors, or (analyseFAQ) with their features still by name, to
// be numbered by addFAQ.
type faqAnalysis struct {
	texts  []string // question first, then similar phrasings
	feats  []features
	answer string
	ansF   features
	words  []string // of the texts and the answer (words.Search)
	asked  []string // of the texts
	// numbered (numberFAQ):
	vecs        []fvec
	union, ansV fvec
}

// analyseFAQ analyses an entry without touching the vocabulary (Sync does
// it beside searches; addFAQ numbers the features under the lock).
func (m *model) analyseFAQ(e content.FAQEntry) faqAnalysis {
	var a faqAnalysis
	for _, p := range append([]string{e.Question}, e.Similar...) {
		t := m.an.Text(p)
		a.texts = append(a.texts, t)
		a.feats = append(a.feats, m.an.features(t))
	}
	a.answer = m.an.Text(e.Answer)
	a.ansF = m.passageAn.features(a.answer)
	a.asked, a.words = entryWords(m.seg, a.texts, a.answer)
	return a
}

// numberFAQ analyses an entry and numbers its features in the vocabulary
// being built.
func (m *model) numberFAQ(e content.FAQEntry, in *interner) faqAnalysis {
	var a faqAnalysis
	union := idFeatures{}
	for _, p := range append([]string{e.Question}, e.Similar...) {
		t := m.an.Text(p)
		f := m.an.featureIDs(t, in)
		a.texts = append(a.texts, t)
		a.vecs = append(a.vecs, f.vector())
		for id, w := range f {
			if w > union[id] {
				union[id] = w
			}
		}
	}
	a.union = union.vector()
	a.answer = m.an.Text(e.Answer)
	a.ansV = m.passageAn.featureIDs(a.answer, in).vector()
	a.asked, a.words = entryWords(m.seg, a.texts, a.answer)
	return a
}

type chunkAnalysis struct {
	chunk  Chunk
	text   string
	f      features
	v      fvec     // when numbered
	words  []string // words.Search
	things []string // of the title and headings
}

func (m *model) analyseDocument(d content.Document) []chunkAnalysis {
	var out []chunkAnalysis
	for _, c := range ChunkDocument(d, m.chunkChars) {
		t := m.chunkText(c)
		out = append(out, chunkAnalysis{chunk: c, text: t, f: m.passageAn.features(t), words: m.seg.Search(t), things: m.chunkThings(c)})
	}
	return out
}

func (m *model) numberDocument(d content.Document, in *interner) []chunkAnalysis {
	var out []chunkAnalysis
	for _, c := range ChunkDocument(d, m.chunkChars) {
		t := m.chunkText(c)
		out = append(out, chunkAnalysis{chunk: c, text: t, v: m.passageAn.featureIDs(t, in).vector(), words: m.seg.Search(t), things: m.chunkThings(c)})
	}
	return out
}

// chunkThings are the documents a chunk's title and headings name: what
// the passage is about (the 证件 of a guide to the qualification, not the
// 身份证 its text says to bring).
func (m *model) chunkThings(c Chunk) []string {
	return certificateWords(m.seg.Search(m.an.Text(c.Title + " " + strings.Join(c.Path, " "))))
}

// chunkText is what of a chunk is analysed: its document's title, its
// heading path and its text.
func (m *model) chunkText(c Chunk) string {
	return m.an.Text(c.Title + " " + strings.Join(c.Path, " ") + " " + c.Text)
}

// addFAQ adds an analysed entry to the model, numbering its features if
// they are not yet (refresh afterwards).
func (m *model) addFAQ(e content.FAQEntry, a faqAnalysis) {
	it := &faqItem{entry: e}
	if a.vecs == nil {
		union := features{}
		for i := range a.texts {
			a.vecs = append(a.vecs, m.vocab.vector(a.feats[i]))
			for k, w := range a.feats[i] {
				union.set(k, w)
			}
		}
		a.union, a.ansV = m.vocab.vector(union), m.vocab.vector(a.ansF)
	}
	for i, t := range a.texts {
		it.phrasings = append(it.phrasings, analysed{text: t, v: a.vecs[i]})
	}
	it.union = analysed{v: a.union}
	// Document frequency counts entries, not phrasings: a word shared by
	// the phrasings of one entry is what tells it apart.
	m.phrases.add(it.union.v)
	m.answers.add(a.ansV)
	it.answer = analysed{text: a.answer, v: a.ansV}
	it.words = m.kbWords.add(a.words)
	it.asked = m.kbWords.numbers(a.asked)
	it.things = certificateWords(a.asked)
	m.faqs[e.ID] = it
}

func (m *model) removeFAQ(id content.FAQID) {
	it, ok := m.faqs[id]
	if !ok {
		return
	}
	m.phrases.remove(it.union.v)
	m.answers.remove(it.answer.v)
	m.kbWords.remove(it.words)
	delete(m.faqs, id)
}

func (m *model) addDocument(d content.Document, chunks []chunkAnalysis) {
	var ids []string
	for _, c := range chunks {
		id := chunkID(c.chunk)
		v := c.v
		if v == nil {
			v = m.vocab.vector(c.f)
		}
		a := analysed{text: c.text, v: v}
		m.chunks[id] = &chunkItem{chunk: c.chunk, text: a, words: m.kbWords.add(c.words), things: c.things}
		m.passages.add(a.v)
		ids = append(ids, id)
	}
	m.docs[d.ID] = ids
}

func (m *model) removeDocument(id content.DocID) {
	for _, cid := range m.docs[id] {
		if c, ok := m.chunks[cid]; ok {
			m.passages.remove(c.text.v)
			m.kbWords.remove(c.words)
			delete(m.chunks, cid)
		}
	}
	delete(m.docs, id)
}

func chunkID(c Chunk) string { return fmt.Sprintf("%s#%d", c.DocID, c.Seq) }

// refresh recomputes document frequencies' weights and every item's
// weighted size after the model changed, and which words the phrasings
// have.
func (m *model) refresh() {
	n := len(m.vocab.ids)
	m.phrases.refresh(n)
	m.answers.refresh(n)
	m.passages.refresh(n)
	for _, it := range m.faqs {
		for i := range it.phrasings {
			it.phrasings[i].mass = m.phrases.mass(it.phrasings[i].v)
		}
		it.union.mass = m.phrases.mass(it.union.v)
		it.answer.mass = m.phrases.mass(it.answer.v)
	}
	for _, c := range m.chunks {
		c.text.mass = m.passages.mass(c.text.v)
	}
	// Matters the documents' titles name (预约, 投诉, 食品经营许可): a
	// two-character term counts as the center's own matter only if a title
	// names it; question words (哪里, 多久) never do.
	// Each title once (a document has many chunks), and the short terms
	// they name found once here, not in every search.
	seen := map[string]bool{}
	var titles strings.Builder
	for _, c := range m.chunks {
		if !seen[c.chunk.Title] {
			seen[c.chunk.Title] = true
			titles.WriteString(m.an.Text(c.chunk.Title))
			titles.WriteByte(' ')
		}
	}
	text := titles.String()
	m.titleTerms = map[string]bool{}
	for _, list := range m.an.terms {
		for _, t := range list {
			if len(t) < 3 && strings.Contains(text, string(t)) {
				m.titleTerms[string(t)] = true
			}
		}
	}
	m.asked = make([]bool, len(m.kbWords.count))
	for _, it := range m.faqs {
		for _, id := range it.asked {
			m.asked[id] = true
		}
	}
	m.termDF = map[string]int{}
	for _, it := range m.faqs {
		seen := map[string]bool{}
		for _, p := range it.phrasings {
			for _, t := range m.an.termsIn(p.text) {
				if !seen[t] {
					seen[t] = true
					m.termDF[t]++
				}
			}
		}
	}
}

// isAsked reports whether some entry's phrasings have word (words.Search:
// the words of their best paths and the dictionary's words inside longer
// ones).
func (m *model) isAsked(word string) bool {
	id, ok := m.kbWords.ids[word]
	return ok && int(id) < len(m.asked) && m.asked[id]
}

// distinctiveShare is the largest share of FAQ entries a lexicon term may
// be named by and still count as a sign that a question is about the
// center's matters: 注销 or 同城通办 do, 什么 or 多久 do not.
const distinctiveShare = 0.25

// distinctive keeps the terms that few FAQ entries name.
func (m *model) distinctive(terms []string) []string {
	var out []string
	for _, t := range terms {
		if utf8.RuneCountInString(t) < 3 && !m.titleTerms[t] {
			continue
		}
		if float64(m.termDF[t]) <= distinctiveShare*float64(len(m.faqs)) {
			out = append(out, t)
		}
	}
	return out
}

// readLinks reads which FAQ entries and documents each run-sheet segment
// of every session links.
func readLinks(ctx context.Context, src Source) (map[content.SessionID][]segmentLinks, error) {
	sessions, _, err := src.ListSessions(ctx, content.SessionFilter{}, content.Page{})
	if err != nil {
		return nil, fmt.Errorf("retrieval: sessions: %w", err)
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
	return links, nil
}
