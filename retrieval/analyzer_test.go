package retrieval

import "testing"

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
