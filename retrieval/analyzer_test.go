package retrieval

import (
	"testing"

	"govlive/retrieval/words"
)

func TestCanonical(t *testing.T) {
	n, err := NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	a := NewAnalyzer(n, [][]string{
		{"食品生产许可证", "sc证", "sc"},
		{"食品经营许可证", "食品证"},
		{"食品经营许可", "经营许可"},
		{"哪里", "在哪里", "在哪"},
	})
	for _, tc := range []struct{ in, want string }{
		{"SC证怎么办", "食品生产许可证怎么办"},
		{"办sc要多久", "办食品生产许可证要多久"},
		{"scan一下", "scan一下"}, // sc inside a Latin word stays
		{"食品证要什么", "食品经营许可证要什么"},
		{"食品经营许可证在哪里", "食品经营许可证哪里"}, // a canonical word matches itself, 在哪里 is one synonym
		{"药品经营许可", "药品食品经营许可"},      // a synonym inside a longer word is still replaced: keep such entries out of the lexicon
	} {
		if got := a.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// With a segmenter, a character pair that straddles two words weighs
// weightAcrossWords, and so does its syllable pair; a pair inside a word
// and a pair of a text analysed without words weigh fully.
func TestFeaturesAcrossWords(t *testing.T) {
	n, err := NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	seg, err := words.Load()
	if err != nil {
		t.Fatal(err)
	}
	plain := NewAnalyzer(n, nil)
	cut := plain.withWords(seg)
	text := "证件过期了" // 证件 / 过期 / 了
	for _, tc := range []struct {
		an         *Analyzer
		key        string
		want       float64
		name, desc string
	}{
		{cut, "b:过期", weightBigram, "inside", "a word's pair"},
		{cut, "b:件过", weightBigram * weightAcrossWords, "across", "a pair across 证件 and 过期"},
		{cut, "b:期了", weightBigram * weightAcrossWords, "across-particle", "a pair across 过期 and 了"},
		{cut, "p:qi le", weightPinyin * weightAcrossWords, "syllables", "its syllables"},
		{plain, "b:期了", weightBigram, "plain", "without a segmenter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.an.features(text)[tc.key]; got != tc.want {
				t.Errorf("%s: features(%q)[%q] = %v, want %v", tc.desc, text, tc.key, got, tc.want)
			}
		})
	}
	if plain.seg != nil {
		t.Error("withWords changed the analyzer it was called on")
	}
}
