package studio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"govlive/bot"
	"govlive/content"
	"govlive/stream"
)

// Chat is the live chat of the sessions (bot.Pipeline): what the viewers'
// read API and the anchors' API use.
type Chat interface {
	History(ctx context.Context, session content.SessionID, after bot.MessageID, limit int) ([]bot.Post, error)
	State(ctx context.Context, session content.SessionID) (bot.SessionState, error)
	Posts(ctx context.Context, session content.SessionID, f bot.PostFilter) ([]bot.Post, error)
	Clusters(ctx context.Context, session content.SessionID, since time.Duration, limit int) ([]bot.Cluster, error)
	Hide(ctx context.Context, session content.SessionID, id bot.MessageID, by string) (bot.Post, error)
	Mute(ctx context.Context, session content.SessionID, viewer, nick, by string, d time.Duration) (bot.Mute, error)
	Unmute(ctx context.Context, session content.SessionID, viewer, by string) (bot.Mute, error)
	Pin(ctx context.Context, session content.SessionID, text, by string) error
	SetSegment(ctx context.Context, session content.SessionID, n int, by string) error
}

var _ Chat = (*bot.Pipeline)(nil)

// chatRoutes mounts the chat: the viewers' read API and websocket, and
// the anchors' API (every anchor route asks for a publishing token of
// the session: Authorization: Bearer, or ?token= on a websocket).
func (s *Server) chatRoutes() {
	api := s.app.Group("/api/sessions/:id")
	api.Get("/chat", s.chatHistory)
	if s.cfg.ChatSocket != nil {
		api.Get("/chat/ws", s.viewerSocket, s.cfg.ChatSocket)
	}
	api.Get("/clusters", s.anchorOnly, s.listClusters)
	api.Get("/messages", s.anchorOnly, s.listMessages)
	api.Post("/messages/:mid/hide", s.anchorOnly, s.hideMessage)
	api.Post("/mutes", s.anchorOnly, s.muteViewer)
	api.Delete("/mutes/:viewer", s.anchorOnly, s.unmuteViewer)
	api.Put("/pinned", s.anchorOnly, s.pin)
	api.Put("/segment", s.anchorOnly, s.setSegment)
	if s.cfg.ConsoleSocket != nil {
		api.Get("/events/ws", s.anchorOnly, s.cfg.ConsoleSocket)
	}
	if s.cfg.Cases != nil {
		s.caseRoutes(api)
	}
}

// anchorKey is where anchorOnly leaves the anchor's name.
const anchorKey = "govlive.anchor"

// anchorOnly lets a request through only from an anchor of the session
// in its URL: the login of a user linked to one of its anchors, or of an
// admin (loggedInAnchor), else a live publishing token of the session;
// the anchor's name is then in c.Locals.
func (s *Server) anchorOnly(c *fiber.Ctx) error {
	id := content.SessionID(strings.Clone(c.Params("id")))
	if _, err := s.cfg.Content.ViewerSession(c.UserContext(), id); err != nil {
		return err
	}
	if name, ok, err := s.loggedInAnchor(c, id); err != nil {
		return err
	} else if ok {
		c.Locals(anchorKey, name)
		return c.Next()
	}
	token, ok := bearerToken(c.Get(fiber.HeaderAuthorization))
	if !ok {
		token = c.Query("token")
	}
	if token == "" && c.Locals(csrfFailedKey) != nil {
		return errCSRF
	}
	if u, ok := currentUser(c); ok && token == "" {
		return fmt.Errorf("user %s is no anchor of session %s: %w", u.Name, id, errForbidden)
	}
	if token == "" || s.cfg.Anchors == nil {
		return &statusError{fiber.StatusUnauthorized, "需要该场次主播的推流令牌（Authorization: Bearer）"}
	}
	anchor, err := s.cfg.Anchors.Authorize(c.UserContext(), stream.SessionID(id), token)
	if err != nil {
		return err
	}
	c.Locals(anchorKey, anchor)
	return c.Next()
}

func anchorName(c *fiber.Ctx) string {
	name, _ := c.Locals(anchorKey).(string)
	return name
}

// viewerSocket checks that the session may be watched before the chat
// websocket takes the request.
func (s *Server) viewerSocket(c *fiber.Ctx) error {
	if _, err := s.viewSession(c, "id"); err != nil {
		return err
	}
	return c.Next()
}

// chatHistory answers GET /api/sessions/:id/chat?after=&limit=: the
// public posts and the pinned announcement, for a client without the
// websocket.
func (s *Server) chatHistory(c *fiber.Ctx) error {
	ss, err := s.viewSession(c, "id")
	if err != nil {
		return err
	}
	after, err := queryInt(c, "after", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	posts, err := s.cfg.Chat.History(c.UserContext(), ss.ID, bot.MessageID(after), limit)
	if err != nil {
		return err
	}
	st, err := s.cfg.Chat.State(c.UserContext(), ss.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"posts": nonNil(posts), "pinned": st.Pinned, "segment": st.Segment})
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func queryInt(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
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

// listClusters answers GET /api/sessions/:id/clusters?minutes=&limit=:
// the question board, by count and recency.
func (s *Server) listClusters(c *fiber.Ctx) error {
	minutes, err := queryInt(c, "minutes", 0, 0, 60*24*365)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	cs, err := s.cfg.Chat.Clusters(c.UserContext(), content.SessionID(c.Params("id")), time.Duration(minutes)*time.Minute, limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"clusters": nonNil(cs)})
}

var (
	actions = map[string]bool{"answer": true, "escalate": true, "decline": true, "moderate": true}
	reasons = map[string]bool{"pii": true, "urgent": true, "complaint": true, "personal_case": true, "human_request": true,
		"low_confidence": true, "faq": true, "document": true, "out_of_scope": true, "chitchat": true, "abuse": true, "spam": true}
)

// listMessages answers GET /api/sessions/:id/messages with the filters
// after, before, limit, action, reason, viewer, cluster, questions=1 and
// hidden=0 (leave out hidden posts).
func (s *Server) listMessages(c *fiber.Ctx) error {
	var f bot.PostFilter
	var err error
	num := func(name string, def, lo, hi int) int {
		if err != nil {
			return 0
		}
		var n int
		n, err = queryInt(c, name, def, lo, hi)
		return n
	}
	f.After = bot.MessageID(num("after", 0, 0, 1<<62))
	f.Before = bot.MessageID(num("before", 0, 0, 1<<62))
	f.Limit = num("limit", 100, 1, 1000)
	f.Cluster = bot.ClusterID(num("cluster", 0, 0, 1<<62))
	if err != nil {
		return err
	}
	if a := c.Query("action"); a != "" {
		if !actions[a] {
			return badRequest("action 应为 answer、escalate、decline 或 moderate")
		}
		f.Action = bot.Action(a)
	}
	if r := c.Query("reason"); r != "" {
		if !reasons[r] {
			return badRequest("未知的 reason：%s", r)
		}
		f.Reason = bot.Reason(r)
	}
	f.Viewer = c.Query("viewer")
	f.Questions = c.Query("questions") == "1"
	f.Public = c.Query("hidden") == "0"
	posts, err := s.cfg.Chat.Posts(c.UserContext(), content.SessionID(c.Params("id")), f)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"messages": nonNil(posts)})
}

func (s *Server) hideMessage(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("mid"), 10, 64)
	if err != nil || id <= 0 {
		return badRequest("消息编号无效")
	}
	p, err := s.cfg.Chat.Hide(c.UserContext(), content.SessionID(c.Params("id")), bot.MessageID(id), anchorName(c))
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// decodeJSON reads a JSON body into v, refusing unknown fields.
func decodeJSON(c *fiber.Ctx, v any, shape string) error {
	if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEApplicationJSON) {
		return &statusError{fiber.StatusUnsupportedMediaType, "请求的内容类型须为 application/json"}
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("请求体须为 JSON：%s", shape)
	}
	return nil
}

// MuteRequest is the body of POST /api/sessions/:id/mutes.
type MuteRequest struct {
	Viewer  string `json:"viewer"`
	Nick    string `json:"nick,omitempty"`
	Minutes int    `json:"minutes"` // 0: the rest of the session
}

func (s *Server) muteViewer(c *fiber.Ctx) error {
	var req MuteRequest
	if err := decodeJSON(c, &req, `{"viewer": "观众编号", "minutes": 分钟数（0 为本场）}`); err != nil {
		return err
	}
	if req.Viewer == "" || req.Minutes < 0 || req.Minutes > 24*60 {
		return badRequest("须给出 viewer，minutes 为 0 到 1440")
	}
	m, err := s.cfg.Chat.Mute(c.UserContext(), content.SessionID(c.Params("id")), req.Viewer, req.Nick, anchorName(c),
		time.Duration(req.Minutes)*time.Minute)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) unmuteViewer(c *fiber.Ctx) error {
	m, err := s.cfg.Chat.Unmute(c.UserContext(), content.SessionID(c.Params("id")), strings.Clone(c.Params("viewer")), anchorName(c))
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// PinRequest is the body of PUT /api/sessions/:id/pinned.
type PinRequest struct {
	Text string `json:"text"`
}

func (s *Server) pin(c *fiber.Ctx) error {
	var req PinRequest
	if err := decodeJSON(c, &req, `{"text": "公告（空则取消置顶）"}`); err != nil {
		return err
	}
	if !utf8.ValidString(req.Text) {
		return badRequest("公告须为 UTF-8 文本")
	}
	if err := s.cfg.Chat.Pin(c.UserContext(), content.SessionID(c.Params("id")), req.Text, anchorName(c)); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"pinned": strings.TrimSpace(req.Text)})
}

// SegmentRequest is the body of PUT /api/sessions/:id/segment.
type SegmentRequest struct {
	Segment int `json:"segment"`
}

func (s *Server) setSegment(c *fiber.Ctx) error {
	var req SegmentRequest
	if err := decodeJSON(c, &req, `{"segment": 环节序号（从 1 开始，0 为不限）}`); err != nil {
		return err
	}
	ss, err := s.cfg.Content.ViewerSession(c.UserContext(), content.SessionID(c.Params("id")))
	if err != nil {
		return err
	}
	if req.Segment < 0 || req.Segment > len(ss.Segments) {
		return badRequest("场次 %s 只有 %d 个环节", ss.ID, len(ss.Segments))
	}
	if err := s.cfg.Chat.SetSegment(c.UserContext(), ss.ID, req.Segment, anchorName(c)); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"segment": req.Segment})
}

// chatStatus maps the chat's errors (statusOf asks it).
func chatStatus(err error) (int, string, bool) {
	var ie *bot.InvalidError
	switch {
	case errors.Is(err, bot.ErrNoMessage):
		return fiber.StatusNotFound, "找不到该消息", true
	case errors.Is(err, bot.ErrStopped):
		return fiber.StatusServiceUnavailable, "聊天服务正在关闭", true
	case errors.As(err, &ie):
		return fiber.StatusBadRequest, ie.Msg, true
	}
	return 0, "", false
}
