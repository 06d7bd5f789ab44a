package cases_test

import (
	"context"
	"testing"
	"time"

	"govlive/cases"
)

func TestSummarize(t *testing.T) {
	ctx := context.Background()
	s := newStore(t) // one second a reading
	// Case 1: claimed, then resolved, rated 非常满意; case 2: claimed,
	// referred, rated 不满意; case 3 stays open; one case of another session.
	c1 := mustOpen(t, s, opening("s1", "v1", 1))
	c2 := mustOpen(t, s, opening("s1", "v2", 2))
	c3 := mustOpen(t, s, cases.Opening{Session: "s1", Reason: "pii", Question: "身份证号***", Viewer: cases.Viewer{ID: "v3"}})
	mustOpen(t, s, opening("s2", "v1", 4))
	steps := []func() (cases.Case, error){
		func() (cases.Case, error) { return s.Claim(ctx, c1.ID, "王敏") },
		func() (cases.Case, error) { return s.Claim(ctx, c2.ID, "王敏") },
		func() (cases.Case, error) { return s.Resolve(ctx, c1.ID, "王敏", "已答复") },
		func() (cases.Case, error) { return s.Refer(ctx, c2.ID, "王敏", "社保窗口", "") },
		func() (cases.Case, error) { return s.Rate(ctx, c1.ID, "viewer", cases.VerySatisfied, "") },
		func() (cases.Case, error) { return s.Rate(ctx, c2.ID, "viewer", cases.Dissatisfied, "") },
	}
	for _, f := range steps {
		if _, err := f(); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.SessionCases(ctx, "s1")
	if err != nil || len(cs) != 3 {
		t.Fatalf("session cases %d (%v), want 3", len(cs), err)
	}
	got := cases.Summarize(cs)
	// Openings at seconds 1, 2, 3 (4 is s2); claims at 5 and 6 (waits
	// 4 s and 4 s); final at 7 and 8 (6 s and 6 s).
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"total", got.Total, 3},
		{"personal_case", got.ByReason["personal_case"], 2},
		{"pii", got.ByReason["pii"], 1},
		{"open", got.ByState[cases.StateOpen], 1},
		{"resolved", got.ByState[cases.StateResolved], 1},
		{"referred", got.ByState[cases.StateReferred], 1},
		{"on air", got.ByState[cases.StateOnAir], 0},
		{"to claim", got.ToClaim, cases.Durations{N: 2, Median: 4 * time.Second, P90: 4 * time.Second}},
		{"to resolve", got.ToResolve, cases.Durations{N: 2, Median: 6 * time.Second, P90: 6 * time.Second}},
		{"ratings", got.Ratings, [6]int{0, 0, 1, 0, 0, 1}},
		{"rated", got.Rated, 2},
		{"mean", got.Mean(), 3.5},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	_ = c3
}

func TestSummarizeDurations(t *testing.T) {
	open := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	mk := func(claimAfter ...int) []cases.Case {
		var cs []cases.Case
		for _, s := range claimAfter {
			cs = append(cs, cases.Case{State: cases.StateClaimed, Opened: open, History: []cases.Transition{
				{To: cases.StateOpen, At: open},
				{From: cases.StateOpen, To: cases.StateClaimed, At: open.Add(time.Duration(s) * time.Second)},
			}})
		}
		return cs
	}
	for _, tc := range []struct {
		name string
		cs   []cases.Case
		want cases.Durations
	}{
		{"none", nil, cases.Durations{}},
		{"one", mk(7), cases.Durations{N: 1, Median: 7 * time.Second, P90: 7 * time.Second}},
		{"even", mk(4, 1, 3, 2), cases.Durations{N: 4, Median: 2500 * time.Millisecond, P90: 4 * time.Second}},
		{"ten", mk(1, 2, 3, 4, 5, 6, 7, 8, 9, 100), cases.Durations{N: 10, Median: 5500 * time.Millisecond, P90: 9 * time.Second}},
	} {
		if got := cases.Summarize(tc.cs).ToClaim; got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
