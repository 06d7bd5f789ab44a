package discord

import "testing"

func TestRecent(t *testing.T) {
	r := newRecent[int, string](3)
	for i := 1; i <= 5; i++ {
		r.put(i, "v")
	}
	r.put(5, "again") // an update keeps its slot
	for k, want := range map[int]bool{1: false, 2: false, 3: true, 4: true, 5: true} {
		if _, ok := r.get(k); ok != want {
			t.Errorf("get(%d): got %t, want %t", k, ok, want)
		}
	}
	if v, _ := r.get(5); v != "again" {
		t.Errorf("got %q, want the update", v)
	}
	r.remove(4)
	r.put(6, "v") // evicts 3, the oldest slot
	if _, ok := r.get(3); ok {
		t.Errorf("3 kept after two newer keys")
	}
	if _, ok := r.get(5); len(r.m) != 2 || !ok {
		t.Errorf("got keys %v, want 5 and 6", r.m)
	}
}
