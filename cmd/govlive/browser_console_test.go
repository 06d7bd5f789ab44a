package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"govlive/browsertest"
)

// TestBrowserConsole: an anchor linked to the demo session logs in, opens
// the anchor console, goes live from the browser with the fake camera
// (the relay then lists them beside the demo's test card, and a viewer's
// watch page decodes their picture), sees a
// viewer's question arrive on the question board and the bot's answer,
// claims a case a viewer's ID number opened and resolves it with a note,
// records the viewer's satisfaction, moves to the next segment with the
// keyboard shortcuts, pins an announcement that a viewer's watch page
// then shows, hides a message and mutes its viewer; the events socket
// comes back after a loss. Screenshots at 1280 and 390 px.
func TestBrowserConsole(t *testing.T) {
	chromium := browsertest.Find(t)
	data := t.TempDir()
	p := startServeArgs(t, data, "--demo", "--ice-loopback", "--udp-port", strconv.Itoa(freeUDPPort(t)))
	if _, err := user(t, data, "wang password 1\n", "add", "--role", "anchor", "--display", "王敏", "wang"); err != nil {
		t.Fatal(err)
	}
	if _, err := user(t, data, "", "link", "--session", "demo", "--anchor", "王敏", "wang"); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p)
	b := startBrowser(t, chromium)

	tb := b.open(t, "console", p.url+"/studio/demo")
	tb.waitTrue(t, "the login form", `location.pathname === "/login" && !!document.getElementById("password")`, 5*time.Second)
	if err := chromedp.Do(tb.ctx,
		chromedp.SendKeys("#name", "wang"),
		chromedp.SendKeys("#password", "wang password 1"),
		chromedp.Click("#login-submit"),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	tb.waitTrue(t, "the console, its events socket open", `location.pathname === "/studio/demo" && window.govlive && govlive.ws === "open" && document.querySelectorAll("#segments > li").length === 5`, 10*time.Second)
	checkText(t, tb, "document.querySelector('.console').dataset.anchor", "王敏")

	// go live with the fake camera
	tb.waitTrue(t, "the camera list", `document.getElementById("camera").options.length >= 1`, 3*time.Second)
	if err := chromedp.Do(tb.ctx, chromedp.Click("#start")); err != nil {
		t.Fatalf("click 开始直播: %v", err)
	}
	st := tb.waitState(t, "live", 10*time.Second, func(st pageState) bool {
		return st.State == "live" || st.State == "error" || st.State == "failed"
	})
	if st.State != "live" {
		t.Fatalf("console: state %q (%s), want live; console:\n%s", st.State, st.Error, tb.consoleText())
	}
	stats := waitStats(t, p, "demo", "王敏 on air beside the test card", 5*time.Second, func(st sessionStats) bool {
		for _, a := range st.Anchors {
			if a.Anchor == "王敏" && a.Video != "" && a.Slot >= 0 {
				return true
			}
		}
		return false
	})
	t.Logf("on air: %+v", stats.Anchors)
	tb.waitTrue(t, "the co-anchors listed", `(() => { const t = document.getElementById("live-anchors").textContent; return t.includes("王敏（我）") && t.includes("测试信号"); })()`, 8*time.Second)
	tb.waitTrue(t, "the stream's health", `document.getElementById("h-bitrate").textContent.includes("bps")`, 8*time.Second)

	// a viewer's question reaches the board, and the bot's answer the feed
	viewer := dialChat(t, p, "demo", "小王", "key-a", "")
	const q = "新办食品经营许可证需要准备哪些材料？"
	viewer.send(map[string]any{"type": "say", "text": q, "ref": "1"})
	tb.waitTrue(t, "the question on the board", `[...document.querySelectorAll("#clusters .cluster")].some((li) => li.textContent.includes("`+q+`") && li.textContent.includes("小王"))`, 10*time.Second)
	tb.waitTrue(t, "the bot's answer", `[...document.querySelectorAll("#answers .post")].some((li) => li.textContent.includes("新办食品经营许可需提交"))`, 10*time.Second)
	tb.waitTrue(t, "the question among the messages", `[...document.querySelectorAll("#messages .post")].some((li) => li.textContent.includes("`+q+`"))`, 5*time.Second)

	// an ID number opens a case; the anchor claims it and resolves it with a note
	const id = "11010519491231002X"
	viewer.send(map[string]any{"type": "say", "text": "我的身份证号 " + id + " 食品许可申请一直没批下来", "ref": "2"})
	tb.waitTrue(t, "a new case", `!!document.querySelector("#cases .case.state-open")`, 10*time.Second)
	caseID, err := eval[string](tb, `document.querySelector("#cases .case.state-open").id`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := eval[bool](tb, `document.body.textContent.includes("`+id+`")`); ok {
		t.Error("the console shows the raw ID number")
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click("#"+caseID+"-claim")); err != nil {
		t.Fatalf("click 认领: %v", err)
	}
	tb.waitTrue(t, "the case claimed", fmt.Sprintf(`!!document.querySelector("#%s.state-claimed #%s-note")`, caseID, caseID), 5*time.Second)
	const note = "已电话联系申请人，材料齐全，当日办结"
	if err := chromedp.Do(tb.ctx,
		chromedp.SendKeys("#"+caseID+"-note", note),
		chromedp.Click("#"+caseID+"-resolve"),
	); err != nil {
		t.Fatalf("resolve the case: %v", err)
	}
	tb.waitTrue(t, "the case gone from the open queue", `!document.getElementById("`+caseID+`")`, 5*time.Second)
	if _, err := eval[bool](tb, `(document.getElementById("case-filter").value = "all", document.getElementById("case-filter").dispatchEvent(new Event("change")), true)`); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the case resolved with its note", fmt.Sprintf(`(() => { const e = document.getElementById("%s"); return !!e && e.classList.contains("state-resolved") && e.textContent.includes("%s") && e.textContent.includes("王敏"); })()`, caseID, note), 5*time.Second)
	if err := chromedp.Do(tb.ctx,
		chromedp.SetValue("#"+caseID+"-rating", "5"),
		chromedp.Click("#"+caseID+"-rate"),
	); err != nil {
		t.Fatalf("rate the case: %v", err)
	}
	tb.waitTrue(t, "the satisfaction recorded", fmt.Sprintf(`document.getElementById("%s").textContent.includes("满意度：非常满意")`, caseID), 5*time.Second)

	// the run-sheet: N, then Alt+→, outside a text field
	if _, err := eval[bool](tb, `(document.activeElement && document.activeElement.blur(), true)`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent("n")); err != nil {
		t.Fatalf("press N: %v", err)
	}
	tb.waitTrue(t, "segment 1 current after N", `govlive.segment === 1 && document.getElementById("segment-1").getAttribute("aria-current") === "step"`, 5*time.Second)
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(kb.ArrowRight, chromedp.KeyModifiers(chromedp.ModifierAlt))); err != nil {
		t.Fatalf("press Alt+→: %v", err)
	}
	tb.waitTrue(t, "segment 2 current after Alt+→", `govlive.segment === 2 && document.getElementById("segment-2").classList.contains("current")`, 5*time.Second)
	checkText(t, tb, "document.getElementById('current-segment').textContent", "2. 变更、搬迁和延续，时间节点别错过")
	// typing an n in a text field does not move it
	if err := chromedp.Do(tb.ctx, chromedp.SendKeys("#pin-text", "n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if seg, _ := eval[int](tb, `govlive.segment`); seg != 2 {
		t.Errorf("typing n in the announcement moved the segment to %d", seg)
	}

	// pin an announcement; a viewer's watch page shows it
	const pinned = "本场直播帮办热线：12345，工作日 9:00–17:00"
	if _, err := eval[bool](tb, `(document.getElementById("pin-text").value = "") === ""`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx,
		chromedp.SendKeys("#pin-text", pinned),
		chromedp.Click("#pin-submit"),
	); err != nil {
		t.Fatalf("pin: %v", err)
	}
	tb.waitTrue(t, "the announcement pinned", `document.getElementById("pinned-now").textContent === "`+pinned+`"`, 5*time.Second)
	watch := b.open(t, "watch", p.url+"/live/demo")
	watch.waitState(t, "the console's camera playing in slot 2 of the watch page", 10*time.Second, func(st pageState) bool {
		return len(st.Slots) > 1 && st.Slots[1].Visible && st.Slots[1].Anchor == "王敏" && st.Slots[1].FramesDecoded > 0
	})
	watch.waitTrue(t, "the pinned announcement on the watch page", `(() => { const e = document.getElementById("chat-pinned"); return !!e && !e.hidden && e.textContent.includes("`+pinned+`"); })()`, 10*time.Second)

	// hide the viewer's first question, then mute the viewer
	msgID, err := eval[string](tb, `[...document.querySelectorAll("#messages .post")].find((li) => li.textContent.includes("`+q+`")).id`)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click("#"+msgID+" button")); err != nil {
		t.Fatalf("click 隐藏: %v", err)
	}
	tb.waitTrue(t, "the message hidden", `document.getElementById("`+msgID+`").classList.contains("hidden-post") && document.getElementById("`+msgID+`").textContent.includes("已隐藏（王敏）")`, 5*time.Second)
	if err := chromedp.Do(tb.ctx, chromedp.Click("#"+msgID+" button.danger")); err != nil {
		t.Fatalf("click 禁言: %v", err)
	}
	tb.waitTrue(t, "the viewer muted", `document.getElementById("console-error").textContent === "已禁言 小王 10 分钟" && document.getElementById("`+msgID+`").textContent.includes("小王（已禁言）")`, 5*time.Second)
	viewer.send(map[string]any{"type": "say", "text": "还能发言吗", "ref": "3"})
	f := viewer.next(func(f chatFrame) bool {
		return f.Refused != "" || f.Error != "" || (f.Type == "event" && strings.Contains(string(f.Event), `"notice"`))
	})
	if told := f.Refused + f.Error + string(f.Event); !strings.Contains(told, "禁言") {
		t.Errorf("the muted viewer is told %q", told)
	}

	// the websocket comes back by itself after a loss
	if _, err := eval[bool](tb, `(govlive.dropSocket(), true)`); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the events socket reconnected", `govlive.ws === "open" && govlive.wsConnects >= 2`, 8*time.Second)

	// the health panel shows the live stream: bitrate in, the viewer
	tb.waitTrue(t, "a bitrate and the viewer in the health panel", `!document.getElementById("h-bitrate").textContent.startsWith("0 ") && document.getElementById("h-viewers").textContent !== "0 人" && !document.getElementById("h-sent-keyframes").textContent.startsWith("0 ")`, 10*time.Second)
	shot(t, tb, "console-1280", 1280)
	shot(t, tb, "console-390", 390)
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1280, 900), chromedp.Click("#stop")); err != nil {
		t.Fatalf("click 停止直播: %v", err)
	}
	waitStats(t, p, "demo", "王敏 off air after stop", 5*time.Second, func(st sessionStats) bool {
		for _, a := range st.Anchors {
			if a.Anchor == "王敏" {
				return false
			}
		}
		return true
	})
	if strings.Contains(tb.consoleText(), "exception") {
		t.Errorf("console page threw:\n%s", tb.consoleText())
	}
	tb.checkPolicy(t)
	watch.checkPolicy(t)
}
