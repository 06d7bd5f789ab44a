package studio

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"govlive/accounts"
	"govlive/content"
)

// Bounds of an uploaded pack zip: the upload itself (under the server's
// body limit), and what it may unpack to, counted as it is read (a zip's
// own sizes are not trusted).
const (
	maxPackUpload = 3 << 20  // bytes of the zip
	maxPackFiles  = 2000     // files in it
	maxPackBytes  = 32 << 20 // bytes unpacked, all files together
	maxPackFile   = 4 << 20  // bytes unpacked, one file
)

// packPage is the pack page: export, upload, and an upload's outcome.
type packPage struct {
	pageData
	Counts  content.Counts
	Report  *content.ImportReport
	Problem string // why an upload was refused (nothing was imported)
	File    string
}

// editPack answers GET /edit/pack.
func (s *Server) editPack(c *fiber.Ctx) error {
	return s.packPage(c, fiber.StatusOK, packPage{})
}

func (s *Server) packPage(c *fiber.Ctx, status int, d packPage) error {
	d.pageData = s.base(c, "内容包导入导出")
	var err error
	if d.Counts, err = s.cfg.Content.Counts(c.UserContext()); err != nil {
		return err
	}
	if d.Problem != "" {
		d.Error = "未导入，内容没有任何改动：" + d.Problem
	}
	if d.Report != nil {
		d.Notice = "已全部导入，每项改动都记录为一条修订"
	}
	return s.render(c, status, "edit-pack", d)
}

// exportPack answers GET /edit/pack/export: the whole content as a pack
// zip, the files govlive export writes.
func (s *Server) exportPack(c *fiber.Ctx) error {
	p, err := s.cfg.Content.Export(c.UserContext())
	if err != nil {
		return err
	}
	files, err := p.Files()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: s.cfg.Now()})
		if err != nil {
			return fmt.Errorf("export zip: %w", err)
		}
		if _, err := w.Write(files[name]); err != nil {
			return fmt.Errorf("export zip: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("export zip: %w", err)
	}
	name := "govlive-pack-" + s.cfg.Now().In(chinaTime).Format("20060102-1504") + ".zip"
	s.cfg.Log.Info("pack exported", "files", len(names), "bytes", buf.Len())
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Send(buf.Bytes())
}

// importPack answers POST /edit/pack/import (file field file): the zip
// is unpacked with its bounds checked into a temporary folder, read and
// checked by content.ReadPack and imported in one transaction by
// content.Store.Import, as govlive import does; if anything is wrong
// nothing is imported and the page says what, in Chinese.
func (s *Server) importPack(c *fiber.Ctx) error {
	ctx := c.UserContext()
	refuse := func(file, msg string) error {
		return s.packPage(c, fiber.StatusUnprocessableEntity, packPage{Problem: msg, File: file})
	}
	fh, err := c.FormFile("file")
	if err != nil || fh.Size == 0 {
		return refuse("", "请选择要上传的内容包（.zip 文件）")
	}
	name := path.Base(strings.ReplaceAll(fh.Filename, "\\", "/"))
	if !strings.EqualFold(path.Ext(name), ".zip") {
		return refuse(name, "只能上传 .zip 格式的内容包")
	}
	if fh.Size > maxPackUpload {
		return refuse(name, "文件超过 3 MB")
	}
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open upload: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPackUpload+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("read upload: %w", err)
	}
	if len(data) > maxPackUpload {
		return refuse(name, "文件超过 3 MB")
	}
	dir, err := os.MkdirTemp("", "govlive-pack-")
	if err != nil {
		return fmt.Errorf("import pack: %w", err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			s.cfg.Log.Error("remove unpacked pack", "dir", dir, "err", err)
		}
	}()
	if msg := unzipPack(data, dir); msg != "" {
		return refuse(name, msg)
	}
	p, err := content.ReadPack(os.DirFS(packRoot(dir)))
	if err != nil {
		if errors.Is(err, content.ErrPack) {
			return refuse(name, err.Error())
		}
		return err
	}
	actor, ok := accounts.ActorFromContext(ctx)
	if !ok {
		return errLogin
	}
	rep, err := s.cfg.Content.Import(ctx, p, actor, "网页导入 "+name)
	if err != nil {
		if errors.Is(err, content.ErrPack) || errors.Is(err, content.ErrInvalid) {
			return refuse(name, strings.TrimPrefix(err.Error(), "import: "))
		}
		return err
	}
	s.cfg.Log.Info("pack imported", "file", name, "user", actor, "faq", rep.FAQ, "documents", rep.Documents, "sessions", rep.Sessions)
	return s.packPage(c, fiber.StatusOK, packPage{Report: &rep, File: name})
}

// unzipPack writes the files of the zip data into dir, or says in
// Chinese why it will not: names that would leave dir (zip-slip),
// links, too many files or too many bytes unpacked (a zip bomb).
func unzipPack(data []byte, dir string) string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "不是有效的 zip 文件"
	}
	if len(zr.File) > maxPackFiles {
		return fmt.Sprintf("文件太多（最多 %d 个）", maxPackFiles)
	}
	var total int64
	for _, zf := range zr.File {
		name := zf.Name
		if strings.HasSuffix(name, "/") && zf.Mode().IsDir() {
			continue
		}
		if strings.Contains(name, "\\") || !fs.ValidPath(name) || strings.HasPrefix(name, "__MACOSX/") {
			if strings.HasPrefix(name, "__MACOSX/") {
				continue // the resource forks macOS adds
			}
			return fmt.Sprintf("文件名 %q 不允许（不能含有 ..、\\ 或以 / 开头）", name)
		}
		if !zf.Mode().IsRegular() {
			return fmt.Sprintf("%s 不是普通文件（不接受链接）", name)
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Sprintf("%s 无法解压：%v", name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxPackFile+1))
		rc.Close()
		if err != nil {
			return fmt.Sprintf("%s 无法解压：%v", name, err)
		}
		if len(b) > maxPackFile {
			return fmt.Sprintf("%s 解压后超过 4 MB", name)
		}
		if total += int64(len(b)); total > maxPackBytes {
			return "解压后总大小超过 32 MB"
		}
		out := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
			return fmt.Sprintf("%s 无法解压：%v", name, err)
		}
		if err := os.WriteFile(out, b, 0o600); err != nil {
			return fmt.Sprintf("%s 无法解压：%v", name, err)
		}
	}
	return ""
}

// packRoot is dir, or its one folder when the zip holds a pack folder
// rather than the pack's files (zipping the folder itself).
func packRoot(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || !entries[0].IsDir() {
		return dir
	}
	switch entries[0].Name() {
	case content.PackDocsDir, content.PackSessionsDir, "lexicon":
		return dir
	}
	return filepath.Join(dir, entries[0].Name())
}
