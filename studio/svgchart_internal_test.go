package studio

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// svgParts parses an SVG and returns its title, its texts and how many rects it has.
func svgParts(t *testing.T, svg string) (title string, texts []string, rects int) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var in string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			in = e.Name.Local
			if in == "rect" {
				rects++
			}
		case xml.CharData:
			switch in {
			case "title":
				title += string(e)
			case "text":
				texts = append(texts, string(e))
			}
		case xml.EndElement:
			in = ""
		}
	}
}

func TestCharts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		svg       string
		title     string
		rects     int
		wantTexts []string
	}{
		{"bars", string(hbarChart("d", "决定 <分布>", []chartPoint{{"回答", 3}, {"转人工", 1.5}})), "决定 <分布>", 2,
			[]string{"回答", "3", "转人工", "1.5"}},
		{"bars empty", string(hbarChart("d", "空", nil)), "空", 0, []string{"暂无数据"}},
		{"bars long label", string(hbarChart("d", "t", []chartPoint{{"一二三四五六七八九十一二三四五六", 1}})), "t", 1,
			[]string{"一二三四五六七八九十一…", "1"}},
		{"columns", string(columnChart("q", "每分钟提问", []chartPoint{{"10:00", 3}, {"10:01", 0}, {"10:02", 4}})), "每分钟提问", 3,
			[]string{"4", "0", "10:00", "10:01", "10:02"}},
		{"columns empty", string(columnChart("q", "无", nil)), "无", 0, []string{"1", "0", "暂无数据"}},
	} {
		title, texts, rects := svgParts(t, tc.svg)
		if title != tc.title || rects != tc.rects || strings.Join(texts, "|") != strings.Join(tc.wantTexts, "|") {
			t.Errorf("%s: title %q rects %d texts %q; want %q %d %q", tc.name, title, rects, texts, tc.title, tc.rects, tc.wantTexts)
		}
		if !strings.Contains(tc.svg, `role="img"`) || !strings.Contains(tc.svg, `aria-labelledby=`) {
			t.Errorf("%s: not labelled as an image", tc.name)
		}
	}
	// labels are thinned to about eight on a long series
	var pts []chartPoint
	for i := range 60 {
		pts = append(pts, chartPoint{Label: strings.Repeat("x", 1+i%3), Value: float64(i)})
	}
	_, texts, rects := svgParts(t, string(columnChart("q", "t", pts)))
	if rects != 60 || len(texts) != 2+8 {
		t.Errorf("60 minutes: %d rects, %d texts; want 60, 10", rects, len(texts))
	}
}

func TestCSVSafe(t *testing.T) {
	got := csvSafe([]string{"=1+1", "+86", "-2", "@a", "食品证", "", "3"})
	want := []string{"'=1+1", "'+86", "'-2", "'@a", "食品证", "", "3"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("csvSafe: %q, want %q", got, want)
	}
}
