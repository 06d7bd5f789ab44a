package record

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"govlive/browsertest"
)

// playJS loads a recording in a <video>, plays it to the end at 4x, seeks
// back into it and reports what the browser saw.
const playJS = `(async (src) => {
	const v = document.createElement('video');
	v.muted = true;
	v.preload = 'auto';
	document.body.appendChild(v);
	const failed = () => new Error('media error ' + (v.error && v.error.code) + ': ' + (v.error && v.error.message));
	const wait = (event, ms) => new Promise((ok, bad) => {
		v.addEventListener(event, ok, {once: true});
		v.addEventListener('error', () => bad(failed()), {once: true});
		setTimeout(() => bad(new Error('no ' + event + ' within ' + ms + 'ms, at ' + v.currentTime)), ms);
	});
	v.src = src;
	await wait('loadedmetadata', 5000);
	const r = {duration: v.duration, width: v.videoWidth, height: v.videoHeight};
	v.playbackRate = 4;
	const ended = wait('ended', 10000);
	await v.play();
	await ended;
	r.end = v.currentTime;
	r.frames = v.getVideoPlaybackQuality().totalVideoFrames;
	r.audioBytes = v.webkitAudioDecodedByteCount;
	const seeked = wait('seeked', 5000);
	r.seekTo = v.duration * 0.75;
	v.currentTime = r.seekTo;
	await seeked;
	r.seekedTo = v.currentTime;
	return r;
})`

type played struct {
	Duration   float64 `json:"duration"`
	Width      int     `json:"width"`
	Height     int     `json:"height"`
	End        float64 `json:"end"`
	Frames     int     `json:"frames"`
	AudioBytes int     `json:"audioBytes"`
	SeekTo     float64 `json:"seekTo"`
	SeekedTo   float64 `json:"seekedTo"`
}

// TestBrowserPlays plays recordings in Chromium, when it is installed:
// the file must load, play to its end, decode video and audio and seek.
func TestBrowserPlays(t *testing.T) {
	chromium := browsertest.Find(t)
	dir := t.TempDir()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)

	ctx := browsertest.Start(t, chromium)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatalf("open %s: %v", srv.URL, err)
	}

	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			src := buildSource(t, sc)
			sub := filepath.Join(dir, filepath.Base(t.Name()))
			path, _ := record(t, sub, sc, src.events)
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				t.Fatal(err)
			}
			rec := readRecording(t, path)
			rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
			defer rcancel()
			url, err := json.Marshal("/" + filepath.ToSlash(rel))
			if err != nil {
				t.Fatal(err)
			}
			got, err := chromedp.Run(rctx, chromedp.Evaluate[played](playJS+"("+string(url)+")", chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("play %s: %v", filepath.Base(path), err)
			}
			t.Logf("%s: %+v", filepath.Base(path), got)
			want := rec.duration.Seconds()
			slack := 0.05
			if sc.wantExt == extMP4 {
				// FFmpeg, in Chromium, takes a fragmented track's end time
				// for its duration: audio that started late adds its delay.
				slack += sc.audioDelay.Seconds()
			}
			if got.Duration < want-0.05 || got.Duration > want+slack || got.End < want-0.1 {
				t.Errorf("duration %.3fs, ended at %.3fs; want %.3fs", got.Duration, got.End, want)
			}
			if sc.videoMime != "" && (got.Width != 160 || got.Height != 120 || got.Frames < len(rec.video)*3/4) {
				t.Errorf("video: %dx%d, %d frames; want 160x120, about %d frames", got.Width, got.Height, got.Frames, len(rec.video))
			}
			if sc.audioMime != "" && got.AudioBytes == 0 {
				t.Errorf("no audio decoded")
			}
			if got.SeekedTo < got.SeekTo-0.1 || got.SeekedTo > got.SeekTo+0.1 {
				t.Errorf("seek to %.3fs: at %.3fs", got.SeekTo, got.SeekedTo)
			}
		})
	}
}
