package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"govlive/content/contenttest"
	"govlive/stream/loadtest"
)

// apiBenchOptions are bench-api's flags.
type apiBenchOptions struct {
	clients    int
	rounds     int
	path       string
	faq        int
	etag       bool
	serverCPU  int
	harnessCPU int
	binary     string
}

func benchAPICmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o apiBenchOptions
	fs := flag.NewFlagSet("govlive bench-api", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&o.clients, "clients", 1000, "simultaneous requests in each round, each on its own connection")
	fs.IntVar(&o.rounds, "rounds", 10, "rounds of simultaneous requests")
	fs.StringVar(&o.path, "path", "/api/faq?page=2", "the request (path and query)")
	fs.IntVar(&o.faq, "faq", 0, "grow the store to this many FAQ entries (synthetic) before serving (0: the sample pack)")
	fs.BoolVar(&o.etag, "etag", false, "send the ETag of the first answer back in If-None-Match (304 answers)")
	fs.IntVar(&o.serverCPU, "server-cpu", 0, "CPU serve is pinned to with taskset (-1: not pinned)")
	fs.IntVar(&o.harnessCPU, "harness-cpu", 1, "CPU this process (the clients) is pinned to (-1: not pinned)")
	fs.StringVar(&o.binary, "binary", "", "govlive binary run as the server (default: this one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printBenchHelp(stdout, "bench-api", fs, "")
			return errHelp
		}
		return usageError{fmt.Errorf("bench-api: %w (see govlive bench-api -h)", err)}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("bench-api: unexpected arguments %q", fs.Args())}
	case o.clients < 1 || o.rounds < 1:
		return usageError{errors.New("bench-api: --clients and --rounds must be positive")}
	case !strings.HasPrefix(o.path, "/"):
		return usageError{fmt.Errorf("bench-api: --path %q: want a path such as /api/faq?page=2", o.path)}
	case o.faq < 0:
		return usageError{errors.New("bench-api: --faq must not be negative")}
	}
	if err := checkCPUs("bench-api", map[string]int{"server-cpu": o.serverCPU, "harness-cpu": o.harnessCPU}); err != nil {
		return err
	}
	return benchAPI(ctx, o, stdout, stderr)
}

// apiFigures is what one state of the server measured: its resident memory
// and the descriptors it holds open on the database files.
type apiFigures struct {
	rss     int64
	dbFiles int
}

func (f apiFigures) String() string {
	return fmt.Sprintf("RSS %d MB, %d open files on govlive.db*", f.rss>>20, f.dbFiles)
}

func benchAPI(ctx context.Context, o apiBenchOptions, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "bench-api")
	bin := o.binary
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return fmt.Errorf("bench-api: %w", err)
		}
	}
	if o.harnessCPU >= 0 {
		if err := pinProcess(o.harnessCPU); err != nil {
			return fmt.Errorf("bench-api: pin to CPU %d: %w", o.harnessCPU, err)
		}
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	dir, err := os.MkdirTemp("", "govlive-bench-api-")
	if err != nil {
		return fmt.Errorf("bench-api: %w", err)
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	if o.faq > 0 {
		if err := growStore(ctx, data, o.faq); err != nil {
			return err
		}
	}
	srv, err := startServeChild(ctx, bin, dir, o.serverCPU, []string{"--demo=false", "--record=false", "--ice-loopback"}, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.stop(); err != nil {
			log.Error("stop serve", "err", err)
		}
	}()
	if err := waitStatus(ctx, srv.url+"/readyz", srv.url+"/healthz"); err != nil {
		return fmt.Errorf("bench-api: %w (log %s)", err, srv.logPath)
	}
	dbPath := filepath.Join(data, "govlive.db")
	before, err := measureServer(srv.pid(), dbPath)
	if err != nil {
		return err
	}
	tr := &http.Transport{MaxIdleConns: o.clients, MaxIdleConnsPerHost: o.clients, MaxConnsPerHost: 0,
		IdleConnTimeout: time.Minute, DialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	first, etag, err := fetch(ctx, client, srv.url+o.path, "")
	if err != nil {
		return fmt.Errorf("bench-api: %w", err)
	}
	if !o.etag {
		etag = ""
	}
	log.Info("serve up", "pid", srv.pid(), "url", srv.url, "answer_bytes", first, "loadavg", loadAvg(), "log", srv.logPath)
	fmt.Fprintf(stdout, "before the load: %s\n", before)

	var (
		lat      []time.Duration
		firstLat []time.Duration
		failures int
		peak     apiFigures
		status   = map[int]int{}
	)
	start := time.Now()
	for r := 0; r < o.rounds; r++ {
		go0 := make(chan struct{})
		res := make([]result, o.clients)
		var wg sync.WaitGroup
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-go0
				t := time.Now()
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.url+o.path, nil)
				if err == nil && etag != "" {
					req.Header.Set("If-None-Match", etag)
				}
				var resp *http.Response
				if err == nil {
					resp, err = client.Do(req)
				}
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					res[i].status = resp.StatusCode
				}
				res[i].d, res[i].err = time.Since(t), err
			}()
		}
		close(go0)
		// the server's files while the round is under way
		time.Sleep(20 * time.Millisecond)
		if f, err := measureServer(srv.pid(), dbPath); err == nil {
			peak.dbFiles = max(peak.dbFiles, f.dbFiles)
			peak.rss = max(peak.rss, f.rss)
		}
		wg.Wait()
		for _, x := range res {
			if x.err != nil {
				failures++
				continue
			}
			status[x.status]++
			if r == 0 {
				firstLat = append(firstLat, x.d)
			} else {
				lat = append(lat, x.d)
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	time.Sleep(time.Second) // let idle connections of the server settle
	tr.CloseIdleConnections()
	time.Sleep(time.Second)
	after, err := measureServer(srv.pid(), dbPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "during the load (peak): %s\n", peak)
	fmt.Fprintf(stdout, "after the load: %s\n", after)
	fmt.Fprintf(stdout, "%d rounds of %d simultaneous GET %s: answers %v, %d failed, %.0f requests/s\n",
		o.rounds, o.clients, o.path, status, failures, float64(len(lat)+len(firstLat))/elapsed.Seconds())
	fmt.Fprintf(stdout, "first round (opens %d connections): p50 %s  p99 %s  max %s\n",
		o.clients, quantile(firstLat, 0.5), quantile(firstLat, 0.99), quantile(firstLat, 1))
	if len(lat) > 0 {
		fmt.Fprintf(stdout, "later rounds (connections kept): p50 %s  p99 %s  max %s\n",
			quantile(lat, 0.5), quantile(lat, 0.99), quantile(lat, 1))
	}
	return nil
}

type result struct {
	d      time.Duration
	status int
	err    error
}

// growStore imports synthetic FAQ entries into a new store in data until
// it holds n (with the sample's documents and lexicon).
func growStore(ctx context.Context, data string, n int) error {
	cs, db, err := openContent(ctx, config{Data: data})
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := contenttest.SyntheticPack(n, 0)
	if err != nil {
		return err
	}
	if _, err := cs.Import(ctx, p, "bench", "合成压测内容"); err != nil {
		return fmt.Errorf("bench-api: grow the store: %w", err)
	}
	return nil
}

// waitStatus waits until the first URL answers 200 (or 404, an older
// binary without it: then the second).
func waitStatus(ctx context.Context, urls ...string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(5 * time.Minute)
	for _, u := range urls {
		for {
			resp, err := client.Get(u)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
				if resp.StatusCode == http.StatusNotFound {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not 200 after 5 minutes", u)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return errors.New("no readiness endpoint answered")
}

// fetch GETs url once and returns the answer's size and ETag.
func fetch(ctx context.Context, client *http.Client, url, etag string) (int64, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return n, "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return n, resp.Header.Get("ETag"), err
}

// measureServer reads the RSS of pid and counts its descriptors open on
// the database, its WAL and its shared memory.
func measureServer(pid int, dbPath string) (apiFigures, error) {
	var f apiFigures
	var err error
	if f.rss, err = loadtest.RSS(pid); err != nil {
		return f, fmt.Errorf("bench-api: %w", err)
	}
	fdDir := "/proc/" + strconv.Itoa(pid) + "/fd"
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return f, fmt.Errorf("bench-api: %w", err)
	}
	abs, _ := filepath.Abs(dbPath)
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
		if err == nil && strings.HasPrefix(target, abs) {
			f.dbFiles++
		}
	}
	return f, nil
}

// quantile is the q-quantile of ds (nearest rank), rounded for printing.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(math.Ceil(q*float64(len(s)))) - 1
	d := s[max(0, min(i, len(s)-1))]
	if d > 10*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}
