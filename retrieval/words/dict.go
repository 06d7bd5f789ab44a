package words

import "hash/maphash"

// dict is the dictionary as the cutter looks words up in it: what gse's
// Dictionary.Find answers (a word's frequency and part of speech, and
// whether a string begins some word), in a form with no pointers but its
// slices' own. gse keeps every word as a Token with a slice per character
// — 300k small objects that every garbage collection must trace, which
// made search's slowest answers about a millisecond slower; here the
// words are one byte slice and the entries parallel arrays of numbers.
type dict struct {
	text  []byte    // the words, one after another
	off   []uint32  // by entry: where its word begins in text
	n     []uint8   // by entry: its length in bytes
	freq  []float64 // by entry: corpus frequency; 0 for a prefix that is no word
	tag   []uint8   // by entry: part of speech, an index into tags
	idf   []float32 // by entry: background IDF
	tags  []string
	total float64 // the frequencies' sum

	table []uint32 // open addressing: entry+1, 0 for an empty slot
	seed  maphash.Seed
}

func newDict(words int) *dict {
	size := 1
	for size < 3*words { // words and their prefixes, at most about 2/3 full
		size *= 2
	}
	entries := words + words/2 // and beginnings of words
	return &dict{
		table: make([]uint32, size), seed: maphash.MakeSeed(),
		off: make([]uint32, 0, entries), n: make([]uint8, 0, entries), freq: make([]float64, 0, entries),
		tag: make([]uint8, 0, entries), idf: make([]float32, 0, entries), text: make([]byte, 0, 9*words),
	}
}

// find returns the entry of s, and whether there is one: s is a word or
// begins one.
func (d *dict) find(s []byte) (int, bool) {
	mask := uint64(len(d.table) - 1)
	for i := maphash.Bytes(d.seed, s) & mask; ; i = (i + 1) & mask {
		e := d.table[i]
		if e == 0 {
			return 0, false
		}
		if o, n := d.off[e-1], uint32(d.n[e-1]); string(d.text[o:o+n]) == string(s) {
			return int(e - 1), true
		}
	}
}

// word returns the entry of s if it is a word (not just the beginning of one).
func (d *dict) word(s []byte) (int, bool) {
	e, ok := d.find(s)
	return e, ok && d.freq[e] > 0
}

// add adds a word, and its beginnings as entries with no frequency; a
// word added twice keeps its first frequency (as in gse).
func (d *dict) add(w string, freq float64, tag uint8, idf float32) {
	if len(w) == 0 || len(w) > 255 {
		return
	}
	o := uint32(len(d.text))
	d.text = append(d.text, w...)
	for i := range w {
		if i > 0 {
			d.insert(o, i, 0, 0, 0) // a beginning; no-op if it is a word already
		}
	}
	if e, ok := d.find(d.text[o:]); ok {
		if d.freq[e] == 0 { // so far only the beginning of a longer word
			d.freq[e], d.tag[e], d.idf[e] = freq, tag, idf
			d.total += freq
		}
		return
	}
	d.insert(o, len(w), freq, tag, idf)
	d.total += freq
}

// insert adds the entry text[o:o+n] if there is none.
func (d *dict) insert(o uint32, n int, freq float64, tag uint8, idf float32) {
	s := d.text[o : o+uint32(n)]
	if _, ok := d.find(s); ok {
		return
	}
	if 3*(len(d.off)+1) > 2*len(d.table) {
		d.grow()
	}
	d.off = append(d.off, o)
	d.n = append(d.n, uint8(n))
	d.freq = append(d.freq, freq)
	d.tag = append(d.tag, tag)
	d.idf = append(d.idf, idf)
	d.place(len(d.off) - 1)
}

func (d *dict) place(e int) {
	mask := uint64(len(d.table) - 1)
	o, n := d.off[e], uint32(d.n[e])
	i := maphash.Bytes(d.seed, d.text[o:o+n]) & mask
	for d.table[i] != 0 {
		i = (i + 1) & mask
	}
	d.table[i] = uint32(e + 1)
}

func (d *dict) grow() {
	d.table = make([]uint32, 2*len(d.table))
	for e := range d.off {
		d.place(e)
	}
}
