package studio

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"govlive/content"
	"govlive/stream"
	"govlive/stream/record"
)

// Pagination defaults of the list endpoints.
const (
	defaultPerPage = 20
	maxPerPage     = 100
)

// requestError is a bad request whose message (Chinese) is shown as is.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...)}
}

// errorHandler is the one place where errors become HTTP answers.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	status, msg := statusOf(err)
	setSecurityHeaders(c) // also on answers that never reached the middleware
	if status >= 500 && !errors.Is(err, ErrNotReady) {
		s.cfg.Log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	if status == fiber.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, "5")
	}
	return c.Status(status).JSON(fiber.Map{"error": msg})
}

// statusOf maps an error to an HTTP status and the message users see.
// Internal details stay in the log.
func statusOf(err error) (int, string) {
	var (
		fe  *fiber.Error
		re  *requestError
		se  *statusError
		fld *content.FieldError
	)
	if status, msg, ok := chatStatus(err); ok {
		return status, msg
	}
	if status, msg, ok := caseStatus(err); ok {
		return status, msg
	}
	if status, msg, ok := accountStatus(err); ok {
		return status, msg
	}
	switch {
	case errors.As(err, &re):
		return fiber.StatusBadRequest, re.msg
	case errors.As(err, &se):
		return se.status, se.msg
	case errors.Is(err, stream.ErrUnauthorized):
		return fiber.StatusUnauthorized, "推流令牌缺失、无效或已撤销"
	case errors.Is(err, stream.ErrNotFound):
		return fiber.StatusNotFound, "找不到该直播场次或连接"
	case errors.Is(err, record.ErrNotFound):
		return fiber.StatusNotFound, "找不到该录像"
	case errors.Is(err, stream.ErrPrecondition):
		return fiber.StatusPreconditionFailed, "If-Match 与该连接的 ETag 不符"
	case errors.Is(err, stream.ErrRestartUnsupported):
		return fiber.StatusUnprocessableEntity, "不支持 ICE 重启，请重新推流或观看"
	case errors.Is(err, stream.ErrNoVideo):
		return fiber.StatusUnprocessableEntity, "无法使用 SDP 中的视频：bundle-only 的 m 行须列在 a=group:BUNDLE 中（为免只有声音没有画面，已拒绝）"
	case errors.Is(err, stream.ErrUnsupported):
		return fiber.StatusUnprocessableEntity, "无法协商音视频：视频须为 VP8 或 H264（packetization-mode=1），音频须为 Opus"
	case errors.Is(err, stream.ErrInvalid):
		return fiber.StatusBadRequest, "SDP 请求无效"
	case errors.Is(err, stream.ErrEdge):
		return fiber.StatusConflict, "这是边缘节点，只能观看；请向源站推流"
	case errors.Is(err, stream.ErrFull):
		return fiber.StatusServiceUnavailable, "观看人数已满，请稍后再试"
	case errors.Is(err, stream.ErrOrigin):
		return fiber.StatusBadGateway, "源站暂不可用，请稍后再试"
	case errors.Is(err, stream.ErrClosed):
		return fiber.StatusServiceUnavailable, "直播服务正在关闭"
	case errors.Is(err, ErrNotReady):
		return fiber.StatusServiceUnavailable, "知识库正在加载，请稍后再试"
	case errors.As(err, &fld):
		return fiber.StatusBadRequest, "内容无效：" + fld.Error()
	case errors.Is(err, content.ErrNotFound):
		return fiber.StatusNotFound, "找不到该内容"
	case errors.Is(err, content.ErrInUse):
		return fiber.StatusConflict, "该内容正被引用，不能删除"
	case errors.Is(err, content.ErrInvalid):
		return fiber.StatusBadRequest, "内容无效"
	case errors.As(err, &fe):
		switch fe.Code {
		case fiber.StatusNotFound:
			return fe.Code, "找不到该地址"
		case fiber.StatusMethodNotAllowed:
			return fe.Code, "不支持该请求方法"
		case fiber.StatusRequestEntityTooLarge:
			return fe.Code, "请求内容过大"
		}
		if fe.Code < 500 {
			return fe.Code, "请求无效"
		}
		return fe.Code, "服务暂不可用"
	}
	return fiber.StatusInternalServerError, "服务器内部错误，请稍后再试"
}

// listQuery is what every list endpoint reads from the query string:
// ?page= (from 1), ?per_page= (1–100) and ?category=.
type listQuery struct {
	page     content.Page
	num, per int
	category string
}

func parseListQuery(c *fiber.Ctx) (listQuery, error) {
	num := func(name string, def, lo, hi int) (int, error) {
		v := c.Query(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, badRequest("参数 %s 应为 %d 到 %d 之间的整数", name, lo, hi)
		}
		return n, nil
	}
	var (
		q   listQuery
		err error
	)
	if q.num, err = num("page", 1, 1, 1_000_000); err != nil {
		return q, err
	}
	if q.per, err = num("per_page", defaultPerPage, 1, maxPerPage); err != nil {
		return q, err
	}
	q.page = content.Page{Limit: q.per, Offset: (q.num - 1) * q.per}
	cat := strings.TrimSpace(c.Query("category"))
	if !utf8.ValidString(cat) || utf8.RuneCountInString(cat) > 100 {
		return q, badRequest("参数 category 无效")
	}
	q.category = strings.Clone(cat) // fiber's buffer is reused after the handler
	return q, nil
}

// listBody is the shape of every list answer.
type listBody[T any] struct {
	Items   []T `json:"items"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
	Total   int `json:"total"`
}

func listAnswer[T any](c *fiber.Ctx, q listQuery, items []T, total int) error {
	return c.JSON(listBody[T]{Items: items, Page: q.num, PerPage: q.per, Total: total})
}

func (s *Server) listFAQ(c *fiber.Ctx) error {
	q, err := parseListQuery(c)
	if err != nil {
		return err
	}
	items, total, err := s.cfg.Content.ListFAQ(c.UserContext(),
		content.FAQFilter{Category: q.category, Status: content.StatusPublished}, q.page)
	if err != nil {
		return err
	}
	return listAnswer(c, q, items, total)
}

func (s *Server) getFAQ(c *fiber.Ctx) error {
	e, err := s.cfg.Content.FAQ(c.UserContext(), content.FAQID(strings.Clone(c.Params("id"))))
	if err != nil {
		return err
	}
	if e.Status != content.StatusPublished {
		return fmt.Errorf("faq %s is a draft: %w", e.ID, content.ErrNotFound)
	}
	return c.JSON(e)
}

func (s *Server) listDocuments(c *fiber.Ctx) error {
	q, err := parseListQuery(c)
	if err != nil {
		return err
	}
	docs, total, err := s.cfg.Content.ListDocumentInfo(c.UserContext(), content.DocumentFilter{Category: q.category}, q.page)
	if err != nil {
		return err
	}
	return listAnswer(c, q, docs, total)
}

func (s *Server) getDocument(c *fiber.Ctx) error {
	d, err := s.cfg.Content.Document(c.UserContext(), content.DocID(strings.Clone(c.Params("id"))))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) listSessions(c *fiber.Ctx) error {
	q, err := parseListQuery(c)
	if err != nil {
		return err
	}
	items, total, err := s.cfg.Content.ListSessions(c.UserContext(),
		content.SessionFilter{Category: q.category, PublicOnly: true}, q.page)
	if err != nil {
		return err
	}
	return listAnswer(c, q, items, total)
}

// getSession answers a session as viewers see it: its segments do not
// link draft FAQ entries (nor does the list of sessions). A private one is
// only for its anchors (viewSession).
func (s *Server) getSession(c *fiber.Ctx) error {
	ss, err := s.viewSession(c, "id")
	if err != nil {
		return err
	}
	return c.JSON(ss)
}
