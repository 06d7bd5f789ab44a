package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"govlive/content/contenttest"
	"govlive/logtest"
	"govlive/studio"
)

// TestSecondServeRefused: a second serve on a data directory in use fails
// at once, naming the process that holds it and where it serves.
func TestSecondServeRefused(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data)
	start := time.Now()
	err := within(t, 10*time.Second, func(ctx context.Context) error {
		return run(ctx, []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--demo=false"}, envFunc(nil), io.Discard, io.Discard)
	})
	if err == nil {
		t.Fatal("a second serve on the same data directory started")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the second serve took %s to fail, want at once", d)
	}
	want := fmt.Sprintf("in use by govlive serve (pid %d, serving %s", os.Getpid(), p.url)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// TestAskBesideServe: ask on the data directory of a running serve asks
// that server, and says so; its decision is the one a local ask makes
// once the server has stopped.
func TestAskBesideServe(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data)
	waitReady(t, p)
	const q = "食品證要啥材料"
	ask := func(args ...string) (string, error) {
		out := &logtest.Buffer{}
		err := within(t, 20*time.Second, func(ctx context.Context) error {
			return run(ctx, append([]string{"ask", "--data", data}, args...), envFunc(nil), out, io.Discard)
		})
		return out.String(), err
	}
	text, err := ask(q)
	if err != nil {
		t.Fatalf("ask beside serve: %v", err)
	}
	if !strings.Contains(text, "由运行中的 govlive serve "+p.url) || !strings.Contains(text, "决定：answer") {
		t.Errorf("ask beside serve printed:\n%s\nwant the server named and an answer", text)
	}
	remote, err := ask("--json", q)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	local, err := ask("--json", q)
	if err != nil {
		t.Fatalf("ask after serve stopped: %v", err)
	}
	var r, l studio.AskAnswer
	for _, x := range []struct {
		s string
		v *studio.AskAnswer
	}{{remote, &r}, {local, &l}} {
		if err := json.Unmarshal([]byte(x.s), x.v); err != nil {
			t.Fatalf("ask --json printed %q: %v", x.s, err)
		}
	}
	if r.Action != l.Action || r.Reason != l.Reason || r.FAQ == nil || l.FAQ == nil || r.FAQ.ID != l.FAQ.ID || r.Reply != l.Reply {
		t.Errorf("through the server: %s/%s %v; locally: %s/%s %v", r.Action, r.Reason, r.FAQ, l.Action, l.Reason, l.FAQ)
	}
	if len(r.Search.FAQ) != len(l.Search.FAQ) {
		t.Errorf("hits through the server %d, locally %d", len(r.Search.FAQ), len(l.Search.FAQ))
	}
}

// TestAskRefusedWhileHeld: a data directory held by a process that is not
// a serve (another ask) makes ask fail at once, naming it.
func TestAskRefusedWhileHeld(t *testing.T) {
	data := t.TempDir()
	l, err := lockData(data, "ask")
	if err != nil {
		t.Fatal(err)
	}
	defer l.release()
	start := time.Now()
	err = within(t, 10*time.Second, func(ctx context.Context) error {
		return run(ctx, []string{"ask", "--data", data, "周末能办事吗"}, envFunc(nil), io.Discard, io.Discard)
	})
	var inUse *dataInUseError
	if !errors.As(err, &inUse) || !strings.Contains(err.Error(), fmt.Sprintf("govlive ask (pid %d", os.Getpid())) {
		t.Errorf("ask on a held data directory: got %v, want it named as in use by govlive ask", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ask took %s to fail, want at once", d)
	}
}

// within runs f and fails the test if it has not returned after d (its
// context is cancelled then, but a command blocked outside its context
// would never return).
func within(t *testing.T, d time.Duration, f func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("still running after %s", d)
		return nil
	}
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, p *serveProc) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := p.client.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 after 60 s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pendingData is a data directory whose index has been built and whose
// content then grew by n FAQ entries with no server running: the next
// serve has a catch-up to do.
func pendingData(t *testing.T, n int) string {
	t.Helper()
	data := t.TempDir()
	p := startServe(t, data)
	waitReady(t, p)
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cs, db, err := openContent(ctx, config{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pack, err := contenttest.SyntheticPack(85+n, 0)
	if err != nil {
		t.Fatal(err)
	}
	pack.Documents = nil
	if _, err := cs.Import(ctx, pack, "test", ""); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestServeSignals: serve in a process of its own listens at once — /healthz
// alive while /readyz says the index is catching up — and stops on the
// first SIGTERM or SIGINT, in the middle of the catch-up, with status 0.
func TestServeSignals(t *testing.T) {
	data := pendingData(t, 3000)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := command(t, "serve", "--data", data, "--addr", "127.0.0.1:0", "--demo=false", "--ice-loopback", "--record-min-free", "0")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			stderr := &logtest.Buffer{}
			cmd.Stderr = stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
				}
				done <- cmd.Wait()
			}()
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			url := waitLine(t, stderr, cmd, done)
			client := &http.Client{Timeout: 5 * time.Second}
			status := func(path string) int {
				resp, err := client.Get(url + path)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if got := status("/healthz"); got != http.StatusOK {
				t.Errorf("/healthz while the index catches up: %d, want 200", got)
			}
			if got := status("/readyz"); got != http.StatusServiceUnavailable {
				t.Errorf("/readyz while the index catches up: %d, want 503", got)
			}
			sent := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve after %s: %v (want exit status 0); stderr:\n%s", sig, err, stderr)
				}
				t.Logf("stopped %s after %s", time.Since(sent).Round(time.Millisecond), sig)
			case <-time.After(15 * time.Second):
				t.Fatalf("serve still running 15 s after %s; stderr:\n%s", sig, stderr)
			}
		})
	}
}

// serveProcess is "govlive serve" in a process of its own, so that a test
// can kill it.
type serveProcess struct {
	cmd    *exec.Cmd
	stderr *logtest.Buffer
	done   chan error // what Wait returned
	url    string
}

// startServeProcess starts serve on data and a free loopback port (no
// demo, no recording) and waits until it serves; it is killed at the end
// of the test if still running.
func startServeProcess(t *testing.T, data string) *serveProcess {
	t.Helper()
	p := &serveProcess{
		cmd:    command(t, "serve", "--data", data, "--addr", "127.0.0.1:0", "--demo=false", "--record=false"),
		stderr: &logtest.Buffer{},
		done:   make(chan error, 1),
	}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	p.url = waitLine(t, p.stderr, p.cmd, p.done)
	return p
}

// kill sends SIGKILL and waits for the process to end.
func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// waitLine waits for serve's "serving on" line in its log and returns the URL.
func waitLine(t *testing.T, stderr *logtest.Buffer, cmd *exec.Cmd, done chan error) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	re := regexp.MustCompile(`msg=serving url=(\S+)`)
	for {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended before serving: %v\n%s", err, stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not serving after 30 s:\n%s", stderr)
		}
	}
}

// TestKilledDuringCatchUp: serve killed (SIGKILL) at moments of its index
// catch-up leaves a data directory that the next serve brings to ready,
// answering from the content the catch-up was building.
func TestKilledDuringCatchUp(t *testing.T) {
	data := pendingData(t, 2000)
	for _, after := range []time.Duration{50 * time.Millisecond, 500 * time.Millisecond, 1500 * time.Millisecond} {
		p := startServeProcess(t, data)
		time.Sleep(after)
		p.kill(t)
		t.Logf("killed %s after serving; ready then: %v", after, strings.Contains(p.stderr.String(), "search index ready"))
	}
	p := startServe(t, data)
	waitReady(t, p)
	pack, err := contenttest.SyntheticPack(85+2000, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := pack.FAQ[len(pack.FAQ)-1]
	body := fmt.Sprintf(`{"question": %q}`, last.Question)
	resp, err := p.client.Post(p.url+"/api/ask", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a studio.AskAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	if a.Search == nil || len(a.Search.FAQ) == 0 || a.Search.FAQ[0].ID != string(last.ID) {
		t.Errorf("after the kills, asking %q: %+v, want %s first", last.Question, a.Search, last.ID)
	}
}
