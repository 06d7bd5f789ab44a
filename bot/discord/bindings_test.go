package discord_test

import (
	"maps"
	"path/filepath"
	"testing"

	"govlive/bot/discord"
	"govlive/content"
	"govlive/store"
)

// TestBindings checks the SQLite bindings: a rebind replaces, and the
// bindings survive closing and reopening the database.
func TestBindings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "govlive.db")
	open := func() (*store.DB, *discord.Bindings) {
		t.Helper()
		db, err := store.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := discord.NewBindings(t.Context(), db)
		if err != nil {
			t.Fatalf("NewBindings: %v", err)
		}
		return db, b
	}
	db, b := open()
	for _, bind := range []struct {
		channel string
		session content.SessionID
	}{{"c1", "s1"}, {"c2", "s1"}, {"c1", "s2"}} {
		if err := b.Bind(t.Context(), bind.channel, bind.session, "d-0123456789ab"); err != nil {
			t.Fatalf("Bind %v: %v", bind, err)
		}
	}
	if err := b.Bind(t.Context(), "", "s1", "x"); err == nil {
		t.Errorf("Bind without a channel: got no error")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, b = open()
	defer func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}()
	got, err := b.Bindings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]content.SessionID{"c1": "s2", "c2": "s1"}; !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if v, err := store.Version(t.Context(), db, "discord"); err != nil || v != 1 {
		t.Errorf("got schema version %d (%v), want 1", v, err)
	}
}
