package retrieval_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/logtest"
	"govlive/retrieval"
	"govlive/retrieval/openai"
	"govlive/retrieval/openai/openaitest"
)

const (
	// standInKey is the API key the stand-in accepts; distinctive, so
	// that finding it in a warning or a log line is no accident.
	standInKey   = "sk-govlive-test-7f3a9c2e51"
	standInModel = "m"
	standInDim   = 64
)

// newEmbedStandIn is an OpenAI-compatible embeddings endpoint on
// 127.0.0.1 that checks the key and model like a real server and answers
// deterministic vectors (openaitest.BigramVector in 64 dimensions).
func newEmbedStandIn(t *testing.T) *openaitest.Server {
	t.Helper()
	return openaitest.New(t, openaitest.Options{Key: standInKey, Models: []string{standInModel}, Dim: standInDim})
}

// fakeClock is the index's clock, moved by the test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// hybridEnv is a sample content store, an embeddings stand-in and the
// real OpenAI-compatible client pointed at it.
type hybridEnv struct {
	cs    *content.Store
	srv   *openaitest.Server
	emb   *openai.Embedder
	log   *logtest.Buffer
	clock *fakeClock
}

func newHybridEnv(t *testing.T, timeout time.Duration) *hybridEnv {
	t.Helper()
	srv := newEmbedStandIn(t)
	emb, err := openai.New(openai.Config{BaseURL: srv.URL(), Model: standInModel, APIKey: standInKey, Timeout: timeout})
	if err != nil {
		t.Fatalf("openai.New: %v", err)
	}
	return &hybridEnv{cs: contenttest.SampleStore(t), srv: srv, emb: emb, log: &logtest.Buffer{},
		clock: &fakeClock{now: time.Date(2026, 3, 12, 15, 0, 0, 0, time.UTC)}}
}

// open opens a hybrid index on dir with the flat vector store in
// dir/vectors.bin. The caller closes it.
func (e *hybridEnv) open(t *testing.T, dir string) (*retrieval.Index, *retrieval.FlatStore) {
	t.Helper()
	vs, err := retrieval.OpenFlatStore(filepath.Join(dir, "vectors.bin"))
	if err != nil {
		t.Fatalf("OpenFlatStore: %v", err)
	}
	ix, err := retrieval.Open(context.Background(), retrieval.Config{
		Dir: dir, Source: e.cs, Normalizer: newNormalizer(t), Embedder: e.emb, Vectors: vs,
		Log: slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now: e.clock.Now,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return ix, vs
}

func closeIndex(t *testing.T, ix *retrieval.Index) {
	t.Helper()
	if err := ix.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func mustSyncAll(t *testing.T, ix *retrieval.Index) int {
	t.Helper()
	n, err := ix.SyncAll(context.Background())
	if err != nil {
		t.Fatalf("SyncAll: %v", err)
	}
	return n
}

// TestHybridSearch opens a hybrid index: every FAQ entry and chunk is
// embedded once, and search fuses the two rankings.
func TestHybridSearch(t *testing.T) {
	t.Parallel()
	env := newHybridEnv(t, 0)
	ix, vs := env.open(t, t.TempDir())
	t.Cleanup(func() { closeIndex(t, ix) })

	st := ix.Stats()
	if !st.Hybrid {
		t.Errorf("Stats().Hybrid false, want true")
	}
	if got, want := env.srv.Texts(), st.FAQ+st.Chunks; got != want {
		t.Errorf("texts embedded by Open: got %d, want %d (%d FAQ entries + %d chunks)", got, want, st.FAQ, st.Chunks)
	}
	if got, want := vs.Len(), st.FAQ+st.Chunks; got != want {
		t.Errorf("vectors stored: got %d, want %d", got, want)
	}
	if got := vs.Dim(); got != standInDim {
		t.Errorf("vector store dimension: got %d, want %d", got, standInDim)
	}

	tests := []struct {
		q    string
		want content.FAQID
	}{
		{"网约车驾驶员证申请材料", "faq-ridehail-license-materials"},
		{"办出租车司机证要交什么资料", "faq-taxi-license-materials"},
		{"食品生产许可证到期续证", "faq-food-prod-renewal"},
		{"没赶上直播能不能回看", "faq-live-replay"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			before := env.srv.Texts()
			res := search(t, ix, retrieval.Query{Text: tt.q})
			if got := env.srv.Texts() - before; got != 1 {
				t.Errorf("texts embedded by Search: got %d, want 1 (the question)", got)
			}
			if res.Mode != "hybrid" {
				t.Errorf("Mode: got %q, want hybrid", res.Mode)
			}
			if len(res.Warnings) != 0 {
				t.Errorf("Warnings: got %q, want none", res.Warnings)
			}
			if len(res.FAQ) == 0 || len(res.Docs) == 0 {
				t.Fatalf("got %d FAQ and %d document hits, want some of each", len(res.FAQ), len(res.Docs))
			}
			if res.FAQ[0].ID != string(tt.want) {
				t.Errorf("top FAQ hits %v, want %s first", hitIDs(res.FAQ), tt.want)
			}
			h := res.FAQ[0]
			if h.Vector == 0 {
				t.Errorf("hit %s: Vector 0, want its cosine similarity", h.ID)
			}
			// In both rankings, so more than one 1/(60+rank) term.
			if h.Fused <= 1.0/61 {
				t.Errorf("hit %s: Fused %.5f, want above 1/61 (lexical and vector ranks fused)", h.ID, h.Fused)
			}
			if h.Confidence < 0 || h.Confidence > 1 {
				t.Errorf("hit %s: Confidence %v, want in [0,1]", h.ID, h.Confidence)
			}
		})
	}
}

// TestHybridReopenAndSyncAll reopens the same directory (nothing is
// embedded again) and edits content (only what changed is embedded).
func TestHybridReopenAndSyncAll(t *testing.T) {
	t.Parallel()
	env := newHybridEnv(t, 0)
	ctx := context.Background()
	dir := t.TempDir()
	ix, _ := env.open(t, dir)
	closeIndex(t, ix)

	before := env.srv.Texts()
	ix, vs := env.open(t, dir)
	t.Cleanup(func() { closeIndex(t, ix) })
	if got := env.srv.Texts() - before; got != 0 {
		t.Errorf("texts embedded by reopening: got %d, want 0", got)
	}
	st := ix.Stats()
	if got, want := vs.Len(), st.FAQ+st.Chunks; got != want {
		t.Errorf("vectors after reopening: got %d, want %d", got, want)
	}
	if res := search(t, ix, retrieval.Query{Text: "网约车驾驶员证申请材料"}); res.Mode != "hybrid" || len(res.FAQ) == 0 || res.FAQ[0].Vector == 0 {
		t.Errorf("Search after reopening: Mode %q, hits %v; want hybrid hits with vector scores", res.Mode, hitIDs(res.FAQ))
	}

	weekend := getFAQ(t, env.cs, "faq-weekend")
	steps := []struct {
		name        string
		change      func(t *testing.T)
		wantApplied int
		wantTexts   int
		wantDelta   int // vectors added (+) or removed (−)
	}{
		{name: "nothing new", change: func(t *testing.T) {}},
		{name: "question edited", change: func(t *testing.T) {
			e := weekend
			e.Question = "周六周日政务中心能办事吗？"
			putFAQ(t, env.cs, e)
		}, wantApplied: 1, wantTexts: 1},
		{name: "answer edited (not embedded)", change: func(t *testing.T) {
			e := getFAQ(t, env.cs, "faq-weekend")
			e.Answer += "（节假日另行通知。）"
			putFAQ(t, env.cs, e)
		}, wantApplied: 1, wantTexts: 0},
		{name: "new entry", change: func(t *testing.T) {
			putFAQ(t, env.cs, dogEntry(dogAnswerV1, content.StatusPublished))
		}, wantApplied: 1, wantTexts: 1, wantDelta: 1},
		{name: "entry deleted", change: func(t *testing.T) {
			if err := env.cs.DeleteFAQ(ctx, dogID, "test"); err != nil {
				t.Fatalf("DeleteFAQ: %v", err)
			}
		}, wantApplied: 1, wantTexts: 0, wantDelta: -1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(t)
			texts, vectors := env.srv.Texts(), vs.Len()
			if got := mustSyncAll(t, ix); got != st.wantApplied {
				t.Errorf("SyncAll: applied %d, want %d", got, st.wantApplied)
			}
			if got := env.srv.Texts() - texts; got != st.wantTexts {
				t.Errorf("texts embedded by SyncAll: got %d, want %d", got, st.wantTexts)
			}
			if got := vs.Len() - vectors; got != st.wantDelta {
				t.Errorf("vectors: changed by %d, want %d", got, st.wantDelta)
			}
		})
	}

	// The state survives another reopening: still nothing to embed.
	closeIndex(t, ix)
	before = env.srv.Texts()
	ix, _ = env.open(t, dir)
	if got := env.srv.Texts() - before; got != 0 {
		t.Errorf("texts embedded by the second reopening: got %d, want 0", got)
	}
}

// TestHybridEmbedderFailures: when the embeddings endpoint fails, search
// falls back to lexical with a warning, never an error, and never shows
// the API key; it then leaves the endpoint alone for a while (the clock is
// the test's) and uses it again once that time has passed.
func TestHybridEmbedderFailures(t *testing.T) {
	t.Parallel()
	// The timeout bounds each request; the hanging stand-in is cut off by it.
	env := newHybridEnv(t, 2*time.Second)
	ix, _ := env.open(t, t.TempDir())
	t.Cleanup(func() { closeIndex(t, ix) })
	const q = "网约车驾驶员证申请材料"
	const want = "faq-ridehail-license-materials"

	// lexical searches once and checks the fallback.
	lexical := func(t *testing.T) retrieval.Result {
		t.Helper()
		res, err := ix.Search(context.Background(), retrieval.Query{Text: q})
		if err != nil {
			t.Fatalf("Search: %v, want no error", err)
		}
		if res.Mode != "lexical" {
			t.Errorf("Mode: got %q, want lexical", res.Mode)
		}
		if len(res.Warnings) == 0 {
			t.Errorf("Warnings: none, want one saying vector search is unavailable")
		}
		for _, w := range res.Warnings {
			if strings.Contains(w.String(), standInKey) {
				t.Errorf("warning %q contains the API key", w)
			}
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

	heal := func() {
		env.srv.FailEmbeddings(0)
		env.srv.DelayEmbeddings(0)
	}
	tests := []struct {
		name       string
		fail       func(s *openaitest.Server)
		wantInWarn string
	}{
		{name: "unauthorized", fail: func(s *openaitest.Server) { s.FailEmbeddings(http.StatusUnauthorized) }, wantInWarn: "401"},
		{name: "rate limited", fail: func(s *openaitest.Server) { s.FailEmbeddings(http.StatusTooManyRequests) }, wantInWarn: "429"},
		// No answer until the client gives up.
		{name: "past the timeout", fail: func(s *openaitest.Server) { s.DelayEmbeddings(time.Hour) }, wantInWarn: "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fail(env.srv)
			t.Cleanup(heal)

			reqs := len(env.srv.Requests())
			res := lexical(t)
			if got := len(env.srv.Requests()) - reqs; got != 1 {
				t.Errorf("first failing search: %d requests to the endpoint, want 1", got)
			}
			if w := warnText(res.Warnings); !strings.Contains(w, tt.wantInWarn) {
				t.Errorf("Warnings %q: want them to mention %q", w, tt.wantInWarn)
			}

			// Backing off: neither a second question nor a recovered
			// endpoint is asked until the clock moves on.
			reqs = len(env.srv.Requests())
			lexical(t)
			heal()
			lexical(t)
			if got := len(env.srv.Requests()) - reqs; got != 0 {
				t.Errorf("searches while backing off: %d requests to the endpoint, want 0", got)
			}

			env.clock.Advance(time.Hour)
			res = search(t, ix, retrieval.Query{Text: q})
			if res.Mode != "hybrid" || len(res.Warnings) != 0 {
				t.Errorf("after the back-off: Mode %q, Warnings %q; want hybrid and none", res.Mode, res.Warnings)
			}
			if len(res.FAQ) == 0 || res.FAQ[0].ID != want || res.FAQ[0].Vector == 0 {
				t.Errorf("after the back-off: hits %v, want %s first with a vector score", hitIDs(res.FAQ), want)
			}
		})
	}
	if strings.Contains(env.log.String(), standInKey) {
		t.Errorf("the log contains the API key")
	}
}

// TestHybridOpenWithFailingEmbedder: an endpoint that refuses the key from
// the start does not stop Open; search is lexical.
func TestHybridOpenWithFailingEmbedder(t *testing.T) {
	t.Parallel()
	env := newHybridEnv(t, 0)
	env.srv.FailEmbeddings(http.StatusUnauthorized)
	ix, vs := env.open(t, t.TempDir())
	t.Cleanup(func() { closeIndex(t, ix) })
	if got := vs.Len(); got != 0 {
		t.Errorf("vectors stored: got %d, want 0", got)
	}
	res := search(t, ix, retrieval.Query{Text: "跑网约车要办证要带啥材料"})
	if res.Mode != "lexical" || len(res.Warnings) == 0 {
		t.Errorf("Mode %q, Warnings %q; want lexical with a warning", res.Mode, res.Warnings)
	}
	if len(res.FAQ) == 0 || res.FAQ[0].ID != "faq-ridehail-license-materials" {
		t.Errorf("hits %v, want faq-ridehail-license-materials first", hitIDs(res.FAQ))
	}
	for _, w := range res.Warnings {
		if strings.Contains(w.String(), standInKey) {
			t.Errorf("warning %q contains the API key", w)
		}
	}
	if strings.Contains(env.log.String(), standInKey) {
		t.Errorf("the log contains the API key")
	}

	t.Run("SyncAll after the endpoint recovers", func(t *testing.T) {
		env.srv.FailEmbeddings(0)
		mustSyncAll(t, ix)
		st := ix.Stats()
		if got, want := vs.Len(), st.FAQ+st.Chunks; got != want {
			t.Errorf("vectors after SyncAll: got %d, want %d", got, want)
		}
	})
}

// TestHybridReopenWithoutVectorFile reopens a directory whose vector file
// is gone: what is missing must be embedded again.
func TestHybridReopenWithoutVectorFile(t *testing.T) {
	t.Parallel()
	env := newHybridEnv(t, 0)
	dir := t.TempDir()
	ix, _ := env.open(t, dir)
	closeIndex(t, ix)
	if err := os.Remove(filepath.Join(dir, "vectors.bin")); err != nil {
		t.Fatalf("remove vectors.bin: %v", err)
	}
	ix, vs := env.open(t, dir)
	t.Cleanup(func() { closeIndex(t, ix) })
	st := ix.Stats()
	if got, want := vs.Len(), st.FAQ+st.Chunks; got != want {
		t.Errorf("vectors after reopening without the vector file: got %d, want %d", got, want)
	}
}

func warnText(ws []retrieval.Warning) string {
	var all []string
	for _, w := range ws {
		all = append(all, w.String())
	}
	return strings.Join(all, "\n")
}
