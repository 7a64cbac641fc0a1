package scoring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idpbot/idpbot/catalog"
)

func TestHistoryAcrossWeeks(t *testing.T) {
	ctx := context.Background()
	h := NewHistory(scoresState(t), time.UTC)
	c := card(t, `
    - {id: owner, level: Bronze, expr: "has(entity.spec.owner)"}
    - {id: system, level: Silver, expr: "has(entity.spec.system)"}
`)
	week1 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // Monday of 2026-W48
	report := func(at time.Time, spec map[string]any) *Report {
		e := entity("svc", spec)
		e.Relations = []catalog.Relation{{Type: catalog.RelOwnedBy, TargetRef: "group:default/team-a"}}
		res := c.Evaluate(e, nil)
		org := []*catalog.Entity{{Kind: "Group", Metadata: catalog.Metadata{Name: "team-a", Namespace: "default"}, Spec: map[string]any{"type": "team"}}}
		return &Report{At: at, Results: map[string][]*Result{"t": {res}}, Teams: map[string][]*TeamResult{"t": Rollup(c, []*Result{res}, []*catalog.Entity{e}, org)}}
	}
	if got := h.Week(week1); got != "2026-W48" {
		t.Fatalf("Week = %s", got)
	}
	// Week 48: Bronze (50). Week 49: Silver (100), recorded twice.
	if err := h.Record(ctx, report(week1, map[string]any{"owner": "a"})); err != nil {
		t.Fatal(err)
	}
	week2 := week1.AddDate(0, 0, 7)
	for range 2 {
		if err := h.Record(ctx, report(week2, map[string]any{"owner": "a", "system": "s"})); err != nil {
			t.Fatal(err)
		}
	}
	prev, err := h.Snapshot(ctx, "t", h.PreviousWeek(week2))
	if err != nil {
		t.Fatal(err)
	}
	if s := prev.Entities["component:default/svc"]; s.Level != 0 || s.Score != 50 || len(s.Failing) != 1 || s.Failing[0] != "system" {
		t.Errorf("week 48 snapshot = %+v", s)
	}
	tr, err := h.Transitions(ctx, "t", "component:default/svc", 0)
	if err != nil || len(tr) != 1 || tr[0].From != 0 || tr[0].To != 2 {
		t.Errorf("transitions = %+v, %v; want one, Bronze to Gold (no Gold rules: reached with Silver); a repeated record adds none", tr, err)
	}
	rep := report(week2, map[string]any{"owner": "a", "system": "s"})
	b := BuildBoard(c, rep, h.Week(week2), prev)
	if len(b.Standings) != 1 || !b.Standings[0].HasDelta || b.Standings[0].Delta != 50 || b.MostImproved == nil {
		t.Errorf("board = %+v", b.Standings)
	}
	team := BuildTeamReport(c, rep, b.Standings[0], map[string]bool{"component:default/svc": true}, prev)
	if len(team.Movers) != 1 || team.Movers[0].From != 50 || team.Movers[0].To != 100 || len(team.Fixes) != 0 {
		t.Errorf("team report = %+v", team)
	}
	// Pruning 26 weeks later removes both weeks.
	if err := h.Prune(ctx, week2.AddDate(0, 0, 7*27)); err != nil {
		t.Fatal(err)
	}
	if ws, _ := h.Snapshot(ctx, "t", "2026-W49"); len(ws.Entities) != 0 || len(ws.Teams) != 0 {
		t.Errorf("week 49 survived pruning: %+v", ws)
	}
	if tr, _ := h.Transitions(ctx, "t", "component:default/svc", 0); len(tr) != 0 {
		t.Errorf("transitions survived pruning: %+v", tr)
	}
}

func TestChart(t *testing.T) {
	c := card(t, `
    - {id: owner, level: Bronze, expr: "has(entity.spec.owner)"}
`)
	b := &Board{Scorecard: c, Week: "2026-W49", Standings: []Standing{
		{Team: "group:default/a", DisplayName: "Alpha", Rank: 1, Score: 90, Delta: 10, HasDelta: true},
		{Team: "group:default/b", DisplayName: "Bravo", Rank: 2, Score: 55},
	}}
	png, err := Chart(b, "group:default/b")
	if err != nil {
		t.Fatal(err)
	}
	if len(png) < 1000 || string(png[1:4]) != "PNG" {
		t.Fatalf("not a PNG: %d bytes", len(png))
	}
	if os.Getenv("IDPBOT_KEEP_CHART") != "" {
		os.WriteFile(os.Getenv("IDPBOT_KEEP_CHART"), png, 0o644)
	}
	if _, err := Chart(&Board{Scorecard: c}, ""); err == nil {
		t.Error("a chart of no teams was drawn")
	}
}

func TestTrackerMetrics(t *testing.T) {
	store := exampleCatalog(t)
	cards := loadExamples(t)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := store.State("scores")
	tr := NewTracker(NewEvaluator(cards, store, nil), NewHistory(st, time.UTC), m)
	if tr.Latest() != nil {
		t.Fatal("a report before the first run")
	}
	rep, err := tr.Run(context.Background())
	if err != nil || tr.Latest() != rep {
		t.Fatalf("Run: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, mf := range mfs {
		series[mf.GetName()] = len(mf.Metric)
	}
	if series["idpbot_scorecard_team_score"] < 6 || series["idpbot_scorecard_entity_score"] < 17 || series["idpbot_scorecard_evaluation_duration_seconds"] != 1 {
		t.Errorf("series: %v", series)
	}
	if ws, _ := NewHistory(st, time.UTC).Snapshot(context.Background(), "production-readiness", NewHistory(st, time.UTC).Week(rep.At)); len(ws.Entities) == 0 {
		t.Error("the run recorded no snapshot")
	}
}

// signallingFacts tells when an evaluation reads facts.
type signallingFacts struct{ read chan struct{} }

func (s signallingFacts) Facts(context.Context, string) (Facts, error) {
	select {
	case s.read <- struct{}{}:
	default:
	}
	return nil, nil
}

func TestTrackerFollowsChanges(t *testing.T) {
	store := exampleCatalog(t)
	facts := signallingFacts{read: make(chan struct{}, 1)}
	tr := NewTracker(NewEvaluator(loadExamples(t), store, facts), nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { tr.Follow(ctx, time.Millisecond, func(err error) { t.Error(err) }); close(done) }()
	tr.Changed()
	tr.Changed() // a burst: one evaluation covers both
	select {
	case <-facts.read:
	case <-time.After(30 * time.Second):
		t.Fatal("no evaluation after a change")
	}
	cancel()
	<-done
}

// A record larger than one transaction holds (here 2,000 entities failing
// eight rules each, about 1.1 MB) is written in smaller parts, all of it.
func TestHistoryRecordsMoreThanOneTransactionHolds(t *testing.T) {
	ctx := context.Background()
	st := scoresState(t)
	var rules []*Rule
	for i := range 8 {
		rules = append(rules, &Rule{ID: fmt.Sprintf("rule-number-%d-with-a-long-id", i)})
	}
	res := make([]*Result, 2000)
	for i := range res {
		r := &Result{Entity: fmt.Sprintf("component:default/profile-router-%05d", i), Level: 1, Score: 0}
		for _, rule := range rules {
			r.Rules = append(r.Rules, RuleResult{Rule: rule, Outcome: Fail})
		}
		res[i] = r
	}
	// One transaction cannot take it all: the store says so.
	err := st.Update(ctx, func(tx *catalog.StateTx) error {
		for _, r := range res {
			for _, k := range []string{"a/" + r.Entity, "b/" + r.Entity} {
				if err := tx.Put(k, EntitySnap{Level: 1, Failing: []string{rules[0].ID, rules[1].ID, rules[2].ID, rules[3].ID, rules[4].ID, rules[5].ID, rules[6].ID, rules[7].ID}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if !errors.Is(err, catalog.ErrStateTooBig) {
		t.Fatalf("one transaction of 4,000 snapshots: %v, want ErrStateTooBig", err)
	}
	h := NewHistory(st, time.UTC)
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	if err := h.Record(ctx, &Report{At: at, Results: map[string][]*Result{"production-readiness": res}}); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := st.View(ctx, func(tx *catalog.StateTx) error {
		return tx.Scan("", false, func(key string, decode func(any) error) error {
			if strings.Contains(key, "profile-router-") && strings.HasPrefix(key, "week/") {
				n++
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(res) {
		t.Errorf("%d weekly snapshots recorded, want %d", n, len(res))
	}
}

// scoresState opens a store in a temporary directory, closed when the test
// ends, and returns its "scores" state.
func scoresState(t *testing.T) *catalog.State {
	t.Helper()
	store, err := catalog.Open(context.Background(), t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	st, err := store.State("scores")
	if err != nil {
		t.Fatal(err)
	}
	return st
}
