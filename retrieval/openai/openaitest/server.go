// Package openaitest provides an OpenAI-compatible HTTP server for tests,
// as net/http/httptest does for HTTP: a stand-in on a loopback port that a
// real github.com/sashabaranov/go-openai client (and so govlive's
// retrieval/openai Embedder and bot/compose Writer) can talk to through
// its BaseURL.
//
// It is for tests only: no non-test code may import it.
//
// The stand-in speaks what govlive sends:
//
//   - POST /v1/embeddings: deterministic vectors of each text (BigramVector),
//     of the requested "dimensions" or Options.Dim;
//   - POST /v1/chat/completions, plain and streaming (server-sent events,
//     "data: {chat.completion.chunk}" lines ending with "data: [DONE]"),
//     answering as a test scripts it with a Reply.
//
// Like a real server it checks the bearer key (a wrong one gets 401 with
// the key echoed back in the message, as OpenAI does, so that a client
// that passes server messages on is caught leaking it), the content type
// and the model, and answers errors with OpenAI's error body
// {"error": {"message", "type", "param", "code"}}. It records every
// request, failed ones included, so tests can check what was sent.
package openaitest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Paths the stand-in serves.
const (
	EmbeddingsPath = "/v1/embeddings"
	ChatPath       = "/v1/chat/completions"
)

// DefaultDim is the length of the vectors when neither the request nor
// Options.Dim sets one.
const DefaultDim = 64

// Options configure a Server. The zero value accepts any key (or none)
// and any model.
type Options struct {
	// Key, if set, is the API key the server accepts: every request must
	// carry "Authorization: Bearer <Key>", or gets 401 with the key it
	// sent echoed in the message.
	Key string
	// Models, if set, are the model names the server knows; a request for
	// another gets 404 "The model `…` does not exist.".
	Models []string
	// Dim is the vector length for an embeddings request without
	// "dimensions"; zero means DefaultDim.
	Dim int
	// Reverse lists the embeddings of a response in reverse order, so that
	// only their "index" field tells which text each belongs to.
	Reverse bool
	// Embeddings, if set, answers every well-formed, authorised embeddings
	// request for a known model instead of the default vectors (WriteError
	// and WriteEmbeddings help). It runs after any injected failure or
	// delay.
	Embeddings func(w http.ResponseWriter, r *http.Request, req EmbeddingRequest)
	// Reply is how chat completions are answered until SetReply changes
	// it.
	Reply Reply
}

// Reply scripts the answers to chat completion requests.
type Reply struct {
	// Text is the answer.
	Text string
	// Func, if set, computes the answer from the request instead of Text.
	Func func(req ChatRequest) string
	// Chunks is how many content chunks a streamed answer is split into,
	// on character boundaries and as evenly as they go; zero or one sends
	// it in one chunk. More chunks than characters send one character
	// each.
	Chunks int
	// ChunkDelay is the wait before each content chunk after the first.
	ChunkDelay time.Duration
	// FirstByteDelay is the wait before the response starts: no status
	// line, no header, no byte before it.
	FirstByteDelay time.Duration
	// Status, if set, answers with this HTTP error status and OpenAI's
	// error body (after FirstByteDelay) instead of an answer.
	Status int
	// Message is the error message for Status; empty means the status
	// text.
	Message string
	// FinishReason is the last chunk's (or the choice's) finish_reason;
	// empty means "stop". "length" is what a server sends when the answer
	// hit max_tokens.
	FinishReason string
}

// Request is one HTTP request that reached the server.
type Request struct {
	Path   string
	Header http.Header
	Body   []byte
}

// Authorization is the request's Authorization header ("" without one).
func (r Request) Authorization() string { return r.Header.Get("Authorization") }

// EmbeddingRequest is a decoded POST /v1/embeddings.
type EmbeddingRequest struct {
	Request
	// Input are the texts; a single string input is one text.
	Input []string
	Model string
	// Dimensions is the "dimensions" field, nil when absent.
	Dimensions *int
}

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatRequest is a decoded POST /v1/chat/completions.
type ChatRequest struct {
	Request
	Model       string
	Messages    []Message
	Stream      bool
	MaxTokens   int
	Temperature float32
}

// Embedding is one element of an embeddings response's data list.
type Embedding struct {
	Object    string    `json:"object"`
	Index     int       `json:"index"`
	Embedding []float32 `json:"embedding"`
}

// Server is an OpenAI-compatible endpoint on 127.0.0.1. Its methods are
// safe for concurrent use.
type Server struct {
	opts    Options
	srv     *httptest.Server
	release chan struct{} // closed at cleanup: frees waiting handlers

	mu         sync.Mutex
	reply      Reply
	failStatus int           // injected embeddings failure
	embedDelay time.Duration // injected embeddings delay
	requests   []Request
	texts      int // texts embedded by the default answer
	hangups    int // chat handlers ended because the client went away
	active     int // handlers running
	idle       chan struct{}
}

// New serves a new stand-in on 127.0.0.1:0 until tb ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Dim == 0 {
		opts.Dim = DefaultDim
	}
	s := &Server{opts: opts, reply: opts.Reply, release: make(chan struct{}), idle: make(chan struct{})}
	close(s.idle)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+EmbeddingsPath, s.embeddings)
	mux.HandleFunc("POST "+ChatPath, s.chat)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("openaitest: listen: %v", err)
	}
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Listener = lis
	s.srv.Start()
	tb.Cleanup(s.srv.Close)
	tb.Cleanup(func() { close(s.release) }) // runs before srv.Close
	return s
}

// URL is the API root to configure as BaseURL: the server's address plus
// /v1.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// SetReply changes how later chat completion requests are answered.
func (s *Server) SetReply(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = r
}

// FailEmbeddings answers every later embeddings request with status and
// OpenAI's error body: for 401 the message echoes the key sent, as
// OpenAI's does; 429 comes with "Retry-After: 20". Zero ends the failure.
func (s *Server) FailEmbeddings(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus = status
}

// DelayEmbeddings makes later embeddings requests wait d before they are
// answered, or until the client gives up or the test ends. Zero ends the
// delay.
func (s *Server) DelayEmbeddings(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.embedDelay = d
}

// Requests are every request that reached the server, in order, answered
// or not. The caller must not modify them.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// EmbeddingRequests are the embeddings requests that reached the server,
// in order, answered or not, except those whose body is not JSON.
func (s *Server) EmbeddingRequests() []EmbeddingRequest {
	var out []EmbeddingRequest
	for _, r := range s.Requests() {
		if r.Path != EmbeddingsPath {
			continue
		}
		if req, err := decodeEmbedding(r); err == nil {
			out = append(out, req)
		}
	}
	return out
}

// ChatRequests are the chat completion requests that reached the server,
// in order, answered or not, except those whose body is not JSON.
func (s *Server) ChatRequests() []ChatRequest {
	var out []ChatRequest
	for _, r := range s.Requests() {
		if r.Path != ChatPath {
			continue
		}
		if req, err := decodeChat(r); err == nil {
			out = append(out, req)
		}
	}
	return out
}

// Texts is how many texts the server has embedded with its default
// answer.
func (s *Server) Texts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.texts
}

// Hangups is how many chat completion answers ended early because the
// client went away (closed the stream or the connection) while the server
// was waiting to send more.
func (s *Server) Hangups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hangups
}

// WaitIdle blocks until no request is being handled, or ctx ends. Tests
// call it before Hangups: a client closes its side at once, the server
// notices a moment later.
func (s *Server) WaitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		active, idle := s.active, s.idle
		s.mu.Unlock()
		if active == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("openaitest: %d requests still being handled: %w", active, ctx.Err())
		}
	}
}

// begin records r and counts it as being handled until the returned
// function runs.
func (s *Server) begin(r *http.Request) (Request, func(), error) {
	body, err := io.ReadAll(r.Body)
	req := Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	if s.active == 0 {
		s.idle = make(chan struct{})
	}
	s.active++
	s.mu.Unlock()
	return req, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.active--
		if s.active == 0 {
			close(s.idle)
		}
	}, err
}

// wait waits d, or until the client goes away (false) or the test ends
// (false).
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.release:
		return false
	}
}

// admit checks what every endpoint checks — the key, the content type —
// and answers the request if it fails.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.Key != "" {
		if got := r.Header.Get("Authorization"); got != "Bearer "+s.opts.Key {
			key := strings.TrimPrefix(got, "Bearer ")
			WriteError(w, http.StatusUnauthorized, "Incorrect API key provided: "+key, "invalid_request_error")
			return false
		}
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		WriteError(w, http.StatusBadRequest, "Content-Type "+ct+" is not application/json", "invalid_request_error")
		return false
	}
	return true
}

// knows checks the model and answers the request if it is unknown.
func (s *Server) knows(w http.ResponseWriter, model string) bool {
	if len(s.opts.Models) > 0 && !slices.Contains(s.opts.Models, model) {
		WriteError(w, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist.", model), "invalid_request_error")
		return false
	}
	return true
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	raw, end, err := s.begin(r)
	defer end()
	if err != nil {
		WriteError(w, http.StatusBadRequest, "read body: "+err.Error(), "invalid_request_error")
		return
	}
	s.mu.Lock()
	status, delay := s.failStatus, s.embedDelay
	s.mu.Unlock()
	if !s.wait(r, delay) {
		return
	}
	if status != 0 {
		s.fail(w, r, status)
		return
	}
	if !s.admit(w, r) {
		return
	}
	req, err := decodeEmbedding(raw)
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad JSON: "+err.Error(), "invalid_request_error")
		return
	}
	if !s.knows(w, req.Model) {
		return
	}
	if len(req.Input) == 0 {
		WriteError(w, http.StatusBadRequest, "input is empty", "invalid_request_error")
		return
	}
	if s.opts.Embeddings != nil {
		s.opts.Embeddings(w, r, req)
		return
	}
	dim := s.opts.Dim
	if req.Dimensions != nil {
		dim = *req.Dimensions
	}
	if dim <= 0 {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("dimensions %d must be positive", dim), "invalid_request_error")
		return
	}
	data := make([]Embedding, len(req.Input))
	for i, text := range req.Input {
		data[i] = Embedding{Object: "embedding", Index: i, Embedding: BigramVector(text, dim)}
	}
	if s.opts.Reverse {
		slices.Reverse(data)
	}
	s.mu.Lock()
	s.texts += len(req.Input)
	s.mu.Unlock()
	WriteEmbeddings(w, req.Model, data)
}

// fail answers an injected embeddings failure.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int) {
	switch status {
	case http.StatusUnauthorized:
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		WriteError(w, status, "Incorrect API key provided: "+key, "invalid_request_error")
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "20")
		WriteError(w, status, "Rate limit reached for requests", "requests")
	default:
		WriteError(w, status, http.StatusText(status), "server_error")
	}
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	raw, end, err := s.begin(r)
	defer end()
	if err != nil {
		WriteError(w, http.StatusBadRequest, "read body: "+err.Error(), "invalid_request_error")
		return
	}
	s.mu.Lock()
	reply := s.reply
	s.mu.Unlock()
	if !s.admit(w, r) {
		return
	}
	req, err := decodeChat(raw)
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad JSON: "+err.Error(), "invalid_request_error")
		return
	}
	if !s.knows(w, req.Model) {
		return
	}
	if len(req.Messages) == 0 {
		WriteError(w, http.StatusBadRequest, "messages is empty", "invalid_request_error")
		return
	}
	if !s.wait(r, reply.FirstByteDelay) {
		s.hungUp(r)
		return
	}
	if reply.Status != 0 {
		msg := reply.Message
		if msg == "" {
			msg = http.StatusText(reply.Status)
		}
		WriteError(w, reply.Status, msg, "server_error")
		return
	}
	text := reply.Text
	if reply.Func != nil {
		text = reply.Func(req)
	}
	finish := reply.FinishReason
	if finish == "" {
		finish = "stop"
	}
	if !req.Stream {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": "chatcmpl-openaitest", "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
			"choices": []map[string]any{{
				"index":         0,
				"message":       map[string]any{"role": "assistant", "content": text},
				"finish_reason": finish,
			}},
			"usage": map[string]int{"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
		})
		return
	}
	s.stream(w, r, req.Model, Split(text, reply.Chunks), reply.ChunkDelay, finish)
}

// stream sends chunks as server-sent events: a first chunk with the role,
// one per content chunk (waiting delay before each after the first), a
// last one with the finish reason, then [DONE].
func (s *Server) stream(w http.ResponseWriter, r *http.Request, model string, chunks []string, delay time.Duration, finish string) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		WriteError(w, http.StatusInternalServerError, "stand-in: response cannot be flushed", "server_error")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	created := time.Now().Unix()
	send := func(delta map[string]string, finish any) bool {
		b, err := json.Marshal(map[string]any{
			"id": "chatcmpl-openaitest", "object": "chat.completion.chunk", "created": created, "model": model,
			"choices": []map[string]any{{"index": 0, "delta": delta, "finish_reason": finish}},
		})
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	if !send(map[string]string{"role": "assistant", "content": ""}, nil) {
		s.hungUp(r)
		return
	}
	for i, c := range chunks {
		if i > 0 && !s.wait(r, delay) {
			s.hungUp(r)
			return
		}
		if !send(map[string]string{"content": c}, nil) {
			s.hungUp(r)
			return
		}
	}
	if !send(map[string]string{}, finish) {
		s.hungUp(r)
		return
	}
	if _, err := io.WriteString(w, "data: [DONE]\n\n"); err != nil {
		s.hungUp(r)
		return
	}
	flusher.Flush()
}

// hungUp counts an answer cut short, if the client went away (and not the
// test ending).
func (s *Server) hungUp(r *http.Request) {
	if r.Context().Err() == nil {
		select {
		case <-s.release:
			return
		default:
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangups++
}

// Split cuts text into n pieces on character boundaries, as even as they
// go: the pieces joined give (valid UTF-8) text back. n below 2 gives text whole; more
// pieces than characters give one character each; "" gives no pieces.
func Split(text string, n int) []string {
	if text == "" {
		return nil
	}
	rs := []rune(text)
	n = max(1, min(n, len(rs)))
	out := make([]string, n)
	for i := range n {
		out[i] = string(rs[i*len(rs)/n : (i+1)*len(rs)/n])
	}
	return out
}

// WriteError answers status with OpenAI's error body.
func WriteError(w http.ResponseWriter, status int, msg, typ string) {
	writeJSON(w, status, map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil},
	})
}

// WriteEmbeddings answers 200 with an embeddings response of data.
func WriteEmbeddings(w http.ResponseWriter, model string, data []Embedding) {
	if data == nil {
		data = []Embedding{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   data,
		"model":  model,
		"usage":  map[string]int{"prompt_tokens": len(data), "total_tokens": len(data)},
	})
}

// writeJSON answers status with v as JSON. A failed write shows as the
// client's error.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeEmbedding reads an embeddings request; input may be a string or
// a list of strings.
func decodeEmbedding(r Request) (EmbeddingRequest, error) {
	var body struct {
		Input      json.RawMessage `json:"input"`
		Model      string          `json:"model"`
		Dimensions *int            `json:"dimensions"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return EmbeddingRequest{}, err
	}
	req := EmbeddingRequest{Request: r, Model: body.Model, Dimensions: body.Dimensions}
	if len(body.Input) == 0 || string(body.Input) == "null" {
		return req, nil
	}
	if err := json.Unmarshal(body.Input, &req.Input); err != nil {
		var one string
		if json.Unmarshal(body.Input, &one) != nil {
			return EmbeddingRequest{}, errors.New("input is neither a string nor a list of strings")
		}
		req.Input = []string{one}
	}
	return req, nil
}

// decodeChat reads a chat completion request.
func decodeChat(r Request) (ChatRequest, error) {
	var body struct {
		Model       string    `json:"model"`
		Messages    []Message `json:"messages"`
		Stream      bool      `json:"stream"`
		MaxTokens   int       `json:"max_tokens"`
		Temperature float32   `json:"temperature"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return ChatRequest{}, err
	}
	return ChatRequest{Request: r, Model: body.Model, Messages: body.Messages, Stream: body.Stream,
		MaxTokens: body.MaxTokens, Temperature: body.Temperature}, nil
}

// BigramVector hashes the character bigrams (and, for one-character
// texts, the characters) of text into dim signed dimensions: a
// deterministic vector with a real similarity structure (texts sharing
// bigrams point the same way), never the zero vector. It is the
// stand-in's embedding; tests compare against it.
func BigramVector(text string, dim int) []float32 {
	v := make([]float32, dim)
	rs := []rune(text)
	add := func(s string) {
		h := fnv.New32a()
		_, _ = h.Write([]byte(s))
		x := h.Sum32()
		sign := float32(1)
		if x&1 == 1 {
			sign = -1
		}
		v[int(x>>1)%dim] += sign
	}
	for i := 0; i+1 < len(rs); i++ {
		add(string(rs[i : i+2]))
	}
	if len(rs) < 2 {
		add(text)
	}
	v[0] += 0.01 // never the zero vector
	return v
}
