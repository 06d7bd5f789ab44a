package studio

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"govlive/cases"
)

// CaseDesk is the case queue of live assisted handling (cases.Store).
type CaseDesk interface {
	Get(ctx context.Context, id cases.ID) (cases.Case, error)
	List(ctx context.Context, f cases.Filter) ([]cases.Case, error)
	Counts(ctx context.Context, session string) (map[cases.State]int, error)
	Claim(ctx context.Context, id cases.ID, anchor string) (cases.Case, error)
	OnAir(ctx context.Context, id cases.ID, anchor string) (cases.Case, error)
	Resolve(ctx context.Context, id cases.ID, actor, note string) (cases.Case, error)
	Refer(ctx context.Context, id cases.ID, actor, to, note string) (cases.Case, error)
	Rate(ctx context.Context, id cases.ID, actor string, r cases.Rating, note string) (cases.Case, error)
}

var _ CaseDesk = (*cases.Store)(nil)

// caseRoutes mounts the case queue of a session, for its anchors.
func (s *Server) caseRoutes(api fiber.Router) {
	api.Get("/cases", s.anchorOnly, s.listCases)
	api.Get("/cases/:cid", s.anchorOnly, s.getCase)
	api.Post("/cases/:cid/:action", s.anchorOnly, s.moveCase)
}

// listCases answers GET /api/sessions/:id/cases?state=open,claimed&after=&limit=.
func (s *Server) listCases(c *fiber.Ctx) error {
	f := cases.Filter{Session: c.Params("id")}
	if v := c.Query("state"); v != "" {
		for _, st := range strings.Split(v, ",") {
			if !cases.State(st).Valid() {
				return badRequest("state 应为 open、claimed、on_air、resolved、referred（可用逗号分隔多个）")
			}
			f.States = append(f.States, cases.State(st))
		}
	}
	after, err := queryInt(c, "after", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", cases.DefaultLimit, 1, cases.MaxLimit)
	if err != nil {
		return err
	}
	f.After, f.Limit = cases.ID(after), limit
	list, err := s.cfg.Cases.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	counts, err := s.cfg.Cases.Counts(c.UserContext(), f.Session)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"cases": nonNil(list), "counts": counts})
}

// sessionCase is the case named in the URL, if it belongs to the session.
func (s *Server) sessionCase(c *fiber.Ctx) (cases.Case, error) {
	id, err := strconv.ParseInt(c.Params("cid"), 10, 64)
	if err != nil || id <= 0 {
		return cases.Case{}, badRequest("帮办事项编号无效")
	}
	cs, err := s.cfg.Cases.Get(c.UserContext(), cases.ID(id))
	if err == nil && cs.Session != c.Params("id") {
		err = cases.ErrNotFound
	}
	return cs, err
}

func (s *Server) getCase(c *fiber.Ctx) error {
	cs, err := s.sessionCase(c)
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

// CaseRequest is the body of POST /api/sessions/:id/cases/:cid/ACTION:
// claim, on_air, resolve {note}, refer {to, note}, rate {rating, note}.
type CaseRequest struct {
	Note   string        `json:"note,omitempty"`
	To     string        `json:"to,omitempty"`
	Rating *cases.Rating `json:"rating,omitempty"`
}

func (s *Server) moveCase(c *fiber.Ctx) error {
	cs, err := s.sessionCase(c)
	if err != nil {
		return err
	}
	var req CaseRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req, `{"note": "说明", "to": "转办窗口或部门", "rating": 1 到 5 或“非常满意”等}`); err != nil {
			return err
		}
	}
	ctx, who := c.UserContext(), anchorName(c)
	switch c.Params("action") {
	case "claim":
		cs, err = s.cfg.Cases.Claim(ctx, cs.ID, who)
	case "on_air":
		cs, err = s.cfg.Cases.OnAir(ctx, cs.ID, who)
	case "resolve":
		cs, err = s.cfg.Cases.Resolve(ctx, cs.ID, who, req.Note)
	case "refer":
		cs, err = s.cfg.Cases.Refer(ctx, cs.ID, who, req.To, req.Note)
	case "rate":
		if req.Rating == nil {
			return badRequest("须给出 rating：1 到 5，或 非常满意、满意、基本满意、不满意、非常不满意")
		}
		cs, err = s.cfg.Cases.Rate(ctx, cs.ID, who, *req.Rating, req.Note)
	default:
		return &statusError{fiber.StatusNotFound, "操作应为 claim、on_air、resolve、refer 或 rate"}
	}
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

// caseStatus maps the case queue's errors (statusOf asks it).
func caseStatus(err error) (int, string, bool) {
	var ie *cases.IllegalError
	switch {
	case errors.As(err, &ie):
		return fiber.StatusConflict, ie.Error(), true
	case errors.Is(err, cases.ErrNotFound):
		return fiber.StatusNotFound, "找不到该帮办事项", true
	case errors.Is(err, cases.ErrInvalid):
		return fiber.StatusBadRequest, "帮办事项的请求无效：转办须写明窗口或部门，评价为 1 到 5（非常不满意 … 非常满意）", true
	}
	return 0, "", false
}
