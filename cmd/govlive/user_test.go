package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"govlive/accounts"
	"govlive/store/storetest"
)

// user runs "govlive user ARGS" on data with stdin and returns stdout.
func user(t *testing.T, data, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	all := append([]string{"user"}, args...)
	all = append(all, "--data", data)
	err := runIO(context.Background(), all, envFunc(nil), strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

// loginWith checks a password against the accounts in data.
func loginWith(t *testing.T, data, name, password string) error {
	t.Helper()
	db := storetest.OpenAt(t, filepath.Join(data, "govlive.db"))
	acc, err := accounts.Open(context.Background(), accounts.Config{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	_, err = acc.Login(context.Background(), accounts.Credentials{Name: name, Password: password})
	return err
}

// TestUserAdd: the password comes from stdin (one line), never from a
// flag; the user can then log in with it.
func TestUserAdd(t *testing.T) {
	data := t.TempDir()
	out, err := user(t, data, "first admin password\n", "add", "--role", "admin", "--display", "管理员", "Admin")
	if err != nil {
		t.Fatalf("user add: %v", err)
	}
	if out != "added admin (管理员), roles admin\n" {
		t.Errorf("user add said %q", out)
	}
	if strings.Contains(out, "first admin password") {
		t.Error("user add printed the password")
	}
	if err := loginWith(t, data, "admin", "first admin password"); err != nil {
		t.Errorf("login with the password from stdin: %v", err)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		usage bool   // a usage error (exit status 2)
		want  string // in the error
	}{
		{"--password flag", "", []string{"add", "--role", "editor", "--password", "editor password", "editor"}, true, "there is no --password flag"},
		{"--password= flag", "", []string{"add", "--role", "editor", "--password=editor password", "editor"}, true, "there is no --password=editor password flag"},
		{"-password flag", "", []string{"add", "-password", "x", "--role", "editor", "editor"}, true, "there is no -password flag"},
		{"passwd --password", "", []string{"passwd", "admin", "--password", "x"}, true, "there is no --password flag"},
		{"no stdin", "", []string{"add", "--role", "editor", "editor"}, false, "no password on stdin"},
		{"no role", "editor password\n", []string{"add", "editor"}, true, "--role is required"},
		{"unknown role", "editor password\n", []string{"add", "--role", "root", "editor"}, true, `unknown role "root"`},
		{"no name", "editor password\n", []string{"add", "--role", "editor"}, true, "want govlive user add"},
		{"weak password", "short\n", []string{"add", "--role", "editor", "editor"}, false, "want 10 to 128 characters"},
		{"exists", "editor password\n", []string{"add", "--role", "editor", "ADMIN"}, false, "user exists"},
		{"unknown action", "", []string{"delete", "admin"}, true, "want an action"},
		{"disable the last admin", "", []string{"disable", "admin"}, false, "add another admin first"},
		{"unknown user", "", []string{"enable", "nobody"}, false, "govlive user list shows the users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := user(t, data, tc.stdin, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if isUsage := errors.As(err, new(usageError)); isUsage != tc.usage {
				t.Errorf("usage error %v, want %v", isUsage, tc.usage)
			}
		})
	}
	if out, _ := user(t, data, "", "list"); strings.Count(out, "\n") != 2 {
		t.Errorf("failed adds left users behind:\n%s", out)
	}
}

// TestUserCommands: list, roles, passwd, disable, enable, link and unlock
// on a data directory with the sample pack.
func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	p := startServeArgs(t, data) // imports the sample pack; user runs beside it
	steps := []struct {
		stdin string
		args  []string
		want  string // stdout, a regexp
	}{
		{"admin password 1\n", []string{"add", "--role", "admin", "admin"}, `^added admin \(admin\), roles admin\n$`},
		{"wang password 1\n", []string{"add", "--role", "anchor,editor", "--role", "moderator", "--display", "王敏", "wang"}, `^added wang \(王敏\), roles editor,anchor,moderator\n$`},
		{"", []string{"link", "--session", "demo", "--anchor", "王敏", "wang"}, `^wang is 王敏 in session demo\n$`},
		{"", []string{"roles", "--role", "anchor", "wang"}, `^wang now has roles anchor\n$`},
		{"", []string{"list"}, `(?m)^NAME +DISPLAY +ROLES +STATE +ANCHORS +CREATED\nadmin +admin +admin +enabled +- +\d{4}-.*\nwang +王敏 +anchor +enabled +demo:王敏 +\d{4}-`},
		{"wang password 2\n", []string{"passwd", "WANG"}, `^password of wang set; their login sessions are ended\n$`},
		{"", []string{"disable", "wang"}, `^wang disabled; their login sessions are ended\n$`},
		{"", []string{"list"}, `(?m)^wang +王敏 +anchor +disabled`},
		{"", []string{"enable", "wang"}, `^wang enabled\n$`},
		{"", []string{"unlock", "wang"}, `^wang may log in again`},
		{"", []string{"unlink", "--session", "demo", "--anchor", "王敏"}, `^unlinked 王敏 in session demo\n$`},
		{"", []string{"link", "--session", "demo", "--anchor", "嘉宾", "--guest", "wang"}, `^wang is 嘉宾 in session demo\n$`},
	}
	for _, st := range steps {
		out, err := user(t, data, st.stdin, st.args...)
		if err != nil {
			t.Fatalf("user %v: %v", st.args, err)
		}
		if !regexp.MustCompile(st.want).MatchString(out) {
			t.Errorf("user %v said %q, want %s", st.args, out, st.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"link", "--session", "demo", "--anchor", "无名", "admin"}, `does not list the anchor "无名" (its anchors: 王敏, 周航, 李晓)`},
		{[]string{"link", "--session", "nosuch", "--anchor", "王敏", "wang"}, `no session "nosuch"`},
		{[]string{"link", "--session", "demo", "--anchor", "周航", "admin"}, "give the user the anchor role first"},
		{[]string{"link", "--anchor", "周航", "wang"}, "--session and --anchor are required"},
	} {
		if _, err := user(t, data, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("user %v: got %v, want %q", tc.args, err, tc.want)
		}
	}

	// the running serve takes the new account at once
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(p.url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("GET /login: %d %s", resp.StatusCode, b)
	}
	resp, err = hc.PostForm(p.url+"/login", url.Values{"name": {"wang"}, "password": {"wang password 2"}, "csrf": {string(m[1])}, "next": {"/api/me"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/api/me" {
		t.Fatalf("POST /login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = hc.Get(p.url + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"display":"王敏"`) || !strings.Contains(string(b), `"anchor":"嘉宾"`) {
		t.Errorf("GET /api/me: %d %s", resp.StatusCode, b)
	}

	// the linked anchor acts on the session's chat with the login alone
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(b, &me); err != nil {
		t.Fatal(err)
	}
	pin := func(session, csrf string) int {
		req, _ := http.NewRequest(http.MethodPut, p.url+"/api/sessions/"+session+"/pinned", strings.NewReader(`{"text":"请准备好身份证"}`))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		session, csrf string
		want          int
	}{
		{"demo", "", http.StatusForbidden},
		{"demo", "wrong", http.StatusForbidden},
		{"taxi-drivers", me.CSRF, http.StatusForbidden},
		{"demo", me.CSRF, http.StatusOK},
	} {
		if got := pin(tc.session, tc.csrf); got != tc.want {
			t.Errorf("PUT /api/sessions/%s/pinned with token %q: %d, want %d", tc.session, tc.csrf, got, tc.want)
		}
	}
	var chat struct {
		Pinned string `json:"pinned"`
	}
	p.get(t, "/api/sessions/demo/chat", http.StatusOK, &chat)
	if chat.Pinned != "请准备好身份证" {
		t.Errorf("pinned %+v, want the announcement", chat.Pinned)
	}
}
