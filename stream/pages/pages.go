// Package pages holds the web pages of govlive, embedded in the binary:
// index.html, the landing page (an html/template, rendered by the studio
// from the public schedule); live.html, which plays a session's slots over
// WHEP; and publish.html, which publishes the browser's camera and
// microphone to a session over WHIP. Their scripts and stylesheets are
// separate files (NAME.js, NAME.css), served under /assets/, so that the
// pages run under a Content-Security-Policy without inline script or
// style. Nothing is loaded from elsewhere: the pages work offline.
package pages

import "embed"

// FS holds the pages, their scripts and their stylesheets at its root.
//
//go:embed index.html index.css index.js common.js live.html live.css live.js chat.js publish.html publish.css publish.js
var FS embed.FS
