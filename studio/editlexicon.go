package studio

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"govlive/accounts"
	"govlive/content"
)

// lexiconFile is one lexicon file as the pages offer it: its name in the
// URL (the file name without lexicon/), and what it is for.
type lexiconFile struct {
	Name, Path, Title, About string
	Lines                    int
	Missing                  bool
}

// lexiconAbout says what each lexicon file holds, in the pack's order.
var lexiconAbout = map[string][2]string{
	content.SynonymsFile: {"同义词", "每行一组同义说法，第一个词是标准说法；检索时把观众的说法换成标准说法。只有一个词的行是专有名词，检索时整体看待。"},
	content.IntentsFile:  {"意图提示词与敏感词", "机器人判断评论属于哪种情况（个人信息、紧急、投诉、个人办件、要求人工…）时用到的提示词，以及需要屏蔽的说法。"},
	content.RepliesFile:  {"回复用语", "机器人对观众说的固定用语：转人工、暂时无法回答、隐私提醒等。"},
	content.ExamplesFile: {"意图示例", "每种意图的示例评论，用来检查和训练意图判断。"},
}

// lexiconPath is the store's name of the file name in the URL, or "".
func lexiconPath(name string) string {
	p := "lexicon/" + name
	if slices.Contains(content.LexiconFiles, p) {
		return p
	}
	return ""
}

// editLexiconList answers GET /edit/lexicon: the lexicon files.
func (s *Server) editLexiconList(c *fiber.Ctx) error {
	var files []lexiconFile
	for _, p := range content.LexiconFiles {
		f := lexiconFile{Name: strings.TrimPrefix(p, "lexicon/"), Path: p, Title: lexiconAbout[p][0], About: lexiconAbout[p][1]}
		text, err := s.cfg.Content.LexiconFile(c.UserContext(), p)
		switch {
		case errors.Is(err, content.ErrNotFound):
			f.Missing = true
		case err != nil:
			return err
		default:
			f.Lines = strings.Count(text, "\n")
		}
		files = append(files, f)
	}
	d := struct {
		pageData
		Files []lexiconFile
	}{s.base(c, "词表"), files}
	s.notice(c, &d.pageData)
	return s.render(c, fiber.StatusOK, "edit-lexicon-list", d)
}

// lexiconPage is a lexicon file's text with its revisions.
type lexiconPage struct {
	pageData
	File      lexiconFile
	Text      string
	Base      int64
	Problem   string // why the text was refused, beside it
	Revisions []revisionRow
}

// editLexicon answers GET /edit/lexicon/:file.
func (s *Server) editLexicon(c *fiber.Ctx) error {
	p := lexiconPath(c.Params("id"))
	if p == "" {
		return fmt.Errorf("lexicon %q: %w", c.Params("id"), content.ErrNotFound)
	}
	text, err := s.cfg.Content.LexiconFile(c.UserContext(), p)
	if err != nil && !errors.Is(err, content.ErrNotFound) {
		return err
	}
	return s.lexiconFormPage(c, fiber.StatusOK, p, text, 0, "")
}

func (s *Server) lexiconFormPage(c *fiber.Ctx, status int, p, text string, base int64, problem string) error {
	f := lexiconFile{Name: strings.TrimPrefix(p, "lexicon/"), Path: p, Title: lexiconAbout[p][0], About: lexiconAbout[p][1]}
	d := lexiconPage{pageData: s.base(c, "词表 "+f.Title), File: f, Text: text, Base: base, Problem: problem}
	s.notice(c, &d.pageData)
	if problem != "" {
		d.Error = "未保存：" + problem
	}
	revs, err := s.cfg.Content.Revisions(c.UserContext(), content.KindLexicon, p)
	if err != nil {
		return err
	}
	d.Revisions = s.revisionRows(c, revs)
	if d.Base == 0 && len(revs) > 0 {
		d.Base = revs[0].ID
	}
	return s.render(c, status, "edit-lexicon", d)
}

// saveLexicon answers POST /edit/lexicon/:file (fields text, base): the
// text is checked by content.Store.PutLexiconFile and stored with the
// user as the revision's actor, or comes back as typed with the reason.
func (s *Server) saveLexicon(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p := lexiconPath(c.Params("id"))
	if p == "" {
		return fmt.Errorf("lexicon %q: %w", c.Params("id"), content.ErrNotFound)
	}
	// the text as typed, line ends as "\n" (spaces kept: a file's own)
	text := strings.Clone(strings.ReplaceAll(c.FormValue("text"), "\r\n", "\n"))
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	base, _ := strconv.ParseInt(c.FormValue("base"), 10, 64)
	refuse := func(msg string) error {
		return s.lexiconFormPage(c, fiber.StatusUnprocessableEntity, p, text, base, msg)
	}
	if !utf8.ValidString(text) {
		return refuse("内容含有无效的字符（不是 UTF-8 文本）")
	}
	if base > 0 {
		revs, err := s.cfg.Content.Revisions(ctx, content.KindLexicon, p)
		if err != nil {
			return err
		}
		if len(revs) > 0 && revs[0].ID != base {
			msg := fmt.Sprintf("打开本页后，%s 于 %s 保存了该文件。请先在新窗口查看其修改，再决定是否覆盖（再次保存即覆盖）",
				s.actorName(c, revs[0].Actor), revs[0].At.In(chinaTime).Format("15:04:05"))
			return s.lexiconFormPage(c, fiber.StatusConflict, p, text, revs[0].ID, msg)
		}
	}
	actor, ok := accounts.ActorFromContext(ctx)
	if !ok {
		return errLogin
	}
	changed, err := s.cfg.Content.PutLexiconFile(ctx, p, text, actor)
	var pe *content.PackError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if pe.Key != "" {
			msg = "“" + pe.Key + "”：" + msg
		}
		if lines := strings.Split(text, "\n"); pe.Line > 0 && pe.Line <= len(lines) {
			line := []rune(strings.TrimSpace(lines[pe.Line-1]))
			if len(line) > 40 {
				line = append(line[:40], '…')
			}
			msg = fmt.Sprintf("第 %d 行“%s”：%s", pe.Line, string(line), msg)
		} else if pe.Line > 0 {
			msg = fmt.Sprintf("第 %d 行：%s", pe.Line, msg)
		}
		return refuse(msg)
	}
	if errors.Is(err, content.ErrInvalid) {
		return refuse(err.Error())
	}
	if err != nil {
		return err
	}
	s.cfg.Log.Info("lexicon saved", "file", p, "user", actor, "changed", changed)
	done := "saved"
	if !changed {
		done = "unchanged"
	}
	return c.Redirect("/edit/lexicon/"+url.PathEscape(strings.TrimPrefix(p, "lexicon/"))+"?done="+done, fiber.StatusSeeOther)
}

// lexiconRevisions are the lexicon files' revisions.
func (s *Server) lexiconRevisions() revisioned {
	type lexiconText struct {
		Text string `json:"text"`
	}
	return revisioned{kind: content.KindLexicon, path: "/edit/lexicon/", noun: "词表文件",
		itemID: func(id string) string { return "lexicon/" + id },
		fields: func(raw json.RawMessage) ([]field, error) {
			return decodeItem(raw, func(t *lexiconText) []field {
				var text string
				if t != nil {
					text = strings.TrimSuffix(t.Text, "\n")
				}
				return []field{{"内容", textLines(text)}}
			})
		},
		current: func(c *fiber.Ctx, id string) (json.RawMessage, error) {
			return currentItem(func() (lexiconText, error) {
				p := lexiconPath(id)
				if p == "" {
					return lexiconText{}, fmt.Errorf("lexicon %q: %w", id, content.ErrNotFound)
				}
				text, err := s.cfg.Content.LexiconFile(c.UserContext(), p)
				return lexiconText{Text: text}, err
			})
		},
	}
}
