package streamtest_test

import (
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"govlive/stream/streamtest"
)

// TestMaxBundle: the m-lines after the first get port 0 and a=bundle-only
// and lose their candidates; the first keeps its own.
func TestMaxBundle(t *testing.T) {
	offer := streamtest.Offer(t, streamtest.Viewer(t, streamtest.API(t), webrtc.Configuration{}))
	sections := strings.Split(streamtest.MaxBundle(offer), "\r\nm=")
	if len(sections) != 3 {
		t.Fatalf("got %d sections, want the session and two m-lines", len(sections))
	}
	if first := sections[1]; strings.HasPrefix(first, "video 0 ") || !strings.Contains(first, "a=candidate:") || strings.Contains(first, "a=bundle-only") {
		t.Errorf("first m-line changed:\nm=%s", first)
	}
	second := sections[2]
	if !strings.HasPrefix(second, "audio 0 ") || !strings.Contains(second, "a=bundle-only") || strings.Contains(second, "a=candidate:") {
		t.Errorf("second m-line: want port 0, a=bundle-only and no candidates:\nm=%s", second)
	}
}
