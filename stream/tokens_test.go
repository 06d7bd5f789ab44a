package stream_test

import (
	"context"
	"maps"
	"testing"

	"govlive/store/storetest"
	"govlive/stream"
)

func TestTokensLive(t *testing.T) {
	ctx := context.Background()
	tokens, err := stream.OpenTokens(ctx, storetest.Open(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"甲", "甲", "乙"} {
		if _, err := tokens.Issue(ctx, "live", a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tokens.Issue(ctx, "other", "甲"); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Revoke(ctx, "live", "乙"); err != nil {
		t.Fatal(err)
	}
	got, err := tokens.Live(ctx, "live")
	if want := map[string]int{"甲": 2}; err != nil || !maps.Equal(got, want) {
		t.Errorf("live = %v, %v; want %v", got, err, want)
	}
}
