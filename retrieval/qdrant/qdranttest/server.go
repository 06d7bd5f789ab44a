// Package qdranttest provides an in-memory Qdrant server for tests, as
// net/http/httptest does for HTTP: a stand-in behind qdrant/go-client's own
// generated gRPC services, served on a loopback port, that a real
// qdrant.Client (and so govlive's retrieval/qdrant Store) can talk to.
//
// It is for tests only: no non-test code may import it.
//
// The stand-in implements what govlive sends — collections (exists, get,
// create), points (upsert, delete by ids, query) and the health check —
// and does the real computation: dense nearest by cosine, sparse nearest
// by dot product over shared indices, Must filters (keyword match, also on
// list fields, and has-id), prefetch with reciprocal rank fusion, and
// limits. Anything else answers Unimplemented or InvalidArgument, so a
// request the client should not send fails the test.
package qdranttest

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// RRFK is the stand-in's reciprocal rank fusion constant: a point's fused
// score is Σ 1/(RRFK + rank) over the prefetch lists it appears in, rank
// counted from 1 (Cormack, Clarke and Büttcher 2009). Real Qdrant's
// Fusion_RRF scores 1/(position + 2) with position counted from 0
// (DEFAULT_RRF_K = 2 in lib/segment/src/common/reciprocal_rank_fusion.rs),
// so its absolute scores differ and close orders can too; tests on the
// stand-in check that a client asks for the fusion correctly and decodes
// the answer, not Qdrant's constant.
const RRFK = 60

// defaultLimit is Qdrant's result limit when a query or prefetch sets none.
const defaultLimit = 10

// Server is an in-memory Qdrant serving gRPC on 127.0.0.1. Its methods
// are safe for concurrent use.
type Server struct {
	// Host and Port are where the server listens: pass them to
	// qdrant.Config (with SkipCompatibilityCheck unless the test is about
	// the health check).
	Host string
	Port int

	mu           sync.Mutex
	collections  map[string]*collection
	creates      map[string]int        // CreateCollection calls by collection
	failures     map[string]error      // injected errors by full gRPC method
	calls        map[string]int        // calls by full gRPC method, failed ones included
	apiKeys      []string              // api-key header of every call
	queries      []*qdrant.QueryPoints // every Query request, in order
	upserted     []string              // ids of the points of every accepted Upsert, in order
	unwaited     int                   // writes that did not ask to wait
	healthChecks int
}

// Point is a stored point as the stand-in holds it.
type Point struct {
	ID      string // canonical UUID
	Dense   map[string][]float32
	Sparse  map[string]*qdrant.SparseVector
	Payload map[string]*qdrant.Value
}

// collection is a stand-in collection.
type collection struct {
	vectors *qdrant.VectorsConfig
	sparse  *qdrant.SparseVectorConfig
	points  map[string]*Point // by canonical UUID
}

// scored is a point with a score during a query.
type scored struct {
	p     *Point
	score float32
}

// Services of the stand-in, one Go type each: their method names overlap.
type (
	collectionsService struct {
		qdrant.UnimplementedCollectionsServer
		s *Server
	}
	pointsService struct {
		qdrant.UnimplementedPointsServer
		s *Server
	}
	healthService struct {
		qdrant.UnimplementedQdrantServer
		s *Server
	}
)

// NewServer serves a new, empty stand-in on 127.0.0.1:0 until tb ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		collections: map[string]*collection{},
		creates:     map[string]int{},
		failures:    map[string]error{},
		calls:       map[string]int{},
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("qdranttest: listen: %v", err)
	}
	addr := lis.Addr().(*net.TCPAddr)
	s.Host, s.Port = addr.IP.String(), addr.Port
	srv := grpc.NewServer(
		grpc.UnaryInterceptor(s.intercept),
		// qdrant.Client pings every 10 s, even when idle; like Qdrant,
		// accept that rather than answer GOAWAY "too_many_pings".
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	)
	qdrant.RegisterCollectionsServer(srv, &collectionsService{s: s})
	qdrant.RegisterPointsServer(srv, &pointsService{s: s})
	qdrant.RegisterQdrantServer(srv, &healthService{s: s})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	tb.Cleanup(func() {
		srv.Stop()
		if err := <-done; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			tb.Errorf("qdranttest: serve: %v", err)
		}
	})
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// intercept counts the call, records the api-key header and answers
// injected failures.
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	s.calls[info.FullMethod]++
	s.apiKeys = append(s.apiKeys, strings.Join(md.Get("api-key"), ","))
	err := s.failures[info.FullMethod]
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// Fail makes every later call of the full gRPC method (e.g.
// qdrant.Points_Query_FullMethodName, "/qdrant.Points/Query") answer err,
// typically a status error; a nil err ends the failure.
func (s *Server) Fail(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = err
}

// Calls is how many calls of the full gRPC method reached the server,
// including those answered with an injected failure (which Queries does
// not list).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// CreateCount is how many times the collection was created.
func (s *Server) CreateCount(collection string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates[collection]
}

// HealthChecks is how many health checks the server answered.
func (s *Server) HealthChecks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.healthChecks
}

// APIKeys are the api-key headers of every call, in order ("" for a call
// without one; values of a repeated header joined by commas).
func (s *Server) APIKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.apiKeys)
}

// Unwaited is how many writes (upserts and deletes) did not ask to wait
// until they were applied.
func (s *Server) Unwaited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unwaited
}

// Queries are the Query requests that reached the points service, in
// order, including those it answered with an error (but not those
// answered with an injected failure). The caller must not modify them.
func (s *Server) Queries() []*qdrant.QueryPoints {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

// LastQuery is the latest Query request, or nil. The caller must not
// modify it.
func (s *Server) LastQuery() *qdrant.QueryPoints {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queries) == 0 {
		return nil
	}
	return s.queries[len(s.queries)-1]
}

// Upserted are the ids of the points of every accepted Upsert request, in
// order: a point upserted twice is listed twice.
func (s *Server) Upserted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.upserted)
}

// PointIDs are the ids of the points in the collection, sorted.
func (s *Server) PointIDs(collection string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	if c := s.collections[collection]; c != nil {
		for id := range c.points {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Points are copies of the points in the collection, sorted by id. The
// vectors and payload values are shared with the server: the caller must
// not modify them.
func (s *Server) Points(collection string) []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Point
	if c := s.collections[collection]; c != nil {
		for _, p := range c.points {
			out = append(out, Point{
				ID:      p.ID,
				Dense:   maps.Clone(p.Dense),
				Sparse:  maps.Clone(p.Sparse),
				Payload: maps.Clone(p.Payload),
			})
		}
	}
	slices.SortFunc(out, func(a, b Point) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// collection is the named collection; the caller holds s.mu.
func (s *Server) collection(name string) (*collection, error) {
	c := s.collections[name]
	if c == nil {
		return nil, status.Errorf(codes.NotFound, "Not found: Collection `%s` doesn't exist!", name)
	}
	return c, nil
}

func (h *healthService) HealthCheck(context.Context, *qdrant.HealthCheckRequest) (*qdrant.HealthCheckReply, error) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.healthChecks++
	return &qdrant.HealthCheckReply{Title: "qdrant stand-in", Version: "1.17.0"}, nil
}

func (c *collectionsService) CollectionExists(_ context.Context, req *qdrant.CollectionExistsRequest) (*qdrant.CollectionExistsResponse, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	_, ok := c.s.collections[req.GetCollectionName()]
	return &qdrant.CollectionExistsResponse{Result: &qdrant.CollectionExists{Exists: ok}}, nil
}

func (c *collectionsService) Get(_ context.Context, req *qdrant.GetCollectionInfoRequest) (*qdrant.GetCollectionInfoResponse, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	col, err := c.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	n := uint64(len(col.points))
	return &qdrant.GetCollectionInfoResponse{Result: &qdrant.CollectionInfo{
		Status:      qdrant.CollectionStatus_Green,
		PointsCount: &n,
		Config: &qdrant.CollectionConfig{Params: &qdrant.CollectionParams{
			ShardNumber:         1,
			VectorsConfig:       col.vectors,
			SparseVectorsConfig: col.sparse,
		}},
	}}, nil
}

func (c *collectionsService) Create(_ context.Context, req *qdrant.CreateCollection) (*qdrant.CollectionOperationResponse, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	name := req.GetCollectionName()
	if _, ok := c.s.collections[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Wrong input: Collection `%s` already exists!", name)
	}
	if req.GetVectorsConfig() == nil {
		return nil, status.Error(codes.InvalidArgument, "stand-in: collection without vectors_config")
	}
	c.s.creates[name]++
	c.s.collections[name] = &collection{
		vectors: req.GetVectorsConfig(),
		sparse:  req.GetSparseVectorsConfig(),
		points:  map[string]*Point{},
	}
	return &qdrant.CollectionOperationResponse{Result: true}, nil
}

// denseParams is the named dense vector's configuration, or nil.
func (c *collection) denseParams(name string) *qdrant.VectorParams {
	if p := c.vectors.GetParams(); p != nil {
		if name == "" {
			return p
		}
		return nil
	}
	return c.vectors.GetParamsMap().GetMap()[name]
}

// hasSparse says whether the collection has a sparse vector of this name.
func (c *collection) hasSparse(name string) bool {
	_, ok := c.sparse.GetMap()[name]
	return ok
}

// canonicalID is the canonical form of a UUID point id.
func canonicalID(id *qdrant.PointId) (string, error) {
	u, err := uuid.Parse(id.GetUuid())
	if err != nil {
		return "", status.Errorf(codes.InvalidArgument, "stand-in: point id %v is not a UUID", id)
	}
	return u.String(), nil
}

func (p *pointsService) Upsert(_ context.Context, req *qdrant.UpsertPoints) (*qdrant.PointsOperationResponse, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	col, err := p.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if !req.GetWait() {
		p.s.unwaited++
	}
	// Check every point before storing any, as Qdrant rejects the batch.
	var batch []*Point
	for _, ps := range req.GetPoints() {
		id, err := canonicalID(ps.GetId())
		if err != nil {
			return nil, err
		}
		named := ps.GetVectors().GetVectors()
		if named == nil {
			return nil, status.Error(codes.InvalidArgument, "stand-in: point without named vectors")
		}
		pt := &Point{
			ID:      id,
			Dense:   map[string][]float32{},
			Sparse:  map[string]*qdrant.SparseVector{},
			Payload: ps.GetPayload(),
		}
		for name, v := range named.GetVectors() {
			switch {
			case col.denseParams(name) != nil:
				d := v.GetDense()
				if d == nil {
					return nil, status.Errorf(codes.InvalidArgument, "stand-in: vector %q not in the Dense oneof", name)
				}
				if want := col.denseParams(name).GetSize(); uint64(len(d.GetData())) != want {
					return nil, status.Errorf(codes.InvalidArgument,
						"Wrong input: Vector dimension error: expected dim: %d, got %d", want, len(d.GetData()))
				}
				pt.Dense[name] = d.GetData()
			case col.hasSparse(name):
				sv := v.GetSparse()
				if sv == nil || len(sv.GetIndices()) != len(sv.GetValues()) {
					return nil, status.Errorf(codes.InvalidArgument, "stand-in: bad sparse vector %q", name)
				}
				pt.Sparse[name] = sv
			default:
				return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Not existing vector name error: %s", name)
			}
		}
		batch = append(batch, pt)
	}
	for _, pt := range batch {
		col.points[pt.ID] = pt
		p.s.upserted = append(p.s.upserted, pt.ID)
	}
	return &qdrant.PointsOperationResponse{Result: &qdrant.UpdateResult{Status: qdrant.UpdateStatus_Completed}}, nil
}

func (p *pointsService) Delete(_ context.Context, req *qdrant.DeletePoints) (*qdrant.PointsOperationResponse, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	col, err := p.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if !req.GetWait() {
		p.s.unwaited++
	}
	ids := req.GetPoints().GetPoints()
	if ids == nil {
		return nil, status.Error(codes.Unimplemented, "stand-in: delete by filter")
	}
	for _, pid := range ids.GetIds() {
		id, err := canonicalID(pid)
		if err != nil {
			return nil, err
		}
		delete(col.points, id)
	}
	return &qdrant.PointsOperationResponse{Result: &qdrant.UpdateResult{Status: qdrant.UpdateStatus_Completed}}, nil
}

// Count answers the number of points of a collection (filters are not
// supported: the store never sends one).
func (p *pointsService) Count(_ context.Context, req *qdrant.CountPoints) (*qdrant.CountResponse, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	col, err := p.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if req.GetFilter() != nil {
		return nil, status.Error(codes.Unimplemented, "stand-in: count with a filter")
	}
	return &qdrant.CountResponse{Result: &qdrant.CountResult{Count: uint64(len(col.points))}}, nil
}

func (p *pointsService) Query(_ context.Context, req *qdrant.QueryPoints) (*qdrant.QueryResponse, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	p.s.queries = append(p.s.queries, req)
	col, err := p.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if req.Offset != nil || req.ScoreThreshold != nil {
		return nil, status.Error(codes.Unimplemented, "stand-in: offset and score_threshold")
	}
	hits, err := col.run(req.GetPrefetch(), req.GetQuery(), req.GetUsing(), req.GetFilter(), req.Limit)
	if err != nil {
		return nil, err
	}
	withPayload := req.GetWithPayload()
	if withPayload.GetInclude() != nil || withPayload.GetExclude() != nil {
		return nil, status.Error(codes.Unimplemented, "stand-in: payload selectors")
	}
	out := make([]*qdrant.ScoredPoint, len(hits))
	for i, h := range hits {
		out[i] = &qdrant.ScoredPoint{Id: qdrant.NewIDUUID(h.p.ID), Score: h.score}
		if withPayload.GetEnable() {
			out[i].Payload = h.p.Payload
		}
	}
	return &qdrant.QueryResponse{Result: out}, nil
}

// run answers one query stage: fusion of its prefetches, or a nearest
// search when it has none.
func (c *collection) run(prefetch []*qdrant.PrefetchQuery, q *qdrant.Query, using string, f *qdrant.Filter, limit *uint64) ([]scored, error) {
	n := uint64(defaultLimit)
	if limit != nil {
		n = *limit
	}
	var hits []scored
	var err error
	if len(prefetch) > 0 {
		hits, err = c.fuse(prefetch, q, f)
	} else {
		hits, err = c.nearest(q, using, f)
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(hits, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.score, a.score), strings.Compare(a.p.ID, b.p.ID))
	})
	if uint64(len(hits)) > n {
		hits = hits[:n]
	}
	return hits, nil
}

// fuse runs the prefetches and fuses their lists by RRF, keeping the points
// that pass the stage's filter.
func (c *collection) fuse(prefetch []*qdrant.PrefetchQuery, q *qdrant.Query, f *qdrant.Filter) ([]scored, error) {
	if _, ok := q.GetVariant().(*qdrant.Query_Fusion); !ok || q.GetFusion() != qdrant.Fusion_RRF {
		return nil, status.Errorf(codes.Unimplemented, "stand-in: prefetch with query %v, only Fusion RRF", q)
	}
	fused := map[string]*scored{}
	for _, pf := range prefetch {
		list, err := c.run(pf.GetPrefetch(), pf.GetQuery(), pf.GetUsing(), pf.GetFilter(), pf.Limit)
		if err != nil {
			return nil, err
		}
		for i, h := range list {
			ok, err := matches(h.p, f)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			if fused[h.p.ID] == nil {
				fused[h.p.ID] = &scored{p: h.p}
			}
			fused[h.p.ID].score += 1 / float32(RRFK+i+1)
		}
	}
	out := make([]scored, 0, len(fused))
	for _, h := range fused {
		out = append(out, *h)
	}
	return out, nil
}

// nearest scores every point that passes f against a dense or sparse query
// on the named vector.
func (c *collection) nearest(q *qdrant.Query, using string, f *qdrant.Filter) ([]scored, error) {
	in := q.GetNearest()
	if in == nil {
		return nil, status.Errorf(codes.Unimplemented, "stand-in: query %v without prefetch, only nearest", q)
	}
	var score func(*Point) (float32, bool)
	switch {
	case in.GetDense() != nil:
		params := c.denseParams(using)
		if params == nil {
			return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Not existing vector name error: %s", using)
		}
		query := in.GetDense().GetData()
		if uint64(len(query)) != params.GetSize() {
			return nil, status.Errorf(codes.InvalidArgument,
				"Wrong input: Vector dimension error: expected dim: %d, got %d", params.GetSize(), len(query))
		}
		score = func(p *Point) (float32, bool) {
			v, ok := p.Dense[using]
			if !ok {
				return 0, false
			}
			return cosine(query, v), true
		}
	case in.GetSparse() != nil:
		if !c.hasSparse(using) {
			return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Not existing vector name error: %s", using)
		}
		query := in.GetSparse()
		score = func(p *Point) (float32, bool) {
			v, ok := p.Sparse[using]
			if !ok {
				return 0, false
			}
			return sparseDot(query, v)
		}
	default:
		return nil, status.Errorf(codes.Unimplemented, "stand-in: nearest %v, only dense and sparse", in)
	}
	var out []scored
	for _, p := range c.points {
		ok, err := matches(p, f)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if s, ok := score(p); ok {
			out = append(out, scored{p: p, score: s})
		}
	}
	return out, nil
}

// cosine is the cosine similarity of a and b, 0 when either is zero.
func cosine(a, b []float32) float32 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return float32(dot / math.Sqrt(na*nb))
}

// sparseDot is the dot product over the indices a and b share; false when
// they share none (such points are not in a sparse result).
func sparseDot(a, b *qdrant.SparseVector) (float32, bool) {
	weights := map[uint32]float32{}
	for i, idx := range b.GetIndices() {
		weights[idx] = b.GetValues()[i]
	}
	var dot float32
	shared := false
	for i, idx := range a.GetIndices() {
		if w, ok := weights[idx]; ok {
			dot += a.GetValues()[i] * w
			shared = true
		}
	}
	return dot, shared
}

// matches says whether p passes f; only Must conditions are implemented.
func matches(p *Point, f *qdrant.Filter) (bool, error) {
	if f == nil {
		return true, nil
	}
	if len(f.GetShould()) > 0 || len(f.GetMustNot()) > 0 || f.GetMinShould() != nil {
		return false, status.Error(codes.Unimplemented, "stand-in: should, must_not and min_should")
	}
	for _, cond := range f.GetMust() {
		ok, err := holds(p, cond)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// holds says whether p satisfies one condition: a keyword match on a field
// (on a list field, any element) or has-id.
func holds(p *Point, cond *qdrant.Condition) (bool, error) {
	switch c := cond.GetConditionOneOf().(type) {
	case *qdrant.Condition_Field:
		m, ok := c.Field.GetMatch().GetMatchValue().(*qdrant.Match_Keyword)
		if !ok {
			return false, status.Errorf(codes.Unimplemented, "stand-in: field condition %v, only keyword match", c.Field)
		}
		v := p.Payload[c.Field.GetKey()]
		if list := v.GetListValue(); list != nil {
			return slices.ContainsFunc(list.GetValues(), func(e *qdrant.Value) bool {
				return e.GetStringValue() == m.Keyword
			}), nil
		}
		_, isString := v.GetKind().(*qdrant.Value_StringValue)
		return isString && v.GetStringValue() == m.Keyword, nil
	case *qdrant.Condition_HasId:
		for _, pid := range c.HasId.GetHasId() {
			id, err := canonicalID(pid)
			if err != nil {
				return false, err
			}
			if id == p.ID {
				return true, nil
			}
		}
		return false, nil
	default:
		return false, status.Errorf(codes.Unimplemented, "stand-in: condition %T", c)
	}
}
