package retrieval

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"govlive/content"
)

// DefaultChunkChars is the longest chunk, in characters (runes), that
// ChunkDocument makes when it is given no limit.
const DefaultChunkChars = 400

// Labels of the passages that are not under a heading or an article.
const (
	// LabelPreface names the real content before the first heading or
	// article of a structured document.
	LabelPreface = "前言"
	// LabelBody names the content of a document with no headings and no
	// articles at all.
	LabelBody = "正文"
)

// Chunk is a passage of a document that search can return and cite.
type Chunk struct {
	DocID content.DocID
	// Title is the document's title (from content.Document.Title).
	Title string
	// Path is the heading path from the top section down, e.g.
	// ["第三章 调查与办理", "第八条"] or ["三、新办", "（二）申请材料"].
	Path []string
	// Label is how a citation names the passage: "第八条" for an article,
	// "五、申请材料" for a section, "第八条（四）" or "六、申请材料第5项" for a
	// later part of an over-long passage; see ChunkDocument.
	Label string
	// Seq is the order of the chunk in the document, from 0.
	Seq int
	// Start and End are character (rune) offsets into Document.Body:
	// Text == string([]rune(Body)[Start:End]).
	Start, End int
	Text       string
}

// Citation formats the reference a reply shows: 《Title》Label, e.g.
// 《示例市政务服务投诉处理与监督管理办法》第八条. Without a title it is the
// label alone.
func (c Chunk) Citation() string {
	if c.Title == "" {
		return c.Label
	}
	return "《" + c.Title + "》" + c.Label
}

// ChunkDocument splits a document along its own structure. maxChars is the
// longest chunk in characters (runes); zero or less means
// DefaultChunkChars.
//
// The structure is read line by line:
//
//   - An article is a line that starts with 第N条 (Chinese numerals, possibly
//     in **bold**) followed by white space or the end of the line. It is one
//     chunk with everything up to the next article or heading (its （一）
//     items, tables and closing paragraphs), labelled "第N条", with the
//     headings above it and then "第N条" as its path.
//   - A heading is a Markdown heading of level 1 to 3, or a line of its own
//     such as "第一章 总则" (level 2) or "第一节 受理" (level 3) in a
//     document pasted without Markdown. A heading and the text under it up
//     to the next heading or article is one chunk, heading line included;
//     its path is the headings from the top down and its label is that
//     path joined with a space ("五、申请材料", "三、新办 （二）申请材料").
//     A heading with no text of its own (a chapter, a section whose text
//     is all in subsections) only contributes to its children's paths.
//     Headings of level 4 and deeper are text.
//   - A level-1 heading on the first line that is not blank is the
//     document's title, and a blockquote starting with 示例数据 before the
//     first heading or article is the sample-data disclaimer: neither is in
//     any chunk. Other text before the first heading or article is one
//     chunk labelled and pathed 前言; in a document with no headings and no
//     articles it is labelled 正文.
//
// A chunk longer than maxChars is split into parts at the boundaries of
// its blocks: paragraphs, items and list entries (lines starting with
// （一）, (一), （1）, ①, 1. or 1、, -, *), and whole tables. A block that is
// itself too long is split at its lines (a table at its rows, the header
// staying with the first row), and a line that is too long at sentence
// ends (。；！？). Blocks are packed greedily in order; a heading, a table
// header or a block ending in a colon (a lead-in) moves to the next part
// rather than end one, and a heading line that cannot share a part with
// the text after it is left out (the label still names it). A single
// sentence longer than maxChars is a part of its own, the only way a
// chunk exceeds maxChars. The first part keeps the label; a later part
// gets the label with the marker of its first item appended ("第八条（四）",
// "五、申请条件（三）", "六、申请材料第5项" for a "5." entry) or, when it
// does not start at an item, its part number ("第四条（第2部分）"). All
// parts keep the path.
//
// Text keeps the body's characters exactly, line endings (LF or CRLF)
// included; a chunk starts and ends at a non-space character, and
// whitespace-only chunks are dropped. The result depends only on the
// document and maxChars.
func ChunkDocument(d content.Document, maxChars int) []Chunk {
	if maxChars <= 0 {
		maxChars = DefaultChunkChars
	}
	body := []rune(d.Body)
	lines := chunkLines(body)
	var chunks []Chunk
	emit := func(label string, path []string, p span) {
		chunks = append(chunks, Chunk{
			DocID: d.ID, Title: d.Title, Path: path, Label: label,
			Seq: len(chunks), Start: p.start, End: p.end, Text: string(body[p.start:p.end]),
		})
	}
	for _, s := range docSections(lines) {
		parts := packUnits(body, chunkUnits(body, lines[s.from:s.to], s.heading), maxChars)
		for i, p := range parts {
			label := s.label
			switch {
			case i == 0:
			case p.marker != "":
				label += p.marker
			default:
				label += fmt.Sprintf("（第%d部分）", i+1)
			}
			emit(label, append([]string(nil), s.path...), p.span)
		}
	}
	return chunks
}

// span is a range [start, end) of runes of a body.
type span struct{ start, end int }

// docLine is one line of a body: its runes are body[start:end] without the
// line ending, and text is the same with a trailing "\r" removed.
type docLine struct {
	start, end int
	text       string
	kind       lineKind
	level      int    // of a heading
	name       string // heading text or article label
}

type lineKind int

const (
	lineText lineKind = iota
	lineBlank
	lineHeading
	lineArticle
)

var (
	// chineseNum is a number written in Chinese numerals.
	chineseNum     = `[零〇一二三四五六七八九十百千两]+`
	articleLine    = regexp.MustCompile(`^(?:\*\*)?(第` + chineseNum + `条)(?:\*\*)?`)
	plainHeading   = regexp.MustCompile(`^第` + chineseNum + `([章节])(?:[\s\x{3000}]+\S.*)?$`)
	markdownHead   = regexp.MustCompile(`^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)
	itemMarker     = regexp.MustCompile(`^(?:[（(]([一二三四五六七八九十百]+|[0-9]+)[）)]|([①-⑳])|([0-9]+)[.．、](?:[^0-9]|$)|[-*+][ \t])`)
	tableSepRow    = regexp.MustCompile(`^\|?[\s:|-]*-[\s:|-]*$`)
	disclaimerLine = regexp.MustCompile(`^>\s*示例数据`)
)

// chunkLines splits body into lines and classifies them.
func chunkLines(body []rune) []docLine {
	var lines []docLine
	for start := 0; start <= len(body); {
		end := start
		for end < len(body) && body[end] != '\n' {
			end++
		}
		l := docLine{start: start, end: end, text: strings.TrimSuffix(string(body[start:end]), "\r")}
		classifyLine(&l)
		lines = append(lines, l)
		if end == len(body) {
			break
		}
		start = end + 1
	}
	return lines
}

func classifyLine(l *docLine) {
	t := strings.TrimFunc(l.text, unicode.IsSpace)
	switch {
	case t == "":
		l.kind = lineBlank
	case strings.HasPrefix(t, "#"):
		if m := markdownHead.FindStringSubmatch(t); m != nil && len(m[1]) <= 3 && m[2] != "" {
			l.kind, l.level, l.name = lineHeading, len(m[1]), m[2]
		}
	case strings.HasPrefix(t, "第"), strings.HasPrefix(t, "**第"):
		if m := articleLine.FindStringSubmatchIndex(t); m != nil {
			rest := t[m[1]:]
			r, _ := utf8.DecodeRuneInString(rest)
			if rest == "" || unicode.IsSpace(r) {
				l.kind, l.name = lineArticle, t[m[2]:m[3]]
				return
			}
		}
		if m := plainHeading.FindStringSubmatch(t); m != nil && utf8.RuneCountInString(t) <= 40 && !strings.ContainsAny(t, "。；，") {
			l.kind, l.level, l.name = lineHeading, 2, strings.Join(strings.Fields(t), " ")
			if m[1] == "节" {
				l.level = 3
			}
		}
	}
}

// section is a run of lines that makes one chunk before splitting.
type section struct {
	from, to int // line indexes
	heading  bool
	label    string
	path     []string
}

// docSections finds the preface, the headings with text of their own and
// the articles.
func docSections(lines []docLine) []section {
	// The title: a level-1 heading on the first line that is not blank.
	for i := range lines {
		if lines[i].kind == lineBlank {
			continue
		}
		if lines[i].kind == lineHeading && lines[i].level == 1 && strings.HasPrefix(strings.TrimSpace(lines[i].text), "#") {
			lines[i].kind = lineBlank
		}
		break
	}
	var starts []int
	for i, l := range lines {
		if l.kind == lineHeading || l.kind == lineArticle {
			starts = append(starts, i)
		}
	}
	var out []section
	prefaceEnd := len(lines)
	if len(starts) > 0 {
		prefaceEnd = starts[0]
	}
	if from, to, ok := preface(lines[:prefaceEnd]); ok {
		label := LabelBody
		if len(starts) > 0 {
			label = LabelPreface
		}
		out = append(out, section{from: from, to: to, label: label, path: []string{label}})
	}

	type heading struct {
		level int
		name  string
	}
	var stack []heading
	names := func() []string {
		var p []string
		for _, h := range stack {
			p = append(p, h.name)
		}
		return p
	}
	for k, from := range starts {
		to := len(lines)
		if k+1 < len(starts) {
			to = starts[k+1]
		}
		l := lines[from]
		if l.kind == lineArticle {
			out = append(out, section{from: from, to: to, label: l.name, path: append(names(), l.name)})
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].level >= l.level {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, heading{l.level, l.name})
		hasText := false
		for _, m := range lines[from+1 : to] {
			hasText = hasText || m.kind != lineBlank
		}
		if hasText {
			p := names()
			out = append(out, section{from: from, to: to, heading: true, label: strings.Join(p, " "), path: p})
		}
	}
	return out
}

// preface returns the lines of real content before the first heading or
// article: from the first to the last line that is not blank (the title is
// already marked blank) and not in the sample-data disclaimer, a
// blockquote starting with 示例数据. The disclaimer's lines are marked
// blank too, so that no part starts or ends in them.
func preface(lines []docLine) (from, to int, ok bool) {
	from, to = -1, -1
	for i := 0; i < len(lines); i++ {
		switch {
		case lines[i].kind == lineBlank:
		case disclaimerLine.MatchString(strings.TrimSpace(lines[i].text)) && (i == 0 || lines[i-1].kind == lineBlank):
			for ; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i].text), ">"); i++ {
				lines[i].kind = lineBlank
			}
			i--
		default:
			if from < 0 {
				from = i
			}
			to = i + 1
		}
	}
	return from, to, from >= 0
}

// unit is a block of a chunk that splitting keeps whole if it can.
type unit struct {
	span
	marker string // appended to a part's label when the part starts here
	sticky bool   // a heading or lead-in, kept with what follows
	head   bool   // a heading line: dropped rather than left alone in a part
	table  bool
	lines  []docLine // the lines to split a too-long unit at
}

// chunkUnits divides the lines of a section into blocks: the heading line,
// paragraphs, items, tables.
func chunkUnits(body []rune, lines []docLine, heading bool) []unit {
	var units []unit
	open := false // whether the last unit may take more lines
	for i, l := range lines {
		t := strings.TrimLeftFunc(l.text, unicode.IsSpace)
		switch {
		case l.kind == lineBlank:
			open = false
		case i == 0 && heading:
			units = append(units, unit{span: trimSpan(body, l.start, l.end), sticky: true, head: true, lines: []docLine{l}})
			open = false
		case strings.HasPrefix(t, "|"):
			if open && units[len(units)-1].table {
				units[len(units)-1].add(body, l)
			} else {
				units = append(units, unit{span: trimSpan(body, l.start, l.end), table: true, lines: []docLine{l}})
			}
			open = true
		case open && !units[len(units)-1].table && itemMarker.FindString(t) == "":
			units[len(units)-1].add(body, l)
		default:
			units = append(units, unit{span: trimSpan(body, l.start, l.end), marker: labelMarker(t), lines: []docLine{l}})
			open = true
		}
	}
	for i := range units {
		if u := &units[i]; !u.head && !u.table {
			u.sticky = endsWithColon(body, u.span)
		}
	}
	return units
}

func (u *unit) add(body []rune, l docLine) {
	u.end = trimSpan(body, l.start, l.end).end
	u.lines = append(u.lines, l)
}

// breakUnit splits a unit longer than limit into smaller ones: a table into
// its rows (header with the first), text into its lines, a line into
// sentences. Pieces that are still too long are split further where they
// can be.
func breakUnit(body []rune, u unit, limit int) []unit {
	if u.end-u.start <= limit {
		return []unit{u}
	}
	var pieces []unit
	switch {
	case len(u.lines) > 1:
		for i, l := range u.lines {
			p := unit{span: trimSpan(body, l.start, l.end), lines: []docLine{l}, table: u.table}
			if i == 0 {
				p.marker = u.marker
			}
			if u.table && i == 1 && tableSepRow.MatchString(strings.TrimSpace(l.text)) {
				// The header row and the separator below it lead in the
				// rows; keep them together if they fit.
				prev := &pieces[0]
				prev.sticky = true
				if p.end-prev.start <= limit {
					prev.end = p.end
					continue
				}
				p.sticky = true
			}
			if !u.table {
				p.sticky = endsWithColon(body, p.span)
			}
			pieces = append(pieces, p)
		}
	default:
		for i, s := range sentences(body, u.span) {
			p := unit{span: s}
			if i == 0 {
				p.marker = u.marker
			}
			pieces = append(pieces, p)
		}
		if len(pieces) == 1 {
			return []unit{u}
		}
	}
	var out []unit
	for _, p := range pieces {
		out = append(out, breakUnit(body, p, limit)...)
	}
	return out
}

// packUnits breaks a section's units down to at most limit runes where it
// can and packs them greedily into parts of at most limit runes.
func packUnits(body []rune, units []unit, limit int) []part {
	var flat []unit
	for _, u := range units {
		flat = append(flat, breakUnit(body, u, limit)...)
	}
	var parts []part
	flush := func(us []unit) {
		if len(us) == 0 || (len(us) == 1 && us[0].head) {
			return
		}
		parts = append(parts, part{span: span{us[0].start, us[len(us)-1].end}, marker: us[0].marker})
	}
	size := func(first, last unit) int { return last.end - first.start }
	var cur []unit
	for _, u := range flat {
		switch {
		case len(cur) == 0:
			cur = []unit{u}
		case size(cur[0], u) <= limit:
			cur = append(cur, u)
		default:
			// Carry the longest run of headings and lead-ins at the end
			// that fits with u, leaving something behind.
			k := len(cur)
			for k > 1 && cur[k-1].sticky && size(cur[k-1], u) <= limit {
				k--
			}
			flush(cur[:k])
			cur = append(append([]unit(nil), cur[k:]...), u)
		}
	}
	flush(cur)
	return parts
}

// part is one chunk of a split section.
type part struct {
	span
	marker string
}

// labelMarker returns what a part starting at a line that begins with t
// appends to its label: "（二）" for an item, "第5项" for a numbered entry,
// "" for anything else.
func labelMarker(t string) string {
	m := itemMarker.FindStringSubmatch(t)
	switch {
	case m == nil:
		return ""
	case m[1] != "":
		return "（" + m[1] + "）"
	case m[2] != "":
		return m[2]
	case m[3] != "":
		return "第" + m[3] + "项"
	}
	return ""
}

// sentences splits a span after each 。；！？ (with the closing quotes and
// brackets that follow), trimming the white space between sentences.
func sentences(body []rune, s span) []span {
	var out []span
	from := s.start
	for i := s.start; i < s.end; i++ {
		if !strings.ContainsRune("。；！？;!?", body[i]) {
			continue
		}
		for i+1 < s.end && strings.ContainsRune("”’」』）)】", body[i+1]) {
			i++
		}
		if t := trimSpan(body, from, i+1); t.end > t.start {
			out = append(out, t)
		}
		from = i + 1
	}
	if t := trimSpan(body, from, s.end); t.end > t.start {
		out = append(out, t)
	}
	return out
}

// trimSpan narrows [start, end) to exclude white space at both ends.
func trimSpan(body []rune, start, end int) span {
	for start < end && unicode.IsSpace(body[start]) {
		start++
	}
	for end > start && unicode.IsSpace(body[end-1]) {
		end--
	}
	return span{start, end}
}

func endsWithColon(body []rune, s span) bool {
	return s.end > s.start && (body[s.end-1] == '：' || body[s.end-1] == ':')
}
