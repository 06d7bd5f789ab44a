// Package streamtest holds what tests of the relay and of its HTTP edge
// share: pion peers on loopback, offers with all their candidates, WHIP
// and WHEP requests, and rewrites of offers into the forms other WebRTC
// stacks send.
//
// The helpers that take a testing.TB fail the test with t.Fatalf and
// close what they open with t.Cleanup. It is for tests only: no non-test
// code may import it.
package streamtest

import "strings"

// MaxBundle rewrites an offer (pion's, one m-line per transceiver, each
// with its own port and candidates) into the form of GStreamer's
// webrtcbin with bundle-policy max-bundle: every m-line after the first
// has port 0, a=bundle-only and no candidates of its own — it uses the
// first m-line's transport (RFC 8843 §6, §7.5). The BUNDLE group and the
// mids are left as they are.
func MaxBundle(offer string) string {
	sections := strings.Split(offer, "\r\nm=")
	// sections[0] is the session part, sections[1] the first m-line
	for i := 2; i < len(sections); i++ {
		var lines []string
		for j, l := range strings.Split(sections[i], "\r\n") {
			switch {
			case j == 0:
				// "video 9 UDP/TLS/RTP/SAVPF 96 …" → "video 0 UDP/…"
				kind, rest, _ := strings.Cut(l, " ")
				_, rest, _ = strings.Cut(rest, " ")
				l = kind + " 0 " + rest
			case strings.HasPrefix(l, "a=candidate:"), l == "a=end-of-candidates":
				continue
			}
			lines = append(lines, l)
			if strings.HasPrefix(l, "a=mid:") {
				lines = append(lines, "a=bundle-only")
			}
		}
		sections[i] = strings.Join(lines, "\r\n")
	}
	return strings.Join(sections, "\r\nm=")
}
