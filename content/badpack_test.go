package content_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"modernc.org/sqlite"

	"govlive/content"
	"govlive/store/storetest"
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
		{"session links a missing FAQ entry", "sessions/s1.yaml", strings.Replace(basicSession, "- faq-a", "- faq-zzz", 1), []string{"sessions/s1.yaml:15:", "segments[0].faq[0]", "faq-zzz"}},
		{"second segment repeats a point", "sessions/s1.yaml", basicSession + "  - title: 第二段\n    points:\n      - 要点二\n      - 要点二\n",
			[]string{"sessions/s1.yaml:21:", "segments[1].points[1]", "重复"}},
		{"second segment without title", "sessions/s1.yaml", basicSession + "  - points:\n      - 要点二\n", []string{"sessions/s1.yaml:18:", "segments[1].title"}},
		{"second anchor repeats a name", "sessions/s1.yaml", strings.Replace(basicSession, "    role: 业务专家\n", "    role: 业务专家\n  - name: 王敏\n", 1),
			[]string{"sessions/s1.yaml:10:", "anchors[1].name", "重复"}},
		{"second segment links a missing document", "sessions/s1.yaml", basicSession + "  - title: 第二段\n    docs:\n      - doc-a\n      - doc-zzz\n",
			[]string{"sessions/s1.yaml:21:", "segments[1].docs[1]", "doc-zzz"}},
		{"second YAML document in a session", "sessions/s1.yaml", basicSession + "---\nid: s2\n", []string{"sessions/s1.yaml:18:", "第二个 YAML 文档"}},
		{"unknown key in examples", "lexicon/examples.yaml", "urgent:\n  - 着火了，快来人\nweather:\n  - 明天下雨吗\n", []string{"lexicon/examples.yaml:3:", "键 weather", "未知的键"}},
		{"empty example", "lexicon/examples.yaml", "complaint:\n  - 窗口的人吼我\n  - \"  \"\n", []string{"lexicon/examples.yaml:3:", "键 complaint", "非空"}},
		{"example too long", "lexicon/examples.yaml", "abuse:\n  - " + strings.Repeat("长", content.MaxExample+1) + "\n", []string{"lexicon/examples.yaml:2:", "键 abuse", "太长", "201"}},
		{"example under two keys", "lexicon/examples.yaml", "urgent:\n  - 着火了，快来人\nchitchat:\n  - 主播好\n  - 着火了，快来人\n", []string{"lexicon/examples.yaml:5:", "键 chitchat", "重复", "第 2 行"}},
		{"examples not a list", "lexicon/examples.yaml", "human_request: 转人工\n", []string{"lexicon/examples.yaml:1:", "键 human_request", "列表"}},
		{"example not a sentence", "lexicon/examples.yaml", "personal_case:\n  - 我的件: 卡住了\n", []string{"lexicon/examples.yaml:2:", "键 personal_case", "例句"}},
		{"examples with the intents' keys", "lexicon/examples.yaml", "spam:\n  - 加我微信\n", []string{"lexicon/examples.yaml:1:", "键 spam"}},
		{"second YAML document in intents", "lexicon/intents.yaml", "urgent:\n  - 马上\n---\nspam:\n  - 加微信\n", []string{"lexicon/intents.yaml:3:", "第二个 YAML 文档"}},
		{"broken front-matter YAML", "docs/doc-a.md", strings.Replace(basicDoc, "issuer: 示例市政务服务中心", "issuer: 示例: 中心", 1), []string{"docs/doc-a.md:4:", "YAML"}},
		{"session ends in the second it starts", "sessions/s1.yaml",
			strings.Replace(strings.Replace(basicSession, "15:00:00+08:00", "15:00:00.1+08:00", 1), "2026-03-12T16:00:00+08:00", "2026-03-12T15:00:00.9+08:00", 1),
			[]string{"sessions/s1.yaml:5:", "end"}},
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

// cancelHook is called by the SQL function govlive_test_cancel(), which
// a test's trigger calls in the middle of an import.
var (
	cancelHook     atomic.Pointer[context.CancelFunc]
	registerCancel = sync.OnceValue(func() error {
		return sqlite.RegisterScalarFunction("govlive_test_cancel", 0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
			if f := cancelHook.Load(); f != nil {
				(*f)()
			}
			return nil, nil
		})
	})
)

// An import that fails for another reason than the pack's content (the
// caller gave no actor, the context was cancelled part-way, the database
// refused a write) stores nothing and is not reported as a pack error at
// some place of the pack.
func TestImportFailuresAreNotPackErrors(t *testing.T) {
	if err := registerCancel(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		trigger string // SQL run on the database before the import
		actor   string
		want    error  // errors.Is
		text    string // in the message
	}{
		{"no actor", "", "", content.ErrInvalid, "actor"},
		{"context cancelled part-way", `CREATE TRIGGER cancel_import AFTER INSERT ON documents BEGIN SELECT govlive_test_cancel(); END`,
			"t", context.Canceled, "context canceled"},
		{"database error", `CREATE TRIGGER fail_import BEFORE INSERT ON faq BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`,
			"t", nil, "disk on fire"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cancelHook.Store(&cancel)
			defer cancelHook.Store(nil)
			s, path := newStore(t)
			if tc.trigger != "" {
				if _, err := storetest.OpenAt(t, path).ExecContext(ctx, tc.trigger); err != nil {
					t.Fatal(err)
				}
			}
			p, err := content.ReadPack(basicPack())
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Import(ctx, p, tc.actor, "")
			if err == nil {
				t.Fatal("import succeeded")
			}
			if errors.Is(err, content.ErrPack) {
				t.Errorf("got %q, a pack error; want no pack error", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %q, want an error matching %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got %q, want it to contain %q", err, tc.text)
			}
			if c := must(s.Counts(context.Background()))(t); c != (content.Counts{}) {
				t.Errorf("counts after a failed import: got %+v, want none", c)
			}
		})
	}
}

// A pack's documents and sessions may be symbolic links to files; a name
// that is not a file, or a link to nothing, is an error, not skipped.
func TestPackSymlinks(t *testing.T) {
	write := func(t *testing.T, name, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// pack lays out the basic pack in a temp dir with doc-b and the session
	// as links to files kept outside the pack's folders.
	pack := func(t *testing.T) string {
		t.Helper()
		root := t.TempDir()
		dir := filepath.Join(root, "pack")
		write(t, filepath.Join(dir, "faq.jsonl"), basicFAQ)
		write(t, filepath.Join(dir, "docs", "doc-a.md"), basicDoc)
		write(t, filepath.Join(root, "shared", "doc-b.md"), basicDocB)
		write(t, filepath.Join(root, "shared", "s1.yaml"), basicSession)
		for _, l := range []struct{ target, link string }{
			{filepath.Join("..", "..", "shared", "doc-b.md"), filepath.Join(dir, "docs", "doc-b.md")},
			{filepath.Join(root, "shared", "s1.yaml"), filepath.Join(dir, "sessions", "s1.yaml")},
		} {
			if err := os.MkdirAll(filepath.Dir(l.link), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(l.target, l.link); err != nil {
				t.Skipf("no symbolic links here: %v", err)
			}
		}
		return dir
	}

	t.Run("links to files are read", func(t *testing.T) {
		p, err := content.ReadPack(os.DirFS(pack(t)))
		if err != nil {
			t.Fatal(err)
		}
		var docs []content.DocID
		for _, d := range p.Documents {
			docs = append(docs, d.ID)
		}
		if want := []content.DocID{"doc-a", "doc-b"}; !reflect.DeepEqual(docs, want) {
			t.Errorf("documents: got %v, want %v", docs, want)
		}
		if len(p.Sessions) != 1 || p.Sessions[0].ID != "s1" {
			t.Errorf("sessions: got %d, want s1", len(p.Sessions))
		}
	})
	for _, tc := range []struct {
		name string
		make func(t *testing.T, dir string)
		want string
	}{
		{"a directory named like a document", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "docs", "doc-c.md"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "docs/doc-c.md:"},
		{"a link to a directory", func(t *testing.T, dir string) {
			if err := os.Symlink(filepath.Join(dir, "docs"), filepath.Join(dir, "sessions", "s2.yaml")); err != nil {
				t.Fatal(err)
			}
		}, "sessions/s2.yaml:"},
		{"a link to nothing", func(t *testing.T, dir string) {
			if err := os.Symlink("missing.md", filepath.Join(dir, "docs", "doc-c.md")); err != nil {
				t.Fatal(err)
			}
		}, "docs/doc-c.md:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := pack(t)
			tc.make(t, dir)
			_, err := content.ReadPack(os.DirFS(dir))
			if !errors.Is(err, content.ErrPack) {
				t.Fatalf("got %v, want a pack error", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %q, want it to start with %q", err, tc.want)
			}
		})
	}
}
