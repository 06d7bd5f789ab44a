// Package compose writes the chat bot's grounded answers: a short reply
// to a viewer's question that a language model writes, through any
// OpenAI-compatible chat completions endpoint (vLLM, Ollama's /v1,
// DeepSeek, Qwen's compatible mode) with github.com/sashabaranov/go-openai,
// from numbered document passages only, citing the passages it used.
//
// The Writer never receives a viewer's raw text: the question it is given
// is already masked (ID numbers, phone numbers, bank cards and the like
// replaced) — the pipeline masks before it searches, and so before it
// composes — and so nothing personal is sent to the endpoint.
//
// An answer that cites no passage, cites one that was not given, says
// the passages do not answer the question, or was cut off is refused
// with an error; the caller then replies with the extractive answer (the
// cited passage itself).
package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	goopenai "github.com/sashabaranov/go-openai"

	"govlive/retrieval/openai"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxTokens   = 300
	DefaultTemperature = 0.2
)

// MaxChars is the length, in characters, the model is asked to keep its
// answer within.
const MaxChars = 150

// NotInPassages is what the model is told to answer when the passages do
// not answer the question.
const NotInPassages = "资料中没有相关内容"

// maxMessage caps how much of a server's error message goes into an error.
const maxMessage = 512

var (
	// ErrInvalidConfig means a Config is missing a required field or has
	// an out-of-range value.
	ErrInvalidConfig = errors.New("invalid compose config")
	// ErrNoCitation means the answer is not usable as a grounded answer:
	// it cites no passage, cites a number that is not a given passage, or
	// says the passages do not answer the question (NotInPassages); also
	// returned, without a request, when there are no passages.
	ErrNoCitation = errors.New("answer cites no given passage")
	// ErrTruncated means the model reached Config.MaxTokens before it
	// finished the answer.
	ErrTruncated = errors.New("answer cut off at the token limit")
	// ErrUnauthorized means the server refused the API key (HTTP 401 or 403).
	ErrUnauthorized = errors.New("chat endpoint refused the credentials")
	// ErrRateLimited means the server asked the client to slow down (HTTP 429).
	ErrRateLimited = errors.New("chat endpoint rate limited the request")
	// ErrTimeout means the request ran past the caller's deadline or
	// Config.Timeout; such errors also wrap context.DeadlineExceeded.
	ErrTimeout = errors.New("chat request timed out")
	// ErrStatus means the server answered with another HTTP error status
	// (400, 404, 5xx, …) or sent an error in the stream.
	ErrStatus = errors.New("chat endpoint returned an error")
	// ErrBadResponse means the server answered but the answer is unusable:
	// an undecodable stream, one that ended before the answer finished,
	// or one stopped for another reason than its end (a content filter).
	ErrBadResponse = errors.New("bad chat response")
)

// Config configures a Writer.
type Config struct {
	// BaseURL is the API root including the version, e.g.
	// "http://127.0.0.1:8000/v1"; requests go to
	// BaseURL+"/chat/completions".
	BaseURL string
	// Model is the chat model name the server knows.
	Model string
	// APIKey is sent as "Authorization: Bearer <APIKey>"; empty sends no
	// Authorization header (Ollama, local vLLM). It is never logged or
	// put in an error.
	APIKey string
	// Timeout bounds each request; zero means DefaultTimeout. The caller's
	// deadline, usually much shorter, applies too.
	Timeout time.Duration
	// MaxTokens is the most tokens the model may write; zero means
	// DefaultMaxTokens.
	MaxTokens int
	// Temperature is the sampling temperature, 0 to 2; zero means
	// DefaultTemperature (OpenAI-compatible clients cannot send 0).
	Temperature float32
	// Log receives one debug record per answer, without the question or
	// the key; nil discards.
	Log *slog.Logger
}

// Validate reports whether c can build a Writer. The errors wrap
// ErrInvalidConfig.
func (c Config) Validate() error {
	if c.BaseURL == "" {
		return fmt.Errorf("%w: BaseURL is required", ErrInvalidConfig)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: BaseURL %q is not an http(s) URL", ErrInvalidConfig, openai.RedactURL(c.BaseURL))
	}
	if strings.TrimSpace(c.Model) == "" {
		return fmt.Errorf("%w: Model is required", ErrInvalidConfig)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: Timeout %s is negative", ErrInvalidConfig, c.Timeout)
	}
	if c.MaxTokens < 0 {
		return fmt.Errorf("%w: MaxTokens %d is negative", ErrInvalidConfig, c.MaxTokens)
	}
	if math.IsNaN(float64(c.Temperature)) || c.Temperature < 0 || c.Temperature > 2 {
		return fmt.Errorf("%w: Temperature %v is outside 0–2", ErrInvalidConfig, c.Temperature)
	}
	return nil
}

// String describes c with the API key redacted.
func (c Config) String() string {
	return fmt.Sprintf("compose.Config{BaseURL: %q, Model: %q, APIKey: %s, Timeout: %s, MaxTokens: %d, Temperature: %v}",
		openai.RedactURL(c.BaseURL), c.Model, openai.KeyState(c.APIKey), c.Timeout, c.MaxTokens, c.Temperature)
}

// GoString is String, so that %#v does not print the API key either.
func (c Config) GoString() string { return c.String() }

// LogValue describes c for log/slog with the API key redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", openai.RedactURL(c.BaseURL)),
		slog.String("model", c.Model),
		slog.String("api_key", openai.KeyState(c.APIKey)),
		slog.Duration("timeout", c.Timeout),
		slog.Int("max_tokens", c.MaxTokens),
		slog.Float64("temperature", float64(c.Temperature)),
	)
}

// Passage is one numbered source the model may answer from.
type Passage struct {
	// Label names the source as the viewer sees it, e.g. "《食品经营许可管理办法》第三条".
	Label string
	// Text is the passage itself.
	Text string
}

// Answer is what the model wrote.
type Answer struct {
	// Text is the answer as streamed, citation markers included.
	Text string
	// Cited are the 1-based numbers of the given passages the answer
	// cites, ascending, each once.
	Cited []int
}

// Writer writes grounded answers through an OpenAI-compatible
// POST {BaseURL}/chat/completions. It is safe for concurrent use.
type Writer struct {
	cfg    Config // defaults applied
	client *goopenai.Client
	log    *slog.Logger
}

// New checks cfg, fills in defaults and returns a Writer. It sends no
// request.
func New(cfg Config) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxTokens == 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.Temperature == 0 {
		cfg.Temperature = DefaultTemperature
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cc := goopenai.DefaultConfig(cfg.APIKey)
	cc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Writer{cfg: cfg, client: goopenai.NewClientWithConfig(cc), log: log}, nil
}

// String describes w with the API key redacted.
func (w *Writer) String() string { return "compose.Writer{" + w.cfg.String() + "}" }

// GoString is String, so that %#v does not print the API key either.
func (w *Writer) GoString() string { return w.String() }

// LogValue describes w for log/slog with the API key redacted.
func (w *Writer) LogValue() slog.Value { return w.cfg.LogValue() }

// Answer asks the model to answer question from passages, streaming:
// onDelta (if not nil) receives each piece of text as it arrives, in
// order, on the calling goroutine. question must already be masked (see
// the package comment).
//
// The answer is checked when the stream ends: it must cite at least one
// of the passages (as [1], ［1］ or 【1】, also [1,2]) and nothing else,
// and not say NotInPassages, or Answer returns ErrNoCitation together
// with what was written, for the log; the caller then falls back to the
// extractive reply (and retracts what onDelta showed). The caller's
// deadline ends the request wherever it is — waiting for the first byte
// or between pieces — with an error wrapping ErrTimeout and
// context.DeadlineExceeded; the stream is closed before Answer returns.
func (w *Writer) Answer(ctx context.Context, question string, passages []Passage, onDelta func(string)) (Answer, error) {
	start := time.Now()
	a, deltas, finish, err := w.answer(ctx, question, passages, onDelta)
	log := w.log.With("model", w.cfg.Model, "passages", len(passages), "deltas", deltas,
		"chars", utf8.RuneCountInString(a.Text), "cited", a.Cited, "finish", finish, "elapsed", time.Since(start))
	if err != nil {
		log.DebugContext(ctx, "compose answer failed", "err", err)
		return a, fmt.Errorf("compose answer with %q: %w", w.cfg.Model, err)
	}
	log.DebugContext(ctx, "compose answer")
	return a, nil
}

// answer does Answer's work; it also returns how many deltas arrived and
// the finish reason, for the log.
func (w *Writer) answer(ctx context.Context, question string, passages []Passage, onDelta func(string)) (Answer, int, string, error) {
	if len(passages) == 0 {
		return Answer{}, 0, "", fmt.Errorf("%w: no passages to answer from", ErrNoCitation)
	}
	if err := ctx.Err(); err != nil {
		return Answer{}, 0, "", w.classify(ctx, err)
	}
	rctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	stream, err := w.client.CreateChatCompletionStream(rctx, goopenai.ChatCompletionRequest{
		Model:       w.cfg.Model,
		Messages:    messages(question, passages),
		MaxTokens:   w.cfg.MaxTokens,
		Temperature: w.cfg.Temperature,
	})
	if err != nil {
		return Answer{}, 0, "", w.classify(rctx, err)
	}
	defer func() {
		if err := stream.Close(); err != nil {
			w.log.Debug("compose: close stream", "err", w.scrubbed(err))
		}
	}()
	var text strings.Builder
	var finish goopenai.FinishReason
	deltas := 0
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) && rctx.Err() == nil {
			break
		}
		if err != nil {
			return Answer{Text: text.String()}, deltas, string(finish), w.classify(rctx, err)
		}
		for _, c := range resp.Choices {
			if c.Index != 0 {
				continue // only one choice is asked for
			}
			if c.Delta.Content != "" {
				deltas++
				text.WriteString(c.Delta.Content)
				if onDelta != nil {
					onDelta(c.Delta.Content)
				}
			}
			if c.FinishReason != "" {
				finish = c.FinishReason
			}
		}
	}
	a := Answer{Text: text.String()}
	switch finish {
	case goopenai.FinishReasonStop:
	case goopenai.FinishReasonLength:
		return a, deltas, string(finish), fmt.Errorf("%w (max tokens %d)", ErrTruncated, w.cfg.MaxTokens)
	case "":
		return a, deltas, "", fmt.Errorf("%w: the stream ended before the answer finished", ErrBadResponse)
	default:
		return a, deltas, string(finish), fmt.Errorf("%w: finish reason %q", ErrBadResponse, finish)
	}
	cited, stray := Citations(a.Text, len(passages))
	a.Cited = cited
	switch {
	case strings.Contains(a.Text, "资料中没有"):
		return a, deltas, string(finish), fmt.Errorf("%w: the model says the passages do not answer", ErrNoCitation)
	case len(stray) > 0:
		return a, deltas, string(finish), fmt.Errorf("%w: cites %v, only 1–%d were given", ErrNoCitation, stray, len(passages))
	case len(cited) == 0:
		return a, deltas, string(finish), ErrNoCitation
	}
	return a, deltas, string(finish), nil
}

// systemPrompt tells the model how to answer.
var systemPrompt = strings.Join([]string{
	"你是政务服务中心直播间的答疑助手，回答观众在直播间提出的办事问题。",
	"只能根据用户消息中带编号的资料回答，不得使用资料以外的知识。",
	"要求：",
	"1. 用简体中文回答，简短，不超过" + strconv.Itoa(MaxChars) + "字。",
	"2. 每用到一条资料，就在用到它的句子后标注它的编号，如[1]、[2]；只标注给出的编号。",
	"3. 不得编造资料中没有的数字、费用、期限、时间、地址或电话。",
	"4. 如果资料不能回答这个问题，只回答“" + NotInPassages + "”。",
	"5. 问题中的“*”是为保护隐私遮盖的个人信息，不要猜测或复述。",
}, "\n")

// messages are the chat messages Answer sends: the system prompt, then
// the question and the numbered passages.
func messages(question string, passages []Passage) []goopenai.ChatCompletionMessage {
	var b strings.Builder
	b.WriteString("问题：")
	b.WriteString(strings.TrimSpace(question))
	b.WriteString("\n\n资料：")
	for i, p := range passages {
		fmt.Fprintf(&b, "\n\n[%d] %s\n%s", i+1, strings.TrimSpace(p.Label), strings.TrimSpace(p.Text))
	}
	return []goopenai.ChatCompletionMessage{
		{Role: goopenai.ChatMessageRoleSystem, Content: systemPrompt},
		{Role: goopenai.ChatMessageRoleUser, Content: b.String()},
	}
}

// Citations finds the citation markers in text — [n], ［n］ or 【n】,
// with ASCII or full-width digits, several numbers in one marker
// separated by commas or 、 — and returns the numbers within 1..n
// (ascending, each once) and those outside it (likewise).
func Citations(text string, n int) (cited, stray []int) {
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		closing, ok := brackets[rs[i]]
		if !ok {
			continue
		}
		end := slices.Index(rs[i+1:], closing)
		if end < 0 {
			continue
		}
		nums, ok := citationNumbers(rs[i+1 : i+1+end])
		if !ok {
			continue
		}
		for _, k := range nums {
			if k >= 1 && k <= n {
				cited = append(cited, k)
			} else {
				stray = append(stray, k)
			}
		}
		i += end + 1
	}
	slices.Sort(cited)
	slices.Sort(stray)
	return slices.Compact(cited), slices.Compact(stray)
}

// brackets maps each opening citation bracket to its closing one.
var brackets = map[rune]rune{'[': ']', '［': '］', '【': '】'}

// citationNumbers reads the inside of a bracket as a list of numbers;
// false if it is anything else.
func citationNumbers(inner []rune) ([]int, bool) {
	var nums []int
	for _, field := range strings.FieldsFunc(string(inner), func(r rune) bool {
		return r == ',' || r == '，' || r == '、'
	}) {
		field = strings.TrimSpace(field)
		if field == "" || utf8.RuneCountInString(field) > 4 {
			return nil, false
		}
		k := 0
		for _, r := range field {
			switch {
			case r >= '0' && r <= '9':
				k = k*10 + int(r-'0')
			case r >= '０' && r <= '９':
				k = k*10 + int(r-'０')
			default:
				return nil, false
			}
		}
		nums = append(nums, k)
	}
	return nums, len(nums) > 0
}

// Sources is the line the reply ends with: "来源：" and the labels of the
// cited passages in order, joined by "、", each label once; "" when a
// cites none of passages.
func Sources(a Answer, passages []Passage) string {
	var labels []string
	for _, k := range a.Cited {
		if k < 1 || k > len(passages) {
			continue
		}
		l := strings.TrimSpace(passages[k-1].Label)
		if l != "" && !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	if len(labels) == 0 {
		return ""
	}
	return "来源：" + strings.Join(labels, "、")
}

// classify maps an error from go-openai to one wrapping a sentinel, with
// the HTTP status and the server's message and without the API key.
// rctx is the context the request ran under: once it has ended, the
// error is its end, whatever the transport made of it.
func (w *Writer) classify(rctx context.Context, err error) error {
	if cerr := rctx.Err(); cerr != nil {
		if errors.Is(cerr, context.DeadlineExceeded) {
			return fmt.Errorf("%w (request timeout %s or the caller's deadline): %w", ErrTimeout, w.cfg.Timeout, cerr)
		}
		return cerr
	}
	// RequestError first: when go-openai cannot read an error body it
	// returns a RequestError that wraps an empty APIError with no status,
	// which errors.As would find too.
	var reqErr *goopenai.RequestError
	var apiErr *goopenai.APIError
	switch {
	case errors.As(err, &reqErr):
		return w.statusError(reqErr.HTTPStatusCode, openai.ServerMessage(reqErr.Body))
	case errors.As(err, &apiErr):
		return w.statusError(apiErr.HTTPStatusCode, apiErr.Message)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return fmt.Errorf("%w: %w", ErrTimeout, w.scrubbed(err))
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return w.scrubbed(err) // the request did not get an answer
	}
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &syntaxErr) || errors.As(err, &typeErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, goopenai.ErrTooManyEmptyStreamMessages) {
		return fmt.Errorf("%w: decode: %s", ErrBadResponse, w.redact(err.Error()))
	}
	return w.scrubbed(err)
}

// statusError builds the error for an HTTP error status; code 0 is an
// error event inside a stream.
func (w *Writer) statusError(code int, msg string) error {
	kind := ErrStatus
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		kind = ErrUnauthorized
	case http.StatusTooManyRequests:
		kind = ErrRateLimited
	}
	msg = w.redact(openai.Truncate(strings.TrimSpace(msg), maxMessage))
	where := fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
	if code == 0 {
		where = "error in the stream"
	}
	if msg == "" {
		return fmt.Errorf("%w: %s", kind, where)
	}
	return fmt.Errorf("%w: %s: %s", kind, where, msg)
}

// redact removes the API key from s.
func (w *Writer) redact(s string) string { return openai.Redact(s, w.cfg.APIKey) }

// scrubbed keeps err for errors.Is and errors.As but, if its text holds
// the API key, shows a redacted text instead.
func (w *Writer) scrubbed(err error) error { return openai.Scrub(err, w.cfg.APIKey) }
