package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// dataLock is a process's hold on a data directory: an exclusive lock on
// DATA/govlive.lock for as long as the process runs, with a note of who
// holds it (process id, command, and the URL once serve listens), so that
// a second process says at once who is in the way instead of waiting on
// the search index's own lock. serve and ask take it; the commands that
// only use the database (import, export, token) run beside a serve.
type dataLock struct {
	f    *os.File
	info lockInfo
}

// lockInfo is what the lock file says about its holder.
type lockInfo struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	URL     string    `json:"url,omitempty"`
	Since   time.Time `json:"since"`
}

// dataInUseError says that another process holds the data directory.
type dataInUseError struct {
	dir  string
	info lockInfo // zero if the holder has not written its note yet
}

func (e *dataInUseError) Error() string {
	if e.info.PID == 0 {
		return fmt.Sprintf("data directory %s is in use by another govlive process (see %s)", e.dir, lockName)
	}
	s := fmt.Sprintf("data directory %s is in use by govlive %s (pid %d", e.dir, e.info.Command, e.info.PID)
	if e.info.URL != "" {
		s += ", serving " + e.info.URL
	}
	return s + ", since " + e.info.Since.Local().Format("2006-01-02 15:04:05") + ")"
}

const lockName = "govlive.lock"

// lockData takes the lock of the data directory dir (created if missing)
// for command, or fails at once with a *dataInUseError naming the holder.
func lockData(dir, command string) (*dataLock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		info, _ := readLockInfo(f)
		cerr := f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.Join(&dataInUseError{dir: dir, info: info}, cerr)
		}
		return nil, errors.Join(fmt.Errorf("data directory lock %s: %w", path, err), cerr)
	}
	l := &dataLock{f: f, info: lockInfo{PID: os.Getpid(), Command: command, Since: time.Now().UTC().Truncate(time.Second)}}
	if err := l.write(); err != nil {
		return nil, errors.Join(err, l.release())
	}
	return l, nil
}

func readLockInfo(f *os.File) (lockInfo, error) {
	var info lockInfo
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err != nil {
		return info, err
	}
	return info, json.Unmarshal(b, &info)
}

// serving notes the URL serve listens on, for ask to find.
func (l *dataLock) serving(url string) error {
	l.info.URL = url
	return l.write()
}

func (l *dataLock) write() error {
	b, err := json.Marshal(l.info)
	if err != nil {
		return err
	}
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("data directory lock: %w", err)
	}
	if _, err := l.f.WriteAt(append(b, '\n'), 0); err != nil {
		return fmt.Errorf("data directory lock: %w", err)
	}
	return nil
}

// release lets go of the data directory. The note stays in the file; it
// means nothing without the lock.
func (l *dataLock) release() error {
	return l.f.Close() // closing the last descriptor releases the flock
}
