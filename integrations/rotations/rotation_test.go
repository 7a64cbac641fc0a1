package rotations

import (
	"strings"
	"testing"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

func rotation(t *testing.T, spec map[string]any) *Rotation {
	t.Helper()
	r, err := Parse(entity(spec))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func entity(spec map[string]any) *catalog.Entity {
	return &catalog.Entity{APIVersion: "idpbot.dev/v1alpha1", Kind: "Rotation",
		Metadata: catalog.Metadata{Name: "payments-primary", Namespace: "default", Title: "Payments primary"}, Spec: spec}
}

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func weekly() map[string]any {
	return map[string]any{
		"owner": "payments", "zone": "Europe/Berlin", "start": "2026-01-05 09:00", "length": "1w",
		"members": []any{"alice", "bob", "carol"},
	}
}

func TestWeeklyAcrossDST(t *testing.T) {
	r := rotation(t, weekly())
	loc := berlin(t)
	at := func(s string) time.Time {
		t.Helper()
		tm, err := time.ParseInLocation(timeLayout, s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name       string
		t          time.Time
		user       string
		start, end time.Time
		hours      float64
	}{
		{name: "first shift", t: at("2026-01-05 09:00"), user: "user:default/alice", start: at("2026-01-05 09:00"), end: at("2026-01-12 09:00"), hours: 168},
		{name: "last minute of a shift", t: at("2026-01-12 08:59"), user: "user:default/alice", start: at("2026-01-05 09:00"), end: at("2026-01-12 09:00"), hours: 168},
		{name: "second shift", t: at("2026-01-12 09:00"), user: "user:default/bob", start: at("2026-01-12 09:00"), end: at("2026-01-19 09:00"), hours: 168},
		// Clocks go forward on 29 March: the shift holding it is an hour short,
		// and the handoff stays at 09:00 local.
		{name: "spring forward", t: at("2026-03-29 12:00"), user: "user:default/carol", start: at("2026-03-23 09:00"), end: at("2026-03-30 09:00"), hours: 167},
		// Clocks go back on 25 October: that shift is an hour long.
		{name: "fall back", t: at("2026-10-25 02:30"), user: "user:default/carol", start: at("2026-10-19 09:00"), end: at("2026-10-26 09:00"), hours: 169},
		{name: "after fall back", t: at("2026-10-26 09:00"), user: "user:default/alice", start: at("2026-10-26 09:00"), end: at("2026-11-02 09:00"), hours: 168},
		{name: "a year on", t: at("2027-01-04 09:00"), user: "user:default/bob", start: at("2027-01-04 09:00"), end: at("2027-01-11 09:00"), hours: 168},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := r.At(tt.t)
			if !ok {
				t.Fatal("nobody on call")
			}
			if s.User != tt.user || !s.Start.Equal(tt.start) || !s.End.Equal(tt.end) {
				t.Errorf("At(%s) = %s %s–%s; want %s %s–%s", tt.t, s.User, s.Start.In(loc), s.End.In(loc), tt.user, tt.start, tt.end)
			}
			if h := s.End.Sub(s.Start).Hours(); h != tt.hours {
				t.Errorf("shift lasts %vh, want %vh", h, tt.hours)
			}
			if s.End.In(loc).Hour() != 9 {
				t.Errorf("handoff at %s, want 09:00 local", s.End.In(loc))
			}
		})
	}
	if _, ok := r.At(at("2026-01-05 08:59")); ok {
		t.Error("someone is on call before the rotation starts")
	}
	if n, ok := r.Next(at("2026-01-01 00:00")); !ok || n.User != "user:default/alice" || !n.Start.Equal(at("2026-01-05 09:00")) {
		t.Errorf("Next before the start = %+v, %v; want alice from the first handoff", n, ok)
	}
}

func TestHourlyLengthIsExact(t *testing.T) {
	spec := weekly()
	spec["length"], spec["start"] = "12h", "2026-03-28 21:00"
	r := rotation(t, spec)
	// 20:00 UTC on the 28th, then every 12 hours of real time, DST or not.
	s, _ := r.At(time.Date(2026, 3, 29, 9, 30, 0, 0, time.UTC))
	if want := time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC); s.User != "user:default/bob" || !s.Start.Equal(want) || s.End.Sub(s.Start) != 12*time.Hour {
		t.Errorf("At = %+v; want bob from %s for 12h", s, want)
	}
}

func TestOverrides(t *testing.T) {
	spec := weekly()
	spec["overrides"] = []any{
		map[string]any{"user": "carol", "start": "2026-11-25 09:00", "end": "2026-11-26 09:00"},
	}
	r := rotation(t, spec)
	loc := berlin(t)
	at := func(s string) time.Time {
		tm, _ := time.ParseInLocation(timeLayout, s, loc)
		return tm
	}
	// Week of 23 November belongs to bob (46 weeks after 5 January).
	cases := []struct {
		t          string
		user       string
		start, end string
		override   bool
	}{
		{"2026-11-24 12:00", "bob", "2026-11-23 09:00", "2026-11-25 09:00", false},
		{"2026-11-25 12:00", "carol", "2026-11-25 09:00", "2026-11-26 09:00", true},
		{"2026-11-26 10:00", "bob", "2026-11-26 09:00", "2026-11-30 09:00", false},
	}
	for _, c := range cases {
		s, ok := r.At(at(c.t))
		if !ok || s.User != "user:default/"+c.user || !s.Start.Equal(at(c.start)) || !s.End.Equal(at(c.end)) || s.Override != c.override {
			t.Errorf("At(%s) = %+v; want %s %s–%s override=%v", c.t, s, c.user, c.start, c.end, c.override)
		}
	}
	if n, _ := r.Next(at("2026-11-24 12:00")); n.User != "user:default/carol" || !n.Override {
		t.Errorf("Next before the override = %+v; want carol's override", n)
	}
	if n, _ := r.Next(at("2026-11-25 12:00")); n.User != "user:default/bob" || !n.Start.Equal(at("2026-11-26 09:00")) {
		t.Errorf("Next during the override = %+v; want bob resuming", n)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name   string
		change func(map[string]any)
		want   string
	}{
		{"no owner", func(m map[string]any) { delete(m, "owner") }, "spec.owner: missing"},
		{"bad zone", func(m map[string]any) { m["zone"] = "Mars/Olympus" }, `spec.zone: unknown time zone "Mars/Olympus"`},
		{"bad start", func(m map[string]any) { m["start"] = "tomorrow" }, `spec.start: "tomorrow" is not "YYYY-MM-DD HH:MM"`},
		{"bad length", func(m map[string]any) { m["length"] = "1 week" }, `spec.length: "1 week" is not a length`},
		{"zero length", func(m map[string]any) { m["length"] = "0d" }, "spec.length"},
		{"no members", func(m map[string]any) { m["members"] = []any{} }, "spec.members: missing"},
		{"bad member", func(m map[string]any) { m["members"] = []any{"alice", "bad name!"} }, "spec.members[1]"},
		{"bad level", func(m map[string]any) { m["level"] = "first" }, "spec.level"},
		{"override backwards", func(m map[string]any) {
			m["overrides"] = []any{map[string]any{"user": "bob", "start": "2026-02-02 09:00", "end": "2026-02-01 09:00"}}
		}, "spec.overrides[0]: ends before it starts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := weekly()
			tt.change(spec)
			_, err := Parse(entity(spec))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "rotation:default/payments-primary") {
				t.Errorf("err = %v; want %q and the rotation's ref", err, tt.want)
			}
		})
	}
}

func FuzzAt(f *testing.F) {
	f.Add(int64(0), int64(3600), uint8(1), uint8(3))
	f.Add(int64(-86400*400), int64(86400*7), uint8(7), uint8(5))
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, offset, _ int64, days, members uint8) {
		if days == 0 || members == 0 {
			return
		}
		r := &Rotation{Zone: loc, Start: time.Date(2026, 3, 1, 2, 30, 0, 0, loc), Days: int(days)}
		for i := range int(members) {
			r.Members = append(r.Members, string(rune('a'+i%26)))
		}
		tm := r.Start.Add(time.Duration(offset%(86400*3650)) * time.Second)
		s, ok := r.At(tm)
		if !ok {
			if !tm.Before(r.Start) {
				t.Fatalf("nobody on call at %s after the start", tm)
			}
			return
		}
		if tm.Before(s.Start) || !tm.Before(s.End) {
			t.Fatalf("At(%s) = %s–%s does not hold it", tm, s.Start, s.End)
		}
	})
}
