// Package pages holds the stream test pages: publish.html, which publishes
// the browser's camera and microphone to a session over WHIP, and
// live.html, which plays a session's slots over WHEP. They are plain HTML
// and JavaScript with no external resources, served unchanged at
// /publish/{session} and /live/{session}; each reads the session from its
// own path.
package pages

import "embed"

// FS holds live.html and publish.html at its root.
//
//go:embed live.html publish.html
var FS embed.FS
