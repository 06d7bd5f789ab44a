package content

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// A content pack is a folder:
//
//	faq.jsonl          one FAQ entry per line (JSON object)
//	docs/ID.md         one document per file: YAML front matter, then Markdown
//	sessions/ID.yaml   one session per file
//
// The names of the files in a pack.
const (
	PackFAQFile     = "faq.jsonl"
	PackDocsDir     = "docs"
	PackSessionsDir = "sessions"
)

// MaxPackLine is the longest line a pack file may have, in bytes.
const MaxPackLine = 1 << 20

// ErrPack marks every error about the content of a pack.
var ErrPack = errors.New("bad content pack")

// PackError says where in a pack something is wrong: the file, the line
// (from 1; 0 when the whole file is meant) and, in front matter or a
// session file, the key.
type PackError struct {
	File string
	Line int
	Key  string
	Err  error
}

// Error returns the place and the cause as editors read them:
// "docs/x.md:4: 键 title：…".
func (e *PackError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "键 %s：", e.Key)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *PackError) Unwrap() error { return e.Err }

// Is makes every PackError match ErrPack.
func (e *PackError) Is(target error) bool { return target == ErrPack }

// Pack is the content of a pack folder, in file order, with where each
// item was read so that a later check (such as a reference to a missing
// document) can name the place.
type Pack struct {
	FAQ       []FAQEntry
	Documents []Document
	Sessions  []Session
	// Lexicon holds the lexicon files present, by name (SynonymsFile,
	// IntentsFile, RepliesFile, ExamplesFile), as written.
	Lexicon map[string]string

	where map[string]place // by kind + "/" + id
}

type place struct {
	file string
	line int
	// keys maps a field, as a FieldError names it ("title",
	// "segments[1].faq[0]"), to the line where it is written.
	keys map[string]int
}

// lineOf returns the line of field, or failing that of the nearest
// enclosing field that the place knows: "segments[1].faq[0]", then
// "segments[1].faq", "segments[1]", "segments".
func (pl place) lineOf(field string) (int, bool) {
	for f := field; f != ""; {
		if line, ok := pl.keys[f]; ok {
			return line, true
		}
		i := strings.LastIndexAny(f, "[.")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0, false
}

func (p *Pack) note(kind Kind, id string, pl place) {
	if p.where == nil {
		p.where = map[string]place{}
	}
	p.where[string(kind)+"/"+id] = pl
}

// errorAt wraps an invalid-content error (ErrInvalid) with the place of
// item kind/id, and with the line of the field a FieldError names when the
// place knows it. Other errors (a cancelled context, a database failure)
// are not the pack's fault and are returned as they are.
func (p *Pack) errorAt(kind Kind, id string, err error) error {
	pl, ok := p.where[string(kind)+"/"+id]
	if !ok || !errors.Is(err, ErrInvalid) {
		return err
	}
	return pl.errorAt(err)
}

// errorAt wraps err with the place, at the line of the field a FieldError
// names when the place knows it.
func (pl place) errorAt(err error) *PackError {
	pe := &PackError{File: pl.file, Line: pl.line, Err: err}
	var fe *FieldError
	if errors.As(err, &fe) {
		if line, ok := pl.lineOf(fe.Field); ok {
			pe.Line = line
		}
	}
	return pe
}

// ReadPack reads and checks a pack folder. Every error is a *PackError
// naming the file and line. References between items (a FAQ source naming
// a document) are checked when the pack is imported, against the pack and
// the store together.
func ReadPack(fsys fs.FS) (*Pack, error) {
	p := &Pack{}
	found := false
	if data, err := fs.ReadFile(fsys, PackFAQFile); err == nil {
		found = true
		if p.FAQ, err = readFAQFile(p, data); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, &PackError{File: PackFAQFile, Err: err}
	}

	docs, err := packFiles(fsys, PackDocsDir, ".md")
	if err != nil {
		return nil, err
	}
	for _, name := range docs {
		found = true
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, &PackError{File: name, Err: err}
		}
		d, pl, err := parseDocument(name, data)
		if err != nil {
			return nil, err
		}
		p.note(KindDocument, string(d.ID), pl)
		p.Documents = append(p.Documents, d)
	}

	sessions, err := packFiles(fsys, PackSessionsDir, ".yaml")
	if err != nil {
		return nil, err
	}
	for _, name := range sessions {
		found = true
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, &PackError{File: name, Err: err}
		}
		ss, pl, err := parseSession(name, data)
		if err != nil {
			return nil, err
		}
		p.note(KindSession, string(ss.ID), pl)
		p.Sessions = append(p.Sessions, ss)
	}
	for _, name := range LexiconFiles {
		data, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, &PackError{File: name, Err: err}
		}
		found = true
		if err := checkLexiconFile(name, string(data)); err != nil {
			return nil, err
		}
		if p.Lexicon == nil {
			p.Lexicon = map[string]string{}
		}
		p.Lexicon[name] = string(data)
	}
	if !found {
		return nil, &PackError{File: ".", Err: fmt.Errorf("不是内容包：没有 %s、%s/*.md、%s/*.yaml 或 lexicon/ 词表", PackFAQFile, PackDocsDir, PackSessionsDir)}
	}
	return p, nil
}

// packFiles lists dir/*ext in name order; a missing dir is an empty list.
// Names starting with "." are skipped. A symbolic link counts as the file
// it points to; a name that is not a regular file (a directory, a dangling
// link) is an error, not skipped, so that no content goes missing quietly.
func packFiles(fsys fs.FS, dir, ext string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &PackError{File: dir, Err: err}
	}
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ext) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := path.Join(dir, e.Name())
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			fi, err := fs.Stat(fsys, name)
			if err != nil {
				return nil, &PackError{File: name, Err: fmt.Errorf("符号链接无法读取：%w", err)}
			}
			mode = fi.Mode().Type()
		}
		if !mode.IsRegular() {
			return nil, &PackError{File: name, Err: errors.New("不是普通文件（可能是目录）")}
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// lines calls fn for each line of data (without its line ending),
// numbered from 1, and refuses lines over maxLine bytes and invalid UTF-8.
func lines(file string, data []byte, maxLine int, fn func(n int, line []byte) error) error {
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > maxLine {
			return &PackError{File: file, Line: n, Err: fmt.Errorf("行长超过 %d 字节", maxLine)}
		}
		if !utf8.Valid(line) {
			return &PackError{File: file, Line: n, Err: fmt.Errorf("第 %d 字节起不是有效的 UTF-8 文本", utf8ErrorColumn(line))}
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	return nil
}

func utf8ErrorColumn(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i + 1
		}
		i += size
	}
	return 0
}

// faqLine is the JSON form of a FAQ entry in faq.jsonl. Pointers tell a
// missing field from an empty one.
type faqLine struct {
	ID       *string  `json:"id"`
	Category string   `json:"category"`
	Question string   `json:"question"`
	Similar  []string `json:"similar"`
	Answer   string   `json:"answer"`
	Sources  []string `json:"sources"`
	Updated  *string  `json:"updated"`
	Status   string   `json:"status"`
}

func readFAQFile(p *Pack, data []byte) ([]FAQEntry, error) {
	var list []FAQEntry
	first := map[FAQID]int{}
	err := lines(PackFAQFile, data, MaxPackLine, func(n int, line []byte) error {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		e, err := parseFAQLine(line)
		if err != nil {
			return &PackError{File: PackFAQFile, Line: n, Err: err}
		}
		if m, dup := first[e.ID]; dup {
			return &PackError{File: PackFAQFile, Line: n, Err: fmt.Errorf("id %q 重复（第 %d 行已有）", e.ID, m)}
		}
		first[e.ID] = n
		p.note(KindFAQ, string(e.ID), place{file: PackFAQFile, line: n})
		list = append(list, e)
		return nil
	})
	return list, err
}

// parseFAQLine reads one line of faq.jsonl and checks the entry on its own.
func parseFAQLine(line []byte) (FAQEntry, error) {
	var fl faqLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fl); err != nil {
		return FAQEntry{}, jsonError(err)
	}
	if dec.More() {
		return FAQEntry{}, errors.New("JSON 对象之后还有多余内容（每行只能有一个对象）")
	}
	if fl.ID == nil {
		return FAQEntry{}, invalid("id", "缺少")
	}
	if fl.Updated == nil {
		return FAQEntry{}, invalid("updated", "缺少")
	}
	updated, err := ParseDate(*fl.Updated)
	if err != nil {
		return FAQEntry{}, invalid("updated", "%v", err)
	}
	e := FAQEntry{
		ID: FAQID(*fl.ID), Category: fl.Category, Question: fl.Question, Similar: fl.Similar,
		Answer: fl.Answer, Updated: updated, Status: Status(fl.Status),
	}
	for _, s := range fl.Sources {
		e.Sources = append(e.Sources, DocID(s))
	}
	e.normalize()
	if err := e.Validate(); err != nil {
		return FAQEntry{}, err
	}
	return e, nil
}

// jsonError turns encoding/json's errors into messages for editors.
func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("JSON 无效（第 %d 字节）：%v", syn.Offset, syn)
	case errors.As(err, &typ):
		return fmt.Errorf("字段 %s 的类型不对：应为 %s，实为 JSON %s", typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("JSON 无效：对象不完整")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("未知字段 %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return fmt.Errorf("JSON 无效：%v", err)
}

// splitFrontMatter returns the YAML between the opening and closing "---"
// lines, the body after them, and the line on which the body starts.
func splitFrontMatter(data []byte) (fm, body []byte, bodyLine int, err error) {
	rest, ok := bytes.CutPrefix(data, []byte("---\n"))
	if !ok {
		rest, ok = bytes.CutPrefix(data, []byte("---\r\n"))
	}
	if !ok {
		return nil, nil, 0, errors.New("缺少 YAML front matter：文件应以一行 --- 开头")
	}
	line := 2
	for off := 0; off < len(rest); line++ {
		end := bytes.IndexByte(rest[off:], '\n')
		var l []byte
		next := len(rest)
		if end >= 0 {
			l, next = rest[off:off+end], off+end+1
		} else {
			l = rest[off:]
		}
		if string(bytes.TrimSuffix(l, []byte("\r"))) == "---" {
			return rest[:off], rest[next:], line + 1, nil
		}
		off = next
	}
	return nil, nil, 0, errors.New("front matter 没有结束：缺少第二行 ---")
}

var docKeys = []string{"id", "title", "issuer", "effective", "category"}

// parseDocument reads docs/ID.md: front matter with exactly the keys of
// docKeys, then the Markdown body, kept byte for byte.
func parseDocument(name string, data []byte) (Document, place, error) {
	pl := place{file: name, keys: map[string]int{}}
	fail := func(line int, key string, err error) (Document, place, error) {
		return Document{}, pl, &PackError{File: name, Line: line, Key: key, Err: err}
	}
	if err := lines(name, data, MaxPackLine, func(int, []byte) error { return nil }); err != nil {
		return Document{}, pl, err
	}
	fm, body, bodyLine, err := splitFrontMatter(data)
	if err != nil {
		return fail(1, "", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(fm, &root); err != nil {
		// The library counts lines from the front matter, which starts on
		// line 2 of the file.
		line, msg := yamlMessage(err)
		if line > 0 {
			line++
		}
		return fail(line, "", fmt.Errorf("front matter 不是有效的 YAML：%s", msg))
	}
	if len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return fail(2, "", errors.New("front matter 应是“键: 值”的映射"))
	}
	values := map[string]string{}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		line := k.Line + 1 // the opening --- is line 1
		if !contains(docKeys, k.Value) {
			return fail(line, k.Value, fmt.Errorf("未知的键（允许的键：%s）", strings.Join(docKeys, "、")))
		}
		if _, dup := values[k.Value]; dup {
			return fail(line, k.Value, errors.New("重复"))
		}
		if v.Kind != yaml.ScalarNode {
			return fail(line, k.Value, errors.New("值应是一行文本"))
		}
		values[k.Value] = v.Value
		pl.keys[k.Value] = line
	}
	for _, k := range docKeys {
		if _, ok := values[k]; !ok {
			return fail(0, k, errors.New("缺少"))
		}
	}
	effective, err := ParseDate(values["effective"])
	if err != nil {
		return fail(pl.keys["effective"], "effective", err)
	}
	d := Document{
		ID: DocID(values["id"]), Title: values["title"], Issuer: values["issuer"],
		Effective: effective, Category: values["category"], Body: string(body),
	}
	if want := strings.TrimSuffix(path.Base(name), ".md"); string(d.ID) != want {
		return fail(pl.keys["id"], "id", fmt.Errorf("%q 与文件名不符（应为 %q）", d.ID, want))
	}
	pl.keys["body"] = bodyLine
	pl.line = 1
	if err := d.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			if line, ok := pl.keys[fe.Field]; ok && fe.Field != "body" {
				return fail(line, fe.Field, errors.New(fe.Reason))
			}
			return fail(bodyLine, "", fmt.Errorf("正文：%s", fe.Reason))
		}
		return fail(0, "", err)
	}
	return d, pl, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sessionYAML is the form of sessions/ID.yaml. Key order here is the
// order export writes.
type sessionYAML struct {
	ID       string        `yaml:"id"`
	Title    string        `yaml:"title"`
	Category string        `yaml:"category"`
	Summary  string        `yaml:"summary,omitempty"`
	Start    yamlTime      `yaml:"start"`
	End      yamlTime      `yaml:"end"`
	Public   bool          `yaml:"public"`
	Anchors  []anchorYAML  `yaml:"anchors"`
	Segments []segmentYAML `yaml:"segments"`
}

type anchorYAML struct {
	Name string `yaml:"name"`
	Role string `yaml:"role,omitempty"`
}

type segmentYAML struct {
	Title  string   `yaml:"title"`
	Points []string `yaml:"points"`
	FAQ    []string `yaml:"faq"`
	Docs   []string `yaml:"docs"`
}

// yamlTime is an RFC 3339 time in a session file, read with a clear
// message when it is not one.
type yamlTime struct{ time.Time }

func (t *yamlTime) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.Parse(time.RFC3339, n.Value)
	if err != nil {
		return fmt.Errorf("line %d: 时间 %q 应为 RFC 3339 格式，如 2026-03-12T15:00:00+08:00", n.Line, n.Value)
	}
	t.Time = v
	return nil
}

func (t yamlTime) MarshalYAML() (any, error) { return t.Time, nil }

var (
	sessionKeys = []string{"id", "title", "category", "summary", "start", "end", "public", "anchors", "segments"}
	anchorKeys  = []string{"name", "role"}
	segmentKeys = []string{"title", "points", "faq", "docs"}
)

// checkKeys refuses unknown and repeated keys in a mapping node.
func checkKeys(m *yaml.Node, allowed []string, prefix string) error {
	if m.Kind != yaml.MappingNode {
		return &PackError{Line: m.Line, Key: strings.TrimSuffix(prefix, "."), Err: errors.New("应是“键: 值”的映射")}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if !contains(allowed, k.Value) {
			return &PackError{Line: k.Line, Key: prefix + k.Value, Err: fmt.Errorf("未知的键（允许的键：%s）", strings.Join(allowed, "、"))}
		}
		if seen[k.Value] {
			return &PackError{Line: k.Line, Key: prefix + k.Value, Err: errors.New("重复")}
		}
		seen[k.Value] = true
	}
	return nil
}

func listItems(m *yaml.Node, key string) []*yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.SequenceNode {
			return m.Content[i+1].Content
		}
	}
	return nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// parseSession reads sessions/ID.yaml.
func parseSession(name string, data []byte) (Session, place, error) {
	pl := place{file: name, line: 1, keys: map[string]int{}}
	withFile := func(err error) (Session, place, error) {
		var pe *PackError
		if errors.As(err, &pe) {
			pe.File = name
			return Session{}, pl, pe
		}
		return Session{}, pl, &PackError{File: name, Err: err}
	}
	if err := lines(name, data, MaxPackLine, func(int, []byte) error { return nil }); err != nil {
		return Session{}, pl, err
	}
	root, err := yamlDocument(data)
	if err != nil {
		return withFile(err)
	}
	if len(root.Content) != 1 {
		return withFile(errors.New("文件是空的"))
	}
	m := root.Content[0]
	if err := checkKeys(m, sessionKeys, ""); err != nil {
		return withFile(err)
	}
	for i, a := range listItems(m, "anchors") {
		if err := checkKeys(a, anchorKeys, fmt.Sprintf("anchors[%d].", i)); err != nil {
			return withFile(err)
		}
	}
	for i, g := range listItems(m, "segments") {
		if err := checkKeys(g, segmentKeys, fmt.Sprintf("segments[%d].", i)); err != nil {
			return withFile(err)
		}
	}
	fieldLines(m, "", pl.keys)
	for _, k := range []string{"id", "title", "category", "start", "end"} {
		if _, ok := pl.keys[k]; !ok {
			return withFile(&PackError{Key: k, Err: errors.New("缺少")})
		}
	}
	var sy sessionYAML
	if err := m.Decode(&sy); err != nil {
		return withFile(yamlError(err))
	}
	ss := Session{
		ID: SessionID(sy.ID), Title: sy.Title, Category: sy.Category, Summary: sy.Summary,
		Start: sy.Start.Time, End: sy.End.Time, Public: sy.Public,
	}
	for _, a := range sy.Anchors {
		ss.Anchors = append(ss.Anchors, Anchor(a))
	}
	for _, g := range sy.Segments {
		seg := Segment{Title: g.Title, Points: g.Points}
		for _, f := range g.FAQ {
			seg.FAQ = append(seg.FAQ, FAQID(f))
		}
		for _, d := range g.Docs {
			seg.Docs = append(seg.Docs, DocID(d))
		}
		ss.Segments = append(ss.Segments, seg)
	}
	ss.normalize()
	if want := strings.TrimSuffix(path.Base(name), ".yaml"); string(ss.ID) != want {
		return withFile(&PackError{Line: pl.keys["id"], Key: "id", Err: fmt.Errorf("%q 与文件名不符（应为 %q）", ss.ID, want)})
	}
	if err := ss.Validate(); err != nil {
		return Session{}, pl, pl.errorAt(err)
	}
	return ss, pl, nil
}

// fieldLines records in lines where each key and each list item under n
// is written, by the field name a FieldError gives it: "title",
// "segments[1]", "segments[1].faq[0]".
func fieldLines(n *yaml.Node, prefix string, lines map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			f := k.Value
			if prefix != "" {
				f = prefix + "." + f
			}
			lines[f] = k.Line
			fieldLines(n.Content[i+1], f, lines)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			f := fmt.Sprintf("%s[%d]", prefix, i)
			lines[f] = item.Line
			fieldLines(item, f, lines)
		}
	}
}

// yamlError turns the YAML library's messages into one line that keeps
// its line number: a *PackError with the line (but no file) when the
// library names one.
func yamlError(err error) error {
	line, msg := yamlMessage(err)
	e := fmt.Errorf("YAML 无效：%s", msg)
	if line > 0 {
		return &PackError{Line: line, Err: e}
	}
	return e
}

// yamlMessage splits a YAML library error into the line it names (0 for
// none), counted from the start of the text given to the library, and the
// rest of its first message.
func yamlMessage(err error) (line int, msg string) {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New(te.Errors[0])
	}
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			return n, strings.TrimSpace(m[2])
		}
	}
	return 0, msg
}

// yamlDocument parses data as one YAML document. A second document (a
// "---" line followed by more) is refused rather than silently ignored; an
// empty one, such as a closing "---", is allowed. Empty data gives a zero
// node.
func yamlDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(err)
	}
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			return &root, nil
		}
		if err != nil {
			return nil, yamlError(err)
		}
		if len(extra.Content) == 1 && extra.Content[0].Kind == yaml.ScalarNode && extra.Content[0].Tag == "!!null" && extra.Content[0].Value == "" {
			continue
		}
		return nil, &PackError{Line: extra.Line, Err: errors.New("--- 之后还有第二个 YAML 文档：一个文件只能有一个文档")}
	}
}
