// Package oncall composes the on-call sources (PagerDuty, Opsgenie, the
// rotations kept in the catalog) into the one source the bot asks, and owns
// what they share: the freshness layer (Cached), the precedence between
// sources (Multi), the HTTP retry policy of the paging providers
// (RetryTransport), the e-mail → catalog user mapping (Directory) and the
// provider errors that are safe to show in chat (Error).
//
// It imports no provider: cmd builds the providers and hands them to Multi
// through the Source interface.
package oncall

import (
	"context"
	"sort"
	"strings"

	"github.com/idpbot/idpbot/catalog"
)

// AnnotationOpsgenieSchedule names an Opsgenie schedule directly (by name),
// for owners whose team has several schedules or none of its own.
const AnnotationOpsgenieSchedule = catalog.AnnotationOpsgenieSchedule

// Source tells who is on call now and next for an ownership answer; a nil
// answer with a nil error means the source knows nothing of this owner.
// bot.OnCallSource has the same method set.
type Source interface {
	OnCall(ctx context.Context, o *catalog.Ownership) (*catalog.OnCall, error)
}

// Annotation returns the on-call annotation key of o: the value the catalog
// gathered in o.OnCall (the entity's, else its owner's), else the entity's
// own annotation (for keys the catalog does not gather).
func Annotation(o *catalog.Ownership, key string) string {
	if o == nil {
		return ""
	}
	if v := strings.TrimSpace(o.OnCall[key]); v != "" {
		return v
	}
	if o.Entity != nil {
		return strings.TrimSpace(o.Entity.Annotation(key))
	}
	return ""
}

// SortShifts orders shifts by escalation level, then start, then schedule,
// as catalog.OnCall promises.
func SortShifts(shifts []catalog.Shift) {
	sort.SliceStable(shifts, func(i, j int) bool {
		a, b := shifts[i], shifts[j]
		if a.Level != b.Level {
			return a.Level < b.Level
		}
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.Schedule < b.Schedule
	})
}

// clone returns a deep copy of oc (nil stays nil), so that a cached answer
// is never shared with a caller that might change it.
func clone(oc *catalog.OnCall) *catalog.OnCall {
	if oc == nil {
		return nil
	}
	c := *oc
	c.Now = append([]catalog.Shift(nil), oc.Now...)
	c.Next = append([]catalog.Shift(nil), oc.Next...)
	return &c
}
