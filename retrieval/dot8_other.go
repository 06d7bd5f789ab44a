//go:build !amd64

package retrieval

// dot8Blocks returns the dot product of a and b, whose common length is a
// multiple of dot8Block.
func dot8Blocks(a, b []int8) int32 { return dot8Go(a, b) }
