package studio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"govlive/accounts"
	"govlive/store"
	"govlive/stream"
	"govlive/studio"
)

// TestConsolePage: the anchor console is served to the session's linked
// anchor and to admins; without a login the browser goes to the login
// page, an editor is refused with the Chinese 403 page, and an anchor of
// no session sees a private session as one that does not exist.
func TestConsolePage(t *testing.T) {
	as := newAuthServer(t)
	clients := map[string]*client{"": as.client(t)}
	for _, name := range []string{"admin", "editor", "anchor", "other"} {
		clients[name] = as.client(t)
		if r := clients[name].login(name, name+" password"); r.status != http.StatusSeeOther {
			t.Fatalf("login %s: %d", name, r.status)
		}
	}
	for _, tc := range []struct {
		who, path string
		status    int
		want      string // in the body (the 200s), or the error message
	}{
		{"", "/studio/private", http.StatusSeeOther, ""},
		{"editor", "/studio/private", http.StatusForbidden, "没有权限进行该操作"},
		{"editor", "/studio/live", http.StatusForbidden, "没有权限进行该操作"},
		{"other", "/studio/private", http.StatusNotFound, "找不到该内容"},
		{"other", "/studio/live", http.StatusForbidden, "没有权限进行该操作"},
		{"anchor", "/studio/private", http.StatusOK, `data-anchor="主播甲"`},
		{"admin", "/studio/private", http.StatusOK, `data-session="private"`},
		{"admin", "/studio/live", http.StatusOK, `data-session="live"`},
		{"admin", "/studio/nope", http.StatusNotFound, "找不到该内容"},
	} {
		t.Run(tc.who+" "+tc.path, func(t *testing.T) {
			r := clients[tc.who].get(tc.path)
			if r.status != tc.status {
				t.Fatalf("got %d, want %d: %.300s", r.status, tc.status, r.body)
			}
			switch {
			case tc.status == http.StatusSeeOther:
				if loc := r.header.Get("Location"); loc != "/login?next=%2Fstudio%2Fprivate" {
					t.Errorf("Location %q", loc)
				}
			case tc.status == http.StatusOK:
				for _, want := range []string{tc.want, `<meta name="csrf-token"`, `src="/assets/console.js"`, "主播控制台"} {
					if !strings.Contains(r.body, want) {
						t.Errorf("page lacks %q", want)
					}
				}
				if strings.Contains(r.body, "<script>") {
					t.Error("page has an inline script")
				}
				if pp := r.header.Get("Permissions-Policy"); !strings.Contains(pp, "camera=(self)") || !strings.Contains(pp, "microphone=(self)") {
					t.Errorf("Permissions-Policy %q: the console opens the camera and microphone", pp)
				}
				if cc := r.header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", cc)
				}
			default:
				if got := errorOf(r.body); got != tc.want {
					t.Errorf("error page says %q, want %q", got, tc.want)
				}
			}
		})
	}
	for path, mime := range map[string]string{"/assets/console.js": "text/javascript", "/assets/console.css": "text/css"} {
		r := clients[""].get(path)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), mime) {
			t.Errorf("GET %s: %d %s", path, r.status, r.header.Get("Content-Type"))
		}
	}
}

// TestConsoleGrant: the console's go-live button gets a publishing token
// for its logged-in anchor (with the CSRF header), which the relay's
// authorizer then accepts for that session and anchor only; others get
// none, and the token stops working when the user is disabled.
func TestConsoleGrant(t *testing.T) {
	grants := studio.NewGrants(time.Hour, nil)
	as := newAuthServerGrants(t, grants)
	anchor, editor, anon := as.client(t), as.client(t), as.client(t)
	anchor.login("anchor", "anchor password")
	editor.login("editor", "editor password")
	post := func(cl *client, path, csrf string) reply {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, path, nil)
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		return cl.do(req)
	}
	if r := post(anon, "/api/sessions/private/console/publish", ""); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", r.status)
	}
	if r := post(editor, "/api/sessions/private/console/publish", editor.csrf()); r.status != http.StatusForbidden {
		t.Errorf("editor: %d, want 403", r.status)
	}
	if r := post(anchor, "/api/sessions/private/console/publish", ""); r.status != http.StatusForbidden {
		t.Errorf("anchor without the CSRF header: %d, want 403", r.status)
	}
	if r := post(anchor, "/api/sessions/live/console/publish", anchor.csrf()); r.status != http.StatusForbidden {
		t.Errorf("anchor of another session: %d, want 403", r.status)
	}
	r := post(anchor, "/api/sessions/private/console/publish", anchor.csrf())
	var g struct {
		Token  string `json:"token"`
		Anchor string `json:"anchor"`
	}
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &g) != nil || g.Token == "" || g.Anchor != "主播甲" {
		t.Fatalf("anchor: %d %s", r.status, r.body)
	}
	ctx := context.Background()
	if name, err := grants.Authorize(ctx, "private", g.Token); err != nil || name != "主播甲" {
		t.Errorf("Authorize: %q %v, want 主播甲", name, err)
	}
	for _, tc := range []struct{ session, token string }{
		{"live", g.Token}, {"private", g.Token + "x"}, {"private", ""}, {"private", "glt_whatever"},
	} {
		if _, err := grants.Authorize(ctx, stream.SessionID(tc.session), tc.token); !errors.Is(err, stream.ErrUnauthorized) {
			t.Errorf("Authorize(%s, %.12s…): %v, want ErrUnauthorized", tc.session, tc.token, err)
		}
	}
	// the lasting tokens are asked first, then the grants
	any := studio.AnyAuthorizer{grants, grants}
	if name, err := any.Authorize(ctx, "private", g.Token); err != nil || name != "主播甲" {
		t.Errorf("AnyAuthorizer: %q %v", name, err)
	}
	if _, err := as.acc.SetDisabled(ctx, as.users["anchor"].ID, true, as.users["admin"].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := grants.Authorize(ctx, "private", g.Token); !errors.Is(err, stream.ErrUnauthorized) {
		t.Errorf("after the user was disabled: %v, want ErrUnauthorized", err)
	}
}

// TestGrantExpires: a grant ends after its time.
func TestGrantExpires(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)}
	grants := studio.NewGrants(time.Hour, clock.Now)
	tok, err := grants.Issue("live", "主播乙", accounts.UserID(1))
	if err != nil {
		t.Fatal(err)
	}
	if name, err := grants.Authorize(context.Background(), "live", tok); err != nil || name != "主播乙" {
		t.Fatalf("Authorize: %q %v", name, err)
	}
	clock.Add(time.Hour)
	if _, err := grants.Authorize(context.Background(), "live", tok); !errors.Is(err, stream.ErrUnauthorized) {
		t.Errorf("after an hour: %v, want ErrUnauthorized", err)
	}
}

// newAuthServerGrants is newAuthServer with the console's grants.
func newAuthServerGrants(t *testing.T, grants *studio.Grants) *authServer {
	t.Helper()
	as := &authServer{clock: &testClock{t: time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)}, users: map[string]accounts.User{}}
	as.srv = newServerWith(t, nil, func(db *store.DB, cfg *studio.Config) {
		acc, err := accounts.Open(context.Background(), accounts.Config{DB: db, Now: as.clock.Now, Params: cheap})
		if err != nil {
			t.Fatal(err)
		}
		as.acc, cfg.Accounts, cfg.Now, cfg.Grants = acc, acc, as.clock.Now, grants
	})
	for name, role := range map[string]accounts.Role{"admin": accounts.RoleAdmin, "editor": accounts.RoleEditor, "anchor": accounts.RoleAnchor} {
		u, err := as.acc.Add(context.Background(), accounts.NewUser{Name: name, Roles: []accounts.Role{role}, Password: name + " password"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		as.users[name] = u
	}
	if err := as.acc.LinkAnchor(context.Background(), accounts.AnchorLink{Session: "private", Anchor: "主播甲", User: as.users["anchor"].ID}, 0); err != nil {
		t.Fatal(err)
	}
	return as
}
