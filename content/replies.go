package content

import (
	"errors"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// RepliesFile holds the texts the chat bot says to viewers: editors change
// them like the rest of the lexicon. A text left out keeps its default.
const RepliesFile = "lexicon/replies.yaml"

// Replies are the bot's texts. {name} in a text is filled in by the bot:
// {source}, {passage}, {nick}, {quote}, {max}, {until}, {minutes}.
type Replies struct {
	FAQSource string            `yaml:"faq_source" json:"faq_source"` // after a standard answer: 来源：{source}
	Document  string            `yaml:"document" json:"document"`     // a quoted passage: 根据{source}：{passage}
	Repeat    string            `yaml:"repeat" json:"repeat"`         // a later asker of an answered question
	Generated string            `yaml:"generated" json:"generated"`   // after a model's answer
	Empty     string            `yaml:"empty" json:"empty"`           // a message with nothing to answer
	Escalate  map[string]string `yaml:"escalate" json:"escalate"`     // by reason: pii, urgent, complaint, personal_case, human_request, low_confidence
	Decline   map[string]string `yaml:"decline" json:"decline"`       // by reason: chitchat, out_of_scope
	// Notices go to one viewer only.
	TooLong     string `yaml:"too_long" json:"too_long"`
	Muted       string `yaml:"muted" json:"muted"`
	MutedAll    string `yaml:"muted_session" json:"muted_session"`
	RateLimited string `yaml:"rate_limited" json:"rate_limited"`
	Moderated   string `yaml:"moderated" json:"moderated"`
	Loading     string `yaml:"loading" json:"loading"` // a message sent while the knowledge index loads
	Clarify     string `yaml:"clarify" json:"clarify"` // near tie: which entry was meant ({options}: "1. …" lines)
}

// DefaultReplies are the texts used where the replies file says nothing.
var DefaultReplies = Replies{
	FAQSource: "来源：{source}",
	Document:  "根据{source}：\n{passage}",
	Repeat:    "@{nick} 这个问题刚刚已解答：“{quote}”",
	Generated: "（以上由智能助手根据所引文件归纳，以原文为准）",
	Empty:     "您好！请直接输入想咨询的办事问题，例如“新办食品经营许可要什么材料”。",
	Escalate: map[string]string{
		"pii":            "为保护您的隐私，留言中的个人信息已隐藏，请不要在评论区公开身份证号、手机号等。您的问题已转给直播帮办专员，会尽快私下与您联系。",
		"urgent":         "已将您的紧急情况优先转给直播帮办专员和现场工作人员处理。如遇人身安全危险，请立即拨打 110 或 120。",
		"complaint":      "您的反映已记录并转给监督人员核实处理，主播会在直播中跟进，处理结果会告知您。",
		"personal_case":  "您说的是个人办件的具体情况，已转给直播帮办专员，主播会在直播中为您查询处理，请留意。",
		"human_request":  "好的，已为您转接直播帮办专员，主播稍后会在直播中回应您。",
		"low_confidence": "这个问题需要工作人员进一步确认，已转给主播，稍后在直播中为您解答。",
	},
	Decline: map[string]string{
		"chitchat":     "感谢您的关注！本直播间解答政务服务办事问题，欢迎提问。",
		"out_of_scope": "抱歉，这个问题不在本直播间的服务范围内，建议拨打 12345 政务服务便民热线咨询。",
	},
	TooLong:     "消息太长了，请控制在 {max} 个字以内。",
	Muted:       "您已被禁言，{until} 后可再发言。",
	MutedAll:    "您在本场直播中已被禁言。",
	RateLimited: "发言太频繁，已被禁言 {minutes} 分钟。",
	Moderated:   "您的消息未通过审核，未公开显示。",
	Loading:     "问答机器人正在加载知识库，请稍后再发送。",
	Clarify:     "您想问的是：\n{options}\n请回复序号。",
}

var replyKeys = []string{"faq_source", "document", "repeat", "generated", "empty", "escalate", "decline",
	"too_long", "muted", "muted_session", "rate_limited", "moderated", "loading", "clarify"}

// ParseReplies reads replies.yaml over the defaults: unknown keys, and
// texts that are empty or longer than 500 characters, are errors.
func ParseReplies(text string) (Replies, error) {
	r := DefaultReplies.clone()
	if strings.TrimSpace(text) == "" {
		return r, nil
	}
	if !utf8.ValidString(text) {
		return r, &PackError{File: RepliesFile, Err: errors.New("不是有效的 UTF-8 文本")}
	}
	root, err := yamlDocument([]byte(text))
	if err != nil {
		return r, withPackFile(RepliesFile, err)
	}
	if len(root.Content) == 0 {
		return r, nil
	}
	m := root.Content[0]
	if err := checkKeys(m, replyKeys, ""); err != nil {
		return r, withPackFile(RepliesFile, err)
	}
	var got Replies
	if err := m.Decode(&got); err != nil {
		return r, withPackFile(RepliesFile, yamlError(err))
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		bad := func(key string, n *yaml.Node) error {
			return &PackError{File: RepliesFile, Line: n.Line, Key: key, Err: errors.New("应是一段非空文字，不超过 500 个字")}
		}
		check := func(key string, n *yaml.Node) error {
			if n.Kind != yaml.ScalarNode || strings.TrimSpace(n.Value) == "" || utf8.RuneCountInString(n.Value) > 500 {
				return bad(key, n)
			}
			return nil
		}
		if k.Value == "escalate" || k.Value == "decline" {
			if v.Kind != yaml.MappingNode {
				return r, &PackError{File: RepliesFile, Line: k.Line, Key: k.Value, Err: errors.New("应是按原因给出的文字")}
			}
			allowed := []string{"chitchat", "out_of_scope"}
			if k.Value == "escalate" {
				allowed = []string{"pii", "urgent", "complaint", "personal_case", "human_request", "low_confidence"}
			}
			if err := checkKeys(v, allowed, k.Value+"."); err != nil {
				return r, withPackFile(RepliesFile, err)
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				if err := check(k.Value+"."+v.Content[j].Value, v.Content[j+1]); err != nil {
					return r, err
				}
			}
			continue
		}
		if err := check(k.Value, v); err != nil {
			return r, err
		}
	}
	r.merge(got)
	return r, nil
}

func (r Replies) clone() Replies {
	c := r
	c.Escalate = make(map[string]string, len(r.Escalate))
	for k, v := range r.Escalate {
		c.Escalate[k] = v
	}
	c.Decline = make(map[string]string, len(r.Decline))
	for k, v := range r.Decline {
		c.Decline[k] = v
	}
	return c
}

func (r *Replies) merge(o Replies) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&r.FAQSource, o.FAQSource)
	set(&r.Document, o.Document)
	set(&r.Repeat, o.Repeat)
	set(&r.Generated, o.Generated)
	set(&r.Empty, o.Empty)
	set(&r.TooLong, o.TooLong)
	set(&r.Muted, o.Muted)
	set(&r.MutedAll, o.MutedAll)
	set(&r.RateLimited, o.RateLimited)
	set(&r.Moderated, o.Moderated)
	set(&r.Loading, o.Loading)
	set(&r.Clarify, o.Clarify)
	for k, v := range o.Escalate {
		r.Escalate[k] = v
	}
	for k, v := range o.Decline {
		r.Decline[k] = v
	}
}

// Fill replaces each {name} in text by its value in vars.
func Fill(text string, vars ...string) string {
	if len(vars) == 0 || !strings.Contains(text, "{") {
		return text
	}
	pairs := make([]string, 0, len(vars))
	for i := 0; i+1 < len(vars); i += 2 {
		pairs = append(pairs, "{"+vars[i]+"}", vars[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(text)
}
