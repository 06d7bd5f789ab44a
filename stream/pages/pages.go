// Package pages holds the stream test pages, embedded in the binary:
// publish.html, which publishes the browser's camera and microphone to a
// session over WHIP, and live.html, which plays a session's slots over
// WHEP. Each reads the session from its own path. Their scripts and
// stylesheets are separate files (NAME.js, NAME.css), served under
// /assets/, so that the pages run under a Content-Security-Policy without
// inline script or style. Nothing is loaded from elsewhere: the pages work
// offline.
package pages

import "embed"

// FS holds the pages, their scripts and their stylesheets at its root.
//
//go:embed live.html live.css live.js publish.html publish.css publish.js
var FS embed.FS
