package retrieval

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/viterin/vek/vek32"

	"govlive/content"
)

// ErrInvalidVector means a vector is empty, all zeros, or has a NaN or
// infinite component, so it has no direction to compare by cosine.
var ErrInvalidVector = errors.New("invalid vector: zero, empty, NaN or infinite")

// ErrCorruptStore means a vector store file is truncated or damaged.
var ErrCorruptStore = errors.New("corrupt vector store file")

var _ VectorStore = (*FlatStore)(nil)

// The flat store's file format, all integers little-endian:
//
//	magic "GLVEC", version uint16, dim uint32, count uint32,
//	count × (idLen uint32, id, payloadLen uint32, payload JSON, dim × float32),
//	CRC-32 (IEEE) of everything before it, uint32.
const (
	flatMagic      = "GLVEC"
	flatVersion    = 1
	flatHeaderLen  = len(flatMagic) + 2 + 4 + 4
	flatTrailerLen = 4
	// flatMinRecord is the smallest a record can be besides its vector:
	// two length prefixes.
	flatMinRecord = 8
	// flatCheckEvery is how many rows a search scans between checks of
	// its context.
	flatCheckEvery = 4096
)

// FlatStore is the embedded default VectorStore: every vector is kept in
// memory, L2-normalised, and a search returns the rows of the best exact
// cosine similarity among those that pass the filter — found by a scan of
// int8 copies of the rows that rules most of them out, then the exact
// cosine of the rest (see q8Rows). Save persists the store to its file
// (the float32 rows only; the int8 ones are made again on open).
// A FlatStore is safe for concurrent use.
type FlatStore struct {
	path string

	saveMu sync.Mutex // serialises Save, so files are renamed in snapshot order

	mu       sync.RWMutex
	dim      int            // 0 until fixed by the file or the first Upsert
	vecs     []float32      // row i at [i*dim:(i+1)*dim], unit length
	ids      []string       // ids[i] is row i's record id
	payloads []Payload      // payloads[i] is row i's payload
	rows     map[string]int // record id → row
	q8       q8Rows         // int8 copies of vecs, row for row
}

// flatPayload is a Payload as stored in the file, with stable JSON names.
type flatPayload struct {
	Kind     Kind                `json:"kind,omitempty"`
	Category string              `json:"category,omitempty"`
	FAQID    content.FAQID       `json:"faq_id,omitempty"`
	DocID    content.DocID       `json:"doc_id,omitempty"`
	Sessions []content.SessionID `json:"sessions,omitempty"`
}

// OpenFlatStore returns the store kept in the file at path: its contents if
// the file exists, an empty store otherwise. The file is only written by
// Save. A truncated or damaged file gives an error wrapping ErrCorruptStore.
func OpenFlatStore(path string) (*FlatStore, error) {
	if path == "" {
		return nil, errors.New("open flat vector store: empty path")
	}
	s := &FlatStore{path: path, rows: make(map[string]int)}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open flat vector store: %w", err)
	}
	if err := s.decode(data); err != nil {
		return nil, fmt.Errorf("open flat vector store %s: %w", path, err)
	}
	return s, nil
}

// Len returns the number of vectors in the store.
func (s *FlatStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.ids)
}

// Dim returns the length of the store's vectors, or 0 if it is not fixed
// yet (a new store before its first Upsert).
func (s *FlatStore) Dim() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dim
}

// Upsert adds the records, replacing any with the same id. Vectors are
// normalised to unit length; the caller's slices are not kept. The first
// vectors stored fix the store's dimension; a vector of another length gives
// an error wrapping ErrDimension. Either every record is stored or, on
// error, none is.
func (s *FlatStore) Upsert(ctx context.Context, records []VectorRecord) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("flat upsert: %w", err)
	}
	if len(records) == 0 {
		return nil
	}
	norms := make([]float64, len(records))
	for i, r := range records {
		if r.ID == "" {
			return fmt.Errorf("flat upsert record %d: empty id", i)
		}
		n, err := flatNorm(r.Vector)
		if err != nil {
			return fmt.Errorf("flat upsert %q: %w", r.ID, err)
		}
		norms[i] = n
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	dim := s.dim
	if dim == 0 {
		dim = len(records[0].Vector)
	}
	for _, r := range records {
		if len(r.Vector) != dim {
			return fmt.Errorf("flat upsert %q: length %d, store has %d: %w", r.ID, len(r.Vector), dim, ErrDimension)
		}
	}
	s.dim = dim
	for i, r := range records {
		row, ok := s.rows[r.ID]
		if !ok {
			row = len(s.ids)
			s.ids = append(s.ids, r.ID)
			s.payloads = append(s.payloads, Payload{})
			s.vecs = slices.Grow(s.vecs, dim)[:len(s.vecs)+dim]
			s.q8.grow(dim)
			s.rows[r.ID] = row
		}
		v := s.vecs[row*dim : (row+1)*dim]
		flatScale(v, r.Vector, norms[i])
		s.q8.set(row, v)
		s.payloads[row] = clonePayload(r.Payload)
	}
	return nil
}

// Delete removes the records with these ids; unknown ids are ignored. The
// store keeps its dimension even when it becomes empty.
func (s *FlatStore) Delete(ctx context.Context, ids []string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("flat delete: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dim := s.dim
	for _, id := range ids {
		row, ok := s.rows[id]
		if !ok {
			continue
		}
		last := len(s.ids) - 1
		if row != last {
			copy(s.vecs[row*dim:(row+1)*dim], s.vecs[last*dim:(last+1)*dim])
			s.q8.move(row, last, dim)
			s.ids[row] = s.ids[last]
			s.payloads[row] = s.payloads[last]
			s.rows[s.ids[row]] = row
		}
		s.ids[last] = ""
		s.payloads[last] = Payload{}
		s.ids = s.ids[:last]
		s.payloads = s.payloads[:last]
		s.vecs = s.vecs[:last*dim]
		s.q8.truncate(last, dim)
		delete(s.rows, id)
	}
	return nil
}

// Search returns the k records most similar to query by cosine similarity
// among those that pass f, best first; equal scores are ordered by id.
// The query is normalised; a zero, NaN or infinite query is an error, and
// one whose length differs from the store's wraps ErrDimension. k ≤ 0 or an
// empty store gives no hits.
func (s *FlatStore) Search(ctx context.Context, query []float32, k int, f Filter) ([]VectorHit, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("flat search: %w", err)
	}
	norm, err := flatNorm(query)
	if err != nil {
		return nil, fmt.Errorf("flat search query: %w", err)
	}
	if k <= 0 {
		return nil, nil
	}
	q := make([]float32, len(query))
	flatScale(q, query, norm)

	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.dim != 0 && len(q) != s.dim {
		return nil, fmt.Errorf("flat search: query length %d, store has %d: %w", len(q), s.dim, ErrDimension)
	}
	n := len(s.ids)
	if n == 0 {
		return nil, nil
	}
	dim := s.dim
	top := flatTop{ids: s.ids, h: make([]flatScored, 0, min(k, n))}

	if len(f.IDs) > 0 {
		rows := make([]int, 0, len(f.IDs))
		for _, id := range f.IDs {
			if r, ok := s.rows[id]; ok {
				rows = append(rows, r)
			}
		}
		slices.Sort(rows)
		rows = slices.Compact(rows)
		for _, r := range rows {
			if flatMatch(&f, &s.payloads[r]) {
				top.offer(vek32.Dot(q, s.vecs[r*dim:(r+1)*dim]), r)
			}
		}
		return top.hits(s.payloads), nil
	}
	if useQ8(n, k) {
		return s.searchQ8(ctx, q, k, &f, &top)
	}
	return s.scanExact(ctx, q, &f, &top)
}

// scanExact offers every row that passes f to top with its exact cosine
// with the unit query q and returns the hits top keeps. Caller holds s.mu
// for reading.
func (s *FlatStore) scanExact(ctx context.Context, q []float32, f *Filter, top *flatTop) ([]VectorHit, error) {
	dim := s.dim
	for r := range len(s.ids) {
		if r%flatCheckEvery == flatCheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("flat search: %w", err)
			}
		}
		if !flatMatch(f, &s.payloads[r]) {
			continue
		}
		top.offer(vek32.Dot(q, s.vecs[r*dim:(r+1)*dim]), r)
	}
	return top.hits(s.payloads), nil
}

// Save writes the whole store to its file atomically: to a temporary file
// in the same directory, synced, then renamed over the old file. Searches
// may run while it writes; the snapshot is taken under the read lock.
func (s *FlatStore) Save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()

	s.mu.RLock()
	data, err := s.encode()
	s.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("save flat vector store: %w", err)
	}
	if err := writeFileAtomic(s.path, data); err != nil {
		return fmt.Errorf("save flat vector store: %w", err)
	}
	return nil
}

// writeFileAtomic replaces the file at path with data so that a crash
// leaves either the old file or the new one.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err == nil {
			return
		}
		if !closed {
			err = errors.Join(err, f.Close())
		}
		if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}()
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	closed = true
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be synced there; rename is durable enough
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		return errors.Join(fmt.Errorf("sync %s: %w", dir, err), d.Close())
	}
	return d.Close()
}

// encode returns the store in the file format. The caller holds s.mu.
func (s *FlatStore) encode() ([]byte, error) {
	size := flatHeaderLen + flatTrailerLen + len(s.vecs)*4
	for _, id := range s.ids {
		size += flatMinRecord + len(id) + 64
	}
	b := make([]byte, 0, size)
	b = append(b, flatMagic...)
	b = binary.LittleEndian.AppendUint16(b, flatVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(s.dim))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.ids)))
	for i, id := range s.ids {
		p := s.payloads[i]
		js, err := json.Marshal(flatPayload{
			Kind: p.Kind, Category: p.Category, FAQID: p.FAQID, DocID: p.DocID, Sessions: p.Sessions,
		})
		if err != nil {
			return nil, fmt.Errorf("encode payload of %q: %w", id, err)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(len(id)))
		b = append(b, id...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(js)))
		b = append(b, js...)
		for _, x := range s.vecs[i*s.dim : (i+1)*s.dim] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// decode loads the file contents data into the empty store s. Allocations
// are bounded by len(data).
func (s *FlatStore) decode(data []byte) error {
	if n := min(len(data), len(flatMagic)); string(data[:n]) != flatMagic[:n] {
		return fmt.Errorf("not a vector store file (no %q magic): %w", flatMagic, ErrCorruptStore)
	}
	if len(data) < flatHeaderLen+flatTrailerLen {
		return fmt.Errorf("truncated at %d bytes, header and checksum need %d: %w",
			len(data), flatHeaderLen+flatTrailerLen, ErrCorruptStore)
	}
	if v := binary.LittleEndian.Uint16(data[len(flatMagic):]); v != flatVersion {
		return fmt.Errorf("format version %d, this build reads version %d", v, flatVersion)
	}
	body, trailer := data[:len(data)-flatTrailerLen], data[len(data)-flatTrailerLen:]
	if got, want := crc32.ChecksumIEEE(body), binary.LittleEndian.Uint32(trailer); got != want {
		return fmt.Errorf("checksum %08x, file says %08x (truncated or damaged): %w", got, want, ErrCorruptStore)
	}
	dim := binary.LittleEndian.Uint32(data[len(flatMagic)+2:])
	count := binary.LittleEndian.Uint32(data[len(flatMagic)+6:])
	rd := flatReader{b: body, off: flatHeaderLen}
	if count > 0 && dim == 0 {
		return fmt.Errorf("%d records of dimension 0: %w", count, ErrCorruptStore)
	}
	if need := uint64(count) * (flatMinRecord + 4*uint64(dim)); need > uint64(rd.remaining()) {
		return fmt.Errorf("%d records of dimension %d need at least %d bytes, file has %d: %w",
			count, dim, need, rd.remaining(), ErrCorruptStore)
	}

	n, d := int(count), int(dim)
	s.dim = d
	s.vecs = make([]float32, n*d)
	s.ids = make([]string, n)
	s.payloads = make([]Payload, n)
	s.rows = make(map[string]int, n)
	s.q8 = q8Rows{codes: make([]int8, n*d), scale: make([]float32, n), err: make([]float32, n)}
	for i := range n {
		id := string(rd.bytes(int(rd.u32())))
		js := rd.bytes(int(rd.u32()))
		raw := rd.bytes(4 * d)
		if rd.err != nil {
			return fmt.Errorf("record %d: %w", i, rd.err)
		}
		if id == "" {
			return fmt.Errorf("record %d: empty id: %w", i, ErrCorruptStore)
		}
		if _, dup := s.rows[id]; dup {
			return fmt.Errorf("record %d: duplicate id %q: %w", i, id, ErrCorruptStore)
		}
		var p flatPayload
		if err := json.Unmarshal(js, &p); err != nil {
			return fmt.Errorf("record %d (%q) payload: %v: %w", i, id, err, ErrCorruptStore)
		}
		v := s.vecs[i*d : (i+1)*d]
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		if norm, err := flatNorm(v); err != nil || math.Abs(norm-1) > 1e-3 {
			return fmt.Errorf("record %d (%q): vector is not unit length: %w", i, id, ErrCorruptStore)
		}
		s.q8.set(i, v)
		s.ids[i] = id
		s.payloads[i] = Payload{
			Kind: p.Kind, Category: p.Category, FAQID: p.FAQID, DocID: p.DocID, Sessions: p.Sessions,
		}
		s.rows[id] = i
	}
	if rd.remaining() != 0 {
		return fmt.Errorf("%d bytes after the last record: %w", rd.remaining(), ErrCorruptStore)
	}
	return nil
}

// flatReader reads length-prefixed fields from a file body; after the first
// overrun it returns zero values and keeps the error.
type flatReader struct {
	b   []byte
	off int
	err error
}

func (r *flatReader) remaining() int { return len(r.b) - r.off }

func (r *flatReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.remaining() {
		r.err = fmt.Errorf("field of %d bytes at offset %d overruns the file: %w", n, r.off, ErrCorruptStore)
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

func (r *flatReader) u32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// flatNorm returns the Euclidean length of v, computed in float64, or an
// error wrapping ErrInvalidVector.
func flatNorm(v []float32) (float64, error) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	switch {
	case len(v) == 0:
		return 0, fmt.Errorf("empty: %w", ErrInvalidVector)
	case math.IsNaN(sum) || math.IsInf(sum, 0):
		return 0, fmt.Errorf("NaN or infinite component: %w", ErrInvalidVector)
	case sum == 0:
		return 0, fmt.Errorf("all zeros: %w", ErrInvalidVector)
	}
	return math.Sqrt(sum), nil
}

// flatScale sets dst to src divided by norm.
func flatScale(dst, src []float32, norm float64) {
	for i, x := range src {
		dst[i] = float32(float64(x) / norm)
	}
}

// flatMatch reports whether a payload passes the Kind, Category and Session
// parts of f (IDs are handled by the caller).
func flatMatch(f *Filter, p *Payload) bool {
	if f.Kind != "" && p.Kind != f.Kind {
		return false
	}
	if f.Category != "" && p.Category != f.Category {
		return false
	}
	if f.Session != "" && !slices.Contains(p.Sessions, f.Session) {
		return false
	}
	return true
}

// clonePayload returns p with its own Sessions slice.
func clonePayload(p Payload) Payload {
	p.Sessions = slices.Clone(p.Sessions)
	return p
}

// flatScored is a candidate hit: a row and its score.
type flatScored struct {
	score float32
	row   int
}

// flatTop keeps the best cap(h) candidates in a min-heap whose root is the
// worst of them.
type flatTop struct {
	ids []string // record ids by row, for tie-breaking
	h   []flatScored
}

// worse reports whether a ranks below b: a lower score, or an equal score
// and a greater id.
func (t *flatTop) worse(a, b flatScored) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return t.ids[a.row] > t.ids[b.row]
}

// offer considers a row with its score.
func (t *flatTop) offer(score float32, row int) {
	c := flatScored{score: score, row: row}
	if len(t.h) < cap(t.h) {
		t.h = append(t.h, c)
		for i := len(t.h) - 1; i > 0; {
			parent := (i - 1) / 2
			if !t.worse(t.h[i], t.h[parent]) {
				break
			}
			t.h[i], t.h[parent] = t.h[parent], t.h[i]
			i = parent
		}
		return
	}
	if score < t.h[0].score || !t.worse(t.h[0], c) {
		return
	}
	t.h[0] = c
	for i := 0; ; {
		least := i
		if l := 2*i + 1; l < len(t.h) && t.worse(t.h[l], t.h[least]) {
			least = l
		}
		if r := 2*i + 2; r < len(t.h) && t.worse(t.h[r], t.h[least]) {
			least = r
		}
		if least == i {
			break
		}
		t.h[i], t.h[least] = t.h[least], t.h[i]
		i = least
	}
}

// hits returns the kept candidates best first, with copies of their
// payloads and scores clamped to [-1, 1].
func (t *flatTop) hits(payloads []Payload) []VectorHit {
	slices.SortFunc(t.h, func(a, b flatScored) int {
		switch {
		case t.worse(b, a):
			return -1
		case t.worse(a, b):
			return 1
		}
		return 0
	})
	out := make([]VectorHit, len(t.h))
	for i, c := range t.h {
		out[i] = VectorHit{
			ID:      t.ids[c.row],
			Score:   min(max(c.score, -1), 1),
			Payload: clonePayload(payloads[c.row]),
		}
	}
	return out
}
