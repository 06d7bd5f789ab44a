package chatdb_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"govlive/bot"
	"govlive/bot/chatdb"
)

// scripted is a short session: three minutes of questions (the second
// minute empty), answered, escalated, declined and moderated ones, with
// ratings of the replies.
func scripted(t *testing.T, s *chatdb.Store) (answered, escalated bot.ClusterID) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	v := func(n int) bot.Sender {
		return bot.Sender{Channel: bot.ChannelWeb, ID: "w-" + string(rune('a'+n)), Nick: "观众"}
	}
	ask := func(n int, d time.Duration, text string, a bot.Action, r bot.Reason, c *bot.Cluster, reply bool) *bot.Post {
		q := &bot.Post{Session: "s1", Author: v(n), Time: at.Add(d), Text: text, Action: a, Reason: r}
		var rp *bot.Post
		if reply {
			rp = &bot.Post{Session: "s1", Author: bot.BotSender, Time: at.Add(d), Text: "答复"}
		}
		if c != nil {
			c.Count++
			c.Last = at.Add(d)
			j := v(n)
			c.Joined = &j
		}
		if err := s.Save(ctx, q, rp, c); err != nil {
			t.Fatal(err)
		}
		if c != nil {
			c.Joined = nil
		}
		return rp
	}
	food := &bot.Cluster{Session: "s1", Text: "食品证要几天", Key: "食品证要几天", First: at, Action: bot.ActionAnswer, Answered: at}
	r1 := ask(0, 0, "食品证要几天", bot.ActionAnswer, bot.ReasonFAQ, food, true)
	r2 := ask(1, 10*time.Second, "食品经营许可证几天办好", bot.ActionAnswer, bot.ReasonFAQ, food, true)
	ask(2, 20*time.Second, "食品证要几天", bot.ActionAnswer, bot.ReasonFAQ, food, true)
	pension := &bot.Cluster{Session: "s1", Text: "我的养老金怎么没到账", Key: "养老金到账", First: at.Add(time.Minute * 2), Action: bot.ActionEscalate}
	ask(3, 2*time.Minute, "我的养老金怎么没到账", bot.ActionEscalate, bot.ReasonPersonalCase, pension, false)
	ask(4, 2*time.Minute+5*time.Second, "我的养老金这个月没到", bot.ActionEscalate, bot.ReasonPersonalCase, pension, false)
	ask(5, 2*time.Minute+9*time.Second, "今天天气怎么样", bot.ActionDecline, bot.ReasonOutOfScope, nil, true)
	ask(6, 2*time.Minute+30*time.Second, "广告加微信", bot.ActionModerate, bot.ReasonSpam, nil, false)
	// other session: never counted
	if err := s.Save(ctx, &bot.Post{Session: "s2", Author: v(0), Time: at, Text: "别的场次"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		reply  bot.MessageID
		viewer string
		up     bool
	}{{r1.ID, "w-a", true}, {r1.ID, "w-b", true}, {r2.ID, "w-b", false}} {
		if _, _, err := s.Rate(ctx, "s1", g.reply, g.viewer, g.up, 0, at); err != nil {
			t.Fatal(err)
		}
	}
	return food.ID, pension.ID
}

func TestReport(t *testing.T) {
	s, closeDB := open(t, filepath.Join(t.TempDir(), "chat.db"))
	defer closeDB()
	food, pension := scripted(t, s)
	ctx := context.Background()
	r, err := s.Report(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	var perMinute []int
	for _, m := range r.PerMinute {
		perMinute = append(perMinute, m.Count)
	}
	if r.Questions != 7 || !reflect.DeepEqual(perMinute, []int{3, 0, 4}) {
		t.Errorf("questions %d per minute %v, want 7 [3 0 4]", r.Questions, perMinute)
	}
	if got := r.PerMinute[1].Minute; !got.Equal(time.Date(2026, 5, 1, 10, 1, 0, 0, time.UTC)) {
		t.Errorf("the empty minute is %v", got)
	}
	want := []chatdb.DecisionCount{
		{Action: bot.ActionAnswer, Reason: bot.ReasonFAQ, Count: 3},
		{Action: bot.ActionEscalate, Reason: bot.ReasonPersonalCase, Count: 2},
		{Action: bot.ActionDecline, Reason: bot.ReasonOutOfScope, Count: 1},
		{Action: bot.ActionModerate, Reason: bot.ReasonSpam, Count: 1},
	}
	if !reflect.DeepEqual(r.Decisions, want) {
		t.Errorf("decisions %+v\nwant %+v", r.Decisions, want)
	}
	if r.Replies != 4 || r.Up != 2 || r.Down != 1 {
		t.Errorf("replies %d up %d down %d, want 4 2 1", r.Replies, r.Up, r.Down)
	}
	if len(r.Clusters) != 2 || r.Clusters[0].ID != food || r.Clusters[1].ID != pension {
		t.Fatalf("clusters %+v", r.Clusters)
	}
	for _, tc := range []struct {
		c                    chatdb.ClusterFigures
		count, up, down      int
		unanswered, lowRated bool
	}{
		{r.Clusters[0], 3, 2, 1, false, false},
		{r.Clusters[1], 2, 0, 0, true, false},
	} {
		if tc.c.Count != tc.count || tc.c.Up != tc.up || tc.c.Down != tc.down || tc.c.Unanswered() != tc.unanswered || tc.c.LowRated() != tc.lowRated {
			t.Errorf("cluster %d: %+v", tc.c.ID, tc.c)
		}
	}
	for _, tc := range []struct {
		id   bot.ClusterID
		want []string
	}{
		{food, []string{"食品证要几天", "食品经营许可证几天办好"}},
		{pension, []string{"我的养老金怎么没到账", "我的养老金这个月没到"}},
		{999, nil},
	} {
		got, err := s.Phrasings(ctx, "s1", tc.id, 0)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("phrasings of %d: %q (%v), want %q", tc.id, got, err, tc.want)
		}
	}
	empty, err := s.Report(ctx, "nobody")
	if err != nil || empty.Questions != 0 || len(empty.PerMinute) != 0 || len(empty.Clusters) != 0 {
		t.Errorf("empty session: %+v %v", empty, err)
	}
}
