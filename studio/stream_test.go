package studio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"govlive/content"
	"govlive/store"
	"govlive/stream"
	"govlive/stream/streamtest"
	"govlive/studio"
)

// contentSessions tells the relay which sessions exist, from the store.
type contentSessions struct{ cs *content.Store }

func (s contentSessions) SessionExists(ctx context.Context, id stream.SessionID) (bool, error) {
	_, err := s.cs.Session(ctx, content.SessionID(id))
	if errors.Is(err, content.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// streamServer is a studio with a real relay (loopback ICE) and a
// recordings folder, served over HTTP on 127.0.0.1.
type streamServer struct {
	url    string
	tokens *stream.Tokens
	recDir string
}

func newStreamServer(t *testing.T) *streamServer {
	t.Helper()
	ss := &streamServer{recDir: t.TempDir()}
	srv := newServerWith(t, slog.New(slog.NewTextHandler(io.Discard, nil)), func(db *store.DB, cfg *studio.Config) {
		var err error
		if ss.tokens, err = stream.OpenTokens(context.Background(), db, nil); err != nil {
			t.Fatal(err)
		}
		r, err := stream.New(stream.Config{Sessions: contentSessions{cfg.Content}, Tokens: ss.tokens,
			ICE: stream.ICEConfig{Loopback: true}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		cfg.Relay, cfg.RecordDir, cfg.Anchors = r, ss.recDir, ss.tokens
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	ss.url = "http://" + ln.Addr().String()
	return ss
}

// recording writes a recording of session with n bytes (byte i is i%251)
// and returns its URL path and content.
func (ss *streamServer) recording(t *testing.T, session string, n int) (string, []byte) {
	t.Helper()
	const name = "主播甲-20260312T070000Z.webm"
	body := make([]byte, n)
	for i := range body {
		body[i] = byte(i % 251)
	}
	dir := filepath.Join(ss.recDir, session)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
		t.Fatal(err)
	}
	return "/api/sessions/" + session + "/recordings/%E4%B8%BB%E6%92%AD%E7%94%B2-20260312T070000Z.webm", body
}

// TestRecordingRanges: a recording download honours Range over real HTTP
// (206 with Content-Range, 416 past the end, If-Range, HEAD), so that a
// player can seek, and keeps its type and attachment name.
func TestRecordingRanges(t *testing.T) {
	ss := newStreamServer(t)
	path, file := ss.recording(t, "live", 100_000)
	size := strconv.Itoa(len(file))

	first, err := http.Get(ss.url + path)
	if err != nil {
		t.Fatal(err)
	}
	first.Body.Close()
	etag, modified := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	if etag == "" || modified == "" {
		t.Fatalf("no validators: ETag %q, Last-Modified %q", etag, modified)
	}

	for _, tc := range []struct {
		name, method string
		header       map[string]string
		status       int
		body         []byte // nil: not checked (an error, HEAD)
		contentRange string
	}{
		{"whole file", "GET", nil, 200, file, ""},
		{"first bytes", "GET", map[string]string{"Range": "bytes=0-99"}, 206, file[:100], "bytes 0-99/" + size},
		{"from the middle", "GET", map[string]string{"Range": "bytes=50000-"}, 206, file[50000:], "bytes 50000-99999/" + size},
		{"the last bytes", "GET", map[string]string{"Range": "bytes=-10"}, 206, file[len(file)-10:], "bytes 99990-99999/" + size},
		{"past the end", "GET", map[string]string{"Range": "bytes=100000-"}, 416, nil, "bytes */" + size},
		{"If-Range with its ETag", "GET", map[string]string{"Range": "bytes=10-19", "If-Range": etag}, 206, file[10:20], "bytes 10-19/" + size},
		{"If-Range with its date", "GET", map[string]string{"Range": "bytes=10-19", "If-Range": modified}, 206, file[10:20], "bytes 10-19/" + size},
		{"If-Range with another ETag", "GET", map[string]string{"Range": "bytes=10-19", "If-Range": `"other"`}, 200, file, ""},
		{"several ranges are served whole", "GET", map[string]string{"Range": "bytes=0-1,5-6"}, 200, file, ""},
		{"not modified", "GET", map[string]string{"If-None-Match": etag}, 304, []byte{}, ""},
		{"HEAD", "HEAD", nil, 200, []byte{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, ss.url+path, nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status: got %d, want %d (%s)", resp.StatusCode, tc.status, got)
			}
			if cr := resp.Header.Get("Content-Range"); cr != tc.contentRange {
				t.Errorf("Content-Range: got %q, want %q", cr, tc.contentRange)
			}
			if tc.body != nil && !bytes.Equal(got, tc.body) {
				t.Errorf("body: got %d bytes, want %d (the range)", len(got), len(tc.body))
			}
			switch {
			case tc.status == 416:
				var e struct{ Error string }
				if json.Unmarshal(got, &e) != nil || e.Error == "" {
					t.Errorf("416 body %q is not {\"error\": …}", got)
				}
			case tc.status < 300:
				if resp.Header.Get("Accept-Ranges") != "bytes" || resp.Header.Get("Content-Type") != "video/webm" ||
					resp.Header.Get("Content-Disposition") == "" {
					t.Errorf("headers %v: want Accept-Ranges bytes, video/webm and an attachment name", resp.Header)
				}
				if tc.method == "HEAD" && resp.ContentLength != int64(len(file)) {
					t.Errorf("HEAD: Content-Length %d, want %d", resp.ContentLength, len(file))
				}
			}
		})
	}
}

// answer is what a request got, compared whole.
type answer struct {
	status      int
	contentType string
	body        string
}

func (ss *streamServer) do(t *testing.T, method, path, token, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, ss.url+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/sdp")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

// TestPrivateSessionHiddenEverywhere: every route that names a session
// answers for a private session exactly as for one that does not exist
// (404, same body) unless the request carries a live publishing token of
// that session; with one, the anchor sees it all and can watch.
func TestPrivateSessionHiddenEverywhere(t *testing.T) {
	ss := newStreamServer(t)
	ctx := context.Background()
	ss.recording(t, "private", 1000)
	issue := func(session stream.SessionID, anchor string) string {
		tok, err := ss.tokens.Issue(ctx, session, anchor)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	anchor, coAnchor := issue("private", "甲"), issue("private", "乙")
	otherSession := issue("live", "甲")
	revoked := issue("private", "丙")
	if _, err := ss.tokens.Revoke(ctx, "private", "丙"); err != nil {
		t.Fatal(err)
	}
	offer := streamtest.Offer(t, streamtest.Viewer(t, streamtest.API(t), webrtc.Configuration{}))
	const rec = "%E4%B8%BB%E6%92%AD%E7%94%B2-20260312T070000Z.webm"
	routes := []struct {
		name, method, path, body string
		ok                       int // the anchor's status
	}{
		{"session", "GET", "/api/sessions/{id}", "", 200},
		{"stats", "GET", "/api/sessions/{id}/stats", "", 200},
		{"recordings", "GET", "/api/sessions/{id}/recordings", "", 200},
		{"recording download", "GET", "/api/sessions/{id}/recordings/" + rec, "", 200},
		{"WHEP", "POST", "/whep/{id}", offer, 201},
	}
	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			nothing := ss.do(t, rt.method, strings.ReplaceAll(rt.path, "{id}", "nosuch"), "", rt.body)
			if nothing.status != 404 {
				t.Fatalf("a session that does not exist: %d %s, want 404", nothing.status, nothing.body)
			}
			for _, c := range []struct{ who, token string }{
				{"no token", ""},
				{"not a token", "glt_nothing"},
				{"a token of another session", otherSession},
				{"a revoked token", revoked},
			} {
				if got := ss.do(t, rt.method, strings.ReplaceAll(rt.path, "{id}", "private"), c.token, rt.body); got != nothing {
					t.Errorf("%s: got %+v, want what a missing session gets, %+v", c.who, got, nothing)
				}
			}
			for _, tok := range []string{anchor, coAnchor} {
				if got := ss.do(t, rt.method, strings.ReplaceAll(rt.path, "{id}", "private"), tok, rt.body); got.status != rt.ok {
					t.Errorf("an anchor of the session: got %d %s, want %d", got.status, got.body, rt.ok)
				}
			}
		})
	}
	var seen content.Session
	got := ss.do(t, "GET", "/api/sessions/private", anchor, "")
	if err := json.Unmarshal([]byte(got.body), &seen); err != nil || seen.ID != "private" || seen.Public {
		t.Fatalf("the anchor's view of the session: %+v (%v)", seen, err)
	}
	// the WHEP preflight lets a page send the token
	req, _ := http.NewRequest(http.MethodOptions, ss.url+"/whep/private", nil)
	req.Header.Set("Origin", "https://other.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("WHEP preflight allows headers %q, want Authorization", resp.Header.Get("Access-Control-Allow-Headers"))
	}
}
