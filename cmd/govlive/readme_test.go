package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEFiles: every file the README's commands name (question files,
// packs) is in the repository, so the commands work from a fresh clone.
func TestREADMEFiles(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`govlive (?:eval(?: --\w+)*|import(?: --\w+ \S+)*) ([\w./-]+)`)
	found := 0
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		path := m[1]
		if strings.HasPrefix(path, "-") || path == "FILE" || path == "PACK_DIR" || strings.Contains(path, "…") {
			continue
		}
		found++
		if strings.HasPrefix(filepath.Clean(path), "..") {
			t.Errorf("README command %q names %s, outside the repository", m[0], path)
			continue
		}
		if _, err := os.Stat(filepath.Join(root, path)); err != nil {
			t.Errorf("README command %q: %v", m[0], err)
		}
	}
	if found == 0 {
		t.Error("found no file named by a README command")
	}
}
