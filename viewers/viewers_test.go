package viewers_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"govlive/store/storetest"
	"govlive/viewers"
)

func TestSampler(t *testing.T) {
	ctx := context.Background()
	l, err := viewers.Open(ctx, storetest.Open(t))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 13, 7, 0, 0, 0, time.UTC)
	live := map[string]int{"s1": 3}
	s := &viewers.Sampler{Log: l, Live: func(context.Context) (map[string]int, error) { return live, nil }}
	for _, step := range []struct {
		d    time.Duration
		live map[string]int
	}{
		{0, map[string]int{"s1": 3}},
		{20 * time.Second, map[string]int{"s1": 5, "s2": 1}}, // same minute: the larger count stays
		{40 * time.Second, map[string]int{"s1": 4}},
		{2 * time.Minute, map[string]int{"s1": 7}}, // a minute without a sample stays out
	} {
		live = step.live
		if err := s.Once(ctx, at.Add(step.d)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		session string
		want    []viewers.Sample
	}{
		{"s1", []viewers.Sample{{at, 5}, {at.Add(2 * time.Minute), 7}}},
		{"s2", []viewers.Sample{{at, 1}}},
		{"none", nil},
	} {
		got, err := l.Series(ctx, tc.session)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v (%v), want %v", tc.session, got, err, tc.want)
		}
	}
	// Run stops with its context
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- (&viewers.Sampler{Log: l, Live: s.Live, Every: time.Millisecond}).Run(rctx) }()
	time.Sleep(5 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
