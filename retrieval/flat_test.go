package retrieval

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"govlive/content"
)

// newTestFlat returns an empty store whose file is in a test directory.
func newTestFlat(t testing.TB) *FlatStore {
	t.Helper()
	s, err := OpenFlatStore(filepath.Join(t.TempDir(), "vectors.glvec"))
	if err != nil {
		t.Fatalf("OpenFlatStore: %v", err)
	}
	return s
}

// flatRandVec returns a random vector, not normalised.
func flatRandVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

var (
	flatTestCategories = []string{"交通", "社保", "税务"}
	flatTestSessions   = []content.SessionID{"s1", "s2", "s3"}
)

// flatRandRecords returns n records with random vectors and payloads.
func flatRandRecords(r *rand.Rand, n, dim int) []VectorRecord {
	recs := make([]VectorRecord, n)
	for i := range recs {
		p := Payload{Category: flatTestCategories[r.IntN(len(flatTestCategories))]}
		if r.IntN(3) == 0 {
			p.Kind = KindFAQ
			p.FAQID = content.FAQID(fmt.Sprintf("faq-%d", i))
		} else {
			p.Kind = KindDoc
			p.DocID = content.DocID(fmt.Sprintf("doc-%d", i/4))
		}
		for _, sess := range flatTestSessions {
			if r.IntN(2) == 0 {
				p.Sessions = append(p.Sessions, sess)
			}
		}
		recs[i] = VectorRecord{ID: fmt.Sprintf("rec-%04d", i), Vector: flatRandVec(r, dim), Payload: p}
	}
	return recs
}

// mustUpsert upserts records and fails the test on error.
func mustUpsert(t testing.TB, s *FlatStore, recs ...VectorRecord) {
	t.Helper()
	if err := s.Upsert(context.Background(), recs); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
}

// mustSearch searches and fails the test on error.
func mustSearch(t testing.TB, s *FlatStore, q []float32, k int, f Filter) []VectorHit {
	t.Helper()
	hits, err := s.Search(context.Background(), q, k, f)
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	return hits
}

// flatRefHit is a hit of the float64 reference search.
type flatRefHit struct {
	id    string
	score float64
}

// flatReference scores every record that passes f in float64 and returns
// them all by score descending, ties by id; it is the oracle for Search.
func flatReference(recs map[string]VectorRecord, q []float32, f Filter) []flatRefHit {
	unit := func(v []float32) []float64 {
		var sum float64
		for _, x := range v {
			sum += float64(x) * float64(x)
		}
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x) / math.Sqrt(sum)
		}
		return out
	}
	uq := unit(q)
	var out []flatRefHit
	for id, r := range recs {
		p := r.Payload
		if f.Kind != "" && p.Kind != f.Kind ||
			f.Category != "" && p.Category != f.Category ||
			f.Session != "" && !slices.Contains(p.Sessions, f.Session) ||
			len(f.IDs) > 0 && !slices.Contains(f.IDs, id) {
			continue
		}
		var dot float64
		for i, x := range unit(r.Vector) {
			dot += x * uq[i]
		}
		out = append(out, flatRefHit{id: id, score: dot})
	}
	slices.SortFunc(out, func(a, b flatRefHit) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	return out
}

func TestFlatSearchMatchesReference(t *testing.T) {
	const n, dim = 600, 48
	r := rand.New(rand.NewPCG(1, 2))
	recs := flatRandRecords(r, n, dim)
	s := newTestFlat(t)
	mustUpsert(t, s, recs...)

	// Replace and delete some records so that the swap-in paths of Delete
	// and the in-place path of Upsert are part of what is checked.
	ref := make(map[string]VectorRecord, n)
	for _, rec := range recs {
		ref[rec.ID] = rec
	}
	for _, i := range r.Perm(n)[:60] {
		rec := recs[i]
		rec.Vector = flatRandVec(r, dim)
		rec.Payload.Category = "replaced"
		mustUpsert(t, s, rec)
		ref[rec.ID] = rec
	}
	var deleted []string
	for _, i := range r.Perm(n)[:80] {
		deleted = append(deleted, recs[i].ID)
		delete(ref, recs[i].ID)
	}
	if err := s.Delete(context.Background(), deleted); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got, want := s.Len(), len(ref); got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}

	var someIDs []string
	for _, i := range r.Perm(n)[:40] {
		someIDs = append(someIDs, recs[i].ID)
	}
	someIDs = append(someIDs, "no-such-id", someIDs[0]) // unknown and duplicate ids

	filters := []struct {
		name string
		f    Filter
	}{
		{"none", Filter{}},
		{"kind faq", Filter{Kind: KindFAQ}},
		{"kind doc", Filter{Kind: KindDoc}},
		{"category", Filter{Category: "社保"}},
		{"category replaced", Filter{Category: "replaced"}},
		{"session", Filter{Session: "s2"}},
		{"unknown session", Filter{Session: "nope"}},
		{"ids", Filter{IDs: someIDs}},
		{"ids and kind", Filter{IDs: someIDs, Kind: KindDoc}},
		{"kind category session", Filter{Kind: KindFAQ, Category: "交通", Session: "s1"}},
	}
	queries := make([][]float32, 5)
	for i := range queries {
		queries[i] = flatRandVec(r, dim)
	}
	for _, fc := range filters {
		for _, k := range []int{1, 3, 10, 50, 1000} {
			t.Run(fmt.Sprintf("%s/k=%d", fc.name, k), func(t *testing.T) {
				for qi, q := range queries {
					want := flatReference(ref, q, fc.f)
					trueScore := make(map[string]float64, len(want))
					for _, h := range want {
						trueScore[h.id] = h.score
					}
					want = want[:min(k, len(want))]
					got := mustSearch(t, s, q, k, fc.f)
					if len(got) != len(want) {
						t.Fatalf("query %d: got %d hits, want %d", qi, len(got), len(want))
					}
					seen := make(map[string]bool)
					for i, h := range got {
						ts, ok := trueScore[h.ID]
						if !ok {
							t.Fatalf("query %d hit %d: got id %q, which does not pass the filter or does not exist", qi, i, h.ID)
						}
						if seen[h.ID] {
							t.Fatalf("query %d hit %d: got id %q twice", qi, i, h.ID)
						}
						seen[h.ID] = true
						if d := math.Abs(float64(h.Score) - ts); d > 1e-5 {
							t.Errorf("query %d hit %d (%s): got score %v, want %v", qi, i, h.ID, h.Score, ts)
						}
						// Near-ties may swap within float32 rounding; the
						// score at each rank must still be the reference's.
						if d := math.Abs(float64(h.Score) - want[i].score); d > 1e-5 {
							t.Errorf("query %d rank %d: got %s (%v), want %s (%v)", qi, i, h.ID, h.Score, want[i].id, want[i].score)
						}
						if !reflect.DeepEqual(h.Payload, ref[h.ID].Payload) {
							t.Errorf("query %d hit %d: got payload %+v, want %+v", qi, i, h.Payload, ref[h.ID].Payload)
						}
						if i > 0 && h.Score > got[i-1].Score {
							t.Errorf("query %d: hit %d score %v > hit %d score %v", qi, i, h.Score, i-1, got[i-1].Score)
						}
					}
				}
			})
		}
	}
}

func TestFlatSearchTiesByID(t *testing.T) {
	s := newTestFlat(t)
	v := []float32{1, 2, 3}
	for _, id := range []string{"d", "b", "a", "c"} {
		mustUpsert(t, s, VectorRecord{ID: id, Vector: v})
	}
	mustUpsert(t, s, VectorRecord{ID: "far", Vector: []float32{-1, -2, -3}})
	tests := []struct {
		k    int
		want []string
	}{
		{1, []string{"a"}},
		{2, []string{"a", "b"}},
		{4, []string{"a", "b", "c", "d"}},
		{10, []string{"a", "b", "c", "d", "far"}},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.k), func(t *testing.T) {
			var got []string
			for _, h := range mustSearch(t, s, v, tc.k, Filter{}) {
				got = append(got, h.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFlatSearchNonPositiveK(t *testing.T) {
	s := newTestFlat(t)
	mustUpsert(t, s, VectorRecord{ID: "a", Vector: []float32{1, 0}})
	for _, k := range []int{0, -1} {
		t.Run(strconv.Itoa(k), func(t *testing.T) {
			if got := mustSearch(t, s, []float32{1, 0}, k, Filter{}); len(got) != 0 {
				t.Errorf("got %d hits, want 0", len(got))
			}
		})
	}
}

func TestFlatUpsertReplaces(t *testing.T) {
	s := newTestFlat(t)
	mustUpsert(t, s,
		VectorRecord{ID: "x", Vector: []float32{1, 0, 0}, Payload: Payload{Kind: KindFAQ, Category: "old"}},
		VectorRecord{ID: "y", Vector: []float32{0, 1, 0}},
	)
	sessions := []content.SessionID{"s1"}
	mustUpsert(t, s, VectorRecord{ID: "x", Vector: []float32{0, 0, 5}, Payload: Payload{Kind: KindDoc, Category: "new", Sessions: sessions}})
	sessions[0] = "mutated by caller" // the store must have kept its own copy

	if got, want := s.Len(), 2; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	hits := mustSearch(t, s, []float32{0, 0, 1}, 1, Filter{})
	if len(hits) != 1 {
		t.Fatalf("got %d hits, want 1", len(hits))
	}
	want := VectorHit{ID: "x", Score: 1, Payload: Payload{Kind: KindDoc, Category: "new", Sessions: []content.SessionID{"s1"}}}
	if !reflect.DeepEqual(hits[0], want) {
		t.Errorf("got %+v, want %+v", hits[0], want)
	}
	if hits := mustSearch(t, s, []float32{1, 0, 0}, 2, Filter{Category: "old"}); len(hits) != 0 {
		t.Errorf("old payload still found: got %+v, want no hits", hits)
	}

	// A hit's payload is a copy: changing it does not change the store.
	hits[0].Payload.Sessions[0] = "changed"
	if got := mustSearch(t, s, []float32{0, 0, 1}, 1, Filter{Session: "s1"}); len(got) != 1 {
		t.Errorf("after changing a hit's sessions: got %d hits for session s1, want 1", len(got))
	}
}

func TestFlatDelete(t *testing.T) {
	vecs := map[string][]float32{
		"a": {1, 0, 0, 0}, "b": {0, 1, 0, 0}, "c": {0, 0, 1, 0}, "d": {0, 0, 0, 1},
	}
	tests := []struct {
		name   string
		delete []string
		want   []string // remaining ids
	}{
		{"first", []string{"a"}, []string{"b", "c", "d"}},
		{"middle", []string{"b"}, []string{"a", "c", "d"}},
		{"last", []string{"d"}, []string{"a", "b", "c"}},
		{"unknown", []string{"zz"}, []string{"a", "b", "c", "d"}},
		{"twice in one call", []string{"c", "c"}, []string{"a", "b", "d"}},
		{"several", []string{"d", "a"}, []string{"b", "c"}},
		{"all", []string{"a", "b", "c", "d"}, nil},
		{"none", nil, []string{"a", "b", "c", "d"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestFlat(t)
			for _, id := range []string{"a", "b", "c", "d"} {
				mustUpsert(t, s, VectorRecord{ID: id, Vector: vecs[id]})
			}
			if err := s.Delete(context.Background(), tc.delete); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if got, want := s.Len(), len(tc.want); got != want {
				t.Errorf("Len() = %d, want %d", got, want)
			}
			// Each remaining record is still its own nearest neighbour:
			// rows, ids and the id map stayed in step.
			for _, id := range tc.want {
				hits := mustSearch(t, s, vecs[id], 1, Filter{})
				if len(hits) != 1 || hits[0].ID != id || hits[0].Score != 1 {
					t.Errorf("search for %s: got %+v, want %s with score 1", id, hits, id)
				}
			}
			var got []string
			for _, h := range mustSearch(t, s, []float32{1, 1, 1, 1}, 10, Filter{}) {
				got = append(got, h.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("remaining ids: got %v, want %v", got, tc.want)
			}
			if got, want := s.Dim(), 4; got != want {
				t.Errorf("Dim() = %d, want %d", got, want)
			}
		})
	}
}

func TestFlatInvalidInput(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name    string
		records []VectorRecord // upserted into a store holding "a" = {1, 0, 0}
		query   []float32      // searched when records is nil
		wantErr error
	}{
		{"longer vector", []VectorRecord{{ID: "b", Vector: []float32{1, 2, 3, 4}}}, nil, ErrDimension},
		{"shorter vector", []VectorRecord{{ID: "b", Vector: []float32{1, 2}}}, nil, ErrDimension},
		{"replace with other length", []VectorRecord{{ID: "a", Vector: []float32{1, 2}}}, nil, ErrDimension},
		{"bad second record", []VectorRecord{{ID: "b", Vector: []float32{0, 1, 0}}, {ID: "c", Vector: []float32{1}}}, nil, ErrDimension},
		{"zero vector", []VectorRecord{{ID: "b", Vector: []float32{0, 0, 0}}}, nil, ErrInvalidVector},
		{"empty vector", []VectorRecord{{ID: "b"}}, nil, ErrInvalidVector},
		{"NaN", []VectorRecord{{ID: "b", Vector: []float32{1, nan, 0}}}, nil, ErrInvalidVector},
		{"Inf", []VectorRecord{{ID: "b", Vector: []float32{inf, 0, 0}}}, nil, ErrInvalidVector},
		{"empty id", []VectorRecord{{ID: "", Vector: []float32{0, 1, 0}}}, nil, nil},
		{"query wrong length", nil, []float32{1, 0}, ErrDimension},
		{"zero query", nil, []float32{0, 0, 0}, ErrInvalidVector},
		{"NaN query", nil, []float32{nan, 1, 0}, ErrInvalidVector},
		{"empty query", nil, []float32{}, ErrInvalidVector},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestFlat(t)
			mustUpsert(t, s, VectorRecord{ID: "a", Vector: []float32{1, 0, 0}})
			var err error
			if tc.records != nil {
				err = s.Upsert(context.Background(), tc.records)
			} else {
				_, err = s.Search(context.Background(), tc.query, 5, Filter{})
			}
			if err == nil {
				t.Fatalf("got no error, want one")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("got error %v, want one wrapping %v", err, tc.wantErr)
			}
			// A failed call changes nothing.
			if got, want := s.Len(), 1; got != want {
				t.Errorf("Len() = %d, want %d", got, want)
			}
			hits := mustSearch(t, s, []float32{1, 0, 0}, 5, Filter{})
			if len(hits) != 1 || hits[0].ID != "a" || hits[0].Score != 1 {
				t.Errorf("after failed call: got %+v, want only a with score 1", hits)
			}
		})
	}
}

func TestFlatFirstUpsertFixesDimension(t *testing.T) {
	s := newTestFlat(t)
	if got := s.Dim(); got != 0 {
		t.Errorf("new store: Dim() = %d, want 0", got)
	}
	if hits := mustSearch(t, s, []float32{1, 2}, 3, Filter{}); len(hits) != 0 {
		t.Errorf("empty store: got %d hits, want 0", len(hits))
	}
	err := s.Upsert(context.Background(), []VectorRecord{
		{ID: "a", Vector: []float32{1, 2}}, {ID: "b", Vector: []float32{1, 2, 3}},
	})
	if !errors.Is(err, ErrDimension) {
		t.Errorf("mixed first batch: got error %v, want ErrDimension", err)
	}
	if got := s.Dim(); got != 0 {
		t.Errorf("after failed first batch: Dim() = %d, want 0", got)
	}
	mustUpsert(t, s, VectorRecord{ID: "a", Vector: []float32{1, 2, 3}})
	if got := s.Dim(); got != 3 {
		t.Errorf("Dim() = %d, want 3", got)
	}
}

func TestFlatCanceledContext(t *testing.T) {
	s := newTestFlat(t)
	mustUpsert(t, s, VectorRecord{ID: "a", Vector: []float32{1, 0}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Search(ctx, []float32{1, 0}, 1, Filter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Search: got error %v, want context.Canceled", err)
	}
	if err := s.Upsert(ctx, []VectorRecord{{ID: "b", Vector: []float32{0, 1}}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Upsert: got error %v, want context.Canceled", err)
	}
	if err := s.Delete(ctx, []string{"a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete: got error %v, want context.Canceled", err)
	}
	if got, want := s.Len(), 1; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
}

func TestFlatPersistence(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const dim = 24
	recs := flatRandRecords(r, 300, dim)
	queries := make([][]float32, 4)
	for i := range queries {
		queries[i] = flatRandVec(r, dim)
	}
	filters := []Filter{{}, {Kind: KindFAQ}, {Session: "s3"}, {Category: "税务", Kind: KindDoc}, {IDs: []string{"rec-0001", "rec-0100", "rec-0299"}}}

	tests := []struct {
		name   string
		recs   []VectorRecord
		delete []string
		wantN  int
	}{
		{"empty", nil, nil, 0},
		{"records", recs, nil, 300},
		{"after deletes", recs, []string{"rec-0000", "rec-0150", "rec-0299"}, 297},
		{"all deleted", recs[:2], []string{"rec-0000", "rec-0001"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "vectors.glvec")
			s, err := OpenFlatStore(path)
			if err != nil {
				t.Fatalf("OpenFlatStore: %v", err)
			}
			if len(tc.recs) > 0 {
				mustUpsert(t, s, tc.recs...)
			}
			if err := s.Delete(context.Background(), tc.delete); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			// Save twice: the second replaces the first file.
			for range 2 {
				if err := s.Save(); err != nil {
					t.Fatalf("Save: %v", err)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != "vectors.glvec" {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("files after Save: got %v, want [vectors.glvec]", names)
			}

			re, err := OpenFlatStore(path)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			if got := re.Len(); got != tc.wantN {
				t.Errorf("reopened Len() = %d, want %d", got, tc.wantN)
			}
			if got, want := re.Dim(), s.Dim(); got != want {
				t.Errorf("reopened Dim() = %d, want %d", got, want)
			}
			if s.Dim() == 0 {
				return
			}
			for qi, q := range queries {
				for fi, f := range filters {
					want := mustSearch(t, s, q, 10, f)
					got := mustSearch(t, re, q, 10, f)
					if !reflect.DeepEqual(got, want) {
						t.Errorf("query %d filter %d: got %+v, want %+v", qi, fi, got, want)
					}
				}
			}
		})
	}
}

func TestFlatSaveErrors(t *testing.T) {
	s, err := OpenFlatStore(filepath.Join(t.TempDir(), "missing-dir", "vectors.glvec"))
	if err != nil {
		t.Fatalf("OpenFlatStore: %v", err)
	}
	mustUpsert(t, s, VectorRecord{ID: "a", Vector: []float32{1}})
	if err := s.Save(); err == nil {
		t.Error("Save into a missing directory: got no error, want one")
	}
	if _, err := OpenFlatStore(t.TempDir()); err == nil {
		t.Error("OpenFlatStore of a directory: got no error, want one")
	}
	if _, err := OpenFlatStore(""); err == nil {
		t.Error(`OpenFlatStore(""): got no error, want one`)
	}
}

// flatTestFile returns the encoding of a small store: ids "a", "b", "c",
// dimension 4, after letting edit change the store's fields.
func flatTestFile(t *testing.T, edit func(s *FlatStore)) []byte {
	t.Helper()
	s := newTestFlat(t)
	mustUpsert(t, s,
		VectorRecord{ID: "a", Vector: []float32{1, 2, 3, 4}, Payload: Payload{Kind: KindFAQ, FAQID: "faq-a"}},
		VectorRecord{ID: "b", Vector: []float32{4, 3, 2, 1}, Payload: Payload{Kind: KindDoc, Sessions: []content.SessionID{"s1"}}},
		VectorRecord{ID: "c", Vector: []float32{0, 1, 0, 1}},
	)
	if edit != nil {
		edit(s)
	}
	data, err := s.encode()
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return data
}

// flatFixCRC rewrites the checksum at the end of data to match the rest.
func flatFixCRC(data []byte) []byte {
	body := data[:len(data)-4]
	return binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.ChecksumIEEE(body))
}

func TestFlatOpenCorrupt(t *testing.T) {
	valid := flatTestFile(t, nil)
	// Record "a" starts right after the header: idLen, "a", payloadLen, payload.
	const payloadAt = flatHeaderLen + 4 + 1 + 4

	patch := func(off int, b ...byte) []byte {
		d := slices.Clone(valid)
		copy(d[off:], b)
		return d
	}
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

	tests := []struct {
		name        string
		data        []byte
		wantCorrupt bool   // error wraps ErrCorruptStore
		wantMsg     string // error contains this
	}{
		{"empty file", nil, true, "truncated"},
		{"header only", valid[:flatHeaderLen], true, "truncated"},
		{"wrong magic", patch(0, 'X'), true, "not a vector store"},
		{"text file", []byte("hello, world, this is not a store"), true, "not a vector store"},
		{"future version", flatFixCRC(patch(5, 2, 0)), false, "format version 2"},
		{"flipped vector byte", patch(len(valid)-10, valid[len(valid)-10]^0x40), true, "checksum"},
		{"flipped checksum", patch(len(valid)-1, valid[len(valid)-1]^1), true, "checksum"},
		{"truncated last byte", valid[:len(valid)-1], true, "checksum"},
		{"huge count", flatFixCRC(patch(11, u32(math.MaxUint32)...)), true, "need at least"},
		{"huge dimension", flatFixCRC(patch(7, u32(1<<30)...)), true, "need at least"},
		{"zero dimension", flatFixCRC(patch(7, u32(0)...)), true, "dimension 0"},
		{"count too small", flatFixCRC(patch(11, u32(2)...)), true, "after the last record"},
		{"count too large", flatFixCRC(patch(11, u32(4)...)), true, "overruns"},
		{"huge id length", flatFixCRC(patch(flatHeaderLen, u32(math.MaxUint32)...)), true, "overruns"},
		{"bad payload JSON", flatFixCRC(patch(payloadAt, 'x')), true, "payload"},
		{"duplicate id", flatTestFile(t, func(s *FlatStore) { s.ids[1] = "a" }), true, "duplicate id"},
		{"empty id", flatTestFile(t, func(s *FlatStore) { s.ids[2] = "" }), true, "empty id"},
		{"NaN vector", flatTestFile(t, func(s *FlatStore) { s.vecs[5] = float32(math.NaN()) }), true, "unit length"},
		{"not normalised", flatTestFile(t, func(s *FlatStore) { s.vecs[0] *= 3 }), true, "unit length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "vectors.glvec")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := OpenFlatStore(path)
			if err == nil {
				t.Fatalf("got store with %d records and no error, want an error", s.Len())
			}
			if got := errors.Is(err, ErrCorruptStore); got != tc.wantCorrupt {
				t.Errorf("errors.Is(%v, ErrCorruptStore) = %v, want %v", err, got, tc.wantCorrupt)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("got error %q, want it to contain %q", err, tc.wantMsg)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("got error %q, want it to name the file", err)
			}
		})
	}

	t.Run("every truncation", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "vectors.glvec")
		for n := range len(valid) {
			if err := os.WriteFile(path, valid[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenFlatStore(path); !errors.Is(err, ErrCorruptStore) {
				t.Errorf("file cut to %d of %d bytes: got error %v, want ErrCorruptStore", n, len(valid), err)
			}
		}
	})

	t.Run("valid file opens", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "vectors.glvec")
		if err := os.WriteFile(path, valid, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenFlatStore(path)
		if err != nil {
			t.Fatalf("OpenFlatStore: %v", err)
		}
		if got, want := s.Len(), 3; got != want {
			t.Errorf("Len() = %d, want %d", got, want)
		}
	})
}

// TestFlatConcurrent runs searches while another goroutine upserts and
// deletes and a third saves; run it with -race.
func TestFlatConcurrent(t *testing.T) {
	const dim, base = 32, 2000
	r := rand.New(rand.NewPCG(5, 6))
	s := newTestFlat(t)
	mustUpsert(t, s, flatRandRecords(r, base, dim)...)
	queries := make([][]float32, 16)
	for i := range queries {
		queries[i] = flatRandVec(r, dim)
	}
	writes := make([]VectorRecord, 200)
	for i := range writes {
		writes[i] = VectorRecord{
			ID: fmt.Sprintf("w-%d", i), Vector: flatRandVec(r, dim),
			Payload: Payload{Kind: KindDoc, Category: "written", Sessions: []content.SessionID{"s1"}},
		}
	}

	ctx := t.Context()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			filters := []Filter{{}, {Kind: KindFAQ}, {Category: "written"}, {Session: "s1"}}
			for i := range 200 {
				f := filters[(g+i)%len(filters)]
				hits, err := s.Search(ctx, queries[i%len(queries)], 10, f)
				if err != nil {
					t.Errorf("Search: %v", err)
					return
				}
				if len(hits) > 10 {
					t.Errorf("got %d hits, want at most 10", len(hits))
				}
				for j, h := range hits {
					if j > 0 && h.Score > hits[j-1].Score {
						t.Errorf("hits not sorted: %v after %v", h.Score, hits[j-1].Score)
					}
					if f.Kind != "" && h.Payload.Kind != f.Kind || f.Category != "" && h.Payload.Category != f.Category ||
						f.Session != "" && !slices.Contains(h.Payload.Sessions, f.Session) {
						t.Errorf("filter %+v: got hit %+v", f, h)
					}
				}
			}
		})
	}
	wg.Go(func() {
		for i, w := range writes {
			if err := s.Upsert(ctx, []VectorRecord{w}); err != nil {
				t.Errorf("Upsert: %v", err)
				return
			}
			if i%3 == 0 {
				if err := s.Delete(ctx, []string{writes[i/2].ID, fmt.Sprintf("rec-%04d", i)}); err != nil {
					t.Errorf("Delete: %v", err)
					return
				}
			}
		}
	})
	wg.Go(func() {
		for range 5 {
			if err := s.Save(); err != nil {
				t.Errorf("Save: %v", err)
				return
			}
		}
	})
	wg.Wait()

	// The writer's outcome does not depend on the interleaving.
	ref := newTestFlat(t)
	mustUpsert(t, ref, flatRandRecords(rand.New(rand.NewPCG(5, 6)), base, dim)...)
	for i, w := range writes {
		mustUpsert(t, ref, w)
		if i%3 == 0 {
			if err := ref.Delete(context.Background(), []string{writes[i/2].ID, fmt.Sprintf("rec-%04d", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, want := s.Len(), ref.Len(); got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	for _, q := range queries {
		got, want := mustSearch(t, s, q, 10, Filter{}), mustSearch(t, ref, q, 10, Filter{})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after concurrent writes: got %+v, want %+v", got, want)
		}
	}
}

// flatBenchStore returns a store of n random vectors of length dim, a
// quarter of them FAQ entries, and some queries.
func flatBenchStore(b *testing.B, n, dim int) (*FlatStore, [][]float32) {
	b.Helper()
	r := rand.New(rand.NewPCG(7, 8))
	recs := make([]VectorRecord, n)
	for i := range recs {
		kind := KindDoc
		if i%4 == 0 {
			kind = KindFAQ
		}
		recs[i] = VectorRecord{
			ID: fmt.Sprintf("rec-%05d", i), Vector: flatRandVec(r, dim),
			Payload: Payload{Kind: kind, Category: flatTestCategories[i%len(flatTestCategories)]},
		}
	}
	s := newTestFlat(b)
	mustUpsert(b, s, recs...)
	queries := make([][]float32, 64)
	for i := range queries {
		queries[i] = flatRandVec(r, dim)
	}
	return s, queries
}

func BenchmarkFlatSearch(b *testing.B) {
	const n, dim = 11000, 512
	s, queries := flatBenchStore(b, n, dim)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		k    int
		f    Filter
	}{
		{"all", 10, Filter{}},
		{"kind=faq", 10, Filter{Kind: KindFAQ}},
		{"all/k=120", 120, Filter{}}, // what Index.Search asks for
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				hits, err := s.Search(ctx, queries[i%len(queries)], bc.k, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(hits) != bc.k {
					b.Fatalf("got %d hits, want %d", len(hits), bc.k)
				}
				i++
			}
		})
	}
}

func BenchmarkFlatUpsert(b *testing.B) {
	const n, dim = 11000, 512
	r := rand.New(rand.NewPCG(9, 10))
	vecs := make([][]float32, 256)
	for i := range vecs {
		vecs[i] = flatRandVec(r, dim)
	}
	ctx := context.Background()
	payload := Payload{Kind: KindFAQ, Category: "交通", Sessions: []content.SessionID{"s1"}}

	b.Run("insert", func(b *testing.B) {
		s := newTestFlat(b)
		ids := make([]string, b.N)
		for i := range ids {
			ids[i] = "new-" + strconv.Itoa(i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			rec := []VectorRecord{{ID: ids[i], Vector: vecs[i%len(vecs)], Payload: payload}}
			if err := s.Upsert(ctx, rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("replace", func(b *testing.B) {
		s, _ := flatBenchStore(b, n, dim)
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("rec-%05d", i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			rec := []VectorRecord{{ID: ids[i%n], Vector: vecs[i%len(vecs)], Payload: payload}}
			if err := s.Upsert(ctx, rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}
