package retrieval_test

import (
	"context"
	"math"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/retrieval"
	"govlive/retrieval/openai/openaitest"
	"govlive/store/storetest"
)

// hashEmbedder makes deterministic 512-dimensional vectors by hashing the
// character bigrams of a text: no model, but vectors of the real size and
// a real similarity structure, so that the vector path of the benchmark
// does real work.
type hashEmbedder struct{ dim int }

func (h hashEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = openaitest.BigramVector(t, h.dim)
	}
	return out, nil
}

// syntheticPack grows the sample pack to nFAQ entries and about nChunks
// document chunks (contenttest.SyntheticPack with as many extra documents
// as it takes).
func syntheticPack(tb testing.TB, nFAQ, nChunks int) *content.Pack {
	tb.Helper()
	p, err := contenttest.SyntheticPack(nFAQ, nChunks/5)
	if err != nil {
		tb.Fatal(err)
	}
	chunks := 0
	for i, d := range p.Documents {
		if chunks >= nChunks {
			p.Documents = p.Documents[:i]
			break
		}
		chunks += len(retrieval.ChunkDocument(d, 0))
	}
	return p
}

func openSynthetic(b *testing.B, dir string, withVectors bool) (*retrieval.Index, time.Duration, int) {
	b.Helper()
	ctx := context.Background()
	cs := contenttest.NewStore(b, storetest.OpenAt(b, filepath.Join(dir, "db")), time.Now)
	if _, err := cs.Import(ctx, syntheticPack(b, 1000, 10000), "bench", ""); err != nil {
		b.Fatal(err)
	}
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		b.Fatal(err)
	}
	cfg := retrieval.Config{Dir: filepath.Join(dir, "index"), Source: cs, Normalizer: norm}
	if withVectors {
		vs, err := retrieval.OpenFlatStore(filepath.Join(dir, "index", "vectors.bin"))
		if err != nil {
			b.Fatal(err)
		}
		cfg.Embedder, cfg.Vectors = hashEmbedder{dim: 512}, vs
	}
	start := time.Now()
	ix, err := retrieval.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	b.Cleanup(func() { ix.Close() })
	st := ix.Stats()
	return ix, build, st.Chunks
}

var benchQuestions = []string{
	"食品经营许可证新办要什么材料", "出租车驾驶员证多久能拿到", "网约车司机证怎么办", "同城通办在哪里办",
	"证照邮寄几天到", "怎么预约", "投诉渠道有哪些", "即办件清单在哪看", "上门服务收费吗", "SC证到期怎么延续",
	"食品生产许可现场核查多久", "从业资格证丢了怎么补", "政务中心几点下班", "直播回放在哪看", "周末能办事吗",
}

// BenchmarkSearch measures search over a synthetic corpus of 1,000 FAQ
// entries and about 10,000 document chunks, lexical and hybrid (512-d
// vectors in the embedded store). It reports the build time, p50/p99
// per query and the heap in use. Run it pinned to one core:
//
//	taskset -c 0 go test -run XXX -bench Search -benchtime 2000x ./retrieval/
func BenchmarkSearch(b *testing.B) {
	for _, mode := range []struct {
		name    string
		vectors bool
	}{{"lexical", false}, {"hybrid", true}} {
		b.Run(mode.name, func(b *testing.B) {
			ix, build, chunks := openSynthetic(b, b.TempDir(), mode.vectors)
			ctx := context.Background()
			// Let bleve finish merging the segments of the bulk build in the
			// background, as it has a few seconds after a start: the figures
			// are for the steady state.
			time.Sleep(3 * time.Second)
			var lat []float64
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				res, err := ix.Search(ctx, retrieval.Query{Text: benchQuestions[i%len(benchQuestions)], K: 5})
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, float64(time.Since(start).Microseconds())/1000)
				if mode.vectors && res.Mode != "hybrid" {
					b.Fatalf("mode %s, want hybrid (%v)", res.Mode, res.Warnings)
				}
			}
			b.StopTimer()
			sort.Float64s(lat)
			q := func(p float64) float64 { return lat[int(math.Ceil(p*float64(len(lat))))-1] }
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(build.Seconds(), "build-s")
			b.ReportMetric(float64(chunks), "chunks")
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		})
	}
}
