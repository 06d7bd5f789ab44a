package studio_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gofiber/fiber/v2"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/logtest"
	"govlive/store"
	"govlive/store/storetest"
	"govlive/studio"
)

const (
	testDoc = "---\nid: doc-a\ntitle: 示例文档\nissuer: 示例市政务服务中心\neffective: 2025-03-01\ncategory: 综合窗口\n---\n\n第一条 示例条款。\n"
	testFAQ = `{"id": "faq-a", "category": "综合窗口", "question": "问题一？", "similar": [], "answer": "答案一。", "sources": ["doc-a"], "updated": "2025-06-01"}
{"id": "faq-draft", "category": "综合窗口", "question": "草稿？", "similar": [], "answer": "草稿答案。", "sources": ["doc-a"], "updated": "2025-06-01", "status": "draft"}
`
	testSession = "id: private\ntitle: 彩排\ncategory: 综合窗口\nstart: 2026-03-12T15:00:00+08:00\nend: 2026-03-12T16:00:00+08:00\npublic: false\nanchors: []\nsegments: []\n"
	// testLive is public and links a published and a draft entry.
	testLive = "id: live\ntitle: 直播\ncategory: 综合窗口\nstart: 2026-03-13T15:00:00+08:00\nend: 2026-03-13T16:00:00+08:00\npublic: true\nanchors: []\n" +
		"segments:\n  - title: 第一段\n    points: []\n    faq: [faq-draft, faq-a]\n    docs: [doc-a]\n"
)

func newServer(t *testing.T) *studio.Server {
	t.Helper()
	return newServerLog(t, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// newServerLog returns a server on a fresh database file holding a small
// pack, logging to log.
func newServerLog(t *testing.T, log *slog.Logger) *studio.Server {
	t.Helper()
	return newServerWith(t, log, nil)
}

// newServerWith is newServerLog with edit applied to the server's config
// before the server is made (edit gets the database, to open more on it);
// a nil log discards.
func newServerWith(t *testing.T, log *slog.Logger, edit func(db *store.DB, cfg *studio.Config)) *studio.Server {
	t.Helper()
	return newServerPack(t, fstest.MapFS{
		"faq.jsonl":             {Data: []byte(testFAQ)},
		"docs/doc-a.md":         {Data: []byte(testDoc)},
		"sessions/private.yaml": {Data: []byte(testSession)},
		"sessions/live.yaml":    {Data: []byte(testLive)},
	}, log, edit)
}

// newServerPack returns a server on a fresh database file holding pack,
// with its configuration changed by edit (nil: none); a nil log discards.
func newServerPack(t *testing.T, pack fstest.MapFS, log *slog.Logger, edit func(db *store.DB, cfg *studio.Config)) *studio.Server {
	t.Helper()
	db := storetest.Open(t)
	cs := contenttest.NewStore(t, db, time.Now)
	contenttest.Import(t, cs, contenttest.ReadPack(t, pack))
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg := studio.Config{Content: cs, Health: db.PingContext, Log: log}
	if edit != nil {
		edit(db, &cfg)
	}
	srv, err := studio.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func TestAPIStatuses(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		name, method, path string
		status             int
		errText            string // the Chinese message, when an error
	}{
		{"health", "GET", "/healthz", 200, ""},
		{"published entry", "GET", "/api/faq/faq-a", 200, ""},
		{"draft entry is hidden", "GET", "/api/faq/faq-draft", 404, "找不到该内容"},
		{"missing entry", "GET", "/api/faq/nope", 404, "找不到该内容"},
		{"document", "GET", "/api/documents/doc-a", 200, ""},
		{"private session is hidden", "GET", "/api/sessions/private", 404, "找不到该内容"},
		{"unknown route", "GET", "/api/nothing", 404, "找不到该地址"},
		{"wrong method", "DELETE", "/api/faq/faq-a", 405, "不支持该请求方法"},
		{"page zero", "GET", "/api/faq?page=0", 400, "参数 page 应为 1 到 1000000 之间的整数"},
		{"per_page too big", "GET", "/api/documents?per_page=101", 400, "参数 per_page 应为 1 到 100 之间的整数"},
		{"per_page not a number", "GET", "/api/sessions?per_page=ten", 400, "参数 per_page 应为 1 到 100 之间的整数"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := srv.App().Test(httptest.NewRequest(tc.method, tc.path, nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type: got %q, want application/json", ct)
			}
			var body struct {
				Error string `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if body.Error != tc.errText {
				t.Errorf("error: got %q, want %q", body.Error, tc.errText)
			}
		})
	}
}

func TestListsHideDraftsAndPrivateSessions(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		path  string
		total int
	}{
		{"/api/faq", 1}, {"/api/faq?category=" + url.QueryEscape("综合窗口"), 1}, {"/api/faq?category=" + url.QueryEscape("食品许可"), 0},
		{"/api/documents", 1}, {"/api/sessions", 1},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := srv.App().Test(httptest.NewRequest("GET", tc.path, nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Items []json.RawMessage `json:"items"`
				Total int               `json:"total"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if body.Total != tc.total || len(body.Items) != tc.total {
				t.Errorf("got total %d with %d items, want %d", body.Total, len(body.Items), tc.total)
			}
		})
	}
}

// Serve lets a request in flight finish after its context ends, and
// returns once it has.
func TestServeFinishesInFlightRequests(t *testing.T) {
	srv := newServer(t)
	started := make(chan struct{})
	srv.App().Get("/test/slow", func(c *fiber.Ctx) error {
		close(started)
		time.Sleep(300 * time.Millisecond)
		return c.SendString("done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/test/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(b), err}
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("slow request never reached the handler")
	}
	cancel()
	r := <-got
	if r.err != nil || r.status != 200 || r.body != "done" {
		t.Errorf("in-flight request: got %d %q %v, want 200 \"done\"", r.status, r.body, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the listener still accepts connections after Serve returned")
	}
}

// A context that ends before Serve starts must not leave a server running.
func TestServeCancelledEarly(t *testing.T) {
	for range 20 {
		srv := newServer(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ctx, ln) }()
		cancel()
		select {
		case <-served:
		case <-time.After(5 * time.Second):
			t.Fatal("Serve hung after an early cancel")
		}
	}
}

// Viewers do not see draft FAQ entries, not even as ids in the segments
// of a public session.
func TestPublicSessionsHideDraftLinks(t *testing.T) {
	srv := newServer(t)
	get := func(t *testing.T, path string, v any) {
		t.Helper()
		resp, err := srv.App().Test(httptest.NewRequest("GET", path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: got status %d, want 200", path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	want := []content.FAQID{"faq-a"}
	var one content.Session
	get(t, "/api/sessions/live", &one)
	if len(one.Segments) != 1 || !reflect.DeepEqual(one.Segments[0].FAQ, want) {
		t.Errorf("/api/sessions/live: got segments %+v, want one linking %v", one.Segments, want)
	}
	var list struct {
		Items []content.Session `json:"items"`
	}
	get(t, "/api/sessions", &list)
	if len(list.Items) != 1 || len(list.Items[0].Segments) != 1 || !reflect.DeepEqual(list.Items[0].Segments[0].FAQ, want) {
		t.Errorf("/api/sessions: got %+v, want one session whose segment links %v", list.Items, want)
	}
}

// A handler that panics gets a 500 JSON answer, and the server goes on.
func TestPanicIsAnInternalError(t *testing.T) {
	var logs logtest.Buffer
	srv := newServerLog(t, slog.New(slog.NewTextHandler(&logs, nil)))
	srv.App().Get("/test/panic", func(c *fiber.Ctx) error { panic("boom") })
	resp, err := srv.App().Test(httptest.NewRequest("GET", "/test/panic", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if resp.StatusCode != 500 || body.Error != "服务器内部错误，请稍后再试" {
		t.Errorf("got %d %q, want 500 %q", resp.StatusCode, body.Error, "服务器内部错误，请稍后再试")
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Errorf("log lacks the panic value:\n%s", logs.String())
	}
	resp, err = srv.App().Test(httptest.NewRequest("GET", "/healthz", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after the panic: /healthz got %d, want 200", resp.StatusCode)
	}
}

// A listener closed under a running Serve ends it without an error.
func TestServeListenerClosed(t *testing.T) {
	srv := newServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln) }()
	// Wait until the server answers, so that it is in Accept.
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: got %q, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its listener closed")
	}
}
