// Package qdrant is govlive's scale-out vector store: a retrieval.HybridStore
// on a Qdrant collection, spoken to over gRPC with github.com/qdrant/go-client.
//
// Each record becomes one point with a named dense vector (cosine distance)
// and, for hybrid records, a named sparse lexical vector. Hybrid search is a
// single Query: one dense and one sparse prefetch fused by Qdrant with
// reciprocal rank fusion.
package qdrant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"

	"govlive/content"
	"govlive/retrieval"
)

// Default names of the collection's vectors.
const (
	DefaultDenseName  = "dense"
	DefaultSparseName = "lexical"
)

// Payload keys of a point.
const (
	keyRID      = "rid" // the record id; point ids are derived from it
	keyKind     = "kind"
	keyCategory = "category"
	keyFAQID    = "faq_id"
	keyDocID    = "doc_id"
	keySessions = "sessions" // list of session ids
)

// minPrefetch is the least number of candidates each side of a hybrid
// search hands to the fusion; prefetchFactor × k when that is larger.
const (
	minPrefetch    = 20
	prefetchFactor = 4
)

// ErrSchema means an existing collection's vectors are not the ones the
// Store needs (a missing named vector or a distance other than cosine).
// A wrong dense size is retrieval.ErrDimension instead.
var ErrSchema = errors.New("qdrant collection schema mismatch")

// Config says where the Qdrant server is and what the collection looks like.
type Config struct {
	Host   string // default "localhost"
	Port   int    // gRPC port, default 6334
	APIKey string // sent as the api-key header; never logged
	UseTLS bool

	Collection string // required
	Dim        int    // size of the dense vectors, required

	DenseName  string // name of the dense vector, default "dense"
	SparseName string // name of the sparse vector, default "lexical"

	// SkipCompatibilityCheck skips the client's server-version check (a
	// HealthCheck call at connect time); tests against a stand-in set it.
	SkipCompatibilityCheck bool
}

// String describes the configuration with the API key redacted.
func (c Config) String() string {
	return fmt.Sprintf("qdrant{host=%s port=%d tls=%t api_key=%s collection=%s dim=%d dense=%s sparse=%s}",
		c.Host, c.Port, c.UseTLS, redact(c.APIKey), c.Collection, c.Dim, c.DenseName, c.SparseName)
}

// LogValue logs the configuration with the API key redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.Bool("tls", c.UseTLS),
		slog.String("api_key", redact(c.APIKey)),
		slog.String("collection", c.Collection),
		slog.Int("dim", c.Dim),
		slog.String("dense", c.DenseName),
		slog.String("sparse", c.SparseName),
	)
}

func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// withDefaults fills in the vector names.
func (c Config) withDefaults() Config {
	if c.DenseName == "" {
		c.DenseName = DefaultDenseName
	}
	if c.SparseName == "" {
		c.SparseName = DefaultSparseName
	}
	return c
}

// validate checks a Config that has its defaults.
func (c Config) validate() error {
	switch {
	case c.Collection == "":
		return errors.New("no collection name")
	case c.Dim <= 0:
		return fmt.Errorf("dim %d, want > 0", c.Dim)
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("port %d out of range", c.Port)
	case c.DenseName == c.SparseName:
		return fmt.Errorf("dense and sparse vectors share the name %q", c.DenseName)
	}
	return nil
}

// Store is a retrieval.HybridStore on one Qdrant collection. It is safe for
// concurrent use.
type Store struct {
	client     *qdrant.Client
	collection string
	dim        int
	dense      string
	sparse     string
}

var _ retrieval.HybridStore = (*Store)(nil)

// New connects to Qdrant and makes sure the collection exists: it creates it
// (a named cosine dense vector of size cfg.Dim and a named sparse vector)
// when missing, and otherwise checks that it has both vectors and that the
// dense size is cfg.Dim (an error wrapping retrieval.ErrDimension if not).
// The caller must Close the Store.
func New(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("qdrant config: %w", err)
	}
	client, err := qdrant.NewClient(&qdrant.Config{
		Host:                   cfg.Host,
		Port:                   cfg.Port,
		APIKey:                 cfg.APIKey,
		UseTLS:                 cfg.UseTLS,
		SkipCompatibilityCheck: cfg.SkipCompatibilityCheck,
	})
	if err != nil {
		return nil, fmt.Errorf("qdrant connect: %w", err)
	}
	s := &Store{
		client:     client,
		collection: cfg.Collection,
		dim:        cfg.Dim,
		dense:      cfg.DenseName,
		sparse:     cfg.SparseName,
	}
	if err := s.ensureCollection(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// Close closes the connections to Qdrant.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("qdrant close: %w", err)
	}
	return nil
}

// ensureCollection creates the collection or checks the existing one.
func (s *Store) ensureCollection(ctx context.Context) error {
	exists, err := s.client.CollectionExists(ctx, s.collection)
	if err != nil {
		return fmt.Errorf("qdrant collection %q: %w", s.collection, err)
	}
	if !exists {
		err := s.client.CreateCollection(ctx, &qdrant.CreateCollection{
			CollectionName: s.collection,
			VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
				s.dense: {Size: uint64(s.dim), Distance: qdrant.Distance_Cosine},
			}),
			SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{
				s.sparse: {},
			}),
		})
		if err == nil {
			return nil
		}
		// Another process may have created it in the meantime: check that
		// one instead of failing.
		again, err2 := s.client.CollectionExists(ctx, s.collection)
		if err2 != nil || !again {
			return fmt.Errorf("qdrant create collection %q: %w", s.collection, err)
		}
	}
	return s.checkCollection(ctx)
}

// checkCollection checks an existing collection against the Store's vectors.
func (s *Store) checkCollection(ctx context.Context) error {
	info, err := s.client.GetCollectionInfo(ctx, s.collection)
	if err != nil {
		return fmt.Errorf("qdrant collection %q: %w", s.collection, err)
	}
	params := info.GetConfig().GetParams()
	dense, ok := params.GetVectorsConfig().GetParamsMap().GetMap()[s.dense]
	if !ok {
		return fmt.Errorf("qdrant collection %q has no dense vector named %q: %w", s.collection, s.dense, ErrSchema)
	}
	if dense.GetSize() != uint64(s.dim) {
		return fmt.Errorf("qdrant collection %q: vector %q has size %d, want %d: %w",
			s.collection, s.dense, dense.GetSize(), s.dim, retrieval.ErrDimension)
	}
	if dense.GetDistance() != qdrant.Distance_Cosine {
		return fmt.Errorf("qdrant collection %q: vector %q uses %s distance, want Cosine: %w",
			s.collection, s.dense, dense.GetDistance(), ErrSchema)
	}
	if _, ok := params.GetSparseVectorsConfig().GetMap()[s.sparse]; !ok {
		return fmt.Errorf("qdrant collection %q has no sparse vector named %q: %w", s.collection, s.sparse, ErrSchema)
	}
	return nil
}

// PointID is the Qdrant point id of a record id: a UUID v5 (SHA-1) of the
// record id in a govlive namespace. It is stable: changing it would orphan
// every stored point.
func PointID(recordID string) string {
	return uuid.NewSHA1(pointSpace, []byte(recordID)).String()
}

// pointSpace is the UUID namespace of PointID.
var pointSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://govlive/retrieval/qdrant/point"))

// Upsert stores records with their dense vectors only, replacing any point
// with the same id (including a sparse vector it had).
func (s *Store) Upsert(ctx context.Context, records []retrieval.VectorRecord) error {
	if err := s.upsert(ctx, records, nil); err != nil {
		return fmt.Errorf("qdrant upsert: %w", err)
	}
	return nil
}

// UpsertHybrid stores records with their dense vectors and the sparse
// vectors at the same positions, replacing any point with the same id. An
// empty sparse vector stores the point without one.
func (s *Store) UpsertHybrid(ctx context.Context, records []retrieval.VectorRecord, sparse []retrieval.SparseVector) error {
	if len(sparse) != len(records) {
		return fmt.Errorf("qdrant upsert hybrid: %d sparse vectors for %d records", len(sparse), len(records))
	}
	if err := s.upsert(ctx, records, sparse); err != nil {
		return fmt.Errorf("qdrant upsert hybrid: %w", err)
	}
	return nil
}

// upsert writes records, with sparse[i] beside records[i] when sparse is
// not nil, and waits until Qdrant has applied the write.
func (s *Store) upsert(ctx context.Context, records []retrieval.VectorRecord, sparse []retrieval.SparseVector) error {
	if len(records) == 0 {
		return nil
	}
	points := make([]*qdrant.PointStruct, 0, len(records))
	for i, r := range records {
		if r.ID == "" {
			return fmt.Errorf("record %d has no id", i)
		}
		if len(r.Vector) != s.dim {
			return fmt.Errorf("record %q: %d dimensions, want %d: %w", r.ID, len(r.Vector), s.dim, retrieval.ErrDimension)
		}
		vectors := map[string]*qdrant.Vector{s.dense: qdrant.NewVectorDense(r.Vector)}
		if sparse != nil {
			sv := sparse[i]
			if len(sv.Indices) != len(sv.Values) {
				return fmt.Errorf("record %q: sparse vector has %d indices and %d values", r.ID, len(sv.Indices), len(sv.Values))
			}
			if len(sv.Indices) > 0 {
				vectors[s.sparse] = qdrant.NewVectorSparse(sv.Indices, sv.Values)
			}
		}
		points = append(points, &qdrant.PointStruct{
			Id:      qdrant.NewIDUUID(PointID(r.ID)),
			Vectors: qdrant.NewVectorsMap(vectors),
			Payload: encodePayload(r.ID, r.Payload),
		})
	}
	_, err := s.client.Upsert(ctx, &qdrant.UpsertPoints{
		CollectionName: s.collection,
		Wait:           qdrant.PtrOf(true),
		Points:         points,
	})
	return err
}

// Delete removes the records with these ids; unknown ids are ignored.
func (s *Store) Delete(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.client.Delete(ctx, &qdrant.DeletePoints{
		CollectionName: s.collection,
		Wait:           qdrant.PtrOf(true),
		Points:         qdrant.NewPointsSelectorIDs(pointIDs(ids)),
	})
	if err != nil {
		return fmt.Errorf("qdrant delete: %w", err)
	}
	return nil
}

// Count returns the exact number of points in the collection.
func (s *Store) Count(ctx context.Context) (int, error) {
	n, err := s.client.Count(ctx, &qdrant.CountPoints{CollectionName: s.collection, Exact: qdrant.PtrOf(true)})
	if err != nil {
		return 0, fmt.Errorf("qdrant count: %w", err)
	}
	return int(n), nil
}

// Search returns the k records nearest to query by cosine similarity among
// those that pass f, nearest first.
func (s *Store) Search(ctx context.Context, query []float32, k int, f retrieval.Filter) ([]retrieval.VectorHit, error) {
	if len(query) != s.dim {
		return nil, fmt.Errorf("qdrant search: query has %d dimensions, want %d: %w", len(query), s.dim, retrieval.ErrDimension)
	}
	if k <= 0 {
		return nil, nil
	}
	points, err := s.client.Query(ctx, &qdrant.QueryPoints{
		CollectionName: s.collection,
		Query:          qdrant.NewQueryDense(query),
		Using:          qdrant.PtrOf(s.dense),
		Filter:         buildFilter(f),
		Limit:          qdrant.PtrOf(uint64(k)),
		WithPayload:    qdrant.NewWithPayloadEnable(true),
	})
	if err != nil {
		return nil, fmt.Errorf("qdrant search: %w", err)
	}
	hits, err := decodeHits(points)
	if err != nil {
		return nil, fmt.Errorf("qdrant search: %w", err)
	}
	return hits, nil
}

// SearchHybrid returns the k best records among those that pass f by
// reciprocal rank fusion (done by Qdrant) of a dense and a sparse search,
// each over max(4k, 20) candidates. Scores are fusion scores, not cosine
// similarities: only their order means something. An empty sparse query
// fuses the dense list alone; an empty dense query the sparse list alone.
func (s *Store) SearchHybrid(ctx context.Context, dense []float32, sparse retrieval.SparseVector, k int, f retrieval.Filter) ([]retrieval.VectorHit, error) {
	if len(dense) != 0 && len(dense) != s.dim {
		return nil, fmt.Errorf("qdrant search hybrid: dense query has %d dimensions, want %d: %w", len(dense), s.dim, retrieval.ErrDimension)
	}
	if len(sparse.Indices) != len(sparse.Values) {
		return nil, fmt.Errorf("qdrant search hybrid: sparse query has %d indices and %d values", len(sparse.Indices), len(sparse.Values))
	}
	if k <= 0 || (len(dense) == 0 && len(sparse.Indices) == 0) {
		return nil, nil
	}
	limit := qdrant.PtrOf(uint64(max(k*prefetchFactor, minPrefetch)))
	filter := buildFilter(f)
	var prefetch []*qdrant.PrefetchQuery
	if len(dense) != 0 {
		prefetch = append(prefetch, &qdrant.PrefetchQuery{
			Query:  qdrant.NewQueryDense(dense),
			Using:  qdrant.PtrOf(s.dense),
			Filter: filter,
			Limit:  limit,
		})
	}
	if len(sparse.Indices) != 0 {
		prefetch = append(prefetch, &qdrant.PrefetchQuery{
			Query:  qdrant.NewQuerySparse(sparse.Indices, sparse.Values),
			Using:  qdrant.PtrOf(s.sparse),
			Filter: filter,
			Limit:  limit,
		})
	}
	points, err := s.client.Query(ctx, &qdrant.QueryPoints{
		CollectionName: s.collection,
		Prefetch:       prefetch,
		Query:          qdrant.NewQueryFusion(qdrant.Fusion_RRF),
		Filter:         filter,
		Limit:          qdrant.PtrOf(uint64(k)),
		WithPayload:    qdrant.NewWithPayloadEnable(true),
	})
	if err != nil {
		return nil, fmt.Errorf("qdrant search hybrid: %w", err)
	}
	hits, err := decodeHits(points)
	if err != nil {
		return nil, fmt.Errorf("qdrant search hybrid: %w", err)
	}
	return hits, nil
}

// pointIDs maps record ids to point ids.
func pointIDs(ids []string) []*qdrant.PointId {
	out := make([]*qdrant.PointId, len(ids))
	for i, id := range ids {
		out[i] = qdrant.NewIDUUID(PointID(id))
	}
	return out
}

// buildFilter turns f into Must conditions; nil when f filters nothing.
func buildFilter(f retrieval.Filter) *qdrant.Filter {
	var must []*qdrant.Condition
	if f.Kind != "" {
		must = append(must, qdrant.NewMatchKeyword(keyKind, string(f.Kind)))
	}
	if f.Category != "" {
		must = append(must, qdrant.NewMatchKeyword(keyCategory, f.Category))
	}
	if f.Session != "" {
		// A keyword match on a list field matches when any element does.
		must = append(must, qdrant.NewMatchKeyword(keySessions, string(f.Session)))
	}
	if len(f.IDs) > 0 {
		must = append(must, qdrant.NewHasID(pointIDs(f.IDs)...))
	}
	if len(must) == 0 {
		return nil
	}
	return &qdrant.Filter{Must: must}
}

// encodePayload is the point payload of a record.
func encodePayload(id string, p retrieval.Payload) map[string]*qdrant.Value {
	sessions := make([]*qdrant.Value, len(p.Sessions))
	for i, s := range p.Sessions {
		sessions[i] = qdrant.NewValueString(string(s))
	}
	return map[string]*qdrant.Value{
		keyRID:      qdrant.NewValueString(id),
		keyKind:     qdrant.NewValueString(string(p.Kind)),
		keyCategory: qdrant.NewValueString(p.Category),
		keyFAQID:    qdrant.NewValueString(string(p.FAQID)),
		keyDocID:    qdrant.NewValueString(string(p.DocID)),
		keySessions: qdrant.NewValueFromList(sessions...),
	}
}

// decodeHits turns scored points into hits, in order.
func decodeHits(points []*qdrant.ScoredPoint) ([]retrieval.VectorHit, error) {
	hits := make([]retrieval.VectorHit, 0, len(points))
	for _, p := range points {
		pl := p.GetPayload()
		rid := pl[keyRID].GetStringValue()
		if rid == "" {
			return nil, fmt.Errorf("point %s has no %q in its payload", pointIDString(p.GetId()), keyRID)
		}
		var sessions []content.SessionID
		for _, v := range pl[keySessions].GetListValue().GetValues() {
			sessions = append(sessions, content.SessionID(v.GetStringValue()))
		}
		hits = append(hits, retrieval.VectorHit{
			ID:    rid,
			Score: p.GetScore(),
			Payload: retrieval.Payload{
				Kind:     retrieval.Kind(pl[keyKind].GetStringValue()),
				Category: pl[keyCategory].GetStringValue(),
				FAQID:    content.FAQID(pl[keyFAQID].GetStringValue()),
				DocID:    content.DocID(pl[keyDocID].GetStringValue()),
				Sessions: sessions,
			},
		})
	}
	return hits, nil
}

// pointIDString formats a point id for an error message.
func pointIDString(id *qdrant.PointId) string {
	if u := id.GetUuid(); u != "" {
		return u
	}
	return fmt.Sprint(id.GetNum())
}
