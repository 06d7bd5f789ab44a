package stream_test

import (
	"context"
	"errors"
	"testing"

	"govlive/stream"
	"govlive/stream/streamtest"
)

// TestPublicationTakesItsTokenOnly: every request on a WHIP resource
// carries the token it was published with (RFC 9725 §4.3), still live;
// another anchor's token, another token of the same anchor, none, or the
// same one revoked are refused, and the publication goes on. A WHEP
// resource's URL is its capability.
func TestPublicationTakesItsTokenOnly(t *testing.T) {
	r, tokens := newRelay(t, nil)
	api := streamtest.API(t)
	ctx := context.Background()
	mine := issue(t, tokens, "live", "甲")
	pub := publish(t, r, api, "live", mine)
	const end = "a=end-of-candidates\r\n"
	for _, tc := range []struct {
		name, session, token string
		want                 error
	}{
		{"no token", "live", "", stream.ErrUnauthorized},
		{"another anchor's token", "live", issue(t, tokens, "live", "乙"), stream.ErrUnauthorized},
		{"another token of the same anchor", "live", issue(t, tokens, "live", "甲"), stream.ErrUnauthorized},
		{"a token of another session, through its URL", "other", issue(t, tokens, "other", "甲"), stream.ErrNotFound},
		{"its token through another session's URL", "other", mine, stream.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := r.Patch(ctx, stream.SessionID(tc.session), pub.answer.ID, tc.token, "", end); !errors.Is(err, tc.want) {
				t.Errorf("PATCH: got %v, want %v", err, tc.want)
			}
			if err := r.Delete(ctx, stream.SessionID(tc.session), pub.answer.ID, tc.token); !errors.Is(err, tc.want) {
				t.Errorf("DELETE: got %v, want %v", err, tc.want)
			}
			if st, _ := r.Stats("live"); len(st.Anchors) != 1 {
				t.Fatalf("the publication ended: anchors %+v", st.Anchors)
			}
		})
	}
	if err := r.Patch(ctx, "live", pub.answer.ID, mine, "", end); err != nil {
		t.Fatalf("PATCH with its token: %v", err)
	}
	if _, err := tokens.Revoke(ctx, "live", "甲"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, "live", pub.answer.ID, mine); !errors.Is(err, stream.ErrUnauthorized) {
		t.Fatalf("DELETE with its revoked token: got %v, want ErrUnauthorized", err)
	}
	if st, _ := r.Stats("live"); len(st.Anchors) != 1 {
		t.Fatalf("revoking the token ended the publication: anchors %+v", st.Anchors)
	}

	other := publish(t, r, api, "live", issue(t, tokens, "live", "丙"))
	if err := r.Delete(ctx, "live", other.answer.ID, other.token); err != nil {
		t.Fatalf("DELETE with its token: %v", err)
	}
	v := play(t, r, api, "live", 1, false)
	if err := r.Delete(ctx, "live", v.answer.ID, ""); err != nil {
		t.Fatalf("DELETE of a viewer without a token: %v", err)
	}
}
