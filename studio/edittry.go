package studio

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"govlive/bot"
	"govlive/content"
	"govlive/retrieval"
)

// actionWords and reasonWords say what the bot decided and why, as the
// editors read it.
var (
	actionWords = map[bot.Action]string{
		bot.ActionAnswer:   "自动回答",
		bot.ActionEscalate: "转给主播或工作人员",
		bot.ActionDecline:  "不回答（礼貌回复）",
		bot.ActionModerate: "隐藏或处理该消息",
	}
	reasonWords = map[bot.Reason]string{
		bot.ReasonPII:           "消息含有个人信息，已遮盖，由工作人员跟进",
		bot.ReasonUrgent:        "情况紧急，需要人工马上处理",
		bot.ReasonComplaint:     "投诉，需要人工受理",
		bot.ReasonPersonalCase:  "涉及个人的具体办件，需要人工查询",
		bot.ReasonHumanRequest:  "观众要求人工服务",
		bot.ReasonLowConfidence: "知识库中没有足够把握的答案",
		bot.ReasonFAQ:           "匹配到常见问题，用其标准答案回答",
		bot.ReasonClarify:       "几条常见问题同样接近，请观众选择",
		bot.ReasonDocument:      "常见问题中没有，引用政策文件的段落回答",
		bot.ReasonOutOfScope:    "不属于本中心的事项",
		bot.ReasonChitchat:      "闲聊或问候，无需回答",
		bot.ReasonAbuse:         "含有辱骂等不当言论",
		bot.ReasonSpam:          "广告或刷屏",
	}
)

// tryHit is one search hit as the try box shows it.
type tryHit struct {
	Rank                int
	Kind, ID, Title     string
	Link                string // the FAQ entry's edit page, or the document's
	Confidence, Lexical string
	BM25, Vector        string
	Matched             string
	Spans               []string
	Missing             []string
	InScope, Chosen     bool
}

// tryResult is what the try box shows for a question.
type tryResult struct {
	Action, Reason, ReasonCode string
	Reply                      string
	Confidence                 string
	Mode, Query                string
	Cue, Masked                string
	Intent                     string
	Hidden                     bool
	PII                        int
	FAQ, Docs                  []tryHit
	Options                    []string
	Warnings                   []string
	Terms, Salient, Foreign    []string
	Coverage                   string
}

type tryPageData struct {
	pageData
	Question string
	Result   *tryResult
}

// tryPage answers GET /edit/try: the box.
func (s *Server) tryPage(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "edit-try", tryPageData{pageData: s.base(c, "试一试机器人")})
}

// tryAsk answers POST /edit/try (field question): what the bot would
// answer and why — the same decision POST /api/ask explains, outside any
// session.
func (s *Server) tryAsk(c *fiber.Ctx) error {
	q := strings.TrimSpace(strings.Clone(c.FormValue("question")))
	d := tryPageData{pageData: s.base(c, "试一试机器人"), Question: q}
	switch {
	case q == "":
		d.Error = "请输入一个问题"
	case !utf8.ValidString(q):
		d.Error = "问题须为 UTF-8 文本"
	case utf8.RuneCountInString(q) > maxQuestion:
		d.Error = fmt.Sprintf("问题不能超过 %d 个字", maxQuestion)
	case s.cfg.Bot == nil:
		d.Error = "机器人尚未就绪（知识库正在加载），请稍后再试"
	}
	if d.Error != "" {
		return s.render(c, fiber.StatusUnprocessableEntity, "edit-try", d)
	}
	dec, err := s.cfg.Bot.Explain(c.UserContext(), bot.Message{Text: q})
	if errors.Is(err, ErrNotReady) {
		d.Error = "知识库正在加载，请稍后再试"
		return s.render(c, fiber.StatusServiceUnavailable, "edit-try", d)
	}
	if err != nil {
		return fmt.Errorf("try: %w", err)
	}
	rep := content.DefaultReplies
	if s.cfg.Replies != nil {
		rep = s.cfg.Replies()
	}
	d.Result = tryResultOf(NewAskAnswer(dec, rep))
	return s.render(c, fiber.StatusOK, "edit-try", d)
}

func tryResultOf(a AskAnswer) *tryResult {
	r := &tryResult{Action: actionWords[a.Action], Reason: reasonWords[a.Reason], ReasonCode: string(a.Reason),
		Reply: a.Reply, Confidence: percent(a.Confidence), Mode: a.Mode, Cue: a.Cue, Masked: a.Masked,
		Hidden: a.Hidden, PII: len(a.PII)}
	if r.Action == "" {
		r.Action = string(a.Action)
	}
	if r.Reason == "" {
		r.Reason = string(a.Reason)
	}
	if a.Intent != nil {
		r.Intent = fmt.Sprintf("%s（%s）", a.Intent.Class, percent(a.Intent.P))
	}
	for _, o := range a.Options {
		if o.FAQ != nil {
			r.Options = append(r.Options, o.FAQ.Question)
		}
	}
	if a.Search == nil {
		return r
	}
	r.Query, r.Coverage = a.Search.Query, percent(a.Search.Coverage)
	r.Terms, r.Salient, r.Foreign = a.Search.Terms, a.Search.Salient, a.Search.Foreign
	for _, w := range a.Search.Warnings {
		r.Warnings = append(r.Warnings, w.String())
	}
	hit := func(i int, h retrieval.Hit) tryHit {
		t := tryHit{Rank: i + 1, ID: h.ID, Confidence: percent(h.Confidence), Lexical: fmt.Sprintf("%.3f", h.Lexical),
			BM25: fmt.Sprintf("%.2f", h.BM25), Matched: h.Matched, Spans: h.Spans, Missing: h.Missing, InScope: h.InScope}
		if h.Vector != 0 {
			t.Vector = fmt.Sprintf("%.3f", h.Vector)
		}
		switch {
		case h.FAQ != nil:
			t.Kind, t.Title, t.Link = "常见问题", h.FAQ.Question, "/edit/faq/"+string(h.FAQ.ID)
			t.Chosen = a.FAQ != nil && a.FAQ.ID == h.FAQ.ID
		case h.Chunk != nil:
			t.Kind, t.Title, t.Link = "文件段落", h.Chunk.Citation(), "/edit/docs/"+string(h.Chunk.DocID)
			t.Chosen = a.Hit != nil && a.Hit.ID == h.ID
		}
		return t
	}
	for i, h := range a.Search.FAQ {
		r.FAQ = append(r.FAQ, hit(i, h))
	}
	for i, h := range a.Search.Docs {
		r.Docs = append(r.Docs, hit(i, h))
	}
	return r
}

func percent(p float64) string { return fmt.Sprintf("%.0f%%", p*100) }
