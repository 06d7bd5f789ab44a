package openai

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"govlive/retrieval/openai/openaitest"
)

const (
	testKey   = "sk-test-9f8e7d6c5b4a"
	testModel = "bge-m3"
)

// testDim is the stand-in's vector length when a request sets none.
const testDim = 8

// respondFunc replaces the stand-in's answer to a well-formed, authorised
// request.
type respondFunc = func(w http.ResponseWriter, r *http.Request, req openaitest.EmbeddingRequest)

// newFakeServer is an OpenAI-compatible embeddings endpoint on 127.0.0.1
// that checks the key and the model like a real server, embeds each text
// with openaitest.BigramVector and returns the data list reversed, so
// that only the index field gives the order; respond, if set, replaces
// that answer.
func newFakeServer(t *testing.T, respond respondFunc) *openaitest.Server {
	t.Helper()
	return openaitest.New(t, openaitest.Options{
		Key: testKey, Models: []string{testModel}, Dim: testDim, Reverse: true, Embeddings: respond,
	})
}

// writeData answers data as the test model's embeddings.
func writeData(w http.ResponseWriter, data []openaitest.Embedding) {
	openaitest.WriteEmbeddings(w, testModel, data)
}

// newEmbedder returns an Embedder for f with the test key and model and
// whatever else cfg sets.
func newEmbedder(t *testing.T, f *openaitest.Server, cfg Config) *Embedder {
	t.Helper()
	cfg.BaseURL = f.URL()
	if cfg.Model == "" {
		cfg.Model = testModel
	}
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"minimal", Config{BaseURL: "http://127.0.0.1:8000/v1", Model: "m"}, true},
		{"everything", Config{BaseURL: "https://api.example.com/v1/", Model: "m", APIKey: "k", Dimensions: 256, Timeout: time.Second, BatchSize: 8, HTTPClient: &http.Client{}}, true},
		{"no base URL", Config{Model: "m"}, false},
		{"no model", Config{BaseURL: "http://127.0.0.1:8000/v1"}, false},
		{"blank model", Config{BaseURL: "http://127.0.0.1:8000/v1", Model: "  "}, false},
		{"no scheme", Config{BaseURL: "127.0.0.1:8000/v1", Model: "m"}, false},
		{"other scheme", Config{BaseURL: "ftp://host/v1", Model: "m"}, false},
		{"negative dimensions", Config{BaseURL: "http://h/v1", Model: "m", Dimensions: -1}, false},
		{"negative timeout", Config{BaseURL: "http://h/v1", Model: "m", Timeout: -time.Second}, false},
		{"negative batch", Config{BaseURL: "http://h/v1", Model: "m", BatchSize: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.cfg)
			if tt.ok {
				if err != nil || e == nil {
					t.Fatalf("New: got %v, want an Embedder", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New: got %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	e, err := New(Config{BaseURL: "http://127.0.0.1:8000/v1", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if e.cfg.Timeout != DefaultTimeout {
		t.Errorf("Timeout: got %s, want %s", e.cfg.Timeout, DefaultTimeout)
	}
	if e.cfg.BatchSize != DefaultBatchSize {
		t.Errorf("BatchSize: got %d, want %d", e.cfg.BatchSize, DefaultBatchSize)
	}
}

func TestEmbedBatchesAndKeepsOrder(t *testing.T) {
	f := newFakeServer(t, nil)
	e := newEmbedder(t, f, Config{BatchSize: 2})
	texts := []string{"办理出租车驾驶员证需要什么材料", "a", "bb", "网约车", "ccc"}

	got, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if len(got) != len(texts) {
		t.Fatalf("got %d vectors, want %d", len(got), len(texts))
	}
	for i := range texts {
		for j := range i {
			if slices.Equal(openaitest.BigramVector(texts[i], testDim), openaitest.BigramVector(texts[j], testDim)) {
				t.Fatalf("texts %q and %q have the same vector: the order could not be checked", texts[i], texts[j])
			}
		}
	}
	for i, text := range texts {
		if want := openaitest.BigramVector(text, testDim); !slices.Equal(got[i], want) {
			t.Errorf("vector %d (%q): got %v, want %v", i, text, got[i], want)
		}
	}
	reqs := f.EmbeddingRequests()
	wantInputs := [][]string{texts[0:2], texts[2:4], texts[4:5]}
	if len(reqs) != len(wantInputs) {
		t.Fatalf("got %d requests, want %d", len(reqs), len(wantInputs))
	}
	for i, req := range reqs {
		if !slices.Equal(req.Input, wantInputs[i]) {
			t.Errorf("request %d input: got %q, want %q", i, req.Input, wantInputs[i])
		}
		if req.Dimensions != nil {
			t.Errorf("request %d: got dimensions %d, want the field absent", i, *req.Dimensions)
		}
	}
}

func TestEmbedDefaultBatchSize(t *testing.T) {
	f := newFakeServer(t, nil)
	e := newEmbedder(t, f, Config{})
	texts := make([]string, DefaultBatchSize+1)
	for i := range texts {
		texts[i] = fmt.Sprintf("text %d", i)
	}
	got, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if len(got) != len(texts) {
		t.Fatalf("got %d vectors, want %d", len(got), len(texts))
	}
	reqs := f.EmbeddingRequests()
	if len(reqs) != 2 || len(reqs[0].Input) != DefaultBatchSize || len(reqs[1].Input) != 1 {
		sizes := make([]int, len(reqs))
		for i, r := range reqs {
			sizes[i] = len(r.Input)
		}
		t.Fatalf("batch sizes: got %v, want [%d 1]", sizes, DefaultBatchSize)
	}
}

func TestEmbedEmptyInputSendsNothing(t *testing.T) {
	f := newFakeServer(t, nil)
	e := newEmbedder(t, f, Config{})
	for _, in := range [][]string{nil, {}} {
		got, err := e.Embed(context.Background(), in)
		if err != nil {
			t.Fatalf("Embed(%v): %v", in, err)
		}
		if got == nil || len(got) != 0 {
			t.Errorf("Embed(%#v): got %#v, want an empty non-nil slice", in, got)
		}
	}
	if n := len(f.EmbeddingRequests()); n != 0 {
		t.Errorf("got %d requests, want 0", n)
	}
}

func TestEmbedDimensions(t *testing.T) {
	f := newFakeServer(t, nil)
	e := newEmbedder(t, f, Config{Dimensions: 8, BatchSize: 2})
	got, err := e.Embed(context.Background(), []string{"x", "y", "z"})
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	for i, v := range got {
		if len(v) != 8 {
			t.Errorf("vector %d: got %d dimensions, want 8", i, len(v))
		}
	}
	for i, req := range f.EmbeddingRequests() {
		if req.Dimensions == nil || *req.Dimensions != 8 {
			t.Errorf("request %d dimensions: got %v, want 8", i, req.Dimensions)
		}
	}
}

func TestEmbedBadResponse(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		texts   []string
		respond func(w http.ResponseWriter, r *http.Request, req openaitest.EmbeddingRequest)
	}{
		{
			name:  "too few vectors",
			texts: []string{"a", "b"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				writeData(w, []openaitest.Embedding{{Object: "embedding", Index: 0, Embedding: []float32{1, 2, 3}}})
			},
		},
		{
			name:  "too many vectors",
			texts: []string{"a"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				writeData(w, []openaitest.Embedding{{Index: 0, Embedding: []float32{1}}, {Index: 1, Embedding: []float32{1}}})
			},
		},
		{
			name:  "no data",
			texts: []string{"a"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				writeData(w, nil)
			},
		},
		{
			name:  "index out of range",
			texts: []string{"a", "b"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				writeData(w, []openaitest.Embedding{{Index: 0, Embedding: []float32{1}}, {Index: 2, Embedding: []float32{1}}})
			},
		},
		{
			name:  "index repeated",
			texts: []string{"a", "b"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				writeData(w, []openaitest.Embedding{{Index: 1, Embedding: []float32{1}}, {Index: 1, Embedding: []float32{1}}})
			},
		},
		{
			name:  "empty vector",
			texts: []string{"a", "b"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				writeData(w, []openaitest.Embedding{{Index: 0, Embedding: []float32{1}}, {Index: 1, Embedding: []float32{}}})
			},
		},
		{
			name:  "null vector",
			texts: []string{"a"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				writeData(w, []openaitest.Embedding{{Index: 0}})
			},
		},
		{
			name:  "dimension differs from requested",
			cfg:   Config{Dimensions: 4},
			texts: []string{"a"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				writeData(w, []openaitest.Embedding{{Index: 0, Embedding: []float32{1, 2, 3}}})
			},
		},
		{
			name:  "dimensions differ within a batch",
			texts: []string{"a", "b"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				writeData(w, []openaitest.Embedding{{Index: 0, Embedding: []float32{1, 2, 3}}, {Index: 1, Embedding: []float32{1, 2}}})
			},
		},
		{
			name:  "dimensions differ between batches",
			cfg:   Config{BatchSize: 1},
			texts: []string{"a", "bb"},
			respond: func(w http.ResponseWriter, _ *http.Request, req openaitest.EmbeddingRequest) {
				writeData(w, []openaitest.Embedding{{Index: 0, Embedding: make([]float32, 2+len(req.Input[0]))}})
			},
		},
		{
			name:  "not JSON",
			texts: []string{"a"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte("<html>gateway says hi</html>"))
			},
		},
		{
			name:  "empty body",
			texts: []string{"a"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				w.WriteHeader(http.StatusOK)
			},
		},
		{
			name:  "embedding is a string",
			texts: []string{"a"},
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AACAPw=="}]}`))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, tt.respond)
			e := newEmbedder(t, f, tt.cfg)
			got, err := e.Embed(context.Background(), tt.texts)
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("Embed: got %v, %v; want ErrBadResponse", got, err)
			}
			if got != nil {
				t.Errorf("vectors: got %v, want nil", got)
			}
		})
	}
}

func TestEmbedErrorStatus(t *testing.T) {
	const wrongKey = "sk-wrong-0a1b2c3d4e5f"
	tests := []struct {
		name     string
		key      string
		model    string
		respond  func(w http.ResponseWriter, r *http.Request, req openaitest.EmbeddingRequest)
		want     error
		contains []string
	}{
		{
			name:     "401 wrong key",
			key:      wrongKey,
			want:     ErrUnauthorized,
			contains: []string{"401", "Incorrect API key provided"},
		},
		{
			name: "403",
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				openaitest.WriteError(w, http.StatusForbidden, "key "+testKey+" may not use this model", "permission_error")
			},
			want:     ErrUnauthorized,
			contains: []string{"403", "may not use this model"},
		},
		{
			name: "429",
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				w.Header().Set("Retry-After", "20")
				openaitest.WriteError(w, http.StatusTooManyRequests, "Rate limit reached for requests", "requests")
			},
			want:     ErrRateLimited,
			contains: []string{"429", "Rate limit reached"},
		},
		{
			name:     "404 unknown model",
			model:    "no-such-model",
			want:     ErrStatus,
			contains: []string{"404", "does not exist"},
		},
		{
			name: "500 plain text body",
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				http.Error(w, "upstream exploded", http.StatusInternalServerError)
			},
			want:     ErrStatus,
			contains: []string{"500", "upstream exploded"},
		},
		{
			name: "400 vLLM-style top-level message",
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"object":"error","message":"This model's maximum context length is 512 tokens","type":"BadRequestError","param":null,"code":400}`))
			},
			want:     ErrStatus,
			contains: []string{"400", "maximum context length is 512 tokens"},
		},
		{
			name: "429 error as a string",
			respond: func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte(`{"error":"server busy, key ` + testKey + `"}`))
			},
			want:     ErrRateLimited,
			contains: []string{"429", "server busy"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, tt.respond)
			e := newEmbedder(t, f, Config{APIKey: tt.key, Model: tt.model})
			_, err := e.Embed(context.Background(), []string{"a", "b"})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Embed: got %v, want %v", err, tt.want)
			}
			msg := err.Error()
			for _, s := range tt.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q: does not contain %q", msg, s)
				}
			}
			for _, key := range []string{testKey, wrongKey} {
				if strings.Contains(msg, key) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), key) {
					t.Errorf("error %q: contains the API key", msg)
				}
			}
		})
	}
}

// TestEmbedDoesNotRetry counts requests: go-openai v1.43.0 has no retry
// logic, and Embed stops at the first failing batch, so a 429 costs the
// server exactly one request per Embed call.
func TestEmbedDoesNotRetry(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"429", http.StatusTooManyRequests},
		{"503", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ openaitest.EmbeddingRequest) {
				w.Header().Set("Retry-After", "0")
				openaitest.WriteError(w, tt.status, "slow down", "requests")
			})
			e := newEmbedder(t, f, Config{BatchSize: 2})
			for call := 1; call <= 3; call++ {
				if _, err := e.Embed(context.Background(), []string{"a", "b", "c", "d", "e"}); err == nil {
					t.Fatalf("Embed call %d: got nil error, want one", call)
				}
				if got := len(f.EmbeddingRequests()); got != call {
					t.Fatalf("after %d calls: got %d requests, want %d", call, got, call)
				}
			}
		})
	}
}

func TestEmbedTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	tests := []struct {
		name string
		cfg  Config
		ctx  func(t *testing.T) context.Context
	}{
		{
			name: "Config.Timeout",
			cfg:  Config{Timeout: timeout},
			ctx:  func(*testing.T) context.Context { return context.Background() },
		},
		{
			name: "http.Client.Timeout",
			cfg:  Config{HTTPClient: &http.Client{Timeout: timeout}},
			ctx:  func(*testing.T) context.Context { return context.Background() },
		},
		{
			name: "caller's deadline",
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				t.Cleanup(cancel)
				return ctx
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, nil)
			f.DelayEmbeddings(time.Hour) // until the client gives up
			e := newEmbedder(t, f, tt.cfg)
			start := time.Now()
			_, err := e.Embed(tt.ctx(t), []string{"a"})
			elapsed := time.Since(start)
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("Embed: got %v, want ErrTimeout", err)
			}
			if elapsed > timeout+time.Second {
				t.Errorf("Embed returned after %s, want about %s", elapsed, timeout)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error %q: contains the API key", err)
			}
		})
	}
}

func TestEmbedContextCancelled(t *testing.T) {
	t.Run("before the call", func(t *testing.T) {
		f := newFakeServer(t, nil)
		e := newEmbedder(t, f, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := e.Embed(ctx, []string{"a"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Embed: got %v, want context.Canceled", err)
		}
		if errors.Is(err, ErrTimeout) {
			t.Errorf("Embed: got %v, want it not to be ErrTimeout", err)
		}
		if n := len(f.EmbeddingRequests()); n != 0 {
			t.Errorf("got %d requests, want 0", n)
		}
	})
	t.Run("during a request", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ openaitest.EmbeddingRequest) {
			cancel()
			<-r.Context().Done()
		})
		e := newEmbedder(t, f, Config{})
		start := time.Now()
		_, err := e.Embed(ctx, []string{"a"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Embed: got %v, want context.Canceled", err)
		}
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("Embed returned after %s, want promptly", elapsed)
		}
	})
	t.Run("between batches", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, req openaitest.EmbeddingRequest) {
			cancel()
			data := make([]openaitest.Embedding, len(req.Input))
			for i := range data {
				data[i] = openaitest.Embedding{Index: i, Embedding: []float32{1}}
			}
			writeData(w, data)
		})
		e := newEmbedder(t, f, Config{BatchSize: 1})
		_, err := e.Embed(ctx, []string{"a", "b", "c"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Embed: got %v, want context.Canceled", err)
		}
		if n := len(f.EmbeddingRequests()); n != 1 {
			t.Errorf("got %d requests, want 1", n)
		}
	})
}

func TestEmbedNoKeyNoAuthorization(t *testing.T) {
	srv := openaitest.New(t, openaitest.Options{})
	e, err := New(Config{BaseURL: srv.URL() + "/", Model: "nomic-embed-text"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Embed(context.Background(), []string{"a"}); err != nil {
		t.Fatalf("Embed: %v", err)
	}
	reqs := srv.EmbeddingRequests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	if got := reqs[0].Header.Values("Authorization"); len(got) != 0 {
		t.Errorf("Authorization headers: got %q, want none", got)
	}
}

func TestConfigRedactsKey(t *testing.T) {
	cfg := Config{BaseURL: "https://user:hunter2@api.example.com/v1", Model: "text-embedding-3-small", APIKey: testKey, Dimensions: 256}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	log.Info("embedder", "config", cfg, "embedder", e)
	log.Info("embedder", "config", &cfg)
	outputs := map[string]string{
		"%v Config":    fmt.Sprintf("%v", cfg),
		"%+v Config":   fmt.Sprintf("%+v", cfg),
		"%#v Config":   fmt.Sprintf("%#v", cfg),
		"%v *Config":   fmt.Sprintf("%v", &cfg),
		"%v Embedder":  fmt.Sprintf("%v", e),
		"%+v Embedder": fmt.Sprintf("%+v", e),
		"%#v Embedder": fmt.Sprintf("%#v", e),
		"slog":         logged.String(),
	}
	for name, out := range outputs {
		for _, secret := range []string{testKey, "hunter2"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: got %q, want no %q", name, out, secret)
			}
		}
		if !strings.Contains(out, "text-embedding-3-small") {
			t.Errorf("%s: got %q, want the model named", name, out)
		}
	}
}
