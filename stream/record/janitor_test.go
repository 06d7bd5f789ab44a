package record

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeDisk is a Disk with readings set by the test.
type fakeDisk struct {
	mu  sync.Mutex
	u   Usage
	err error
}

func (d *fakeDisk) Usage(string) (Usage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.u, d.err
}

func (d *fakeDisk) set(u Usage) {
	d.mu.Lock()
	d.u = u
	d.mu.Unlock()
}

var _ Disk = (*fakeDisk)(nil)

const day = 24 * time.Hour

// janitorNow is the janitor tests' clock.
var janitorNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// testRec is a recording file a janitor test puts on disk.
type testRec struct {
	session, anchor string
	age             time.Duration // since last written, at janitorNow
	size            int
	live            bool
}

func (r testRec) name() string {
	return fileName(sanitize(r.anchor), janitorNow.Add(-r.age).Add(-time.Hour).Truncate(time.Second), extWebM)
}

func (r testRec) key() string { return sanitize(r.session) + "/" + r.name() }

// putRecordings writes the recordings under dir (DATA/recordings) and
// registers the live ones.
func putRecordings(t testing.TB, dir string, reg *Registry, recs []testRec) {
	t.Helper()
	for _, r := range recs {
		sdir := filepath.Join(dir, sanitize(r.session))
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(sdir, r.name())
		if err := os.WriteFile(path, make([]byte, r.size), 0o644); err != nil {
			t.Fatal(err)
		}
		mod := janitorNow.Add(-r.age)
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
		if r.live && !reg.begin(sanitize(r.session), r.name()) {
			t.Fatalf("%s registered twice", r.key())
		}
	}
}

// onDisk lists the recordings left under dir as session/name.
func onDisk(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	sessions, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		files, err := os.ReadDir(filepath.Join(dir, s.Name()))
		if err != nil {
			continue
		}
		for _, f := range files {
			out = append(out, s.Name()+"/"+f.Name())
		}
	}
	slices.Sort(out)
	return out
}

func keys(recs []testRec) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.key())
	}
	slices.Sort(out)
	return out
}

// TestJanitorPass: retention removes old finished recordings and keeps
// live and recent ones; a budget or a free-space floor removes the oldest
// finished recordings first, never a live one, and no more than needed.
func TestJanitorPass(t *testing.T) {
	const mb = 1_000_000
	old1 := testRec{session: "课程-1", anchor: "主播A", age: 120 * day, size: mb}
	old2 := testRec{session: "课程 2", anchor: "王敏", age: 91 * day, size: mb}
	oldLive := testRec{session: "课程-1", anchor: "主播B", age: 200 * day, size: 3 * mb, live: true}
	mid := testRec{session: "课程-1", anchor: "主播A", age: 30 * day, size: 2 * mb}
	recent := testRec{session: "课程 2", anchor: "王敏", age: 2 * day, size: 2 * mb}
	newest := testRec{session: "demo", anchor: "测试信号", age: time.Minute, size: mb}
	live := testRec{session: "demo", anchor: "主播C", age: 0, size: 4 * mb, live: true}
	all := []testRec{old1, old2, oldLive, mid, recent, newest, live}

	tests := []struct {
		name      string
		cfg       JanitorConfig
		disk      Usage
		wantLeft  []testRec
		wantWhy   map[Reason]uint64
		wantShort bool // the pass could not make the room
	}{
		{
			name:     "retention removes finished recordings past it, never a live one",
			cfg:      JanitorConfig{Retention: 90 * day},
			wantLeft: []testRec{oldLive, mid, recent, newest, live},
			wantWhy:  map[Reason]uint64{ReasonRetention: 2},
		},
		{
			name:     "no retention, no budget, no floor: everything kept",
			wantLeft: all,
		},
		{
			name: "budget removes the oldest finished first, as many as needed",
			// 14 MB recorded, 10.5 MB allowed: old1, old2 and mid go (2 MB
			// freed is not enough), the live oldest stays
			cfg:      JanitorConfig{Budget: 10.5 * mb},
			wantLeft: []testRec{oldLive, recent, newest, live},
			wantWhy:  map[Reason]uint64{ReasonBudget: 3},
		},
		{
			name:     "retention first, then the budget",
			cfg:      JanitorConfig{Retention: 90 * day, Budget: 11 * mb},
			wantLeft: []testRec{oldLive, recent, newest, live},
			wantWhy:  map[Reason]uint64{ReasonRetention: 2, ReasonBudget: 1},
		},
		{
			name:      "only live recordings left over the budget: they stay",
			cfg:       JanitorConfig{Budget: 5 * mb},
			wantLeft:  []testRec{oldLive, live},
			wantWhy:   map[Reason]uint64{ReasonBudget: 5},
			wantShort: true,
		},
		{
			name: "a floor in bytes removes the oldest finished until it is met",
			cfg:  JanitorConfig{MinFree: MinFree{Bytes: 5 * mb}},
			// 3 MB free: old1 and old2 make 5 MB
			disk:     Usage{Size: 100 * mb, Free: 3 * mb},
			wantLeft: []testRec{oldLive, mid, recent, newest, live},
			wantWhy:  map[Reason]uint64{ReasonMinFree: 2},
		},
		{
			name:     "a floor in percent of the volume",
			cfg:      JanitorConfig{MinFree: MinFree{Percent: 5}},
			disk:     Usage{Size: 100 * mb, Free: 4.5 * mb},
			wantLeft: []testRec{old2, oldLive, mid, recent, newest, live},
			wantWhy:  map[Reason]uint64{ReasonMinFree: 1},
		},
		{
			name:     "above the floor: nothing removed",
			cfg:      JanitorConfig{MinFree: MinFree{Percent: 5, Bytes: 2 * mb}},
			disk:     Usage{Size: 100 * mb, Free: 6 * mb},
			wantLeft: all,
		},
		{
			name:      "the disk full of something else: every finished recording goes, live ones stay",
			cfg:       JanitorConfig{MinFree: MinFree{Percent: 10}},
			disk:      Usage{Size: 100 * mb, Free: 0},
			wantLeft:  []testRec{oldLive, live},
			wantWhy:   map[Reason]uint64{ReasonMinFree: 5},
			wantShort: true,
		},
		{
			name: "budget and floor together: the budget's reason while over it",
			// 1 MB over the budget, 3 MB below the floor
			cfg:      JanitorConfig{Budget: 13 * mb, MinFree: MinFree{Bytes: 4 * mb}},
			disk:     Usage{Size: 100 * mb, Free: 1 * mb},
			wantLeft: []testRec{oldLive, recent, newest, live},
			wantWhy:  map[Reason]uint64{ReasonBudget: 1, ReasonMinFree: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "recordings")
			reg := NewRegistry()
			putRecordings(t, dir, reg, all)
			disk := &fakeDisk{u: tt.disk}
			if tt.disk == (Usage{}) {
				disk.u = Usage{Size: 1 << 40, Free: 1 << 39}
			}
			cfg := tt.cfg
			cfg.Dir, cfg.Registry, cfg.Disk, cfg.Log = dir, reg, disk, testLogger(t)
			cfg.Now = func() time.Time { return janitorNow }
			j, err := NewJanitor(cfg)
			if err != nil {
				t.Fatal(err)
			}
			st, err := j.pass(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := onDisk(t, dir), keys(tt.wantLeft); !slices.Equal(got, want) {
				t.Errorf("left on disk:\n got %v\nwant %v", got, want)
			}
			var removed uint64
			for r := range numReasons {
				if got := j.removed[r].Load(); got != tt.wantWhy[r] {
					t.Errorf("removed for %s: got %d, want %d", r, got, tt.wantWhy[r])
				}
				removed += j.removed[r].Load()
			}
			var left uint64
			for _, r := range tt.wantLeft {
				left += uint64(r.size)
			}
			if st.files != len(tt.wantLeft) || st.bytes != left || uint64(st.removed) != removed {
				t.Errorf("pass: got %d files, %d bytes, %d removed; want %d, %d, %d", st.files, st.bytes, st.removed,
					len(tt.wantLeft), left, removed)
			}
			if j.short != tt.wantShort {
				t.Errorf("space short after the pass: got %v, want %v", j.short, tt.wantShort)
			}
		})
	}
}

// TestJanitorTouchesOnlyRecordings: links named like recordings (to a
// file outside, or to a session folder outside), other files and folders
// are left alone, and nothing outside the directory is reached.
func TestJanitorTouchesOnlyRecordings(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "recordings")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(dir, "s"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := janitorNow.Add(-400 * day)
	victim := filepath.Join(outside, "a-20240101T000000Z.webm")
	for _, p := range []string{
		victim,
		filepath.Join(base, "govlive.db"),
		filepath.Join(dir, "s", "notes.txt"),
		filepath.Join(dir, "s", "a-20240101T000000Z.webm.part"),
		filepath.Join(dir, "s", "a b-20240101T000000Z.webm"), // not a name a Recorder makes
		filepath.Join(dir, "a-20240101T000000Z.webm"),        // not in a session folder
	} {
		if err := os.WriteFile(p, []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		filepath.Join(dir, "s", "b-20240101T000000Z.webm"): victim,
		filepath.Join(dir, "s", "c-20240101T000000Z.mp4"):  "../../govlive.db",
		filepath.Join(dir, "linked"):                       outside,
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "s", "d-20240101T000000Z.webm"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := onDisk(t, dir)
	j, err := NewJanitor(JanitorConfig{Dir: dir, Registry: NewRegistry(), Retention: day, Budget: 1,
		Disk: &fakeDisk{u: Usage{Size: 100, Free: 0}}, MinFree: MinFree{Percent: 50},
		Now: func() time.Time { return janitorNow }, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := j.pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.removed != 0 || st.files != 0 {
		t.Errorf("pass: got %d removed, %d recordings found; want none", st.removed, st.files)
	}
	if after := onDisk(t, dir); !slices.Equal(after, before) {
		t.Errorf("directory changed:\n got %v\nwant %v", after, before)
	}
	for _, p := range []string{victim, filepath.Join(base, "govlive.db")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestJanitorRun: a pass right at the start, and one as soon as a
// recording finishes, which may then remove it; none while it is live.
func TestJanitorRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "recordings")
	reg := NewRegistry()
	old := testRec{session: "s", anchor: "a", age: 10 * day, size: 1000}
	putRecordings(t, dir, reg, []testRec{old})
	passes := make(chan passStats, 10)
	j, err := NewJanitor(JanitorConfig{Dir: dir, Registry: reg, Budget: 1, Interval: time.Hour,
		Disk: &fakeDisk{u: Usage{Size: 1 << 40, Free: 1 << 39}}, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	j.passed = func(st passStats) { passes <- st }

	// a recording under way, with frames on disk
	src := buildSource(t, scenario{videoMime: "video/VP8"})
	r, err := Start(Params{Dir: dir, Session: "s", Anchor: "live", Start: testStart, VideoMime: "video/VP8",
		Registry: reg, Log: testLogger(t), QueueLen: 8192})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range src.events {
		r.Video(e.p)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r2, err := Start(Params{Dir: dir, Session: "s", Anchor: "live", Start: testStart, VideoMime: "video/VP8",
		Registry: reg, Log: testLogger(t), QueueLen: 8192})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range src.events {
		r2.Video(e.p)
	}
	<-reg.Finished() // the first recording's, before Run: Run starts with a pass anyway

	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- j.Run(ctx) }()
	st := <-passes
	// the old file and the finished one go; the live one stays
	if got, want := onDisk(t, dir), []string{"s/" + r2.File().Name}; !slices.Equal(got, want) {
		t.Fatalf("after the first pass: %v on disk, want %v", got, want)
	}
	if st.files != 1 {
		t.Errorf("first pass: %d recordings left, want 1", st.files)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	<-passes // the one after r2 finished, an hour before the next tick
	if got := onDisk(t, dir); len(got) != 0 {
		t.Fatalf("after the live recording finished: %v on disk, want none", got)
	}
	cancel()
	if err := <-runErr; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestJanitorReady: the readiness of recordings flips with the free space
// and with a recording that failed to write, and comes back once writing
// works again.
func TestJanitorReady(t *testing.T) {
	const gb = 1_000_000_000
	tests := []struct {
		name    string
		minFree MinFree
		disk    Usage
		diskErr error
		failing bool
		want    error
	}{
		{name: "room", minFree: MinFree{Percent: 5}, disk: Usage{Size: 100 * gb, Free: 10 * gb}},
		{name: "below the floor", minFree: MinFree{Percent: 5}, disk: Usage{Size: 100 * gb, Free: 4 * gb}, want: ErrDiskLow},
		{name: "below a floor in bytes", minFree: MinFree{Percent: 1, Bytes: 2 * gb}, disk: Usage{Size: 100 * gb, Free: gb}, want: ErrDiskLow},
		{name: "full without a floor", disk: Usage{Size: 100 * gb}, want: ErrDiskLow},
		{name: "unreadable", diskErr: os.ErrPermission, want: os.ErrPermission},
		{name: "a recording failed", minFree: MinFree{Percent: 5}, disk: Usage{Size: 100 * gb, Free: 50 * gb},
			failing: true, want: ErrWriteFailing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := NewRegistry()
			if tt.failing {
				reg.failed(janitorNow, fmt.Errorf("write: %w", errors.New("no space left on device")))
			}
			j, err := NewJanitor(JanitorConfig{Dir: t.TempDir(), Registry: reg, MinFree: tt.minFree,
				Disk: &fakeDisk{u: tt.disk, err: tt.diskErr}})
			if err != nil {
				t.Fatal(err)
			}
			err = j.Ready(context.Background())
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Ready: got %v, want %v", err, tt.want)
			}
			if err != nil {
				t.Logf("Ready: %v", err)
			}
		})
	}

	t.Run("ready again once writing works", func(t *testing.T) {
		dir := t.TempDir()
		reg := NewRegistry()
		reg.failed(janitorNow, errors.New("write: no space left on device"))
		j, err := NewJanitor(JanitorConfig{Dir: dir, Registry: reg, Disk: &fakeDisk{u: Usage{Size: 100, Free: 50}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Ready(context.Background()); !errors.Is(err, ErrWriteFailing) {
			t.Fatalf("Ready: got %v, want ErrWriteFailing", err)
		}
		if _, err := j.pass(context.Background()); err != nil { // writes a probe: the directory is writable
			t.Fatal(err)
		}
		if err := j.Ready(context.Background()); err != nil {
			t.Fatalf("Ready after a pass on a writable directory: %v", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, probeName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("probe file left: %v", err)
		}
	})
}

// TestJanitorMetrics: the collector reports the volume, the recordings
// of the last pass, the removals by reason and the write failures.
func TestJanitorMetrics(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "recordings")
	reg := NewRegistry()
	putRecordings(t, dir, reg, []testRec{
		{session: "s", anchor: "a", age: 100 * day, size: 1500},
		{session: "s", anchor: "b", age: day, size: 2500},
		{session: "s", anchor: "c", age: 0, size: 700, live: true},
	})
	reg.failed(janitorNow, errors.New("write: no space left on device"))
	j, err := NewJanitor(JanitorConfig{Dir: dir, Registry: reg, Retention: 90 * day, MinFree: MinFree{Percent: 10},
		Disk: &fakeDisk{u: Usage{Size: 1_000_000, Free: 400_000}}, Now: func() time.Time { return janitorNow }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"govlive_recording_write_failures_total":                     1,
		"govlive_recordings_bytes":                                   3200,
		"govlive_recordings_files":                                   2,
		"govlive_recordings_live":                                    1,
		"govlive_recordings_disk_free_bytes":                         400_000,
		"govlive_recordings_disk_size_bytes":                         1_000_000,
		"govlive_recordings_disk_min_free_bytes":                     100_000,
		`govlive_recordings_removed_total{reason="retention"}`:       1,
		`govlive_recordings_removed_total{reason="budget"}`:          0,
		`govlive_recordings_removed_total{reason="min_free"}`:        0,
		`govlive_recordings_removed_bytes_total{reason="retention"}`: 1500,
		`govlive_recordings_removed_bytes_total{reason="budget"}`:    0,
		`govlive_recordings_removed_bytes_total{reason="min_free"}`:  0,
	}
	preg := prometheus.NewPedanticRegistry()
	if err := preg.Register(j.Collector()); err != nil {
		t.Fatal(err)
	}
	families, err := preg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += fmt.Sprintf("{%s=%q}", l.GetName(), l.GetValue())
			}
			if c := m.GetCounter(); c != nil {
				got[name] = c.GetValue()
			} else {
				got[name] = m.GetGauge().GetValue()
			}
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("metrics:\n got %v\nwant %v", got, want)
	}
}

// BenchmarkJanitorPass is one pass over 10,000 recordings in 100 session
// folders with nothing to remove: all within the retention, the budget
// and the floor ("steady"), or over the budget with every one live, so
// that each pass also sorts them and asks the registry about each
// ("short, all live").
func BenchmarkJanitorPass(b *testing.B) {
	for _, bc := range []struct {
		name   string
		budget uint64
		live   bool
	}{
		{"steady", 1 << 40, false},
		{"short, all live", 1, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "recordings")
			reg := NewRegistry()
			var recs []testRec
			for i := range 10_000 {
				recs = append(recs, testRec{session: fmt.Sprintf("session-%03d", i%100), anchor: fmt.Sprintf("a%d", i),
					age: time.Duration(i) * time.Minute, size: 1000, live: bc.live})
			}
			putRecordings(b, dir, reg, recs)
			j, err := NewJanitor(JanitorConfig{Dir: dir, Registry: reg, Retention: 90 * day, Budget: bc.budget,
				MinFree: MinFree{Percent: 5}, Now: func() time.Time { return janitorNow }})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				st, err := j.pass(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if st.files != len(recs) {
					b.Fatalf("pass found %d recordings, want %d", st.files, len(recs))
				}
			}
		})
	}
}
