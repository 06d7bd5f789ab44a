package qdrant

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"govlive/content"
	"govlive/retrieval"
	"govlive/retrieval/qdrant/qdranttest"
)

const testCollection = "govlive_test"

// newTestStore opens a Store on the stand-in srv; cfg's Host, Port and
// SkipCompatibilityCheck are filled in, and Collection and Dim when zero.
func newTestStore(t *testing.T, srv *qdranttest.Server, cfg Config) *Store {
	t.Helper()
	cfg.Host, cfg.Port, cfg.SkipCompatibilityCheck = srv.Host, srv.Port, true
	if cfg.Collection == "" {
		cfg.Collection = testCollection
	}
	if cfg.Dim == 0 {
		cfg.Dim = 3
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawClient is a plain go-client on the stand-in, to set up collections the
// Store would not create.
func rawClient(t *testing.T, srv *qdranttest.Server) *qdrant.Client {
	t.Helper()
	c, err := qdrant.NewClient(&qdrant.Config{Host: srv.Host, Port: srv.Port, SkipCompatibilityCheck: true})
	if err != nil {
		t.Fatalf("qdrant.NewClient: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close raw client: %v", err)
		}
	})
	return c
}

// fixture is a small corpus: the vectors' cosine similarity to (1, 0, 0)
// falls from faq:a to faq:e.
var fixture = []retrieval.VectorRecord{
	{ID: "faq:a", Vector: []float32{1, 0, 0}, Payload: retrieval.Payload{
		Kind: retrieval.KindFAQ, Category: "taxi", FAQID: "a", Sessions: []content.SessionID{"s1", "s2"}}},
	{ID: "faq:b", Vector: []float32{0.9, 0.1, 0}, Payload: retrieval.Payload{
		Kind: retrieval.KindFAQ, Category: "bus", FAQID: "b", Sessions: []content.SessionID{"s1"}}},
	{ID: "doc:c#1", Vector: []float32{0.5, 0.5, 0}, Payload: retrieval.Payload{
		Kind: retrieval.KindDoc, Category: "hotline", DocID: "c", Sessions: []content.SessionID{"s2"}}},
	{ID: "doc:d#1", Vector: []float32{0, 1, 0}, Payload: retrieval.Payload{
		Kind: retrieval.KindDoc, Category: "taxi", DocID: "d"}},
	{ID: "faq:e", Vector: []float32{-1, 0.2, 0}, Payload: retrieval.Payload{
		Kind: retrieval.KindFAQ, Category: "taxi", FAQID: "e", Sessions: []content.SessionID{"s3"}}},
}

// testCosine is the cosine similarity, computed here apart from the stand-in.
func testCosine(a, b []float32) float32 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i] * b[i])
		na += float64(a[i] * a[i])
		nb += float64(b[i] * b[i])
	}
	return float32(dot / math.Sqrt(na*nb))
}

func ids(hits []retrieval.VectorHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func near(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-5 }

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no collection", Config{Dim: 3}, "no collection name"},
		{"no dim", Config{Collection: "c"}, "dim 0"},
		{"same names", Config{Collection: "c", Dim: 3, DenseName: "v", SparseName: "v"}, "share the name"},
		{"default names clash", Config{Collection: "c", Dim: 3, SparseName: "dense"}, "share the name"},
		{"bad port", Config{Collection: "c", Dim: 3, Port: 70000}, "port 70000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(context.Background(), tt.cfg)
			if err == nil {
				t.Cleanup(func() { _ = s.Close() })
				t.Fatalf("got no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestNewCreatesCollectionOnce(t *testing.T) {
	srv := qdranttest.NewServer(t)
	newTestStore(t, srv, Config{Dim: 3})
	newTestStore(t, srv, Config{Dim: 3})
	if got := srv.CreateCount(testCollection); got != 1 {
		t.Errorf("got %d CreateCollection calls, want 1", got)
	}

	info, err := rawClient(t, srv).GetCollectionInfo(context.Background(), testCollection)
	if err != nil {
		t.Fatalf("GetCollectionInfo: %v", err)
	}
	params := info.GetConfig().GetParams()
	dense := params.GetVectorsConfig().GetParamsMap().GetMap()[DefaultDenseName]
	if dense.GetSize() != 3 || dense.GetDistance() != qdrant.Distance_Cosine {
		t.Errorf("got dense vector %v, want size 3 with cosine distance", dense)
	}
	if _, ok := params.GetSparseVectorsConfig().GetMap()[DefaultSparseName]; !ok {
		t.Errorf("got sparse vectors %v, want one named %q", params.GetSparseVectorsConfig(), DefaultSparseName)
	}
}

func TestNewChecksExistingCollection(t *testing.T) {
	srv := qdranttest.NewServer(t)
	newTestStore(t, srv, Config{Dim: 3})
	ctx := context.Background()
	raw := rawClient(t, srv)
	if err := raw.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "unnamed",
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 3, Distance: qdrant.Distance_Cosine}),
	}); err != nil {
		t.Fatalf("create unnamed: %v", err)
	}
	if err := raw.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "dot",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			DefaultDenseName: {Size: 3, Distance: qdrant.Distance_Dot}}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{DefaultSparseName: {}}),
	}); err != nil {
		t.Fatalf("create dot: %v", err)
	}

	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"other dim", Config{Collection: testCollection, Dim: 4}, retrieval.ErrDimension},
		{"other dense name", Config{Collection: testCollection, Dim: 3, DenseName: "other"}, ErrSchema},
		{"other sparse name", Config{Collection: testCollection, Dim: 3, SparseName: "other"}, ErrSchema},
		{"unnamed vector", Config{Collection: "unnamed", Dim: 3}, ErrSchema},
		{"dot distance", Config{Collection: "dot", Dim: 3}, ErrSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Host, tt.cfg.Port, tt.cfg.SkipCompatibilityCheck = srv.Host, srv.Port, true
			s, err := New(ctx, tt.cfg)
			if err == nil {
				t.Cleanup(func() { _ = s.Close() })
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
	if got := srv.CreateCount(testCollection); got != 1 {
		t.Errorf("got %d CreateCollection calls, want 1", got)
	}
}

func TestCompatibilityCheck(t *testing.T) {
	for _, skip := range []bool{true, false} {
		t.Run(fmt.Sprint("skip=", skip), func(t *testing.T) {
			srv := qdranttest.NewServer(t)
			s, err := New(context.Background(), Config{
				Host: srv.Host, Port: srv.Port, Collection: testCollection, Dim: 3, SkipCompatibilityCheck: skip})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			got := srv.HealthChecks()
			want := 1
			if skip {
				want = 0
			}
			if got != want {
				t.Errorf("got %d health checks, want %d", got, want)
			}
		})
	}
}

func TestAPIKey(t *testing.T) {
	const key = "sekret-api-key"
	srv := qdranttest.NewServer(t)
	cfg := Config{APIKey: key, Collection: testCollection, Dim: 3, DenseName: "d"}
	newTestStore(t, srv, cfg)
	sent := srv.APIKeys()
	if len(sent) == 0 || slices.ContainsFunc(sent, func(k string) bool { return k != key }) {
		t.Errorf("got api-key headers %q, want %q on every call", sent, key)
	}

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "qdrant", cfg)
	for name, text := range map[string]string{
		"String": cfg.String(), "%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "slog": logged.String(),
	} {
		if strings.Contains(text, key) {
			t.Errorf("%s: got %q, want the API key redacted", name, text)
		}
		if !strings.Contains(text, "redacted") {
			t.Errorf("%s: got %q, want it to say the key is redacted", name, text)
		}
	}
}

func TestPointID(t *testing.T) {
	srv := qdranttest.NewServer(t)
	s := newTestStore(t, srv, Config{})
	if err := s.Upsert(context.Background(), fixture[:2]); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	want := []string{PointID("faq:a"), PointID("faq:b")}
	slices.Sort(want)
	if got := srv.PointIDs(testCollection); !slices.Equal(got, want) {
		t.Errorf("got point ids %q, want %q", got, want)
	}
	u, err := uuid.Parse(PointID("faq:a"))
	if err != nil || u.Version() != 5 {
		t.Errorf("got PointID %q (%v), want a version 5 UUID", PointID("faq:a"), err)
	}
	if PointID("faq:a") == PointID("faq:b") {
		t.Errorf("got the same PointID for two record ids")
	}
}

func TestSearch(t *testing.T) {
	srv := qdranttest.NewServer(t)
	s := newTestStore(t, srv, Config{})
	ctx := context.Background()
	if err := s.Upsert(ctx, fixture); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	query := []float32{1, 0, 0}
	hits, err := s.Search(ctx, query, 3, retrieval.Filter{})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if got, want := ids(hits), []string{"faq:a", "faq:b", "doc:c#1"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i, h := range hits {
		rec := fixture[slices.IndexFunc(fixture, func(r retrieval.VectorRecord) bool { return r.ID == h.ID })]
		if want := testCosine(query, rec.Vector); !near(h.Score, want) {
			t.Errorf("hit %d (%s): got score %v, want %v", i, h.ID, h.Score, want)
		}
		if got, want := fmt.Sprintf("%+v", h.Payload), fmt.Sprintf("%+v", rec.Payload); got != want {
			t.Errorf("hit %d (%s): got payload %s, want %s", i, h.ID, got, want)
		}
	}

	if hits, err := s.Search(ctx, query, 0, retrieval.Filter{}); err != nil || len(hits) != 0 {
		t.Errorf("k=0: got %v, %v, want no hits and no error", hits, err)
	}
}

func TestSearchFilter(t *testing.T) {
	srv := qdranttest.NewServer(t)
	s := newTestStore(t, srv, Config{})
	ctx := context.Background()
	if err := s.Upsert(ctx, fixture); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	tests := []struct {
		name string
		f    retrieval.Filter
		want []string
	}{
		{"none", retrieval.Filter{}, []string{"faq:a", "faq:b", "doc:c#1", "doc:d#1", "faq:e"}},
		{"kind", retrieval.Filter{Kind: retrieval.KindDoc}, []string{"doc:c#1", "doc:d#1"}},
		{"category", retrieval.Filter{Category: "taxi"}, []string{"faq:a", "doc:d#1", "faq:e"}},
		{"session", retrieval.Filter{Session: "s2"}, []string{"faq:a", "doc:c#1"}},
		{"ids", retrieval.Filter{IDs: []string{"faq:e", "doc:d#1", "faq:missing"}}, []string{"doc:d#1", "faq:e"}},
		{"kind and session", retrieval.Filter{Kind: retrieval.KindFAQ, Session: "s1"}, []string{"faq:a", "faq:b"}},
		{"all four", retrieval.Filter{Kind: retrieval.KindFAQ, Category: "taxi", Session: "s1", IDs: []string{"faq:a", "faq:b"}}, []string{"faq:a"}},
		{"no match", retrieval.Filter{Category: "ferry"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := s.Search(ctx, []float32{1, 0, 0}, 10, tt.f)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if got := ids(hits); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUpsertReplacesAndDelete(t *testing.T) {
	srv := qdranttest.NewServer(t)
	s := newTestStore(t, srv, Config{})
	ctx := context.Background()
	if err := s.Upsert(ctx, fixture); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	moved := retrieval.VectorRecord{ID: "faq:e", Vector: []float32{1, 0, 0.01},
		Payload: retrieval.Payload{Kind: retrieval.KindFAQ, Category: "ferry", FAQID: "e"}}
	if err := s.Upsert(ctx, []retrieval.VectorRecord{moved}); err != nil {
		t.Fatalf("Upsert again: %v", err)
	}
	if got := len(srv.PointIDs(testCollection)); got != len(fixture) {
		t.Errorf("got %d points after replacing one, want %d", got, len(fixture))
	}
	hits, err := s.Search(ctx, []float32{1, 0, 0}, 2, retrieval.Filter{Category: "ferry"})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if got := ids(hits); !slices.Equal(got, []string{"faq:e"}) {
		t.Errorf("got %q, want [faq:e] in its new category", got)
	}

	if err := s.Delete(ctx, []string{"faq:a", "faq:e", "faq:never-stored"}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete(ctx, nil); err != nil {
		t.Errorf("Delete(nil): got %v, want nil", err)
	}
	hits, err = s.Search(ctx, []float32{1, 0, 0}, 10, retrieval.Filter{})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if got, want := ids(hits), []string{"faq:b", "doc:c#1", "doc:d#1"}; !slices.Equal(got, want) {
		t.Errorf("after delete: got %q, want %q", got, want)
	}
	if unwaited := srv.Unwaited(); unwaited != 0 {
		t.Errorf("got %d writes that did not wait, want 0: a search right after could miss them", unwaited)
	}
}

func TestDimensionErrors(t *testing.T) {
	srv := qdranttest.NewServer(t)
	s := newTestStore(t, srv, Config{})
	ctx := context.Background()
	short := []float32{1, 0}
	rec := []retrieval.VectorRecord{{ID: "faq:x", Vector: short}}
	tests := []struct {
		name string
		call func() error
	}{
		{"upsert", func() error { return s.Upsert(ctx, rec) }},
		{"upsert hybrid", func() error { return s.UpsertHybrid(ctx, rec, make([]retrieval.SparseVector, 1)) }},
		{"search", func() error { _, err := s.Search(ctx, short, 3, retrieval.Filter{}); return err }},
		{"search hybrid", func() error {
			_, err := s.SearchHybrid(ctx, short, retrieval.SparseVector{Indices: []uint32{1}, Values: []float32{1}}, 3, retrieval.Filter{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, retrieval.ErrDimension) {
				t.Errorf("got %v, want %v", err, retrieval.ErrDimension)
			}
		})
	}
}

// hybridRecord is a record with its sparse vector.
type hybridRecord struct {
	rec    retrieval.VectorRecord
	sparse retrieval.SparseVector
}

// hybridFixture has dense and sparse rankings that disagree: against the
// dense query (1, 0, 0) the order is A B C D E; against the sparse query
// {7: 1, 9: 1} it is C A E (B and D share no term with it). B, C and E are
// linked from session s1.
var hybridFixture = []hybridRecord{
	{retrieval.VectorRecord{ID: "faq:A", Vector: []float32{1, 0, 0},
		Payload: retrieval.Payload{Kind: retrieval.KindFAQ, FAQID: "A"}},
		retrieval.SparseVector{Indices: []uint32{7, 3}, Values: []float32{1, 5}}}, // sparse score 1
	{retrieval.VectorRecord{ID: "faq:B", Vector: []float32{0.9, 0.2, 0},
		Payload: retrieval.Payload{Kind: retrieval.KindFAQ, FAQID: "B", Sessions: []content.SessionID{"s1"}}},
		retrieval.SparseVector{Indices: []uint32{3}, Values: []float32{4}}}, // no shared term
	{retrieval.VectorRecord{ID: "doc:C#1", Vector: []float32{0.7, 0.7, 0},
		Payload: retrieval.Payload{Kind: retrieval.KindDoc, Category: "hotline", DocID: "C", Sessions: []content.SessionID{"s1", "s2"}}},
		retrieval.SparseVector{Indices: []uint32{7, 9}, Values: []float32{2, 1}}}, // sparse score 3
	{retrieval.VectorRecord{ID: "doc:D#1", Vector: []float32{0.2, 1, 0},
		Payload: retrieval.Payload{Kind: retrieval.KindDoc, DocID: "D"}},
		retrieval.SparseVector{}}, // stored without a sparse vector
	{retrieval.VectorRecord{ID: "faq:E", Vector: []float32{0, 0.3, 1},
		Payload: retrieval.Payload{Kind: retrieval.KindFAQ, FAQID: "E", Sessions: []content.SessionID{"s1"}}},
		retrieval.SparseVector{Indices: []uint32{9}, Values: []float32{0.5}}}, // sparse score 0.5
}

// wantRRF fuses ranked id lists by reciprocal rank fusion with the
// stand-in's constant, best first, ties by id.
func wantRRF(lists ...[]string) ([]string, map[string]float32) {
	score := map[string]float32{}
	for _, list := range lists {
		for i, id := range list {
			score[id] += 1 / float32(qdranttest.RRFK+i+1)
		}
	}
	var order []string
	for id := range score {
		order = append(order, id)
	}
	slices.SortFunc(order, func(a, b string) int {
		if score[a] != score[b] {
			if score[a] > score[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return order, score
}

func TestSearchHybrid(t *testing.T) {
	srv := qdranttest.NewServer(t)
	s := newTestStore(t, srv, Config{DenseName: "semantic", SparseName: "bm25"})
	ctx := context.Background()
	var recs []retrieval.VectorRecord
	var sparse []retrieval.SparseVector
	for _, h := range hybridFixture {
		recs = append(recs, h.rec)
		sparse = append(sparse, h.sparse)
	}
	if err := s.UpsertHybrid(ctx, recs, sparse); err != nil {
		t.Fatalf("UpsertHybrid: %v", err)
	}
	dense := []float32{1, 0, 0}
	lexical := retrieval.SparseVector{Indices: []uint32{7, 9}, Values: []float32{1, 1}}

	// The dense side alone, through the Store, is the order the fixture
	// promises.
	hits, err := s.Search(ctx, dense, 10, retrieval.Filter{})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	denseOrder := []string{"faq:A", "faq:B", "doc:C#1", "doc:D#1", "faq:E"}
	sparseOrder := []string{"doc:C#1", "faq:A", "faq:E"}
	if got := ids(hits); !slices.Equal(got, denseOrder) {
		t.Fatalf("dense order: got %q, want %q", got, denseOrder)
	}
	without := func(list []string, drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(list), func(id string) bool { return slices.Contains(drop, id) })
	}

	tests := []struct {
		name   string
		dense  []float32
		sparse retrieval.SparseVector
		k      int
		f      retrieval.Filter
		lists  [][]string // the ranked lists the fusion should see
	}{
		{"both", dense, lexical, 10, retrieval.Filter{}, [][]string{denseOrder, sparseOrder}},
		{"top 3", dense, lexical, 3, retrieval.Filter{}, [][]string{denseOrder, sparseOrder}},
		{"kind filter", dense, lexical, 10, retrieval.Filter{Kind: retrieval.KindFAQ},
			[][]string{without(denseOrder, "doc:C#1", "doc:D#1"), without(sparseOrder, "doc:C#1")}},
		{"session filter", dense, lexical, 10, retrieval.Filter{Session: "s1"},
			[][]string{without(denseOrder, "faq:A", "doc:D#1"), without(sparseOrder, "faq:A")}},
		{"sparse only", nil, lexical, 10, retrieval.Filter{}, [][]string{sparseOrder}},
		{"dense only", dense, retrieval.SparseVector{}, 10, retrieval.Filter{}, [][]string{denseOrder}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := s.SearchHybrid(ctx, tt.dense, tt.sparse, tt.k, tt.f)
			if err != nil {
				t.Fatalf("SearchHybrid: %v", err)
			}
			order, score := wantRRF(tt.lists...)
			if len(order) > tt.k {
				order = order[:tt.k]
			}
			if got := ids(hits); !slices.Equal(got, order) {
				t.Fatalf("got %q, want %q", got, order)
			}
			for _, h := range hits {
				if !near(h.Score, score[h.ID]) {
					t.Errorf("%s: got score %v, want %v", h.ID, h.Score, score[h.ID])
				}
				rec := hybridFixture[slices.IndexFunc(hybridFixture, func(x hybridRecord) bool { return x.rec.ID == h.ID })].rec
				if got, want := fmt.Sprintf("%+v", h.Payload), fmt.Sprintf("%+v", rec.Payload); got != want {
					t.Errorf("%s: got payload %s, want %s", h.ID, got, want)
				}
			}
		})
	}
	// The "both" order is neither input order: the fusion did something.
	if both, _ := wantRRF(denseOrder, sparseOrder); slices.Equal(both, denseOrder) || slices.Equal(both, sparseOrder) {
		t.Errorf("fixture: fused order %q equals an input order", both)
	}

	// The request: two prefetches on the named vectors, each filtered and
	// over max(4k, 20) candidates, fused by RRF under the same filter.
	for _, tc := range []struct{ k, limit int }{{2, 20}, {5, 20}, {8, 32}} {
		if _, err := s.SearchHybrid(ctx, dense, lexical, tc.k, retrieval.Filter{Kind: retrieval.KindFAQ}); err != nil {
			t.Fatalf("SearchHybrid k=%d: %v", tc.k, err)
		}
		q := srv.LastQuery()
		if got := q.GetQuery().GetVariant(); fmt.Sprint(got) != fmt.Sprint(qdrant.NewQueryFusion(qdrant.Fusion_RRF).GetVariant()) {
			t.Errorf("k=%d: got query %v, want fusion RRF", tc.k, got)
		}
		if q.GetLimit() != uint64(tc.k) || q.GetFilter() == nil {
			t.Errorf("k=%d: got limit %d and filter %v, want limit %d and a filter", tc.k, q.GetLimit(), q.GetFilter(), tc.k)
		}
		var using []string
		for _, pf := range q.GetPrefetch() {
			using = append(using, pf.GetUsing())
			if pf.GetLimit() != uint64(tc.limit) || pf.GetFilter() == nil {
				t.Errorf("k=%d, prefetch %s: got limit %d and filter %v, want limit %d and a filter",
					tc.k, pf.GetUsing(), pf.GetLimit(), pf.GetFilter(), tc.limit)
			}
		}
		if want := []string{"semantic", "bm25"}; !slices.Equal(using, want) {
			t.Errorf("k=%d: got prefetches using %q, want %q", tc.k, using, want)
		}
	}
}

func TestUpsertHybridMismatch(t *testing.T) {
	srv := qdranttest.NewServer(t)
	s := newTestStore(t, srv, Config{})
	ctx := context.Background()
	rec := []retrieval.VectorRecord{{ID: "faq:x", Vector: []float32{1, 0, 0}}}
	if err := s.UpsertHybrid(ctx, rec, nil); err == nil || !strings.Contains(err.Error(), "0 sparse vectors for 1 records") {
		t.Errorf("got %v, want an error about 0 sparse vectors for 1 records", err)
	}
	bad := []retrieval.SparseVector{{Indices: []uint32{1, 2}, Values: []float32{1}}}
	if err := s.UpsertHybrid(ctx, rec, bad); err == nil || !strings.Contains(err.Error(), "2 indices and 1 values") {
		t.Errorf("got %v, want an error about 2 indices and 1 values", err)
	}
}

func TestServerErrors(t *testing.T) {
	ctx := context.Background()
	rec := []retrieval.VectorRecord{{ID: "faq:x", Vector: []float32{1, 0, 0}}}
	sparse := retrieval.SparseVector{Indices: []uint32{1}, Values: []float32{1}}
	tests := []struct {
		name    string
		method  string
		call    func(*Store) error
		context string
	}{
		{"upsert", "/qdrant.Points/Upsert", func(s *Store) error { return s.Upsert(ctx, rec) }, "qdrant upsert: "},
		{"upsert hybrid", "/qdrant.Points/Upsert", func(s *Store) error {
			return s.UpsertHybrid(ctx, rec, []retrieval.SparseVector{sparse})
		}, "qdrant upsert hybrid: "},
		{"delete", "/qdrant.Points/Delete", func(s *Store) error { return s.Delete(ctx, []string{"faq:x"}) }, "qdrant delete: "},
		{"search", "/qdrant.Points/Query", func(s *Store) error {
			_, err := s.Search(ctx, []float32{1, 0, 0}, 3, retrieval.Filter{})
			return err
		}, "qdrant search: "},
		{"search hybrid", "/qdrant.Points/Query", func(s *Store) error {
			_, err := s.SearchHybrid(ctx, []float32{1, 0, 0}, sparse, 3, retrieval.Filter{})
			return err
		}, "qdrant search hybrid: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := qdranttest.NewServer(t)
			s := newTestStore(t, srv, Config{})
			srv.Fail(tt.method, status.Error(codes.Unavailable, "qdrant is restarting"))
			err := tt.call(s)
			if got := status.Code(err); got != codes.Unavailable {
				t.Errorf("got code %v (%v), want %v", got, err, codes.Unavailable)
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.context) || !strings.Contains(err.Error(), "qdrant is restarting") {
				t.Errorf("got error %q, want it to start %q and carry the server's message", err, tt.context)
			}
		})
	}

	t.Run("new", func(t *testing.T) {
		srv := qdranttest.NewServer(t)
		srv.Fail("/qdrant.Collections/CollectionExists", status.Error(codes.Unavailable, "qdrant is restarting"))
		s, err := New(ctx, Config{Host: srv.Host, Port: srv.Port, Collection: testCollection, Dim: 3,
			APIKey: "sekret-api-key", SkipCompatibilityCheck: true})
		if err == nil {
			t.Cleanup(func() { _ = s.Close() })
		}
		if got := status.Code(err); got != codes.Unavailable {
			t.Errorf("got code %v (%v), want %v", got, err, codes.Unavailable)
		}
		if err == nil || !strings.Contains(err.Error(), `qdrant collection "govlive_test"`) || strings.Contains(err.Error(), "sekret") {
			t.Errorf("got error %q, want it to name the collection and not the API key", err)
		}
	})

	t.Run("create", func(t *testing.T) {
		srv := qdranttest.NewServer(t)
		srv.Fail("/qdrant.Collections/Create", status.Error(codes.PermissionDenied, "read-only key"))
		_, err := New(ctx, Config{Host: srv.Host, Port: srv.Port, Collection: testCollection, Dim: 3, SkipCompatibilityCheck: true})
		if got := status.Code(err); got != codes.PermissionDenied {
			t.Errorf("got code %v (%v), want %v", got, err, codes.PermissionDenied)
		}
		if err == nil || !strings.HasPrefix(err.Error(), `qdrant create collection "govlive_test": `) {
			t.Errorf("got error %q, want it to start with the create context", err)
		}
	})
}
