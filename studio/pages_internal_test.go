package studio

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"govlive/content"
)

func TestSpan(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	now := at("2026-12-03T10:00:00+08:00")
	tests := []struct {
		name, start, end string
		want             string
	}{
		{"same day", "2026-12-03T15:00:00+08:00", "2026-12-03T16:00:00+08:00", "12月3日（周四）15:00–16:00"},
		{"given in UTC", "2026-12-03T07:00:00Z", "2026-12-03T08:30:00Z", "12月3日（周四）15:00–16:30"},
		{"UTC date before China's", "2026-12-06T23:30:00Z", "2026-12-07T01:00:00Z", "12月7日（周一）07:30–09:00"},
		{"over midnight", "2026-12-03T23:00:00+08:00", "2026-12-04T01:00:00+08:00", "12月3日（周四）23:00–12月4日 01:00"},
		{"next year", "2027-01-05T15:00:00+08:00", "2027-01-05T16:00:00+08:00", "2027年1月5日（周二）15:00–16:00"},
		{"into next year", "2026-12-31T23:00:00+08:00", "2027-01-01T00:30:00+08:00", "12月31日（周四）23:00–2027年1月1日 00:30"},
		{"a Sunday", "2026-12-06T09:05:00+08:00", "2026-12-06T10:00:00+08:00", "12月6日（周日）09:05–10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := span(at(tt.start), at(tt.end), now.In(cst)); got != tt.want {
				t.Errorf("span(%s, %s): got %q, want %q", tt.start, tt.end, got, tt.want)
			}
		})
	}
}

func TestArrange(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, chinaTime)
	session := func(id string, start time.Time, hours int) content.Session {
		return content.Session{ID: content.SessionID(id), Title: id, Summary: "s", Start: start,
			End: start.Add(time.Duration(hours) * time.Hour), Anchors: []content.Anchor{{Name: "甲"}, {Name: "乙"}}}
	}
	day := 24 * time.Hour
	var list []content.Session // by start time, as the store lists them
	for i := 15; i >= 1; i-- {
		list = append(list, session(fmt.Sprintf("past%02d", i), now.Add(-time.Duration(i)*day), 1))
	}
	list = append(list,
		session("running", now.Add(-time.Hour), 2),             // on now by the schedule, no anchor yet
		session("justended", now.Add(-2*time.Hour), 1),         // ended an hour ago
		session("later", now.Add(5*time.Hour), 1),              // 15:00 today
		session("late-night", now.Add(14*time.Hour), 1),        // 00:00 tomorrow
		session("yesterday-on-air", now.Add(-day), 1),          // on air past its schedule
		session("next-week", now.Add(7*day), 1),                // later
		session("early-tomorrow", now.Add(day-3*time.Hour), 1), // 07:00 tomorrow
	)
	slices.SortStableFunc(list, func(a, b content.Session) int { return a.Start.Compare(b.Start) })
	onAir := func(id content.SessionID) bool { return id == "yesterday-on-air" || id == "later" }
	l := arrange(list, onAir, now)

	ids := func(cards []sessionCard) []string {
		var out []string
		for _, c := range cards {
			out = append(out, string(c.ID))
		}
		return out
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"live", ids(l.Live), []string{"yesterday-on-air", "later"}},
		{"upcoming", ids(l.Upcoming), []string{"running", "late-night", "early-tomorrow", "next-week"}},
		{"past", ids(l.Past), []string{"justended", "past01", "past02", "past03", "past04", "past05", "past06", "past07", "past08", "past09"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	for _, c := range slices.Concat(l.Live, l.Upcoming, l.Past) {
		wantToday := c.ID == "running" || c.ID == "later" // not justended: it is over
		if c.Today != wantToday {
			t.Errorf("%s: Today got %v, want %v", c.ID, c.Today, wantToday)
		}
		if c.URL != "/live/"+string(c.ID) {
			t.Errorf("%s: URL got %q", c.ID, c.URL)
		}
	}
	if c := l.Upcoming[0]; c.Anchors != "甲、乙" || c.Summary != "s" || c.Live {
		t.Errorf("upcoming card: got %+v, want anchors 甲、乙, the summary, not live", c)
	}
	if c := l.Past[0]; c.Anchors != "" || c.Summary != "" {
		t.Errorf("past card: got %+v, want no anchors or summary", c)
	}
	if c := l.Live[0]; !c.Live {
		t.Errorf("live card: got %+v, want Live", c)
	}
}

func TestPermissionsOf(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"/publish/demo", permissionsPublish},
		{"/PUBLISH/demo", permissionsPublish},
		{"/publish/", permissionsNone},
		{"/live/demo", permissionsNone},
		{"/", permissionsNone},
		{"/api/publish/x", permissionsNone},
		{"/whip/demo", permissionsNone},
	}
	for _, tt := range tests {
		if got := permissionsOf(tt.path); got != tt.want {
			t.Errorf("permissionsOf(%q): got %q, want %q", tt.path, got, tt.want)
		}
	}
}
