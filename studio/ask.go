package studio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"govlive/bot"
	"govlive/content"
)

// Asker answers one question the way the chat bot would, with the search
// hits behind the decision.
type Asker interface {
	Explain(ctx context.Context, m bot.Message) (bot.Decision, error)
}

var _ Asker = (*bot.Bot)(nil)

// ErrNotReady is what an Asker returns while the knowledge index is still
// loading: 503 with Retry-After.
var ErrNotReady = bot.ErrNotReady

// maxQuestion is the longest question POST /api/ask takes (the length a
// chat message may have).
const maxQuestion = 500

// AskRequest is the body of POST /api/ask.
type AskRequest struct {
	Question string `json:"question"`
	Session  string `json:"session,omitempty"`
	Segment  int    `json:"segment,omitempty"`
}

// AskAnswer is the answer of POST /api/ask: the search mode, the reply a
// viewer would get, and the whole decision (what "govlive ask --json"
// prints).
type AskAnswer struct {
	Mode  string `json:"mode"`
	Reply string `json:"reply"`
	bot.Decision
}

// NewAskAnswer is the answer to a decision, its reply worded by rep.
func NewAskAnswer(d bot.Decision, rep content.Replies) AskAnswer {
	a := AskAnswer{Reply: bot.ReplyText(d, rep), Decision: d}
	if d.Search != nil {
		a.Mode = d.Search.Mode
	}
	return a
}

// ask answers POST /api/ask {"question", "session", "segment"}.
func (s *Server) ask(c *fiber.Ctx) error {
	if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEApplicationJSON) {
		return &statusError{fiber.StatusUnsupportedMediaType, "请求的内容类型须为 application/json"}
	}
	var req AskRequest
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("请求体须为 JSON：{\"question\": \"问题\", \"session\": \"场次（可选）\", \"segment\": 环节序号（可选）}")
	}
	q := strings.TrimSpace(req.Question)
	switch {
	case q == "":
		return badRequest("问题不能为空")
	case !utf8.ValidString(q):
		return badRequest("问题须为 UTF-8 文本")
	case utf8.RuneCountInString(q) > maxQuestion:
		return badRequest("问题不能超过 %d 个字", maxQuestion)
	case req.Segment < 0 || (req.Segment > 0 && req.Session == ""):
		return badRequest("segment 须与 session 同时给出，从 1 开始")
	}
	if req.Session != "" {
		ss, err := s.viewSessionID(c, content.SessionID(req.Session))
		if err != nil {
			return err
		}
		if req.Segment > len(ss.Segments) {
			return badRequest("场次 %s 只有 %d 个环节", req.Session, len(ss.Segments))
		}
	}
	if s.cfg.Bot == nil {
		return ErrNotReady
	}
	d, err := s.cfg.Bot.Explain(c.UserContext(), bot.Message{Text: q, Session: content.SessionID(req.Session), Segment: req.Segment})
	if err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	rep := content.DefaultReplies
	if s.cfg.Replies != nil {
		rep = s.cfg.Replies()
	}
	return c.JSON(NewAskAnswer(d, rep))
}
