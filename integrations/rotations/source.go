package rotations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// Catalog is what the source reads: the Rotation entities and the users
// they name.
type Catalog interface {
	List(ctx context.Context, f catalog.Filter, limit int) ([]*catalog.Entity, error)
	Get(ctx context.Context, ref string) (*catalog.Entity, error)
}

// Source answers who is on call from the catalog's rotations.
type Source struct {
	cat Catalog
	now func() time.Time
	log *slog.Logger
}

// Option configures a Source.
type Option func(*Source)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Source) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Source) { s.log = l } }

// New returns a Source reading cat.
func New(cat Catalog, opts ...Option) *Source {
	s := &Source{cat: cat, now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	return s
}

var rotationFilter = catalog.Filter{Sets: [][]catalog.Condition{{{Key: "kind", Value: Kind, HasValue: true}}}}

// Rotations parses every Rotation entity of the catalog; the invalid ones
// come back as one error naming each entity and field.
func (s *Source) Rotations(ctx context.Context) ([]*Rotation, error) {
	ents, err := s.cat.List(ctx, rotationFilter, 0)
	if err != nil {
		return nil, fmt.Errorf("list rotations: %w", err)
	}
	var out []*Rotation
	var errs []error
	for _, e := range ents {
		r, err := Parse(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// OnCall answers for the owner of an ownership answer: the people on call
// now and next in each rotation covering it, by escalation level. It
// returns nil when no rotation covers the owner; an invalid rotation of the
// owner is an error when no valid one answers.
func (s *Source) OnCall(ctx context.Context, o *catalog.Ownership) (*catalog.OnCall, error) {
	if o.Owner.Ref == "" {
		return nil, nil
	}
	ents, err := s.cat.List(ctx, rotationFilter, 0)
	if err != nil {
		return nil, fmt.Errorf("list rotations: %w", err)
	}
	var mine []*Rotation
	var invalid []error
	for _, e := range ents {
		if !ownedBy(e, o.Owner.Ref) {
			continue
		}
		r, err := Parse(e)
		if err != nil {
			s.log.WarnContext(ctx, "invalid rotation", "error", err.Error())
			invalid = append(invalid, err)
			continue
		}
		mine = append(mine, r)
	}
	if len(mine) == 0 {
		return nil, errors.Join(invalid...)
	}
	now := s.now()
	oc := &catalog.OnCall{AsOf: now}
	people := map[string]catalog.Person{}
	person := func(ref string) (catalog.Person, error) {
		if p, ok := people[ref]; ok {
			return p, nil
		}
		e, err := s.cat.Get(ctx, ref)
		var p catalog.Person
		switch {
		case errors.Is(err, catalog.ErrNotFound):
			p = catalog.Person{Ref: ref, DisplayName: catalog.MustParseRef(ref).Name}
		case err != nil:
			return p, err
		default:
			p = catalog.PersonOf(e)
		}
		people[ref] = p
		return p, nil
	}
	shift := func(r *Rotation, sl Slot) (catalog.Shift, error) {
		p, err := person(sl.User)
		sched := r.Title
		if sl.Override {
			sched += " (override)"
		}
		return catalog.Shift{Person: p, Level: r.Level, Schedule: sched, Source: "rotation", Start: sl.Start, End: sl.End}, err
	}
	for _, r := range mine {
		if sl, ok := r.At(now); ok {
			sh, err := shift(r, sl)
			if err != nil {
				return nil, err
			}
			oc.Now = append(oc.Now, sh)
		}
		if sl, ok := r.Next(now); ok {
			sh, err := shift(r, sl)
			if err != nil {
				return nil, err
			}
			oc.Next = append(oc.Next, sh)
		}
	}
	byLevel := func(shifts []catalog.Shift) {
		sort.SliceStable(shifts, func(i, j int) bool {
			if shifts[i].Level != shifts[j].Level {
				return shifts[i].Level < shifts[j].Level
			}
			return shifts[i].Start.Before(shifts[j].Start)
		})
	}
	byLevel(oc.Now)
	byLevel(oc.Next)
	return oc, nil
}

// ownedBy says whether the rotation entity e covers owner, by its derived
// ownedBy relation (present even when the rest of the spec is invalid).
func ownedBy(e *catalog.Entity, owner string) bool {
	for _, t := range e.RelationTargets(catalog.RelOwnedBy) {
		if strings.EqualFold(t, owner) {
			return true
		}
	}
	return false
}
