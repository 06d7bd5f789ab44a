package studio_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"govlive/accounts"
	"govlive/store"
	"govlive/studio"
)

// cheap are argon2id parameters that keep the tests fast.
var cheap = accounts.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// authServer is a studio with accounts: admin (admin), editor (editor),
// anchor (an anchor linked to 主播甲 of the private session) and other
// (an anchor of no session), each with the password NAME + " password".
type authServer struct {
	srv   *studio.Server
	acc   *accounts.Store
	clock *testClock
	users map[string]accounts.User
}

func newAuthServer(t *testing.T) *authServer {
	t.Helper()
	as := &authServer{clock: &testClock{t: time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)}, users: map[string]accounts.User{}}
	as.srv = newServerWith(t, nil, func(db *store.DB, cfg *studio.Config) {
		acc, err := accounts.Open(context.Background(), accounts.Config{DB: db, Now: as.clock.Now, Params: cheap})
		if err != nil {
			t.Fatal(err)
		}
		as.acc, cfg.Accounts, cfg.Now = acc, acc, as.clock.Now
	})
	for name, role := range map[string]accounts.Role{"admin": accounts.RoleAdmin, "editor": accounts.RoleEditor,
		"anchor": accounts.RoleAnchor, "other": accounts.RoleAnchor} {
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

// client is a browser's cookie jar over app.Test.
type client struct {
	t    *testing.T
	app  *fiber.App
	addr string // X-Forwarded-For is not trusted: every client is 0.0.0.0 in app.Test
	jar  map[string]*http.Cookie
	last []*http.Cookie // the Set-Cookie of the last answer
}

func (as *authServer) client(t *testing.T) *client {
	return &client{t: t, app: as.srv.App(), jar: map[string]*http.Cookie{}}
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (cl *client) do(req *http.Request) reply {
	cl.t.Helper()
	for _, c := range cl.jar {
		req.AddCookie(c)
	}
	resp, err := cl.app.Test(req, 5000)
	if err != nil {
		cl.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		cl.t.Fatal(err)
	}
	cl.last = resp.Cookies()
	for _, c := range cl.last {
		if c.MaxAge < 0 || c.Value == "" {
			delete(cl.jar, c.Name)
		} else {
			cl.jar[c.Name] = c
		}
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func (cl *client) get(path string) reply {
	cl.t.Helper()
	return cl.do(httptest.NewRequest(http.MethodGet, path, nil))
}

// post sends a form; headers are name, value pairs.
func (cl *client) post(path string, form url.Values, headers ...string) reply {
	cl.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return cl.do(req)
}

var (
	hiddenCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	metaCSRF   = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
	errorText  = regexp.MustCompile(`<p class="error" role="alert"[^>]*>([^<]*)</p>`)
)

// login fills in the login form as a browser does and answers the POST.
func (cl *client) login(name, password string) reply {
	cl.t.Helper()
	page := cl.get("/login?next=%2Fadmin%2Fusers")
	m := hiddenCSRF.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || m == nil {
		cl.t.Fatalf("GET /login: %d, no csrf field in %q", page.status, page.body)
	}
	return cl.post("/login", url.Values{"name": {name}, "password": {password}, "csrf": {m[1]}, "next": {"/admin/users"}})
}

// csrf is the CSRF token of the client's session, from GET /api/me.
func (cl *client) csrf() string {
	cl.t.Helper()
	r := cl.get("/api/me")
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &me) != nil || me.CSRF == "" {
		cl.t.Fatalf("GET /api/me: %d %s", r.status, r.body)
	}
	return me.CSRF
}

func errorOf(body string) string {
	if m := errorText.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

func TestLogin(t *testing.T) {
	as := newAuthServer(t)
	if _, err := as.acc.SetDisabled(context.Background(), as.users["other"].ID, true, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, user, password string
		status               int
		errText              string
	}{
		{"ok", "admin", "admin password", http.StatusSeeOther, ""},
		{"ok in capitals", " Admin ", "admin password", http.StatusSeeOther, ""},
		{"wrong password", "admin", "admin passwort", http.StatusUnauthorized, "用户名或密码错误"},
		{"unknown user", "nobody", "admin password", http.StatusUnauthorized, "用户名或密码错误"},
		{"disabled", "other", "other password", http.StatusForbidden, "该账号已停用，请联系管理员"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := as.client(t)
			r := cl.login(tc.user, tc.password)
			if r.status != tc.status {
				t.Fatalf("got %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if got := errorOf(r.body); got != tc.errText {
				t.Errorf("error %q, want %q", got, tc.errText)
			}
			_, loggedIn := cl.jar["govlive_session"]
			if loggedIn != (tc.status == http.StatusSeeOther) {
				t.Fatalf("session cookie set: %v", loggedIn)
			}
			if !loggedIn {
				return
			}
			if loc := r.header.Get("Location"); loc != "/admin/users" {
				t.Errorf("Location %q, want /admin/users", loc)
			}
			c := cl.jar["govlive_session"]
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.Domain != "" {
				t.Errorf("cookie %+v, want HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP, no Domain", c)
			}
			if !strings.HasPrefix(c.Value, "gls_") {
				t.Errorf("cookie value %q, want a session token", c.Value)
			}
			if r := cl.get("/admin/users"); r.status != http.StatusOK {
				t.Errorf("GET /admin/users after login: %d", r.status)
			}
		})
	}
	t.Run("login form without its token", func(t *testing.T) {
		cl := as.client(t)
		cl.get("/login")
		r := cl.post("/login", url.Values{"name": {"admin"}, "password": {"admin password"}})
		if r.status != http.StatusForbidden || errorOf(r.body) != "登录页面已过期，请重新输入后登录" {
			t.Errorf("got %d %q, want 403 登录页面已过期", r.status, errorOf(r.body))
		}
		if _, ok := cl.jar["govlive_session"]; ok {
			t.Error("logged in without the login form's token")
		}
	})
	t.Run("next stays on the site", func(t *testing.T) {
		for next, want := range map[string]string{"//evil.example/x": "/", "https://evil.example/": "/", "/\\evil": "/", "/live/live?x=1": "/live/live?x=1"} {
			cl := as.client(t)
			page := cl.get("/login")
			m := hiddenCSRF.FindStringSubmatch(page.body)
			r := cl.post("/login", url.Values{"name": {"admin"}, "password": {"admin password"}, "csrf": {m[1]}, "next": {next}})
			if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || loc != want {
				t.Errorf("next %q: got %d to %q, want %q", next, r.status, loc, want)
			}
		}
	})
}

func TestLoginLockout(t *testing.T) {
	as := newAuthServer(t)
	cl := as.client(t)
	for i := range 5 {
		if r := cl.login("editor", "wrong password"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: got %d", i+1, r.status)
		}
	}
	r := cl.login("editor", "editor password")
	if r.status != http.StatusTooManyRequests || errorOf(r.body) != "登录失败次数过多，请 15 分钟后再试" {
		t.Fatalf("the right password after 5 failures: got %d %q, want 429 and the lock-out", r.status, errorOf(r.body))
	}
	if ra := r.header.Get("Retry-After"); ra != "901" {
		t.Errorf("Retry-After %q, want 901", ra)
	}
	as.clock.Add(16 * time.Minute)
	if r := cl.login("editor", "editor password"); r.status != http.StatusSeeOther {
		t.Errorf("after the lock: got %d", r.status)
	}
}

// TestCookieSecureOverTLS: over TLS the session cookie is Secure.
func TestCookieSecureOverTLS(t *testing.T) {
	as := newAuthServer(t)
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	certs, hc := ts.TLS.Certificates, ts.Client()
	ts.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: certs})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- as.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := "https://" + ln.Addr().(*net.TCPAddr).String()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := hiddenCSRF.FindStringSubmatch(string(b))
	var loginCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "govlive_login" {
			loginCookie = c
		}
	}
	if m == nil || loginCookie == nil || !loginCookie.Secure || loginCookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login form over TLS: cookie %+v", loginCookie)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(url.Values{"name": {"admin"}, "password": {"admin password"}, "csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(loginCookie)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "govlive_session" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("login over TLS: %d, cookie %+v; want Secure, HttpOnly, SameSite=Lax", resp.StatusCode, session)
	}
}

// TestCSRF: a state-changing request with a session cookie needs the
// session's token, from the header or the form; without it the request
// has no login.
func TestCSRF(t *testing.T) {
	as := newAuthServer(t)
	cl := as.client(t)
	if r := cl.login("admin", "admin password"); r.status != http.StatusSeeOther {
		t.Fatal(r.status)
	}
	token := cl.csrf()
	page := cl.get("/admin/users")
	if m := metaCSRF.FindStringSubmatch(page.body); m == nil || m[1] != token {
		t.Errorf("the page's csrf-token meta is not the session's token")
	}
	other := as.client(t)
	other.login("admin", "admin password")
	otherToken := other.csrf()
	n := 0
	add := func(extra url.Values, headers ...string) reply {
		n++
		form := url.Values{"name": {"user" + string(rune('a'+n))}, "role": {"editor"}, "password": {"a long password"}}
		for k, v := range extra {
			form[k] = v
		}
		return cl.post("/admin/users", form, headers...)
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		headers []string
		status  int
	}{
		{"missing", nil, nil, http.StatusForbidden},
		{"wrong", url.Values{"csrf": {"x" + token[1:]}}, nil, http.StatusForbidden},
		{"another session's", url.Values{"csrf": {otherToken}}, nil, http.StatusForbidden},
		{"wrong header", nil, []string{"X-CSRF-Token", otherToken}, http.StatusForbidden},
		{"form field", url.Values{"csrf": {token}}, nil, http.StatusSeeOther},
		{"header", nil, []string{"X-CSRF-Token", token}, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := add(tc.form, tc.headers...)
			if r.status != tc.status {
				t.Fatalf("got %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == http.StatusForbidden && !strings.Contains(errorOf(r.body), "CSRF") {
				t.Errorf("refusal says %q, want the CSRF message", errorOf(r.body))
			}
		})
	}
	users, _ := as.acc.Users(context.Background())
	if len(users) != 6 {
		t.Errorf("%d users, want the 4 and the 2 added with a token", len(users))
	}
	t.Run("logout needs it too", func(t *testing.T) {
		if r := cl.post("/logout", nil); r.status != http.StatusForbidden {
			t.Errorf("logout without a token: %d, want 403", r.status)
		}
		if r := cl.get("/api/me"); r.status != http.StatusOK {
			t.Errorf("after a refused logout: /api/me %d, want still logged in", r.status)
		}
	})
	t.Run("viewer routes go on without the login", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/api/ask", strings.NewReader(`{"question":"怎么办？"}`))
		req.Header.Set("Content-Type", "application/json")
		if r := cl.do(req); r.status == http.StatusForbidden || r.status == http.StatusUnauthorized {
			t.Errorf("POST /api/ask with the cookie and no token: %d, want it served as for any viewer", r.status)
		}
	})
	t.Run("a websocket handshake from another origin has no login", func(t *testing.T) {
		for origin, want := range map[string]int{"": http.StatusUnauthorized, "https://evil.example": http.StatusUnauthorized,
			"http://live.example.com:8080": http.StatusUnauthorized, "http://example.com": http.StatusOK} {
			req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			if r := cl.do(req); r.status != want {
				t.Errorf("handshake from %q: %d, want %d", origin, r.status, want)
			}
		}
	})
	t.Run("a bearer token's request ignores the cookie", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
		req.Header.Set("Authorization", "Bearer glt_x")
		if r := cl.do(req); r.status != http.StatusUnauthorized {
			t.Errorf("GET /api/me with a bearer token: %d, want 401", r.status)
		}
	})
}

func TestRoles(t *testing.T) {
	as := newAuthServer(t)
	clients := map[string]*client{"": as.client(t)}
	for _, name := range []string{"admin", "editor", "anchor"} {
		clients[name] = as.client(t)
		if r := clients[name].login(name, name+" password"); r.status != http.StatusSeeOther {
			t.Fatalf("login %s: %d", name, r.status)
		}
	}
	for _, tc := range []struct {
		who, method, path string
		status            int
		location          string
	}{
		{"", "GET", "/admin/users", http.StatusSeeOther, "/login?next=%2Fadmin%2Fusers"},
		{"", "POST", "/admin/users", http.StatusUnauthorized, ""},
		{"", "GET", "/api/me", http.StatusUnauthorized, ""},
		{"editor", "GET", "/admin/users", http.StatusForbidden, ""},
		{"anchor", "GET", "/admin/users", http.StatusForbidden, ""},
		{"editor", "POST", "/admin/users/1/disable", http.StatusForbidden, ""},
		{"admin", "GET", "/admin/users", http.StatusOK, ""},
		{"admin", "GET", "/admin/users/1/roles", http.StatusMethodNotAllowed, ""},
		{"admin", "POST", "/admin/users/999/enable", http.StatusNotFound, ""},
		{"admin", "POST", "/admin/users/1/explode", http.StatusNotFound, ""},
		{"editor", "GET", "/api/me", http.StatusOK, ""},
		// the private session: its linked anchor and admins see it
		{"", "GET", "/api/sessions/private", http.StatusNotFound, ""},
		{"editor", "GET", "/api/sessions/private", http.StatusNotFound, ""},
		{"anchor", "GET", "/api/sessions/private", http.StatusOK, ""},
		{"admin", "GET", "/api/sessions/private", http.StatusOK, ""},
		{"anchor", "GET", "/api/sessions/live", http.StatusOK, ""},
	} {
		t.Run(tc.who+" "+tc.method+" "+tc.path, func(t *testing.T) {
			cl := clients[tc.who]
			var r reply
			if tc.method == "POST" {
				tok := ""
				if tc.who != "" {
					tok = cl.csrf()
				}
				r = cl.post(tc.path, url.Values{"csrf": {tok}, "password": {"x"}})
			} else {
				r = cl.get(tc.path)
			}
			if r.status != tc.status {
				t.Fatalf("got %d, want %d: %.300s", r.status, tc.status, r.body)
			}
			if tc.location != "" && r.header.Get("Location") != tc.location {
				t.Errorf("Location %q, want %q", r.header.Get("Location"), tc.location)
			}
			if tc.status == http.StatusForbidden && errorOf(r.body) != "没有权限进行该操作" {
				t.Errorf("403 says %q", errorOf(r.body))
			}
		})
	}
	// another anchor, not linked: the private session does not exist for them
	other := as.client(t)
	other.login("other", "other password")
	if r := other.get("/api/sessions/private"); r.status != http.StatusNotFound {
		t.Errorf("an anchor of no session: GET /api/sessions/private %d, want 404", r.status)
	}
}

func TestLogoutRevokes(t *testing.T) {
	as := newAuthServer(t)
	cl := as.client(t)
	cl.login("editor", "editor password")
	token := cl.jar["govlive_session"].Value
	r := cl.post("/logout", url.Values{"csrf": {cl.csrf()}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("logout: %d to %q", r.status, r.header.Get("Location"))
	}
	if _, ok := cl.jar["govlive_session"]; ok {
		t.Error("logout left the cookie")
	}
	if _, _, err := as.acc.Authenticate(context.Background(), token); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("the session after logout: %v, want ErrNoSession", err)
	}
	// the old cookie, replayed
	cl.jar["govlive_session"] = &http.Cookie{Name: "govlive_session", Value: token}
	if r := cl.get("/api/me"); r.status != http.StatusUnauthorized {
		t.Errorf("replayed cookie: /api/me %d, want 401", r.status)
	}
}

// TestAdminUsers: the admin adds a user, sets roles, resets a password
// (the user's sessions end), disables a user (likewise) and cannot
// disable the last admin.
func TestAdminUsers(t *testing.T) {
	as := newAuthServer(t)
	admin := as.client(t)
	admin.login("admin", "admin password")
	tok := admin.csrf()
	ed := as.client(t)
	ed.login("editor", "editor password")
	uid := func(name string) string {
		u, err := as.acc.UserByName(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		return string(rune('0' + u.ID))
	}
	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		status int
		text   string // the notice after the redirect, or the error
	}{
		{"add", "/admin/users", url.Values{"name": {"Li.Xiao"}, "display": {"李晓"}, "role": {"anchor", "moderator"}, "password": {"li xiao password"}}, http.StatusSeeOther, "已添加用户 李晓（li.xiao）"},
		{"add again", "/admin/users", url.Values{"name": {"li.xiao"}, "role": {"anchor"}, "password": {"li xiao password"}}, http.StatusConflict, "该用户名已被使用"},
		{"add without a role", "/admin/users", url.Values{"name": {"zhou"}, "password": {"zhou password"}}, http.StatusBadRequest, "请至少选择一个有效的角色"},
		{"add with a short password", "/admin/users", url.Values{"name": {"zhou"}, "role": {"editor"}, "password": {"short"}}, http.StatusBadRequest, "密码不符合要求：10 到 128 个字符，不能与用户名相同"},
		{"add <script>", "/admin/users", url.Values{"name": {"<script>"}, "role": {"editor"}, "password": {"zhou password"}}, http.StatusBadRequest, "用户名须为 2–32 位小写字母、数字或 . _ -，并以字母开头"},
		{"roles", "/admin/users/" + uid("editor") + "/roles", url.Values{"role": {"editor", "moderator"}}, http.StatusSeeOther, "已保存 editor 的角色"},
		{"password", "/admin/users/" + uid("editor") + "/password", url.Values{"password": {"new editor password"}}, http.StatusSeeOther, "已重设 editor 的密码，其所有登录会话已失效"},
		{"disable", "/admin/users/" + uid("anchor") + "/disable", nil, http.StatusSeeOther, "已停用 anchor，其所有登录会话已失效"},
		{"disable the last admin", "/admin/users/" + uid("admin") + "/disable", nil, http.StatusConflict, "不能停用最后一位管理员或取消其管理员角色"},
		{"enable", "/admin/users/" + uid("anchor") + "/enable", nil, http.StatusSeeOther, "已启用 anchor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"csrf": {tok}}
			for k, v := range tc.form {
				form[k] = v
			}
			r := admin.post(tc.path, form)
			if r.status != tc.status {
				t.Fatalf("got %d, want %d: %s", r.status, tc.status, errorOf(r.body))
			}
			text := errorOf(r.body)
			if r.status == http.StatusSeeOther {
				page := admin.get(r.header.Get("Location"))
				m := regexp.MustCompile(`<p class="notice"[^>]*>([^<]*)</p>`).FindStringSubmatch(page.body)
				if m == nil {
					t.Fatalf("no notice on %s", r.header.Get("Location"))
				}
				text = m[1]
			}
			if text != strings.ReplaceAll(strings.ReplaceAll(tc.text, "editor", "editor（editor）"), "anchor", "anchor（anchor）") && text != tc.text {
				t.Errorf("says %q, want %q", text, tc.text)
			}
		})
	}
	if r := ed.get("/api/me"); r.status != http.StatusUnauthorized {
		t.Errorf("the editor's session after the password reset: %d, want 401", r.status)
	}
	u, _ := as.acc.UserByName(context.Background(), "li.xiao")
	if u.Display != "李晓" || len(u.Roles) != 2 {
		t.Errorf("added %+v", u)
	}
	if page := admin.get("/admin/users"); strings.Contains(page.body, "<script>") {
		t.Error("the page shows <script> unescaped")
	}
	evs, _ := as.acc.Events(context.Background(), 0, 100)
	byAdmin := 0
	for _, e := range evs {
		if e.Actor == as.users["admin"].ID && e.Action != accounts.ActionLogin {
			byAdmin++
		}
	}
	if byAdmin != 5 {
		t.Errorf("%d audit events by the admin, want 5 (add, roles, password, disable, enable)", byAdmin)
	}
}

// TestRequireRoleAPI: the JSON API's role check and CSRF check answer
// JSON in Chinese.
func TestRequireRoleAPI(t *testing.T) {
	as := newAuthServer(t)
	clients := map[string]*client{"": as.client(t)}
	for _, name := range []string{"admin", "editor"} {
		clients[name] = as.client(t)
		clients[name].login(name, name+" password")
	}
	// lock the editor's name
	locked := as.client(t)
	for range 5 {
		locked.login("editor", "wrong password")
	}
	editorID := strconv.FormatInt(int64(as.users["editor"].ID), 10)
	for _, tc := range []struct {
		who, method, path string
		csrf              bool
		status            int
		msg               string
	}{
		{"", "GET", "/api/users", false, http.StatusUnauthorized, "请先登录"},
		{"editor", "GET", "/api/users", false, http.StatusForbidden, "没有权限进行该操作"},
		{"admin", "GET", "/api/users", false, http.StatusOK, ""},
		{"editor", "POST", "/api/users/" + editorID + "/unlock", true, http.StatusForbidden, "没有权限进行该操作"},
		{"admin", "POST", "/api/users/" + editorID + "/unlock", false, http.StatusForbidden, "页面已过期（缺少或无效的 CSRF 令牌），请刷新页面后重试"},
		{"admin", "POST", "/api/users/999/unlock", true, http.StatusNotFound, "找不到该用户"},
		{"admin", "POST", "/api/users/" + editorID + "/unlock", true, http.StatusNoContent, ""},
	} {
		t.Run(tc.who+" "+tc.method+" "+tc.path, func(t *testing.T) {
			cl := clients[tc.who]
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.csrf {
				req.Header.Set("X-CSRF-Token", cl.csrf())
			}
			r := cl.do(req)
			if r.status != tc.status {
				t.Fatalf("got %d, want %d: %s", r.status, tc.status, r.body)
			}
			var body struct {
				Error string           `json:"error"`
				Items []map[string]any `json:"items"`
			}
			if r.status != http.StatusNoContent {
				if err := json.Unmarshal([]byte(r.body), &body); err != nil {
					t.Fatalf("body %q: %v", r.body, err)
				}
			}
			if body.Error != tc.msg {
				t.Errorf("error %q, want %q", body.Error, tc.msg)
			}
			if tc.status == http.StatusOK && len(body.Items) != 4 {
				t.Errorf("%d users listed, want 4", len(body.Items))
			}
		})
	}
	if r := locked.login("editor", "editor password"); r.status != http.StatusSeeOther {
		t.Errorf("after the admin unlocked the name: %d, want a login", r.status)
	}
}
