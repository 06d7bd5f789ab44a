package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"govlive/browsertest"
)

// TestBrowserPublishAndWatch publishes Chromium's fake camera and
// microphone from publish.html and watches it in live.html, through a real
// "govlive serve", once per video codec.
func TestBrowserPublishAndWatch(t *testing.T) {
	tests := []struct {
		name  string
		codec string // ?codec= of the publish page
		mime  string // the video codec the viewer must decode
		copy  string // where a local run copies the screenshot
	}{
		{"VP8", "vp8", "video/VP8", "/tmp/govlive-watch.png"},
		{"H264", "h264", "video/H264", "/tmp/govlive-watch-h264.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const session = "demo"
			chromium := browsertest.Find(t)
			data := t.TempDir()
			p := startServeArgs(t, data, "--ice-loopback", "--udp-port", strconv.Itoa(freeUDPPort(t)))
			token := issueToken(t, data, session, "测试主播")
			b := startBrowser(t, chromium) // closed before serve stops

			pub := b.open(t, "publish", p.url+"/publish/"+session+"?"+url.Values{"token": {token}, "codec": {tt.codec}}.Encode())
			st := pub.waitState(t, "a final state", 10*time.Second, func(st pageState) bool {
				return st.State == "live" || st.State == "error" || st.State == "failed"
			})
			if st.State != "live" {
				t.Fatalf("publish page: got state %q (%s), want live; console:\n%s", st.State, st.Error, pub.consoleText())
			}
			if want := strings.TrimPrefix(tt.mime, "video/"); st.Codec != want {
				t.Errorf("publish page sends %q, want %q", st.Codec, want)
			}

			start := time.Now()
			watch := b.open(t, "watch", p.url+"/live/"+session)
			var in inbound
			for {
				var err error
				if in, err = eval[inbound](watch, inboundJS); err != nil {
					t.Fatalf("watch page getStats: %v; console:\n%s", err, watch.consoleText())
				}
				if in.FramesDecoded > 0 && in.AudioPackets > 0 {
					break
				}
				if time.Since(start) > 5*time.Second {
					st, _ := watch.state()
					t.Fatalf("watch page: no decoded video and audio within 5s of opening: inbound %+v, page %+v; console:\n%s\nserve stderr:\n%s",
						in, st, watch.consoleText(), p.stderr.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("first decoded frame %v after the watch page was opened (%s %dx%d, %d audio packets)",
				time.Since(start).Round(time.Millisecond), in.VideoCodec, in.FrameWidth, in.FrameHeight, in.AudioPackets)
			if in.VideoCodec != tt.mime {
				t.Errorf("watch page decodes %q, want %q", in.VideoCodec, tt.mime)
			}
			if in.AudioCodec != "audio/opus" {
				t.Errorf("watch page receives audio %q, want audio/opus", in.AudioCodec)
			}

			watch.waitState(t, "slot 0 shown", 3*time.Second, func(st pageState) bool {
				return len(st.Slots) > 0 && st.Slots[0].Visible
			})
			watch.screenshot(t, tt.copy)

			stats := waitStats(t, p, session, "1 anchor and 1 viewer", 3*time.Second, func(st sessionStats) bool {
				return len(st.Anchors) == 1 && st.Viewers == 1
			})
			if a := stats.Anchors[0]; a.Anchor != "测试主播" || a.Slot != 0 || a.Video != tt.mime {
				t.Errorf("stats: got anchor %+v, want 测试主播 in slot 0 sending %s", a, tt.mime)
			}

			if err := chromedp.Do(pub.ctx, chromedp.Click(chromedp.ID("stop"))); err != nil {
				t.Fatalf("click stop: %v", err)
			}
			stopped := time.Now()
			waitStats(t, p, session, "no anchor after stop", 3*time.Second, func(st sessionStats) bool {
				return len(st.Anchors) == 0
			})
			t.Logf("anchor gone from the stats %v after stop", time.Since(stopped).Round(time.Millisecond))
			// the browser's publication was recorded, in the container for its codec
			var recs struct {
				Items []struct {
					MimeType string `json:"mime_type"`
					Size     int64  `json:"size"`
					URL      string `json:"url"`
				} `json:"items"`
			}
			getJSON(t, p.url+"/api/sessions/"+session+"/recordings", &recs)
			wantMime := map[string]string{"video/VP8": "video/webm", "video/H264": "video/mp4"}[tt.mime]
			if len(recs.Items) != 1 || recs.Items[0].MimeType != wantMime || recs.Items[0].Size < 2000 {
				t.Fatalf("recordings after stop: %+v, want one %s file of some size", recs.Items, wantMime)
			}
			decodes(t, getText(t, p.url+recs.Items[0].URL))
			if st, err := pub.state(); err != nil || st.State != "stopped" {
				t.Errorf("publish page after stop: got %+v (%v), want state stopped", st, err)
			}
			watch.waitState(t, "slot 0 hidden after the anchor left", 4*time.Second, func(st pageState) bool {
				return len(st.Slots) > 0 && !st.Slots[0].Visible
			})

			// The anchor comes back: the viewer's slot plays again, on the
			// transceivers it already has.
			if err := chromedp.Do(pub.ctx, chromedp.Click(chromedp.ID("start"))); err != nil {
				t.Fatalf("click start: %v", err)
			}
			restarted := time.Now()
			watch.waitState(t, "slot 0 shown again after the anchor came back", 5*time.Second, func(st pageState) bool {
				return len(st.Slots) > 0 && st.Slots[0].Visible
			})
			t.Logf("slot 0 shown again %v after the anchor started again", time.Since(restarted).Round(time.Millisecond))
			waitStats(t, p, session, "1 anchor and 1 viewer again", 3*time.Second, func(st sessionStats) bool {
				return len(st.Anchors) == 1 && st.Viewers == 1
			})
			pub.checkPolicy(t)
			watch.checkPolicy(t)
		})
	}
}

// decodes checks with ffmpeg that a recording decodes without an error
// and with ffprobe that every video packet decodes to a frame (CI
// installs ffmpeg; elsewhere the check is skipped when it is missing).
//
// ffmpeg decodes with -enc_time_base -1: its null output then keeps the
// file's own time base (1/90000 for video). Without it, ffmpeg 5.1 gives
// the null muxer a time base of one frame at the rate it guesses from the
// file (Chromium's timestamps are capture times, too irregular for a
// nominal rate to be found, so it takes the average rate), rounds every
// frame's time to it, and reports two frames closer than one average
// frame interval as "non monotonically increasing dts" although their
// timestamps in the file increase. Kept in the file's time base, equal or
// decreasing timestamps in the file are still reported.
func decodes(t *testing.T, file string) {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		if browsertest.Required() {
			t.Fatalf("ffmpeg is required here: %v", err)
		}
		t.Logf("no ffmpeg: the recording is not decoded")
		return
	}
	path := filepath.Join(t.TempDir(), "recording")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-enc_time_base", "-1", "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg decoding the recording: %v\n%s", err, out)
	}
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffmpeg without ffprobe: %v", err)
	}
	out, err = exec.Command(ffprobe, "-v", "error", "-select_streams", "v:0", "-count_frames", "-count_packets",
		"-show_entries", "stream=nb_read_frames,nb_read_packets", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe counting the recording's frames: %v\n%s", err, out)
	}
	frames, packets, _ := strings.Cut(strings.TrimSpace(string(out)), ",")
	if frames != packets || frames == "0" {
		t.Fatalf("ffprobe: %s video frames decoded from %s packets, want one frame per packet", frames, packets)
	}
	t.Logf("the recording decodes: %s video frames", frames)
}

// issueToken runs "govlive token issue" and returns the token.
func issueToken(t *testing.T, data, session, anchor string) string {
	t.Helper()
	var out bytes.Buffer
	args := []string{"token", "issue", "--data", data, "--session", session, "--anchor", anchor, "--guest"}
	if err := run(context.Background(), args, envFunc(nil), &out, io.Discard); err != nil {
		t.Fatalf("token issue: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := strings.TrimSpace(lines[len(lines)-1])
	if token == "" || strings.ContainsAny(token, " \t") {
		t.Fatalf("token issue: got last line %q, want the token alone", token)
	}
	return token
}

// sessionStats is what GET /api/sessions/{id}/stats answers, in part.
type sessionStats struct {
	Anchors []struct {
		Anchor string `json:"anchor"`
		Slot   int    `json:"slot"`
		Video  string `json:"video"`
	} `json:"anchors"`
	Viewers int `json:"viewers"`
}

// waitStats polls the session's stats until ok accepts them, and fails the
// test after timeout.
func waitStats(t *testing.T, p *serveProc, session, what string, timeout time.Duration, ok func(sessionStats) bool) sessionStats {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var st sessionStats
		p.get(t, "/api/sessions/"+session+"/stats", http.StatusOK, &st)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats of %s: %s not seen within %v; last %+v", session, what, timeout, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// browser is a headless Chromium with a fake camera and microphone.
type browser struct {
	ctx context.Context // holds the browser; tabs are its children
}

// startBrowser starts the Chromium at path for the test (browsertest.Start)
// with a fake camera and microphone that pages may use without asking,
// WebRTC on loopback, no QUIC and a 1024×768 window.
func startBrowser(t *testing.T, path string) *browser {
	t.Helper()
	return &browser{ctx: browsertest.Start(t, path,
		chromedp.Flag("use-fake-device-for-media-stream", "fps=30"),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1024, 768),
	)}
}

// tab is one page of the browser. What the page writes to its console is
// kept for failure messages.
type tab struct {
	name string
	ctx  context.Context

	mu         sync.Mutex
	console    []string
	requests   []request // what the page asked for (see record)
	violations []string  // security policy violations (see record)
}

// open loads url in a new tab, closed at the end of the test. It fails the
// test unless the page answers 200.
func (b *browser) open(t *testing.T, name, url string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	tb := &tab{name: name, ctx: ctx}
	if err := chromedp.Listen(ctx, tb.listen); err != nil {
		t.Fatalf("open a tab for the %s page: %v", name, err)
	}
	if err := tb.watchPolicy(); err != nil {
		t.Fatalf("open a tab for the %s page: %v", name, err)
	}
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("open %s page: %v", name, err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("open %s page: got status %d, want 200", name, resp.Status)
	}
	return tb
}

// listen keeps console calls and uncaught exceptions (it runs in the tab's
// event loop: no commands here).
func (tb *tab) listen(ev any) {
	tb.record(ev)
	var line string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		args := make([]string, 0, len(ev.Args))
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		line = string(ev.Type) + ": " + strings.Join(args, " ")
	case *runtime.EventExceptionThrown:
		line = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			line += " " + ev.ExceptionDetails.Exception.Description
		}
	default:
		return
	}
	tb.mu.Lock()
	tb.console = append(tb.console, line)
	tb.mu.Unlock()
}

// consoleText is what the page wrote to its console.
func (tb *tab) consoleText() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.console) == 0 {
		return "(nothing)"
	}
	return strings.Join(tb.console, "\n")
}

// eval evaluates expr in the page, awaiting a promise, and decodes the
// result into a T.
func eval[T any](tb *tab, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, 3*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// pageState is a page's window.govlive, as far as the tests read it.
type pageState struct {
	State string `json:"state"`
	Error string `json:"error"`
	Codec string `json:"codec"`
	Slots []struct {
		Visible       bool   `json:"visible"`
		FramesDecoded int    `json:"framesDecoded"`
		Anchor        string `json:"anchor"`
	} `json:"slots"`
}

func (tb *tab) state() (pageState, error) {
	return eval[pageState](tb, `window.govlive || {}`)
}

// waitState polls the page until ok accepts its state, and fails the test
// after timeout.
func (tb *tab) waitState(t *testing.T, what string, timeout time.Duration, ok func(pageState) bool) pageState {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := tb.state()
		if err == nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s page: %s not reached within %v: state %+v (%v); console:\n%s", tb.name, what, timeout, st, err, tb.consoleText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshot saves a PNG of the page, once slot 0's video has presented a
// frame, in the test's artifact dir; a local run (CI unset) copies it to
// localCopy too.
func (tb *tab) screenshot(t *testing.T, localCopy string) {
	t.Helper()
	presented, err := eval[bool](tb, `new Promise((resolve) => {
		const v = document.getElementById("slot0");
		v.requestVideoFrameCallback(() => resolve(v.videoWidth > 0));
	})`)
	if err != nil || !presented {
		t.Fatalf("%s page: slot 0 presents no frame (%v)", tb.name, err)
	}
	shot, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot of the %s page: %v", tb.name, err)
	}
	file := filepath.Join(t.ArtifactDir(), tb.name+".png")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot of the %s page: %s", tb.name, file)
	if os.Getenv("CI") == "" && localCopy != "" {
		if err := os.WriteFile(localCopy, shot, 0o644); err != nil {
			t.Logf("copy screenshot: %v", err)
			return
		}
		t.Logf("screenshot copied to %s", localCopy)
	}
}

// inbound sums a viewer's inbound-rtp stats (inboundJS computes it).
type inbound struct {
	FramesDecoded int    `json:"framesDecoded"`
	FrameWidth    int    `json:"frameWidth"`
	FrameHeight   int    `json:"frameHeight"`
	VideoCodec    string `json:"videoCodec"`
	AudioPackets  int    `json:"audioPackets"`
	AudioCodec    string `json:"audioCodec"`
	Connection    string `json:"connection"`
}

const inboundJS = `(async () => {
	const out = {framesDecoded: 0, frameWidth: 0, frameHeight: 0, videoCodec: "", audioPackets: 0, audioCodec: "", connection: ""};
	const pc = window.pc;
	if (!pc) return out;
	out.connection = pc.connectionState;
	const stats = await pc.getStats();
	stats.forEach((r) => {
		if (r.type !== "inbound-rtp") return;
		const codec = r.codecId && stats.get(r.codecId) ? stats.get(r.codecId).mimeType : "";
		if (r.kind === "video") {
			out.framesDecoded += r.framesDecoded || 0;
			out.frameWidth = Math.max(out.frameWidth, r.frameWidth || 0);
			out.frameHeight = Math.max(out.frameHeight, r.frameHeight || 0);
			if (codec) out.videoCodec = codec;
		} else if (r.kind === "audio") {
			out.audioPackets += r.packetsReceived || 0;
			if (codec) out.audioCodec = codec;
		}
	});
	return out;
})()`

// TestBrowserWatchesDemo is the newcomer's first look: serve's own test
// card and tone play on the watch page, with no camera anywhere.
func TestBrowserWatchesDemo(t *testing.T) {
	chromium := browsertest.Find(t)
	p := startServeArgs(t, t.TempDir(), "--demo", "--ice-loopback", "--udp-port", strconv.Itoa(freeUDPPort(t)))
	b := startBrowser(t, chromium)
	start := time.Now()
	watch := b.open(t, "watch", p.url+"/live/demo")
	for {
		in, err := eval[inbound](watch, inboundJS)
		if err != nil {
			t.Fatalf("watch page getStats: %v; console:\n%s", err, watch.consoleText())
		}
		if in.FramesDecoded > 0 && in.AudioPackets > 0 {
			t.Logf("first decoded frame of the demo card %v after the page was opened (%s %dx%d)",
				time.Since(start).Round(time.Millisecond), in.VideoCodec, in.FrameWidth, in.FrameHeight)
			if in.FrameWidth != 640 || in.FrameHeight != 360 {
				t.Errorf("demo card decoded at %dx%d, want 640x360", in.FrameWidth, in.FrameHeight)
			}
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("no decoded demo card within 5 s: %+v; console:\n%s", in, watch.consoleText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	watch.waitState(t, "slot 0 shown and labelled with the demo anchor", 4*time.Second, func(st pageState) bool {
		return len(st.Slots) > 0 && st.Slots[0].Visible && st.Slots[0].Anchor == "测试信号"
	})
	watch.screenshot(t, "/tmp/govlive-demo.png")
	watch.checkPolicy(t)
}
