package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"govlive/stream/streamtest"
)

// TestWHIPResourceNeedsItsToken: PATCH and DELETE of a live WHIP
// publication over HTTP answer 401 with a Bearer challenge without the
// publisher's token, with another anchor's, or with the publisher's once
// revoked; with its own live token they work. WHEP resources take none.
func TestWHIPResourceNeedsItsToken(t *testing.T) {
	data := t.TempDir()
	p := startServeArgs(t, data, "--ice-loopback")
	mine := issueToken(t, data, "demo", "主播甲")
	theirs := issueToken(t, data, "demo", "主播乙")
	publisher := func() *webrtc.PeerConnection { return streamtest.Sender(t, streamtest.API(t), webrtc.Configuration{}) }
	resp, body := streamtest.Signal(t, publisher(), p.url+"/whip/demo", mine)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whip/demo: %s %s", resp.Status, body)
	}
	loc := p.url + resp.Header.Get("Location")
	do := func(method, url, token string) *http.Response {
		t.Helper()
		var req *http.Request
		if method == http.MethodPatch {
			req, _ = http.NewRequest(method, url, strings.NewReader("a=end-of-candidates\r\n"))
			req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
		} else {
			req, _ = http.NewRequest(method, url, nil)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	anchors := func() int {
		var st struct {
			Anchors []struct{} `json:"anchors"`
		}
		getJSON(t, p.url+"/api/sessions/demo/stats", &st)
		return len(st.Anchors)
	}
	for _, tc := range []struct{ name, token string }{
		{"no token", ""},
		{"another anchor's token", theirs},
		{"not a token", "glt_nothing"},
	} {
		for _, method := range []string{http.MethodPatch, http.MethodDelete} {
			t.Run(tc.name+" "+method, func(t *testing.T) {
				resp := do(method, loc, tc.token)
				if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("got %s, WWW-Authenticate %q; want 401 with a Bearer challenge", resp.Status, resp.Header.Get("WWW-Authenticate"))
				}
				if n := anchors(); n != 1 {
					t.Fatalf("%d anchors live after the refused request, want 1", n)
				}
			})
		}
	}
	if resp := do(http.MethodPatch, loc, mine); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH with its token: %s, want 204", resp.Status)
	}
	if err := run(context.Background(), []string{"token", "revoke", "--data", data, "--session", "demo", "--anchor", "主播甲"}, envFunc(nil), io.Discard, io.Discard); err != nil {
		t.Fatalf("token revoke: %v", err)
	}
	if resp := do(http.MethodDelete, loc, mine); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("DELETE with its revoked token: %s, want 401", resp.Status)
	}
	resp, body = streamtest.Signal(t, publisher(), p.url+"/whip/demo", theirs)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whip/demo: %s %s", resp.Status, body)
	}
	if resp := do(http.MethodDelete, p.url+resp.Header.Get("Location"), theirs); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE with its token: %s, want 200", resp.Status)
	}
	if n := anchors(); n != 1 {
		t.Fatalf("%d anchors live after the DELETE, want 1 (the revoked one goes on)", n)
	}
}
