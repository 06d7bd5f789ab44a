package studio_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"govlive/content"
	"govlive/store"
	"govlive/studio"
)

func TestPageCache(t *testing.T) {
	var cs *content.Store
	srv := newServerWith(t, nil, func(_ *store.DB, cfg *studio.Config) { cs = cfg.Content })
	get := func(t *testing.T, path string, header ...string) (*http.Response, string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	for _, path := range []string{"/api/faq", "/api/faq?per_page=1&page=1", "/api/faq/faq-a", "/api/documents", "/api/documents/doc-a", "/api/sessions", "/api/sessions/live"} {
		t.Run(path, func(t *testing.T) {
			r1, b1 := get(t, path)
			etag := r1.Header.Get("ETag")
			if r1.StatusCode != 200 || etag == "" || r1.Header.Get("Cache-Control") != "no-cache" {
				t.Fatalf("first GET: %d ETag %q Cache-Control %q", r1.StatusCode, etag, r1.Header.Get("Cache-Control"))
			}
			r2, b2 := get(t, path)
			if r2.Header.Get("ETag") != etag || b2 != b1 || r2.Header.Get("Content-Type") != r1.Header.Get("Content-Type") {
				t.Errorf("second GET: ETag %q body %q, want %q %q", r2.Header.Get("ETag"), b2, etag, b1)
			}
			r3, b3 := get(t, path, "If-None-Match", `"x", W/`+etag)
			if r3.StatusCode != http.StatusNotModified || b3 != "" {
				t.Errorf("GET with If-None-Match: %d %q, want 304 and no body", r3.StatusCode, b3)
			}
		})
	}
	// A change shows at once, with another ETag.
	_, before := get(t, "/api/faq/faq-a")
	etag := mustETag(t, srv, "/api/faq/faq-a")
	e, err := cs.FAQ(context.Background(), "faq-a")
	if err != nil {
		t.Fatal(err)
	}
	e.Answer = "改过的答案。"
	if _, err := cs.PutFAQ(context.Background(), e, "test"); err != nil {
		t.Fatal(err)
	}
	r, after := get(t, "/api/faq/faq-a", "If-None-Match", etag)
	if r.StatusCode != 200 || !strings.Contains(after, "改过的答案") || r.Header.Get("ETag") == etag {
		t.Errorf("after the change: %d ETag %q %s (before %s)", r.StatusCode, r.Header.Get("ETag"), after, before)
	}
	// Errors are not cached, and requests with credentials bypass the cache.
	if r, _ := get(t, "/api/faq/nope"); r.StatusCode != 404 || r.Header.Get("ETag") != "" {
		t.Errorf("unknown entry: %d ETag %q, want 404 without ETag", r.StatusCode, r.Header.Get("ETag"))
	}
	if r, _ := get(t, "/api/faq/faq-a", "Authorization", "Bearer x"); r.StatusCode != 200 || r.Header.Get("ETag") != "" {
		t.Errorf("with credentials: %d ETag %q, want 200 not from the cache", r.StatusCode, r.Header.Get("ETag"))
	}
}

func mustETag(t *testing.T, srv *studio.Server, path string) string {
	t.Helper()
	resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Get("ETag")
}

// TestPageCacheConcurrent: many simultaneous requests of pages while the
// content changes all get a whole, current answer (run with -race).
func TestPageCacheConcurrent(t *testing.T) {
	var cs *content.Store
	srv := newServerWith(t, nil, func(_ *store.DB, cfg *studio.Config) { cs = cfg.Content })
	var wg sync.WaitGroup
	errs := make(chan string, 400)
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := []string{"/api/faq", "/api/faq/faq-a", "/api/sessions"}[i%3]
			resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "{") || !strings.HasSuffix(string(b), "}") {
				errs <- path + ": " + resp.Status + " " + string(b)
			}
		}()
		if i == 200 {
			e, err := cs.FAQ(context.Background(), "faq-a")
			if err != nil {
				t.Fatal(err)
			}
			e.Answer = "并发中改过的答案。"
			if _, err := cs.PutFAQ(context.Background(), e, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, "/api/faq/faq-a", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), "并发中改过的答案") {
		t.Errorf("after the load: %s, want the changed answer", b)
	}
}
