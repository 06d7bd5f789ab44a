package words

import (
	"strings"
	"unicode/utf8"
)

// Document is a phrase of a text that names a document a person holds —
// 结婚证, 营业执照, 食品经营许可证, 出租车驾驶员证, 食品证: a noun that
// names one by its ending (DocumentWord) with the nouns right before it,
// two characters or more.
type Document struct {
	Start, End int   // byte offsets in the text
	Words      []int // byte offsets where its words begin, the first at Start
}

// Text returns the phrase in text.
func (d Document) Text(text string) string { return text[d.Start:d.End] }

// documentEndings are the endings of words that name a document, longest
// first.
var documentEndings = []string{"证书", "执照", "许可", "证", "照", "卡"}

// DocumentEnding returns the ending of w that names a document (证书,
// 执照, 许可, 证, 照 or 卡), or "".
func DocumentEnding(w string) string {
	for _, s := range documentEndings {
		if strings.HasSuffix(w, s) {
			return s
		}
	}
	return ""
}

// DocumentWord reports whether w names a document by its ending; a verb
// with its object (办证, 领证, 补证) or a verb ending so (保证, 验证) does
// not.
func DocumentWord(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	if strings.ContainsRune("办领拿补换发考取开出制有持没用带保验认论见凭签等要给", r) {
		return false
	}
	return DocumentEnding(w) != ""
}

// Documents returns the document phrases of text (in retrieval's normal
// form), in order: a noun of the dictionary that names a document
// (DocumentWord; a lone 证, 照 or 卡 too) with the run of nouns of Han
// characters right before it (no space between), when the phrase has two
// characters or more.
func (s *Segmenter) Documents(text string) []Document {
	var out []Document
	off := 0
	var run []int // where the words of the run of nouns before the current word begin
	prev := -1    // where that run ends
	for _, w := range s.Cut(text) {
		i := strings.Index(text[off:], w.Text)
		if i < 0 { // the cut changed the text (case): nothing to point at
			return nil
		}
		b, e := off+i, off+i+len(w.Text)
		off = e
		if !w.Noun || !allHan(w.Text) {
			run = run[:0]
			continue
		}
		if b != prev { // a new run (a space or another word ends one)
			run = run[:0]
		}
		run = append(run, b)
		prev = e
		if DocumentWord(w.Text) && utf8.RuneCountInString(text[run[0]:e]) >= 2 {
			out = append(out, Document{Start: run[0], End: e, Words: append([]int(nil), run...)})
			run = run[:0]
		}
	}
	return out
}
