package chatdb

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"govlive/bot"
	"govlive/store"
)

// TestRatingLevelMigration opens a chat database made before ratings had a
// 好差评 level, with a 👍 in it: the old row keeps counting up (with no
// level) and new ratings keep their level.
func TestRatingLevelMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "chat.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	old := schema[:len(schema)-1]
	if err := store.Migrate(ctx, db, "chat", old); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	if _, err := db.ExecContext(ctx, `INSERT INTO chat_posts (id, session, channel, author_id, author_nick, at, text)
		VALUES (1, 's1', 'bot', 'bot', '助手', ?, '答复')`, ms(at)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO chat_ratings (reply, viewer, up, at) VALUES (1, 'w-old', 1, ?)`, ms(at)); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := store.Version(ctx, db, "chat"); err != nil || v != len(schema) {
		t.Fatalf("version %d, %v; want %d", v, err, len(schema))
	}
	for _, g := range []struct {
		viewer string
		level  int
	}{{"w-5", 5}, {"w-1", 1}, {"w-3", 3}} {
		if _, _, err := s.Rate(ctx, "s1", bot.MessageID(1), g.viewer, false, g.level, at); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.Report(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Up != 3 || r.Down != 1 || r.Levels != [5]int{1, 0, 1, 0, 1} {
		t.Errorf("up %d down %d levels %v; want 3, 1, [1 0 1 0 1]", r.Up, r.Down, r.Levels)
	}
	if got, err := s.ViewerLevels(ctx, "s1", "w-5"); err != nil || len(got) != 1 || got[1] != 5 {
		t.Errorf("viewer levels %v, %v; want map[1:5]", got, err)
	}
	if got, err := s.ViewerLevels(ctx, "s1", "w-old"); err != nil || len(got) != 0 {
		t.Errorf("old viewer levels %v, %v; want none", got, err)
	}
	if _, _, err := s.Rate(ctx, "s1", 1, "w-x", true, 6, at); err == nil {
		t.Error("level 6 accepted")
	}
}
