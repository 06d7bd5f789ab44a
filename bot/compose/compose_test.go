package compose_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"govlive/bot/compose"
	"govlive/logtest"
	"govlive/retrieval/openai/openaitest"
)

const (
	testKey   = "sk-compose-test-3c9d1e7f"
	testModel = "qwen2.5-7b-instruct"
	// maskedQ is a question as the pipeline hands it over: the phone
	// number masked.
	maskedQ = "我的手机号138****5678，开小餐馆要办食品经营许可证吗？"
)

// passages are two numbered sources of the tests.
var passages = []compose.Passage{
	{Label: "《食品经营许可和备案管理办法》第三条", Text: "在中华人民共和国境内从事食品销售和餐饮服务活动，应当依法取得食品经营许可。"},
	{Label: "《食品经营许可和备案管理办法》第十二条", Text: "申请食品经营许可，应当提交食品经营许可申请书、营业执照或者其他主体资格证明文件等材料。"},
}

// phone matches a mainland mobile number in the clear.
var phone = regexp.MustCompile(`1[3-9][0-9]{9}`)

// env is a stand-in model and a Writer pointed at it that logs at debug
// level into log.
type env struct {
	srv *openaitest.Server
	w   *compose.Writer
	log *logtest.Buffer
}

func newEnv(t *testing.T, reply openaitest.Reply) *env {
	t.Helper()
	srv := openaitest.New(t, openaitest.Options{Key: testKey, Models: []string{testModel}, Reply: reply})
	log := &logtest.Buffer{}
	w, err := compose.New(compose.Config{
		BaseURL: srv.URL(), Model: testModel, APIKey: testKey,
		Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &env{srv: srv, w: w, log: log}
}

// answer asks the question with the test passages and collects the
// deltas.
func (e *env) answer(ctx context.Context) (compose.Answer, []string, error) {
	var deltas []string
	a, err := e.w.Answer(ctx, maskedQ, passages, func(d string) { deltas = append(deltas, d) })
	return a, deltas, err
}

func TestAnswerStreams(t *testing.T) {
	const text = "从事餐饮服务应当依法取得食品经营许可[1]。"
	e := newEnv(t, openaitest.Reply{Text: text, Chunks: 5})
	a, deltas, err := e.answer(context.Background())
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	if want := openaitest.Split(text, 5); !slices.Equal(deltas, want) {
		t.Errorf("deltas: got %q, want %q in order", deltas, want)
	}
	if a.Text != text {
		t.Errorf("Text: got %q, want %q", a.Text, text)
	}
	if !slices.Equal(a.Cited, []int{1}) {
		t.Errorf("Cited: got %v, want [1]", a.Cited)
	}
	if got, want := compose.Sources(a, passages), "来源：《食品经营许可和备案管理办法》第三条"; got != want {
		t.Errorf("Sources: got %q, want %q", got, want)
	}
	reqs := e.srv.ChatRequests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if !r.Stream || r.Model != testModel || r.MaxTokens != compose.DefaultMaxTokens || r.Temperature != compose.DefaultTemperature {
		t.Errorf("request: stream %v, model %q, max_tokens %d, temperature %v; want true, %q, %d, %v",
			r.Stream, r.Model, r.MaxTokens, r.Temperature, testModel, compose.DefaultMaxTokens, compose.DefaultTemperature)
	}
}

// The request carries the question as given and the numbered passages,
// the system prompt the rules, and no phone number in the clear.
func TestAnswerRequest(t *testing.T) {
	e := newEnv(t, openaitest.Reply{Text: "需要办理[1][2]。"})
	if _, _, err := e.answer(context.Background()); err != nil {
		t.Fatalf("Answer: %v", err)
	}
	reqs := e.srv.ChatRequests()
	if len(reqs) != 1 || len(reqs[0].Messages) != 2 {
		t.Fatalf("got %+v, want one request of two messages", reqs)
	}
	system, user := reqs[0].Messages[0], reqs[0].Messages[1]
	if system.Role != "system" || user.Role != "user" {
		t.Errorf("roles: got %q, %q; want system, user", system.Role, user.Role)
	}
	for _, want := range []string{compose.NotInPassages, "150", "[1]", "不得编造"} {
		if !strings.Contains(system.Content, want) {
			t.Errorf("system prompt lacks %q:\n%s", want, system.Content)
		}
	}
	wantUser := []string{maskedQ}
	for i, p := range passages {
		wantUser = append(wantUser, fmt.Sprintf("[%d] %s\n%s", i+1, p.Label, p.Text))
	}
	for _, want := range wantUser {
		if !strings.Contains(user.Content, want) {
			t.Errorf("user message lacks %q:\n%s", want, user.Content)
		}
	}
	body := string(reqs[0].Body)
	if !strings.Contains(body, maskedQ) {
		t.Errorf("request body lacks the masked question:\n%s", body)
	}
	if m := phone.FindString(body); m != "" {
		t.Errorf("request body holds the phone number %s in the clear:\n%s", m, body)
	}
}

func TestAnswerCitations(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		wantCited []int
		wantErr   error
	}{
		{"one", "需要取得许可[1]。", []int{1}, nil},
		{"both, repeated", "需要许可[2]，餐饮也算[1][2]。", []int{1, 2}, nil},
		{"full-width", "需要许可［1］，材料见【２】。", []int{1, 2}, nil},
		{"list in one marker", "需要许可[1,2]。", []int{1, 2}, nil},
		{"none", "需要取得食品经营许可。", nil, compose.ErrNoCitation},
		{"out of range", "需要许可[7]。", nil, compose.ErrNoCitation},
		{"one in range, one not", "需要许可[1]，另见[7]。", []int{1}, compose.ErrNoCitation},
		{"zero", "需要许可[0]。", nil, compose.ErrNoCitation},
		{"not in the passages", compose.NotInPassages + "。", nil, compose.ErrNoCitation},
		{"not in the passages, with a marker", "资料中没有说明办理时限[1]。", []int{1}, compose.ErrNoCitation},
		{"brackets that are no citation", "请带[身份证]原件。", nil, compose.ErrNoCitation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, openaitest.Reply{Text: tt.text, Chunks: 3})
			a, _, err := e.answer(context.Background())
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Answer: got %v, want no error", err)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Answer: got %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(a.Cited, tt.wantCited) {
				t.Errorf("Cited: got %v, want %v", a.Cited, tt.wantCited)
			}
			if a.Text != tt.text {
				t.Errorf("Text: got %q, want %q (kept for the log)", a.Text, tt.text)
			}
		})
	}
}

func TestAnswerNoPassagesSendsNothing(t *testing.T) {
	e := newEnv(t, openaitest.Reply{Text: "[1]"})
	_, err := e.w.Answer(context.Background(), maskedQ, nil, nil)
	if !errors.Is(err, compose.ErrNoCitation) {
		t.Fatalf("Answer: got %v, want ErrNoCitation", err)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("got %d requests, want 0", n)
	}
}

func TestAnswerTruncated(t *testing.T) {
	e := newEnv(t, openaitest.Reply{Text: "需要取得许可[1]，并且", FinishReason: "length"})
	_, _, err := e.answer(context.Background())
	if !errors.Is(err, compose.ErrTruncated) {
		t.Fatalf("Answer: got %v, want ErrTruncated", err)
	}
}

func TestAnswerErrorStatus(t *testing.T) {
	const wrongKey = "sk-wrong-9a8b7c"
	tests := []struct {
		name     string
		key      string
		reply    openaitest.Reply
		want     error
		contains []string
	}{
		{"500", testKey, openaitest.Reply{Status: http.StatusInternalServerError, Message: "model crashed for key " + testKey},
			compose.ErrStatus, []string{"500", "model crashed"}},
		{"503", testKey, openaitest.Reply{Status: http.StatusServiceUnavailable}, compose.ErrStatus, []string{"503"}},
		{"429", testKey, openaitest.Reply{Status: http.StatusTooManyRequests, Message: "Rate limit reached"},
			compose.ErrRateLimited, []string{"429", "Rate limit"}},
		{"401 wrong key", wrongKey, openaitest.Reply{Text: "[1]"}, compose.ErrUnauthorized, []string{"401", "Incorrect API key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaitest.New(t, openaitest.Options{Key: testKey, Reply: tt.reply})
			log := &logtest.Buffer{}
			w, err := compose.New(compose.Config{BaseURL: srv.URL(), Model: testModel, APIKey: tt.key,
				Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			if err != nil {
				t.Fatal(err)
			}
			called := false
			_, err = w.Answer(context.Background(), maskedQ, passages, func(string) { called = true })
			if !errors.Is(err, tt.want) {
				t.Fatalf("Answer: got %v, want %v", err, tt.want)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q: does not contain %q", err, s)
				}
			}
			if called {
				t.Errorf("onDelta was called for a failed request")
			}
			for _, key := range []string{testKey, wrongKey} {
				if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), key) {
					t.Errorf("error %q: contains the API key", err)
				}
				if strings.Contains(log.String(), key) {
					t.Errorf("log contains the API key:\n%s", log)
				}
			}
		})
	}
}

// The caller's deadline ends the request wherever it is, and the stream
// is closed: the stand-in sees the client hang up.
func TestAnswerDeadline(t *testing.T) {
	tests := []struct {
		name       string
		reply      openaitest.Reply
		wantDeltas int
	}{
		{"before the first byte", openaitest.Reply{Text: "需要许可[1]。", FirstByteDelay: 2 * time.Second}, 0},
		{"between chunks", openaitest.Reply{Text: "需要许可[1]。", Chunks: 2, ChunkDelay: 2 * time.Second}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.reply)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, deltas, err := e.answer(ctx)
			if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, compose.ErrTimeout) {
				t.Fatalf("Answer: got %v, want ErrTimeout and context.DeadlineExceeded", err)
			}
			if len(deltas) != tt.wantDeltas {
				t.Errorf("deltas: got %q, want %d", deltas, tt.wantDeltas)
			}
			// A guard against a hang, not a measurement.
			wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer wcancel()
			if err := e.srv.WaitIdle(wctx); err != nil {
				t.Fatalf("the stand-in is still answering: the stream was not closed (%v)", err)
			}
			if got := e.srv.Hangups(); got != 1 {
				t.Errorf("Hangups: got %d, want 1", got)
			}
		})
	}
}

func TestAnswerCancelled(t *testing.T) {
	e := newEnv(t, openaitest.Reply{Text: "[1]"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := e.answer(ctx)
	if !errors.Is(err, context.Canceled) || errors.Is(err, compose.ErrTimeout) {
		t.Fatalf("Answer: got %v, want context.Canceled and not ErrTimeout", err)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("got %d requests, want 0", n)
	}
}

// The key reaches the server as the bearer token and never the log.
func TestKeyReachesServerNotLog(t *testing.T) {
	e := newEnv(t, openaitest.Reply{Text: "需要许可[1]。"})
	if _, _, err := e.answer(context.Background()); err != nil {
		t.Fatalf("Answer: %v", err)
	}
	reqs := e.srv.Requests()
	if len(reqs) != 1 || reqs[0].Authorization() != "Bearer "+testKey {
		t.Fatalf("Authorization: got %v, want the bearer key", reqs)
	}
	log := e.log.String()
	if !strings.Contains(log, "compose answer") || !strings.Contains(log, testModel) {
		t.Errorf("log %q: want a record of the answer", log)
	}
	if strings.Contains(log, testKey) {
		t.Errorf("log contains the API key:\n%s", log)
	}
	if strings.Contains(log, "138****5678") {
		t.Errorf("log contains the question:\n%s", log)
	}
}

func TestConfigRedactsKey(t *testing.T) {
	cfg := compose.Config{BaseURL: "https://user:hunter2@api.example.com/v1", Model: "deepseek-chat", APIKey: testKey}
	w, err := compose.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	log.Info("writer", "config", cfg, "writer", w)
	log.Info("writer", "config", &cfg)
	outputs := map[string]string{
		"%v Config":  fmt.Sprintf("%v", cfg),
		"%+v Config": fmt.Sprintf("%+v", cfg),
		"%#v Config": fmt.Sprintf("%#v", cfg),
		"%v *Config": fmt.Sprintf("%v", &cfg),
		"%v Writer":  fmt.Sprintf("%v", w),
		"%+v Writer": fmt.Sprintf("%+v", w),
		"%#v Writer": fmt.Sprintf("%#v", w),
		"slog":       logged.String(),
	}
	for name, out := range outputs {
		for _, secret := range []string{testKey, "hunter2"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: got %q, want no %q", name, out, secret)
			}
		}
		if !strings.Contains(out, "deepseek-chat") {
			t.Errorf("%s: got %q, want the model named", name, out)
		}
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  compose.Config
		ok   bool
	}{
		{"minimal", compose.Config{BaseURL: "http://127.0.0.1:8000/v1", Model: "m"}, true},
		{"everything", compose.Config{BaseURL: "https://api.example.com/v1/", Model: "m", APIKey: "k", Timeout: time.Second, MaxTokens: 100, Temperature: 1.5, Log: slog.Default()}, true},
		{"no base URL", compose.Config{Model: "m"}, false},
		{"no scheme", compose.Config{BaseURL: "127.0.0.1:8000/v1", Model: "m"}, false},
		{"other scheme", compose.Config{BaseURL: "ftp://host/v1", Model: "m"}, false},
		{"no host", compose.Config{BaseURL: "http:///v1", Model: "m"}, false},
		{"no model", compose.Config{BaseURL: "http://h/v1"}, false},
		{"blank model", compose.Config{BaseURL: "http://h/v1", Model: " "}, false},
		{"negative timeout", compose.Config{BaseURL: "http://h/v1", Model: "m", Timeout: -time.Second}, false},
		{"negative max tokens", compose.Config{BaseURL: "http://h/v1", Model: "m", MaxTokens: -1}, false},
		{"negative temperature", compose.Config{BaseURL: "http://h/v1", Model: "m", Temperature: -0.1}, false},
		{"temperature above 2", compose.Config{BaseURL: "http://h/v1", Model: "m", Temperature: 2.5}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := compose.New(tt.cfg)
			if tt.ok {
				if err != nil || w == nil {
					t.Fatalf("New: got %v, want a Writer", err)
				}
				return
			}
			if !errors.Is(err, compose.ErrInvalidConfig) {
				t.Fatalf("New: got %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestSources(t *testing.T) {
	same := append(slices.Clone(passages), compose.Passage{Label: passages[0].Label, Text: "同一条的另一段。"})
	tests := []struct {
		name  string
		cited []int
		ps    []compose.Passage
		want  string
	}{
		{"one", []int{2}, passages, "来源：《食品经营许可和备案管理办法》第十二条"},
		{"two", []int{1, 2}, passages, "来源：《食品经营许可和备案管理办法》第三条、《食品经营许可和备案管理办法》第十二条"},
		{"same label once", []int{1, 3}, same, "来源：《食品经营许可和备案管理办法》第三条"},
		{"none", nil, passages, ""},
		{"out of range ignored", []int{0, 9}, passages, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compose.Sources(compose.Answer{Cited: tt.cited}, tt.ps); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCitations(t *testing.T) {
	tests := []struct {
		text         string
		n            int
		cited, stray []int
	}{
		{"a[1]b[3]c【2】", 3, []int{1, 2, 3}, nil},
		{"[12]", 3, nil, []int{12}},
		{"[1、2，3]", 2, []int{1, 2}, []int{3}},
		{"［ 1 ］", 1, []int{1}, nil},
		{"[1", 1, nil, nil},
		{"[a1]", 1, nil, nil},
		{"[]", 1, nil, nil},
		{"[99999]", 1, nil, nil},
	}
	for _, tt := range tests {
		cited, stray := compose.Citations(tt.text, tt.n)
		if !slices.Equal(cited, tt.cited) || !slices.Equal(stray, tt.stray) {
			t.Errorf("Citations(%q, %d): got %v, %v; want %v, %v", tt.text, tt.n, cited, stray, tt.cited, tt.stray)
		}
	}
}

// Config.Timeout bounds a request that the caller leaves unbounded.
func TestAnswerConfigTimeout(t *testing.T) {
	srv := openaitest.New(t, openaitest.Options{Reply: openaitest.Reply{Text: "[1]", FirstByteDelay: time.Hour}})
	w, err := compose.New(compose.Config{BaseURL: srv.URL(), Model: testModel, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Answer(context.Background(), maskedQ, passages, nil)
	if !errors.Is(err, compose.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Answer: got %v, want ErrTimeout and context.DeadlineExceeded", err)
	}
}
