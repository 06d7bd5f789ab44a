// Package record writes one anchor's live WebRTC media to a file that a
// browser can play: VP8 (with or without Opus) and Opus alone go to WebM,
// H264 (with or without Opus) goes to fragmented MP4.
//
// A Recorder takes RTP packets from the relay without ever blocking it,
// puts them back in order, rebuilds whole frames, drops what was damaged by
// loss (video waits for the next keyframe), lines the tracks up by the
// arrival time of their first packets and writes the file incrementally, so
// that a publisher that disappears leaves a file that plays up to the last
// frame (WebM) or fragment (MP4) written.
package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// ErrUnsupported means that a recording of the given codecs cannot be made.
var ErrUnsupported = errors.New("record: unsupported codecs")

// ErrNotFound means that no recording of that name exists in the session.
var ErrNotFound = errors.New("record: recording not found")

// ErrClosed means that the Recorder was closed before Run was called.
var ErrClosed = errors.New("record: recorder closed")

// ErrRunning means that Run was called while another Run was going on.
var ErrRunning = errors.New("record: recorder already running")

// DefaultQueueLen is the number of packets per track that a Recorder holds
// for Run when Params.QueueLen is not set.
const DefaultQueueLen = 1024

const (
	videoClock = 90000 // RTP clock rate of video, Hz
	audioClock = 48000 // RTP clock rate of Opus, Hz

	// reorderWindow is how many later packets a missing packet is waited
	// for before it is taken as lost.
	reorderWindow = 64

	// reanchorAfter is how far a track's RTP clock may drift from the
	// arrival times before the track is lined up again (an encoder restart
	// or a timestamp jump).
	reanchorAfter = 10 * time.Second

	// maxEarlyAudio bounds the audio frames held for the first video
	// keyframe (5 s of 20 ms packets).
	maxEarlyAudio = 250
)

// Params configures Start.
type Params struct {
	// Dir is the data directory; recordings go to Dir/<session>/.
	Dir string
	// Session and Anchor name the recording; both are sanitised for the
	// file name.
	Session, Anchor string
	// Start is when the anchor went live; it names the file (zero: Now()).
	Start time.Time
	// VideoMime is webrtc.MimeTypeVP8, webrtc.MimeTypeH264 or "" (no video).
	VideoMime string
	// AudioMime is webrtc.MimeTypeOpus or "" (no audio).
	AudioMime string
	// Log receives the recorder's events (nil: discarded).
	Log *slog.Logger
	// QueueLen bounds the packets per track waiting for Run (0: DefaultQueueLen).
	QueueLen int
	// Now is the clock used for arrival times (nil: time.Now).
	Now func() time.Time
	// RequestKeyframe, if set, asks the publisher for a keyframe while the
	// video waits for one (at the start and after a loss): with nobody
	// watching, a browser sends keyframes only when asked. It is called
	// on Run's goroutine and must not block; the caller throttles it.
	RequestKeyframe func()
	// Registry, if set, keeps the recording while it is written (a
	// Janitor never removes it) and learns when writing it fails.
	Registry *Registry

	// openFile creates the file (nil: createFile); tests put failing
	// files in.
	openFile func(path string) (recordFile, error)
}

// recordFile is what a Recorder writes: an *os.File.
type recordFile interface {
	io.Writer
	io.WriterAt
	io.Closer
}

// createFile creates a new recording file; an existing one is an error
// wrapping fs.ErrExist.
func createFile(path string) (recordFile, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// Stats counts what a Recorder has done so far.
type Stats struct {
	VideoPackets, AudioPackets uint64 // packets handed to Video and Audio
	VideoDropped, AudioDropped uint64 // packets dropped because the queue was full
	VideoLost, AudioLost       uint64 // packets not received in time (gaps in the sequence)
	VideoFrames, AudioFrames   uint64 // frames written to the file
	VideoSkipped, AudioSkipped uint64 // frames not written: damaged, before the first keyframe or after loss until the next one
	Bytes                      int64  // bytes written to the file
}

// trackStats holds one track's counters; Video/Audio and Run update them
// concurrently with Stats.
type trackStats struct {
	packets, dropped, lost, frames, skipped atomic.Uint64
}

// kind tells the tracks apart.
type kind int

const (
	video kind = iota
	audio
)

func (k kind) String() string {
	if k == video {
		return "video"
	}
	return "audio"
}

// packet is the part of an RTP packet a Recorder keeps, with its arrival time.
type packet struct {
	seq     uint16
	ts      uint32
	marker  bool
	payload []byte
	at      time.Time
}

// Recorder records one anchor's publication to one file. Video and Audio
// may be called from any goroutine; Run does all the work in the caller's
// goroutine; Close stops it and finishes the file.
type Recorder struct {
	log *slog.Logger
	now func() time.Time
	// requestKeyframe is Params.RequestKeyframe
	requestKeyframe func()
	reg             *Registry
	dir             string // the session directory's name
	file            File
	path            string
	f               recordFile
	out             *countingWriter
	mux             muxer
	tracks          [2]*track // by kind; nil when the publication has no such track
	queues          [2]chan packet
	stats           [2]trackStats

	// processed counts packets taken off the queues by Run (for tests).
	processed atomic.Uint64
	// halted is set once the file is finished (or failed): Video and
	// Audio take nothing more
	halted atomic.Bool

	mu       sync.Mutex
	running  bool // Run has started
	finished bool // the file has been finished (by Run or Close)
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{} // closed when the file is finished
	finalErr error         // set before done is closed

	// Owned by the goroutine that runs Run (or Close when Run never ran).
	zero     time.Time // wall-clock time of the file's zero; zero until the first frame is written
	zeroSet  bool
	early    []earlyFrame // audio waiting for the first video keyframe
	wroteAny bool
}

// earlyFrame is an audio frame that came before the file's zero was known.
type earlyFrame struct {
	fr frame
	s  sample
}

// Start creates Dir/<session>/<anchor>-<start as 20060102T150405Z>.<webm|mp4>
// (making directories as needed) and returns a Recorder for it. Unsupported
// codec combinations give an error wrapping ErrUnsupported. If a recording
// of that name already exists, the start time in the name is moved on by a
// second until the name is free. A file that cannot be created counts as a
// failure in Params.Registry.
func Start(p Params) (*Recorder, error) {
	if p.Dir == "" {
		return nil, errors.New("record: start: no directory")
	}
	if p.Session == "" || p.Anchor == "" {
		return nil, errors.New("record: start: session and anchor are required")
	}
	hasVideo, hasAudio, ext, err := container(p.VideoMime, p.AudioMime)
	if err != nil {
		return nil, fmt.Errorf("record: start %s/%s: %w", p.Session, p.Anchor, err)
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.QueueLen <= 0 {
		p.QueueLen = DefaultQueueLen
	}
	if p.Start.IsZero() {
		p.Start = p.Now()
	}
	if p.openFile == nil {
		p.openFile = createFile
	}
	session, anchor := sanitize(p.Session), sanitize(p.Anchor)
	dir := filepath.Join(p.Dir, session)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.Registry.failed(p.Now(), err)
		return nil, fmt.Errorf("record: start: %w", err)
	}
	start := p.Start.UTC().Truncate(time.Second)
	var f recordFile
	var name string
	for i := 0; ; i++ {
		name = fileName(anchor, start, ext)
		// registered before it exists: a Janitor never sees it unregistered
		if p.Registry.begin(session, name) {
			f, err = p.openFile(filepath.Join(dir, name))
			if err == nil {
				break
			}
			p.Registry.end(session, name)
		} else {
			err = fmt.Errorf("%s: %w", name, fs.ErrExist)
		}
		if !errors.Is(err, fs.ErrExist) || i == 10 {
			if !errors.Is(err, fs.ErrExist) {
				p.Registry.failed(p.Now(), err)
			}
			return nil, fmt.Errorf("record: start: %w", err)
		}
		start = start.Add(time.Second)
	}

	r := &Recorder{
		log:             p.Log.With("session", p.Session, "anchor", p.Anchor, "file", name),
		now:             p.Now,
		requestKeyframe: p.RequestKeyframe,
		reg:             p.Registry,
		dir:             session,
		path:            filepath.Join(dir, name),
		f:               f,
		file: File{
			Name:     name,
			Session:  p.Session,
			Anchor:   anchor,
			Start:    start,
			MimeType: mimeTypes[ext],
		},
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	r.out = &countingWriter{w: f}
	if ext == extWebM {
		r.mux = newWebMWriter(r.out, f, hasVideo, hasAudio, start)
	} else {
		r.mux = newMP4Writer(r.out, f, hasAudio)
	}
	if hasVideo {
		r.tracks[video] = newTrack(video, p.VideoMime)
		r.queues[video] = make(chan packet, p.QueueLen)
	}
	if hasAudio {
		r.tracks[audio] = newTrack(audio, p.AudioMime)
		r.queues[audio] = make(chan packet, p.QueueLen)
	}
	r.log.Info("recording started", "video", p.VideoMime, "audio", p.AudioMime)
	return r, nil
}

// container picks the file format for a codec combination.
func container(videoMime, audioMime string) (hasVideo, hasAudio bool, ext string, err error) {
	switch {
	case audioMime == "":
	case strings.EqualFold(audioMime, webrtc.MimeTypeOpus):
		hasAudio = true
	default:
		return false, false, "", fmt.Errorf("%w: audio %q", ErrUnsupported, audioMime)
	}
	switch {
	case videoMime == "":
		if !hasAudio {
			return false, false, "", fmt.Errorf("%w: no tracks", ErrUnsupported)
		}
		return false, true, extWebM, nil
	case strings.EqualFold(videoMime, webrtc.MimeTypeVP8):
		return true, hasAudio, extWebM, nil
	case strings.EqualFold(videoMime, webrtc.MimeTypeH264):
		return true, hasAudio, extMP4, nil
	default:
		return false, false, "", fmt.Errorf("%w: video %q", ErrUnsupported, videoMime)
	}
}

// File describes the recording the Recorder writes.
func (r *Recorder) File() File {
	f := r.file
	f.Size = r.out.n.Load()
	return f
}

// Video hands a video RTP packet to the Recorder. It never blocks: the
// packet is copied into a bounded queue, and dropped (and counted) when the
// queue is full. Packets are ignored when the publication has no video.
func (r *Recorder) Video(pkt *rtp.Packet) { r.enqueue(video, pkt) }

// Audio hands an audio RTP packet to the Recorder, like Video.
func (r *Recorder) Audio(pkt *rtp.Packet) { r.enqueue(audio, pkt) }

func (r *Recorder) enqueue(k kind, pkt *rtp.Packet) {
	q := r.queues[k]
	if q == nil || pkt == nil || r.halted.Load() {
		return
	}
	st := &r.stats[k]
	st.packets.Add(1)
	p := packet{
		seq:     pkt.SequenceNumber,
		ts:      pkt.Timestamp,
		marker:  pkt.Marker,
		payload: append([]byte(nil), pkt.Payload...),
		at:      r.now(),
	}
	select {
	case q <- p:
	default:
		st.dropped.Add(1)
	}
}

// Stats returns the Recorder's counters.
func (r *Recorder) Stats() Stats {
	v, a := &r.stats[video], &r.stats[audio]
	return Stats{
		VideoPackets: v.packets.Load(), AudioPackets: a.packets.Load(),
		VideoDropped: v.dropped.Load(), AudioDropped: a.dropped.Load(),
		VideoLost: v.lost.Load(), AudioLost: a.lost.Load(),
		VideoFrames: v.frames.Load(), AudioFrames: a.frames.Load(),
		VideoSkipped: v.skipped.Load(), AudioSkipped: a.skipped.Load(),
		Bytes: r.out.n.Load(),
	}
}

// Run turns the queued packets into the file until ctx is done or Close is
// called; then it handles what is still queued, finishes the file and
// closes it. It returns the first error writing the file, or nil: a write
// that fails (a full disk) ends the recording, logged once, and Video and
// Audio take nothing more. Run may be called once; after Close it returns
// ErrClosed.
func (r *Recorder) Run(ctx context.Context) error {
	r.mu.Lock()
	switch {
	case r.finished:
		r.mu.Unlock()
		return ErrClosed
	case r.running:
		r.mu.Unlock()
		return ErrRunning
	}
	r.running = true
	r.mu.Unlock()

	return r.finish(r.loop(ctx))
}

func (r *Recorder) loop(ctx context.Context) error {
	vq, aq := r.queues[video], r.queues[audio] // a nil channel is never ready
	for {
		select {
		case <-ctx.Done():
			return r.drain()
		case <-r.stop:
			return r.drain()
		case p := <-vq:
			if err := r.handle(video, p); err != nil {
				return err
			}
		case p := <-aq:
			if err := r.handle(audio, p); err != nil {
				return err
			}
		}
	}
}

// drain handles the packets queued when Run was told to stop.
func (r *Recorder) drain() error {
	for k, q := range r.queues {
		for n := len(q); n > 0; n-- {
			if err := r.handle(kind(k), <-q); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close stops Run if it is running and waits for it to finish the file, or
// writes what is queued and finishes the file itself if Run never ran. It
// is idempotent and returns the same error every time. A recording in
// which nothing was written is removed.
func (r *Recorder) Close() error {
	r.stopOnce.Do(func() { close(r.stop) })
	r.mu.Lock()
	if !r.running && !r.finished {
		r.finished = true
		r.mu.Unlock()
		r.finalize(r.drain())
	} else {
		r.mu.Unlock()
	}
	<-r.done
	return r.finalErr
}

// finish is Run's ending: it finishes the file once.
func (r *Recorder) finish(runErr error) error {
	r.mu.Lock()
	r.finished = true
	r.mu.Unlock()
	r.finalize(runErr)
	<-r.done
	return r.finalErr
}

// finalize flushes what the tracks still hold, finishes and closes the
// file, and removes it when nothing was recorded. A write that failed is
// logged here, once, and told to the Registry. It runs exactly once, in
// the goroutine that owns the recording state.
func (r *Recorder) finalize(runErr error) {
	r.halted.Store(true)
	err := runErr
	if err == nil {
		err = r.flushTracks()
	}
	if err == nil {
		err = r.mux.finish()
	}
	if cerr := r.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("record: close %s: %w", r.file.Name, cerr)
	}
	if err != nil {
		s := r.Stats()
		r.log.Error("recording failed: stopped, the live stream goes on", "err", err,
			"disk_full", errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT), "bytes", s.Bytes, "kept", r.wroteAny)
		r.reg.failed(r.now(), err)
	}
	if !r.wroteAny {
		// nothing playable: the file goes, a failed one too
		if rerr := os.Remove(r.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("record: remove empty %s: %w", r.file.Name, rerr)
		}
		if err == nil {
			r.log.Info("recording empty, removed")
		}
	} else if err == nil {
		s := r.Stats()
		r.log.Info("recording finished", "bytes", s.Bytes,
			"video_frames", s.VideoFrames, "audio_frames", s.AudioFrames,
			"video_skipped", s.VideoSkipped, "audio_skipped", s.AudioSkipped,
			"video_lost", s.VideoLost, "audio_lost", s.AudioLost,
			"video_dropped", s.VideoDropped, "audio_dropped", s.AudioDropped)
	}
	r.reg.end(r.dir, r.file.Name)
	r.finalErr = err
	close(r.done)
}

// flushTracks takes the packets still held for reordering as they are and
// writes the frames they complete, and the last frame of each track.
func (r *Recorder) flushTracks() error {
	for _, t := range r.tracks {
		if t == nil {
			continue
		}
		for _, op := range t.reorder.flush() {
			if err := r.handleOrdered(t, op); err != nil {
				return err
			}
		}
		frames, discarded := t.asm.flush()
		r.stats[t.kind].skipped.Add(discarded)
		for _, fr := range frames {
			if err := r.handleFrame(t, fr); err != nil {
				return err
			}
		}
	}
	r.stats[audio].skipped.Add(uint64(len(r.early)))
	r.early = nil
	return nil
}

// handle takes one packet off a queue.
func (r *Recorder) handle(k kind, p packet) error {
	r.processed.Add(1)
	t := r.tracks[k]
	for _, op := range t.reorder.push(p) {
		if err := r.handleOrdered(t, op); err != nil {
			return err
		}
	}
	return nil
}

// handleOrdered takes one packet in sequence order.
func (r *Recorder) handleOrdered(t *track, op orderedPacket) error {
	st := &r.stats[t.kind]
	if op.lost > 0 {
		st.lost.Add(op.lost)
	}
	ext := t.unwrap(op.p.ts, op.p.at)
	frames, discarded := t.asm.push(op.p, ext, op.lost > 0)
	if discarded > 0 {
		st.skipped.Add(discarded)
	}
	for _, fr := range frames {
		if err := r.handleFrame(t, fr); err != nil {
			return err
		}
	}
	return nil
}

// handleFrame decides whether a whole frame goes to the file and when.
func (r *Recorder) handleFrame(t *track, fr frame) error {
	st := &r.stats[t.kind]
	if t.kind == video && fr.afterLoss {
		t.needKey = true
	}
	s, v := t.codec.sample(fr)
	switch v {
	case frameDamaged:
		st.skipped.Add(1)
		t.needKey = true
		return nil
	case frameEmpty:
		return nil
	}
	if t.kind == video && t.needKey && !s.key {
		st.skipped.Add(1)
		r.askKeyframe()
		return nil
	}
	if !r.zeroSet {
		if t.kind == audio && r.tracks[video] != nil {
			// The file starts with a video keyframe. Run may take audio
			// off its queue before video that arrived earlier, so audio
			// waits for the keyframe and is then placed by its time.
			if len(r.early) == maxEarlyAudio {
				st.skipped.Add(1)
				r.early = append(r.early[:0], r.early[1:]...)
			}
			r.early = append(r.early, earlyFrame{fr: fr, s: s})
			return nil
		}
		// the file starts at the keyframe's arrival, whatever its RTP
		// timestamp says (a jump before the first keyframe must not put
		// the start in the future)
		r.zero = fr.at
		r.zeroSet = true
		t.offset = -(fr.ts - t.anchorTS)
		t.offsetSet = true
		if _, err := r.place(t, fr, s); err != nil {
			return err
		}
		if t.kind == video {
			t.needKey = false
		}
		for _, e := range r.early {
			if _, err := r.place(r.tracks[audio], e.fr, e.s); err != nil {
				return err
			}
		}
		r.early = nil
		return nil
	}
	written, err := r.place(t, fr, s)
	if written && t.kind == video && s.key {
		t.needKey = false
	}
	return err
}

// askKeyframe asks the publisher for a keyframe while video waits for one
// (the relay throttles the requests).
func (r *Recorder) askKeyframe() {
	if r.requestKeyframe != nil {
		r.requestKeyframe()
	}
}

// place times a frame on the file's clock and writes it; written is false
// for a frame that falls before the file's start.
func (r *Recorder) place(t *track, fr frame, s sample) (written bool, err error) {
	st := &r.stats[t.kind]
	if !t.offsetSet {
		t.offset = durationToUnits(t.anchorWall.Sub(r.zero), t.clock)
		t.offsetSet = true
	}
	dts := fr.ts - t.anchorTS + t.offset
	expect := durationToUnits(fr.at.Sub(r.zero), t.clock)
	if abs(dts-expect) > int64(reanchorAfter.Seconds())*t.clock {
		r.log.Warn("timestamps jumped, realigning track", "track", t.kind.String(),
			"dts_s", float64(dts)/float64(t.clock), "arrival_s", float64(expect)/float64(t.clock))
		t.offset += expect - dts
		dts = expect
	}
	if t.written && dts <= t.lastDTS {
		// The clock went back (a sender restarted its timestamps): the
		// track is lined up again from this frame, so the frames after it
		// keep their own spacing instead of each being pushed to one unit
		// after the last until the clock caught up.
		next := max(expect, t.lastDTS+1)
		r.log.Warn("timestamps went back, realigning track", "track", t.kind.String(),
			"dts_s", float64(dts)/float64(t.clock), "last_s", float64(t.lastDTS)/float64(t.clock))
		t.offset += next - dts
		dts = next
	}
	if dts < 0 {
		st.skipped.Add(1)
		return false, nil
	}
	t.lastDTS, t.written = dts, true
	s.dts = dts
	if err := r.mux.write(t.kind, s); err != nil {
		return false, err
	}
	st.frames.Add(1)
	if !r.wroteAny {
		r.wroteAny = true
		r.reg.wrote()
	}
	return true, nil
}

// durationToUnits converts d to a clock's units, rounding to the nearest,
// without overflowing for long recordings (whole seconds first).
func durationToUnits(d time.Duration, clock int64) int64 {
	ns := d.Nanoseconds()
	neg := ns < 0
	if neg {
		ns = -ns
	}
	units := ns/1e9*clock + (ns%1e9*clock+5e8)/1e9
	if neg {
		return -units
	}
	return units
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}
