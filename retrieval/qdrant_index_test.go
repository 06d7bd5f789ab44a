package retrieval_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	goqdrant "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/logtest"
	"govlive/retrieval"
	"govlive/retrieval/openai"
	"govlive/retrieval/openai/openaitest"
	"govlive/retrieval/qdrant"
	"govlive/retrieval/qdrant/qdranttest"
)

// The Qdrant index tests run the real index with the real OpenAI-compatible
// embedder and the real Qdrant Store, against an embeddings stand-in and
// the qdranttest gRPC stand-in.
const (
	qdrantIxCollection = "t"
	qdrantIxDim        = 32
	qdrantIxModel      = "bigram-32"
	qdrantIxKey        = "sk-govlive-qdrant-test-4b81d0"
)

// newBigramEndpoint is an OpenAI-compatible POST /v1/embeddings on
// 127.0.0.1 that answers deterministic vectors (openaitest.BigramVector)
// and counts the texts it embedded.
func newBigramEndpoint(t *testing.T) *openaitest.Server {
	t.Helper()
	return openaitest.New(t, openaitest.Options{Key: qdrantIxKey, Models: []string{qdrantIxModel}, Dim: qdrantIxDim})
}

// qdrantEnv is a hybrid index over the sample pack whose vectors live in a
// Qdrant stand-in.
type qdrantEnv struct {
	cs    *content.Store
	emb   *openaitest.Server
	qs    *qdranttest.Server
	ix    *retrieval.Index
	log   *logtest.Buffer
	clock *fakeClock
}

// newQdrantEnv opens the index (in a temporary directory, as govlive
// does) on a fresh stand-in; everything is closed when the test ends.
func newQdrantEnv(t *testing.T) *qdrantEnv {
	t.Helper()
	ctx := context.Background()
	env := &qdrantEnv{
		cs:    contenttest.SampleStore(t),
		emb:   newBigramEndpoint(t),
		qs:    qdranttest.NewServer(t),
		log:   &logtest.Buffer{},
		clock: &fakeClock{now: time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)},
	}
	emb, err := openai.New(openai.Config{BaseURL: env.emb.URL(), Model: qdrantIxModel, APIKey: qdrantIxKey})
	if err != nil {
		t.Fatalf("openai.New: %v", err)
	}
	vs, err := qdrant.New(ctx, qdrant.Config{
		Host: env.qs.Host, Port: env.qs.Port, Collection: qdrantIxCollection, Dim: qdrantIxDim,
		SkipCompatibilityCheck: true,
	})
	if err != nil {
		t.Fatalf("qdrant.New: %v", err)
	}
	t.Cleanup(func() {
		if err := vs.Close(); err != nil {
			t.Errorf("close qdrant store: %v", err)
		}
	})
	env.ix = openIndex(t, retrieval.Config{
		Dir: t.TempDir(), Source: env.cs, Embedder: emb, Vectors: vs,
		Log: slog.New(slog.NewTextHandler(env.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now: env.clock.Now,
	})
	return env
}

// points are the stand-in's points by record id (the "rid" payload).
func (e *qdrantEnv) points(t *testing.T) map[string]qdranttest.Point {
	t.Helper()
	out := map[string]qdranttest.Point{}
	for _, p := range e.qs.Points(qdrantIxCollection) {
		rid := p.Payload["rid"].GetStringValue()
		if rid == "" {
			t.Fatalf("point %s has no rid in its payload", p.ID)
		}
		out[rid] = p
	}
	return out
}

// wantRecordIDs are the record ids the index should have stored: every
// published FAQ entry and every chunk of every document.
func wantRecordIDs(t *testing.T, cs *content.Store, ix *retrieval.Index) []string {
	t.Helper()
	ctx := context.Background()
	faqs, _, err := cs.ListFAQ(ctx, content.FAQFilter{Status: content.StatusPublished}, content.Page{})
	if err != nil {
		t.Fatalf("ListFAQ: %v", err)
	}
	docs, _, err := cs.ListDocuments(ctx, content.DocumentFilter{}, content.Page{})
	if err != nil {
		t.Fatalf("ListDocuments: %v", err)
	}
	var ids []string
	for _, e := range faqs {
		ids = append(ids, "faq:"+string(e.ID))
	}
	for _, d := range docs {
		for _, c := range ix.Chunks(d.ID) {
			ids = append(ids, fmt.Sprintf("doc:%s#%d", c.DocID, c.Seq))
		}
	}
	slices.Sort(ids)
	return ids
}

// faqText is the text the index embeds for a FAQ entry.
func faqText(e content.FAQEntry) string {
	return e.Question + "\n" + strings.Join(e.Similar, "\n")
}

func cosine32(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

// TestQdrantIndexOpen: Open stores every FAQ entry and chunk in Qdrant as
// one point with a dense and a non-empty sparse vector, embedding each
// text once.
func TestQdrantIndexOpen(t *testing.T) {
	t.Parallel()
	env := newQdrantEnv(t)
	st := env.ix.Stats()
	if !st.Hybrid {
		t.Errorf("Stats().Hybrid false, want true")
	}
	want := wantRecordIDs(t, env.cs, env.ix)
	if len(want) != st.FAQ+st.Chunks || st.FAQ == 0 || st.Chunks == 0 {
		t.Fatalf("got %d record ids for %d FAQ entries and %d chunks, want as many and some of each", len(want), st.FAQ, st.Chunks)
	}
	points := env.points(t)
	got := slices.Sorted(maps.Keys(points))
	if !slices.Equal(got, want) {
		t.Fatalf("stored records: got %d %q, want %d %q", len(got), got, len(want), want)
	}
	if got := env.emb.Texts(); got != len(want) {
		t.Errorf("texts embedded by Open: got %d, want %d", got, len(want))
	}
	if got := env.qs.Upserted(); len(got) != len(want) {
		t.Errorf("points upserted by Open: got %d, want %d (each once)", len(got), len(want))
	}
	errs := 0
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format, args...)
		if errs++; errs == 5 {
			t.Fatalf("stopping after %d errors", errs)
		}
	}
	for _, rid := range got {
		p := points[rid]
		if p.ID != qdrant.PointID(rid) {
			errorf("%s: got point id %s, want %s", rid, p.ID, qdrant.PointID(rid))
		}
		if len(p.Dense) != 1 || len(p.Dense[qdrant.DefaultDenseName]) != qdrantIxDim {
			errorf("%s: got dense vectors %v, want one %q of %d dimensions", rid, p.Dense, qdrant.DefaultDenseName, qdrantIxDim)
		}
		sv := p.Sparse[qdrant.DefaultSparseName]
		if len(p.Sparse) != 1 || len(sv.GetIndices()) == 0 || len(sv.GetIndices()) != len(sv.GetValues()) {
			errorf("%s: got sparse vectors %v, want one non-empty %q", rid, p.Sparse, qdrant.DefaultSparseName)
		}
		for i, w := range sv.GetValues() {
			if !(w > 0) {
				errorf("%s: sparse index %d has weight %v, want > 0", rid, sv.GetIndices()[i], w)
				break
			}
		}
		kind := retrieval.KindFAQ
		if strings.HasPrefix(rid, "doc:") {
			kind = retrieval.KindDoc
		}
		if got := p.Payload["kind"].GetStringValue(); got != string(kind) {
			errorf("%s: got kind %q, want %q", rid, got, kind)
		}
	}

	// The dense vector is the embedding of the entry's text.
	e := getFAQ(t, env.cs, "faq-center-address")
	if c := cosine32(points["faq:faq-center-address"].Dense[qdrant.DefaultDenseName], openaitest.BigramVector(faqText(e), qdrantIxDim)); c < 0.9999 {
		t.Errorf("faq:faq-center-address: cosine to the embedding of its text %v, want 1", c)
	}
}

// TestQdrantIndexSearch: search asks Qdrant for one fused query (a dense
// and a sparse prefetch, RRF) and the expected FAQ entry comes first.
func TestQdrantIndexSearch(t *testing.T) {
	t.Parallel()
	env := newQdrantEnv(t)
	tests := []struct {
		q    string
		want content.FAQID
	}{
		{"开个小吃店办食品经营许可证要交哪些材料", "faq-food-biz-new-materials"},
		{"食品经营许可证弄丢了去哪补一个", "faq-food-biz-lost"},
		{"政务中心星期天有人上班吗", "faq-weekend"},
		{"昨天的政务直播错过了，有回放吗", "faq-live-replay"},
		{"拨打12345能投诉政务大厅吗", "faq-12345"},
		{"货车司机需要道路运输从业资格证吗", "faq-freight-driver"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			before := env.qs.Calls(goqdrant.Points_Query_FullMethodName)
			res := search(t, env.ix, retrieval.Query{Text: tt.q})
			if got := env.qs.Calls(goqdrant.Points_Query_FullMethodName) - before; got != 1 {
				t.Errorf("Query calls: got %d, want 1", got)
			}
			if res.Mode != "hybrid" || len(res.Warnings) != 0 {
				t.Errorf("got Mode %q, Warnings %q; want hybrid and none", res.Mode, res.Warnings)
			}
			if len(res.FAQ) == 0 || res.FAQ[0].ID != string(tt.want) {
				t.Fatalf("top FAQ hits %v, want %s first", hitIDs(res.FAQ), tt.want)
			}
			if res.FAQ[0].Vector <= 0 {
				t.Errorf("hit %s: Vector %v, want its (positive) fusion score", res.FAQ[0].ID, res.FAQ[0].Vector)
			}

			q := env.qs.LastQuery()
			if q.GetCollectionName() != qdrantIxCollection {
				t.Errorf("query collection: got %q, want %q", q.GetCollectionName(), qdrantIxCollection)
			}
			if _, ok := q.GetQuery().GetVariant().(*goqdrant.Query_Fusion); !ok || q.GetQuery().GetFusion() != goqdrant.Fusion_RRF {
				t.Errorf("query: got %v, want fusion RRF", q.GetQuery())
			}
			pf := q.GetPrefetch()
			if len(pf) != 2 {
				t.Fatalf("got %d prefetches, want 2 (dense and sparse)", len(pf))
			}
			if got := pf[0].GetUsing(); got != qdrant.DefaultDenseName {
				t.Errorf("prefetch 0 using %q, want %q", got, qdrant.DefaultDenseName)
			}
			if got := pf[0].GetQuery().GetNearest().GetDense().GetData(); len(got) != qdrantIxDim || cosine32(got, openaitest.BigramVector(tt.q, qdrantIxDim)) < 0.9999 {
				t.Errorf("prefetch 0: got dense query %v, want the embedding of the question", got)
			}
			if got := pf[1].GetUsing(); got != qdrant.DefaultSparseName {
				t.Errorf("prefetch 1 using %q, want %q", got, qdrant.DefaultSparseName)
			}
			sq := pf[1].GetQuery().GetNearest().GetSparse()
			if len(sq.GetIndices()) == 0 || len(sq.GetIndices()) != len(sq.GetValues()) {
				t.Errorf("prefetch 1: got sparse query %v, want a non-empty one", sq)
			}
			// The question's lexical features meet the top entry's.
			top := env.points(t)["faq:"+string(tt.want)].Sparse[qdrant.DefaultSparseName]
			if !slices.ContainsFunc(sq.GetIndices(), func(i uint32) bool { return slices.Contains(top.GetIndices(), i) }) {
				t.Errorf("sparse query shares no index with %s's sparse vector", tt.want)
			}
		})
	}
}

// TestQdrantIndexSyncAll: editing one FAQ entry re-embeds and re-upserts
// exactly that entry's point; nothing changed, nothing is sent.
func TestQdrantIndexSyncAll(t *testing.T) {
	t.Parallel()
	env := newQdrantEnv(t)
	ctx := context.Background()

	upserted, texts := len(env.qs.Upserted()), env.emb.Texts()
	if n := mustSyncAll(t, env.ix); n != 0 {
		t.Errorf("SyncAll with nothing new: applied %d, want 0", n)
	}
	if got := len(env.qs.Upserted()) - upserted; got != 0 {
		t.Errorf("SyncAll with nothing new: %d points upserted, want 0", got)
	}
	if got := env.emb.Texts() - texts; got != 0 {
		t.Errorf("SyncAll with nothing new: %d texts embedded, want 0", got)
	}

	e := getFAQ(t, env.cs, "faq-center-address")
	e.Question = "示例市政务服务中心搬到哪里了？坐地铁怎么去？"
	e.Similar = append(e.Similar, "政务中心新址在哪")
	if changed, err := env.cs.PutFAQ(ctx, e, "test"); err != nil || !changed {
		t.Fatalf("PutFAQ: changed %t, err %v; want a change", changed, err)
	}
	upserted, texts = len(env.qs.Upserted()), env.emb.Texts()
	points := len(env.qs.PointIDs(qdrantIxCollection))
	if n := mustSyncAll(t, env.ix); n != 1 {
		t.Errorf("SyncAll: applied %d revisions, want 1", n)
	}
	if got, want := env.qs.Upserted()[upserted:], []string{qdrant.PointID("faq:faq-center-address")}; !slices.Equal(got, want) {
		t.Errorf("points upserted by SyncAll: got %q, want %q (faq:faq-center-address only)", got, want)
	}
	if got := env.emb.Texts() - texts; got != 1 {
		t.Errorf("texts embedded by SyncAll: got %d, want 1", got)
	}
	if got := len(env.qs.PointIDs(qdrantIxCollection)); got != points {
		t.Errorf("points after SyncAll: got %d, want %d", got, points)
	}
	p := env.points(t)["faq:faq-center-address"]
	if c := cosine32(p.Dense[qdrant.DefaultDenseName], openaitest.BigramVector(faqText(e), qdrantIxDim)); c < 0.9999 {
		t.Errorf("edited entry: cosine of its dense vector to the embedding of the new text %v, want 1", c)
	}

	res := search(t, env.ix, retrieval.Query{Text: "政务中心新址在哪"})
	if res.Mode != "hybrid" || len(res.FAQ) == 0 || res.FAQ[0].ID != "faq-center-address" {
		t.Errorf("after the edit: Mode %q, hits %v; want hybrid with faq-center-address first", res.Mode, hitIDs(res.FAQ))
	}
}

// TestQdrantIndexQueryUnavailable: when Qdrant answers Unavailable, search
// falls back to lexical with a warning and no error, leaves Qdrant alone
// for the back-off, and is hybrid again once Qdrant is back and the
// back-off has passed.
func TestQdrantIndexQueryUnavailable(t *testing.T) {
	t.Parallel()
	env := newQdrantEnv(t)
	const q, want = "食品经营许可证弄丢了去哪补一个", "faq-food-biz-lost"
	query := goqdrant.Points_Query_FullMethodName
	env.qs.Fail(query, status.Error(codes.Unavailable, "qdrant is restarting"))

	lexical := func(t *testing.T) retrieval.Result {
		t.Helper()
		res, err := env.ix.Search(context.Background(), retrieval.Query{Text: q})
		if err != nil {
			t.Fatalf("Search: %v, want no error", err)
		}
		if res.Mode != "lexical" || len(res.Warnings) == 0 {
			t.Errorf("got Mode %q, Warnings %q; want lexical with a warning", res.Mode, res.Warnings)
		}
		if len(res.FAQ) == 0 || res.FAQ[0].ID != want {
			t.Errorf("lexical fallback: hits %v, want %s first", hitIDs(res.FAQ), want)
		}
		for _, h := range res.FAQ {
			if h.Vector != 0 {
				t.Errorf("hit %s: Vector %v, want 0 in lexical mode", h.ID, h.Vector)
			}
		}
		return res
	}

	calls := env.qs.Calls(query)
	res := lexical(t)
	if got := env.qs.Calls(query) - calls; got != 1 {
		t.Errorf("Query calls of the failing search: got %d, want 1", got)
	}
	if w := fmt.Sprint(res.Warnings); !strings.Contains(w, "Unavailable") || !strings.Contains(w, "qdrant is restarting") {
		t.Errorf("Warnings %q: want them to carry Qdrant's error", w)
	}
	if !strings.Contains(env.log.String(), "vector search failed") {
		t.Errorf("log %q: want a warning that vector search failed", env.log.String())
	}

	// Backing off: Qdrant is not asked again until the clock moves on.
	env.qs.Fail(query, nil)
	calls = env.qs.Calls(query)
	lexical(t)
	if got := env.qs.Calls(query) - calls; got != 0 {
		t.Errorf("Query calls while backing off: got %d, want 0", got)
	}

	env.clock.Advance(time.Minute)
	res = search(t, env.ix, retrieval.Query{Text: q})
	if res.Mode != "hybrid" || len(res.Warnings) != 0 {
		t.Errorf("after the back-off: Mode %q, Warnings %q; want hybrid and none", res.Mode, res.Warnings)
	}
	if len(res.FAQ) == 0 || res.FAQ[0].ID != want || res.FAQ[0].Vector == 0 {
		t.Errorf("after the back-off: hits %v, want %s first with a fusion score", hitIDs(res.FAQ), want)
	}
}

// A data directory reopened against a Qdrant that lost its points (a new
// instance, a lost volume) embeds and upserts everything again instead of
// trusting its record of what was sent.
func TestQdrantIndexRefillsAnEmptyCollection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cs := contenttest.SampleStore(t)
	emb := newBigramEndpoint(t)
	dir := t.TempDir()
	open := func(qs *qdranttest.Server) *retrieval.Index {
		t.Helper()
		e, err := openai.New(openai.Config{BaseURL: emb.URL(), Model: qdrantIxModel, APIKey: qdrantIxKey})
		if err != nil {
			t.Fatal(err)
		}
		vs, err := qdrant.New(ctx, qdrant.Config{Host: qs.Host, Port: qs.Port, Collection: qdrantIxCollection,
			Dim: qdrantIxDim, SkipCompatibilityCheck: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { vs.Close() })
		return openIndex(t, retrieval.Config{Dir: dir, Source: cs, Embedder: e, Vectors: vs})
	}
	first := qdranttest.NewServer(t)
	ix := open(first)
	want := len(first.PointIDs(qdrantIxCollection))
	closeIndex(t, ix)

	second := qdranttest.NewServer(t) // same directory, empty collection
	ix = open(second)
	if got := len(second.PointIDs(qdrantIxCollection)); got != want {
		t.Errorf("points in the new collection after reopening: got %d, want %d", got, want)
	}
	if res := search(t, ix, retrieval.Query{Text: "政务中心几点上班"}); res.Mode != "hybrid" {
		t.Errorf("mode after refilling: got %q, want hybrid (%v)", res.Mode, res.Warnings)
	}
}
