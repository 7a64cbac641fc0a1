package oncall

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/idpbot/idpbot/catalog"
)

// Multi asks the right sources for an ownership answer. Precedence:
//
//  1. The paging providers the owner is annotated for are authoritative:
//     PagerDuty when pagerduty.com/service-id is set, Opsgenie when
//     opsgenie.com/team or opsgenie.com/schedule is. Both are asked (in
//     parallel) when both annotations are set, and their shifts merged.
//  2. Rotations (kind: Rotation in the catalog) answer when no configured
//     provider applies, or when the providers that apply know nothing of the
//     owner (no schedule, no one on call). They are not mixed into a
//     provider's answer: the paging tool is who actually gets paged.
//  3. When an applicable provider fails and another answers with shifts,
//     the answer stands (the failure is logged); otherwise the failures are
//     returned, joined, and the rotations are not asked — wrap providers in
//     Cached so that a failure serves the last known answer instead.
//
// A provider that is not configured (nil field) is skipped, so an
// annotation for a tool the bot has no credentials for falls through to the
// rotations.
type Multi struct {
	PagerDuty Source // nil: not configured
	Opsgenie  Source // nil: not configured
	Rotations Source // nil: none
	Log       *slog.Logger
}

var _ Source = (*Multi)(nil)

type route struct {
	name string
	src  Source
}

// Routes names the sources Multi asks first for o (the providers whose
// annotation o has), in order: pagerduty, opsgenie.
func (m *Multi) routes(o *catalog.Ownership) []route {
	var rs []route
	if m.PagerDuty != nil && Annotation(o, catalog.AnnotationPagerDutyServiceID) != "" {
		rs = append(rs, route{"pagerduty", m.PagerDuty})
	}
	if m.Opsgenie != nil && (Annotation(o, catalog.AnnotationOpsgenieTeam) != "" || Annotation(o, AnnotationOpsgenieSchedule) != "") {
		rs = append(rs, route{"opsgenie", m.Opsgenie})
	}
	return rs
}

// OnCall implements Source.
func (m *Multi) OnCall(ctx context.Context, o *catalog.Ownership) (*catalog.OnCall, error) {
	log := m.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rs := m.routes(o)
	answers := make([]*catalog.OnCall, len(rs))
	errs := make([]error, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() { answers[i], errs[i] = r.src.OnCall(ctx, o) })
	}
	wg.Wait()
	var merged *catalog.OnCall
	var failed []error
	for i, r := range rs {
		if errs[i] != nil {
			log.WarnContext(ctx, "on-call source failed", "oncall_source", r.name, "owner", o.Owner.Ref, "error", errs[i].Error())
			failed = append(failed, errs[i])
			continue
		}
		merged = merge(merged, answers[i])
	}
	if merged != nil && (len(merged.Now) > 0 || len(merged.Next) > 0) {
		return merged, nil
	}
	if len(failed) > 0 {
		// A provider that failed may be the one that knows: say so rather
		// than answer from the rotations or "nobody".
		return nil, errors.Join(failed...)
	}
	if m.Rotations != nil {
		oc, err := m.Rotations.OnCall(ctx, o)
		if err != nil || oc != nil {
			return oc, err
		}
	}
	return merged, nil
}

// merge adds b's shifts to a; the merged answer is as old as the oldest
// part and stale when any part is.
func merge(a, b *catalog.OnCall) *catalog.OnCall {
	switch {
	case b == nil:
		return a
	case a == nil:
		return clone(b)
	}
	a.Now = append(a.Now, b.Now...)
	a.Next = append(a.Next, b.Next...)
	SortShifts(a.Now)
	SortShifts(a.Next)
	if b.AsOf.Before(a.AsOf) {
		a.AsOf = b.AsOf
	}
	a.Stale = a.Stale || b.Stale
	return a
}
