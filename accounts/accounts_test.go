package accounts_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"govlive/accounts"
	"govlive/content"
	"govlive/store"
	"govlive/store/storetest"
)

// cheap are argon2id parameters that keep the tests fast.
var cheap = accounts.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is a settable clock for expiry and lock-outs.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func open(t testing.TB, db *store.DB, clk *clock, params accounts.Params) *accounts.Store {
	t.Helper()
	s, err := accounts.Open(context.Background(), accounts.Config{DB: db, Now: clk.Now, Params: params})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func add(t testing.TB, s *accounts.Store, name, password string, roles ...accounts.Role) accounts.User {
	t.Helper()
	u, err := s.Add(context.Background(), accounts.NewUser{Name: name, Roles: roles, Password: password}, 0)
	if err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
	return u
}

func storedHash(t *testing.T, db *store.DB, id accounts.UserID) string {
	t.Helper()
	var h string
	if err := db.QueryRowContext(context.Background(), `SELECT hash FROM users WHERE id = ?`, int64(id)).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestAddChecks(t *testing.T) {
	s := open(t, storetest.Open(t), newClock(), cheap)
	add(t, s, "admin", "correct horse battery", accounts.RoleAdmin)
	for _, tc := range []struct {
		name string
		n    accounts.NewUser
		want error
	}{
		{"ok", accounts.NewUser{Name: " Wang.Min ", Display: "王敏", Roles: []accounts.Role{accounts.RoleAnchor, accounts.RoleEditor}, Password: "0123456789"}, nil},
		{"exists in another case", accounts.NewUser{Name: "ADMIN", Roles: []accounts.Role{accounts.RoleEditor}, Password: "0123456789"}, accounts.ErrExists},
		{"name with a space", accounts.NewUser{Name: "wang min", Roles: []accounts.Role{accounts.RoleEditor}, Password: "0123456789"}, accounts.ErrInvalidName},
		{"Chinese name", accounts.NewUser{Name: "王敏", Roles: []accounts.Role{accounts.RoleEditor}, Password: "0123456789"}, accounts.ErrInvalidName},
		{"one letter", accounts.NewUser{Name: "w", Roles: []accounts.Role{accounts.RoleEditor}, Password: "0123456789"}, accounts.ErrInvalidName},
		{"no role", accounts.NewUser{Name: "zhou", Password: "0123456789"}, accounts.ErrInvalidRole},
		{"unknown role", accounts.NewUser{Name: "zhou", Roles: []accounts.Role{"root"}, Password: "0123456789"}, accounts.ErrInvalidRole},
		{"short password", accounts.NewUser{Name: "zhou", Roles: []accounts.Role{accounts.RoleEditor}, Password: "012345678"}, accounts.ErrWeakPassword},
		{"password is the name", accounts.NewUser{Name: "zhouhang01", Roles: []accounts.Role{accounts.RoleEditor}, Password: "ZhouHang01"}, accounts.ErrWeakPassword},
		{"password with a newline", accounts.NewUser{Name: "zhou", Roles: []accounts.Role{accounts.RoleEditor}, Password: "0123456789\n"}, accounts.ErrWeakPassword},
		{"display with a newline", accounts.NewUser{Name: "zhou", Display: "周\n航", Roles: []accounts.Role{accounts.RoleEditor}, Password: "0123456789"}, accounts.ErrInvalidDisplay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s.Add(context.Background(), tc.n, 0)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err == nil {
				got, err := s.UserByName(context.Background(), "wang.min")
				if err != nil || got.ID != u.ID || got.Display != "王敏" || len(got.Roles) != 2 || got.Roles[0] != accounts.RoleEditor {
					t.Errorf("stored %+v (%v), want wang.min 王敏 with roles editor, anchor", got, err)
				}
			}
		})
	}
}

func TestPasswordHash(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	clk := newClock()
	s := open(t, db, clk, cheap)
	u := add(t, s, "editor", "first password", accounts.RoleEditor)
	h := storedHash(t, db, u.ID)
	m := phc.FindStringSubmatch(h)
	if m == nil || m[1] != "64" || m[2] != "1" || m[3] != "1" {
		t.Fatalf("stored hash %q, want the PHC string of argon2id m=64,t=1,p=1", h)
	}
	if h2 := storedHash(t, db, add(t, s, "editor2", "first password", accounts.RoleEditor).ID); h2 == h {
		t.Error("the same password hashed twice gave the same string: no salt")
	}
	for _, tc := range []struct {
		name, password string
		want           error
	}{
		{"right", "first password", nil},
		{"wrong", "first passwore", accounts.ErrBadCredentials},
		{"empty", "", accounts.ErrBadCredentials},
		{"prefix", "first", accounts.ErrBadCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Login(ctx, accounts.Credentials{Name: "editor", Password: tc.password})
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("rehash on login with new parameters", func(t *testing.T) {
		stronger := cheap
		stronger.Memory, stronger.Time = 128, 2
		s2 := open(t, db, clk, stronger)
		if _, err := s2.Login(ctx, accounts.Credentials{Name: "editor", Password: "wrong password"}); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("wrong password: got %v", err)
		}
		if got := storedHash(t, db, u.ID); got != h {
			t.Fatalf("a failed login changed the hash to %q", got)
		}
		if _, err := s2.Login(ctx, accounts.Credentials{Name: "editor", Password: "first password"}); err != nil {
			t.Fatal(err)
		}
		m := phc.FindStringSubmatch(storedHash(t, db, u.ID))
		if m == nil || m[1] != "128" || m[2] != "2" {
			t.Fatalf("after login the hash is %q, want m=128,t=2", storedHash(t, db, u.ID))
		}
		if _, err := s.Login(ctx, accounts.Credentials{Name: "editor", Password: "first password"}); err != nil {
			t.Errorf("the rehashed password no longer works: %v", err)
		}
	})
	t.Run("set password", func(t *testing.T) {
		if err := s.SetPassword(ctx, u.ID, "short", 0); !errors.Is(err, accounts.ErrWeakPassword) {
			t.Errorf("weak: got %v", err)
		}
		if err := s.SetPassword(ctx, u.ID, "second password", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Login(ctx, accounts.Credentials{Name: "editor", Password: "first password"}); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Errorf("old password: got %v, want ErrBadCredentials", err)
		}
		if _, err := s.Login(ctx, accounts.Credentials{Name: "editor", Password: "second password"}); err != nil {
			t.Errorf("new password: %v", err)
		}
	})
}

// TestLockout: failed logins lock the name (known or not) and the client
// address; the lock holds across a reopened database and lifts after
// LockFor; a success forgives the name's failures.
func TestLockout(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "govlive.db")
	clk := newClock()
	s := open(t, storetest.OpenAt(t, path), clk, cheap)
	add(t, s, "anchor", "anchor password", accounts.RoleAnchor)
	login := func(s *accounts.Store, name, pw, addr string) error {
		_, err := s.Login(ctx, accounts.Credentials{Name: name, Password: pw, Addr: addr})
		return err
	}
	t.Run("a success forgives the name", func(t *testing.T) {
		for range 4 {
			if err := login(s, "anchor", "wrong", "10.0.0.1"); !errors.Is(err, accounts.ErrBadCredentials) {
				t.Fatalf("got %v", err)
			}
		}
		if err := login(s, "anchor", "anchor password", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			_ = login(s, "anchor", "wrong", "10.0.0.2")
		}
		if err := login(s, "anchor", "anchor password", "10.0.0.2"); err != nil {
			t.Fatalf("4 failures after a success locked the name: %v", err)
		}
	})
	for _, name := range []string{"anchor", "nobody"} {
		t.Run("name "+name, func(t *testing.T) {
			for i := range 5 {
				if err := login(s, name, "wrong", "10.0.1.1"); !errors.Is(err, accounts.ErrBadCredentials) {
					t.Fatalf("failure %d: got %v, want ErrBadCredentials", i+1, err)
				}
			}
			err := login(s, name, "anchor password", "10.0.1.2")
			var le *accounts.LockedError
			if !errors.As(err, &le) || !errors.Is(err, accounts.ErrLocked) {
				t.Fatalf("after 5 failures: got %v, want a LockedError", err)
			}
			if want := clk.Now().Add(15 * time.Minute); !le.Until.Equal(want) {
				t.Errorf("locked until %v, want %v", le.Until, want)
			}
			// a restart: another handle on the file, another store
			s2 := open(t, storetest.OpenAt(t, path), clk, cheap)
			if err := login(s2, name, "anchor password", "10.0.1.3"); !errors.Is(err, accounts.ErrLocked) {
				t.Fatalf("after reopening: got %v, want ErrLocked", err)
			}
			clk.Add(15*time.Minute + time.Second)
			want := error(nil)
			if name == "nobody" {
				want = accounts.ErrBadCredentials
			}
			if err := login(s2, name, "anchor password", "10.0.1.3"); !errors.Is(err, want) {
				t.Errorf("after the lock: got %v, want %v", err, want)
			}
		})
	}
	t.Run("address", func(t *testing.T) {
		for i := range 20 {
			// a name each time: only the address's count reaches its limit
			if err := login(s, "guess"+string(rune('a'+i)), "wrong", "2001:db8::1"); !errors.Is(err, accounts.ErrBadCredentials) {
				t.Fatalf("failure %d: got %v", i+1, err)
			}
		}
		// the same /64
		if err := login(s, "anchor", "anchor password", "2001:db8::2"); !errors.Is(err, accounts.ErrLocked) {
			t.Errorf("from the locked /64: got %v, want ErrLocked", err)
		}
		if err := login(s, "anchor", "anchor password", "2001:db8:0:1::2"); err != nil {
			t.Errorf("from another /64: %v", err)
		}
	})
	t.Run("password reset lifts the lock", func(t *testing.T) {
		for range 5 {
			_ = login(s, "anchor", "wrong", "")
		}
		if err := login(s, "anchor", "anchor password", ""); !errors.Is(err, accounts.ErrLocked) {
			t.Fatalf("got %v, want ErrLocked", err)
		}
		u, _ := s.UserByName(ctx, "anchor")
		if err := s.SetPassword(ctx, u.ID, "anchor password 2", 0); err != nil {
			t.Fatal(err)
		}
		if err := login(s, "anchor", "anchor password 2", ""); err != nil {
			t.Errorf("after a reset: %v", err)
		}
	})
	evs, err := s.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var failed, locks int
	for _, e := range evs {
		switch {
		case e.Action == accounts.ActionLoginFailed:
			failed++
		case e.Action == accounts.ActionLocked && regexp.MustCompile(`^name:`).MatchString(e.Detail):
			locks++
		}
	}
	if failed == 0 || locks < 3 {
		t.Errorf("audit log: %d failed logins, %d name lock-outs; want them recorded", failed, locks)
	}
}

// TestLockoutConcurrent: wrong passwords sent all at once get no more
// tries than sent one by one.
func TestLockoutConcurrent(t *testing.T) {
	s := open(t, storetest.Open(t), newClock(), cheap)
	add(t, s, "editor", "editor password", accounts.RoleEditor)
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		bad, lock int
	)
	for range 30 {
		wg.Go(func() {
			_, err := s.Login(context.Background(), accounts.Credentials{Name: "editor", Password: "wrong password"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, accounts.ErrBadCredentials):
				bad++
			case errors.Is(err, accounts.ErrLocked):
				lock++
			default:
				t.Errorf("got %v", err)
			}
		})
	}
	wg.Wait()
	if bad != 5 || lock != 25 {
		t.Errorf("30 logins at once: %d checked, %d refused as locked; want 5 and 25", bad, lock)
	}
}

// TestDisabled: a disabled account cannot log in (with the right
// password it hears so), its sessions end, and the last admin cannot be
// disabled or lose the role.
func TestDisabled(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.Open(t), newClock(), cheap)
	admin := add(t, s, "admin", "admin password", accounts.RoleAdmin)
	ed := add(t, s, "editor", "editor password", accounts.RoleEditor)
	g, err := s.Login(ctx, accounts.Credentials{Name: "editor", Password: "editor password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetDisabled(ctx, ed.ID, true, admin.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Authenticate(ctx, g.Token); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("session of a disabled user: got %v, want ErrNoSession", err)
	}
	if _, err := s.Login(ctx, accounts.Credentials{Name: "editor", Password: "editor password"}); !errors.Is(err, accounts.ErrDisabled) {
		t.Errorf("login: got %v, want ErrDisabled", err)
	}
	if _, err := s.Login(ctx, accounts.Credentials{Name: "editor", Password: "wrong password"}); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("login with a wrong password: got %v, want ErrBadCredentials", err)
	}
	if _, err := s.SetDisabled(ctx, ed.ID, false, admin.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, accounts.Credentials{Name: "editor", Password: "editor password"}); err != nil {
		t.Errorf("after enabling: %v", err)
	}
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"disable", func() error { _, err := s.SetDisabled(ctx, admin.ID, true, admin.ID); return err }},
		{"drop the role", func() error {
			_, err := s.SetRoles(ctx, admin.ID, []accounts.Role{accounts.RoleEditor}, admin.ID)
			return err
		}},
	} {
		t.Run("last admin: "+tc.name, func(t *testing.T) {
			if err := tc.do(); !errors.Is(err, accounts.ErrLastAdmin) {
				t.Errorf("got %v, want ErrLastAdmin", err)
			}
		})
	}
	if _, err := s.SetRoles(ctx, ed.ID, []accounts.Role{accounts.RoleAdmin, accounts.RoleEditor}, admin.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRoles(ctx, admin.ID, []accounts.Role{accounts.RoleModerator}, ed.ID); err != nil {
		t.Errorf("with another admin: %v", err)
	}
	u, _ := s.User(ctx, admin.ID)
	if u.Can(accounts.RoleAdmin) || !u.Can(accounts.RoleModerator) || u.Can(accounts.RoleEditor) {
		t.Errorf("roles %v: Can answers wrong", u.Roles)
	}
	evs, _ := s.Events(ctx, admin.ID, 10)
	if len(evs) == 0 || evs[0].Action != accounts.ActionRoles || evs[0].Actor != ed.ID || evs[0].Detail != "moderator" {
		t.Errorf("newest event of admin: %+v, want roles → moderator by editor", evs)
	}
}

// TestSessions: idle and absolute expiry on the store's clock; use
// extends the idle time; logout and a password change revoke.
func TestSessions(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := open(t, storetest.Open(t), clk, cheap)
	u := add(t, s, "anchor", "anchor password", accounts.RoleAnchor)
	login := func() accounts.Grant {
		t.Helper()
		g, err := s.Login(ctx, accounts.Credentials{Name: "anchor", Password: "anchor password", Addr: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Token) != 47 || g.Token[:4] != "gls_" || len(g.Session.CSRF) != 43 {
			t.Fatalf("token %d characters, CSRF %d: want gls_ and 256 bits each", len(g.Token), len(g.Session.CSRF))
		}
		return g
	}
	live := func(g accounts.Grant) error {
		got, ss, err := s.Authenticate(ctx, g.Token)
		if err == nil && (got.ID != u.ID || ss.ID != g.Session.ID || ss.CSRF != g.Session.CSRF) {
			t.Errorf("Authenticate: got user %d session %d, want %d %d", got.ID, ss.ID, u.ID, g.Session.ID)
		}
		return err
	}
	for _, tc := range []struct {
		name  string
		steps []time.Duration // each: advance the clock, then use the session
		want  error           // of a use after the last step
	}{
		{"fresh", nil, nil},
		{"idle just under", []time.Duration{2*time.Hour - time.Second}, nil},
		{"idle", []time.Duration{2 * time.Hour}, accounts.ErrNoSession},
		{"kept alive", []time.Duration{time.Hour, time.Hour, time.Hour, time.Hour}, nil},
		{"absolute", []time.Duration{110 * time.Minute, 110 * time.Minute, 110 * time.Minute, 110 * time.Minute, 110 * time.Minute, 110 * time.Minute, 110 * time.Minute}, accounts.ErrNoSession},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := login()
			var err error
			for _, d := range tc.steps {
				clk.Add(d)
				err = live(g)
			}
			if len(tc.steps) == 0 {
				err = live(g)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("logout", func(t *testing.T) {
		a, b := login(), login()
		if err := s.Logout(ctx, a.Token); err != nil {
			t.Fatal(err)
		}
		if err := live(a); !errors.Is(err, accounts.ErrNoSession) {
			t.Errorf("after logout: got %v", err)
		}
		if err := live(b); err != nil {
			t.Errorf("logout ended the other session: %v", err)
		}
	})
	t.Run("password change", func(t *testing.T) {
		a := login()
		if err := s.SetPassword(ctx, u.ID, "anchor password", u.ID); err != nil {
			t.Fatal(err)
		}
		if err := live(a); !errors.Is(err, accounts.ErrNoSession) {
			t.Errorf("after a password change: got %v", err)
		}
		if list, err := s.Sessions(ctx, u.ID); err != nil || len(list) != 0 {
			t.Errorf("live sessions: %d (%v), want none", len(list), err)
		}
	})
	for _, tok := range []string{"", "gls_", "gls_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "glt_whatever"} {
		if _, _, err := s.Authenticate(ctx, tok); !errors.Is(err, accounts.ErrNoSession) {
			t.Errorf("token %q: got %v, want ErrNoSession", tok, err)
		}
	}
}

func TestCSRF(t *testing.T) {
	s := open(t, storetest.Open(t), newClock(), cheap)
	add(t, s, "editor", "editor password", accounts.RoleEditor)
	g, err := s.Login(context.Background(), accounts.Credentials{Name: "editor", Password: "editor password"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Login(context.Background(), accounts.Credentials{Name: "editor", Password: "editor password"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, token string
		want        bool
	}{
		{"its own", g.Session.CSRF, true},
		{"missing", "", false},
		{"another session's", other.Session.CSRF, false},
		{"truncated", g.Session.CSRF[:42], false},
		{"the session token", g.Token, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := g.Session.CheckCSRF(tc.token); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if (accounts.Session{}).CheckCSRF("") {
		t.Error("a session without a token accepts the empty token")
	}
}

func TestAnchorLinks(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.Open(t), newClock(), cheap)
	wang := add(t, s, "wang", "wang password", accounts.RoleAnchor)
	zhou := add(t, s, "zhou", "zhou password", accounts.RoleAnchor, accounts.RoleEditor)
	ed := add(t, s, "editor", "editor password", accounts.RoleEditor)
	for _, tc := range []struct {
		name string
		link accounts.AnchorLink
		want error
	}{
		{"wang", accounts.AnchorLink{Session: "demo", Anchor: "王敏", User: wang.ID}, nil},
		{"zhou", accounts.AnchorLink{Session: "demo", Anchor: "周航", User: zhou.ID}, nil},
		{"zhou elsewhere", accounts.AnchorLink{Session: "taxi", Anchor: "周航", User: zhou.ID}, nil},
		{"not an anchor", accounts.AnchorLink{Session: "demo", Anchor: "李晓", User: ed.ID}, accounts.ErrNotAnchor},
		{"two names in one session", accounts.AnchorLink{Session: "demo", Anchor: "李晓", User: wang.ID}, accounts.ErrAnchorTaken},
		{"no user", accounts.AnchorLink{Session: "demo", Anchor: "李晓", User: 99}, accounts.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.LinkAnchor(ctx, tc.link, 0); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	// relinking a name hands it over
	if err := s.LinkAnchor(ctx, accounts.AnchorLink{Session: "taxi", Anchor: "周航", User: wang.ID}, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user    accounts.UserID
		session content.SessionID
		name    string
		ok      bool
	}{
		{wang.ID, "demo", "王敏", true},
		{wang.ID, "taxi", "周航", true},
		{zhou.ID, "demo", "周航", true},
		{zhou.ID, "taxi", "", false},
		{ed.ID, "demo", "", false},
	} {
		name, ok, err := s.AnchorName(ctx, tc.user, tc.session)
		if err != nil || name != tc.name || ok != tc.ok {
			t.Errorf("AnchorName(%d, %s): got %q %v (%v), want %q %v", tc.user, tc.session, name, ok, err, tc.name, tc.ok)
		}
	}
	if found, err := s.UnlinkAnchor(ctx, "demo", "王敏", 0); !found || err != nil {
		t.Errorf("unlink: %v %v", found, err)
	}
	links, _ := s.AnchorLinks(ctx, wang.ID)
	if len(links) != 1 || links[0].Session != "taxi" {
		t.Errorf("wang's links: %+v, want taxi only", links)
	}
}

func TestActor(t *testing.T) {
	u := accounts.User{ID: 42, Name: "wang.min"}
	ctx := accounts.NewContext(context.Background(), u)
	a, ok := accounts.ActorFromContext(ctx)
	if !ok || a != "user:42:wang.min" {
		t.Fatalf("actor %q %v", a, ok)
	}
	for _, tc := range []struct {
		in   string
		id   accounts.UserID
		name string
		ok   bool
	}{
		{a, 42, "wang.min", true},
		{"cli:root", 0, "", false},
		{"user:x:y", 0, "", false},
		{"user:0:y", 0, "", false},
		{"govlive", 0, "", false},
	} {
		id, name, ok := accounts.ParseActor(tc.in)
		if id != tc.id || name != tc.name || ok != tc.ok {
			t.Errorf("ParseActor(%q): got %d %q %v, want %d %q %v", tc.in, id, name, ok, tc.id, tc.name, tc.ok)
		}
	}
	if _, ok := accounts.UserFromContext(context.Background()); ok {
		t.Error("a bare context carries a user")
	}
}

// BenchmarkLogin is one login with the default argon2id parameters: the
// hash check, the session row and the audit event.
func BenchmarkLogin(b *testing.B) {
	ctx := context.Background()
	s := open(b, storetest.Open(b), newClock(), accounts.DefaultParams)
	add(b, s, "editor", "editor password", accounts.RoleEditor)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Login(ctx, accounts.Credentials{Name: "editor", Password: "editor password", Addr: "127.0.0.1"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginUnknown is a login of an unknown name: it should cost what
// a known one costs.
func BenchmarkLoginUnknown(b *testing.B) {
	ctx := context.Background()
	clk := newClock()
	s := open(b, storetest.Open(b), clk, accounts.DefaultParams)
	b.ResetTimer()
	for b.Loop() {
		clk.Add(time.Hour) // no lock-out
		if _, err := s.Login(ctx, accounts.Credentials{Name: "nobody", Password: "editor password"}); !errors.Is(err, accounts.ErrBadCredentials) {
			b.Fatal(err)
		}
	}
}
