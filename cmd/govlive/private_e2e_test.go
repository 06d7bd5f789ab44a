package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"govlive/stream/demo"
	"govlive/stream/streamtest"
)

// publishCard publishes the demo card's VP8 and Opus over WHIP into
// session with token until the test ends.
func publishCard(t *testing.T, base, session, token string) {
	t.Helper()
	pc, video, audio := cardPeer(t)
	resp, body := streamtest.Signal(t, pc, base+"/whip/"+session, token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whip/%s: %s %s", session, resp.Status, body)
	}
	src, err := demo.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(p *rtp.Packet) { _ = video.WriteRTP(p) }, func(p *rtp.Packet) { _ = audio.WriteRTP(p) })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("demo card: %v", err)
		}
	})
}

// whep POSTs the offer of pc (a new receive-only viewer if nil) with
// token ("" for none) and returns the status and body; on 201 the answer
// is applied.
func whep(t *testing.T, pc *webrtc.PeerConnection, url, token string) (int, string) {
	t.Helper()
	if pc == nil {
		pc, _, _ = recvOnlyViewer(t)
	}
	resp, body := streamtest.Signal(t, pc, url, token)
	return resp.StatusCode, body
}

// TestPrivateSessionRehearsal: anchors rehearse in a private session — they
// publish with their token and watch with it — while to everyone else the
// session answers like one that does not exist, on the origin and through
// an edge (which asks the origin without a token, so a private session is
// never played through an edge).
func TestPrivateSessionRehearsal(t *testing.T) {
	const private = "service-center-intro" // public: false in the sample pack
	originData := t.TempDir()
	origin := startServeArgs(t, originData, "--ice-loopback")
	token := issueToken(t, originData, private, "陈静")
	publishCard(t, origin.url, private, token)

	missing, missingBody := whep(t, nil, origin.url+"/whep/nosuch", "")
	if missing != http.StatusNotFound {
		t.Fatalf("WHEP of a missing session: %d %s", missing, missingBody)
	}
	if status, body := whep(t, nil, origin.url+"/whep/"+private, ""); status != missing || body != missingBody {
		t.Fatalf("WHEP of the private session without a token: %d %s, want %d %s as for a missing one", status, body, missing, missingBody)
	}
	for _, path := range []string{"", "/stats", "/recordings"} {
		resp, err := http.Get(origin.url + "/api/sessions/" + private + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /api/sessions/%s%s without a token: %s, want 404", private, path, resp.Status)
		}
	}

	// the anchor watches the rehearsal with the token
	pc, video, audio := recvOnlyViewer(t)
	if status, body := whep(t, pc, origin.url+"/whep/"+private, token); status != http.StatusCreated {
		t.Fatalf("WHEP of the private session with its anchor's token: %d %s", status, body)
	}
	deadline := time.Now().Add(8 * time.Second)
	for video.Load() < 30 || audio.Load() < 25 {
		if time.Now().After(deadline) {
			t.Fatalf("the anchor's rehearsal after 8 s: %d video, %d audio packets", video.Load(), audio.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// an edge whose own store lists the session as public still gets the
	// origin's 404 and answers 404, with or without the token
	edgeData := t.TempDir()
	pack := t.TempDir()
	if err := os.MkdirAll(filepath.Join(pack, "sessions"), 0o755); err != nil {
		t.Fatal(err)
	}
	public := "id: " + private + "\ntitle: 彩排\ncategory: 综合窗口\nstart: 2026-04-09T15:00:00+08:00\nend: 2026-04-09T16:00:00+08:00\npublic: true\nanchors: []\nsegments: []\n"
	if err := os.WriteFile(filepath.Join(pack, "sessions", private+".yaml"), []byte(public), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"import", "--data", edgeData, pack}, envFunc(nil), io.Discard, io.Discard); err != nil {
		t.Fatalf("import into the edge: %v", err)
	}
	edge := startServeArgs(t, edgeData, "--ice-loopback", "--origin", origin.url, "--record=false")
	for _, tok := range []string{"", token} {
		status, body := whep(t, nil, edge.url+"/whep/"+private, tok)
		if status != http.StatusNotFound || !strings.Contains(body, "error") {
			t.Fatalf("WHEP of the private session through the edge (token %v): %d %s, want 404", tok != "", status, body)
		}
	}
}
