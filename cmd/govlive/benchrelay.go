package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"govlive/stream/loadtest"
)

// benchOptions are bench-relay's flags.
type benchOptions struct {
	viewers    []int
	duration   time.Duration
	warmup     time.Duration
	bitrate    int
	audio      bool
	relayCPU   int // -1: not pinned
	harnessCPU int // -1: not pinned
	binary     string
	// pause between two runs, so that the relay has dropped the previous
	// viewers.
	pause time.Duration
}

// benchSession is the sample pack's session the benchmark publishes into.
const benchSession = "demo"

func benchRelayCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o := benchOptions{pause: 2 * time.Second}
	var viewers string
	fs := flag.NewFlagSet("govlive bench-relay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&viewers, "viewers", "50,100,200,300", "viewer counts, one run each, comma-separated")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measurement window of each run")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "settling time after every viewer has a keyframe, before the window")
	fs.IntVar(&o.bitrate, "bitrate", 2_500_000, "video bitrate in bit/s (VP8-like frames, 30 fps, keyframe every 2 s)")
	fs.BoolVar(&o.audio, "audio", true, "publish audio too (Opus-like, 120-byte packets every 20 ms)")
	fs.IntVar(&o.relayCPU, "relay-cpu", 0, "CPU the relay is pinned to with taskset (-1: not pinned)")
	fs.IntVar(&o.harnessCPU, "harness-cpu", 1, "CPU this process (publisher and viewers) is pinned to (-1: not pinned)")
	fs.StringVar(&o.binary, "binary", "", "govlive binary run as the relay (default: this one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printBenchHelp(stdout, "bench-relay", fs, relayBenchNotes)
			return errHelp
		}
		return usageError{fmt.Errorf("bench-relay: %w (see govlive bench-relay -h)", err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("bench-relay: unexpected arguments %q", fs.Args())}
	}
	var err error
	if o.viewers, err = parseCounts(viewers); err != nil {
		return usageError{fmt.Errorf("bench-relay: --viewers: %w", err)}
	}
	switch {
	case o.duration <= 0:
		return usageError{errors.New("bench-relay: --duration must be positive")}
	case o.warmup < 0:
		return usageError{errors.New("bench-relay: --warmup must not be negative")}
	case o.bitrate < 10_000:
		return usageError{fmt.Errorf("bench-relay: --bitrate %d: want at least 10000", o.bitrate)}
	}
	if err := checkCPUs("bench-relay", map[string]int{"relay-cpu": o.relayCPU, "harness-cpu": o.harnessCPU}); err != nil {
		return err
	}
	_, err = benchRelay(ctx, o, stdout, stderr)
	return err
}

// relayBenchNotes end bench-relay's help.
const relayBenchNotes = "The relay is this binary's serve in a temporary data directory (default settings, GOVLIVE_* variables\nnot passed on), on loopback. Each line: viewers, delivery of the window's packets, added latency from the\npublisher's send to a viewer's read, relay CPU seconds per viewer-second, relay CPU share, relay RSS,\nviewers that missed more than 1 %, and this process's CPU share (near 100 %: the harness is the limit)."

// printBenchHelp prints the help of a bench command: its description, its
// flags, and notes ("" for none).
func printBenchHelp(w io.Writer, cmd string, fs *flag.FlagSet, notes string) {
	fmt.Fprintf(w, "usage: govlive %s [flags]\n\n%s\n\nflags:\n", cmd, commands[cmd])
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(w, "  %-28s %s\n", "--"+f.Name+" "+strings.ToUpper(f.Name), f.Usage+describeDefault(f.DefValue))
	})
	if notes != "" {
		fmt.Fprintln(w, "\n"+notes)
	}
}

// checkCPUs refuses a CPU flag (name → value) that is neither -1 (not
// pinned) nor a CPU of this machine.
func checkCPUs(cmd string, cpus map[string]int) error {
	for name, cpu := range cpus {
		if cpu < -1 || cpu >= runtime.NumCPU() {
			return usageError{fmt.Errorf("%s: --%s %d: want -1 or a CPU from 0 to %d", cmd, name, cpu, runtime.NumCPU()-1)}
		}
	}
	return nil
}

// parseCounts reads "50,100,200".
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a list of positive whole numbers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchRelay starts the relay, runs loadtest for each viewer count,
// prints one line per run and stops the relay.
func benchRelay(ctx context.Context, o benchOptions, stdout, stderr io.Writer) ([]loadtest.Report, error) {
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "bench-relay")
	bin := o.binary
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("bench-relay: %w", err)
		}
	}
	if o.harnessCPU >= 0 {
		if err := pinProcess(o.harnessCPU); err != nil {
			return nil, fmt.Errorf("bench-relay: pin to CPU %d: %w", o.harnessCPU, err)
		}
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	dir, err := os.MkdirTemp("", "govlive-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench-relay: %w", err)
	}
	failed := true
	defer func() {
		// The relay's log stays for a failed run.
		if !failed {
			_ = os.RemoveAll(dir)
		}
	}()

	rp, err := startRelay(ctx, bin, dir, o.relayCPU, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := rp.stop(); err != nil {
			log.Error("stop relay", "err", err)
		}
	}()
	token, err := issueBenchToken(ctx, bin, filepath.Join(dir, "data"))
	if err != nil {
		return nil, err
	}
	log.Info("relay up", "pid", rp.pid(), "url", rp.url, "relay_cpu", o.relayCPU, "harness_cpu", o.harnessCPU,
		"gomaxprocs", runtime.GOMAXPROCS(0), "log", rp.logPath)

	var reports []loadtest.Report
	for i, n := range o.viewers {
		if i > 0 {
			select {
			case <-time.After(o.pause):
			case <-ctx.Done():
				return reports, ctx.Err()
			}
		}
		log.Info("run", "viewers", n, "loadavg", loadAvg())
		rep, err := loadtest.Run(ctx, loadtest.Params{
			BaseURL:      rp.url,
			Session:      benchSession,
			Token:        token,
			Viewers:      n,
			Duration:     o.duration,
			Warmup:       o.warmup,
			VideoBitrate: o.bitrate,
			Audio:        o.audio,
			RelayPID:     rp.pid(),
			Log:          log,
		})
		if err != nil {
			return reports, fmt.Errorf("bench-relay: %d viewers: %w (relay log %s)", n, err, rp.logPath)
		}
		if _, err := fmt.Fprintln(stdout, rep); err != nil {
			return reports, err
		}
		reports = append(reports, rep)
	}
	failed = false
	return reports, nil
}

// pinProcess sets the affinity of every thread of this process to cpu;
// threads started later inherit it.
func pinProcess(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return nil
}

// relayProc is "govlive serve" running as a child process.
type relayProc struct {
	cmd     *exec.Cmd
	url     string
	logPath string
	exited  chan struct{} // closed when the process has been waited for
	waitErr error         // read after exited
}

func (r *relayProc) pid() int { return r.cmd.Process.Pid }

// startRelay runs bin serve on a data directory under dir, pinned to cpu
// with taskset when cpu ≥ 0, and waits for its serving line.
func startRelay(ctx context.Context, bin, dir string, cpu int, log *slog.Logger) (*relayProc, error) {
	port, err := pickUDPPort()
	if err != nil {
		return nil, fmt.Errorf("bench-relay: %w", err)
	}
	return startServeChild(ctx, bin, dir, cpu, []string{"--ice-loopback", "--udp-port", strconv.Itoa(port),
		"--record=false", "--sample=true", "--demo=false"}, log)
}

// startServeChild runs bin serve with extra flags on the data directory
// dir/data, on a free loopback port, logging to dir/serve.log, pinned to
// cpu with taskset when cpu ≥ 0, and waits for its serving line.
func startServeChild(ctx context.Context, bin, dir string, cpu int, extra []string, log *slog.Logger) (*relayProc, error) {
	args := append([]string{"serve", "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0"}, extra...)
	name := bin
	if cpu >= 0 {
		taskset, err := exec.LookPath("taskset")
		if err != nil {
			log.Warn("taskset not found: the relay runs unpinned")
		} else {
			// taskset execs the binary: the child's pid is the relay's.
			name, args = taskset, append([]string{"-c", strconv.Itoa(cpu), bin}, args...)
		}
	}
	r := &relayProc{cmd: exec.Command(name, args...), logPath: filepath.Join(dir, "serve.log"), exited: make(chan struct{})}
	r.cmd.Env = benchEnv()
	logFile, err := os.Create(r.logPath)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	r.cmd.Stderr = logFile
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start serve: %w", err)
	}
	serving := make(chan string, 1)
	go func() {
		defer close(r.exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "govlive serving on "); ok {
				select {
				case serving <- u:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out) // after a too long line
		r.waitErr = r.cmd.Wait()
	}()
	select {
	case r.url = <-serving:
		return r, nil
	case <-r.exited:
		return nil, fmt.Errorf("bench: serve exited before serving (%v): %s", r.waitErr, tail(r.logPath))
	case <-time.After(60 * time.Second):
		err = errors.New("bench: serve not serving after 60 s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if serr := r.stop(); serr != nil {
		log.Error("stop serve", "err", serr)
	}
	return nil, err
}

// stop interrupts the relay and waits for it to exit (killing it after
// 20 s). A relay that exited on its own with an error reports it.
func (r *relayProc) stop() error {
	select {
	case <-r.exited:
		return r.waitErr
	default:
	}
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("interrupt relay: %w", err)
	}
	select {
	case <-r.exited:
		return r.waitErr
	case <-time.After(20 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
		return errors.New("relay did not stop within 20 s of SIGINT; killed")
	}
}

// issueBenchToken runs bin token issue and returns the token.
func issueBenchToken(ctx context.Context, bin, data string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, "token", "issue", "--data", data, "--session", benchSession, "--anchor", "压测主播", "--guest")
	cmd.Env = benchEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("bench-relay: token issue: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	tok := strings.TrimSpace(lines[len(lines)-1])
	if tok == "" {
		return "", errors.New("bench-relay: token issue printed no token")
	}
	return tok, nil
}

// benchEnv is this process's environment without GOVLIVE_* settings, so
// that the relay runs with its defaults.
func benchEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOVLIVE_") {
			env = append(env, kv)
		}
	}
	return env
}

// pickUDPPort returns a UDP port that was free on loopback a moment ago.
func pickUDPPort() (int, error) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	return port, c.Close()
}

// loadAvg is the first three fields of /proc/loadavg ("" if unreadable).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// tail is the end of the file at path, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	const n = 2000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}
