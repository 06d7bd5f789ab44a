package retrieval

import "golang.org/x/sys/cpu"

var dot8UseAVX2 = cpu.X86.HasAVX2

// dot8AVX2 is dot8Blocks in AVX2; n is a positive multiple of dot8Block.
//
//go:noescape
func dot8AVX2(a, b *int8, n int) int32

// dot8Blocks returns the dot product of a and b, whose common length is a
// multiple of dot8Block.
func dot8Blocks(a, b []int8) int32 {
	if dot8UseAVX2 && len(a) > 0 {
		return dot8AVX2(&a[0], &b[0], len(a))
	}
	return dot8Go(a, b)
}
