package studio

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// chartPoint is one bar of a chart or one point of a series.
type chartPoint struct {
	Label string
	Value float64
}

// Colours of the charts: contrast above 4.5:1 on white.
const (
	chartInk  = "#1f2933"
	chartBar  = "#1d5fa8"
	chartGrid = "#6b7785"
)

// hbarChart draws labelled horizontal bars, one a row, as an SVG image
// with a <title> (the chart's name, read by screen readers) and the
// values written beside the bars. The page puts the same figures in a
// table beside it.
func hbarChart(id, title string, pts []chartPoint) template.HTML {
	const width, labelW, rowH, pad = 640.0, 200.0, 30.0, 8.0
	height := pad*2 + rowH*float64(max(len(pts), 1))
	max := niceMax(pts)
	var b strings.Builder
	svgOpen(&b, id, title, width, height)
	barW := width - labelW - 70
	for i, p := range pts {
		y := pad + rowH*float64(i)
		w := 0.0
		if max > 0 {
			w = barW * p.Value / max
		}
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end" font-size="15" fill="%s">%s</text>`,
			labelW-8, y+rowH/2+5, chartInk, template.HTMLEscapeString(clip(p.Label, 12)))
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%.1f" height="%g" fill="%s"></rect>`, labelW, y+4, w, rowH-8, chartBar)
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" font-size="15" fill="%s">%s</text>`, labelW+w+6, y+rowH/2+5, chartInk, number(p.Value))
	}
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="15" fill="%s">暂无数据</text>`, pad, pad+rowH/2+5, chartInk)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// columnChart draws a series (questions per minute, viewers per minute)
// as columns over a time axis labelled at most about eight times.
func columnChart(id, title string, pts []chartPoint) template.HTML {
	const width, height, left, bottom, top = 640.0, 240.0, 44.0, 28.0, 12.0
	max := niceMax(pts)
	var b strings.Builder
	svgOpen(&b, id, title, width, height)
	plotW, plotH := width-left-8, height-bottom-top
	// the axis: 0 and the maximum
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s"></line>`, left, top+plotH, width-8, top+plotH, chartGrid)
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-dasharray="4 4"></line>`, left, top, width-8, top, chartGrid)
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end" font-size="14" fill="%s">%s</text>`, left-6, top+5, chartInk, number(max))
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end" font-size="14" fill="%s">0</text>`, left-6, top+plotH+5, chartInk)
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="15" fill="%s">暂无数据</text>`, left+8, top+plotH/2, chartInk)
	}
	n := float64(len(pts))
	step := max1(int(math.Ceil(n / 8)))
	for i, p := range pts {
		slot := plotW / n
		h := 0.0
		if max > 0 {
			h = plotH * p.Value / max
		}
		x := left + slot*float64(i)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"></rect>`,
			x+slot*0.1, top+plotH-h, slot*0.8, h, chartBar)
		if i%step == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle" font-size="14" fill="%s">%s</text>`,
				x+slot/2, height-8, chartInk, template.HTMLEscapeString(p.Label))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func svgOpen(b *strings.Builder, id, title string, width, height float64) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %g %g" role="img" aria-labelledby="%s-t"><title id="%s-t">%s</title>`,
		width, height, template.HTMLEscapeString(id), template.HTMLEscapeString(id), template.HTMLEscapeString(title))
}

// niceMax is the top of a chart's scale: the largest value (1 for none).
func niceMax(pts []chartPoint) float64 {
	m := 0.0
	for _, p := range pts {
		m = math.Max(m, p.Value)
	}
	if m <= 0 {
		return 1
	}
	return m
}

func max1(n int) int { return max(n, 1) }

// number writes a figure without a needless decimal point.
func number(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// clip shortens s to n characters with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
