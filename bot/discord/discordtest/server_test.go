package discordtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"govlive/bot/discord/discordtest"
)

// toServer sends discordgo's requests for discord.com to the stand-in.
type toServer struct{ base *url.URL }

func (t toServer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, ""
	return http.DefaultTransport.RoundTrip(r)
}

func session(t *testing.T, srv *discordtest.Server, token string, intents discordgo.Intent) *discordgo.Session {
	t.Helper()
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	s.Client = &http.Client{Transport: toServer{base}}
	s.Identify.Intents = intents
	s.LogLevel = -1
	s.ShouldReconnectOnError = false
	return s
}

// TestServer checks the stand-in's Discord behaviours that the adapter's
// tests rely on without exercising them one by one.
func TestServer(t *testing.T) {
	srv := discordtest.NewServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	t.Run("wrong token", func(t *testing.T) {
		s := session(t, srv, "not-the-token", discordgo.IntentsGuilds)
		var re *discordgo.RESTError
		if err := s.Open(); !errors.As(err, &re) || re.Response.StatusCode != http.StatusUnauthorized {
			t.Errorf("got %v, want a 401", err)
		}
	})

	// Without the Message Content intent, content arrives empty.
	s := session(t, srv, srv.Token, discordgo.IntentsGuilds|discordgo.IntentsGuildMessages)
	got := make(chan *discordgo.MessageCreate, 16)
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) { got <- m })
	if err := s.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	q := srv.Say("c1", discordtest.User{ID: "1", Username: "u"}, "hello")
	select {
	case m := <-got:
		if m.ID != q.ID || m.Content != "" || m.Author.ID != "1" {
			t.Errorf("got message %s %q by %s, want %s without content by 1", m.ID, m.Content, m.Author.ID, q.ID)
		}
	case <-ctx.Done():
		t.Fatal("no MESSAGE_CREATE")
	}

	keep := false
	cases := []struct {
		name    string
		ref     *discordgo.MessageReference
		status  int
		wantRef string
	}{
		{"reply", &discordgo.MessageReference{MessageID: q.ID, ChannelID: "c1"}, 200, q.ID},
		{"unknown reference", &discordgo.MessageReference{MessageID: "404"}, 400, ""},
		{"unknown reference allowed", &discordgo.MessageReference{MessageID: "404", FailIfNotExists: &keep}, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := s.ChannelMessageSendComplex("c1", &discordgo.MessageSend{Content: "x", Reference: c.ref})
			var re *discordgo.RESTError
			switch {
			case c.status == 200 && err != nil:
				t.Fatalf("send: %v", err)
			case c.status != 200 && (!errors.As(err, &re) || re.Response.StatusCode != c.status):
				t.Fatalf("got %v, want status %d", err, c.status)
			case c.status == 200:
				stored, _ := srv.Message(m.ID)
				if stored.Reference != c.wantRef || !stored.Bot {
					t.Errorf("got stored %+v, want a bot message referencing %q", stored, c.wantRef)
				}
				// The bot's own message comes back on the gateway.
				select {
				case echo := <-got:
					if echo.ID != m.ID || !echo.Author.Bot {
						t.Errorf("got echo %s by bot=%t, want %s by the bot", echo.ID, echo.Author.Bot, m.ID)
					}
				case <-ctx.Done():
					t.Fatal("no echo of the bot's message")
				}
			}
		})
	}

	if err := s.ChannelMessageDelete("c1", q.ID); err != nil {
		t.Errorf("delete: %v", err)
	}
	var re *discordgo.RESTError
	if err := s.ChannelMessageDelete("c1", q.ID); !errors.As(err, &re) || re.Response.StatusCode != http.StatusNotFound {
		t.Errorf("second delete: got %v, want 404", err)
	}
}
