// Package openai embeds texts through any OpenAI-compatible embeddings
// endpoint (OpenAI, vLLM, Ollama's /v1, DeepSeek, Qwen's compatible mode)
// with github.com/sashabaranov/go-openai, and implements
// retrieval.Embedder.
package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"govlive/retrieval"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout   = 30 * time.Second
	DefaultBatchSize = 64
)

// maxMessage caps how much of a server's error message goes into an error.
const maxMessage = 512

var (
	// ErrInvalidConfig means a Config is missing a required field or has
	// an out-of-range value.
	ErrInvalidConfig = errors.New("invalid openai embedder config")
	// ErrUnauthorized means the server refused the API key (HTTP 401 or 403).
	ErrUnauthorized = errors.New("embeddings endpoint refused the credentials")
	// ErrRateLimited means the server asked the client to slow down (HTTP 429).
	ErrRateLimited = errors.New("embeddings endpoint rate limited the request")
	// ErrTimeout means a request ran past Config.Timeout, the caller's
	// deadline or the HTTP client's own timeout.
	ErrTimeout = errors.New("embeddings request timed out")
	// ErrBadResponse means the server answered but the answer is unusable:
	// undecodable, the wrong number of vectors, an index out of range or
	// repeated, an empty vector, or the wrong dimension.
	ErrBadResponse = errors.New("bad embeddings response")
	// ErrStatus means the server answered with another HTTP error status
	// (400, 404, 5xx, …).
	ErrStatus = errors.New("embeddings endpoint returned an error status")
)

// Config configures an Embedder.
type Config struct {
	// BaseURL is the API root including the version, e.g.
	// "http://127.0.0.1:8000/v1"; requests go to BaseURL+"/embeddings".
	BaseURL string
	// Model is the embedding model name the server knows.
	Model string
	// APIKey is sent as "Authorization: Bearer <APIKey>"; empty sends no
	// Authorization header (Ollama, local vLLM). It is never logged or
	// put in an error.
	APIKey string
	// Dimensions, if positive, is sent as the request's "dimensions" field
	// and every returned vector must have exactly this length. Zero takes
	// the model's default length (all vectors of one call must agree).
	Dimensions int
	// Timeout bounds each HTTP request (one batch); zero means
	// DefaultTimeout.
	Timeout time.Duration
	// BatchSize is the most texts sent in one request; zero means
	// DefaultBatchSize.
	BatchSize int
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client
}

// Validate reports whether c can build an Embedder. The errors wrap
// ErrInvalidConfig.
func (c Config) Validate() error {
	if c.BaseURL == "" {
		return fmt.Errorf("%w: BaseURL is required", ErrInvalidConfig)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: BaseURL %q is not an http(s) URL", ErrInvalidConfig, RedactURL(c.BaseURL))
	}
	if strings.TrimSpace(c.Model) == "" {
		return fmt.Errorf("%w: Model is required", ErrInvalidConfig)
	}
	if c.Dimensions < 0 {
		return fmt.Errorf("%w: Dimensions %d is negative", ErrInvalidConfig, c.Dimensions)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: Timeout %s is negative", ErrInvalidConfig, c.Timeout)
	}
	if c.BatchSize < 0 {
		return fmt.Errorf("%w: BatchSize %d is negative", ErrInvalidConfig, c.BatchSize)
	}
	return nil
}

// String describes c with the API key redacted.
func (c Config) String() string {
	return fmt.Sprintf("openai.Config{BaseURL: %q, Model: %q, APIKey: %s, Dimensions: %d, Timeout: %s, BatchSize: %d}",
		RedactURL(c.BaseURL), c.Model, KeyState(c.APIKey), c.Dimensions, c.Timeout, c.BatchSize)
}

// GoString is String, so that %#v does not print the API key either.
func (c Config) GoString() string { return c.String() }

// LogValue describes c for log/slog with the API key redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", RedactURL(c.BaseURL)),
		slog.String("model", c.Model),
		slog.String("api_key", KeyState(c.APIKey)),
		slog.Int("dimensions", c.Dimensions),
		slog.Duration("timeout", c.Timeout),
		slog.Int("batch_size", c.BatchSize),
	)
}

// Embedder turns texts into vectors through an OpenAI-compatible
// POST {BaseURL}/embeddings. It is safe for concurrent use.
type Embedder struct {
	cfg    Config // defaults applied
	client *goopenai.Client
}

var _ retrieval.Embedder = (*Embedder)(nil)

// New checks cfg, fills in defaults and returns an Embedder. It sends no
// request.
func New(cfg Config) (*Embedder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	cc := goopenai.DefaultConfig(cfg.APIKey)
	cc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	cc.HTTPClient = cfg.HTTPClient
	return &Embedder{cfg: cfg, client: goopenai.NewClientWithConfig(cc)}, nil
}

// String describes e with the API key redacted.
func (e *Embedder) String() string { return "openai.Embedder{" + e.cfg.String() + "}" }

// GoString is String, so that %#v does not print the API key either.
func (e *Embedder) GoString() string { return e.String() }

// LogValue describes e for log/slog with the API key redacted.
func (e *Embedder) LogValue() slog.Value { return e.cfg.LogValue() }

// Embed returns one vector per text, in the order of texts. Texts are
// sent in batches of at most Config.BatchSize, one request at a time;
// the first failing batch ends the call. Each batch's vectors are placed
// by the response's index field, not by the order of the data list. No
// texts means no request and an empty result.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	dim := e.cfg.Dimensions
	for start := 0; start < len(texts); start += e.cfg.BatchSize {
		end := min(start+e.cfg.BatchSize, len(texts))
		vecs, err := e.embedBatch(ctx, texts[start:end], dim)
		if err != nil {
			return nil, fmt.Errorf("embed texts %d–%d of %d with %q: %w", start, end-1, len(texts), e.cfg.Model, err)
		}
		if dim == 0 {
			dim = len(vecs[0])
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// embedBatch sends one request and checks its answer. dim, if positive,
// is the length every vector must have.
func (e *Embedder) embedBatch(ctx context.Context, batch []string, dim int) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, e.classify(ctx, err)
	}
	rctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	resp, err := e.client.CreateEmbeddings(rctx, goopenai.EmbeddingRequestStrings{
		Input:      batch,
		Model:      goopenai.EmbeddingModel(e.cfg.Model),
		Dimensions: e.cfg.Dimensions,
	})
	if err != nil {
		return nil, e.classify(rctx, err)
	}
	if len(resp.Data) != len(batch) {
		return nil, fmt.Errorf("%w: got %d vectors for %d texts", ErrBadResponse, len(resp.Data), len(batch))
	}
	vecs := make([][]float32, len(batch))
	for _, d := range resp.Data {
		switch {
		case d.Index < 0 || d.Index >= len(batch):
			return nil, fmt.Errorf("%w: index %d outside 0..%d", ErrBadResponse, d.Index, len(batch)-1)
		case vecs[d.Index] != nil:
			return nil, fmt.Errorf("%w: index %d appears twice", ErrBadResponse, d.Index)
		case len(d.Embedding) == 0:
			return nil, fmt.Errorf("%w: empty vector at index %d", ErrBadResponse, d.Index)
		}
		if dim == 0 {
			dim = len(d.Embedding)
		}
		if len(d.Embedding) != dim {
			return nil, fmt.Errorf("%w: vector at index %d has %d dimensions, want %d", ErrBadResponse, d.Index, len(d.Embedding), dim)
		}
		vecs[d.Index] = d.Embedding
	}
	return vecs, nil
}

// classify maps an error from go-openai to one wrapping a sentinel, with
// the HTTP status and the server's message and without the API key.
// rctx is the context the request ran under.
func (e *Embedder) classify(rctx context.Context, err error) error {
	// RequestError first: when go-openai cannot read an error body (for
	// example {"error": "text"}) it returns a RequestError that wraps an
	// empty APIError with no status, which errors.As would find too.
	var reqErr *goopenai.RequestError
	var apiErr *goopenai.APIError
	switch {
	case errors.As(err, &reqErr):
		return e.statusError(reqErr.HTTPStatusCode, ServerMessage(reqErr.Body))
	case errors.As(err, &apiErr):
		return e.statusError(apiErr.HTTPStatusCode, apiErr.Message)
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("%w (request timeout %s): %w", ErrTimeout, e.cfg.Timeout, e.scrubbed(err))
	case errors.Is(err, context.Canceled), rctx.Err() != nil:
		return e.scrubbed(err)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return e.scrubbed(err) // the request did not get an answer
	}
	// What is left comes from decoding a 2xx body.
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &syntaxErr) || errors.As(err, &typeErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: decode: %s", ErrBadResponse, e.redact(err.Error()))
	}
	return e.scrubbed(err)
}

// statusError builds the error for an HTTP error status.
func (e *Embedder) statusError(code int, msg string) error {
	kind := ErrStatus
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		kind = ErrUnauthorized
	case http.StatusTooManyRequests:
		kind = ErrRateLimited
	}
	msg = e.redact(Truncate(strings.TrimSpace(msg), maxMessage))
	if msg == "" {
		return fmt.Errorf("%w: HTTP %d %s", kind, code, http.StatusText(code))
	}
	return fmt.Errorf("%w: HTTP %d %s: %s", kind, code, http.StatusText(code), msg)
}

// redact removes the API key from s.
func (e *Embedder) redact(s string) string { return Redact(s, e.cfg.APIKey) }

// scrubbed keeps err for errors.Is and errors.As but, if its text holds
// the API key, shows a redacted text instead.
func (e *Embedder) scrubbed(err error) error { return Scrub(err, e.cfg.APIKey) }
