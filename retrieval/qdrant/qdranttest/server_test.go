package qdranttest_test

import (
	"context"
	"net"
	"slices"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"govlive/retrieval/qdrant/qdranttest"
)

// newClient is a plain go-client on srv, closed when the test ends.
func newClient(t *testing.T, srv *qdranttest.Server) *qdrant.Client {
	t.Helper()
	c, err := qdrant.NewClient(&qdrant.Config{Host: srv.Host, Port: srv.Port, SkipCompatibilityCheck: true})
	if err != nil {
		t.Fatalf("qdrant.NewClient: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// TestServerRecords checks what the server reports about the calls it got:
// its address, call counts with injected failures, upserted and stored
// points, and queries.
func TestServerRecords(t *testing.T) {
	srv := qdranttest.NewServer(t)
	if want := net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port)); srv.Addr() != want || srv.Port == 0 {
		t.Errorf("got Addr %q (port %d), want %q on a real port", srv.Addr(), srv.Port, want)
	}
	c := newClient(t, srv)
	ctx := context.Background()
	if err := c.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "c",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"d": {Size: 2, Distance: qdrant.Distance_Cosine}}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {}}),
	}); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	if got := srv.CreateCount("c"); got != 1 {
		t.Errorf("got CreateCount %d, want 1", got)
	}

	a, b := uuid.NewString(), uuid.NewString()
	upsert := func(ids ...string) error {
		var points []*qdrant.PointStruct
		for _, id := range ids {
			points = append(points, &qdrant.PointStruct{
				Id: qdrant.NewIDUUID(id),
				Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
					"d": qdrant.NewVectorDense([]float32{1, 0}),
					"s": qdrant.NewVectorSparse([]uint32{3}, []float32{0.5}),
				}),
				Payload: qdrant.NewValueMap(map[string]any{"rid": id}),
			})
		}
		_, err := c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Points: points})
		return err
	}
	if err := upsert(a, b); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	if err := upsert(a); err != nil {
		t.Fatalf("Upsert again: %v", err)
	}
	if got, want := srv.Upserted(), []string{a, b, a}; !slices.Equal(got, want) {
		t.Errorf("got Upserted %q, want %q", got, want)
	}
	want := []string{a, b}
	slices.Sort(want)
	if got := srv.PointIDs("c"); !slices.Equal(got, want) {
		t.Errorf("got PointIDs %q, want %q", got, want)
	}
	points := srv.Points("c")
	if len(points) != 2 || points[0].ID != want[0] || len(points[0].Dense["d"]) != 2 ||
		!slices.Equal(points[0].Sparse["s"].GetIndices(), []uint32{3}) || points[0].Payload["rid"].GetStringValue() != want[0] {
		t.Fatalf("got Points %v, want both points with their vectors and payload", points)
	}
	// Points are copies: changing one's maps changes nothing stored.
	delete(points[0].Dense, "d")
	if got := srv.Points("c")[0].Dense["d"]; len(got) != 2 {
		t.Errorf("after changing a copy: stored dense vector %v, want it kept", got)
	}

	// An injected failure is counted as a call but is not a query.
	method := qdrant.Points_Query_FullMethodName
	srv.Fail(method, status.Error(codes.Unavailable, "down"))
	_, err := c.Query(ctx, &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQueryDense([]float32{1, 0}), Using: qdrant.PtrOf("d")})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("Query with a failure injected: got %v, want Unavailable", err)
	}
	if got := srv.Calls(method); got != 1 || len(srv.Queries()) != 0 || srv.LastQuery() != nil {
		t.Errorf("got %d calls and %d queries, want 1 call and no query", got, len(srv.Queries()))
	}
	srv.Fail(method, nil)
	hits, err := c.Query(ctx, &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQueryDense([]float32{1, 0}), Using: qdrant.PtrOf("d")})
	if err != nil || len(hits) != 2 {
		t.Errorf("Query after the failure ended: got %d hits, %v; want 2 and no error", len(hits), err)
	}
	if got := srv.Calls(method); got != 2 || len(srv.Queries()) != 1 || srv.LastQuery().GetUsing() != "d" {
		t.Errorf("got %d calls and queries %v, want 2 calls and the last query", got, srv.Queries())
	}
	if got := srv.Unwaited(); got != 0 {
		t.Errorf("got Unwaited %d, want 0", got)
	}
}
