package studio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"go.yaml.in/yaml/v3"

	"govlive/accounts"
	"govlive/content"
)

// docRow is one document of the list.
type docRow struct {
	ID, Title, Issuer, Effective, Category string
	Chars                                  int
}

// editDocList answers GET /edit/docs?category=&page=.
func (s *Server) editDocList(c *fiber.Ctx) error {
	cat := searchText(c, "category")
	page := queryPage(c)
	list, total, err := s.cfg.Content.ListDocumentInfo(c.UserContext(), content.DocumentFilter{Category: cat},
		content.Page{Limit: editPerPage, Offset: (page - 1) * editPerPage})
	if err != nil {
		return err
	}
	rows := make([]docRow, 0, len(list))
	for _, d := range list {
		rows = append(rows, docRow{ID: string(d.ID), Title: d.Title, Issuer: d.Issuer,
			Effective: d.Effective.String(), Category: d.Category, Chars: d.BodyChars})
	}
	cats, err := s.categoryOptions(c, cat)
	if err != nil {
		return err
	}
	d := struct {
		pageData
		Category []option
		Rows     []docRow
		Pager    pager
	}{s.base(c, "政策文件"), cats, rows, newPager(url.Values{"category": {cat}}, "/edit/docs", page, editPerPage, total)}
	s.notice(c, &d.pageData)
	return s.render(c, fiber.StatusOK, "edit-docs", d)
}

// docForm is the document form as typed.
type docForm struct {
	ID, Title, Issuer, Effective, Category, Body string
	Base                                         int64 // see faqForm.Base
}

func docFormOf(d content.Document) docForm {
	return docForm{ID: string(d.ID), Title: d.Title, Issuer: d.Issuer, Effective: d.Effective.String(),
		Category: d.Category, Body: d.Body}
}

// docPage is the document form.
type docPage struct {
	pageData
	New       bool
	Form      docForm
	Errors    map[string]string
	Category  []option
	Preview   bool   // the text is shown for checking before it is saved
	Upload    string // the name of the uploaded file, on its preview
	Lines     int    // lines of the body, on a preview
	Revisions []revisionRow
	MaxUpload string
}

// editDocNew answers GET /edit/docs/new: the upload form and an empty
// document form.
func (s *Server) editDocNew(c *fiber.Ctx) error {
	return s.docFormPage(c, fiber.StatusOK, docPage{New: true}, docForm{})
}

// editDoc answers GET /edit/docs/:id.
func (s *Server) editDoc(c *fiber.Ctx) error {
	d, err := s.cfg.Content.Document(c.UserContext(), content.DocID(strings.Clone(c.Params("id"))))
	if err != nil {
		return err
	}
	return s.docFormPage(c, fiber.StatusOK, docPage{}, docFormOf(d))
}

func (s *Server) docFormPage(c *fiber.Ctx, status int, d docPage, f docForm) error {
	title := "新建政策文件"
	if !d.New {
		title = "编辑政策文件 " + f.ID
	}
	d.pageData, d.Form, d.MaxUpload = s.base(c, title), f, "1 MB"
	s.notice(c, &d.pageData)
	if len(d.Errors) > 0 {
		d.Error = "未保存：请按提示修改标出的字段"
		if msg, ok := d.Errors[""]; ok {
			d.Error = msg
		}
	}
	if d.Preview {
		d.Lines = strings.Count(f.Body, "\n") + 1
	}
	var err error
	if d.Category, err = s.categoryOptions(c, f.Category); err != nil {
		return err
	}
	if !d.New {
		revs, err := s.cfg.Content.Revisions(c.UserContext(), content.KindDocument, f.ID)
		if err != nil {
			return err
		}
		d.Revisions = s.revisionRows(c, revs)
		if d.Form.Base == 0 && len(revs) > 0 {
			d.Form.Base = revs[0].ID
		}
	}
	return s.render(c, status, "edit-doc", d)
}

// saveDoc answers POST /edit/docs/new and POST /edit/docs/:id. With
// action=preview the form comes back with the text shown for checking
// and nothing is stored.
func (s *Server) saveDoc(c *fiber.Ctx) error {
	ctx := c.UserContext()
	isNew := c.Params("id") == ""
	f := docForm{ID: formText(c, "id"), Title: formText(c, "title"), Issuer: formText(c, "issuer"),
		Effective: formText(c, "effective"), Category: formText(c, "category"),
		Body: strings.ReplaceAll(c.FormValue("body"), "\r\n", "\n")}
	f.Body = strings.Clone(f.Body)
	f.Base, _ = strconv.ParseInt(c.FormValue("base"), 10, 64)
	if !isNew {
		f.ID = strings.Clone(c.Params("id"))
	}
	doc, errs := s.checkDocForm(c, &f, isNew)
	page := docPage{New: isNew, Errors: errs, Upload: formText(c, "upload")}
	if len(errs) > 0 {
		page.Preview = c.FormValue("action") == "preview"
		return s.docFormPage(c, fiber.StatusUnprocessableEntity, page, f)
	}
	if c.FormValue("action") == "preview" {
		page.Preview = true
		return s.docFormPage(c, fiber.StatusOK, page, f)
	}
	actor, ok := accounts.ActorFromContext(ctx)
	if !ok {
		return errLogin
	}
	changed, err := s.cfg.Content.PutDocument(ctx, doc, actor)
	var fe *content.FieldError
	if errors.As(err, &fe) {
		page.Errors = map[string]string{docField(fe.Field): fe.Reason}
		return s.docFormPage(c, fiber.StatusUnprocessableEntity, page, f)
	}
	if err != nil {
		return err
	}
	s.cfg.Log.Info("document saved", "doc", doc.ID, "user", actor, "changed", changed)
	done := "saved"
	switch {
	case !changed:
		done = "unchanged"
	case isNew:
		done = "created"
	}
	return c.Redirect("/edit/docs/"+url.PathEscape(string(doc.ID))+"?done="+done, fiber.StatusSeeOther)
}

func docField(field string) string {
	switch field {
	case "id", "title", "issuer", "effective", "category", "body":
		return field
	}
	return ""
}

// checkDocForm turns the form into a document, or says what is wrong
// with each field.
func (s *Server) checkDocForm(c *fiber.Ctx, f *docForm, isNew bool) (content.Document, map[string]string) {
	ctx := c.UserContext()
	errs := map[string]string{}
	d := content.Document{ID: content.DocID(f.ID), Title: f.Title, Issuer: f.Issuer, Category: f.Category, Body: f.Body}
	for _, v := range []string{f.ID, f.Title, f.Issuer, f.Effective, f.Category, f.Body} {
		if !utf8.ValidString(v) {
			errs[""] = "未保存：表单含有无效的字符（不是 UTF-8 文本）"
			return d, errs
		}
	}
	if isNew {
		switch _, err := s.cfg.Content.Document(ctx, d.ID); {
		case d.ID == "":
			errs["id"] = "请填写编号，例如 doc-food-business-new"
		case err == nil:
			errs["id"] = "该编号已被使用，请换一个"
		case !errors.Is(err, content.ErrNotFound):
			errs[""] = "未保存：暂时无法检查编号，请稍后再试"
		}
	}
	for _, fld := range []struct{ name, v, msg string }{
		{"title", f.Title, "请填写标题"}, {"issuer", f.Issuer, "请填写发布机关"}, {"category", f.Category, "请选择分类"},
	} {
		if fld.v == "" {
			errs[fld.name] = fld.msg
		} else if strings.Contains(fld.v, "\n") {
			errs[fld.name] = "只能写一行"
		}
	}
	if date, err := content.ParseDate(f.Effective); err != nil {
		errs["effective"] = "请填写施行日期，格式为 2026-03-01"
	} else {
		d.Effective = date
	}
	if strings.TrimSpace(f.Body) == "" {
		errs["body"] = "请填写正文"
	}
	if len(errs) == 0 {
		if err := d.Validate(); err != nil {
			var fe *content.FieldError
			if errors.As(err, &fe) {
				errs[docField(fe.Field)] = fe.Reason
			} else {
				errs[""] = "未保存：内容无效"
			}
		}
	}
	if len(errs) == 0 && !isNew && f.Base > 0 {
		if msg := s.savedSince(c, content.KindDocument, f.ID, &f.Base, "文件"); msg != "" {
			errs[""] = "未保存：" + msg
		}
	}
	return d, errs
}

// Why an upload is refused, in the editors' words.
const (
	msgUploadNone   = "请选择要上传的文件"
	msgUploadType   = "目前只接受 Markdown（.md）或纯文本（.txt）文件。Word（.docx）和 PDF 文件请先另存为纯文本，或把正文复制到下方的表单中"
	msgUploadSize   = "文件超过 %s，请拆分后再上传"
	msgUploadUTF8   = "文件不是 UTF-8 编码的文本。请在编辑器中“另存为”UTF-8 编码后再上传"
	msgUploadBinary = "文件含有不可见的控制字符，不像是文本文件"
	msgUploadFM     = "文件开头的 YAML 信息（--- 之间的部分）无法读取：%s。已把全文放入正文，请检查"
)

// uploadDoc answers POST /edit/docs/upload (multipart: file, csrf): a
// Markdown or plain-text file is read into the document form, shown for
// checking; nothing is stored until the editor saves it.
func (s *Server) uploadDoc(c *fiber.Ctx) error {
	refuse := func(msg string) error {
		return s.docFormPage(c, fiber.StatusUnprocessableEntity, docPage{New: true, Errors: map[string]string{"file": msg}}, docForm{})
	}
	fh, err := c.FormFile("file")
	if err != nil || fh.Size == 0 {
		return refuse(msgUploadNone)
	}
	name := path.Base(strings.ReplaceAll(fh.Filename, "\\", "/"))
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".md", ".markdown", ".txt":
	default:
		return refuse(msgUploadType)
	}
	if fh.Size > maxUpload {
		return refuse(fmt.Sprintf(msgUploadSize, "1 MB"))
	}
	file, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open upload: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(file, maxUpload+1))
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("read upload: %w", err)
	}
	if len(data) > maxUpload {
		return refuse(fmt.Sprintf(msgUploadSize, "1 MB"))
	}
	f, problem := readDocFile(name, data)
	switch problem {
	case msgUploadUTF8, msgUploadBinary:
		return refuse(problem)
	}
	page := docPage{New: true, Preview: true, Upload: name}
	if problem != "" {
		page.Errors = map[string]string{"": problem}
	}
	s.cfg.Log.Info("document uploaded for preview", "file", name, "bytes", len(data))
	return s.docFormPage(c, fiber.StatusOK, page, f)
}

// docFileKeys are the front matter keys a document file may fill in.
var docFileKeys = []string{"id", "title", "issuer", "effective", "category"}

var (
	notIDChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	firstTitle = regexp.MustCompile(`(?m)^#\s+(.+?)\s*#*\s*$`)
)

// readDocFile reads an uploaded file into the document form: a Markdown
// file's YAML front matter fills the fields it names (the rest of the
// file is the body, byte for byte); otherwise the whole file is the
// body, the title its first heading and the id its file name. problem
// is what the editor must know ("" for none; msgUploadUTF8 and
// msgUploadBinary refuse the file).
func readDocFile(name string, data []byte) (f docForm, problem string) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM, as Windows' Notepad writes
	if !utf8.Valid(data) {
		return f, msgUploadUTF8
	}
	if bytes.ContainsFunc(data, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\r' && r != '\t' }) {
		return f, msgUploadBinary
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	f.Body = text
	if rest, ok := strings.CutPrefix(text, "---\n"); ok {
		if fm, body, ok := strings.Cut(rest, "\n---\n"); ok {
			var values map[string]any
			if err := yaml.Unmarshal([]byte(fm), &values); err != nil {
				return f, fmt.Sprintf(msgUploadFM, "不是有效的 YAML")
			}
			f.Body = strings.TrimLeft(body, "\n")
			var unknown []string
			for k, v := range values {
				val := strings.TrimSpace(fmt.Sprint(v))
				if v == nil {
					val = ""
				}
				switch k {
				case "id":
					f.ID = val
				case "title":
					f.Title = val
				case "issuer":
					f.Issuer = val
				case "effective":
					if t, ok := v.(interface{ Format(string) string }); ok {
						val = t.Format("2006-01-02") // YAML reads a bare date as a time
					}
					f.Effective = val
				case "category":
					f.Category = val
				default:
					unknown = append(unknown, k)
				}
			}
			if len(unknown) > 0 {
				problem = "文件开头的信息中有本系统不用的键：" + strings.Join(unknown, "、") + "（已忽略；可用的键：" + strings.Join(docFileKeys, "、") + "）"
			}
		}
	}
	if f.ID == "" {
		id := strings.Trim(notIDChars.ReplaceAllString(strings.TrimSuffix(name, path.Ext(name)), "-"), "-._")
		if id != "" {
			f.ID = "doc-" + strings.TrimPrefix(strings.ToLower(id), "doc-")
		}
	}
	if f.Title == "" {
		if m := firstTitle.FindStringSubmatch(f.Body); m != nil {
			f.Title = m[1]
		}
	}
	return f, problem
}
