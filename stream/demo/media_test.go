package demo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

func TestEmbeddedMediaSize(t *testing.T) {
	const limit = 1 << 20
	if got := len(cardIVF) + len(toneOgg); got >= limit {
		t.Errorf("got %d bytes of embedded media (card %d, tone %d), want less than %d",
			got, len(cardIVF), len(toneOgg), limit)
	}
}

func TestParseClipEmbedded(t *testing.T) {
	c, err := parseClip(cardIVF, toneOgg)
	if err != nil {
		t.Fatalf("parseClip: %v", err)
	}
	if got, want := c.length, 5*time.Second; got != want {
		t.Errorf("got loop of %v, want %v", got, want)
	}
	if got, want := len(c.video), 150; got != want {
		t.Errorf("got %d video frames, want %d", got, want)
	}
	if got, want := len(c.audio), 250; got != want {
		t.Errorf("got %d audio packets, want %d", got, want)
	}
	for i, f := range c.video {
		if f.ticks != 3000 {
			t.Fatalf("video frame %d: got %d ticks, want 3000", i, f.ticks)
		}
		if key, want := vp8Keyframe(f.data), i%30 == 0; key != want {
			t.Errorf("video frame %d: got keyframe %v, want %v", i, key, want)
		}
	}
}

// ivfFrame is one frame of a hand-built IVF file.
type ivfFrame struct {
	pts  uint64
	data []byte
}

// splitIVF returns the 32-byte header and the frames of an IVF file.
func splitIVF(t *testing.T, b []byte) ([]byte, []ivfFrame) {
	t.Helper()
	hdr, rest := b[:32], b[32:]
	var frames []ivfFrame
	for len(rest) > 0 {
		n := binary.LittleEndian.Uint32(rest[:4])
		frames = append(frames, ivfFrame{pts: binary.LittleEndian.Uint64(rest[4:12]), data: rest[12 : 12+n]})
		rest = rest[12+n:]
	}
	return hdr, frames
}

// joinIVF builds an IVF file from a header and frames.
func joinIVF(hdr []byte, frames []ivfFrame) []byte {
	var b bytes.Buffer
	b.Write(hdr)
	for _, f := range frames {
		var fh [12]byte
		binary.LittleEndian.PutUint32(fh[:4], uint32(len(f.data)))
		binary.LittleEndian.PutUint64(fh[4:], f.pts)
		b.Write(fh[:])
		b.Write(f.data)
	}
	return b.Bytes()
}

func TestParseClipRejects(t *testing.T) {
	hdr, frames := splitIVF(t, cardIVF)
	withHeader := func(off int, v []byte) []byte {
		h := bytes.Clone(hdr)
		copy(h[off:], v)
		return joinIVF(h, frames)
	}
	hidden := bytes.Clone(frames[5].data)
	hidden[0] &^= 0x10 // clear show_frame
	tests := []struct {
		name    string
		ivf     []byte
		ogg     []byte
		invalid bool // error wraps ErrInvalidMedia (else some read error)
	}{
		{name: "empty ivf", ivf: nil, ogg: toneOgg},
		{name: "truncated ivf", ivf: cardIVF[:len(cardIVF)-10], ogg: toneOgg},
		{name: "not vp8", ivf: withHeader(8, []byte("VP90")), ogg: toneOgg, invalid: true},
		{name: "time base not 1/rate", ivf: withHeader(20, []byte{2, 0, 0, 0}), ogg: toneOgg, invalid: true},
		{name: "no frames", ivf: joinIVF(hdr, nil), ogg: toneOgg, invalid: true},
		{
			name:    "starts with a delta frame",
			ivf:     joinIVF(hdr, frames[1:]),
			ogg:     toneOgg,
			invalid: true,
		},
		{
			name:    "hidden frame",
			ivf:     joinIVF(hdr, append(append(append([]ivfFrame{}, frames[:5]...), ivfFrame{5, hidden}), frames[6:]...)),
			ogg:     toneOgg,
			invalid: true,
		},
		{
			name:    "keyframes more than 1 s apart",
			ivf:     joinIVF(hdr, append([]ivfFrame{frames[0]}, frames[31:60]...)),
			ogg:     toneOgg,
			invalid: true,
		},
		{
			name:    "timestamps go back",
			ivf:     joinIVF(hdr, []ivfFrame{frames[0], frames[2], frames[1]}),
			ogg:     toneOgg,
			invalid: true,
		},
		{
			name:    "loop not a whole number of 20 ms",
			ivf:     joinIVF(hdr, frames[:31]), // 31/30 s
			ogg:     toneOgg,
			invalid: true,
		},
		{name: "empty ogg", ivf: cardIVF, ogg: nil},
		{name: "ogg is ivf", ivf: cardIVF, ogg: cardIVF},
		{name: "truncated ogg", ivf: cardIVF, ogg: toneOgg[:len(toneOgg)-10]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseClip(tc.ivf, tc.ogg)
			if err == nil {
				t.Fatal("got no error")
			}
			t.Logf("error: %v", err)
			if got := errors.Is(err, ErrInvalidMedia); got != tc.invalid {
				t.Fatalf("got error %q (ErrInvalidMedia %v), want ErrInvalidMedia %v", err, got, tc.invalid)
			}
		})
	}
}

func TestFitAudio(t *testing.T) {
	pkt := func(b byte) frame { return frame{data: []byte{b}} }
	tests := []struct {
		name  string
		audio []frame
		n     int
		want  [][]byte
	}{
		{name: "exact", audio: []frame{pkt(1), pkt(2)}, n: 2, want: [][]byte{{1}, {2}}},
		{name: "trimmed", audio: []frame{pkt(1), pkt(2), pkt(3)}, n: 2, want: [][]byte{{1}, {2}}},
		{name: "padded with silence", audio: []frame{pkt(1)}, n: 3, want: [][]byte{{1}, opusSilence, opusSilence}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fitAudio(tc.audio, tc.n)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d packets, want %d", len(got), len(tc.want))
			}
			for i, f := range got {
				if !bytes.Equal(f.data, tc.want[i]) {
					t.Errorf("packet %d: got % x, want % x", i, f.data, tc.want[i])
				}
				if f.ticks != 960 {
					t.Errorf("packet %d: got %d ticks, want 960", i, f.ticks)
				}
				if want := time.Duration(i) * 20 * time.Millisecond; f.at != want {
					t.Errorf("packet %d: got offset %v, want %v", i, f.at, want)
				}
			}
		})
	}
}

func TestOpusSamples(t *testing.T) {
	tests := []struct {
		name    string
		packet  []byte
		want    int
		wantErr bool
	}{
		{name: "silence frame", packet: opusSilence, want: 960},
		{name: "CELT 20 ms", packet: []byte{31 << 3}, want: 960},
		{name: "CELT 2.5 ms", packet: []byte{16 << 3}, want: 120},
		{name: "SILK 60 ms", packet: []byte{3 << 3}, want: 2880},
		{name: "hybrid 10 ms", packet: []byte{12 << 3}, want: 480},
		{name: "two CELT 10 ms frames", packet: []byte{30<<3 | 1}, want: 960},
		{name: "code 3 with 3 frames of 20 ms", packet: []byte{31<<3 | 3, 3}, want: 2880},
		{name: "code 3 without count", packet: []byte{31<<3 | 3}, wantErr: true},
		{name: "empty", packet: nil, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := opusSamples(tc.packet)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %d samples, want %d", got, tc.want)
			}
		})
	}
}
