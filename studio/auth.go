package studio

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"govlive/accounts"
)

// The staff pages' own files: their templates and stylesheet.
//
//go:embed web/layout.html web/login.html web/users.html web/error.html web/accounts.css
var webFS embed.FS

// Cookies and fields of the logins.
const (
	// sessionCookie holds the login session's token (accounts.Grant.Token).
	sessionCookie = "govlive_session"
	// loginCookie holds the login form's own CSRF token, before there is
	// a session to bind one to (a double-submitted cookie, SameSite=Strict):
	// another site cannot log a browser into an account of its choosing.
	loginCookie = "govlive_login"
	// csrfHeader and csrfField carry the session's CSRF token on a
	// state-changing request: the header from scripts (fetch), the field
	// from forms.
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf"
)

// Keys of c.Locals set by authenticate.
const (
	userKey       = "govlive.user"
	loginKey      = "govlive.login" // the accounts.Session
	csrfFailedKey = "govlive.csrf_failed"
)

// authenticate is the middleware that loads the logged-in user from the
// session cookie into the request: c.Locals and c.UserContext()
// (accounts.UserFromContext). It runs on every request.
//
// CSRF: a state-changing request (POST, PUT, PATCH, DELETE) with a live
// session cookie must carry the session's CSRF token, in the X-CSRF-Token
// header or the form field csrf. Without it (or with a wrong one) the
// request goes on as if it had no cookie at all: routes open to viewers
// (WHEP, asking the bot) still work, and every route that needs a login
// refuses it with 403 (requireRole, requirePage). A request with
// Authorization: Bearer (a publishing token) is authenticated by that
// alone; its cookies are not read. A websocket handshake with a login
// must come from a page of this origin (its Origin header), or it too
// goes on without the login.
func (s *Server) authenticate(c *fiber.Ctx) error {
	token := c.Cookies(sessionCookie)
	if token == "" {
		return c.Next()
	}
	if _, ok := bearerToken(c.Get(fiber.HeaderAuthorization)); ok {
		return c.Next()
	}
	u, ss, err := s.cfg.Accounts.Authenticate(c.UserContext(), token)
	if errors.Is(err, accounts.ErrNoSession) {
		s.clearCookie(c, sessionCookie, "/")
		return c.Next()
	}
	if err != nil {
		return err
	}
	// A websocket handshake is a GET that a page of another origin may
	// open with this site's cookies (SameSite keeps out only other
	// sites); it must come from a page of this origin.
	if (stateChanging(c.Method()) && !ss.CheckCSRF(csrfToken(c))) || (websocket.IsWebSocketUpgrade(c) && !sameOrigin(c)) {
		c.Locals(csrfFailedKey, true)
		return c.Next()
	}
	c.Locals(userKey, u)
	c.Locals(loginKey, ss)
	c.SetUserContext(accounts.NewContext(c.UserContext(), u))
	return c.Next()
}

// stateChanging reports whether a request of method may change state.
func stateChanging(method string) bool {
	switch method {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return false
	}
	return true
}

// csrfToken is the CSRF token a request carries: the X-CSRF-Token header,
// else the csrf field of a form body (never the query string, which ends
// up in logs).
func csrfToken(c *fiber.Ctx) string {
	if t := c.Get(csrfHeader); t != "" {
		return t
	}
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	switch mt {
	case fiber.MIMEApplicationForm:
		return string(c.Request().PostArgs().Peek(csrfField))
	case fiber.MIMEMultipartForm:
		if f, err := c.MultipartForm(); err == nil && len(f.Value[csrfField]) > 0 {
			return f.Value[csrfField][0]
		}
	}
	return ""
}

// sameOrigin reports whether the request's Origin header names this
// server: the scheme and host:port the request came to.
func sameOrigin(c *fiber.Ctx) bool {
	o, err := url.Parse(c.Get(fiber.HeaderOrigin))
	return err == nil && o.Scheme == c.Protocol() && strings.EqualFold(o.Host, string(c.Request().Host())) && o.Path == ""
}

// currentUser is the logged-in user of the request (see authenticate).
func currentUser(c *fiber.Ctx) (accounts.User, bool) {
	u, ok := c.Locals(userKey).(accounts.User)
	return u, ok
}

// currentCSRF is the CSRF token of the request's login session, for the
// pages to put in their forms and <meta name="csrf-token">; "" without a
// login.
func currentCSRF(c *fiber.Ctx) string {
	ss, _ := c.Locals(loginKey).(accounts.Session)
	return ss.CSRF
}

// Errors of the login checks; statusOf words them.
var (
	// errLogin means the route needs a login and the request has none.
	errLogin = errors.New("login required")
	// errCSRF means the request had a login session but not its CSRF token.
	errCSRF = errors.New("missing or wrong CSRF token")
	// errForbidden means the user lacks the role the route needs.
	errForbidden = errors.New("forbidden")
)

// requireRole is the middleware of the JSON API that lets a request
// through only with a login of one of roles (an admin passes every
// check): 401 without a login, 403 for a request whose CSRF token was
// missing or wrong, or without the role.
func (s *Server) requireRole(roles ...accounts.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := checkRole(c, roles); err != nil {
			return err
		}
		return c.Next()
	}
}

func checkRole(c *fiber.Ctx, roles []accounts.Role) error {
	u, ok := currentUser(c)
	switch {
	case !ok && c.Locals(csrfFailedKey) != nil:
		return errCSRF
	case !ok:
		return errLogin
	case !u.Can(roles...):
		return fmt.Errorf("user %s has %v, route wants %v: %w", u.Name, u.Roles, roles, errForbidden)
	}
	return nil
}

// requirePage is requireRole for the staff pages: a GET without a login
// is sent to the login page (and back after it); refusals are pages.
func (s *Server) requirePage(roles ...accounts.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := checkRole(c, roles)
		switch {
		case err == nil:
			return c.Next()
		case errors.Is(err, errLogin) && c.Method() == fiber.MethodGet:
			return c.Redirect("/login?"+url.Values{"next": {c.OriginalURL()}}.Encode(), fiber.StatusSeeOther)
		}
		return s.errorPage(c, err)
	}
}

// authRoutes mounts the login, the logout, /api/me and the user
// management pages.
func (s *Server) authRoutes() {
	s.app.Get("/assets/accounts.css", s.webAsset("web/accounts.css", "text/css; charset=utf-8"))
	s.app.Get("/login", s.loginPage)
	s.app.Post("/login", s.login)
	s.app.Post("/logout", s.logout)
	s.app.Get("/api/me", s.me)
	users := s.app.Group("/api/users", s.requireRole(accounts.RoleAdmin))
	users.Get("", s.listUsers)
	users.Post("/:uid/unlock", s.unlockUser)
	admin := s.app.Group("/admin", s.requirePage(accounts.RoleAdmin), noStore)
	admin.Get("/users", s.usersPage)
	admin.Post("/users", s.addUser)
	admin.Post("/users/:uid/:action", s.changeUser)
}

// noStore keeps staff pages out of caches (a shared computer's back
// button after logout).
func noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

func (s *Server) webAsset(name, mime string) fiber.Handler {
	return func(c *fiber.Ctx) error { return sendFS(c, webFS, name, mime) }
}

// pageTemplates parses each staff page with the layout.
func pageTemplates() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range []string{"login", "users", "error"} {
		t, err := template.ParseFS(webFS, "web/layout.html", "web/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("studio: page %s: %w", name, err)
		}
		out[name] = t
	}
	if err := addEditTemplates(out); err != nil {
		return nil, err
	}
	return out, nil
}

// pageData is what every staff page's layout reads.
type pageData struct {
	Title  string
	User   *accounts.User
	CSRF   string
	Error  string
	Notice string
}

func (s *Server) base(c *fiber.Ctx, title string) pageData {
	d := pageData{Title: title, CSRF: currentCSRF(c)}
	if u, ok := currentUser(c); ok {
		d.User = &u
	}
	return d
}

// render answers a staff page with status.
func (s *Server) render(c *fiber.Ctx, status int, page string, data any) error {
	var b bytes.Buffer
	if err := s.tmpl[page].ExecuteTemplate(&b, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).Send(b.Bytes())
}

// errorPage answers err as a page, in the words statusOf chooses.
func (s *Server) errorPage(c *fiber.Ctx, err error) error {
	status, msg := statusOf(err)
	if status >= 500 {
		s.cfg.Log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	d := s.base(c, "无法完成操作")
	d.Error = msg
	return s.render(c, status, "error", d)
}

// loginData is the login page.
type loginData struct {
	pageData
	LoginCSRF string
	Next      string
	Name      string
}

// loginPage answers GET /login?next=PATH: the form, or for a logged-in
// user the page it was to go to.
func (s *Server) loginPage(c *fiber.Ctx) error {
	next := safeNext(c.Query("next"))
	if _, ok := currentUser(c); ok {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	return s.loginForm(c, fiber.StatusOK, "", "", next)
}

// loginForm answers the login form with a new login CSRF token.
func (s *Server) loginForm(c *fiber.Ctx, status int, msg, name, next string) error {
	tok, err := randomToken()
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: loginCookie, Value: tok, Path: "/login", MaxAge: 3600,
		HTTPOnly: true, Secure: c.Secure(), SameSite: fiber.CookieSameSiteStrictMode})
	d := loginData{pageData: s.base(c, "登录"), LoginCSRF: tok, Next: next, Name: name}
	d.Error = msg
	return s.render(c, status, "login", d)
}

// login answers POST /login (a form: name, password, next, csrf).
func (s *Server) login(c *fiber.Ctx) error {
	name := strings.Clone(c.FormValue("name"))
	next := safeNext(c.FormValue("next"))
	cookie, field := c.Cookies(loginCookie), string(c.Request().PostArgs().Peek(csrfField))
	if cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(field)) != 1 {
		return s.loginForm(c, fiber.StatusForbidden, msgLoginExpired, name, next)
	}
	g, err := s.cfg.Accounts.Login(c.UserContext(), accounts.Credentials{
		Name: name, Password: strings.Clone(c.FormValue("password")), Addr: c.IP()})
	var locked *accounts.LockedError
	switch {
	case errors.As(err, &locked):
		wait := max(locked.Until.Sub(s.cfg.Now()), 0)
		mins := int((wait + time.Minute - 1) / time.Minute)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait.Seconds())+1))
		return s.loginForm(c, fiber.StatusTooManyRequests, fmt.Sprintf(msgLocked, max(mins, 1)), name, next)
	case errors.Is(err, accounts.ErrBadCredentials):
		return s.loginForm(c, fiber.StatusUnauthorized, msgBadCredentials, name, next)
	case errors.Is(err, accounts.ErrDisabled):
		return s.loginForm(c, fiber.StatusForbidden, msgDisabled, name, next)
	case err != nil:
		s.cfg.Log.Error("login failed", "err", err)
		return s.loginForm(c, fiber.StatusInternalServerError, msgLoginUnavailable, name, next)
	}
	// a session the browser had before ends: one browser, one login
	if old := c.Cookies(sessionCookie); old != "" {
		if err := s.cfg.Accounts.Logout(c.UserContext(), old); err != nil {
			s.cfg.Log.Error("end the previous session", "err", err)
		}
	}
	s.cfg.Log.Info("login", "user", g.User.Name, "addr", c.IP())
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: g.Token, Path: "/",
		HTTPOnly: true, Secure: c.Secure(), SameSite: fiber.CookieSameSiteLaxMode})
	s.clearCookie(c, loginCookie, "/login")
	return c.Redirect(next, fiber.StatusSeeOther)
}

// logout answers POST /logout: the session ends, the cookie goes.
func (s *Server) logout(c *fiber.Ctx) error {
	if c.Locals(csrfFailedKey) != nil {
		return s.errorPage(c, errCSRF)
	}
	if _, ok := currentUser(c); ok {
		if err := s.cfg.Accounts.Logout(c.UserContext(), c.Cookies(sessionCookie)); err != nil {
			return err
		}
	}
	s.clearCookie(c, sessionCookie, "/")
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// me answers GET /api/me: the logged-in user, the sessions they anchor,
// and the CSRF token page scripts send as X-CSRF-Token; 401 without a
// login.
func (s *Server) me(c *fiber.Ctx) error {
	u, ok := currentUser(c)
	if !ok {
		return errLogin
	}
	links, err := s.cfg.Accounts.AnchorLinks(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"user": u, "anchors": links, "csrf_token": currentCSRF(c)})
}

// listUsers answers GET /api/users (admins): every user, with the
// sessions each anchors.
func (s *Server) listUsers(c *fiber.Ctx) error {
	list, err := s.cfg.Accounts.Users(c.UserContext())
	if err != nil {
		return err
	}
	links, err := s.cfg.Accounts.AnchorLinks(c.UserContext(), 0)
	if err != nil {
		return err
	}
	type item struct {
		accounts.User
		Anchors []accounts.AnchorLink `json:"anchors"`
	}
	out := make([]item, 0, len(list))
	for _, u := range list {
		it := item{User: u, Anchors: []accounts.AnchorLink{}}
		for _, l := range links {
			if l.User == u.ID {
				it.Anchors = append(it.Anchors, l)
			}
		}
		out = append(out, it)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": out})
}

// unlockUser answers POST /api/users/:uid/unlock (admins): the user's
// name may log in again at once (accounts.Store.Unlock).
func (s *Server) unlockUser(c *fiber.Ctx) error {
	n, err := strconv.ParseInt(c.Params("uid"), 10, 64)
	if err != nil || n <= 0 {
		return accounts.ErrNotFound
	}
	u, err := s.cfg.Accounts.User(c.UserContext(), accounts.UserID(n))
	if err != nil {
		return err
	}
	if err := s.cfg.Accounts.Unlock(c.UserContext(), u.Name); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) clearCookie(c *fiber.Ctx, name, path string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, Expires: time.Unix(1, 0),
		HTTPOnly: true, Secure: c.Secure(), SameSite: fiber.CookieSameSiteLaxMode})
}

// safeNext is where a login may send the browser: a path on this site,
// else the landing page.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return strings.Clone(next)
}

// accountStatus maps the errors of logins and accounts to a status and
// the message users see.
func accountStatus(err error) (int, string, bool) {
	switch {
	case errors.Is(err, errLogin):
		return fiber.StatusUnauthorized, "请先登录", true
	case errors.Is(err, errCSRF):
		return fiber.StatusForbidden, "页面已过期（缺少或无效的 CSRF 令牌），请刷新页面后重试", true
	case errors.Is(err, errForbidden):
		return fiber.StatusForbidden, "没有权限进行该操作", true
	case errors.Is(err, accounts.ErrNotFound):
		return fiber.StatusNotFound, "找不到该用户", true
	case errors.Is(err, accounts.ErrExists):
		return fiber.StatusConflict, "该用户名已被使用", true
	case errors.Is(err, accounts.ErrInvalidName):
		return fiber.StatusBadRequest, "用户名须为 2–32 位小写字母、数字或 . _ -，并以字母开头", true
	case errors.Is(err, accounts.ErrInvalidDisplay):
		return fiber.StatusBadRequest, "姓名须为 1–64 个字符，不能含换行等控制字符", true
	case errors.Is(err, accounts.ErrInvalidRole):
		return fiber.StatusBadRequest, "请至少选择一个有效的角色", true
	case errors.Is(err, accounts.ErrWeakPassword):
		return fiber.StatusBadRequest, "密码不符合要求：" + passwordRule, true
	case errors.Is(err, accounts.ErrLastAdmin):
		return fiber.StatusConflict, "不能停用最后一位管理员或取消其管理员角色", true
	case errors.Is(err, accounts.ErrNotAnchor):
		return fiber.StatusBadRequest, "该用户没有主播角色", true
	case errors.Is(err, accounts.ErrAnchorTaken):
		return fiber.StatusConflict, "该用户已是本场次的另一位主播", true
	}
	return 0, "", false
}

// The words of the login page.
const (
	msgBadCredentials   = "用户名或密码错误"
	msgLocked           = "登录失败次数过多，请 %d 分钟后再试"
	msgDisabled         = "该账号已停用，请联系管理员"
	msgLoginExpired     = "登录页面已过期，请重新输入后登录"
	msgLoginUnavailable = "登录暂不可用，请稍后再试"
)

// randomToken is 256 random bits in base64url.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

var passwordRule = fmt.Sprintf("%d 到 %d 个字符，不能与用户名相同", accounts.MinPassword, accounts.MaxPassword)
