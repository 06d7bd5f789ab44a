package retrieval

import (
	"context"
	"errors"

	"govlive/content"
)

// Kind says what a search hit or an indexed item is.
type Kind string

// The kinds of indexed items.
const (
	KindFAQ Kind = "faq" // a FAQ entry: its question, similar phrasings and answer
	KindDoc Kind = "doc" // a chunk of a policy document
)

// Embedder turns texts into vectors, one per text, in order. Vectors need
// not be normalised; the vector stores normalise them.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// VectorRecord is one vector with what search filters on.
type VectorRecord struct {
	ID      string // unique across kinds, e.g. "faq:faq-taxi-license-materials" or "doc:doc-hotline#3"
	Vector  []float32
	Payload Payload
}

// Payload is what a vector store keeps beside a vector.
type Payload struct {
	Kind     Kind
	Category string
	FAQID    content.FAQID       // for KindFAQ
	DocID    content.DocID       // for KindDoc
	Sessions []content.SessionID // sessions whose segments link this item
}

// Filter narrows a vector search; zero fields do not filter.
type Filter struct {
	Kind     Kind
	Category string
	Session  content.SessionID // only items linked from this session
	IDs      []string          // only these record ids
}

// VectorHit is one result of a vector search: the record id, the cosine
// similarity in [-1, 1], and the payload.
type VectorHit struct {
	ID      string
	Score   float32
	Payload Payload
}

// VectorStore keeps vectors and finds the nearest to a query vector by
// cosine similarity.
type VectorStore interface {
	Upsert(ctx context.Context, records []VectorRecord) error
	Delete(ctx context.Context, ids []string) error
	Search(ctx context.Context, query []float32, k int, f Filter) ([]VectorHit, error)
}

// SparseVector is a lexical query or document as weighted term indices
// (for vector stores that hold both sides of a hybrid search).
type SparseVector struct {
	Indices []uint32
	Values  []float32
}

// HybridStore is a VectorStore that also holds sparse lexical vectors and
// fuses the two result lists itself (Qdrant: prefetch + RRF).
type HybridStore interface {
	VectorStore
	UpsertHybrid(ctx context.Context, records []VectorRecord, sparse []SparseVector) error
	SearchHybrid(ctx context.Context, dense []float32, sparse SparseVector, k int, f Filter) ([]VectorHit, error)
}

// ErrDimension means a vector's length differs from the store's.
var ErrDimension = errors.New("vector dimension mismatch")
