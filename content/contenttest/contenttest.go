// Package contenttest provides content for tests and benchmarks of the
// packages above content: the built-in sample pack, content stores on a
// temporary database (closed when the test ends), and synthetic packs of
// any size grown from the sample pack.
//
// The helpers that take a testing.TB fail the test with t.Fatalf and
// clean up with t.Cleanup. content's own internal tests cannot import
// this package (it imports content); its external tests can.
package contenttest

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"govlive/content"
	"govlive/content/sample"
)

// SyntheticPack grows the sample pack to nFAQ entries and nDocs extra
// documents. Entries past the sample's are sample entries with a few words
// of another entry mixed in (ids "…-syn-NNNNN"); the extra documents are
// seven sections of sample documents reassembled, every section renumbered
// so that the chunker keeps it apart. The same arguments give the same
// pack. The sample's sessions are left out (their links would pin entries
// a test may want to delete); its lexicon is kept.
func SyntheticPack(nFAQ, nDocs int) (*content.Pack, error) {
	base, err := content.ReadPack(sample.FS)
	if err != nil {
		return nil, fmt.Errorf("sample pack: %w", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	p := &content.Pack{Documents: append([]content.Document(nil), base.Documents...), Lexicon: base.Lexicon}
	var sections []string
	for _, d := range base.Documents {
		for _, part := range strings.Split(d.Body, "\n## ")[1:] {
			sections = append(sections, "## "+part)
		}
	}
	const perDoc = 7
	for n := 0; n < nDocs; n++ {
		var b strings.Builder
		b.WriteString("# 合成文件\n\n")
		for k := 0; k < perDoc; k++ {
			s := sections[rng.IntN(len(sections))]
			if i := strings.IndexByte(s, '\n'); i > 0 {
				s = fmt.Sprintf("## 第%d节 %s", k+1, strings.TrimPrefix(s[:i], "## ")) + s[i:]
			}
			b.WriteString(s)
			b.WriteString("\n\n")
		}
		src := base.Documents[rng.IntN(len(base.Documents))]
		p.Documents = append(p.Documents, content.Document{
			ID: content.DocID(fmt.Sprintf("doc-syn-%04d", n)), Title: src.Title + "（合成" + fmt.Sprint(n) + "）",
			Issuer: src.Issuer, Effective: src.Effective, Category: src.Category, Body: b.String(),
		})
	}
	for n := 0; n < nFAQ; n++ {
		e := base.FAQ[n%len(base.FAQ)]
		other := base.FAQ[rng.IntN(len(base.FAQ))]
		words := strings.FieldsFunc(other.Question, func(r rune) bool { return r == '，' || r == '？' || r == '、' })
		extra := words[rng.IntN(len(words))]
		if n >= len(base.FAQ) {
			e.ID = content.FAQID(fmt.Sprintf("%s-syn-%05d", e.ID, n))
			e.Question = extra + e.Question
			sim := append([]string(nil), e.Similar...)
			for i := range sim {
				sim[i] += extra
			}
			e.Similar = sim
		}
		p.FAQ = append(p.FAQ, e)
	}
	return p, nil
}
