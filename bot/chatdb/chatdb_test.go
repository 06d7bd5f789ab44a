package chatdb_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"govlive/bot"
	"govlive/bot/chatdb"
	"govlive/store"
)

func open(t *testing.T, path string) (*chatdb.Store, func()) {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := chatdb.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return s, func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}
}

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "chat.db")
	s, closeDB := open(t, path)
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	viewer := bot.Sender{Channel: bot.ChannelWeb, ID: "w-1", Nick: "小王"}
	q := &bot.Post{Session: "s1", Author: viewer, Time: at, Text: "食品证要几天", Action: bot.ActionAnswer, Reason: bot.ReasonFAQ,
		Hits: []bot.HitRef{{Kind: "faq", ID: "faq-a", Score: 0.9}}}
	r := &bot.Post{Session: "s1", Author: bot.BotSender, Time: at, Text: "5个工作日", Source: &bot.SourceRef{Kind: "faq", ID: "faq-a", Label: "《指南》"}}
	c := &bot.Cluster{Session: "s1", Text: q.Text, Key: "食品证要几天", Count: 1, First: at, Last: at, Action: bot.ActionAnswer,
		Answered: at, Joined: &viewer}
	if err := s.Save(ctx, q, r, c); err != nil {
		t.Fatal(err)
	}
	if q.ID == 0 || r.ReplyTo != q.ID || q.Cluster != c.ID || c.Reply != r.ID {
		t.Fatalf("ids not linked: q %+v r %+v c %+v", q, r, c)
	}
	other := &bot.Post{Session: "s2", Author: viewer, Time: at, Text: "别的场次"}
	if err := s.Save(ctx, other, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Ratings: one per viewer, replaced; only bot replies; only in their session.
	for _, up := range []bool{true, false, true} {
		if _, _, err := s.Rate(ctx, "s1", r.ID, "w-2", up, 0, at); err != nil {
			t.Fatal(err)
		}
	}
	if ups, downs, err := s.Rate(ctx, "s1", r.ID, "w-3", false, 0, at); err != nil || ups != 1 || downs != 1 {
		t.Errorf("ratings %d/%d (%v), want 1/1", ups, downs, err)
	}
	if _, _, err := s.Rate(ctx, "s1", q.ID, "w-2", true, 0, at); !errors.Is(err, chatdb.ErrNotFound) {
		t.Errorf("rating a viewer's post: %v", err)
	}
	if _, _, err := s.Rate(ctx, "s2", r.ID, "w-2", true, 0, at); !errors.Is(err, chatdb.ErrNotFound) {
		t.Errorf("rating across sessions: %v", err)
	}
	if _, err := s.Hide(ctx, "s2", q.ID, "主播"); !errors.Is(err, chatdb.ErrNotFound) {
		t.Errorf("hiding across sessions: %v", err)
	}
	if _, err := s.Hide(ctx, "s1", q.ID, "主播"); err != nil {
		t.Fatal(err)
	}
	closeDB()

	// Reopened: everything is there, filters hold.
	s, closeDB = open(t, path)
	defer closeDB()
	tests := []struct {
		name string
		f    bot.PostFilter
		want []bot.MessageID
	}{
		{"all", bot.PostFilter{}, []bot.MessageID{q.ID, r.ID}},
		{"public", bot.PostFilter{Public: true}, []bot.MessageID{r.ID}},
		{"questions", bot.PostFilter{Questions: true}, []bot.MessageID{q.ID}},
		{"after", bot.PostFilter{After: q.ID}, []bot.MessageID{r.ID}},
		{"reason", bot.PostFilter{Reason: bot.ReasonFAQ}, []bot.MessageID{q.ID}},
		{"viewer", bot.PostFilter{Viewer: "w-9"}, nil},
		{"limit keeps the latest", bot.PostFilter{Limit: 1}, []bot.MessageID{r.ID}},
	}
	for _, tt := range tests {
		got, err := s.Posts(ctx, "s1", tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []bot.MessageID
		for _, p := range got {
			ids = append(ids, p.ID)
		}
		if len(ids) != len(tt.want) || (len(ids) > 0 && ids[0] != tt.want[0]) {
			t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
		}
	}
	got, _ := s.Post(ctx, "s1", r.ID)
	if got.Up != 1 || got.Down != 1 || got.Source == nil || got.Source.Label != "《指南》" {
		t.Errorf("reply after reopening: %+v", got)
	}
	hidden, _ := s.Post(ctx, "s1", q.ID)
	if !hidden.Hidden || hidden.HiddenBy != "主播" || len(hidden.Hits) != 1 {
		t.Errorf("question after reopening: %+v", hidden)
	}
	cs, err := s.Clusters(ctx, "s1", time.Time{}, 10)
	if err != nil || len(cs) != 1 || len(cs[0].Askers) != 1 || cs[0].Askers[0].Nick != "小王" || cs[0].Reply != r.ID {
		t.Errorf("clusters: %+v (%v)", cs, err)
	}

	// Purge takes what is older than the cut, with its ratings.
	if n, err := s.Purge(ctx, at.Add(time.Minute)); err != nil || n != 3 {
		t.Errorf("purged %d (%v), want 3", n, err)
	}
	if cs, _ := s.Clusters(ctx, "s1", time.Time{}, 10); len(cs) != 0 {
		t.Errorf("clusters after purge: %+v", cs)
	}
}
