package oncall_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/oncall"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// fixed is a source with a fixed answer that counts its calls.
type fixed struct {
	oc    *catalog.OnCall
	err   error
	calls atomic.Int32
}

func (f *fixed) OnCall(context.Context, *catalog.Ownership) (*catalog.OnCall, error) {
	f.calls.Add(1)
	return f.oc, f.err
}

func shifts(source string, asOf time.Time, stale bool, levels ...int) *catalog.OnCall {
	oc := &catalog.OnCall{AsOf: asOf, Stale: stale}
	for _, l := range levels {
		oc.Now = append(oc.Now, catalog.Shift{Person: catalog.Person{DisplayName: source}, Level: l, Source: source})
	}
	return oc
}

func TestMulti(t *testing.T) {
	pdAnn := map[string]string{catalog.AnnotationPagerDutyServiceID: "PX7Q2LM"}
	ogAnn := map[string]string{catalog.AnnotationOpsgenieTeam: "sre-oncall"}
	both := map[string]string{catalog.AnnotationPagerDutyServiceID: "PX7Q2LM", catalog.AnnotationOpsgenieTeam: "sre-oncall"}
	down := &oncall.Error{Provider: "pagerduty", Op: "get service PX7Q2LM", Kind: oncall.ErrUnavailable, Detail: "HTTP 503"}
	older := t0.Add(-5 * time.Minute)
	for _, tc := range []struct {
		name      string
		ann       map[string]string
		entityAnn map[string]string
		pd, og    *fixed
		noPD      bool
		want      []string // sources of Now, in order
		wantErr   error
		stale     bool
		asOf      time.Time
		rotAsked  bool
	}{
		{name: "pagerduty annotation", ann: pdAnn, pd: &fixed{oc: shifts("pagerduty", t0, false, 1, 2)}, want: []string{"pagerduty", "pagerduty"}, asOf: t0},
		{name: "opsgenie annotation", ann: ogAnn, og: &fixed{oc: shifts("opsgenie", t0, false, 1)}, want: []string{"opsgenie"}, asOf: t0},
		{name: "opsgenie schedule on the entity", entityAnn: map[string]string{oncall.AnnotationOpsgenieSchedule: "SRE"}, og: &fixed{oc: shifts("opsgenie", t0, false, 1)}, want: []string{"opsgenie"}, asOf: t0},
		{
			name: "both: merged by level, oldest and stale when a part is", ann: both,
			pd: &fixed{oc: shifts("pagerduty", older, true, 1, 3)}, og: &fixed{oc: shifts("opsgenie", t0, false, 2)},
			want: []string{"pagerduty", "opsgenie", "pagerduty"}, stale: true, asOf: older,
		},
		{name: "no annotation: rotations", want: []string{"rotation"}, rotAsked: true, asOf: t0},
		{name: "provider knows nothing: rotations", ann: pdAnn, pd: &fixed{}, want: []string{"rotation"}, rotAsked: true, asOf: t0},
		{name: "provider not configured: rotations", ann: pdAnn, noPD: true, want: []string{"rotation"}, rotAsked: true, asOf: t0},
		{name: "provider down: its error, not the rotations", ann: pdAnn, pd: &fixed{err: down}, wantErr: oncall.ErrUnavailable},
		{name: "one of two down: the other's answer", ann: both, pd: &fixed{err: down}, og: &fixed{oc: shifts("opsgenie", t0, false, 1)}, want: []string{"opsgenie"}, asOf: t0},
		{name: "one down, the other knows nothing: the error", ann: both, pd: &fixed{err: down}, og: &fixed{}, wantErr: oncall.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rot := &fixed{oc: shifts("rotation", t0, false, 1)}
			m := &oncall.Multi{Rotations: rot}
			if tc.pd == nil {
				tc.pd = &fixed{oc: shifts("pagerduty", t0, false, 1)}
			}
			if tc.og == nil {
				tc.og = &fixed{oc: shifts("opsgenie", t0, false, 1)}
			}
			if !tc.noPD {
				m.PagerDuty = tc.pd
			}
			m.Opsgenie = tc.og
			o := &catalog.Ownership{Owner: catalog.Summary{Ref: "group:default/payments"}, OnCall: tc.ann,
				Entity: &catalog.Entity{Metadata: catalog.Metadata{Name: "x", Annotations: tc.entityAnn}}}
			oc, err := m.OnCall(context.Background(), o)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || oc != nil {
					t.Fatalf("OnCall = %+v, %v; want %v", oc, err, tc.wantErr)
				}
				if rot.calls.Load() != 0 {
					t.Error("asked the rotations although a provider that applies failed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range oc.Now {
				got = append(got, s.Source)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || oc.Stale != tc.stale || !oc.AsOf.Equal(tc.asOf) {
				t.Errorf("OnCall = %v stale=%v asOf=%s; want %v stale=%v asOf=%s", got, oc.Stale, oc.AsOf, tc.want, tc.stale, tc.asOf)
			}
			if (rot.calls.Load() > 0) != tc.rotAsked {
				t.Errorf("rotations asked: %v, want %v", rot.calls.Load() > 0, tc.rotAsked)
			}
		})
	}
}
