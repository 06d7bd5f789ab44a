package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"govlive/browsertest"
)

// shot saves a full-page PNG of the tab at width CSS pixels (a phone's
// viewport under 600) in the test's artifact dir, and for a local run
// (CI unset) in /tmp too; it fails the test if the page scrolls sideways.
func shot(t *testing.T, tb *tab, name string, width int64) {
	t.Helper()
	emulate := chromedp.EmulateViewport(width, 900)
	if width < 600 {
		emulate = chromedp.EmulateViewport(width, 844, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(tb.ctx, emulate); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if w, err := eval[int](tb, `document.documentElement.scrollWidth`); err != nil || w > int(width) {
		t.Errorf("%s at %d px is %d px wide: it scrolls sideways (%v)", name, width, w, err)
	}
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", file)
	if os.Getenv("CI") == "" {
		_ = os.WriteFile(filepath.Join(os.TempDir(), "govlive-"+name+".png"), png, 0o644)
	}
}

// TestBrowserLogin: the first admin (from govlive user add) opens the
// user management page, is sent to the login form, fails once with a
// wrong password, logs in, adds a user with the page's form, and logs
// out; no page breaks its security policy.
func TestBrowserLogin(t *testing.T) {
	chromium := browsertest.Find(t)
	data := t.TempDir()
	if _, err := user(t, data, "admin password 1\n", "add", "--role", "admin", "--display", "张管理", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := user(t, data, "wang password 1\n", "add", "--role", "anchor", "--display", "王敏", "wang"); err != nil {
		t.Fatal(err)
	}
	p := startServeArgs(t, data)
	b := startBrowser(t, chromium)
	tb := b.open(t, "login", p.url+"/admin/users")
	tb.waitTrue(t, "the login form", `location.pathname === "/login" && !!document.getElementById("password")`, 5*time.Second)
	checkText(t, tb, "new URLSearchParams(location.search).get('next')", "/admin/users")
	shot(t, tb, "login-1280", 1280)

	submit := func(name, password string) {
		t.Helper()
		if _, err := eval[bool](tb, `(document.getElementById("name").value = "") === ""`); err != nil {
			t.Fatalf("clear the name: %v", err)
		}
		if err := chromedp.Do(tb.ctx,
			chromedp.SendKeys("#name", name),
			chromedp.SendKeys("#password", password),
			chromedp.Click("#login-submit"),
		); err != nil {
			t.Fatalf("fill in the login form: %v", err)
		}
	}
	submit("admin", "wrong password")
	tb.waitTrue(t, "the refusal", `!!document.getElementById("login-error")`, 5*time.Second)
	checkText(t, tb, "document.getElementById('login-error').textContent", "用户名或密码错误")
	checkText(t, tb, "document.getElementById('name').value", "admin")
	shot(t, tb, "login-failed-390", 390)

	submit("admin", "admin password 1")
	tb.waitTrue(t, "the user management page", `location.pathname === "/admin/users" && !!document.getElementById("user-wang")`, 5*time.Second)
	checkText(t, tb, "document.querySelector('h1').textContent", "用户管理")
	checkText(t, tb, "document.querySelector('.who span').textContent", "张管理（admin）")
	tb.name = "admin-users"

	// add an editor with the page's own form (its CSRF field)
	if err := chromedp.Do(tb.ctx,
		chromedp.SendKeys("#add-name", "li.xiao"),
		chromedp.SendKeys("#add-display", "李晓"),
		chromedp.Click(`.add input[value="editor"]`),
		chromedp.Click(`.add input[value="moderator"]`),
		chromedp.SendKeys("#add-password", "li xiao password"),
		chromedp.Click("#add-submit"),
	); err != nil {
		t.Fatalf("fill in the add form: %v", err)
	}
	tb.waitTrue(t, "the notice", `!!document.getElementById("notice")`, 5*time.Second)
	checkText(t, tb, "document.getElementById('notice').textContent", "已添加用户 李晓（li.xiao）")
	checkText(t, tb, `[...document.querySelectorAll("#user-li\\.xiao input[name=role]:checked")].map((e) => e.value).join(",")`, "editor,moderator")
	shot(t, tb, "admin-users-1280", 1280)
	shot(t, tb, "admin-users-390", 390)

	// a POST without the page's token is refused
	status, err := eval[int](tb, `fetch("/admin/users/1/disable", {method: "POST"}).then((r) => r.status)`)
	if err != nil || status != 403 {
		t.Errorf("POST without the CSRF token: %d (%v), want 403", status, err)
	}

	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1280, 900), chromedp.Click(".who button")); err != nil {
		t.Fatalf("click 退出登录: %v", err)
	}
	tb.waitTrue(t, "back at the login page", `location.pathname === "/login" && !!document.getElementById("password")`, 5*time.Second)
	if _, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(p.url+"/admin/users")); err != nil {
		t.Fatal(err)
	}
	tb.waitTrue(t, "sent to the login page again", `location.pathname === "/login"`, 5*time.Second)
	// every page on the way kept its policy (checked once: the check
	// breaks the policy on purpose)
	tb.checkPolicy(t)
}
