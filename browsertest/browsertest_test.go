package browsertest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"govlive/browsertest"
)

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want bool
	}{{"required", true}, {"", false}, {"1", false}} {
		t.Setenv("GOVLIVE_BROWSER_TESTS", tc.env)
		if got := browsertest.Required(); got != tc.want {
			t.Errorf("GOVLIVE_BROWSER_TESTS=%q: got %v, want %v", tc.env, got, tc.want)
		}
	}
}

// TestStart: the browser runs a page's script in its first tab and in a
// second one, with the options added (a window size) in effect. Its
// cleanup checks that it leaves no process behind.
func TestStart(t *testing.T) {
	path := browsertest.Find(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, `<!doctype html><title>t</title><script>window.answer = 6 * 7;</script>`)
	}))
	t.Cleanup(srv.Close)
	ctx := browsertest.Start(t, path, chromedp.WindowSize(800, 600))
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	for name, c := range map[string]context.Context{"first tab": ctx, "second tab": tab} {
		rctx, rcancel := context.WithTimeout(c, 10*time.Second)
		if err := chromedp.Do(rctx, chromedp.Navigate(srv.URL)); err != nil {
			rcancel()
			t.Fatalf("%s: navigate: %v", name, err)
		}
		answer, err := chromedp.Run(rctx, chromedp.Evaluate[int](`window.answer`))
		if err != nil || answer != 42 {
			t.Errorf("%s: window.answer = %d (%v), want 42", name, answer, err)
		}
		width, err := chromedp.Run(rctx, chromedp.Evaluate[int](`window.outerWidth`))
		if err != nil || width != 800 {
			t.Errorf("%s: window.outerWidth = %d (%v), want 800", name, width, err)
		}
		rcancel()
	}
}
