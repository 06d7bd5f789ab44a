package studio

import (
	"strings"
	"testing"
)

// diffText writes a diff as " same", "-del", "+add" and "~skip" lines.
func diffText(lines []diffLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(map[diffOp]string{diffSame: " ", diffDel: "-", diffAdd: "+", diffSkip: "~"}[l.Op] + l.Text + "\n")
	}
	return b.String()
}

func TestLineDiff(t *testing.T) {
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "|")
	}
	for _, tc := range []struct {
		name, a, b, want string
	}{
		{"same", "甲|乙", "甲|乙", " 甲\n 乙\n"},
		{"added", "", "甲", "+甲\n"},
		{"removed", "甲|乙", "乙", "-甲\n 乙\n"},
		{"changed line", "甲|乙|丙", "甲|丁|丙", " 甲\n-乙\n+丁\n 丙\n"},
		{"moved", "甲|乙|丙", "丙|甲|乙", "+丙\n 甲\n 乙\n-丙\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := diffText(lineDiff(split(tc.a), split(tc.b))); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	t.Run("long unchanged runs are left out", func(t *testing.T) {
		a := strings.Split("1|2|3|4|5|6|7|8|9|10", "|")
		b := append(append([]string{}, a[:5]...), append([]string{"新"}, a[5:]...)...)
		want := "~（省略 3 行未改动的内容）\n 4\n 5\n+新\n 6\n 7\n~（省略 3 行未改动的内容）\n"
		if got := diffText(collapse(lineDiff(a, b))); got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	})
}
