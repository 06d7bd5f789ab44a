package words

import (
	"slices"
	"testing"
)

func TestDocuments(t *testing.T) {
	s := mustLoad(t)
	for _, tc := range []struct {
		text string
		want []string // the phrases, each as its words joined by "/"
	}{
		{"结婚证丢了怎么补办", []string{"结婚证"}},
		{"食品经营许可证丢了", []string{"食品/经营/许可证"}},
		{"巡游出租车驾驶员证材料", []string{"巡游/出租车/驾驶员/证"}},
		{"新开小吃店办食品证材料清单", []string{"食品/证"}}, // 办 is no noun
		{"从业资格证到期", []string{"资格证"}},        // nor is 从业
		{"营业执照和社保卡", []string{"营业执照", "社保卡"}},
		{"领证带啥", nil}, // a verb with its object
		{"什么证", nil},  // a lone 证
		{"食品 证", nil}, // a space ends the run
		{"怎么预约", nil},
	} {
		t.Run(tc.text, func(t *testing.T) {
			var got []string
			for _, d := range s.Documents(tc.text) {
				w := ""
				for i, b := range d.Words {
					e := d.End
					if i+1 < len(d.Words) {
						e = d.Words[i+1]
					}
					if i > 0 {
						w += "/"
					}
					w += tc.text[b:e]
				}
				if d.Start != d.Words[0] || d.Text(tc.text) != tc.text[d.Start:d.End] {
					t.Errorf("document %+v: starts apart from its first word", d)
				}
				got = append(got, w)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Documents(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}
