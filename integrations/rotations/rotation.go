// Package rotations answers "who is on call" from on-call rotations kept in
// the catalog as `kind: Rotation` entities, for teams without a paging tool
// (and for the example catalog):
//
//	apiVersion: idpbot.dev/v1alpha1
//	kind: Rotation
//	metadata:
//	  name: payments-primary
//	  title: Payments primary
//	spec:
//	  owner: payments            # the team the rotation covers
//	  level: 1                   # escalation level (default 1)
//	  zone: Europe/Berlin        # IANA time zone of the handoffs (default UTC)
//	  start: "2026-01-05 09:00"  # the first handoff, local time
//	  length: 1w                 # 12h, 1d, 3d, 1w, 2w...
//	  members: [alice.nguyen, bilal.haddad, carmen.ortiz]
//	  overrides:
//	    - {user: carmen.ortiz, start: "2026-11-26 09:00", end: "2026-11-27 09:00"}
//
// Lengths in days or weeks are calendar days: the handoff stays at the same
// local time across daylight-saving changes (a shift that spans one is an
// hour shorter or longer). Lengths in hours are exact durations. Overrides
// win over the regular order for their interval.
package rotations

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// Kind is the catalog kind of a rotation (compared case-insensitively).
const Kind = "rotation"

// Rotation is a parsed, validated Rotation entity.
type Rotation struct {
	Ref     string
	Title   string
	Owner   string // canonical ref of the covered team or person
	Level   int
	Zone    *time.Location
	Start   time.Time // the first handoff
	Days    int       // the length in calendar days, or
	Length  time.Duration
	Members []string // canonical user refs, in order
	// Overrides are sorted by start.
	Overrides []Override
}

// Override puts User on call from Start to End, whatever the order says.
type Override struct {
	User       string
	Start, End time.Time
}

// Slot is one stretch of the rotation with one person on call.
type Slot struct {
	User       string
	Start, End time.Time
	Override   bool
}

const timeLayout = "2006-01-02 15:04"

var lengthRE = regexp.MustCompile(`^([1-9][0-9]{0,3})([hdw])$`)

// Parse reads a Rotation entity; every problem is reported with its field.
func Parse(e *catalog.Entity) (*Rotation, error) {
	r := &Rotation{Ref: e.Ref().String(), Title: e.DisplayName(), Level: 1, Zone: time.UTC}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("spec.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	spec := e.Spec
	ref := func(field, s, kind string) (string, bool) {
		r, err := catalog.ParseRef(strings.TrimSpace(s), catalog.RefDefaults{Kind: kind, Namespace: e.Metadata.Namespace})
		if err == nil && !catalog.IsValidObjectName(r.Name) {
			err = fmt.Errorf("%q is not a valid entity name", r.Name)
		}
		if err != nil {
			bad(field, "%v", err)
			return "", false
		}
		return r.String(), true
	}
	str := func(key string) string {
		v, _ := spec[key].(string)
		return strings.TrimSpace(v)
	}
	if owner := str("owner"); owner == "" {
		bad("owner", "missing; name the team the rotation covers, e.g. owner: payments")
	} else if owner, ok := ref("owner", owner, catalog.KindGroup); ok {
		r.Owner = owner
	}
	switch v := spec["level"].(type) {
	case nil:
	case int:
		r.Level = v
	case float64:
		r.Level = int(v)
	default:
		bad("level", "%v is not a number; use 1 for the first responder, 2 for the next", v)
	}
	if r.Level < 1 || r.Level > 10 {
		bad("level", "%d is out of range; use 1 to 10", r.Level)
	}
	if z := str("zone"); z != "" {
		loc, err := time.LoadLocation(z)
		if err != nil {
			bad("zone", "unknown time zone %q; use an IANA name such as Europe/Berlin or America/New_York", z)
		} else {
			r.Zone = loc
		}
	}
	if s := str("start"); s == "" {
		bad("start", `missing; give the first handoff as "YYYY-MM-DD HH:MM" in the rotation's zone`)
	} else if t, err := time.ParseInLocation(timeLayout, s, r.Zone); err != nil {
		bad("start", `%q is not "YYYY-MM-DD HH:MM"`, s)
	} else {
		r.Start = t
	}
	if l := str("length"); l == "" {
		bad("length", "missing; e.g. 1w for weekly shifts, 1d for daily, 12h")
	} else if m := lengthRE.FindStringSubmatch(l); m == nil {
		bad("length", "%q is not a length; write a number and h, d or w: 12h, 1d, 1w", l)
	} else {
		n, _ := strconv.Atoi(m[1])
		switch m[2] {
		case "h":
			r.Length = time.Duration(n) * time.Hour
		case "d":
			r.Days = n
		case "w":
			r.Days = 7 * n
		}
	}
	members, _ := spec["members"].([]any)
	for i, m := range members {
		s, _ := m.(string)
		if user, ok := ref(fmt.Sprintf("members[%d]", i), s, catalog.KindUser); ok {
			r.Members = append(r.Members, user)
		}
	}
	if len(members) == 0 {
		bad("members", "missing; list the users of the rotation in order, e.g. members: [alice, bob]")
	}
	overrides, _ := spec["overrides"].([]any)
	for i, o := range overrides {
		m, _ := o.(map[string]any)
		field := fmt.Sprintf("overrides[%d]", i)
		name, _ := m["user"].(string)
		user, ok := ref(field+".user", name, catalog.KindUser)
		if !ok {
			continue
		}
		ov := Override{User: user}
		for _, k := range []string{"start", "end"} {
			s, _ := m[k].(string)
			t, err := time.ParseInLocation(timeLayout, strings.TrimSpace(s), r.Zone)
			if err != nil {
				bad(field+"."+k, `%q is not "YYYY-MM-DD HH:MM"`, s)
				continue
			}
			if k == "start" {
				ov.Start = t
			} else {
				ov.End = t
			}
		}
		if !ov.Start.IsZero() && !ov.End.IsZero() && !ov.End.After(ov.Start) {
			bad(field, "ends before it starts")
			continue
		}
		r.Overrides = append(r.Overrides, ov)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("rotation %s: %w", r.Ref, errors.Join(errs...))
	}
	sortOverrides(r.Overrides)
	return r, nil
}

func sortOverrides(o []Override) {
	for i := 1; i < len(o); i++ {
		for j := i; j > 0 && o[j].Start.Before(o[j-1].Start); j-- {
			o[j], o[j-1] = o[j-1], o[j]
		}
	}
}

// handoff is the start of regular shift k (k may be negative).
func (r *Rotation) handoff(k int) time.Time {
	if r.Days > 0 {
		s := r.Start
		return time.Date(s.Year(), s.Month(), s.Day()+k*r.Days, s.Hour(), s.Minute(), 0, 0, r.Zone)
	}
	return r.Start.Add(time.Duration(k) * r.Length)
}

// index is the regular shift holding t: handoff(k) <= t < handoff(k+1).
func (r *Rotation) index(t time.Time) int {
	period := r.Length
	if r.Days > 0 {
		period = time.Duration(r.Days) * 24 * time.Hour
	}
	k := int(t.Sub(r.Start) / period)
	if t.Before(r.Start) {
		k--
	}
	for r.handoff(k).After(t) {
		k--
	}
	for !r.handoff(k + 1).After(t) {
		k++
	}
	return k
}

// At is who is on call at t: an override covering t, else the regular
// order (nobody before the first handoff). The slot ends at the next
// handoff or where an override begins, whichever is first.
func (r *Rotation) At(t time.Time) (Slot, bool) {
	for _, o := range r.Overrides {
		if !t.Before(o.Start) && t.Before(o.End) {
			return Slot{User: o.User, Start: o.Start, End: o.End, Override: true}, true
		}
	}
	if t.Before(r.Start) {
		return Slot{}, false
	}
	k := r.index(t)
	s := Slot{User: r.Members[k%len(r.Members)], Start: r.handoff(k), End: r.handoff(k + 1)}
	for _, o := range r.Overrides {
		if o.End.After(s.Start) && !o.End.After(t) {
			s.Start = o.End // this slot resumes after an override
		}
		if o.Start.After(t) && o.Start.Before(s.End) {
			s.End = o.Start
			break
		}
	}
	return s, true
}

// Next is the slot after the one holding t (the first one, before the
// rotation starts).
func (r *Rotation) Next(t time.Time) (Slot, bool) {
	cur, ok := r.At(t)
	if !ok {
		first := r.Start
		for _, o := range r.Overrides {
			if o.Start.After(t) && o.Start.Before(first) {
				first = o.Start
			}
		}
		return r.At(first)
	}
	return r.At(cur.End)
}
