package qdrant

import (
	"cmp"
	"context"
	"errors"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rrfK is the stand-in's reciprocal rank fusion constant: a point's fused
// score is Σ 1/(rrfK + rank) over the prefetch lists it appears in, rank
// counted from 1 (Cormack, Clarke and Büttcher 2009). Real Qdrant's
// Fusion_RRF scores 1/(position + 2) with position counted from 0
// (DEFAULT_RRF_K = 2 in lib/segment/src/common/reciprocal_rank_fusion.rs),
// so its absolute scores differ and close orders can too; these tests check
// that the Store asks for the fusion correctly and decodes the answer, not
// Qdrant's constant.
const rrfK = 60

// defaultLimit is Qdrant's result limit when a query or prefetch sets none.
const defaultLimit = 10

// standIn is an in-memory Qdrant behind the module's own generated gRPC
// services: collections (exists, get, create), points (upsert, delete by
// ids, query) and the health check. Queries do the real computation: dense
// nearest by cosine, sparse nearest by dot product over shared indices,
// Must filters (keyword match, also on list fields, and has-id), prefetch
// with RRF fusion, and limits. Anything else answers Unimplemented or
// InvalidArgument, so a request the Store should not send fails the test.
type standIn struct {
	mu           sync.Mutex
	collections  map[string]*collection
	creates      map[string]int        // CreateCollection calls by collection
	failures     map[string]error      // injected errors by full gRPC method
	apiKeys      []string              // api-key header of every call
	queries      []*qdrant.QueryPoints // every Query request, in order
	unwaited     int                   // writes that did not ask to wait
	healthChecks int
}

// collection is a stand-in collection.
type collection struct {
	vectors *qdrant.VectorsConfig
	sparse  *qdrant.SparseVectorConfig
	points  map[string]*point // by canonical UUID
}

// point is a stored point.
type point struct {
	id      string
	dense   map[string][]float32
	sparse  map[string]*qdrant.SparseVector
	payload map[string]*qdrant.Value
}

// scored is a point with a score during a query.
type scored struct {
	p     *point
	score float32
}

// Services of the stand-in, one Go type each: their method names overlap.
type (
	collectionsService struct {
		qdrant.UnimplementedCollectionsServer
		s *standIn
	}
	pointsService struct {
		qdrant.UnimplementedPointsServer
		s *standIn
	}
	healthService struct {
		qdrant.UnimplementedQdrantServer
		s *standIn
	}
)

// startStandIn serves a stand-in on 127.0.0.1:0 until the test ends and
// returns it with its port.
func startStandIn(t *testing.T) (*standIn, int) {
	t.Helper()
	s := &standIn{
		collections: map[string]*collection{},
		creates:     map[string]int{},
		failures:    map[string]error{},
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := grpc.NewServer(grpc.UnaryInterceptor(s.intercept))
	qdrant.RegisterCollectionsServer(srv, &collectionsService{s: s})
	qdrant.RegisterPointsServer(srv, &pointsService{s: s})
	qdrant.RegisterQdrantServer(srv, &healthService{s: s})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-done; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("stand-in serve: %v", err)
		}
	})
	return s, lis.Addr().(*net.TCPAddr).Port
}

// intercept records the api-key header and answers injected failures.
func (s *standIn) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	s.apiKeys = append(s.apiKeys, strings.Join(md.Get("api-key"), ","))
	err := s.failures[info.FullMethod]
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// fail makes every later call of method (e.g. "/qdrant.Points/Query")
// answer err.
func (s *standIn) fail(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = err
}

// createCount is how many times collection was created.
func (s *standIn) createCount(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates[name]
}

// lastQuery is the latest Query request.
func (s *standIn) lastQuery() *qdrant.QueryPoints {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queries) == 0 {
		return nil
	}
	return s.queries[len(s.queries)-1]
}

// pointIDs are the ids of the points in collection, sorted.
func (s *standIn) pointIDs(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	if c := s.collections[name]; c != nil {
		for id := range c.points {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// collection is the named collection; the caller holds s.mu.
func (s *standIn) collection(name string) (*collection, error) {
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
		points:  map[string]*point{},
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
	var batch []*point
	for _, ps := range req.GetPoints() {
		id, err := canonicalID(ps.GetId())
		if err != nil {
			return nil, err
		}
		named := ps.GetVectors().GetVectors()
		if named == nil {
			return nil, status.Error(codes.InvalidArgument, "stand-in: point without named vectors")
		}
		pt := &point{
			id:      id,
			dense:   map[string][]float32{},
			sparse:  map[string]*qdrant.SparseVector{},
			payload: ps.GetPayload(),
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
				pt.dense[name] = d.GetData()
			case col.hasSparse(name):
				sv := v.GetSparse()
				if sv == nil || len(sv.GetIndices()) != len(sv.GetValues()) {
					return nil, status.Errorf(codes.InvalidArgument, "stand-in: bad sparse vector %q", name)
				}
				pt.sparse[name] = sv
			default:
				return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Not existing vector name error: %s", name)
			}
		}
		batch = append(batch, pt)
	}
	for _, pt := range batch {
		col.points[pt.id] = pt
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
		out[i] = &qdrant.ScoredPoint{Id: qdrant.NewIDUUID(h.p.id), Score: h.score}
		if withPayload.GetEnable() {
			out[i].Payload = h.p.payload
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
		return cmp.Or(cmp.Compare(b.score, a.score), strings.Compare(a.p.id, b.p.id))
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
			if fused[h.p.id] == nil {
				fused[h.p.id] = &scored{p: h.p}
			}
			fused[h.p.id].score += 1 / float32(rrfK+i+1)
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
	var score func(*point) (float32, bool)
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
		score = func(p *point) (float32, bool) {
			v, ok := p.dense[using]
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
		score = func(p *point) (float32, bool) {
			v, ok := p.sparse[using]
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
func matches(p *point, f *qdrant.Filter) (bool, error) {
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
func holds(p *point, cond *qdrant.Condition) (bool, error) {
	switch c := cond.GetConditionOneOf().(type) {
	case *qdrant.Condition_Field:
		m, ok := c.Field.GetMatch().GetMatchValue().(*qdrant.Match_Keyword)
		if !ok {
			return false, status.Errorf(codes.Unimplemented, "stand-in: field condition %v, only keyword match", c.Field)
		}
		v := p.payload[c.Field.GetKey()]
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
			if id == p.id {
				return true, nil
			}
		}
		return false, nil
	default:
		return false, status.Errorf(codes.Unimplemented, "stand-in: condition %T", c)
	}
}
