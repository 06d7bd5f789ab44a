package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"
)

// File describes a recording on disk.
type File struct {
	Name     string    `json:"name"`      // base name: <anchor>-<start>.<webm|mp4>
	Session  string    `json:"session"`   // the session as given to List, Open or Start
	Anchor   string    `json:"anchor"`    // the anchor as sanitised in the name
	Start    time.Time `json:"start"`     // start time from the name, UTC, whole seconds
	Size     int64     `json:"size"`      // bytes
	MimeType string    `json:"mime_type"` // video/webm or video/mp4
}

const (
	extWebM    = ".webm"
	extMP4     = ".mp4"
	timeLayout = "20060102T150405Z"
	maxNameLen = 64 // runes kept of a session or anchor name
)

var mimeTypes = map[string]string{extWebM: "video/webm", extMP4: "video/mp4"}

// sanitize makes a session or anchor name safe as one path element:
// letters (CJK included), digits, '-' and '_' are kept, anything else
// becomes '_', and the result is at most maxNameLen runes, never empty.
func sanitize(s string) string {
	var b strings.Builder
	n := 0
	for _, c := range s {
		if n == maxNameLen {
			break
		}
		switch {
		case unicode.IsLetter(c), unicode.IsDigit(c), unicode.IsMark(c), c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
		n++
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

func fileName(anchor string, start time.Time, ext string) string {
	return anchor + "-" + start.UTC().Format(timeLayout) + ext
}

// parseName reads a recording's file name; ok is false for any name a
// Recorder would not have made.
func parseName(name string) (anchor string, start time.Time, ext string, ok bool) {
	for e := range mimeTypes {
		if strings.HasSuffix(name, e) {
			ext = e
		}
	}
	if ext == "" {
		return "", time.Time{}, "", false
	}
	base := strings.TrimSuffix(name, ext)
	if len(base) < len(timeLayout)+2 || base[len(base)-len(timeLayout)-1] != '-' {
		return "", time.Time{}, "", false
	}
	anchor = base[:len(base)-len(timeLayout)-1]
	start, err := time.Parse(timeLayout, base[len(base)-len(timeLayout):])
	if err != nil || sanitize(anchor) != anchor || fileName(anchor, start, ext) != name {
		return "", time.Time{}, "", false
	}
	return anchor, start, ext, true
}

// List returns the recordings of a session in dir, newest first. A
// missing directory gives an empty list. Files still empty (a recording
// waiting for its first keyframe) are left out.
func List(dir, session string) ([]File, error) {
	entries, err := os.ReadDir(filepath.Join(dir, sanitize(session)))
	if errors.Is(err, fs.ErrNotExist) {
		return []File{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("record: list %s: %w", session, err)
	}
	files := []File{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		anchor, start, ext, ok := parseName(e.Name())
		if !ok {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("record: list %s: %w", session, err)
		}
		if info.Size() == 0 {
			continue
		}
		files = append(files, File{
			Name: e.Name(), Session: session, Anchor: anchor, Start: start,
			Size: info.Size(), MimeType: mimeTypes[ext],
		})
	}
	sort.SliceStable(files, func(i, j int) bool {
		if !files[i].Start.Equal(files[j].Start) {
			return files[i].Start.After(files[j].Start)
		}
		return files[i].Name < files[j].Name
	})
	return files, nil
}

// Open opens a recording of a session for reading (e.g. a download). A
// name that is not a recording's name, or not one in that session's
// directory, gives an error wrapping ErrNotFound; the file is opened
// through an os.Root, so nothing outside the directory can be reached.
func Open(dir, session, name string) (*os.File, File, error) {
	anchor, start, ext, ok := parseName(name)
	if !ok {
		return nil, File{}, fmt.Errorf("record: open %q: %w", name, ErrNotFound)
	}
	root, err := os.OpenRoot(filepath.Join(dir, sanitize(session)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, File{}, fmt.Errorf("record: open %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, File{}, fmt.Errorf("record: open %q: %w", name, err)
	}
	defer func() { _ = root.Close() }() // files opened through it stay open
	f, err := root.Open(name)
	if err != nil {
		// Missing, or a link leading out of the directory.
		return nil, File{}, fmt.Errorf("record: open %q: %w: %w", name, ErrNotFound, err)
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		_ = f.Close()
		if err == nil {
			err = ErrNotFound
		}
		return nil, File{}, fmt.Errorf("record: open %q: %w", name, err)
	}
	return f, File{
		Name: name, Session: session, Anchor: anchor, Start: start,
		Size: info.Size(), MimeType: mimeTypes[ext],
	}, nil
}
