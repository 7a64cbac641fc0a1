package scoring

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"

	"github.com/idpbot/idpbot/catalog"
)

// Outcome is what a rule gave.
type Outcome int

// Outcomes.
const (
	Pass Outcome = iota
	Fail
	Error
)

func (o Outcome) String() string {
	switch o {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	}
	return "error"
}

// Fact is a named value about an entity, with where and when it came from.
type Fact struct {
	Value  any
	Source string
	At     time.Time
}

// Facts are an entity's facts by name.
type Facts map[string]Fact

// RuleResult is one rule's outcome for one entity.
type RuleResult struct {
	Rule    *Rule
	Outcome Outcome
	// Reason explains an error (a missing fact, a wrong type).
	Reason string
	// Facts are the facts the rule read, with their source and time, so
	// that an explanation can show how fresh they are.
	Facts []FactUse
}

// FactUse names a fact a rule read.
type FactUse struct {
	Name   string
	Source string
	At     time.Time
}

// Result is one entity scored on one scorecard.
type Result struct {
	Scorecard *Scorecard
	Entity    string
	// Level is the index of the level reached, -1 for none.
	Level int
	// Score is the weighted share of rules passed, 0 to 100.
	Score float64
	Rules []RuleResult
}

// LevelName is the name of the level reached, "" for none.
func (r *Result) LevelName() string { return r.Scorecard.LevelName(r.Level) }

// Blocking lists the rules that stand between the entity and the next
// level: those not passing at that level or below. Nil at the top level.
func (r *Result) Blocking() []RuleResult {
	next := r.Level + 1
	if next >= len(r.Scorecard.Levels) {
		return nil
	}
	var out []RuleResult
	for _, rr := range r.Rules {
		if rr.Rule.Level <= next && rr.Outcome != Pass {
			out = append(out, rr)
		}
	}
	return out
}

// Applies says whether the scorecard scores e.
func (sc *Scorecard) Applies(e *catalog.Entity) bool { return sc.AppliesTo.Match(e) }

// Evaluate scores e with its facts.
func (sc *Scorecard) Evaluate(e *catalog.Entity, facts Facts) *Result {
	in := newInput(sc.adapter)
	in.reset(e, facts)
	return sc.evaluate(e.Ref().String(), in)
}

// factValues are the facts as rules see them: values by name.
func factValues(facts Facts) map[string]any {
	fv := make(map[string]any, len(facts))
	for k, f := range facts {
		fv[k] = f.Value
	}
	return fv
}

// evaluate scores the entity in holds.
func (sc *Scorecard) evaluate(ref string, in *input) *Result {
	facts := in.facts
	// One execution frame for all the rules of the entity: Eval would take
	// one from its pool and give it back for each rule.
	var act interpreter.Activation = in
	if frame, err := interpreter.NewExecutionFrame(in); err == nil {
		defer frame.Close()
		act = frame
	}
	res := &Result{Scorecard: sc, Entity: ref, Level: -1, Rules: make([]RuleResult, len(sc.Rules))}
	var total, passed float64
	for i, r := range sc.Rules {
		rr := &res.Rules[i]
		rr.Rule = r
		rr.Outcome, rr.Reason = r.eval(act, facts)
		for _, name := range r.Facts {
			if f, ok := facts[name]; ok {
				rr.Facts = append(rr.Facts, FactUse{Name: name, Source: f.Source, At: f.At})
			}
		}
		total += r.Weight
		if rr.Outcome == Pass {
			passed += r.Weight
		}
	}
	if total > 0 {
		res.Score = 100 * passed / total
	}
	for li := range sc.Levels {
		ok := true
		for _, rr := range res.Rules {
			if rr.Rule.Level <= li && rr.Outcome != Pass {
				ok = false
				break
			}
		}
		if !ok {
			break
		}
		res.Level = li
	}
	return res
}

func (r *Rule) eval(act interpreter.Activation, facts Facts) (Outcome, string) {
	if r.prg == nil {
		return Error, "the rule did not compile"
	}
	for _, f := range r.Facts {
		if _, ok := facts[f]; !ok {
			return Error, fmt.Sprintf("no fact %q has been reported for this entity", f)
		}
	}
	out, _, err := r.prg.Eval(act)
	if err != nil {
		return Error, err.Error()
	}
	switch out {
	case types.True:
		return Pass, ""
	case types.False:
		return Fail, ""
	}
	return Error, fmt.Sprintf("the expression gave %v (%s), not true or false", out.Value(), out.Type().TypeName())
}

// Catalog is what the evaluator reads.
type Catalog interface {
	List(ctx context.Context, f catalog.Filter, limit int) ([]*catalog.Entity, error)
	Resolve(ctx context.Context, query string, preferKinds ...string) (*catalog.Entity, error)
}

// FactSource gives an entity's facts (pushed by pipelines, integrations).
type FactSource interface {
	Facts(ctx context.Context, ref string) (Facts, error)
}

// FactSnapshot is a FactSource that can also give every entity's facts at
// once; a full evaluation (Run) then reads them in one go.
type FactSnapshot interface {
	AllFacts(ctx context.Context) (map[string]Facts, error)
}

// Evaluator scores catalog entities on a set of scorecards.
type Evaluator struct {
	cards   []*Scorecard
	cat     Catalog
	facts   FactSource
	workers int
	now     func() time.Time
}

// NewEvaluator returns an evaluator; facts may be nil (entity facts only).
func NewEvaluator(cards []*Scorecard, cat Catalog, facts FactSource) *Evaluator {
	return &Evaluator{cards: cards, cat: cat, facts: facts, workers: runtime.GOMAXPROCS(0), now: time.Now}
}

// Scorecards lists the scorecards, by id.
func (ev *Evaluator) Scorecards() []*Scorecard { return ev.cards }

// Scorecard finds one by id (case-insensitive).
func (ev *Evaluator) Scorecard(id string) (*Scorecard, bool) {
	for _, c := range ev.cards {
		if strings.EqualFold(c.ID, id) {
			return c, true
		}
	}
	return nil, false
}

func (ev *Evaluator) factsOf(ctx context.Context, ref string) (Facts, error) {
	if ev.facts == nil {
		return nil, nil
	}
	f, err := ev.facts.Facts(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("facts of %s: %w", ref, err)
	}
	return f, nil
}

// Entity scores one entity (a name or ref, resolved as chat does) on every
// scorecard that applies to it.
func (ev *Evaluator) Entity(ctx context.Context, query string) (*catalog.Entity, []*Result, error) {
	e, err := ev.cat.Resolve(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	facts, err := ev.factsOf(ctx, e.Ref().String())
	if err != nil {
		return nil, nil, err
	}
	var out []*Result
	for _, c := range ev.cards {
		if c.Applies(e) {
			out = append(out, c.Evaluate(e, facts))
		}
	}
	return e, out, nil
}

// Report is a full evaluation: every scorecard over the entities it
// applies to, and the teams' standings.
type Report struct {
	At time.Time
	// Results by scorecard id, sorted by entity ref.
	Results map[string][]*Result
	// Teams by scorecard id, best first.
	Teams map[string][]*TeamResult
}

// Run evaluates every scorecard over the catalog, in parallel, and rolls
// the scores up to teams through the group hierarchy.
func (ev *Evaluator) Run(ctx context.Context) (*Report, error) {
	rep := &Report{At: ev.now(), Results: map[string][]*Result{}, Teams: map[string][]*TeamResult{}}
	org, err := ev.cat.List(ctx, catalog.Filter{Sets: [][]catalog.Condition{
		{{Key: "kind", Value: catalog.KindGroup, HasValue: true}},
		{{Key: "kind", Value: catalog.KindUser, HasValue: true}},
	}}, 0)
	if err != nil {
		return nil, fmt.Errorf("list groups and users: %w", err)
	}
	factsOf := ev.factsOf
	if snap, ok := ev.facts.(FactSnapshot); ok {
		all, err := snap.AllFacts(ctx)
		if err != nil {
			return nil, fmt.Errorf("read facts: %w", err)
		}
		factsOf = func(_ context.Context, ref string) (Facts, error) {
			if f, ok := all[ref]; ok {
				return f, nil
			}
			return Facts{}, nil // as Facts gives for an entity without facts
		}
	}
	for _, c := range ev.cards {
		ents, err := ev.cat.List(ctx, c.AppliesTo, 0)
		if err != nil {
			return nil, fmt.Errorf("list entities of scorecard %s: %w", c.ID, err)
		}
		results, err := ev.evaluateAll(ctx, c, ents, factsOf)
		if err != nil {
			return nil, err
		}
		rep.Results[c.ID] = results
		rep.Teams[c.ID] = Rollup(c, results, ents, org)
	}
	return rep, nil
}

// evalChunk is how many entities a worker takes at a time.
const evalChunk = 64

// evaluateAll scores ents on c with ev.workers goroutines.
func (ev *Evaluator) evaluateAll(ctx context.Context, c *Scorecard, ents []*catalog.Entity,
	factsOf func(context.Context, string) (Facts, error)) ([]*Result, error) {
	results := make([]*Result, len(ents))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	var next atomic.Int64
	for range max(ev.workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := newInput(c.adapter)
			for ctx.Err() == nil {
				start := int(next.Add(evalChunk)) - evalChunk
				if start >= len(ents) {
					return
				}
				for i := start; i < min(start+evalChunk, len(ents)); i++ {
					e := ents[i]
					ref := e.Ref().String()
					facts, err := factsOf(ctx, ref)
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						continue
					}
					in.reset(e, facts)
					results[i] = c.evaluate(ref, in)
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	slices.SortFunc(results, func(a, b *Result) int { return strings.Compare(a.Entity, b.Entity) })
	return results, nil
}

// TeamResult is a team's standing on a scorecard: over the entities it and
// its sub-teams own.
type TeamResult struct {
	Team        string
	DisplayName string
	// Type is the group's spec.type (team, department, organization…).
	Type string
	// Score is the mean score of the entities.
	Score    float64
	Entities int
	// Levels counts entities per level index; index len(Levels) counts
	// those with no level.
	Levels []int
}

// Rollup aggregates results to the owning groups and every group above
// them (childOf); an entity owned by a person counts for the person's first
// team. org holds the groups and users. Teams are sorted by score, best
// first, then by ref.
func Rollup(c *Scorecard, results []*Result, ents, org []*catalog.Entity) []*TeamResult {
	parent := map[string]string{}
	names := map[string]string{}
	types := map[string]string{}
	teamOf := map[string]string{} // user → first group
	for _, g := range org {
		ref := g.Ref().String()
		switch strings.ToLower(g.Kind) {
		case catalog.KindGroup:
			names[ref] = g.DisplayName()
			types[ref] = g.SpecString("type")
			if ps := g.RelationTargets(catalog.RelChildOf); len(ps) > 0 {
				parent[ref] = ps[0]
			}
		case catalog.KindUser:
			if ts := g.RelationTargets(catalog.RelMemberOf); len(ts) > 0 {
				teamOf[ref] = ts[0]
			}
		}
	}
	owner := map[string]string{}
	for _, e := range ents {
		for _, o := range e.RelationTargets(catalog.RelOwnedBy) {
			if strings.HasPrefix(o, catalog.KindUser+":") {
				o = teamOf[o]
			}
			if strings.HasPrefix(o, catalog.KindGroup+":") {
				owner[e.Ref().String()] = o
				break
			}
		}
	}
	teams := map[string]*TeamResult{}
	sums := map[string]float64{}
	for _, r := range results {
		seen := map[string]bool{}
		for g := owner[r.Entity]; g != "" && !seen[g]; g = parent[g] {
			seen[g] = true
			t, ok := teams[g]
			if !ok {
				t = &TeamResult{Team: g, DisplayName: names[g], Type: types[g], Levels: make([]int, len(c.Levels)+1)}
				if t.DisplayName == "" {
					t.DisplayName = catalog.MustParseRef(g).Name
				}
				teams[g] = t
			}
			t.Entities++
			sums[g] += r.Score
			if r.Level < 0 {
				t.Levels[len(c.Levels)]++
			} else {
				t.Levels[r.Level]++
			}
		}
	}
	out := make([]*TeamResult, 0, len(teams))
	for g, t := range teams {
		t.Score = sums[g] / float64(t.Entities)
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Team < out[j].Team
	})
	return out
}
