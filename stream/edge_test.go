package stream_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"govlive/stream"
	"govlive/stream/streamtest"
)

// whepHandler is a bare WHEP endpoint in front of a relay (the product's
// is in studio): POST /whep/{session}, DELETE /whep/{session}/{id}.
func whepHandler(r *stream.Relay) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /whep/{session}", func(w http.ResponseWriter, req *http.Request) {
		offer, _ := io.ReadAll(req.Body)
		ans, err := r.Play(req.Context(), stream.SessionID(req.PathValue("session")), string(offer))
		if err != nil {
			status := http.StatusBadRequest
			if errors.Is(err, stream.ErrNotFound) {
				status = http.StatusNotFound
			}
			http.Error(w, err.Error(), status)
			return
		}
		w.Header().Set("Location", "/whep/"+req.PathValue("session")+"/"+ans.ID)
		w.Header().Set("Content-Type", "application/sdp")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, ans.SDP)
	})
	mux.HandleFunc("GET /api/sessions/{session}/stats", func(w http.ResponseWriter, req *http.Request) {
		if !(sessionSet{"live": true, "other": true})[stream.SessionID(req.PathValue("session"))] {
			http.NotFound(w, req)
		}
	})
	mux.HandleFunc("DELETE /whep/{session}/{id}", func(w http.ResponseWriter, req *http.Request) {
		if err := r.Delete(req.Context(), stream.SessionID(req.PathValue("session")), req.PathValue("id"), ""); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
		}
	})
	return mux
}

func TestEdgePullsFromOrigin(t *testing.T) {
	origin, tokens := newRelay(t, nil)
	srv := httptest.NewServer(whepHandler(origin))
	t.Cleanup(srv.Close)
	edge, _ := newRelay(t, func(c *stream.Config) {
		c.Origin = srv.URL
		c.Sessions, c.Tokens = nil, nil
	})
	api := streamtest.API(t)

	if _, err := edge.Publish(context.Background(), "live", "x", "v=0"); !errors.Is(err, stream.ErrEdge) {
		t.Fatalf("publishing to an edge: %v, want ErrEdge", err)
	}
	offer := streamtest.Offer(t, streamtest.Viewer(t, api, webrtc.Configuration{}))
	if _, err := edge.Play(context.Background(), "nosuch", offer); !errors.Is(err, stream.ErrNotFound) {
		t.Fatalf("edge viewer of a session the origin lacks: %v, want ErrNotFound", err)
	}
	pub := publish(t, origin, api, "live", issue(t, tokens, "live", "甲"))
	v := play(t, edge, api, "live", 4, true)
	waitFor(t, 5*time.Second, "the edge's pull at the origin", func() bool {
		st, _ := origin.Stats("live")
		return st.Viewers == 1
	})
	// the edge's tracks appear on its first packets; send until the viewer
	// has its first keyframe, then count exactly.
	var warm sent
	waitFor(t, 5*time.Second, "first packets through the edge", func() bool {
		pub.frames(t, &warm, 1, 2)
		return len(v.packets("slot0/video")) > 0
	})
	var s sent
	for range 2 {
		pub.frames(t, &s, 30, 3)
	}
	waitFor(t, 5*time.Second, "packets through the edge", func() bool {
		return hasAll(v, "slot0/video", s.video)
	})
	got := only(v.packets("slot0/video"), s.video)
	// the keyframe requests of the warm-up may have been answered by our
	// synthetic publisher only at frame%30==0: delivery after the first
	// keyframe is complete and in order.
	checkDelivery(t, "edge viewer", got, s.video)

	st, _ := edge.Stats("live")
	if !st.Edge || st.Viewers != 1 || len(st.Anchors) == 0 || !strings.HasPrefix(st.Anchors[0].Anchor, "origin/") {
		t.Fatalf("edge stats: %+v", st)
	}
	if err := edge.Delete(context.Background(), "live", v.answer.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the edge to let go of the origin", func() bool {
		st, _ := origin.Stats("live")
		return st.Viewers == 0
	})
}

func TestEdgeWithoutOrigin(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	gone := srv.URL
	srv.Close() // nothing listens there any more
	edge, _ := newRelay(t, func(c *stream.Config) {
		c.Origin = gone
		c.Sessions, c.Tokens = nil, nil
	})
	_, err := edge.Play(context.Background(), "live", streamtest.Offer(t, streamtest.Viewer(t, streamtest.API(t), webrtc.Configuration{})))
	if !errors.Is(err, stream.ErrOrigin) {
		t.Fatalf("origin down: %v, want ErrOrigin", err)
	}
}
