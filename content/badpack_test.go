package content_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"govlive/content"
)

const (
	basicFAQ = `{"id": "faq-a", "category": "综合窗口", "question": "问题一？", "similar": ["问法一"], "answer": "答案一。", "sources": ["doc-a"], "updated": "2025-06-01"}
{"id": "faq-b", "category": "综合窗口", "question": "问题二？", "similar": [], "answer": "答案二。", "sources": ["doc-a", "doc-b"], "updated": "2025-06-02", "status": "draft"}
`
	basicDoc     = "---\nid: doc-a\ntitle: 示例文档\nissuer: 示例市政务服务中心\neffective: 2025-03-01\ncategory: 综合窗口\n---\n\n# 示例文档\n\n第一条 示例条款。\n"
	basicDocB    = "---\nid: doc-b\ntitle: 另一份文档\nissuer: 示例市政务服务中心\neffective: 2025-04-01\ncategory: 综合窗口\n---\n\n第一条 另一条款。\n"
	basicSession = `id: s1
title: 示例直播
category: 综合窗口
start: 2026-03-12T15:00:00+08:00
end: 2026-03-12T16:00:00+08:00
public: true
anchors:
  - name: 王敏
    role: 业务专家
segments:
  - title: 第一段
    points:
      - 要点一
    faq:
      - faq-a
    docs:
      - doc-a
`
)

func basicPack() fstest.MapFS {
	return fstest.MapFS{
		"faq.jsonl":        {Data: []byte(basicFAQ)},
		"docs/doc-a.md":    {Data: []byte(basicDoc)},
		"docs/doc-b.md":    {Data: []byte(basicDocB)},
		"sessions/s1.yaml": {Data: []byte(basicSession)},
	}
}

func TestBasicPackRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	p, err := content.ReadPack(basicPack())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, p, "t", ""); err != nil {
		t.Fatal(err)
	}
	files := exportFiles(t, s)
	for name, f := range basicPack() {
		if got := string(files[name]); got != string(f.Data) {
			t.Errorf("export of %s:\ngot  %q\nwant %q", name, got, f.Data)
		}
	}
	if e, _ := s.FAQ(ctx, "faq-b"); e.Status != content.StatusDraft {
		t.Errorf("status of faq-b: got %q, want draft", e.Status)
	}
}

func exportFiles(t *testing.T, s *content.Store) map[string][]byte {
	t.Helper()
	p, err := s.Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	files, err := p.Files()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func replaceLine(s string, n int, line string) string {
	lines := strings.Split(s, "\n")
	lines[n-1] = line
	return strings.Join(lines, "\n")
}

func TestBadPacks(t *testing.T) {
	goodLine1 := strings.Split(basicFAQ, "\n")[0]
	long := `{"id": "faq-c", "category": "综合窗口", "question": "` + strings.Repeat("长", content.MaxPackLine/3+10) + `"}`
	for _, tc := range []struct {
		name string
		file string
		data string
		want []string // substrings of the error
	}{
		{"invalid JSON", "faq.jsonl", replaceLine(basicFAQ, 2, `{"id": "faq-b", `), []string{"faq.jsonl:2:", "JSON"}},
		{"missing id", "faq.jsonl", replaceLine(basicFAQ, 1, strings.Replace(goodLine1, `"id": "faq-a", `, "", 1)), []string{"faq.jsonl:1:", "id"}},
		{"duplicate id", "faq.jsonl", basicFAQ + goodLine1 + "\n", []string{"faq.jsonl:3:", "faq-a", "重复", "第 1 行"}},
		{"source names no document", "faq.jsonl",
			// line 1 also changes, and must not be stored either
			replaceLine(replaceLine(basicFAQ, 1, strings.Replace(goodLine1, "答案一", "改过的答案", 1)), 2,
				strings.Replace(strings.Split(basicFAQ, "\n")[1], `"doc-b"`, `"doc-nope"`, 1)),
			[]string{"faq.jsonl:2:", "sources[1]", "doc-nope"}},
		{"impossible date", "faq.jsonl", replaceLine(basicFAQ, 1, strings.Replace(goodLine1, "2025-06-01", "2025-02-30", 1)), []string{"faq.jsonl:1:", "updated", "2025-02-30"}},
		{"date in another format", "faq.jsonl", replaceLine(basicFAQ, 1, strings.Replace(goodLine1, "2025-06-01", "2025/6/1", 1)), []string{"faq.jsonl:1:", "updated"}},
		{"invalid UTF-8", "faq.jsonl", replaceLine(basicFAQ, 2, "{\"id\": \"faq-b\xff\xfe\"}"), []string{"faq.jsonl:2:", "UTF-8"}},
		{"line over 1 MiB", "faq.jsonl", basicFAQ + long + "\n", []string{"faq.jsonl:3:", "行长超过"}},
		{"unknown field", "faq.jsonl", replaceLine(basicFAQ, 1, strings.Replace(goodLine1, `"updated"`, `"colour": "red", "updated"`, 1)), []string{"faq.jsonl:1:", `"colour"`}},
		{"wrong type", "faq.jsonl", replaceLine(basicFAQ, 1, strings.Replace(goodLine1, `["问法一"]`, `"问法一"`, 1)), []string{"faq.jsonl:1:", "similar"}},
		{"two objects on a line", "faq.jsonl", replaceLine(basicFAQ, 1, goodLine1+" {}"), []string{"faq.jsonl:1:", "多余"}},
		{"empty question", "faq.jsonl", replaceLine(basicFAQ, 1, strings.Replace(goodLine1, "问题一？", "", 1)), []string{"faq.jsonl:1:", "question"}},
		{"unknown front-matter key", "docs/doc-a.md", strings.Replace(basicDoc, "issuer:", "author: 某人\nissuer:", 1), []string{"docs/doc-a.md:4:", "键 author"}},
		{"bad effective date", "docs/doc-a.md", strings.Replace(basicDoc, "2025-03-01", "2025-13-01", 1), []string{"docs/doc-a.md:5:", "键 effective"}},
		{"missing front-matter key", "docs/doc-a.md", strings.Replace(basicDoc, "issuer: 示例市政务服务中心\n", "", 1), []string{"docs/doc-a.md:", "键 issuer", "缺少"}},
		{"repeated front-matter key", "docs/doc-a.md", strings.Replace(basicDoc, "category:", "title: 又一个\ncategory:", 1), []string{"docs/doc-a.md:6:", "键 title", "重复"}},
		{"id unlike the file name", "docs/doc-a.md", strings.Replace(basicDoc, "id: doc-a", "id: doc-z", 1), []string{"docs/doc-a.md:2:", "键 id"}},
		{"no front matter", "docs/doc-a.md", "# 示例文档\n\n第一条。\n", []string{"docs/doc-a.md:1:", "front matter"}},
		{"unclosed front matter", "docs/doc-a.md", "---\nid: doc-a\n\n第一条。\n", []string{"docs/doc-a.md", "---"}},
		{"front matter value is a list", "docs/doc-a.md", strings.Replace(basicDoc, "title: 示例文档", "title: [a, b]", 1), []string{"docs/doc-a.md:3:", "键 title"}},
		{"invalid UTF-8 in the body", "docs/doc-a.md", basicDoc + "第二条 \xc3(\n", []string{"docs/doc-a.md:12:", "UTF-8"}},
		{"empty body", "docs/doc-a.md", strings.Join(strings.SplitAfter(basicDoc, "---\n")[:2], ""), []string{"docs/doc-a.md:8:", "正文"}},
		{"unknown session key", "sessions/s1.yaml", strings.Replace(basicSession, "public: true", "public: true\nvenue: 演播室", 1), []string{"sessions/s1.yaml:7:", "键 venue"}},
		{"unknown segment key", "sessions/s1.yaml", strings.Replace(basicSession, "    points:", "    minutes: 10\n    points:", 1), []string{"sessions/s1.yaml:12:", "segments[0].minutes"}},
		{"session links a missing FAQ entry", "sessions/s1.yaml", strings.Replace(basicSession, "- faq-a", "- faq-zzz", 1), []string{"sessions/s1.yaml:10:", "segments[0].faq[0]", "faq-zzz"}},
		{"bad session time", "sessions/s1.yaml", strings.Replace(basicSession, "2026-03-12T16:00:00+08:00", "下午四点", 1), []string{"sessions/s1.yaml:5:", "RFC 3339"}},
		{"session without title", "sessions/s1.yaml", strings.Replace(basicSession, "title: 示例直播\n", "", 1), []string{"sessions/s1.yaml", "键 title", "缺少"}},
		{"broken YAML", "sessions/s1.yaml", strings.Replace(basicSession, "anchors:", "anchors: [", 1), []string{"sessions/s1.yaml:", "YAML"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := newStore(t)
			base, err := content.ReadPack(basicPack())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Import(ctx, base, "t", "base"); err != nil {
				t.Fatal(err)
			}
			before := exportFiles(t, s)
			revsBefore, _ := s.RevisionsSince(ctx, 0, 0)

			bad := basicPack()
			bad[tc.file] = &fstest.MapFile{Data: []byte(tc.data)}
			p, err := content.ReadPack(bad)
			if err == nil {
				_, err = s.Import(ctx, p, "t", "bad")
			}
			if err == nil {
				t.Fatal("bad pack accepted")
			}
			if !errors.Is(err, content.ErrPack) {
				t.Errorf("error %v is not ErrPack", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			after := exportFiles(t, s)
			if !maps.EqualFunc(before, after, func(a, b []byte) bool { return string(a) == string(b) }) {
				t.Error("the store changed after a refused import")
			}
			revsAfter, _ := s.RevisionsSince(ctx, 0, 0)
			if !reflect.DeepEqual(revsBefore, revsAfter) {
				t.Errorf("revisions changed after a refused import: %d → %d", len(revsBefore), len(revsAfter))
			}
		})
	}
}

// A re-imported pack with one changed answer updates that entry with one
// revision and keeps entries the pack no longer has.
func TestReimportUpdates(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	p, err := content.ReadPack(basicPack())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, p, "t", "v1"); err != nil {
		t.Fatal(err)
	}
	v2 := basicPack()
	v2["faq.jsonl"] = &fstest.MapFile{Data: []byte(strings.Replace(strings.Split(basicFAQ, "\n")[0], "答案一", "答案一（修订）", 1) + "\n")}
	p2, err := content.ReadPack(v2)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Import(ctx, p2, "editor", "v2")
	if err != nil {
		t.Fatal(err)
	}
	want := content.ImportReport{
		FAQ:       content.ImportCounts{Updated: 1},
		Documents: content.ImportCounts{Unchanged: 2},
		Sessions:  content.ImportCounts{Unchanged: 1},
	}
	if rep != want {
		t.Errorf("report: got %+v, want %+v", rep, want)
	}
	e, _ := s.FAQ(ctx, "faq-a")
	if e.Answer != "答案一（修订）。" {
		t.Errorf("answer: got %q", e.Answer)
	}
	if _, err := s.FAQ(ctx, "faq-b"); err != nil {
		t.Errorf("faq-b, absent from the second pack, was lost: %v", err)
	}
	revs, _ := s.Revisions(ctx, content.KindFAQ, "faq-a")
	if len(revs) != 2 || revs[0].Action != content.ActionUpdate || revs[0].Actor != "editor" || revs[0].Note != "v2" {
		t.Errorf("revisions of faq-a: %+v", revs)
	}
}
