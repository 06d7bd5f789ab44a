package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/logtest"
	"govlive/store"
)

// envFunc returns a getenv backed by m, so that tests never see the real
// environment.
func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var servingLine = regexp.MustCompile(`govlive serving on (http://127\.0\.0\.1:\d+)\n`)

// serveProc is a "govlive serve" running in a goroutine of the test.
type serveProc struct {
	url            string
	stdout, stderr *logtest.Buffer
	client         *http.Client
	cancel         context.CancelFunc
	done           chan error

	once    sync.Once
	stopErr error
}

// startServe runs "govlive serve" on data and a free loopback port, and
// waits until /healthz answers. The server is stopped at the end of the
// test if the test has not stopped it.
func startServe(t *testing.T, data string) *serveProc {
	t.Helper()
	return startServeArgs(t, data)
}

// startServeArgs starts serve on data with more flags.
func startServeArgs(t *testing.T, data string, extra ...string) *serveProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &serveProc{
		stdout: &logtest.Buffer{},
		stderr: &logtest.Buffer{},
		client: &http.Client{Timeout: 5 * time.Second},
		cancel: cancel,
		done:   make(chan error, 1),
	}
	// no demo publisher unless a test asks for it (a later --demo wins);
	// no free-space floor, so that /readyz does not depend on how full the
	// machine's disk is (tests of the floor set their own)
	args := append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--demo=false", "--record-min-free", "0"}, extra...)
	go func() { p.done <- run(ctx, args, envFunc(nil), p.stdout, p.stderr) }()
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("stop serve: %v", err)
		}
	})

	deadline := time.Now().Add(10 * time.Second)
	for p.url == "" {
		if m := servingLine.FindStringSubmatch(p.stdout.String()); m != nil {
			p.url = m[1]
			break
		}
		select {
		case err := <-p.done:
			p.once.Do(func() { p.stopErr = err })
			t.Fatalf("run returned %v before serving; stderr:\n%s", err, p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no serving line on stdout after 10s; stdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
		}
	}

	for {
		resp, err := p.client.Get(p.url + "/healthz")
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			cerr := resp.Body.Close()
			if rerr == nil && cerr == nil && resp.StatusCode == http.StatusOK {
				var h map[string]string
				if err := json.Unmarshal(body, &h); err != nil {
					t.Fatalf("GET /healthz: body %q: %v", body, err)
				}
				if h["status"] != "ok" {
					t.Fatalf("GET /healthz: got status %q, want %q", h["status"], "ok")
				}
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz did not answer 200 within 10s (last error %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop cancels run's context and returns what run returned. It fails if
// run has not returned within 5 seconds. Calling it again returns the same.
func (p *serveProc) stop() error {
	p.once.Do(func() {
		p.cancel()
		select {
		case p.stopErr = <-p.done:
		case <-time.After(5 * time.Second):
			// What is still running says what did not stop.
			var stacks strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			p.stopErr = fmt.Errorf("run did not return within 5s of the context being cancelled; goroutines:\n%s", stacks.String())
		}
		p.client.CloseIdleConnections()
	})
	return p.stopErr
}

// get requests path and decodes the JSON answer into v. It fails the test
// unless the status is want and the answer is JSON.
func (p *serveProc) get(t *testing.T, path string, want int, v any) {
	t.Helper()
	resp, err := p.client.Get(p.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	body, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("GET %s: got status %d, want %d; body %s", path, resp.StatusCode, want, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s: got Content-Type %q, want application/json", path, ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: decode %s: %v", path, body, err)
	}
}

// list is the shape of every list answer of the API.
type list[T any] struct {
	Items   []T `json:"items"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
	Total   int `json:"total"`
}

// allFAQ reads /api/faq page by page with perPage entries a page, plus
// query (already encoded, may be empty), and returns every entry.
func (p *serveProc) allFAQ(t *testing.T, perPage int, query string) []content.FAQEntry {
	t.Helper()
	var all []content.FAQEntry
	for page := 1; ; page++ {
		var l list[content.FAQEntry]
		p.get(t, fmt.Sprintf("/api/faq?page=%d&per_page=%d%s", page, perPage, query), http.StatusOK, &l)
		if l.Page != page || l.PerPage != perPage {
			t.Fatalf("page %d: got page %d, per_page %d, want %d, %d", page, l.Page, l.PerPage, page, perPage)
		}
		if len(l.Items) > perPage {
			t.Fatalf("page %d: got %d items, want at most %d", page, len(l.Items), perPage)
		}
		all = append(all, l.Items...)
		if len(l.Items) < perPage || len(all) >= l.Total {
			if len(all) != l.Total {
				t.Fatalf("got %d entries over %d pages, want total %d", len(all), page, l.Total)
			}
			return all
		}
		if page > 1000 {
			t.Fatal("more than 1000 pages")
		}
	}
}

func TestServeEndToEnd(t *testing.T) {
	const (
		wantFAQ  = 85
		wantDocs = 18
	)
	sp := contenttest.SamplePack(t)

	data := t.TempDir()
	srv := startServe(t, data)

	t.Run("faq pages", func(t *testing.T) {
		for _, per := range []int{20, 100} {
			t.Run(fmt.Sprintf("per_page=%d", per), func(t *testing.T) {
				all := srv.allFAQ(t, per, "")
				if len(all) != wantFAQ {
					t.Fatalf("got %d entries, want %d", len(all), wantFAQ)
				}
				ids := map[content.FAQID]bool{}
				for _, e := range all {
					if e.Status != content.StatusPublished {
						t.Errorf("entry %s: got status %q, want %q", e.ID, e.Status, content.StatusPublished)
					}
					ids[e.ID] = true
				}
				if len(ids) != wantFAQ {
					t.Errorf("got %d distinct ids, want %d", len(ids), wantFAQ)
				}
				if !ids["faq-taxi-license-materials"] {
					t.Error("ids lack faq-taxi-license-materials")
				}
			})
		}
	})

	t.Run("faq by category", func(t *testing.T) {
		const cat = "交通运输"
		want := 0
		for _, e := range sp.FAQ {
			if e.Category == cat {
				want++
			}
		}
		if want == 0 {
			t.Fatalf("sample pack has no %s entries", cat)
		}
		got := srv.allFAQ(t, 100, "&category="+url.QueryEscape(cat))
		if len(got) != want {
			t.Errorf("got %d entries, want %d", len(got), want)
		}
		for _, e := range got {
			if e.Category != cat {
				t.Errorf("entry %s: got category %q, want %q", e.ID, e.Category, cat)
			}
		}
	})

	t.Run("faq by id", func(t *testing.T) {
		const id = "faq-taxi-license-materials"
		var e content.FAQEntry
		srv.get(t, "/api/faq/"+id, http.StatusOK, &e)
		if e.ID != id {
			t.Errorf("got id %q, want %q", e.ID, id)
		}
		if e.Question == "" || e.Answer == "" || len(e.Sources) == 0 {
			t.Errorf("got question %q, answer %q, sources %v; want all non-empty", e.Question, e.Answer, e.Sources)
		}
	})

	t.Run("documents", func(t *testing.T) {
		var l list[struct {
			ID        content.DocID `json:"id"`
			BodyChars int           `json:"body_chars"`
		}]
		srv.get(t, "/api/documents?per_page=100", http.StatusOK, &l)
		if l.Total != wantDocs || len(l.Items) != wantDocs {
			t.Fatalf("got total %d, %d items, want %d", l.Total, len(l.Items), wantDocs)
		}
		var d content.Document
		srv.get(t, "/api/documents/"+string(l.Items[0].ID), http.StatusOK, &d)
		if d.ID != l.Items[0].ID || d.Body == "" {
			t.Errorf("got document %q with %d bytes of body, want %q with a body", d.ID, len(d.Body), l.Items[0].ID)
		}
	})

	t.Run("sessions", func(t *testing.T) {
		var l list[content.Session]
		srv.get(t, "/api/sessions", http.StatusOK, &l)
		var ids []content.SessionID
		for _, s := range l.Items {
			ids = append(ids, s.ID)
			if !s.Public {
				t.Errorf("session %s: listed but not public", s.ID)
			}
		}
		if !containsID(ids, "demo") {
			t.Errorf("got sessions %v, want them to include demo", ids)
		}
	})

	t.Run("session demo", func(t *testing.T) {
		var s content.Session
		srv.get(t, "/api/sessions/demo", http.StatusOK, &s)
		if len(s.Segments) == 0 {
			t.Fatal("got no segments, want some")
		}
		for i, g := range s.Segments {
			if g.Order != i+1 {
				t.Errorf("segment %d: got order %d, want %d", i, g.Order, i+1)
			}
			if len(g.FAQ) == 0 || len(g.Docs) == 0 {
				t.Errorf("segment %d %q: got faq %v, docs %v; want both non-empty", i, g.Title, g.FAQ, g.Docs)
			}
			for _, id := range g.FAQ {
				if id == "" {
					t.Errorf("segment %d: empty faq id", i)
					continue
				}
				var e content.FAQEntry
				srv.get(t, "/api/faq/"+string(id), http.StatusOK, &e)
			}
			for _, id := range g.Docs {
				if id == "" {
					t.Errorf("segment %d: empty document id", i)
					continue
				}
				var d content.Document
				srv.get(t, "/api/documents/"+string(id), http.StatusOK, &d)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			path string
			want int
		}{
			{"unknown faq", "/api/faq/faq-no-such-entry", http.StatusNotFound},
			{"unknown document", "/api/documents/doc-no-such-document", http.StatusNotFound},
			{"unknown session", "/api/sessions/no-such-session", http.StatusNotFound},
			{"private session", "/api/sessions/service-center-intro", http.StatusNotFound},
			{"unknown route", "/api/nothing-here", http.StatusNotFound},
			{"page 0", "/api/faq?page=0", http.StatusBadRequest},
			{"page not a number", "/api/faq?page=two", http.StatusBadRequest},
			{"per_page 1000", "/api/faq?per_page=1000", http.StatusBadRequest},
			{"per_page 0 on documents", "/api/documents?per_page=0", http.StatusBadRequest},
			{"page 0 on sessions", "/api/sessions?page=0", http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var body map[string]any
				srv.get(t, tc.path, tc.want, &body)
				msg, ok := body["error"].(string)
				if !ok || msg == "" {
					t.Errorf("got body %v, want {\"error\": \"...\"}", body)
				}
			})
		}
	})

	if err := srv.stop(); err != nil {
		t.Fatalf("first serve: got %v, want nil", err)
	}
	if _, err := (&http.Client{Timeout: time.Second}).Get(srv.url + "/healthz"); err == nil {
		t.Errorf("GET /healthz after shutdown: got an answer, want the connection refused")
	}
	const imported = "imported the sample pack"
	if log := srv.stderr.String(); !strings.Contains(log, imported) {
		t.Errorf("first serve: stderr lacks %q:\n%s", imported, log)
	}

	again := startServe(t, data)
	var l list[content.FAQEntry]
	again.get(t, "/api/faq", http.StatusOK, &l)
	if l.Total != wantFAQ {
		t.Errorf("second serve: got %d faq entries, want %d", l.Total, wantFAQ)
	}
	if err := again.stop(); err != nil {
		t.Fatalf("second serve: got %v, want nil", err)
	}
	if log := again.stderr.String(); strings.Contains(log, imported) {
		t.Errorf("second serve: stderr says %q, want no import of the sample:\n%s", imported, log)
	}
}

func containsID[T ~string](ids []T, id T) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

// A store that editors emptied is not filled with the sample pack again
// on the next start: only a store that never held content gets it.
func TestServeDoesNotRefillAnEmptiedStore(t *testing.T) {
	data := t.TempDir()
	first := startServe(t, data)
	if err := first.stop(); err != nil {
		t.Fatalf("first serve: %v", err)
	}

	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(data, "govlive.db"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := content.NewStore(ctx, db, time.Now)
	if err != nil {
		t.Fatal(errors.Join(err, db.Close()))
	}
	err = func() error {
		sessions, _, err := cs.ListSessions(ctx, content.SessionFilter{}, content.Page{})
		if err != nil {
			return err
		}
		for _, s := range sessions {
			if err := cs.DeleteSession(ctx, s.ID, "editor"); err != nil {
				return err
			}
		}
		entries, _, err := cs.ListFAQ(ctx, content.FAQFilter{}, content.Page{})
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := cs.DeleteFAQ(ctx, e.ID, "editor"); err != nil {
				return err
			}
		}
		docs, _, err := cs.ListDocuments(ctx, content.DocumentFilter{}, content.Page{})
		if err != nil {
			return err
		}
		for _, d := range docs {
			if err := cs.DeleteDocument(ctx, d.ID, "editor"); err != nil {
				return err
			}
		}
		return nil
	}()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("empty the store: %v", err)
	}

	again := startServe(t, data)
	for _, path := range []string{"/api/faq", "/api/documents", "/api/sessions"} {
		var l list[json.RawMessage]
		again.get(t, path, http.StatusOK, &l)
		if l.Total != 0 {
			t.Errorf("second serve: %s has %d items, want 0", path, l.Total)
		}
	}
	if err := again.stop(); err != nil {
		t.Fatalf("second serve: %v", err)
	}
	if log := again.stderr.String(); strings.Contains(log, "imported the sample pack") {
		t.Errorf("second serve imported the sample pack into the emptied store:\n%s", log)
	}
}
