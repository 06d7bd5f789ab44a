package retrieval

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"govlive/retrieval/openai/openaitest"
)

// flatExactSearch is Search by a scan of the float32 rows alone: what the
// quantised scan must return.
func flatExactSearch(t *testing.T, s *FlatStore, query []float32, k int, f Filter) []VectorHit {
	t.Helper()
	norm, err := flatNorm(query)
	if err != nil {
		t.Fatal(err)
	}
	q := make([]float32, len(query))
	flatScale(q, query, norm)
	s.mu.RLock()
	defer s.mu.RUnlock()
	top := flatTop{ids: s.ids, h: make([]flatScored, 0, min(k, len(s.ids)))}
	hits, err := s.scanExact(context.Background(), q, &f, &top)
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// checkQ8InStep fails the test unless every int8 row is the quantised
// float32 row of the same index.
func checkQ8InStep(t *testing.T, s *FlatStore) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, dim := len(s.ids), s.dim
	if len(s.q8.codes) != n*dim || len(s.q8.scale) != n || len(s.q8.err) != n {
		t.Fatalf("int8 rows: %d codes, %d scales, %d errors; want %d, %d, %d",
			len(s.q8.codes), len(s.q8.scale), len(s.q8.err), n*dim, n, n)
	}
	codes := make([]int8, dim)
	for r := range n {
		scale, e := quantize(codes, s.vecs[r*dim:(r+1)*dim])
		if !slices.Equal(codes, s.q8.codes[r*dim:(r+1)*dim]) || scale != s.q8.scale[r] || e != s.q8.err[r] {
			t.Fatalf("row %d (%s): int8 row out of step with the float32 row", r, s.ids[r])
		}
	}
}

// hashLikeRecords returns n records whose vectors are made like the
// benchmark's: hashed character pairs of texts drawn from a small
// alphabet, so many share pairs and scores crowd together; every tenth is
// a copy of an earlier one (exact ties).
func hashLikeRecords(r *rand.Rand, n, dim int) []VectorRecord {
	alphabet := []rune("办理证件材料多久时间地点窗口预约社保公积金驾驶员出租车食品经营许可")
	text := func() string {
		rs := make([]rune, 4+r.IntN(60))
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(rs)
	}
	recs := flatRandRecords(r, n, 1) // for the ids and payloads
	for i := range recs {
		if i%10 == 9 {
			recs[i].Vector = slices.Clone(recs[r.IntN(i)].Vector)
			continue
		}
		recs[i].Vector = openaitest.BigramVector(text(), dim)
	}
	return recs
}

func TestFlatQuantisedSearchEqualsExactScan(t *testing.T) {
	const dim = 512
	for _, corpus := range []struct {
		name string
		recs func(r *rand.Rand, n int) []VectorRecord
	}{
		{"gaussian", func(r *rand.Rand, n int) []VectorRecord { return flatRandRecords(r, n, dim) }},
		{"hashed pairs", func(r *rand.Rand, n int) []VectorRecord { return hashLikeRecords(r, n, dim) }},
	} {
		t.Run(corpus.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			recs := corpus.recs(r, 3000)
			s := newTestFlat(t)
			mustUpsert(t, s, recs...)
			queries := make([][]float32, 0, 20)
			for _, rec := range corpus.recs(r, 10) {
				queries = append(queries, rec.Vector)
			}
			for _, i := range r.Perm(len(recs))[:10] { // queries equal to stored rows
				queries = append(queries, recs[i].Vector)
			}
			for _, fc := range []struct {
				name string
				f    Filter
			}{
				{"none", Filter{}},
				{"kind faq", Filter{Kind: KindFAQ}},
				{"category", Filter{Category: "社保"}},
				{"session", Filter{Session: "s2"}},
				{"kind category session", Filter{Kind: KindFAQ, Category: "交通", Session: "s1"}},
			} {
				for _, k := range []int{1, 5, 120, 375} {
					if !useQ8(len(recs), k) {
						t.Fatalf("k=%d of %d rows would not take the quantised scan", k, len(recs))
					}
					t.Run(fmt.Sprintf("%s/k=%d", fc.name, k), func(t *testing.T) {
						for qi, q := range queries {
							got := mustSearch(t, s, q, k, fc.f)
							want := flatExactSearch(t, s, q, k, fc.f)
							if !reflect.DeepEqual(got, want) {
								t.Fatalf("query %d: the quantised search differs from the exact scan:\ngot  %v\nwant %v", qi, got, want)
							}
						}
					})
				}
			}
		})
	}
}

func TestFlatQuantisedRowsInStep(t *testing.T) {
	const n, dim = 700, 64
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	recs := flatRandRecords(r, n, dim)
	path := filepath.Join(t.TempDir(), "vectors.glvec")
	s, err := OpenFlatStore(path)
	if err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, s, recs[:400]...)
	checkQ8InStep(t, s)
	mustUpsert(t, s, recs[300:]...) // 100 replaced, 300 new
	for _, i := range r.Perm(n)[:100] {
		recs[i].Vector = flatRandVec(r, dim)
		mustUpsert(t, s, recs[i])
	}
	checkQ8InStep(t, s)
	var gone []string
	for _, i := range r.Perm(n)[:150] {
		gone = append(gone, recs[i].ID)
	}
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	checkQ8InStep(t, s)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	opened, err := OpenFlatStore(path)
	if err != nil {
		t.Fatal(err)
	}
	checkQ8InStep(t, opened)
	for range 10 {
		q := flatRandVec(r, dim)
		for _, st := range []*FlatStore{s, opened} {
			if got, want := mustSearch(t, st, q, 20, Filter{}), flatExactSearch(t, st, q, 20, Filter{}); !reflect.DeepEqual(got, want) {
				t.Fatalf("after upserts and deletes: quantised search %v, exact scan %v", got, want)
			}
		}
		for _, id := range gone {
			for _, h := range mustSearch(t, opened, q, 60, Filter{}) {
				if h.ID == id {
					t.Fatalf("deleted record %s found", id)
				}
			}
		}
	}
}

func TestQuantize(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, v := range [][]float32{
		{1},
		{-1, 0, 0},
		{0.6, -0.8},
		flatRandVec(r, 512),
		openaitest.BigramVector("食品经营许可证新办要什么材料", 512),
	} {
		norm, err := flatNorm(v)
		if err != nil {
			t.Fatal(err)
		}
		u := make([]float32, len(v))
		flatScale(u, v, norm)
		codes := make([]int8, len(u))
		scale, e := quantize(codes, u)
		var sum float64
		for i, x := range u {
			if codes[i] < -127 {
				t.Fatalf("code %d is %d, below -127", i, codes[i])
			}
			d := float64(x) - float64(scale)*float64(codes[i])
			if math.Abs(d) > float64(scale)/2*(1+1e-6) {
				t.Errorf("component %d: error %g is more than half a step (%g)", i, d, scale/2)
			}
			sum += d * d
		}
		if math.Sqrt(sum) > float64(e) {
			t.Errorf("error length %g, quantize says at most %g", math.Sqrt(sum), e)
		}
		if e > 0.05 {
			t.Errorf("error length %g of a unit vector of %d components: too coarse", e, len(u))
		}
	}
}
