package pages

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

func TestPages(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
	}{
		{"publish.html", `"/whip/"`},
		{"live.html", `"/whep/"`},
	}
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := fs.ReadFile(FS, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			page := string(b)
			for _, want := range []string{
				"<!doctype html>", `<html lang="zh-CN">`, `<meta charset="utf-8">`, "</html>",
				tt.endpoint, `"/api/stream/config"`, "window.pc", "window.govlive", `method: "DELETE"`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("%s does not contain %q", tt.name, want)
				}
			}
			for _, pair := range [][2]string{{"<script", "</script>"}, {"<style", "</style>"}, {"<main", "</main>"}} {
				if open, closed := strings.Count(page, pair[0]), strings.Count(page, pair[1]); open != closed {
					t.Errorf("%s: got %d %s and %d %s, want as many", tt.name, open, pair[0], closed, pair[1])
				}
			}
			if m := external.FindString(page); m != "" || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
				t.Errorf("%s refers to an external resource (%q); the pages must work offline", tt.name, m)
			}
			for _, attr := range []string{` src="`, ` href="`} {
				if strings.Contains(page, attr) {
					t.Errorf("%s loads a resource (%s…); the pages must be self-contained", tt.name, attr)
				}
			}
		})
	}
}
