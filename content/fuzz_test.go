package content

import (
	"bytes"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"govlive/content/sample"
)

// The fuzz targets feed arbitrary bytes to the pack parsers: they must not
// panic, and whatever they accept must survive export and re-reading
// unchanged. The seed corpus is the sample pack plus a few broken inputs.
// Run one with: go test -fuzz FuzzParseFAQLine ./content/

func FuzzParseFAQLine(f *testing.F) {
	data, err := fs.ReadFile(sample.FS, PackFAQFile)
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		f.Add(line)
	}
	for _, s := range []string{`{}`, `{"id": "x"}`, `[1,2]`, `{"id": "a", "updated": "2025-02-30"}`, "{\"id\": \"\xff\"}", `{"id":"a"} {"id":"b"}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := parseFAQLine(line)
		if err != nil {
			return
		}
		out, err := EncodeFAQLine(e)
		if err != nil {
			t.Fatalf("accepted entry does not encode: %v", err)
		}
		again, err := parseFAQLine(out)
		if err != nil {
			t.Fatalf("encoded entry does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(e, again) {
			t.Fatalf("round trip changed the entry:\n%+v\n%+v", e, again)
		}
	})
}

func FuzzParseDocument(f *testing.F) {
	names, err := fs.Glob(sample.FS, "docs/*.md")
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names[:4] {
		data, _ := fs.ReadFile(sample.FS, n)
		f.Add(data)
	}
	f.Add([]byte("---\nid: d\n---\n"))
	f.Add([]byte("---\nid: d\ntitle: t\nissuer: i\neffective: 2025-01-01\ncategory: c\n---\nbody\n"))
	f.Add([]byte("---\n: :\n---\n"))
	f.Add([]byte("---\r\nid: d\r\n---\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		name := "docs/" + declaredID(data) + ".md"
		d, _, err := parseDocument(name, data)
		if err != nil {
			return
		}
		out, err := EncodeDocument(d)
		if err != nil {
			t.Fatalf("accepted document does not encode: %v", err)
		}
		again, _, err := parseDocument(name, out)
		if err != nil {
			t.Fatalf("encoded document does not parse: %v\n%s", err, out)
		}
		if d != again {
			t.Fatalf("round trip changed the document:\n%+v\n%+v", d, again)
		}
	})
}

func FuzzParseSession(f *testing.F) {
	names, err := fs.Glob(sample.FS, "sessions/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		data, _ := fs.ReadFile(sample.FS, n)
		f.Add(data)
	}
	f.Add([]byte("id: s\n"))
	f.Add([]byte("id: s\ntitle: t\ncategory: c\nstart: 2026-01-01T15:00:00+08:00\nend: 2026-01-01T16:00:00+08:00\nsegments: [{title: a, faq: [x]}]\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		name := "sessions/" + declaredID(data) + ".yaml"
		ss, _, err := parseSession(name, data)
		if err != nil {
			return
		}
		out, err := EncodeSession(ss)
		if err != nil {
			t.Fatalf("accepted session does not encode: %v", err)
		}
		again, _, err := parseSession(name, out)
		if err != nil {
			t.Fatalf("encoded session does not parse: %v\n%s", err, out)
		}
		out2, err := EncodeSession(again)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the session:\n%s\n%s", out, out2)
		}
	})
}

// declaredID returns the value of the first "id: " line of data, so that a
// fuzzed file can be named as its content says and pass that check.
func declaredID(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "id: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return "x"
}
