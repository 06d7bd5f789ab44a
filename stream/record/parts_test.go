package record

import (
	"encoding/hex"
	"slices"
	"testing"
	"time"
)

func TestReorderBuffer(t *testing.T) {
	tests := []struct {
		name     string
		window   int
		in       []uint16
		wantOut  []uint16 // released, flush included
		wantLost []uint64 // lost count per released packet
	}{
		{"in order", 4, []uint16{1, 2, 3}, []uint16{1, 2, 3}, []uint64{0, 0, 0}},
		{"wraps", 4, []uint16{65534, 65535, 0, 1}, []uint16{65534, 65535, 0, 1}, []uint64{0, 0, 0, 0}},
		{"swapped across the wrap", 4, []uint16{65534, 0, 65535, 1}, []uint16{65534, 65535, 0, 1}, []uint64{0, 0, 0, 0}},
		{"duplicate and late", 4, []uint16{10, 11, 11, 9, 12}, []uint16{10, 11, 12}, []uint64{0, 0, 0}},
		{"gap given up after the window", 2, []uint16{1, 3, 4, 5, 6}, []uint16{1, 3, 4, 5, 6}, []uint64{0, 1, 0, 0, 0}},
		{"gap filled in time", 4, []uint16{1, 3, 4, 2, 5}, []uint16{1, 2, 3, 4, 5}, []uint64{0, 0, 0, 0, 0}},
		{"gap left at flush", 8, []uint16{1, 3, 6}, []uint16{1, 3, 6}, []uint64{0, 1, 2}},
		{"restart far ahead", 4, []uint16{1, 2, 20000, 20001, 20002}, []uint16{1, 2, 20000, 20001, 20002}, []uint64{0, 0, 1, 0, 0}},
		{"restart far back", 4, []uint16{20000, 20001, 1, 2, 3}, []uint16{20000, 20001, 1, 2, 3}, []uint64{0, 0, 1, 0, 0}},
		{"one stale packet is dropped", 4, []uint16{20000, 20001, 1, 20002, 20003}, []uint16{20000, 20001, 20002, 20003}, []uint64{0, 0, 0, 0}},
		{"two stale packets are dropped", 4, []uint16{20000, 20001, 1, 2, 20002}, []uint16{20000, 20001, 20002}, []uint64{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newReorderBuffer(tt.window)
			var got []orderedPacket
			for _, s := range tt.in {
				got = append(got, b.push(packet{seq: s})...)
			}
			got = append(got, b.flush()...)
			var seqs []uint16
			var lost []uint64
			for _, p := range got {
				seqs = append(seqs, p.p.seq)
				lost = append(lost, p.lost)
			}
			if !slices.Equal(seqs, tt.wantOut) || !slices.Equal(lost, tt.wantLost) {
				t.Errorf("got %v lost %v, want %v lost %v", seqs, lost, tt.wantOut, tt.wantLost)
			}
		})
	}
}

func TestAssembler(t *testing.T) {
	// VP8 payload descriptors: 0x10 starts a frame, 0x00 continues one.
	type in struct {
		ts     int64
		start  bool
		marker bool
		lost   bool
	}
	tests := []struct {
		name          string
		in            []in
		wantTS        []int64
		wantAfterLoss []bool
		wantDiscarded uint64
	}{
		{
			name:   "frames by marker",
			in:     []in{{1, true, false, false}, {1, false, true, false}, {2, true, true, false}},
			wantTS: []int64{1, 2}, wantAfterLoss: []bool{false, false},
		},
		{
			name:   "frame ended by the next timestamp",
			in:     []in{{1, true, false, false}, {2, true, true, false}},
			wantTS: []int64{1, 2}, wantAfterLoss: []bool{false, false},
		},
		{
			name:   "loss inside a frame discards it and its other packets",
			in:     []in{{1, true, false, false}, {1, false, false, true}, {1, false, true, false}, {2, true, true, false}},
			wantTS: []int64{2}, wantAfterLoss: []bool{true}, wantDiscarded: 1,
		},
		{
			name:   "lost first packet",
			in:     []in{{1, true, true, false}, {2, false, true, true}, {3, true, true, false}},
			wantTS: []int64{1, 3}, wantAfterLoss: []bool{false, true}, wantDiscarded: 1,
		},
		{
			name:   "lost whole frame",
			in:     []in{{1, true, true, false}, {3, true, true, true}},
			wantTS: []int64{1, 3}, wantAfterLoss: []bool{false, true},
		},
		{
			name:   "a marker before the last packet of a timestamp: one frame",
			in:     []in{{1, true, true, false}, {1, false, true, false}, {2, true, false, false}, {2, false, true, false}},
			wantTS: []int64{1, 2}, wantAfterLoss: []bool{false, false},
		},
		{
			name:   "a frame ended by its marker is whole, whatever is lost after it",
			in:     []in{{1, true, true, false}, {2, true, true, true}},
			wantTS: []int64{1, 2}, wantAfterLoss: []bool{false, true},
		},
		{
			name:   "loss after a marker within the same timestamp discards the frame",
			in:     []in{{1, true, true, false}, {1, false, true, true}, {2, true, true, false}},
			wantTS: []int64{2}, wantAfterLoss: []bool{true}, wantDiscarded: 1,
		},
		{
			name:   "stream joined mid-frame",
			in:     []in{{1, false, true, false}, {2, true, true, false}},
			wantTS: []int64{2}, wantAfterLoss: []bool{true}, wantDiscarded: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &assembler{isStart: vp8IsStart}
			var ts []int64
			var afterLoss []bool
			var discarded uint64
			for _, p := range tt.in {
				payload := []byte{0x00, 0xaa}
				if p.start {
					payload[0] = 0x10
				}
				frames, d := a.push(packet{marker: p.marker, payload: payload}, p.ts, p.lost)
				discarded += d
				for _, f := range frames {
					ts = append(ts, f.ts)
					afterLoss = append(afterLoss, f.afterLoss)
				}
			}
			frames, d := a.flush()
			discarded += d
			for _, f := range frames {
				ts = append(ts, f.ts)
				afterLoss = append(afterLoss, f.afterLoss)
			}
			if !slices.Equal(ts, tt.wantTS) || !slices.Equal(afterLoss, tt.wantAfterLoss) || discarded != tt.wantDiscarded {
				t.Errorf("got frames %v after loss %v discarded %d, want %v %v %d",
					ts, afterLoss, discarded, tt.wantTS, tt.wantAfterLoss, tt.wantDiscarded)
			}
		})
	}
}

func TestH264NALs(t *testing.T) {
	sps := []byte{0x67, 1, 2, 3}
	pps := []byte{0x68, 4}
	idr := []byte{0x65, 0x88, 1, 2, 3, 4}
	stapA := []byte{0x78, 0, 4, 0x67, 1, 2, 3, 0, 2, 0x68, 4}
	fu := func(start, end bool, data ...byte) []byte {
		h := byte(nalIDR)
		if start {
			h |= 0x80
		}
		if end {
			h |= 0x40
		}
		return append([]byte{0x60 | nalFUA, h}, data...)
	}
	tests := []struct {
		name   string
		parts  [][]byte
		want   [][]byte
		wantOK bool
	}{
		{"single", [][]byte{sps, pps, idr}, [][]byte{sps, pps, idr}, true},
		{"STAP-A and FU-A", [][]byte{stapA, fu(true, false, 0x88, 1), fu(false, false, 2), fu(false, true, 3, 4)}, [][]byte{sps, pps, idr}, true},
		{"FU-A without end", [][]byte{fu(true, false, 0x88), fu(false, false, 1)}, nil, false},
		{"FU-A without start", [][]byte{fu(false, true, 1)}, nil, false},
		{"STAP-A cut short", [][]byte{stapA[:8]}, nil, false},
		{"FU-B", [][]byte{{29, 0x85, 1}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := h264NALs(tt.parts)
			if ok != tt.wantOK || !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("got %x %v, want %x %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseSPS(t *testing.T) {
	tests := []struct {
		name          string
		hex           string
		width, height int
	}{
		{"high 1080p cropped", "67640028acd940780227e5c044000003000400000300c83c60c65800", 1920, 1080},
		{"main 720p interlaced", "674d4020eca02805df97011000000300100000030321f162d96000", 1280, 720},
		{"high 4:4:4 360p", "67f4001e919b281405ff1380880000030008000003019078b16cb000", 640, 360},
		{"high 4:2:2 cif", "677a000dbcd9416096c044000003000400000300c83c50a65800", 352, 288},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.hex)
			if err != nil {
				t.Fatal(err)
			}
			w, h, err := parseSPS(b)
			if err != nil || w != tt.width || h != tt.height {
				t.Errorf("got %dx%d %v, want %dx%d", w, h, err, tt.width, tt.height)
			}
		})
	}
	t.Run("testdata", func(t *testing.T) {
		sps := loadH264(t)[0][0]
		w, h, err := parseSPS(sps)
		if err != nil || w != 160 || h != 120 {
			t.Errorf("got %dx%d %v, want 160x120", w, h, err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		if _, _, err := parseSPS([]byte{0x67, 0x64, 0, 0x28}); err == nil {
			t.Error("got no error")
		}
	})
}

func TestOpusDuration(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
		want time.Duration
	}{
		{"CELT 20ms", []byte{31 << 3}, 20 * time.Millisecond},
		{"CELT 2.5ms", []byte{16 << 3}, 2500 * time.Microsecond},
		{"SILK 60ms", []byte{3 << 3}, 60 * time.Millisecond},
		{"hybrid 10ms x2", []byte{12<<3 | 1}, 20 * time.Millisecond},
		{"SILK 20ms x3 (code 3)", []byte{1<<3 | 3, 3}, 60 * time.Millisecond},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := time.Duration(opusDuration(tt.p)) * time.Second / audioClock
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestH264ParamsAlone checks parameter sets sent in a frame of their own:
// they are kept for the keyframe and put in band before it.
func TestH264ParamsAlone(t *testing.T) {
	au := loadH264(t)[0] // SPS, PPS, SEI, IDR
	sps, pps, idr := au[0], au[1], au[3]
	c := &h264Codec{}
	if _, v := c.sample(frame{parts: [][]byte{sps, pps}}); v != frameEmpty {
		t.Fatalf("parameter sets alone: got verdict %d, want frameEmpty", v)
	}
	s, v := c.sample(frame{parts: [][]byte{idr}})
	if v != frameOK || !s.key || s.width != 160 || s.height != 120 {
		t.Fatalf("IDR: got verdict %d key %v %dx%d, want a 160x120 keyframe", v, s.key, s.width, s.height)
	}
	if want := avcSample([][]byte{sps, pps, idr}); !slices.Equal(s.data, want) {
		t.Errorf("IDR sample: got %d bytes, want SPS, PPS and IDR (%d bytes)", len(s.data), len(want))
	}
	if !slices.Equal(s.sps, sps) || !slices.Equal(s.pps, pps) {
		t.Errorf("parameter sets for avcC not kept")
	}
	// A slice that does not start the picture: its first slice was lost.
	cut := append([]byte{idr[0]}, 0x40) // first_mb_in_slice = 1
	if _, v := c.sample(frame{parts: [][]byte{cut}}); v != frameDamaged {
		t.Errorf("picture without its first slice: got verdict %d, want frameDamaged", v)
	}
}
