package record

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrDiskLow means that the recordings' volume has less free space than
// the floor (JanitorConfig.MinFree), or none at all.
var ErrDiskLow = errors.New("record: disk space low")

// ErrWriteFailing means that the last recording to write failed, and none
// has written since.
var ErrWriteFailing = errors.New("record: recordings fail to write")

// DefaultJanitorInterval is how often a Janitor looks at the recordings
// when JanitorConfig.Interval is not set.
const DefaultJanitorInterval = time.Minute

// Reason says why a Janitor removed a recording.
type Reason int

const (
	ReasonRetention Reason = iota // finished longer ago than the retention
	ReasonBudget                  // the recordings took more than their budget
	ReasonMinFree                 // the volume had less free space than the floor
	numReasons
)

func (r Reason) String() string {
	switch r {
	case ReasonRetention:
		return "retention"
	case ReasonBudget:
		return "budget"
	default:
		return "min_free"
	}
}

// JanitorConfig configures NewJanitor.
type JanitorConfig struct {
	// Dir is the recordings directory, a folder per session (Params.Dir).
	Dir string
	// Registry keeps the recordings being written: they are never
	// removed. Required.
	Registry *Registry
	// Retention: a finished recording last written longer ago is removed
	// (0: kept forever).
	Retention time.Duration
	// Budget is the most bytes the recordings may take, the live ones
	// counted; past it the oldest finished recordings are removed first
	// (0: no budget).
	Budget uint64
	// MinFree is the free space to keep on the volume; below it the
	// oldest finished recordings are removed first (zero: no floor).
	MinFree MinFree
	// Interval is the time between passes (0: DefaultJanitorInterval); a
	// pass also runs when a recording finishes.
	Interval time.Duration
	// Disk reads the volume's space (nil: Statfs).
	Disk Disk
	// Now is the clock of the retention (nil: time.Now).
	Now func() time.Time
	// Log receives each removal (nil: discarded).
	Log *slog.Logger
}

// Janitor keeps the recordings within their retention, their budget and
// the volume's free-space floor, removing finished recordings (the
// oldest first when space is short), never one being written. Run does
// the work; Ready and Collector report on it.
type Janitor struct {
	dir       string
	reg       *Registry
	retention time.Duration
	budget    uint64
	minFree   MinFree
	interval  time.Duration
	disk      Disk
	now       func() time.Time
	log       *slog.Logger

	removed      [numReasons]atomic.Uint64 // recordings removed, by reason
	removedBytes [numReasons]atomic.Uint64

	mu    sync.Mutex
	last  passStats // of the last pass
	short bool      // the last pass could not make the room it needed

	// passed, if set, is called after every pass of Run (tests).
	passed func(passStats)
}

// passStats is what a pass found and did.
type passStats struct {
	files   int    // recordings left, live ones included
	bytes   uint64 // their size
	removed int
	at      time.Time
}

// NewJanitor checks cfg and returns a Janitor for it.
func NewJanitor(cfg JanitorConfig) (*Janitor, error) {
	switch {
	case cfg.Dir == "":
		return nil, errors.New("record: janitor: no directory")
	case cfg.Registry == nil:
		return nil, errors.New("record: janitor: no registry")
	case cfg.Retention < 0, cfg.Interval < 0:
		return nil, errors.New("record: janitor: negative retention or interval")
	case cfg.MinFree.Percent < 0 || cfg.MinFree.Percent >= 100:
		return nil, fmt.Errorf("record: janitor: free-space floor of %g%% is not from 0 to 100", cfg.MinFree.Percent)
	}
	j := &Janitor{
		dir: cfg.Dir, reg: cfg.Registry, retention: cfg.Retention, budget: cfg.Budget,
		minFree: cfg.MinFree, interval: cfg.Interval, disk: cfg.Disk, now: cfg.Now, log: cfg.Log,
	}
	if j.interval == 0 {
		j.interval = DefaultJanitorInterval
	}
	if j.disk == nil {
		j.disk = Statfs{}
	}
	if j.now == nil {
		j.now = time.Now
	}
	if j.log == nil {
		j.log = slog.New(slog.DiscardHandler)
	}
	return j, nil
}

// Run makes a pass at once, then every Interval and whenever a recording
// finishes, until ctx is done. A pass that fails is logged and the next
// one tried; Run returns nil when ctx is done.
func (j *Janitor) Run(ctx context.Context) error {
	tick := time.NewTicker(j.interval)
	defer tick.Stop()
	for {
		st, err := j.pass(ctx)
		if err != nil && ctx.Err() == nil {
			j.log.Warn("recordings janitor: pass failed", "err", err)
		}
		if j.passed != nil {
			j.passed(st)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-j.reg.Finished():
		}
	}
}

// Ready reports whether recordings can be written: an error wrapping
// ErrWriteFailing while the last recording to write failed, or
// ErrDiskLow when the volume has less free space than the floor or none.
func (j *Janitor) Ready(context.Context) error {
	if at, err := j.reg.Failing(); err != nil {
		return fmt.Errorf("%w (since %s): %v", ErrWriteFailing, at.UTC().Format(time.RFC3339), err)
	}
	u, err := j.disk.Usage(j.dir)
	if err != nil {
		return err
	}
	if floor := j.minFree.Of(u.Size); u.Free == 0 || u.Free < floor {
		return fmt.Errorf("%w: %s free of %s, the floor is %s (%s)", ErrDiskLow,
			FormatBytes(u.Free), FormatBytes(u.Size), FormatBytes(floor), j.minFree)
	}
	return nil
}

// recording is a file found by a pass.
type recording struct {
	dir, name string // session directory, file name
	size      uint64
	mod       time.Time // last written
	start     time.Time // from the name
}

// pass removes the finished recordings past the retention, then the
// oldest finished ones while the recordings exceed the budget or the
// volume is below its floor.
func (j *Janitor) pass(ctx context.Context) (passStats, error) {
	st := passStats{at: j.now()}
	root, err := os.OpenRoot(j.dir)
	if errors.Is(err, fs.ErrNotExist) {
		j.keep(st)
		return st, nil // nothing recorded yet
	}
	if err != nil {
		return st, fmt.Errorf("record: janitor: %w", err)
	}
	defer func() { _ = root.Close() }()
	recs, err := scan(ctx, root)
	if err != nil {
		return st, err
	}
	var used uint64
	for _, r := range recs {
		used += r.size
	}
	kept := recs[:0]
	for _, r := range recs {
		if j.retention > 0 && st.at.Sub(r.mod) > j.retention && j.remove(root, r, ReasonRetention) {
			used -= r.size
			st.removed++
			continue
		}
		kept = append(kept, r)
	}

	var over, short int64 // bytes to free for the budget and for the floor
	if j.budget > 0 {
		over = int64(used) - int64(j.budget)
	}
	if j.minFree != (MinFree{}) {
		u, err := j.disk.Usage(j.dir)
		if err != nil {
			j.log.Warn("recordings janitor: free space unknown", "err", err)
		} else {
			short = int64(j.minFree.Of(u.Size)) - int64(u.Free)
		}
	}
	if over > 0 || short > 0 {
		slices.SortFunc(kept, func(a, b recording) int {
			return cmp.Or(a.mod.Compare(b.mod), a.start.Compare(b.start), cmp.Compare(a.dir, b.dir), cmp.Compare(a.name, b.name))
		})
		left := kept[:0]
		for _, r := range kept {
			why := ReasonBudget
			if over <= 0 {
				why = ReasonMinFree
			}
			if (over > 0 || short > 0) && j.remove(root, r, why) {
				// the space freed is taken to be the file's size
				over -= int64(r.size)
				short -= int64(r.size)
				used -= r.size
				st.removed++
				continue
			}
			left = append(left, r)
		}
		kept = left
	}
	st.files, st.bytes = len(kept), used
	if _, failing := j.reg.Failing(); failing != nil {
		j.probe(root) // after the removals, which may have made the room
	}

	j.mu.Lock()
	wasShort := j.short
	j.short = over > 0 || short > 0
	j.mu.Unlock()
	if j.short && !wasShort {
		j.log.Warn("recordings janitor: no finished recording left to remove, the space stays short",
			"over_budget_bytes", max(over, 0), "below_floor_bytes", max(short, 0), "live", j.reg.Len())
	}
	j.keep(st)
	return st, nil
}

// keep remembers the last pass for Collector.
func (j *Janitor) keep(st passStats) {
	j.mu.Lock()
	j.last = st
	j.mu.Unlock()
}

// scan lists the recordings under root: regular files with a recording's
// name in the session directories (links, other files and other folders
// are left alone).
func scan(ctx context.Context, root *os.Root) ([]recording, error) {
	sessions, err := readDir(root, ".")
	if err != nil {
		return nil, err
	}
	var recs []recording
	for _, s := range sessions {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !s.IsDir() {
			continue
		}
		entries, err := readDir(root, s.Name())
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			_, start, _, ok := parseName(e.Name())
			if !ok {
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since
			}
			if err != nil {
				return nil, fmt.Errorf("record: janitor: %s/%s: %w", s.Name(), e.Name(), err)
			}
			recs = append(recs, recording{dir: s.Name(), name: e.Name(), size: uint64(info.Size()), mod: info.ModTime(), start: start})
		}
	}
	return recs, nil
}

// readDir lists a directory of root, unsorted.
func readDir(root *os.Root, name string) ([]fs.DirEntry, error) {
	d, err := root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("record: janitor: %w", err)
	}
	defer func() { _ = d.Close() }()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("record: janitor: %s: %w", name, err)
	}
	return entries, nil
}

// remove removes a finished recording and logs it; it is false for a
// live one or one that could not be removed (logged).
func (j *Janitor) remove(root *os.Root, r recording, why Reason) bool {
	err := j.reg.removeFinished(root, r.dir, r.name)
	switch {
	case errors.Is(err, errLive):
		return false
	case err != nil:
		j.log.Error("recording not removed", "session", r.dir, "name", r.name, "reason", why.String(), "err", err)
		return false
	}
	j.removed[why].Add(1)
	j.removedBytes[why].Add(r.size)
	level := slog.LevelWarn
	if why == ReasonRetention {
		level = slog.LevelInfo
	}
	j.log.Log(context.Background(), level, "recording removed", "session", r.dir, "name", r.name,
		"size", r.size, "reason", why.String(), "last_written", r.mod.UTC().Format(time.RFC3339))
	return true
}

// probeName is the file a Janitor writes to learn whether writing works
// again; it is no recording's name.
const probeName = ".govlive-write-probe"

// probe writes and removes a small file while recordings fail to write;
// when that works, the Registry is told that writing works again.
func (j *Janitor) probe(root *os.Root) {
	f, err := root.OpenFile(probeName, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return
	}
	_, werr := f.Write(make([]byte, 4096))
	serr := f.Sync()
	cerr := f.Close()
	rerr := root.Remove(probeName)
	if werr == nil && serr == nil && cerr == nil && rerr == nil {
		j.log.Info("recordings can be written again")
		j.reg.wrote()
	}
}
