package bot

import (
	"regexp"
	"strings"
)

// plainText turns a Markdown passage into the plain text a chat shows:
// heading marks, emphasis, inline code, link targets, block quotes, rules
// and table pipes are dropped, list bullets become "·", and runs of blank
// lines become one. The words themselves are kept as written.
func plainText(md string) string {
	var out []string
	blank := false
	for _, line := range strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n") {
		line = strings.TrimRight(line, " \t")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			if len(out) > 0 {
				blank = true
			}
			continue
		case mdRule.MatchString(trimmed), mdTableRule.MatchString(trimmed):
			continue
		}
		trimmed = mdHeading.ReplaceAllString(trimmed, "")
		trimmed = mdQuote.ReplaceAllString(trimmed, "")
		trimmed = mdBullet.ReplaceAllString(trimmed, "· ")
		if strings.HasPrefix(trimmed, "|") {
			cells := strings.Split(strings.Trim(trimmed, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			trimmed = strings.Join(cells, "　")
		}
		trimmed = inline(trimmed)
		if trimmed == "" {
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, trimmed)
	}
	return strings.Join(out, "\n")
}

var (
	mdHeading   = regexp.MustCompile(`^#{1,6}\s+`)
	mdQuote     = regexp.MustCompile(`^(>\s?)+`)
	mdBullet    = regexp.MustCompile(`^[-*+]\s+`)
	mdRule      = regexp.MustCompile(`^([-*_]\s*){3,}$`)
	mdTableRule = regexp.MustCompile(`^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$`)
	mdImage     = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	mdLink      = regexp.MustCompile(`\[([^\]]+)\]\([^)]*\)`)
	mdCode      = regexp.MustCompile("`([^`]*)`")
	mdStrong    = regexp.MustCompile(`(\*\*|__)(.+?)(\*\*|__)`)
	mdEm        = regexp.MustCompile(`(^|[^\w*])\*([^*\s][^*]*)\*`)
	mdHTML      = regexp.MustCompile(`</?[a-zA-Z][^>]*>`)
)

// inline drops the inline marks of one line.
func inline(s string) string {
	s = mdImage.ReplaceAllString(s, "$1")
	s = mdLink.ReplaceAllString(s, "$1")
	s = mdCode.ReplaceAllString(s, "$1")
	s = mdStrong.ReplaceAllString(s, "$2")
	s = mdEm.ReplaceAllString(s, "$1$2")
	s = mdHTML.ReplaceAllString(s, "")
	return strings.TrimSpace(s)
}
