package content_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"testing/fstest"

	"govlive/content"
	"govlive/content/contenttest"
)

const examplesYAML = `# 例句
urgent:
  - 大厅有人晕倒了，快来人
complaint:
  - 15号窗口的人吼我
  - "  前后空格会去掉  "
chitchat: []
`

// The examples file travels like the other lexicon files: read from a
// pack, stored with a revision, parsed by Lexicon, exported as written,
// changed and restored.
func TestExamplesFile(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	pack := basicPack()
	pack[content.ExamplesFile] = &fstest.MapFile{Data: []byte(examplesYAML)}
	p, err := content.ReadPack(pack)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Import(ctx, p, "t", "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Lexicon.Created != 1 {
		t.Errorf("lexicon files created: %d, want 1", rep.Lexicon.Created)
	}
	lx, err := s.Lexicon(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := content.Examples{Urgent: []string{"大厅有人晕倒了，快来人"}, Complaint: []string{"15号窗口的人吼我", "前后空格会去掉"}, Chitchat: []string{}}
	if !reflect.DeepEqual(lx.Examples, want) {
		t.Errorf("examples %#v, want %#v", lx.Examples, want)
	}
	if lx.Examples.Len() != 3 {
		t.Errorf("Len %d, want 3", lx.Examples.Len())
	}
	if got := string(exportFiles(t, s)[content.ExamplesFile]); got != examplesYAML {
		t.Errorf("export:\ngot  %q\nwant %q", got, examplesYAML)
	}

	edited := examplesYAML + "abuse:\n  - 一群废物\n"
	if changed, err := s.PutLexiconFile(ctx, content.ExamplesFile, edited, "editor"); err != nil || !changed {
		t.Fatalf("PutLexiconFile: changed %v, err %v", changed, err)
	}
	revs, err := s.Revisions(ctx, content.KindLexicon, content.ExamplesFile)
	if err != nil || len(revs) != 2 {
		t.Fatalf("revisions of the examples file: %d (%v), want 2", len(revs), err)
	}
	if lx, _ := s.Lexicon(ctx); len(lx.Examples.Abuse) != 1 {
		t.Errorf("abuse examples after the edit: %v", lx.Examples.Abuse)
	}
	// A bad edit is refused and changes nothing.
	_, err = s.PutLexiconFile(ctx, content.ExamplesFile, edited+"  - 一群废物\n", "editor")
	var pe *content.PackError
	if !errors.As(err, &pe) || pe.File != content.ExamplesFile || pe.Line != 10 {
		t.Errorf("duplicate example: got %v, want a PackError at %s:10", err, content.ExamplesFile)
	}
	// Restoring the first revision brings the first text back.
	if err := s.Restore(ctx, min(revs[0].ID, revs[1].ID), "editor"); err != nil {
		t.Fatal(err)
	}
	if text, _ := s.LexiconFile(ctx, content.ExamplesFile); text != examplesYAML {
		t.Errorf("after restore: %q", text)
	}
}

// The sample pack's examples satisfy what the file's header asks of
// them: every class, 40 to 200 sentences each (how-to questions up to 300:
// they stand beside the FAQ's phrasings).
func TestSampleExamples(t *testing.T) {
	p := contenttest.SamplePack(t)
	ex, err := content.ParseExamples(p.Lexicon[content.ExamplesFile])
	if err != nil {
		t.Fatal(err)
	}
	for name, list := range map[string][]string{
		"question": ex.Question, "urgent": ex.Urgent, "complaint": ex.Complaint, "personal_case": ex.PersonalCase,
		"human_request": ex.HumanRequest, "out_of_scope": ex.OutOfScope, "chitchat": ex.Chitchat, "abuse": ex.Abuse,
	} {
		most := 200
		if name == "question" {
			most = 300
		}
		if n := len(list); n < 40 || n > most {
			t.Errorf("%s: %d examples, want 40–%d", name, n, most)
		}
	}
}
