package cases

import (
	"context"
	"slices"
	"time"
)

// Summary is what a session's cases say after the fact: the figures of
// the editors' session report.
type Summary struct {
	Total    int
	ByReason map[string]int // why the bot escalated
	ByState  map[State]int  // where the cases stand now; every state is in it
	// ToClaim is how long the claimed cases waited for an anchor, and
	// ToResolve how long they took from opening to resolution or
	// referral.
	ToClaim, ToResolve Durations
	// Ratings counts the viewers' satisfaction by level (index 1 to 5;
	// index 0 is unused); Rated is how many cases were rated.
	Ratings [6]int
	Rated   int
}

// Durations are the median and 90th percentile of some durations.
type Durations struct {
	N           int
	Median, P90 time.Duration
}

// Mean is the average rating (0 when there is none).
func (s Summary) Mean() float64 {
	if s.Rated == 0 {
		return 0
	}
	var sum int
	for r, n := range s.Ratings {
		sum += r * n
	}
	return float64(sum) / float64(s.Rated)
}

// Summarize reads the summary of cs (a session's cases with their
// history). A case's first claim counts for ToClaim, its first move to a
// final state for ToResolve.
func Summarize(cs []Case) Summary {
	s := Summary{ByReason: map[string]int{}, ByState: map[State]int{}}
	for _, st := range States {
		s.ByState[st] = 0
	}
	var claim, resolve []time.Duration
	for _, c := range cs {
		s.Total++
		s.ByReason[c.Reason]++
		s.ByState[c.State]++
		if c.Rating != nil && c.Rating.Valid() {
			s.Ratings[*c.Rating]++
			s.Rated++
		}
		var claimed, done bool
		for _, t := range c.History {
			if t.From == t.To {
				continue
			}
			if t.To == StateClaimed && !claimed {
				claimed = true
				claim = append(claim, t.At.Sub(c.Opened))
			}
			if (t.To == StateResolved || t.To == StateReferred) && !done {
				done = true
				resolve = append(resolve, t.At.Sub(c.Opened))
			}
		}
	}
	s.ToClaim, s.ToResolve = durations(claim), durations(resolve)
	return s
}

// durations are the median and the 90th percentile (nearest rank) of ds.
func durations(ds []time.Duration) Durations {
	if len(ds) == 0 {
		return Durations{}
	}
	slices.Sort(ds)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.999999) - 1
		return ds[max(0, min(i, len(ds)-1))]
	}
	d := Durations{N: len(ds), P90: rank(0.9)}
	if n := len(ds); n%2 == 1 {
		d.Median = ds[n/2]
	} else {
		d.Median = (ds[n/2-1] + ds[n/2]) / 2
	}
	return d
}

// SessionCases returns every case of session, oldest first, with their
// history, paging through List.
func (s *Store) SessionCases(ctx context.Context, session string) ([]Case, error) {
	var out []Case
	f := Filter{Session: session, Limit: MaxLimit}
	for {
		cs, err := s.List(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
		if len(cs) < MaxLimit {
			return out, nil
		}
		f.After = cs[len(cs)-1].ID
	}
}
