package studio_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"govlive/accounts"
	"govlive/content"
)

// zipOf is a zip of files (name → content), in the given order.
func zipOf(t *testing.T, files ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestEditPackAccess(t *testing.T) {
	es := newEditServer(t)
	for _, name := range []string{"anchor", "moderator"} {
		cl := es.loggedIn(t, name)
		for _, p := range []string{"/edit/pack", "/edit/pack/export"} {
			if r := cl.get(p); r.status != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", name, p, r.status)
			}
		}
		if r := cl.upload("/edit/pack/import", cl.csrf(), "p.zip", zipOf(t, [2]string{"faq.jsonl", ""})); r.status != http.StatusForbidden {
			t.Errorf("%s import: %d, want 403", name, r.status)
		}
	}
}

func TestEditPackRoundTrip(t *testing.T) {
	es := newEditServer(t)
	ctx := context.Background()
	cl := es.loggedIn(t, "editor")
	csrf := formCSRF(t, cl.get("/edit/pack").body)

	r := cl.get("/edit/pack/export")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("export: %d %q %q", r.status, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
	}
	exported := []byte(r.body)
	zr, err := zip.NewReader(bytes.NewReader(exported), int64(len(exported)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "faq.jsonl") || !strings.Contains(got, "docs/doc-a.md") || !strings.Contains(got, "sessions/live.yaml") {
		t.Errorf("exported files %s", got)
	}

	// change an entry, then import the exported pack: it comes back
	e, _ := es.cs.FAQ(ctx, "faq-a")
	e.Answer = "改过的答案。"
	if _, err := es.cs.PutFAQ(ctx, e, "test"); err != nil {
		t.Fatal(err)
	}
	if r := cl.upload("/edit/pack/import", "", "pack.zip", exported); r.status != http.StatusForbidden {
		t.Errorf("import without CSRF: %d, want 403", r.status)
	}
	r = cl.upload("/edit/pack/import", csrf, "pack.zip", exported)
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="report"`) {
		t.Fatalf("import: %d %q", r.status, errorOf(r.body))
	}
	if e, _ := es.cs.FAQ(ctx, "faq-a"); e.Answer != "答案一。" {
		t.Errorf("after the import the answer is %q", e.Answer)
	}
	revs, _ := es.cs.Revisions(ctx, content.KindFAQ, "faq-a")
	if id, _, ok := accounts.ParseActor(revs[0].Actor); !ok || id != es.users["editor"].ID || revs[0].Note != "网页导入 pack.zip" {
		t.Errorf("revision %q %q, want the editor's web import", revs[0].Actor, revs[0].Note)
	}
}

func TestEditPackBrokenChangesNothing(t *testing.T) {
	es := newEditServer(t)
	ctx := context.Background()
	cl := es.loggedIn(t, "editor")
	csrf := formCSRF(t, cl.get("/edit/pack").body)
	before, _ := es.cs.Revisions(ctx, content.KindFAQ, "faq-a")
	noise := make([]byte, 3<<20+1000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	many := [][2]string{{"faq.jsonl", ""}}
	for i := range 2001 {
		many = append(many, [2]string{fmt.Sprintf("docs/d%d.txt", i), "x"})
	}
	bomb := [][2]string{{"faq.jsonl", ""}}
	for i := range 9 {
		bomb = append(bomb, [2]string{fmt.Sprintf("docs/z%d.md", i), strings.Repeat("0", 4<<20)})
	}
	newEntry := `{"id": "faq-new", "category": "综合窗口", "question": "新问题？", "similar": [], "answer": "新答案。", "sources": ["doc-a"], "updated": "2025-06-01"}` + "\n"
	for _, tc := range []struct {
		name, file string
		data       []byte
		want       string
	}{
		{"a source that does not exist", "p.zip", zipOf(t, [2]string{"faq.jsonl", newEntry +
			`{"id": "faq-a", "category": "综合窗口", "question": "问题一？", "similar": [], "answer": "改了。", "sources": ["doc-nope"], "updated": "2025-06-01"}` + "\n"}), "doc-nope"},
		{"bad yaml", "p.zip", zipOf(t, [2]string{"faq.jsonl", newEntry}, [2]string{"sessions/x.yaml", "id: [\n"}), "sessions/x.yaml"},
		{"zip slip", "p.zip", zipOf(t, [2]string{"faq.jsonl", newEntry}, [2]string{"../evil.md", "x"}), "不允许"},
		{"zip bomb", "p.zip", zipOf(t, [2]string{"faq.jsonl", newEntry}, [2]string{"docs/big.md", strings.Repeat("0", 5<<20)}), "解压后超过 4 MB"},
		{"zip bomb in all", "p.zip", zipOf(t, bomb...), "解压后总大小超过 32 MB"},
		{"too big", "p.zip", zipOf(t, [2]string{"faq.jsonl", newEntry}, [2]string{"docs/noise.md", string(noise)}), "文件超过 3 MB"},
		{"too many files", "p.zip", zipOf(t, many...), "文件太多"},
		{"not a zip", "p.zip", []byte("hello"), "不是有效的 zip 文件"},
		{"not a .zip name", "p.tar", []byte("hello"), "只能上传 .zip"},
		{"not a pack", "p.zip", zipOf(t, [2]string{"readme.txt", "hi"}), "不是内容包"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cl.upload("/edit/pack/import", csrf, tc.file, tc.data)
			if msg := errorOf(r.body); r.status != http.StatusUnprocessableEntity || !strings.Contains(msg, "未导入，内容没有任何改动") || !strings.Contains(msg, tc.want) {
				t.Errorf("got %d %q, want 422 naming %q", r.status, msg, tc.want)
			}
			if _, err := es.cs.FAQ(ctx, "faq-new"); err == nil {
				t.Error("a refused pack stored faq-new")
			}
			if after, _ := es.cs.Revisions(ctx, content.KindFAQ, "faq-a"); len(after) != len(before) {
				t.Error("a refused pack recorded a revision")
			}
		})
	}
}
