package openai

import (
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// What the clients of OpenAI-compatible endpoints here (the Embedder, and
// the chat bot's bot/compose) share to keep an API key out of every text
// they show, and to read an endpoint's error message.

// Redacted replaces the API key wherever it would otherwise be shown.
const Redacted = "[REDACTED]"

// KeyState says whether a key is set without showing it.
func KeyState(key string) string {
	if key == "" {
		return "(none)"
	}
	return Redacted
}

// RedactURL hides a password embedded in a URL.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// Redact removes key from s.
func Redact(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, Redacted)
}

// Scrub keeps err for errors.Is and errors.As but, if its text holds key,
// shows a redacted text instead.
func Scrub(err error, key string) error {
	msg := err.Error()
	if red := Redact(msg, key); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

// redactedError is an error whose text has had the API key removed.
type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.err }

// ServerMessage pulls the human-readable message out of an error body
// that go-openai could not read as {"error": {"message": …}}: vLLM's
// top-level {"message": …}, {"error": "…"}, or else the body itself.
func ServerMessage(body []byte) string {
	var v struct {
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil {
		if v.Message != "" {
			return v.Message
		}
		var s string
		if json.Unmarshal(v.Error, &s) == nil && s != "" {
			return s
		}
		var obj struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(v.Error, &obj) == nil && obj.Message != "" {
			return obj.Message
		}
	}
	return string(body)
}

// Truncate shortens s to at most n bytes on a rune boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
