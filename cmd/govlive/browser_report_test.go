package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"govlive/bot"
	"govlive/bot/chatdb"
	"govlive/browsertest"
	"govlive/cases"
	"govlive/content"
	"govlive/store"
	"govlive/viewers"
)

// seedReport writes a past session's chat and cases into the data
// directory's store (serve stopped): some twenty questions over twelve
// minutes in six clusters, answered, escalated, declined, with ratings and
// cases. It returns the session's id.
func seedReport(t *testing.T, data string) content.SessionID {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(data, "govlive.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}()
	cs, err := content.NewStore(ctx, db, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	sessions, _, err := cs.ListSessions(ctx, content.SessionFilter{}, content.Page{})
	if err != nil || len(sessions) == 0 {
		t.Fatalf("sessions: %d (%v)", len(sessions), err)
	}
	sid := sessions[0].ID
	chat, err := chatdb.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// an hour ago: serve purges chat older than its retention
	at := time.Now().Add(-time.Hour).Truncate(time.Minute)
	tick := at
	desk, err := cases.NewStore(ctx, db, func() time.Time { tick = tick.Add(37 * time.Second); return tick })
	if err != nil {
		t.Fatal(err)
	}
	type cl struct {
		texts  []string
		action bot.Action
		reason bot.Reason
		rate   []bool
	}
	clusters := []cl{
		{[]string{"食品经营许可证要多久能办好", "食品证几天下来", "食品经营许可多长时间"}, bot.ActionAnswer, bot.ReasonFAQ, []bool{true, true, false}},
		{[]string{"网约车驾驶员证怎么考", "网约车证在哪里报名"}, bot.ActionAnswer, bot.ReasonFAQ, []bool{true}},
		{[]string{"我的养老金这个月怎么没到账", "我妈的养老金没发"}, bot.ActionEscalate, bot.ReasonPersonalCase, nil},
		{[]string{"营业执照办到哪一步了，受理号 2026****", "执照审批卡住了"}, bot.ActionEscalate, bot.ReasonPersonalCase, nil},
		{[]string{"公积金贷款额度怎么算"}, bot.ActionAnswer, bot.ReasonDocument, []bool{false, false}},
		{[]string{"今天天气怎么样"}, bot.ActionDecline, bot.ReasonOutOfScope, nil},
	}
	made := make([]*bot.Cluster, len(clusters))
	n := 0
	for round := 0; round < 3; round++ {
		for ci := range clusters {
			c := clusters[ci]
			if round >= len(c.texts)+1 {
				continue
			}
			text := c.texts[round%len(c.texts)]
			when := at.Add(time.Duration(n*37) * time.Second)
			v := bot.Sender{Channel: bot.ChannelWeb, ID: fmt.Sprintf("w-%d", n), Nick: fmt.Sprintf("观众%d", n)}
			p := &bot.Post{Session: sid, Author: v, Time: when, Text: text, Action: c.action, Reason: c.reason}
			var reply *bot.Post
			if c.action != bot.ActionEscalate {
				reply = &bot.Post{Session: sid, Author: bot.BotSender, Time: when, Text: "答复"}
			}
			if made[ci] == nil {
				made[ci] = &bot.Cluster{Session: sid, Text: c.texts[0], Key: c.texts[0], First: when, Action: c.action, Reason: c.reason}
			}
			cluster := made[ci] // later questions join the first one's cluster
			cluster.Count++
			cluster.Last, cluster.Joined = when, &v
			if err := chat.Save(ctx, p, reply, cluster); err != nil {
				t.Fatal(err)
			}
			cluster.Joined = nil
			if c.action == bot.ActionEscalate {
				if _, _, err := desk.Open(ctx, cases.Opening{Session: string(sid), Reason: string(c.reason), Question: text,
					Cluster: int64(p.Cluster), Message: int64(p.ID), Viewer: cases.Viewer{ID: v.ID, Nick: v.Nick}}); err != nil {
					t.Fatal(err)
				}
			}
			if reply != nil && round < len(c.rate) {
				level := 1 + n%2 // a 差评: 非常不满意 or 不满意
				if c.rate[round] {
					level = 5 - n%3 // a 好评: 非常满意, 满意 or 基本满意
				}
				if _, _, err := chat.Rate(ctx, sid, reply.ID, v.ID, c.rate[round], level, when); err != nil {
					t.Fatal(err)
				}
			}
			n++
		}
	}
	vl, err := viewers.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 11 {
		if err := vl.Record(ctx, string(sid), at.Add(time.Duration(i)*time.Minute), 40+i*9-(i/7)*30); err != nil {
			t.Fatal(err)
		}
	}
	open, err := desk.SessionCases(ctx, string(sid))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range open {
		if i == len(open)-1 {
			break // one stays open
		}
		if _, err := desk.Claim(ctx, c.ID, "王敏"); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			_, err = desk.Resolve(ctx, c.ID, "王敏", "已当场答复")
		} else {
			_, err = desk.Refer(ctx, c.ID, "王敏", "社保窗口", "")
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := desk.Rate(ctx, c.ID, "viewer", cases.Rating(5-i%3), ""); err != nil {
			t.Fatal(err)
		}
	}
	return sid
}

// TestBrowserReport: an editor opens a past session's report and its
// review page; screenshots at 1280 and 390 px (no sideways scroll).
func TestBrowserReport(t *testing.T) {
	chromium := browsertest.Find(t)
	data := t.TempDir()
	if _, err := user(t, data, "li xiao password\n", "add", "--role", "editor", "--display", "李晓", "li.xiao"); err != nil {
		t.Fatal(err)
	}
	first := startServeArgs(t, data) // imports the sample pack
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	sid := seedReport(t, data)
	p := startServeArgs(t, data)
	b := startBrowser(t, chromium)
	base := p.url + "/edit/sessions/" + string(sid)
	tb := b.open(t, "report", base+"/report")
	tb.waitTrue(t, "the login form", `location.pathname === "/login" && !!document.getElementById("password")`, 5*time.Second)
	if err := chromedp.Do(tb.ctx,
		chromedp.SendKeys("#name", "li.xiao"),
		chromedp.SendKeys("#password", "li xiao password"),
		chromedp.Click("#login-submit"),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	tb.waitTrue(t, "the report", `!!document.getElementById("figures") && document.querySelectorAll("svg.chart").length === 8`, 5*time.Second)
	shot(t, tb, "report-1280", 1280)
	shot(t, tb, "report-390", 390)
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/review")); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "the review", `document.querySelectorAll("#review-list > li").length >= 3`, 5*time.Second)
	shot(t, tb, "review-1280", 1280)
	shot(t, tb, "review-390", 390)
}
