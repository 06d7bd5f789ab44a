package retrieval

// dot8 returns the dot product of two int8 vectors of the same length,
// exactly: in int32, which vectors of up to 2¹⁷ components in [-127, 127]
// cannot overflow.
func dot8(a, b []int8) int32 {
	b = b[:len(a)]
	n := len(a) &^ (dot8Block - 1)
	var s int32
	if n > 0 {
		s = dot8Blocks(a[:n], b[:n])
	}
	for i := n; i < len(a); i++ {
		s += int32(a[i]) * int32(b[i])
	}
	return s
}

// dot8Block is the length dot8Blocks works on a multiple of.
const dot8Block = 32

// dot8Go is the portable dot8Blocks.
func dot8Go(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	for i := 0; i+4 <= len(a); i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	return s0 + s1 + s2 + s3
}
