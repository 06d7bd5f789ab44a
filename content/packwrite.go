package content

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EncodeFAQLine writes e as one line of faq.jsonl (without the newline):
// keys in a fixed order, non-ASCII text as is (but for U+2028 and U+2029,
// see encodeJSON), ", " and ": " separators, and status only when it is not
// the default (published).
func EncodeFAQLine(e FAQEntry) ([]byte, error) {
	var b bytes.Buffer
	field := func(key string, v any) error {
		if b.Len() == 0 {
			b.WriteByte('{')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(`"` + key + `": `)
		return encodeJSON(&b, v)
	}
	sources := make([]string, len(e.Sources))
	for i, s := range e.Sources {
		sources[i] = string(s)
	}
	for _, f := range []struct {
		key string
		v   any
	}{
		{"id", string(e.ID)}, {"category", e.Category}, {"question", e.Question}, {"similar", e.Similar},
		{"answer", e.Answer}, {"sources", sources}, {"updated", e.Updated.String()},
	} {
		if err := field(f.key, f.v); err != nil {
			return nil, err
		}
	}
	if e.Status != "" && e.Status != StatusPublished {
		if err := field("status", string(e.Status)); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// encodeJSON writes a string or a list of strings close to the way
// Python's json.dumps(ensure_ascii=False) does, so that packs edited with
// either tool seldom differ. They are not always byte-identical:
// encoding/json always escapes U+2028 and U+2029 (as \u2028, \u2029),
// which Python writes as is. Both forms decode to the same text.
func encodeJSON(b *bytes.Buffer, v any) error {
	str := func(s string) error {
		var sb bytes.Buffer
		enc := json.NewEncoder(&sb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			return err
		}
		b.Write(bytes.TrimSuffix(sb.Bytes(), []byte("\n")))
		return nil
	}
	switch x := v.(type) {
	case string:
		return str(x)
	case []string:
		b.WriteByte('[')
		for i, s := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := str(s); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	}
	return fmt.Errorf("encodeJSON: unsupported %T", v)
}

// EncodeDocument writes d as a docs/ID.md file: front matter, then the body
// as stored.
func EncodeDocument(d Document) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("---\n")
	for _, f := range []struct{ key, v string }{
		{"id", string(d.ID)}, {"title", d.Title}, {"issuer", d.Issuer},
	} {
		if err := yamlScalar(&b, f.key, f.v); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(&b, "effective: %s\n", d.Effective)
	if err := yamlScalar(&b, "category", d.Category); err != nil {
		return nil, err
	}
	b.WriteString("---\n")
	b.WriteString(d.Body)
	return b.Bytes(), nil
}

// yamlScalar writes "key: value" with the value quoted only when YAML
// needs it (a value that would read as a date, a number, or syntax).
func yamlScalar(b *bytes.Buffer, key, v string) error {
	out, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if bytes.Count(out, []byte("\n")) != 1 {
		return fmt.Errorf("encode %s: value spans lines", key)
	}
	b.WriteString(key + ": ")
	b.Write(out)
	return nil
}

// EncodeSession writes ss as a sessions/ID.yaml file.
func EncodeSession(ss Session) ([]byte, error) {
	sy := sessionYAML{
		ID: string(ss.ID), Title: ss.Title, Category: ss.Category, Summary: ss.Summary,
		Start: yamlTime{ss.Start}, End: yamlTime{ss.End}, Public: ss.Public,
		Anchors: []anchorYAML{}, Segments: []segmentYAML{},
	}
	for _, a := range ss.Anchors {
		sy.Anchors = append(sy.Anchors, anchorYAML(a))
	}
	for _, g := range ss.Segments {
		sg := segmentYAML{Title: g.Title, Points: g.Points, FAQ: []string{}, Docs: []string{}}
		if sg.Points == nil {
			sg.Points = []string{}
		}
		for _, f := range g.FAQ {
			sg.FAQ = append(sg.FAQ, string(f))
		}
		for _, d := range g.Docs {
			sg.Docs = append(sg.Docs, string(d))
		}
		sy.Segments = append(sy.Segments, sg)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(sy); err != nil {
		return nil, fmt.Errorf("encode session %s: %w", ss.ID, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode session %s: %w", ss.ID, err)
	}
	return b.Bytes(), nil
}

// Files returns the pack as file contents by slash-separated path.
func (p *Pack) Files() (map[string][]byte, error) {
	files := map[string][]byte{}
	var faq bytes.Buffer
	for _, e := range p.FAQ {
		line, err := EncodeFAQLine(e)
		if err != nil {
			return nil, fmt.Errorf("encode faq %s: %w", e.ID, err)
		}
		faq.Write(line)
		faq.WriteByte('\n')
	}
	files[PackFAQFile] = faq.Bytes()
	for _, d := range p.Documents {
		data, err := EncodeDocument(d)
		if err != nil {
			return nil, fmt.Errorf("encode document %s: %w", d.ID, err)
		}
		files[PackDocsDir+"/"+string(d.ID)+".md"] = data
	}
	for _, ss := range p.Sessions {
		data, err := EncodeSession(ss)
		if err != nil {
			return nil, err
		}
		files[PackSessionsDir+"/"+string(ss.ID)+".yaml"] = data
	}
	for name, text := range p.Lexicon {
		files[name] = []byte(text)
	}
	return files, nil
}

// ErrNotPackDir is returned by WritePack for a folder that holds other
// files than a pack's: export never overwrites a folder it did not write.
var ErrNotPackDir = errors.New("folder is not empty and holds no content pack")

// WritePack writes p into dir, which is created if needed. A dir that
// already holds a pack is brought to exactly p: files are replaced
// atomically, and documents and sessions that p lacks are removed.
//
// Each file is replaced atomically, the pack as a whole is not: if
// WritePack fails part-way (a full disk, a permission), dir can hold a mix
// of old and new files, and stale ones not yet removed. Running it again
// once the cause is fixed brings dir to p. (Writing a sibling folder and
// swapping it in would lose whatever else dir holds, such as a .git.)
func WritePack(dir string, p *Pack) error {
	files, err := p.Files()
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("export: %w", err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, PackFAQFile)); err != nil {
			return fmt.Errorf("export to %s: %w", dir, ErrNotPackDir)
		}
	}
	for _, sub := range []string{PackDocsDir, PackSessionsDir, "lexicon"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	for name, data := range files {
		if err := writeFileAtomic(filepath.Join(dir, filepath.FromSlash(name)), data); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	for _, sub := range []struct{ dir, ext string }{{PackDocsDir, ".md"}, {PackSessionsDir, ".yaml"}} {
		entries, err := os.ReadDir(filepath.Join(dir, sub.dir))
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for _, e := range entries {
			name := sub.dir + "/" + e.Name()
			if _, keep := files[name]; keep || !e.Type().IsRegular() || !strings.HasSuffix(name, sub.ext) {
				continue
			}
			if err := os.Remove(filepath.Join(dir, sub.dir, e.Name())); err != nil {
				return fmt.Errorf("export: remove stale %s: %w", name, err)
			}
		}
	}
	return nil
}

func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".export-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	if err := os.Rename(tmp, name); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}
