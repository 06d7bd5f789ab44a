package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Registry keeps the recordings being written, so that a Janitor never
// removes one, and how writing went: the recordings that could not be
// written. One Registry serves every Recorder of a recordings directory
// (Params.Registry); it is safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	live     map[liveKey]struct{}
	lastErr  error     // the last write failure; nil once a recording wrote after it
	lastAt   time.Time // when it happened
	finished chan struct{}
	failures atomic.Uint64
}

// liveKey names a recording by its session directory (the sanitised
// session) and its file name.
type liveKey struct{ dir, name string }

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{live: map[liveKey]struct{}{}, finished: make(chan struct{}, 1)}
}

// Live reports whether the recording name in the session directory dir
// is being written.
func (g *Registry) Live(dir, name string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.live[liveKey{dir, name}]
	return ok
}

// Len is the number of recordings being written.
func (g *Registry) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.live)
}

// Finished is signalled when a recording has ended; one signal may stand
// for several.
func (g *Registry) Finished() <-chan struct{} { return g.finished }

// Failures counts the recordings that stopped, or never started, because
// their file could not be written.
func (g *Registry) Failures() uint64 { return g.failures.Load() }

// Failing returns the last write failure and when it happened, as long as
// no recording has written since; nil when none failed or one wrote
// after the failure.
func (g *Registry) Failing() (time.Time, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lastAt, g.lastErr
}

// begin registers a recording about to be created; it is false when one
// of that name is already being written.
func (g *Registry) begin(dir, name string) bool {
	if g == nil {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	k := liveKey{dir, name}
	if _, ok := g.live[k]; ok {
		return false
	}
	g.live[k] = struct{}{}
	return true
}

// end unregisters a recording whose file is closed (or was never made).
func (g *Registry) end(dir, name string) {
	if g == nil {
		return
	}
	g.mu.Lock()
	delete(g.live, liveKey{dir, name})
	g.mu.Unlock()
	select {
	case g.finished <- struct{}{}:
	default:
	}
}

// failed records that a recording could not be written.
func (g *Registry) failed(at time.Time, err error) {
	if g == nil {
		return
	}
	g.failures.Add(1)
	g.mu.Lock()
	g.lastErr, g.lastAt = err, at
	g.mu.Unlock()
}

// wrote records that a recording wrote to its file: writing works again.
func (g *Registry) wrote() {
	if g == nil {
		return
	}
	g.mu.Lock()
	g.lastErr, g.lastAt = nil, time.Time{}
	g.mu.Unlock()
}

// errLive means that a recording was not removed because it is being
// written.
var errLive = errors.New("record: recording is being written")

// removeFinished removes the recording name of the session directory dir
// under root unless it is being written. The check and the removal are
// one step against begin, so no recording of that name can start in
// between; the file is removed through an os.Root of its directory, so a
// name leads nowhere else, and a symbolic link is removed itself, never
// what it points to.
func (g *Registry) removeFinished(root *os.Root, dir, name string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.live[liveKey{dir, name}]; ok {
		return errLive
	}
	sub, err := root.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("record: remove %s/%s: %w", dir, name, err)
	}
	defer func() { _ = sub.Close() }()
	if err := sub.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("record: remove %s/%s: %w", dir, name, err)
	}
	return nil
}
