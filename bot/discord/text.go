package discord

import (
	"fmt"
	"strings"

	"govlive/bot"
	"govlive/content"
)

// What the bot says in Discord, besides the pipeline's replies.
const (
	textUnavailable  = "抱歉，小助手暂时无法处理您的消息，请稍后再试。"
	textUnbound      = "本频道尚未绑定直播场次。请频道管理员使用 /govlive bind 绑定后再提问。"
	textGuildOnly    = "请在服务器的频道中使用此命令。"
	textNoPermission = "只有拥有“管理频道”权限的成员才能绑定直播场次。"
	textBindFailed   = "暂时无法绑定，请稍后再试。"
	textAnswering    = "小助手正在回答，请稍候……"
	textEmpty        = "请输入问题。"
	textWithdrawn    = "（该回复已被撤回）"
	textPII          = "为保护隐私，已隐藏个人信息"
)

func textNoSession(id string) string {
	return fmt.Sprintf("找不到场次 %s，请检查场次ID。", id)
}

func textBound(id content.SessionID) string {
	return fmt.Sprintf("本频道已绑定直播场次 %s。观众可以直接在这里提问，或使用 /ask 提问。", id)
}

// maxContent is Discord's limit on a message's content, in characters.
const maxContent = 2000

// piiRepost is what replaces a viewer's message that held personal data.
func piiRepost(nick, masked string) string {
	return clip(fmt.Sprintf("%s。**%s**：%s", textPII, escape(nick), masked))
}

// askText shows an /ask question in the interaction's response.
func askText(nick, masked string, pii bool) string {
	s := fmt.Sprintf("**%s** 问：%s", escape(nick), masked)
	if pii {
		s += "\n（" + textPII + "）"
	}
	return s
}

// replyText is a bot reply as posted: its text and its source.
func replyText(p bot.Post) string {
	s := p.Text
	if p.Source != nil && p.Source.Label != "" {
		s += "\n来源：" + p.Source.Label
	}
	return s
}

// clip shortens s to Discord's limit.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= maxContent {
		return s
	}
	return string(r[:maxContent-1]) + "…"
}

var markdown = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, `~`, `\~`, "`", "\\`", `|`, `\|`, `>`, `\>`)

// escape keeps a nickname from being read as markdown.
func escape(s string) string { return markdown.Replace(s) }
