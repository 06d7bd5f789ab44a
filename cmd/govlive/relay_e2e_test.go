package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"govlive/logtest"
	"govlive/stream/demo"
	"govlive/stream/streamtest"
)

// freeUDPPort returns a UDP port free on loopback a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func TestServeDemoToWHEPViewer(t *testing.T) {
	data := t.TempDir()
	p := startServeArgs(t, data, "--demo", "--ice-loopback", "--udp-port", itoa(freeUDPPort(t)))
	pc, video, audio := recvOnlyViewer(t)
	resp, body := streamtest.Signal(t, pc, p.url+"/whep/demo", "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whep/demo: %s %s", resp.Status, body)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/whep/demo/") {
		t.Fatalf("Location = %q", loc)
	}
	deadline := time.Now().Add(5 * time.Second)
	for video.Load() < 30 || audio.Load() < 25 {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %d video, %d audio packets", video.Load(), audio.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}

	var st struct {
		Anchors []struct{ Anchor string } `json:"anchors"`
		Viewers int                       `json:"viewers"`
	}
	getJSON(t, p.url+"/api/sessions/demo/stats", &st)
	if len(st.Anchors) != 1 || st.Viewers != 1 {
		t.Fatalf("stats: %+v", st)
	}
	metrics := getText(t, p.url+"/metrics")
	if !strings.Contains(metrics, `govlive_stream_viewers{session="demo"} 1`) {
		t.Fatalf("/metrics lacks the viewer gauge:\n%.2000s", metrics)
	}

	req, _ := http.NewRequest(http.MethodDelete, p.url+loc, nil)
	dresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	dresp.Body.Close()
	if dresp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %s", dresp.Status)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		getJSON(t, p.url+"/api/sessions/demo/stats", &st)
		if st.Viewers == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("viewer still counted after DELETE: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWHIPStatuses(t *testing.T) {
	data := t.TempDir()
	p := startServeArgs(t, data, "--ice-loopback")
	token := issueToken(t, data, "demo", "主播甲")

	publisher := func() *webrtc.PeerConnection { return streamtest.Sender(t, streamtest.API(t), webrtc.Configuration{}) }
	tests := []struct {
		name, path, token string
		want              int
	}{
		{"no token", "/whip/demo", "", http.StatusUnauthorized},
		{"wrong token", "/whip/demo", token + "x", http.StatusUnauthorized},
		{"unknown session", "/whip/nosuch", token, http.StatusNotFound},
		{"good", "/whip/demo", token, http.StatusCreated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := streamtest.Signal(t, publisher(), p.url+tc.path, tc.token)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
			if tc.want != http.StatusCreated {
				var e map[string]string
				if err := json.Unmarshal([]byte(body), &e); err != nil || e["error"] == "" {
					t.Fatalf("error body %q is not {\"error\": …}", body)
				}
			}
		})
	}

	req, _ := http.NewRequest(http.MethodPost, p.url+"/whip/demo", strings.NewReader("v=0"))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain offer: %s, want 415", resp.Status)
	}

	req, _ = http.NewRequest(http.MethodOptions, p.url+"/whip/demo", nil)
	req.Header.Set("Origin", "https://other.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %s %v", resp.Status, resp.Header)
	}

	if err := run(context.Background(), []string{"token", "revoke", "--data", data, "--session", "demo", "--anchor", "主播甲"}, envFunc(nil), io.Discard, io.Discard); err != nil {
		t.Fatalf("token revoke: %v", err)
	}
	if resp, body := streamtest.Signal(t, publisher(), p.url+"/whip/demo", token); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d %s", resp.StatusCode, body)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(getText(t, url)), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestWHIPPublishIsRecorded publishes the demo card's real VP8 and Opus
// over WHIP, ends the publication with DELETE — or lets the publisher
// vanish without one — and downloads the WebM the relay recorded.
func TestWHIPPublishIsRecorded(t *testing.T) {
	for _, end := range []string{"DELETE", "vanished"} {
		t.Run(end, func(t *testing.T) { testRecorded(t, end == "DELETE") })
	}
}

func testRecorded(t *testing.T, viaDelete bool) {
	data := t.TempDir()
	p := startServeArgs(t, data, "--ice-loopback")
	token := issueToken(t, data, "demo", "录像主播")

	pc, video, audio := cardPeer(t)
	resp, body := streamtest.Signal(t, pc, p.url+"/whip/demo", token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whip/demo: %s %s", resp.Status, body)
	}
	src, err := demo.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	err = src.Run(ctx,
		func(pkt *rtp.Packet) { _ = video.WriteRTP(pkt) },
		func(pkt *rtp.Packet) { _ = audio.WriteRTP(pkt) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("demo source: %v", err)
	}
	if viaDelete {
		req, _ := http.NewRequest(http.MethodDelete, p.url+resp.Header.Get("Location"), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		dresp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		dresp.Body.Close()
	} else {
		// the publisher goes away without a word to the HTTP side
		if err := pc.Close(); err != nil {
			t.Fatal(err)
		}
		var st struct {
			Anchors []struct{} `json:"anchors"`
		}
		deadline := time.Now().Add(15 * time.Second)
		for getJSON(t, p.url+"/api/sessions/demo/stats", &st); len(st.Anchors) > 0; getJSON(t, p.url+"/api/sessions/demo/stats", &st) {
			if time.Now().After(deadline) {
				t.Fatal("the relay still has the anchor 15 s after its connection went away")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	var list struct {
		Items []struct {
			Name     string `json:"name"`
			Anchor   string `json:"anchor"`
			MimeType string `json:"mime_type"`
			Size     int64  `json:"size"`
			URL      string `json:"url"`
		} `json:"items"`
	}
	getJSON(t, p.url+"/api/sessions/demo/recordings", &list)
	if len(list.Items) != 1 {
		t.Fatalf("recordings: %+v, want 1", list)
	}
	rec := list.Items[0]
	if rec.MimeType != "video/webm" || rec.Size < 10_000 || !strings.Contains(rec.Name, "录像主播") {
		t.Fatalf("recording %+v", rec)
	}
	file := getText(t, p.url+rec.URL)
	var doc struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment webm.Segment    `ebml:"Segment"`
	}
	if err := ebml.Unmarshal(strings.NewReader(file), &doc); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("recording is not WebM: %v", err)
	}
	codecs := map[string]bool{}
	for _, tr := range doc.Segment.Tracks.TrackEntry {
		codecs[tr.CodecID] = true
	}
	blocks := 0
	for _, c := range doc.Segment.Cluster {
		blocks += len(c.SimpleBlock)
	}
	if !codecs["V_VP8"] || !codecs["A_OPUS"] || blocks < 60 {
		t.Fatalf("recording has codecs %v and %d blocks; want V_VP8, A_OPUS and ≥ 60 blocks (2.5 s)", codecs, blocks)
	}

	if resp, err := http.Get(p.url + "/api/sessions/demo/recordings/..%2Fgovlive.db"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("traversal name: %v %v, want 404", resp.Status, err)
	}
	if resp, err := http.Get(p.url + "/api/sessions/nosuch/recordings"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown session: %v %v, want 404", resp.Status, err)
	}
}

// recvOnlyViewer is a pion WHEP viewer counting packets per kind.
func recvOnlyViewer(t *testing.T) (*webrtc.PeerConnection, *atomic.Int64, *atomic.Int64) {
	t.Helper()
	pc := streamtest.Viewer(t, streamtest.API(t), webrtc.Configuration{})
	video, audio := streamtest.Count(pc)
	return pc, video, audio
}

func TestEdgeServesOriginsDemo(t *testing.T) {
	origin := startServeArgs(t, t.TempDir(), "--demo", "--ice-loopback")
	edge := startServeArgs(t, t.TempDir(), "--ice-loopback", "--origin", origin.url, "--record=false")
	pc, video, audio := recvOnlyViewer(t)
	resp, body := streamtest.Signal(t, pc, edge.url+"/whep/demo", "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST edge /whep/demo: %s %s", resp.Status, body)
	}
	deadline := time.Now().Add(8 * time.Second)
	for video.Load() < 30 || audio.Load() < 25 {
		if time.Now().After(deadline) {
			t.Fatalf("through the edge after 8 s: %d video, %d audio packets", video.Load(), audio.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var st struct {
		Viewers int  `json:"viewers"`
		Edge    bool `json:"edge"`
	}
	getJSON(t, origin.url+"/api/sessions/demo/stats", &st)
	if st.Viewers != 1 || st.Edge {
		t.Fatalf("origin stats %+v: want the edge as its one viewer", st)
	}
	getJSON(t, edge.url+"/api/sessions/demo/stats", &st)
	if st.Viewers != 1 || !st.Edge {
		t.Fatalf("edge stats %+v", st)
	}
	if resp, _ := streamtest.Signal(t, streamtest.Peer(t, streamtest.API(t), webrtc.Configuration{}), edge.url+"/whip/demo", "glt_x"); resp.StatusCode != http.StatusConflict {
		t.Fatalf("publishing to an edge: %s, want 409", resp.Status)
	}

	req, _ := http.NewRequest(http.MethodDelete, edge.url+resp.Header.Get("Location"), nil)
	dresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	dresp.Body.Close()
	deadline = time.Now().Add(5 * time.Second)
	for {
		getJSON(t, origin.url+"/api/sessions/demo/stats", &st)
		if st.Viewers == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the edge still pulls from the origin after its last viewer left")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTricklePATCH(t *testing.T) {
	p := startServeArgs(t, t.TempDir(), "--ice-loopback")
	pc, _, _ := recvOnlyViewer(t)
	resp, body := streamtest.Signal(t, pc, p.url+"/whep/demo", "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whep/demo: %s %s", resp.Status, body)
	}
	if got := resp.Header.Get("Accept-Patch"); got != "application/trickle-ice-sdpfrag" {
		t.Fatalf("Accept-Patch = %q", got)
	}
	loc := resp.Header.Get("Location")
	ufrag := ""
	for _, line := range strings.Split(pc.LocalDescription().SDP, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "a=ice-ufrag:"); ok {
			ufrag = v
		}
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on the WHEP answer")
	}
	patch := func(contentType, ifMatch, frag string) int {
		req, _ := http.NewRequest(http.MethodPatch, p.url+loc, strings.NewReader(frag))
		req.Header.Set("Content-Type", contentType)
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const trickle = "application/trickle-ice-sdpfrag"
	candidate := "a=ice-ufrag:" + ufrag + "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\na=end-of-candidates\r\n"
	tests := []struct {
		name, contentType, ifMatch, frag string
		want                             int
	}{
		{"candidate", trickle, "", candidate, http.StatusNoContent},
		{"candidate with its ETag", trickle, etag, candidate, http.StatusNoContent},
		{"stale ETag", trickle, `"other"`, candidate, http.StatusPreconditionFailed},
		{"If-Match * asks a restart", trickle, "*", "a=ice-ufrag:newfrag\r\na=ice-pwd:newpasswordnewpassword12\r\n", http.StatusUnprocessableEntity},
		{"ICE restart", trickle, "", "a=ice-ufrag:newfrag\r\na=ice-pwd:newpasswordnewpassword12\r\n", http.StatusUnprocessableEntity},
		{"bad candidate", trickle, "", "a=candidate:garbage\r\n", http.StatusBadRequest},
		{"wrong type", "application/sdp", "", "a=end-of-candidates\r\n", http.StatusUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := patch(tc.contentType, tc.ifMatch, tc.frag); got != tc.want {
				t.Fatalf("PATCH: %d, want %d", got, tc.want)
			}
		})
	}
	other := strings.Replace(loc, "/whep/demo/", "/whep/taxi-drivers/", 1)
	req, _ := http.NewRequest(http.MethodDelete, p.url+other, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("DELETE through another session's URL: %v %v, want 404", resp.Status, err)
	}
	req, _ = http.NewRequest(http.MethodPatch, p.url+"/whep/demo/vnosuch", strings.NewReader("a=end-of-candidates\r\n"))
	req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("PATCH unknown resource: %v %v, want 404", resp.Status, err)
	}
}

func TestTokenCommand(t *testing.T) {
	data := t.TempDir()
	startServeArgs(t, data) // imports the sample pack (session demo)
	tests := []struct {
		name      string
		args      []string
		wantUsage bool
		wantErr   string
	}{
		{"no action", []string{"token"}, true, "token issue"},
		{"unknown action", []string{"token", "show"}, true, "token issue"},
		{"no anchor", []string{"token", "issue", "--data", data, "--session", "demo"}, true, "--anchor"},
		{"unknown session", []string{"token", "issue", "--data", data, "--session", "nosuch", "--anchor", "甲"}, false, `no session "nosuch"`},
		{"anchor name with a slash", []string{"token", "issue", "--data", data, "--session", "demo", "--anchor", "a/b", "--guest"}, false, "anchor name"},
		{"anchor the session does not list", []string{"token", "issue", "--data", data, "--session", "demo", "--anchor", "张主播"}, true,
			`session demo does not list the anchor "张主播" (its anchors: 王敏, 周航, 李晓)`},
		{"flags after an argument are read", []string{"token", "issue", "--data", data, "--session", "demo", "--anchor", "张主播", "extra", "--guest"}, true,
			`unexpected arguments ["extra"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tc.args, envFunc(nil), &out, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
			}
			if got := errors.As(err, new(usageError)); got != tc.wantUsage {
				t.Fatalf("usage error = %v, want %v (%v)", got, tc.wantUsage, err)
			}
			if out.Len() != 0 {
				t.Fatalf("printed %q on a failure", out.String())
			}
		})
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "issue", "--data", data, "--session", "demo", "--anchor", "甲", "--guest"}, envFunc(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if tok := lines[len(lines)-1]; !strings.HasPrefix(tok, "glt_") || strings.Contains(tok, " ") {
		t.Fatalf("last line %q is not the token alone", tok)
	}
	files, err := filepath.Glob(filepath.Join(data, "govlive.db*")) // with the WAL
	if err != nil || len(files) == 0 {
		t.Fatalf("database files: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(lines[len(lines)-1])) {
			t.Fatalf("the token is stored in clear in %s", f)
		}
	}
}

func TestTokenHelp(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"token", "-h"}, envFunc(nil), &out, io.Discard)
	if err != nil && !errors.Is(err, errHelp) {
		t.Fatalf("token -h: %v", err)
	}
	for _, want := range []string{"issue|revoke", "--session", "--anchor", "--data"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("token -h lacks %q:\n%s", want, out.String())
		}
	}
}

// TestServeHTTPS: with --tls-cert/--tls-key the pages, the API and WHEP are
// served over HTTPS (browsers open the camera only on secure pages).
func TestServeHTTPS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout := &logtest.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0", "--demo=false",
			"--tls-cert", certFile, "--tls-key", keyFile}, envFunc(nil), stdout, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	https := regexp.MustCompile(`govlive serving on (https://127\.0\.0\.1:\d+)\n`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; {
		if m := https.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no https serving line: %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, path := range []string{"/healthz", "/live/demo", "/api/stream/config"} {
		resp, err := client.Get(url + path)
		if err != nil {
			t.Fatalf("GET %s over HTTPS: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("an untrusting client accepted the self-signed certificate")
	}
}

// selfSigned makes a certificate for 127.0.0.1.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "govlive test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// cardPeer is a loopback peer that sends one VP8 and one Opus track (the
// demo card's codecs), not yet offered.
func cardPeer(t *testing.T) (pc *webrtc.PeerConnection, video, audio *webrtc.TrackLocalStaticRTP) {
	t.Helper()
	pc = streamtest.Peer(t, streamtest.API(t), webrtc.Configuration{})
	var err error
	if video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "card"); err != nil {
		t.Fatal(err)
	}
	if audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "card"); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []*webrtc.TrackLocalStaticRTP{video, audio} {
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	return pc, video, audio
}
