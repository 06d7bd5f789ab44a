package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"govlive/content"
)

// A small pack in the exporter's canonical form: faq.jsonl lines as
// content.EncodeFAQLine writes them, a document as content.EncodeDocument
// writes it.
const (
	packFAQ = `{"id": "faq-test-materials", "category": "测试事项", "question": "办理测试事项需要哪些材料？", "similar": ["测试事项要带什么", "测试事项材料清单"], "answer": "请携带身份证原件和“测试申请表”。", "sources": ["doc-test-guide"], "updated": "2025-06-10"}` + "\n"
	packDoc = `---
id: doc-test-guide
title: 测试事项办事指南
issuer: 示例市测试局
effective: 2025-04-01
category: 测试事项
---

# 测试事项办事指南

> 示例数据：测试用的虚构样例。

1. 身份证原件；
2. 测试申请表。
`
)

// writeFiles writes files (slash-separated path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readFiles returns every regular file under dir by slash-separated path.
func readFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// compareFiles fails unless got and want hold the same files, byte for byte.
func compareFiles(t *testing.T, got, want map[string]string) {
	t.Helper()
	if names, wantNames := sortedKeys(got), sortedKeys(want); !reflect.DeepEqual(names, wantNames) {
		t.Errorf("got files %q, want %q", names, wantNames)
	}
	for name, w := range want {
		if g, ok := got[name]; ok && g != w {
			t.Errorf("%s:\ngot\n%q\nwant\n%q", name, g, w)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// runCmd calls run with args and an environment that names nobody's real
// files, and returns what it printed.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, envFunc(map[string]string{"USER": "tester"}), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestImportExport(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	pack := t.TempDir()
	want := map[string]string{"faq.jsonl": packFAQ, "docs/doc-test-guide.md": packDoc}
	writeFiles(t, pack, want)

	// export runs "govlive export" into a new folder and returns its files.
	export := func(t *testing.T) map[string]string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out")
		stdout, _, err := runCmd(t, "export", "--data", data, out)
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		if !strings.HasPrefix(stdout, "exported ") {
			t.Errorf("export: got output %q, want an \"exported …\" line", stdout)
		}
		return readFiles(t, out)
	}

	t.Run("first import creates", func(t *testing.T) {
		stdout, _, err := runCmd(t, "import", "--data", data, pack)
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		wantOut := "faq        created 1, updated 0, unchanged 0\n" +
			"documents  created 1, updated 0, unchanged 0\n" +
			"sessions   created 0, updated 0, unchanged 0\n"
		if stdout != wantOut {
			t.Errorf("got output\n%s\nwant\n%s", stdout, wantOut)
		}
	})

	t.Run("export is byte-identical", func(t *testing.T) {
		compareFiles(t, export(t), want)
	})

	t.Run("second import changes nothing", func(t *testing.T) {
		stdout, _, err := runCmd(t, "import", "--data", data, pack)
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		wantOut := "faq        created 0, updated 0, unchanged 1\n" +
			"documents  created 0, updated 0, unchanged 1\n" +
			"sessions   created 0, updated 0, unchanged 0\n"
		if stdout != wantOut {
			t.Errorf("got output\n%s\nwant\n%s", stdout, wantOut)
		}
	})

	changedFAQ := strings.Replace(packFAQ, "身份证原件", "身份证复印件", 1)
	for _, tc := range []struct {
		name     string
		files    map[string]string
		wantText string
	}{
		{
			// Line 1 changes an entry: a partial import would show.
			name:     "invalid JSON on line 2",
			files:    map[string]string{"faq.jsonl": changedFAQ + `{"id": "faq-broken", "category": ` + "\n"},
			wantText: "faq.jsonl:2",
		},
		{
			// The document is valid and is stored first; the FAQ entry
			// then cites a document that exists nowhere, and the whole
			// import must roll back.
			name: "source missing from pack and store",
			files: map[string]string{
				"docs/doc-new.md": strings.ReplaceAll(packDoc, "doc-test-guide", "doc-new"),
				"faq.jsonl":       strings.ReplaceAll(changedFAQ, `"sources": ["doc-test-guide"]`, `"sources": ["doc-missing"]`),
			},
			wantText: "faq.jsonl:1",
		},
	} {
		t.Run("bad pack: "+tc.name, func(t *testing.T) {
			bad := t.TempDir()
			writeFiles(t, bad, tc.files)
			stdout, _, err := runCmd(t, "import", "--data", data, bad)
			if err == nil {
				t.Fatalf("import: got no error, want one naming %s; output %q", tc.wantText, stdout)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("got error %q, want it to contain %q", err, tc.wantText)
			}
			if !errors.Is(err, content.ErrPack) {
				t.Errorf("got error %v, want one that is content.ErrPack", err)
			}
			if errors.As(err, new(usageError)) {
				t.Errorf("got usageError %v, want a plain error", err)
			}
			if stdout != "" {
				t.Errorf("got output %q, want none", stdout)
			}
			compareFiles(t, export(t), want)
		})
	}
}

func TestPackCommandUsage(t *testing.T) {
	pack := t.TempDir()
	writeFiles(t, pack, map[string]string{"faq.jsonl": packFAQ, "docs/doc-test-guide.md": packDoc})
	for _, tc := range []struct {
		name     string
		args     []string // "{data}" is replaced by a data folder that must stay uncreated
		wantText string
	}{
		{"import without a folder", []string{"import", "--data", "{data}"}, "want exactly one pack folder, got 0 arguments"},
		{"import with two folders", []string{"import", "--data", "{data}", pack, pack}, "want exactly one pack folder, got 2 arguments"},
		{"import with an unknown flag after the folder", []string{"import", pack, "--data", "{data}", "--nosuch"}, "flag provided but not defined: -nosuch"},
		{"export without a folder", []string{"export", "--data", "{data}"}, "want exactly one pack folder, got 0 arguments"},
		{"export with two folders", []string{"export", "--data", "{data}", "a", "b"}, "want exactly one pack folder, got 2 arguments"},
		{"serve with an argument", []string{"serve", "--data", "{data}", "extra"}, "unexpected arguments"},
		{"unknown command", []string{"publish", "--data", "{data}"}, `unknown command "publish"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "{data}", data)
			}
			_, _, err := runCmd(t, args...)
			if !errors.As(err, new(usageError)) {
				t.Fatalf("got error %v, want a usageError", err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("got error %q, want it to contain %q", err, tc.wantText)
			}
			if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("data folder: got stat error %v, want it not created", err)
			}
		})
	}
}

func TestPackCommandErrors(t *testing.T) {
	notPack := t.TempDir()
	writeFiles(t, notPack, map[string]string{"notes.txt": "mine"})
	for _, tc := range []struct {
		name     string
		args     []string
		wantErr  error // matched with errors.Is when not nil
		wantText string
	}{
		{name: "import a missing folder", args: []string{"import", filepath.Join(notPack, "missing")}, wantText: "is not a folder"},
		{name: "import a file", args: []string{"import", filepath.Join(notPack, "notes.txt")}, wantText: "is not a folder"},
		{name: "import a folder without a pack", args: []string{"import", notPack}, wantErr: content.ErrPack},
		{name: "export over other files", args: []string{"export", notPack}, wantErr: content.ErrNotPackDir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := append([]string{tc.args[0], "--data", data}, tc.args[1:]...)
			_, _, err := runCmd(t, args...)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if errors.As(err, new(usageError)) {
				t.Errorf("got usageError %v, want a plain error", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("got error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("got error %q, want it to contain %q", err, tc.wantText)
			}
		})
	}
	if got := readFiles(t, notPack); !reflect.DeepEqual(got, map[string]string{"notes.txt": "mine"}) {
		t.Errorf("folder that is not a pack: got files %q after export, want only notes.txt untouched", got)
	}
}

func TestRunHelp(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantErr    error
		wantStdout string // substring of stdout
	}{
		{"help command", []string{"help"}, nil, "commands:"},
		{"serve -h", []string{"serve", "-h"}, errHelp, "usage: govlive serve"},
		{"-h alone is serve's", []string{"-h"}, errHelp, "usage: govlive serve"},
		{"import -h", []string{"import", "-h"}, errHelp, "usage: govlive import [flags] PACK_DIR"},
		{"export --help", []string{"export", "--help"}, errHelp, "usage: govlive export [flags] PACK_DIR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runCmd(t, tc.args...)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(stdout, tc.wantStdout) {
				t.Errorf("got stdout\n%s\nwant it to contain %q", stdout, tc.wantStdout)
			}
			if stderr != "" {
				t.Errorf("got stderr %q, want none", stderr)
			}
		})
	}
}
