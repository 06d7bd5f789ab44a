package openaitest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"govlive/retrieval/openai/openaitest"
)

const (
	key   = "sk-openaitest-5e6f7a8b"
	model = "qwen2.5-7b-instruct"
)

// client is a real go-openai client for s with the given key.
func client(s *openaitest.Server, apiKey string) *goopenai.Client {
	cc := goopenai.DefaultConfig(apiKey)
	cc.BaseURL = s.URL()
	return goopenai.NewClientWithConfig(cc)
}

func chatRequest(q string) goopenai.ChatCompletionRequest {
	return goopenai.ChatCompletionRequest{
		Model:     model,
		Messages:  []goopenai.ChatCompletionMessage{{Role: "user", Content: q}},
		MaxTokens: 50,
	}
}

// recvAll reads a stream to its end and returns the content deltas.
func recvAll(t *testing.T, stream *goopenai.ChatCompletionStream) (deltas []string, finish goopenai.FinishReason, err error) {
	t.Helper()
	defer stream.Close()
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return deltas, finish, nil
		}
		if err != nil {
			return deltas, finish, err
		}
		for _, c := range resp.Choices {
			if c.Delta.Content != "" {
				deltas = append(deltas, c.Delta.Content)
			}
			if c.FinishReason != "" {
				finish = c.FinishReason
			}
		}
	}
}

func TestEmbeddings(t *testing.T) {
	s := openaitest.New(t, openaitest.Options{Key: key, Models: []string{"bge-m3"}, Dim: 16, Reverse: true})
	c := client(s, key)
	texts := []string{"营业执照", "食品经营许可证", "a"}
	resp, err := c.CreateEmbeddings(context.Background(), goopenai.EmbeddingRequestStrings{Input: texts, Model: "bge-m3"})
	if err != nil {
		t.Fatalf("CreateEmbeddings: %v", err)
	}
	if len(resp.Data) != len(texts) {
		t.Fatalf("got %d embeddings, want %d", len(resp.Data), len(texts))
	}
	if resp.Data[0].Index != len(texts)-1 {
		t.Errorf("first datum has index %d, want %d (Reverse)", resp.Data[0].Index, len(texts)-1)
	}
	for _, d := range resp.Data {
		if want := openaitest.BigramVector(texts[d.Index], 16); !slices.Equal(d.Embedding, want) {
			t.Errorf("embedding %d: got %v, want %v", d.Index, d.Embedding, want)
		}
	}
	resp, err = c.CreateEmbeddings(context.Background(), goopenai.EmbeddingRequestStrings{Input: texts[:1], Model: "bge-m3", Dimensions: 5})
	if err != nil || len(resp.Data) != 1 || len(resp.Data[0].Embedding) != 5 {
		t.Fatalf("with dimensions 5: got %v, %v; want one vector of 5", resp.Data, err)
	}
	if got := s.Texts(); got != 4 {
		t.Errorf("Texts: got %d, want 4", got)
	}
	reqs := s.EmbeddingRequests()
	if len(reqs) != 2 || !slices.Equal(reqs[0].Input, texts) || reqs[0].Dimensions != nil || *reqs[1].Dimensions != 5 {
		t.Errorf("recorded requests: got %+v", reqs)
	}
	if got := reqs[0].Authorization(); got != "Bearer "+key {
		t.Errorf("Authorization: got %q, want the key", got)
	}
}

func TestEmbeddingsRefuse(t *testing.T) {
	tests := []struct {
		name     string
		key      string
		model    string
		fail     int
		wantCode int
		wantMsg  string
	}{
		{"wrong key", "sk-wrong", "bge-m3", 0, http.StatusUnauthorized, "Incorrect API key provided: sk-wrong"},
		{"unknown model", key, "nope", 0, http.StatusNotFound, "The model `nope` does not exist."},
		{"injected 429", key, "bge-m3", http.StatusTooManyRequests, http.StatusTooManyRequests, "Rate limit reached"},
		{"injected 503", key, "bge-m3", http.StatusServiceUnavailable, http.StatusServiceUnavailable, "Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openaitest.New(t, openaitest.Options{Key: key, Models: []string{"bge-m3"}})
			s.FailEmbeddings(tt.fail)
			_, err := client(s, tt.key).CreateEmbeddings(context.Background(), goopenai.EmbeddingRequestStrings{Input: []string{"x"}, Model: goopenai.EmbeddingModel(tt.model)})
			var apiErr *goopenai.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("got %v, want an APIError", err)
			}
			if apiErr.HTTPStatusCode != tt.wantCode || !strings.Contains(apiErr.Message, tt.wantMsg) {
				t.Errorf("got %d %q, want %d containing %q", apiErr.HTTPStatusCode, apiErr.Message, tt.wantCode, tt.wantMsg)
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("recorded %d requests, want 1", n)
			}
			if s.Texts() != 0 {
				t.Errorf("Texts: got %d, want 0", s.Texts())
			}
		})
	}
}

func TestEmbeddingsDelayEndsWithTheClient(t *testing.T) {
	s := openaitest.New(t, openaitest.Options{})
	s.DelayEmbeddings(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := client(s, "").CreateEmbeddings(ctx, goopenai.EmbeddingRequestStrings{Input: []string{"x"}, Model: "m"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	if err := s.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.EmbeddingRequests()[0].Header.Values("Authorization"); len(got) != 0 {
		t.Errorf("Authorization without a key: got %q, want none", got)
	}
}

func TestChat(t *testing.T) {
	const answer = "办理营业执照需要身份证和经营场所证明[1]。"
	tests := []struct {
		name   string
		reply  openaitest.Reply
		stream bool
		want   []string // deltas, or the one message
		finish goopenai.FinishReason
	}{
		{"plain", openaitest.Reply{Text: answer}, false, []string{answer}, "stop"},
		{"stream one chunk", openaitest.Reply{Text: answer}, true, []string{answer}, "stop"},
		{"stream four chunks", openaitest.Reply{Text: answer, Chunks: 4}, true, openaitest.Split(answer, 4), "stop"},
		{"stream with delays", openaitest.Reply{Text: "一二三", Chunks: 3, ChunkDelay: time.Millisecond}, true, []string{"一", "二", "三"}, "stop"},
		{"answer from the request", openaitest.Reply{Func: func(r openaitest.ChatRequest) string {
			return "你问：" + r.Messages[len(r.Messages)-1].Content
		}}, true, []string{"你问：几点上班"}, "stop"},
		{"cut at max tokens", openaitest.Reply{Text: "很长", FinishReason: "length"}, true, []string{"很长"}, "length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openaitest.New(t, openaitest.Options{Key: key, Models: []string{model}, Reply: tt.reply})
			c := client(s, key)
			var got []string
			var finish goopenai.FinishReason
			if tt.stream {
				stream, err := c.CreateChatCompletionStream(context.Background(), chatRequest("几点上班"))
				if err != nil {
					t.Fatalf("CreateChatCompletionStream: %v", err)
				}
				got, finish, err = recvAll(t, stream)
				if err != nil {
					t.Fatalf("Recv: %v", err)
				}
			} else {
				resp, err := c.CreateChatCompletion(context.Background(), chatRequest("几点上班"))
				if err != nil {
					t.Fatalf("CreateChatCompletion: %v", err)
				}
				got = []string{resp.Choices[0].Message.Content}
				finish = resp.Choices[0].FinishReason
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if finish != tt.finish {
				t.Errorf("finish reason: got %q, want %q", finish, tt.finish)
			}
			reqs := s.ChatRequests()
			if len(reqs) != 1 || reqs[0].Stream != tt.stream || reqs[0].MaxTokens != 50 || reqs[0].Messages[0].Content != "几点上班" {
				t.Errorf("recorded: got %+v", reqs)
			}
			if !strings.Contains(string(reqs[0].Body), "几点上班") {
				t.Errorf("recorded body %s lacks the question", reqs[0].Body)
			}
		})
	}
}

func TestChatStatus(t *testing.T) {
	s := openaitest.New(t, openaitest.Options{Reply: openaitest.Reply{Status: http.StatusInternalServerError, Message: "model crashed"}})
	_, err := client(s, key).CreateChatCompletionStream(context.Background(), chatRequest("q"))
	var apiErr *goopenai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 500 || apiErr.Message != "model crashed" {
		t.Fatalf("got %v, want APIError 500 model crashed", err)
	}
}

// A client that gives up is seen as a hang-up, before the first byte and
// between chunks.
func TestChatHangups(t *testing.T) {
	tests := []struct {
		name       string
		reply      openaitest.Reply
		wantDeltas int
	}{
		{"before the first byte", openaitest.Reply{Text: "答", FirstByteDelay: time.Hour}, 0},
		{"between chunks", openaitest.Reply{Text: "一二", Chunks: 2, ChunkDelay: time.Hour}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openaitest.New(t, openaitest.Options{Reply: tt.reply})
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			var deltas []string
			stream, err := client(s, "").CreateChatCompletionStream(ctx, chatRequest("q"))
			if err == nil {
				deltas, _, err = recvAll(t, stream)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v, want DeadlineExceeded", err)
			}
			if len(deltas) != tt.wantDeltas {
				t.Errorf("got deltas %q, want %d", deltas, tt.wantDeltas)
			}
			wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer wcancel()
			if err := s.WaitIdle(wctx); err != nil {
				t.Fatalf("WaitIdle: %v (the client's hang-up did not reach the server)", err)
			}
			if got := s.Hangups(); got != 1 {
				t.Errorf("Hangups: got %d, want 1", got)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		text string
		n    int
		want []string
	}{
		{"", 3, nil},
		{"abc", 0, []string{"abc"}},
		{"abc", 1, []string{"abc"}},
		{"abcd", 2, []string{"ab", "cd"}},
		{"abcde", 2, []string{"ab", "cde"}},
		{"办理执照", 3, []string{"办", "理", "执照"}},
		{"一二", 5, []string{"一", "二"}},
	}
	for _, tt := range tests {
		if got := openaitest.Split(tt.text, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("Split(%q, %d): got %q, want %q", tt.text, tt.n, got, tt.want)
		}
	}
}
