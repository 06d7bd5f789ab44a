package pages

import (
	"html/template"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// The pages run under a Content-Security-Policy without inline script or
// style, and load nothing from elsewhere: every script and stylesheet is
// a file of FS, referred to by a path on the same origin.
func TestPages(t *testing.T) {
	tests := []struct {
		name    string
		scripts []string // the files of its <script src>
		styles  []string // the files of its <link rel="stylesheet">
		want    []string // what its script must contain
	}{
		{"index.html", []string{"index.js"}, []string{"index.css"}, []string{`"/recordings"`, `"video"`}},
		{"live.html", []string{"common.js", "live.js", "chat.js"}, []string{"live.css"}, []string{
			`"/whep/"`, `"/api/stream/config"`, `"/api/sessions/"`, "window.pc", "window.govlive",
			`method: "DELETE"`, `"Bearer "`, `params.get("token")`,
			`"/chat/ws"`, "window.govliveChat", `type: "join"`,
		}},
		{"publish.html", []string{"common.js", "publish.js"}, []string{"publish.css"}, []string{
			`"/whip/"`, `"/api/stream/config"`, "window.pc", "window.govlive",
			`method: "DELETE"`, `method: "PATCH"`, `"Bearer "`, `"If-Match"`, "application/trickle-ice-sdpfrag",
		}},
	}
	scriptTag := regexp.MustCompile(`<script\b([^>]*)>([^<]*)</script>`)
	styleLink := regexp.MustCompile(`<link rel="stylesheet" href="/assets/([^"]+)">`)
	attr := regexp.MustCompile(`\s(src|href|action)="([^"]*)"`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := read(t, tt.name)
			for _, want := range []string{
				"<!doctype html>", `<html lang="zh-CN">`, `<meta charset="utf-8">`,
				`<meta name="viewport" content="width=device-width, initial-scale=1">`, "<title>", "<main", "</html>",
			} {
				if !strings.Contains(page, want) {
					t.Errorf("%s does not contain %q", tt.name, want)
				}
			}
			for _, pair := range [][2]string{{"<script", "</script>"}, {"<main", "</main>"}, {"<section", "</section>"}} {
				if open, closed := strings.Count(page, pair[0]), strings.Count(page, pair[1]); open != closed {
					t.Errorf("%s: got %d %s and %d %s, want as many", tt.name, open, pair[0], closed, pair[1])
				}
			}
			// nothing inline: no script body, no <style>, no style= or on…= attribute, no javascript: URL
			var scripts []string
			for _, m := range scriptTag.FindAllStringSubmatch(page, -1) {
				if strings.TrimSpace(m[2]) != "" {
					t.Errorf("%s has an inline script: %.60q", tt.name, m[2])
				}
				src := regexp.MustCompile(`src="/assets/([^"]+)"`).FindStringSubmatch(m[1])
				if src == nil {
					t.Errorf("%s: <script%s> does not load a file of /assets/", tt.name, m[1])
					continue
				}
				scripts = append(scripts, src[1])
			}
			if got := strings.Join(scripts, " "); got != strings.Join(tt.scripts, " ") {
				t.Errorf("%s loads scripts %q, want %q", tt.name, got, strings.Join(tt.scripts, " "))
			}
			var styles []string
			for _, m := range styleLink.FindAllStringSubmatch(page, -1) {
				styles = append(styles, m[1])
			}
			if got := strings.Join(styles, " "); got != strings.Join(tt.styles, " ") {
				t.Errorf("%s loads stylesheets %q, want %q", tt.name, got, strings.Join(tt.styles, " "))
			}
			for _, bad := range []string{"<style", " style=", "javascript:"} {
				if strings.Contains(strings.ToLower(page), bad) {
					t.Errorf("%s contains %q: the CSP forbids it", tt.name, bad)
				}
			}
			if m := regexp.MustCompile(`(?i)\son[a-z]+=`).FindString(page); m != "" {
				t.Errorf("%s has an inline event handler (%q): the CSP forbids it", tt.name, m)
			}
			// every reference stays on the origin, and every asset exists
			for _, m := range attr.FindAllStringSubmatch(page, -1) {
				ref := m[2]
				if strings.HasPrefix(ref, "{{") {
					continue // filled in by the studio, whose tests check it
				}
				if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
					t.Errorf("%s: %s=%q leaves the origin; the pages must be self-contained", tt.name, m[1], ref)
				}
				if name, ok := strings.CutPrefix(ref, "/assets/"); ok {
					if _, err := fs.Stat(FS, name); err != nil {
						t.Errorf("%s refers to %s, which FS lacks: %v", tt.name, ref, err)
					}
				}
			}
			code := ""
			for _, s := range tt.scripts {
				code += read(t, s)
			}
			for _, want := range tt.want {
				if !strings.Contains(code, want) {
					t.Errorf("the script of %s does not contain %q", tt.name, want)
				}
			}
		})
	}
}

// No file of FS refers to another site, and the scripts put no string
// into the DOM as markup (the CSP's Trusted Types would refuse it).
func TestPagesSelfContained(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	sinks := regexp.MustCompile(`\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\(|new Function\(`)
	files, err := fs.Glob(FS, "*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("FS holds %v, want the pages with their scripts and stylesheets", files)
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			b := read(t, name)
			if m := external.FindString(b); m != "" || strings.Contains(b, "http://") || strings.Contains(b, "https://") {
				t.Errorf("%s refers to an external resource (%q); the pages must work offline", name, m)
			}
			if path.Ext(name) == ".js" {
				if m := sinks.FindString(b); m != "" {
					t.Errorf("%s uses %q: build the DOM with textContent and createElement", name, m)
				}
				if !strings.Contains(b, `"use strict";`) {
					t.Errorf("%s is not strict", name)
				}
			}
		})
	}
}

// The landing page is a template the studio can parse.
func TestLandingTemplate(t *testing.T) {
	tmpl, err := template.ParseFS(FS, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Lookup("session") == nil {
		t.Error(`index.html defines no "session" template`)
	}
}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(FS, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
