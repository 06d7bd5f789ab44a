package webchat

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	fws "github.com/fasthttp/websocket"

	"govlive/bot"
)

// inFrame is any client frame; which fields count depends on Type.
type inFrame struct {
	Type  string        `json:"type"`
	Nick  string        `json:"nick"`
	Key   string        `json:"key"`
	After bot.MessageID `json:"after"`
	Text  string        `json:"text"`
	Ref   string        `json:"ref"`
	ID    bot.MessageID `json:"id"`
	Up    *bool         `json:"up"`
	Level *int          `json:"level"` // 好差评 5 非常满意 … 1 非常不满意
}

type welcomeFrame struct {
	Type    string     `json:"type"`
	Viewer  string     `json:"viewer"`
	Nick    string     `json:"nick"`
	Pinned  string     `json:"pinned"`
	Segment int        `json:"segment"`
	History []bot.Post `json:"history"`
	Reset   bool       `json:"reset,omitempty"`
	// Rated is the viewer's own 好差评 level (1–5) of replies, by id.
	Rated map[bot.MessageID]int `json:"rated,omitempty"`
}

type eventFrame struct {
	Type  string    `json:"type"`
	Event bot.Event `json:"event"`
}

type ackFrame struct {
	Type    string        `json:"type"`
	Ref     string        `json:"ref"`
	ID      bot.MessageID `json:"id,omitempty"`
	Refused string        `json:"refused,omitempty"`
}

type errorFrame struct {
	Type  string `json:"type"`
	Error string `json:"error"`
}

type pongFrame struct {
	Type string `json:"type"`
}

// item is one frame queued for a connection, framed once for all.
type item struct {
	pm    *fws.PreparedMessage
	event bool          // counts as delivered
	post  bot.MessageID // a message event's post: skipped if history had it
}

// frameItem encodes v as a text frame. HTML is not escaped: texts travel
// as they are, as JSON strings.
func frameItem(v any) (item, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return item{}, fmt.Errorf("encode frame: %w", err)
	}
	pm, err := fws.NewPreparedMessage(fws.TextMessage, bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	if err != nil {
		return item{}, fmt.Errorf("prepare frame: %w", err)
	}
	return item{pm: pm}, nil
}

// viewerID derives a viewer's anonymous id from the browser's key.
func viewerID(secret []byte, key string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(key))
	return "w-" + hex.EncodeToString(m.Sum(nil)[:8])
}

// nickname cleans a chosen nickname: control and format characters
// removed, trimmed, at most maxNick runes; empty, "观众" and four digits
// of the viewer id.
func nickname(raw, viewer string) string {
	var b strings.Builder
	n := 0
	for _, r := range raw {
		if n == maxNick {
			break
		}
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if unicode.IsSpace(r) {
			r = ' '
		}
		if r == ' ' && (b.Len() == 0 || strings.HasSuffix(b.String(), " ")) {
			continue
		}
		b.WriteRune(r)
		n++
	}
	if s := strings.TrimSpace(b.String()); s != "" {
		return s
	}
	digits, _ := strconv.ParseUint(strings.TrimPrefix(viewer, "w-")[:4], 16, 32)
	return fmt.Sprintf("观众%04d", digits%10000)
}
