package record

import (
	"errors"
	"fmt"
)

// errShortBits means that a bit string ended before a field did.
var errShortBits = errors.New("record: bit string too short")

// bitReader reads the RBSP of a NAL unit (emulation prevention bytes
// removed) bit by bit, MSB first. The first error sticks.
type bitReader struct {
	b   []byte
	pos int // in bits
	err error
}

func newBitReader(ebsp []byte) *bitReader {
	rbsp := make([]byte, 0, len(ebsp))
	zeros := 0
	for _, c := range ebsp {
		if zeros >= 2 && c == 0x03 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		rbsp = append(rbsp, c)
	}
	return &bitReader{b: rbsp}
}

func (r *bitReader) u(n int) uint32 {
	var v uint32
	for range n {
		if r.err != nil {
			return 0
		}
		if r.pos >= 8*len(r.b) {
			r.err = errShortBits
			return 0
		}
		bit := r.b[r.pos/8] >> (7 - r.pos%8) & 1
		v = v<<1 | uint32(bit)
		r.pos++
	}
	return v
}

func (r *bitReader) flag() bool { return r.u(1) == 1 }

// ue reads an unsigned Exp-Golomb code.
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.u(1) == 0 {
		if r.err != nil {
			return 0
		}
		zeros++
		if zeros > 31 {
			r.err = errors.New("record: Exp-Golomb code too long")
			return 0
		}
	}
	return 1<<zeros - 1 + r.u(zeros)
}

// se reads a signed Exp-Golomb code.
func (r *bitReader) se() int32 {
	k := r.ue()
	if k%2 == 1 {
		return int32(k/2 + 1)
	}
	return -int32(k / 2)
}

// parseSPS reads the picture size from an H264 sequence parameter set NAL
// unit (ITU-T H.264 section 7.3.2.1.1), cropping applied.
func parseSPS(nal []byte) (width, height int, err error) {
	if len(nal) < 4 || nal[0]&0x1f != nalSPS {
		return 0, 0, errors.New("record: not an SPS")
	}
	r := newBitReader(nal[1:])
	profile := r.u(8)
	r.u(16) // constraint flags, level
	r.ue()  // seq_parameter_set_id
	chromaFormat := uint32(1)
	separateColourPlane := false
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		chromaFormat = r.ue()
		if chromaFormat == 3 {
			separateColourPlane = r.flag()
		}
		r.ue()        // bit_depth_luma_minus8
		r.ue()        // bit_depth_chroma_minus8
		r.flag()      // qpprime_y_zero_transform_bypass_flag
		if r.flag() { // seq_scaling_matrix_present_flag
			lists := 8
			if chromaFormat == 3 {
				lists = 12
			}
			for i := range lists {
				if !r.flag() {
					continue
				}
				size := 16
				if i >= 6 {
					size = 64
				}
				last, next := int32(8), int32(8)
				for range size {
					if next != 0 {
						next = (last + r.se() + 256) % 256
					}
					if next != 0 {
						last = next
					}
				}
			}
		}
	}
	r.ue()          // log2_max_frame_num_minus4
	switch r.ue() { // pic_order_cnt_type
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.flag() // delta_pic_order_always_zero_flag
		r.se()   // offset_for_non_ref_pic
		r.se()   // offset_for_top_to_bottom_field
		n := r.ue()
		if n > 255 {
			return 0, 0, fmt.Errorf("record: SPS: %d ref frames in POC cycle", n)
		}
		for range n {
			r.se()
		}
	}
	r.ue()   // max_num_ref_frames
	r.flag() // gaps_in_frame_num_value_allowed_flag
	widthMBs := int(r.ue()) + 1
	heightMapUnits := int(r.ue()) + 1
	frameMBsOnly := r.flag()
	if !frameMBsOnly {
		r.flag() // mb_adaptive_frame_field_flag
	}
	r.flag() // direct_8x8_inference_flag
	var cropLeft, cropRight, cropTop, cropBottom int
	if r.flag() {
		cropLeft, cropRight = int(r.ue()), int(r.ue())
		cropTop, cropBottom = int(r.ue()), int(r.ue())
	}
	if r.err != nil {
		return 0, 0, fmt.Errorf("record: SPS: %w", r.err)
	}
	fieldFactor := 1
	if !frameMBsOnly {
		fieldFactor = 2
	}
	chromaArrayType := chromaFormat
	if separateColourPlane {
		chromaArrayType = 0
	}
	cropX, cropY := 1, fieldFactor
	switch chromaArrayType {
	case 1: // 4:2:0
		cropX, cropY = 2, 2*fieldFactor
	case 2: // 4:2:2
		cropX = 2
	}
	width = widthMBs*16 - cropX*(cropLeft+cropRight)
	height = fieldFactor*heightMapUnits*16 - cropY*(cropTop+cropBottom)
	if width <= 0 || height <= 0 || width > 16384 || height > 16384 {
		return 0, 0, fmt.Errorf("record: SPS: picture size %dx%d", width, height)
	}
	return width, height, nil
}
