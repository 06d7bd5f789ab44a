package cases_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"govlive/cases"
	"govlive/store"
	"govlive/store/storetest"
)

// clock is an injected clock that moves one second on every reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// at is the time of the clock's n-th reading.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// newStore returns a Store on a new database file with a fresh clock.
func newStore(t *testing.T, opts ...cases.Option) *cases.Store {
	t.Helper()
	db := storetest.Open(t)
	s, err := cases.NewStore(context.Background(), db, (&clock{t: t0}).now, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func opening(session, viewer string, msg int64) cases.Opening {
	return cases.Opening{
		Session: session, Reason: "personal_case", Question: "我的营业执照办到哪一步了？",
		Cluster: 7, Message: msg, Viewer: cases.Viewer{ID: viewer, Nick: "网友" + viewer},
	}
}

func mustOpen(t *testing.T, s *cases.Store, o cases.Opening) cases.Case {
	t.Helper()
	c, _, err := s.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ops are the changes anchors and viewers make, by name.
var ops = map[string]func(s *cases.Store, id cases.ID) (cases.Case, error){
	"claim": func(s *cases.Store, id cases.ID) (cases.Case, error) {
		return s.Claim(context.Background(), id, "王主播")
	},
	"on_air": func(s *cases.Store, id cases.ID) (cases.Case, error) {
		return s.OnAir(context.Background(), id, "李主播")
	},
	"resolve": func(s *cases.Store, id cases.ID) (cases.Case, error) {
		return s.Resolve(context.Background(), id, "王主播", "已告知材料清单")
	},
	"refer": func(s *cases.Store, id cases.ID) (cases.Case, error) {
		return s.Refer(context.Background(), id, "王主播", "市场监管局窗口", "需现场核验")
	},
	"rate": func(s *cases.Store, id cases.ID) (cases.Case, error) {
		return s.Rate(context.Background(), id, "viewer-1", cases.Satisfied, "讲得清楚")
	},
}

// paths reach each state from a new case.
var paths = map[cases.State][]string{
	cases.StateOpen:     nil,
	cases.StateClaimed:  {"claim"},
	cases.StateOnAir:    {"claim", "on_air"},
	cases.StateResolved: {"claim", "resolve"},
	cases.StateReferred: {"refer"},
}

func TestTransitions(t *testing.T) {
	ctx := context.Background()
	// legal[from][op] is the state op leads to; a missing op is illegal.
	legal := map[cases.State]map[string]cases.State{
		cases.StateOpen:     {"claim": cases.StateClaimed, "refer": cases.StateReferred},
		cases.StateClaimed:  {"on_air": cases.StateOnAir, "resolve": cases.StateResolved, "refer": cases.StateReferred},
		cases.StateOnAir:    {"resolve": cases.StateResolved, "refer": cases.StateReferred},
		cases.StateResolved: {"rate": cases.StateResolved},
		cases.StateReferred: {"rate": cases.StateReferred},
	}
	s := newStore(t)
	n := 0
	for _, from := range cases.States {
		for _, op := range []string{"claim", "on_air", "resolve", "refer", "rate"} {
			t.Run(string(from)+"/"+op, func(t *testing.T) {
				n++
				c := mustOpen(t, s, opening("s1", fmt.Sprint("v", n), int64(n)))
				for _, step := range paths[from] {
					if _, err := ops[step](s, c.ID); err != nil {
						t.Fatalf("reaching %s by %s: %v", from, step, err)
					}
				}
				before, err := s.Get(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if before.State != from {
					t.Fatalf("set-up: got state %s, want %s", before.State, from)
				}
				got, err := ops[op](s, c.ID)
				after, gerr := s.Get(ctx, c.ID)
				if gerr != nil {
					t.Fatal(gerr)
				}
				want, ok := legal[from][op]
				if !ok {
					if !errors.Is(err, cases.ErrIllegal) {
						t.Fatalf("got error %v, want ErrIllegal", err)
					}
					var ie *cases.IllegalError
					if !errors.As(err, &ie) || ie.Case != c.ID || ie.State != from {
						t.Errorf("got %#v, want an IllegalError for case %d in %s", ie, c.ID, from)
					}
					msg := err.Error()
					if !strings.Contains(msg, fmt.Sprintf("帮办事项 %d ", c.ID)) || !strings.Contains(msg, "“"+from.Label()+"”") {
						t.Errorf("message %q does not name the case and its state %s", msg, from.Label())
					}
					if op != "rate" && !strings.Contains(msg, "“"+ie.To.Label()+"”") {
						t.Errorf("message %q does not name the target state", msg)
					}
					if !reflect.DeepEqual(after, before) {
						t.Errorf("refused change altered the case:\n got %+v\nwant %+v", after, before)
					}
					return
				}
				if err != nil {
					t.Fatalf("got error %v, want state %s", err, want)
				}
				if got.State != want || after.State != want {
					t.Errorf("state: returned %s, stored %s, want %s", got.State, after.State, want)
				}
				if !reflect.DeepEqual(got, after) {
					t.Errorf("returned case differs from stored:\n got %+v\nwant %+v", got, after)
				}
				if len(after.History) != len(before.History)+1 {
					t.Fatalf("history: got %d rows, want %d", len(after.History), len(before.History)+1)
				}
				last := after.History[len(after.History)-1]
				if last.From != from || last.To != want || last.Actor == "" || !last.At.After(before.Updated) {
					t.Errorf("history row: got %+v, want %s → %s with an actor and a later time", last, from, want)
				}
				if !after.Updated.Equal(last.At) {
					t.Errorf("updated: got %v, want the time of the last row %v", after.Updated, last.At)
				}
			})
		}
	}
}

func TestNotFoundAndInvalid(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for name, op := range ops {
		if _, err := op(s, 404); !errors.Is(err, cases.ErrNotFound) {
			t.Errorf("%s on an unknown case: got %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.Get(ctx, 404); !errors.Is(err, cases.ErrNotFound) {
		t.Errorf("Get unknown: got %v, want ErrNotFound", err)
	}
	c := mustOpen(t, s, opening("s1", "v1", 1))
	for name, f := range map[string]func() error{
		"claim without anchor": func() error { _, err := s.Claim(ctx, c.ID, "  "); return err },
		"refer nowhere":        func() error { _, err := s.Refer(ctx, c.ID, "王主播", " ", ""); return err },
		"rating 0":             func() error { _, err := s.Rate(ctx, c.ID, "v1", 0, ""); return err },
		"rating 6":             func() error { _, err := s.Rate(ctx, c.ID, "v1", 6, ""); return err },
		"open without viewer": func() error {
			_, _, err := s.Open(ctx, cases.Opening{Session: "s1", Reason: "urgent"})
			return err
		},
		"list an unknown state": func() error {
			_, err := s.List(ctx, cases.Filter{States: []cases.State{"closed"}})
			return err
		},
	} {
		if err := f(); !errors.Is(err, cases.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	if got, _ := s.Get(ctx, c.ID); got.State != cases.StateOpen || len(got.History) != 1 {
		t.Errorf("after refused input: got state %s with %d history rows, want open with 1", got.State, len(got.History))
	}
}

func TestJoin(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	first, joined, err := s.Open(ctx, opening("s1", "v1", 10))
	if err != nil || joined {
		t.Fatalf("first message: joined=%v err=%v, want a new case", joined, err)
	}
	second := opening("s1", "v1", 11)
	second.Question, second.Reason = "还有，我的电话是 138****0000", "pii"
	c, joined, err := s.Open(ctx, second)
	if err != nil || !joined {
		t.Fatalf("second message: joined=%v err=%v, want joined", joined, err)
	}
	if c.ID != first.ID || c.Question != first.Question || c.Reason != first.Reason {
		t.Errorf("joined case: got id %d %q (%s), want id %d %q (%s)", c.ID, c.Question, c.Reason, first.ID, first.Question, first.Reason)
	}
	if !reflect.DeepEqual(c.Messages, []int64{10, 11}) {
		t.Errorf("messages: got %v, want [10 11]", c.Messages)
	}
	if len(c.History) != 1 || !c.Updated.After(c.Opened) {
		t.Errorf("a join: got %d history rows, updated %v opened %v; want 1 row and a later update", len(c.History), c.Updated, c.Opened)
	}
	// A claimed or on-air case still takes the viewer's messages.
	if _, err := s.Claim(ctx, c.ID, "王主播"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OnAir(ctx, c.ID, "王主播"); err != nil {
		t.Fatal(err)
	}
	if c, joined, _ = s.Open(ctx, opening("s1", "v1", 12)); !joined || c.ID != first.ID || c.State != cases.StateOnAir {
		t.Errorf("message to an on-air case: got joined=%v case %d %s, want joined %d on_air", joined, c.ID, c.State, first.ID)
	}
	// Another viewer, or the same viewer in another session: a case of its own.
	for _, o := range []cases.Opening{opening("s1", "v2", 13), opening("s2", "v1", 14)} {
		if c, joined, _ := s.Open(ctx, o); joined || c.ID == first.ID {
			t.Errorf("%s/%s: got joined=%v case %d, want a new case", o.Session, o.Viewer.ID, joined, c.ID)
		}
	}
	// Once resolved, the viewer's next message opens a new case.
	if _, err := s.Resolve(ctx, first.ID, "王主播", ""); err != nil {
		t.Fatal(err)
	}
	c, joined, err = s.Open(ctx, opening("s1", "v1", 15))
	if err != nil || joined || c.ID == first.ID || !reflect.DeepEqual(c.Messages, []int64{15}) {
		t.Errorf("after resolve: got joined=%v case %d messages %v err %v, want a new case with [15]", joined, c.ID, c.Messages, err)
	}
	if old, _ := s.Get(ctx, first.ID); !reflect.DeepEqual(old.Messages, []int64{10, 11, 12}) {
		t.Errorf("resolved case's messages: got %v, want [10 11 12]", old.Messages)
	}
}

func TestHistoryActorsAndTimes(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustOpen(t, s, opening("s1", "v1", 1))            // reading 1
	mustOpen(t, s, opening("s1", "v1", 2))                 // 2: join
	if _, err := s.Claim(ctx, c.ID, " 王主播 "); err != nil { // 3
		t.Fatal(err)
	}
	if _, err := s.OnAir(ctx, c.ID, "李主播"); err != nil { // 4
		t.Fatal(err)
	}
	if _, err := s.Resolve(ctx, c.ID, "李主播", "现场指导填报"); err != nil { // 5
		t.Fatal(err)
	}
	if _, err := s.Rate(ctx, c.ID, "v1", cases.BasicallySatisfied, "等得有点久"); err != nil { // 6
		t.Fatal(err)
	}
	got, err := s.Rate(ctx, c.ID, "v1", cases.VerySatisfied, "") // 7: replaces the rating
	if err != nil {
		t.Fatal(err)
	}
	r3, r5 := cases.BasicallySatisfied, cases.VerySatisfied
	want := []cases.Transition{
		{To: cases.StateOpen, Actor: cases.ActorBot, Note: "personal_case", At: at(1)},
		{From: cases.StateOpen, To: cases.StateClaimed, Actor: "王主播", At: at(3)},
		{From: cases.StateClaimed, To: cases.StateOnAir, Actor: "李主播", At: at(4)},
		{From: cases.StateOnAir, To: cases.StateResolved, Actor: "李主播", Note: "现场指导填报", At: at(5)},
		{From: cases.StateResolved, To: cases.StateResolved, Actor: "v1", Note: "等得有点久", Rating: &r3, At: at(6)},
		{From: cases.StateResolved, To: cases.StateResolved, Actor: "v1", Rating: &r5, At: at(7)},
	}
	if !reflect.DeepEqual(got.History, want) {
		t.Errorf("history:\n got %+v\nwant %+v", got.History, want)
	}
	if got.Anchor != "王主播" || got.Note != "现场指导填报" || got.Rating == nil || *got.Rating != cases.VerySatisfied || got.RatingNote != "" {
		t.Errorf("case: anchor %q note %q rating %v %q; want 王主播, the note, 非常满意 without a note", got.Anchor, got.Note, got.Rating, got.RatingNote)
	}
	if !got.Opened.Equal(at(1)) || !got.Updated.Equal(at(7)) {
		t.Errorf("times: opened %v updated %v, want %v and %v", got.Opened, got.Updated, at(1), at(7))
	}
}

func TestRatingScale(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cases.Rating
	}{
		{"5", cases.VerySatisfied}, {"非常满意", cases.VerySatisfied},
		{"4", cases.Satisfied}, {" 满意 ", cases.Satisfied},
		{"3", cases.BasicallySatisfied}, {"基本满意", cases.BasicallySatisfied},
		{"2", cases.Dissatisfied}, {"不满意", cases.Dissatisfied},
		{"1", cases.VeryDissatisfied}, {"非常不满意", cases.VeryDissatisfied},
	} {
		got, err := cases.ParseRating(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseRating(%q): got %v, %v; want %d", tc.in, got, err, tc.want)
		}
		var j cases.Rating
		if err := json.Unmarshal([]byte(fmt.Sprintf("%q", tc.in)), &j); err != nil || j != tc.want {
			t.Errorf("JSON %q: got %d, %v; want %d", tc.in, j, err, tc.want)
		}
	}
	for _, bad := range []string{"", "0", "6", "-1", "满", "很满意", "4.5"} {
		if r, err := cases.ParseRating(bad); !errors.Is(err, cases.ErrInvalid) {
			t.Errorf("ParseRating(%q): got %d, %v; want ErrInvalid", bad, r, err)
		}
	}
	labels := map[cases.Rating]string{5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
	for r, l := range labels {
		if r.String() != l || !r.Valid() {
			t.Errorf("Rating %d: got %q valid=%v, want %q", int(r), r.String(), r.Valid(), l)
		}
	}
	var r cases.Rating
	if err := json.Unmarshal([]byte(`3`), &r); err != nil || r != cases.BasicallySatisfied {
		t.Errorf("JSON 3: got %d, %v", r, err)
	}
	if err := json.Unmarshal([]byte(`9`), &r); !errors.Is(err, cases.ErrInvalid) {
		t.Errorf("JSON 9: got %v, want ErrInvalid", err)
	}
	if b, _ := json.Marshal(cases.Satisfied); string(b) != "4" {
		t.Errorf("marshal: got %s, want 4", b)
	}
}

// Of several anchors claiming one case at once, exactly one wins; the
// others are told it is already claimed.
// Half of them go through a second Store on its own connections to the
// same file, as another process would.
func TestConcurrentClaim(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "govlive.db")
	stores := make([]*cases.Store, 2)
	for i := range stores {
		var err error
		if stores[i], err = cases.NewStore(ctx, storetest.OpenAt(t, path), (&clock{t: t0}).now); err != nil {
			t.Fatal(err)
		}
	}
	s := stores[0]
	c := mustOpen(t, s, opening("s1", "v1", 1))
	const anchors = 8
	errs := make([]error, anchors)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range anchors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = stores[i%2].Claim(ctx, c.ID, fmt.Sprint("主播", i))
		}()
	}
	close(start)
	wg.Wait()
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil:
			if winner != "" {
				t.Errorf("both %s and 主播%d claimed the case", winner, i)
			}
			winner = fmt.Sprint("主播", i)
		case errors.Is(err, cases.ErrIllegal):
			var ie *cases.IllegalError
			if !errors.As(err, &ie) || ie.State != cases.StateClaimed {
				t.Errorf("loser %d: got %v, want an IllegalError naming the claimed state", i, err)
			}
		default:
			t.Errorf("claim %d: %v", i, err)
		}
	}
	got, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if winner == "" || got.Anchor != winner || len(got.History) != 2 {
		t.Errorf("got anchor %q with %d history rows, want the one winner %q and 2 rows", got.Anchor, len(got.History), winner)
	}
}

// Closing the database and opening a new Store on the same file finds
// every case as it was, history included.
func TestSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "govlive.db")
	db := storetest.OpenAt(t, path)
	s, err := cases.NewStore(ctx, db, (&clock{t: t0}).now)
	if err != nil {
		t.Fatal(err)
	}
	a := mustOpen(t, s, opening("s1", "v1", 1))
	mustOpen(t, s, opening("s1", "v1", 2))
	mustOpen(t, s, opening("s1", "v2", 3))
	if _, err := s.Refer(ctx, a.ID, "王主播", "不动产登记窗口", "需本人到场"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rate(ctx, a.ID, "v1", cases.Dissatisfied, "还要跑一趟"); err != nil {
		t.Fatal(err)
	}
	before, err := s.List(ctx, cases.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = storetest.OpenAt(t, path)
	s, err = cases.NewStore(ctx, db, (&clock{t: t0.Add(time.Hour)}).now)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := store.Version(ctx, db, "cases"); err != nil || v != 1 {
		t.Errorf("schema version: got %d, %v; want 1", v, err)
	}
	after, err := s.List(ctx, cases.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 2 || !reflect.DeepEqual(after, before) {
		t.Errorf("after reopening:\n got %+v\nwant %+v", after, before)
	}
	// The viewer's unresolved case still takes their messages.
	if c, joined, err := s.Open(ctx, opening("s1", "v2", 4)); err != nil || !joined || !reflect.DeepEqual(c.Messages, []int64{3, 4}) {
		t.Errorf("join after reopening: got joined=%v messages %v err %v", joined, c.Messages, err)
	}
}

func TestListAndCounts(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var ids []cases.ID
	for i, o := range []cases.Opening{
		opening("s1", "a", 1), opening("s2", "a", 2), opening("s1", "b", 3),
		opening("s1", "c", 4), opening("s1", "d", 5), opening("s2", "b", 6),
	} {
		c := mustOpen(t, s, o)
		ids = append(ids, c.ID)
		if i > 0 && c.ID <= ids[i-1] {
			t.Fatalf("ids not increasing: %v", ids)
		}
	}
	// s1: a open, b claimed, c resolved, d referred.
	if _, err := s.Claim(ctx, ids[2], "王主播"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func() error{
		func() error { _, err := s.Claim(ctx, ids[3], "王主播"); return err },
		func() error { _, err := s.Resolve(ctx, ids[3], "王主播", ""); return err },
		func() error { _, err := s.Refer(ctx, ids[4], "王主播", "12345热线", ""); return err },
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	idsOf := func(cs []cases.Case) []cases.ID {
		out := []cases.ID{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    cases.Filter
		want []cases.ID
	}{
		{"all", cases.Filter{}, ids},
		{"session", cases.Filter{Session: "s1"}, []cases.ID{ids[0], ids[2], ids[3], ids[4]}},
		{"queue", cases.Filter{Session: "s1", States: []cases.State{cases.StateOpen, cases.StateClaimed}}, []cases.ID{ids[0], ids[2]}},
		{"final", cases.Filter{States: []cases.State{cases.StateResolved, cases.StateReferred}}, []cases.ID{ids[3], ids[4]}},
		{"first page", cases.Filter{Session: "s1", Limit: 2}, []cases.ID{ids[0], ids[2]}},
		{"next page", cases.Filter{Session: "s1", Limit: 2, After: ids[2]}, []cases.ID{ids[3], ids[4]}},
		{"past the end", cases.Filter{Session: "s1", After: ids[4]}, []cases.ID{}},
		{"other session open", cases.Filter{Session: "s2", States: []cases.State{cases.StateOpen}}, []cases.ID{ids[1], ids[5]}},
		{"no such session", cases.Filter{Session: "s9"}, []cases.ID{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(idsOf(got), tc.want) {
				t.Errorf("got %v, want %v", idsOf(got), tc.want)
			}
			for _, c := range got {
				if len(c.History) == 0 || len(c.Messages) != 1 {
					t.Errorf("case %d listed with %d history rows and messages %v", c.ID, len(c.History), c.Messages)
				}
			}
		})
	}
	for _, tc := range []struct {
		session string
		want    map[cases.State]int
	}{
		{"s1", map[cases.State]int{cases.StateOpen: 1, cases.StateClaimed: 1, cases.StateOnAir: 0, cases.StateResolved: 1, cases.StateReferred: 1}},
		{"s2", map[cases.State]int{cases.StateOpen: 2, cases.StateClaimed: 0, cases.StateOnAir: 0, cases.StateResolved: 0, cases.StateReferred: 0}},
		{"s9", map[cases.State]int{cases.StateOpen: 0, cases.StateClaimed: 0, cases.StateOnAir: 0, cases.StateResolved: 0, cases.StateReferred: 0}},
	} {
		got, err := s.Counts(ctx, tc.session)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Counts(%s): got %v, want %v", tc.session, got, tc.want)
		}
	}
}

// The observer sees every committed change, and only those, with the
// case as stored.
func TestOnChange(t *testing.T) {
	ctx := context.Background()
	var s *cases.Store
	var seen []cases.Case
	var stored []cases.Case
	s = newStore(t, cases.WithOnChange(func(c cases.Case) {
		seen = append(seen, c)
		got, err := s.Get(ctx, c.ID) // committed: readable from the read pool
		if err != nil {
			t.Errorf("observer: %v", err)
		}
		stored = append(stored, got)
	}))
	c := mustOpen(t, s, opening("s1", "v1", 1))
	mustOpen(t, s, opening("s1", "v1", 2))
	if _, err := s.Claim(ctx, c.ID, "王主播"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, c.ID, "李主播"); !errors.Is(err, cases.ErrIllegal) {
		t.Fatalf("second claim: got %v, want ErrIllegal", err)
	}
	if _, err := s.Rate(ctx, c.ID, "v1", cases.Satisfied, ""); !errors.Is(err, cases.ErrIllegal) {
		t.Fatalf("rating a claimed case: got %v, want ErrIllegal", err)
	}
	if _, err := s.Resolve(ctx, c.ID, "王主播", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rate(ctx, c.ID, "v1", cases.Satisfied, ""); err != nil {
		t.Fatal(err)
	}
	var states []string
	for i, c := range seen {
		states = append(states, fmt.Sprintf("%s/%d/%d", c.State, len(c.Messages), len(c.History)))
		if !reflect.DeepEqual(c, stored[i]) {
			t.Errorf("change %d: observer got %+v, store holds %+v", i, c, stored[i])
		}
	}
	want := []string{"open/1/1", "open/2/1", "claimed/2/2", "resolved/2/3", "resolved/2/4"}
	if !reflect.DeepEqual(states, want) {
		t.Errorf("observed: got %v, want %v", states, want)
	}
}

func TestJSON(t *testing.T) {
	s := newStore(t)
	c := mustOpen(t, s, opening("s1", "v1", 1))
	c, err := s.Refer(context.Background(), c.ID, "王主播", "医保窗口", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err = s.Rate(context.Background(), c.ID, "v1", cases.Satisfied, "好")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "session", "reason", "question", "cluster", "viewer", "messages", "state",
		"referred_to", "rating", "rating_note", "opened", "updated", "history"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON has no %q: %s", k, b)
		}
	}
	if m["state"] != "referred" || m["rating"] != 4.0 || m["referred_to"] != "医保窗口" {
		t.Errorf("JSON: got %s", b)
	}
	var back cases.Case
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.History[2].Rating, c.Rating) {
		t.Errorf("round trip: %v, rating %v", err, back.History)
	}
}

// The refusals are worded for anchors.
func TestIllegalMessage(t *testing.T) {
	for _, tc := range []struct {
		err  *cases.IllegalError
		want string
	}{
		{&cases.IllegalError{Case: 12, State: cases.StateResolved, To: cases.StateClaimed}, "帮办事项 12 当前为“已解决”，不能改为“已认领”"},
		{&cases.IllegalError{Case: 3, State: cases.StateOpen, To: cases.StateOnAir}, "帮办事项 3 当前为“待认领”，不能改为“直播办理中”"},
		{&cases.IllegalError{Case: 4, State: cases.StateOnAir}, "帮办事项 4 当前为“直播办理中”，办结或转办后才能评价"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
