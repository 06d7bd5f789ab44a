package discord

// recent is a map that keeps only its last n keys: the oldest is
// forgotten when a new one comes. Not safe for concurrent use.
type recent[K comparable, V any] struct {
	n     int
	m     map[K]V
	order []K // a ring of the keys, oldest at next
	next  int
}

func newRecent[K comparable, V any](n int) *recent[K, V] {
	return &recent[K, V]{n: n, m: make(map[K]V, n)}
}

func (r *recent[K, V]) get(k K) (V, bool) {
	v, ok := r.m[k]
	return v, ok
}

func (r *recent[K, V]) put(k K, v V) {
	if _, ok := r.m[k]; ok {
		r.m[k] = v
		return
	}
	if len(r.order) < r.n {
		r.order = append(r.order, k)
	} else {
		delete(r.m, r.order[r.next])
		r.order[r.next] = k
		r.next = (r.next + 1) % r.n
	}
	r.m[k] = v
}

// remove forgets k (its slot in the ring is reused in turn).
func (r *recent[K, V]) remove(k K) { delete(r.m, k) }
