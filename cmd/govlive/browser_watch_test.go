package main

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"govlive/browsertest"
)

// TestBrowserWatchPage: the watch page with two anchors live (the demo's
// test card and a browser's fake camera) shows a grid, then follows the
// run-sheet when the anchors move the segment; a reply's source opens in
// a dialog; an answer is rated on the 好差评 scale and the server counts
// it and keeps its level (shown again after a reload that forgot it); a <script> in a message is text; 长辈模式 enlarges the text and is
// remembered across a reload; no sideways scroll at 390 px. Screenshots at
// 1280 and 390 px, normal and elder mode, and of the landing page.
func TestBrowserWatchPage(t *testing.T) {
	chromium := browsertest.Find(t)
	data := t.TempDir()
	p := startServeArgs(t, data, "--demo", "--ice-loopback", "--udp-port", strconv.Itoa(freeUDPPort(t)))
	token := issueToken(t, data, "demo", "测试主播")
	waitReady(t, p)
	b := startBrowser(t, chromium)

	pub := b.open(t, "publish", p.url+"/publish/demo?"+url.Values{"token": {token}}.Encode())
	pub.waitTrue(t, "publishing", `window.govlive && govlive.state === "live"`, 10*time.Second)

	opened := time.Now()
	tb := b.open(t, "watch", p.url+"/live/demo")
	for {
		in, err := eval[inbound](tb, inboundJS)
		if err != nil {
			t.Fatalf("getStats: %v", err)
		}
		if in.FramesDecoded > 0 {
			t.Logf("time to first decoded frame: %v after the watch page was opened (measured, loopback, two anchors)", time.Since(opened).Round(time.Millisecond))
			timing, _ := eval[map[string]float64](tb, `Object.assign({frame: Math.round(performance.now())}, govlive.timing)`)
			t.Logf("the page's own marks, ms since navigation: %v", timing)
			break
		}
		if time.Since(opened) > 8*time.Second {
			t.Fatalf("no decoded frame within 8s; console:\n%s", tb.consoleText())
		}
		time.Sleep(10 * time.Millisecond)
	}

	// two anchors: a grid of two side by side at desktop width
	tb.waitTrue(t, "two pictures in a grid", `govlive.layout === 2 && document.getElementById("grid").dataset.count === "2"`, 8*time.Second)
	if ok, _ := eval[bool](tb, `(() => { const t = [...document.querySelectorAll("#grid .tile")].filter((e) => !e.hidden);
		const a = t[0].getBoundingClientRect(), b = t[1].getBoundingClientRect(); return a.top === b.top && a.right <= b.left; })()`); !ok {
		t.Error("the two pictures are not side by side at 1280 px")
	}

	// the media connection lost (the server drops the viewer's resource):
	// the page connects again by itself and shows both pictures again
	lost := time.Now()
	if _, err := eval[bool](tb, `fetch(govlive.resource, { method: "DELETE" }).then((r) => r.ok)`); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "reconnected with both pictures", `govlive.reconnects >= 1 && govlive.state === "connected" && govlive.layout === 2`, 25*time.Second)
	t.Logf("video back %v after the server dropped the viewer (measured)", time.Since(lost).Round(time.Millisecond))

	// the segment follows the anchors' PUT /segment
	tb.waitTrue(t, "chat joined", `window.govliveChat && govliveChat.state === "connected"`, 10*time.Second)
	putSegment(t, p.url, token, 2)
	tb.waitTrue(t, "segment 2 shown", `govlive.segment === 2 && govlive.segmentTitle !== "" && document.getElementById("segment").textContent === "当前环节：" + govlive.segmentTitle`, 5*time.Second)
	first, _ := eval[string](tb, `govlive.segmentTitle`)
	putSegment(t, p.url, token, 1)
	tb.waitTrue(t, "segment 1 shown", `govlive.segment === 1 && govlive.segmentTitle !== "`+first+`" && document.getElementById("segment").textContent.startsWith("当前环节：")`, 5*time.Second)

	// a question with a <script>: text, not markup; the answer's source opens
	const q = "<script>window.pwned=1</script>新办食品经营许可证需要准备哪些材料？"
	if err := typeAndSend(tb.ctx, q); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the question shown as text", `[...document.querySelectorAll("#chat-list .post:not(.bot) .text")].some((e) => e.textContent.includes("<script>window.pwned=1</script>")) && !window.pwned && !document.querySelector("#chat-list script")`, 10*time.Second)
	tb.waitTrue(t, "the answer with a source button", `!!document.querySelector("#chat-list .post.bot button.source")`, 15*time.Second)
	if err := chromedp.Do(tb.ctx, chromedp.Click("#chat-list .post.bot button.source")); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the source in a dialog", `document.getElementById("source").open && document.getElementById("source-body").textContent.length > 20`, 5*time.Second)
	shot(t, tb, "watch-source-1280", 1280)
	if err := chromedp.Do(tb.ctx, chromedp.Click("#source-close")); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the dialog closed, focus back on the button", `!document.getElementById("source").open && document.activeElement.classList.contains("source")`, 3*time.Second)

	// a five-level rating: 不满意 counts as 差评 on the server
	if err := chromedp.Do(tb.ctx, chromedp.Click(`#chat-list .post.bot button.level[data-level="不满意"]`)); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the rating counted by the server", `(() => { const li = document.querySelector("#chat-list .post.bot"); const r = govliveChat.ratings[li.dataset.id];
		return r && r.down === 1 && li.querySelector('button[data-level="不满意"]').getAttribute("aria-pressed") === "true"; })()`, 5*time.Second)

	shot(t, tb, "watch-1280", 1280)
	shot(t, tb, "watch-390", 390)

	// 长辈模式: 24 px text at least, kept across a reload
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1280, 900), chromedp.Click("#elder")); err != nil {
		t.Fatal(err)
	}
	elder := `document.documentElement.classList.contains("elder") && parseFloat(getComputedStyle(document.querySelector("#chat-list .post .text")).fontSize) >= 24 &&
		parseFloat(getComputedStyle(document.body).fontSize) >= 24 && document.getElementById("elder").getAttribute("aria-pressed") === "true" &&
		[...document.querySelectorAll("button")].filter((b) => b.offsetParent).every((b) => b.getBoundingClientRect().height >= 44)`
	tb.waitTrue(t, "elder mode on", elder, 3*time.Second)
	// the level chosen forgotten by the browser: after the reload it comes
	// from the server (the welcome frame's "rated"), which stored it
	if _, err := eval[bool](tb, `(() => { Object.keys(localStorage).filter((k) => k.startsWith("govlive.rated.")).forEach((k) => localStorage.removeItem(k)); return true; })()`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "chat joined after the reload", `window.govliveChat && govliveChat.state === "connected" && document.querySelectorAll("#chat-list .post").length > 0`, 10*time.Second)
	tb.waitTrue(t, "elder mode kept after the reload", elder, 3*time.Second)
	tb.waitTrue(t, "the rating's counts and the level chosen after the reload", `(() => { const li = document.querySelector("#chat-list .post.bot");
		return li.querySelector(".counts").textContent === "好评 0 · 差评 1" && li.querySelector('button[data-level="不满意"]').getAttribute("aria-pressed") === "true"; })()`, 3*time.Second)
	tb.waitTrue(t, "the pictures back after the reload", `govlive.layout === 2`, 8*time.Second)
	shot(t, tb, "watch-elder-1280", 1280)
	shot(t, tb, "watch-elder-390", 390)
	tb.checkPolicy(t)

	// a past session's recording plays on the landing page
	taxi := b.open(t, "publish taxi", p.url+"/publish/taxi-drivers?"+url.Values{"token": {issueToken(t, data, "taxi-drivers", "测试主播")}}.Encode())
	taxi.waitTrue(t, "publishing", `window.govlive && govlive.state === "live"`, 10*time.Second)
	time.Sleep(1500 * time.Millisecond)
	if err := chromedp.Do(taxi.ctx, chromedp.Click(chromedp.ID("stop"))); err != nil {
		t.Fatal(err)
	}
	taxi.waitTrue(t, "stopped", `govlive.state === "stopped"`, 5*time.Second)
	home := b.open(t, "landing", p.url+"/")
	home.waitTrue(t, "a recording under the past session", `!!document.querySelector(".sessions.past .recordings button.play")`, 8*time.Second)
	if err := chromedp.Do(home.ctx, chromedp.Click(".sessions.past .recordings button.play")); err != nil {
		t.Fatal(err)
	}
	home.waitTrue(t, "the recording plays in the page", `(() => { const v = document.querySelector(".sessions.past video.player"); return !v.hidden && v.videoWidth > 0 && v.currentTime > 0; })()`, 8*time.Second)
	shot(t, home, "landing-1280", 1280)
	shot(t, home, "landing-390", 390)
	home.checkPolicy(t)
}

// putSegment moves the demo's run-sheet to segment n as its anchor.
func putSegment(t *testing.T, base, token string, n int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, base+"/api/sessions/demo/segment", bytes.NewBufferString(`{"segment":`+strconv.Itoa(n)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT segment %d: %s", n, resp.Status)
	}
}
