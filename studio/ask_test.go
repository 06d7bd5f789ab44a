package studio_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"govlive/bot"
	"govlive/retrieval"
	"govlive/store"
	"govlive/studio"
)

// realBot is the bot over an in-memory index of the server's content.
func realBot(t *testing.T, cfg *studio.Config) studio.Asker {
	t.Helper()
	ctx := context.Background()
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := retrieval.Open(ctx, retrieval.Config{Source: cfg.Content, Normalizer: norm})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	lx, err := cfg.Content.Lexicon(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(t.Context(), bot.Config{Searcher: ix, Documents: cfg.Content, Normalizer: norm, Lexicon: lx})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// notReady is a bot still loading.
type notReady struct{}

func (notReady) Explain(context.Context, bot.Message) (bot.Decision, error) {
	return bot.Decision{}, studio.ErrNotReady
}

func TestAsk(t *testing.T) {
	srv := newServerWith(t, nil, func(_ *store.DB, cfg *studio.Config) { cfg.Bot = realBot(t, cfg) })
	tests := []struct {
		name, ctype, body string
		want              int
		wantErr           string // part of the Chinese message
	}{
		{"answer", "application/json", `{"question": "問題一"}`, 200, ""},
		{"in a session", "application/json", `{"question": "问题一", "session": "live", "segment": 1}`, 200, ""},
		{"not JSON", "text/plain", `问题一`, 415, "application/json"},
		{"broken JSON", "application/json", `{"question": `, 400, "JSON"},
		{"unknown field", "application/json", `{"q": "问题一"}`, 400, "JSON"},
		{"empty", "application/json", `{"question": "  "}`, 400, "不能为空"},
		{"too long", "application/json", `{"question": "` + strings.Repeat("问", 501) + `"}`, 400, "500"},
		{"segment without session", "application/json", `{"question": "问题一", "segment": 1}`, 400, "segment"},
		{"segment past the run-sheet", "application/json", `{"question": "问题一", "session": "live", "segment": 2}`, 400, "1 个环节"},
		{"unknown session", "application/json", `{"question": "问题一", "session": "nope"}`, 404, ""},
		{"private session", "application/json", `{"question": "问题一", "session": "private"}`, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/ask", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			resp, err := srv.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
			if tt.want != 200 {
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, tt.wantErr) {
					t.Errorf("error %q, want it to say %q", body, tt.wantErr)
				}
				return
			}
			var a studio.AskAnswer
			if err := json.Unmarshal(body, &a); err != nil {
				t.Fatal(err)
			}
			if a.Action != bot.ActionAnswer || a.FAQ == nil || a.FAQ.ID != "faq-a" || a.Mode != "lexical" || a.Search == nil {
				t.Errorf("answer %s/%s faq %v mode %q, want the answer faq-a, lexical, with hits", a.Action, a.Reason, a.FAQ, a.Mode)
			}
		})
	}
}

func TestAskNotReady(t *testing.T) {
	for name, asker := range map[string]studio.Asker{"no bot": nil, "loading": notReady{}} {
		t.Run(name, func(t *testing.T) {
			srv := newServerWith(t, nil, func(_ *store.DB, cfg *studio.Config) { cfg.Bot = asker })
			req := httptest.NewRequest(http.MethodPost, "/api/ask", strings.NewReader(`{"question": "问题一"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "知识库正在加载") {
				t.Errorf("got %d Retry-After %q %s, want 503 with Retry-After and 知识库正在加载", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
		})
	}
}

func TestReadyz(t *testing.T) {
	var indexErr error
	srv := newServerWith(t, nil, func(_ *store.DB, cfg *studio.Config) {
		cfg.Ready = []studio.Check{{Name: "index", Check: func(context.Context) error { return indexErr }}}
	})
	get := func(path string) (int, map[string]any) {
		resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, v
	}
	indexErr = errors.New("catching up: 10 of 100 items indexed")
	if code, v := get("/readyz"); code != 503 || v["status"] != "not_ready" || v["checks"].(map[string]any)["index"] != indexErr.Error() || v["checks"].(map[string]any)["database"] != "ok" {
		t.Errorf("/readyz while catching up: %d %v", code, v)
	}
	if code, v := get("/healthz"); code != 200 || v["status"] != "ok" {
		t.Errorf("/healthz while catching up: %d %v, want 200 ok (alive)", code, v)
	}
	indexErr = nil
	if code, v := get("/readyz"); code != 200 || v["status"] != "ready" {
		t.Errorf("/readyz once caught up: %d %v", code, v)
	}
}
