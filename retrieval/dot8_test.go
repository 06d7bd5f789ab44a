package retrieval

import (
	"math/rand/v2"

	"github.com/viterin/vek/vek32"
	"testing"
)

func TestDot8(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 5, 31, 32, 33, 64, 100, 512, 1536} {
		a, b := make([]int8, n), make([]int8, n)
		var want int32
		for i := range a {
			a[i], b[i] = int8(r.IntN(255)-127), int8(r.IntN(255)-127)
			want += int32(a[i]) * int32(b[i])
		}
		if got := dot8(a, b); got != want {
			t.Errorf("n=%d: dot8 = %d, want %d", n, got, want)
		}
		if m := n &^ (dot8Block - 1); m > 0 {
			if got, want := dot8Blocks(a[:m], b[:m]), dot8Go(a[:m], b[:m]); got != want {
				t.Errorf("n=%d: dot8Blocks = %d, dot8Go = %d", m, got, want)
			}
		}
	}
	// The extremes: every product at its largest, of either sign.
	a, b := make([]int8, 512), make([]int8, 512)
	for i := range a {
		a[i], b[i] = 127, -127
	}
	if got, want := dot8(a, a), int32(512*127*127); got != want {
		t.Errorf("127·127: got %d, want %d", got, want)
	}
	if got, want := dot8(a, b), int32(-512*127*127); got != want {
		t.Errorf("127·-127: got %d, want %d", got, want)
	}
}

func BenchmarkDot8(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x, y := make([]int8, 512), make([]int8, 512)
	for i := range x {
		x[i], y[i] = int8(r.IntN(255)-127), int8(r.IntN(255)-127)
	}
	b.Run("avx2", func(b *testing.B) {
		for b.Loop() {
			dot8(x, y)
		}
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			dot8Go(x, y)
		}
	})
}

func BenchmarkDotF32(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float32, 512), make([]float32, 512)
	for i := range x {
		x[i], y[i] = r.Float32(), r.Float32()
	}
	for b.Loop() {
		vek32.Dot(x, y)
	}
}
