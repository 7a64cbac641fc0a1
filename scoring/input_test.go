package scoring

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"cel.dev/cel-go/common/types"

	"github.com/idpbot/idpbot/catalog"
)

// oddRules use entity, entity.metadata and facts in every way CEL allows,
// not only by selecting fields: the lazy input must answer them all as the
// entity's map would.
const oddRules = `
    - {id: o01, level: Bronze, expr: "entity.size() == 5 && size(entity.metadata) == 8"}
    - {id: o02, level: Bronze, expr: "'spec' in entity && 'title' in entity.metadata && !('nope' in entity)"}
    - {id: o03, level: Bronze, expr: "entity.all(k, k != '') && entity.metadata.exists(k, k == 'links')"}
    - {id: o04, level: Bronze, expr: "entity.exists_one(k, k == 'kind') && facts.all(k, k != '')"}
    - {id: o05, level: Bronze, expr: "entity == entity && entity.metadata == entity.metadata && entity != {}"}
    - {id: o06, level: Bronze, expr: "entity['kind'] == 'Component' && entity['metadata']['name'] != ''"}
    - {id: o07, level: Bronze, expr: "entity['nope'] == 1"}
    - {id: o08, level: Bronze, expr: "entity.spec.owner == 'team-a'"}
    - {id: o09, level: Bronze, expr: "dyn(entity.metadata)"}
    - {id: o10, level: Bronze, expr: "dyn(entity.relations)"}
    - {id: o11, level: Bronze, expr: "dyn(facts)"}
    - {id: o12, level: Bronze, expr: "dyn(entity.metadata.tags)"}
    - {id: o13, level: Silver, expr: "type(entity) == map && type(entity.metadata) == map && type(facts) == map"}
    - {id: o14, level: Silver, expr: "entity.metadata.links.map(l, l.url).size() == size(entity.metadata.links)"}
    - {id: o15, level: Silver, expr: "entity.relations.all(r, has(r.targetRef)) && entity.metadata.links.all(l, has(l.icon))"}
    - {id: o16, level: Silver, expr: "entity.relations.exists(r, r == {'type': 'ownedBy', 'targetRef': 'group:default/team-a'})"}
    - {id: o17, level: Silver, expr: "entity.metadata.links[0].type == 'runbook'"}
    - {id: o18, level: Silver, expr: "entity.metadata.annotations['owner.example/team'] == 'a'"}
    - {id: o19, level: Silver, expr: "[entity.metadata][0].name == entity.metadata.name && {'a': entity}.a.kind == entity.kind"}
    - {id: o20, level: Silver, expr: "entity.metadata.labels.all(k, entity.metadata.labels[k] != '')"}
    - {id: o21, level: Silver, expr: "size(entity.spec) > 1 && entity.spec.replicas > 2"}
    - {id: o22, level: Silver, expr: "entity.metadata.tags + ['x'] == ['go', 'x']"}
    - {id: o23, level: Silver, expr: "entity.metadata in [entity.metadata] && entity in [entity] && entity.relations in [entity.relations]"}
    - {id: o24, level: Gold, expr: "'coverage' in facts && facts.size() >= 1 && facts.exists(k, k == 'coverage')"}
    - {id: o25, level: Gold, expr: "facts.coverage > 50"}
    - {id: o26, level: Gold, expr: "facts == {'coverage': 90, 'owner': 'a'}"}
    - {id: o27, level: Gold, expr: "entity.metadata == {'name': 'bare', 'namespace': '', 'title': '', 'description': '', 'labels': {}, 'annotations': {}, 'tags': [], 'links': []}"}
    - {id: o28, level: Gold, expr: "[{'url': 'https://r.example/0', 'title': '', 'icon': '', 'type': 'runbook'}] == entity.metadata.links"}
    - {id: o34, level: Gold, expr: "{'name': 'bare', 'namespace': '', 'title': '', 'description': '', 'labels': {}, 'annotations': {}, 'tags': [], 'links': []} == entity.metadata"}
    - {id: o29, level: Gold, expr: "dyn(entity.spec.nested).list[1] == 2 && entity.spec.nested.map.k == 'v'"}
    - {id: o30, level: Gold, expr: "string(entity.apiVersion).startsWith('backstage') && entity.metadata.namespace == 'default'"}
    - {id: o31, level: Gold, expr: "has(entity.metadata.title) && has(entity.spec.owner) && has(facts.owner)"}
    - {id: o32, level: Gold, expr: "dyn(entity.relations[1])"}
    - {id: o33, level: Gold, expr: "1 / (entity.metadata.links.size() - 1) == 1"}
`

// variedEntities are entities with nothing set, with everything, with many
// links and relations after ones with few (the input reuses their maps),
// and with facts of every type or none.
func variedEntities() ([]*catalog.Entity, staticFacts) {
	bare := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "bare"}}
	full := &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component",
		Metadata: catalog.Metadata{Name: "full", Namespace: "default", Title: "Full", Description: "Has every field set, and then some.",
			Labels:      map[string]string{"tier": "1", "empty": ""},
			Annotations: map[string]string{"owner.example/team": "a", "backstage.io/techdocs-ref": "dir:."},
			Tags:        []string{"go", "tier-1"},
			Links:       []catalog.Link{{URL: "https://r.example/a", Type: "runbook"}, {URL: "https://d.example/a", Title: "Dash", Icon: "dashboard", Type: "dashboard"}},
		},
		Spec: map[string]any{"owner": "team-a", "type": "service", "lifecycle": "production", "replicas": 3,
			"nested": map[string]any{"list": []any{1, 2, 3}, "map": map[string]any{"k": "v"}}},
		Relations: []catalog.Relation{
			{Type: "ownedBy", TargetRef: "group:default/team-a"},
			{Type: "dependsOn", TargetRef: "component:default/b", TargetExists: true},
			{Type: "providesApi", TargetRef: "api:default/a"},
		},
	}
	ents := []*catalog.Entity{full, bare}
	for i := range 12 {
		e := &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component",
			Metadata: catalog.Metadata{Name: fmt.Sprintf("svc-%d", i), Namespace: "default", Tags: []string{"go"},
				Annotations: map[string]string{"owner.example/team": strings.Repeat("a", i%2)}},
			Spec: map[string]any{"owner": fmt.Sprintf("team-%c", 'a'+i%3), "replicas": fmt.Sprint(i)},
		}
		for j := range i % 4 {
			e.Metadata.Links = append(e.Metadata.Links, catalog.Link{URL: fmt.Sprintf("https://r.example/%d", j), Type: []string{"runbook", "docs", "dashboard"}[j%3]})
			e.Relations = append(e.Relations, catalog.Relation{Type: []string{"ownedBy", "dependsOn", "providesApi"}[(i+j)%3], TargetRef: fmt.Sprintf("group:default/team-%c", 'a'+j)})
		}
		if i%5 == 4 {
			e.Spec = nil
			e.Metadata.Tags = nil
		}
		ents = append(ents, e)
	}
	facts := staticFacts{}
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	values := []any{90, 12.5, "high", true, nil, int64(51)}
	for i, e := range ents {
		switch {
		case i == 0:
			facts[e.Ref().String()] = Facts{"coverage": {Value: 90, Source: "ci", At: at}, "owner": {Value: "a", Source: "hr"}}
		case i%3 != 1:
			facts[e.Ref().String()] = Facts{"coverage": {Value: values[i%len(values)], Source: "ci", At: at.Add(time.Duration(i) * time.Hour)}}
		}
	}
	return ents, facts
}

// straightEvaluate is the evaluation without input: the entity and its
// facts as whole maps, one activation per rule.
func straightEvaluate(t *testing.T, sc *Scorecard, e *catalog.Entity, facts Facts) *Result {
	t.Helper()
	res := &Result{Scorecard: sc, Entity: e.Ref().String(), Level: -1}
	vars := map[string]any{"entity": entityMap(e), "facts": factValues(facts)}
	var total, passed float64
	for _, r := range sc.Rules {
		rr := RuleResult{Rule: r}
		for _, f := range r.Facts {
			if _, ok := facts[f]; !ok {
				rr.Outcome, rr.Reason = Error, fmt.Sprintf("no fact %q has been reported for this entity", f)
				break
			}
		}
		if rr.Reason == "" {
			out, _, err := r.prg.Eval(vars)
			switch {
			case err != nil:
				rr.Outcome, rr.Reason = Error, err.Error()
			case out == types.True:
				rr.Outcome = Pass
			case out == types.False:
				rr.Outcome = Fail
			default:
				rr.Outcome, rr.Reason = Error, fmt.Sprintf("the expression gave %v (%s), not true or false", out.Value(), out.Type().TypeName())
			}
		}
		for _, name := range r.Facts {
			if f, ok := facts[name]; ok {
				rr.Facts = append(rr.Facts, FactUse{Name: name, Source: f.Source, At: f.At})
			}
		}
		res.Rules = append(res.Rules, rr)
		total += r.Weight
		if rr.Outcome == Pass {
			passed += r.Weight
		}
	}
	if total > 0 {
		res.Score = 100 * passed / total
	}
	for li := range sc.Levels {
		for _, rr := range res.Rules {
			if rr.Rule.Level <= li && rr.Outcome != Pass {
				return res
			}
		}
		res.Level = li
	}
	return res
}

func TestInputMatchesEntityMap(t *testing.T) {
	ents, facts := variedEntities()
	bench, _ := benchEntities(40)
	tests := []struct {
		name  string
		rules string
		ents  []*catalog.Entity
	}{
		{"benchmark rules", strings.SplitN(twentyRules, "  rules:\n", 2)[1], append(ents, bench...)},
		{"example rules", exampleRules(t), ents},
		{"whole maps", oddRules, ents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := card(t, tt.rules)
			want := map[string]*Result{}
			for _, e := range tt.ents {
				want[e.Ref().String()] = straightEvaluate(t, c, e, facts[e.Ref().String()])
			}
			check := func(how string, got *Result) {
				t.Helper()
				w := want[got.Entity]
				if got.Score != w.Score || got.Level != w.Level || len(got.Rules) != len(w.Rules) {
					t.Errorf("%s %s: score %.2f level %d, want %.2f level %d", how, got.Entity, got.Score, got.Level, w.Score, w.Level)
					return
				}
				for i, rr := range got.Rules {
					if !reflect.DeepEqual(rr, w.Rules[i]) {
						t.Errorf("%s %s, rule %s: %s %q %v; want %s %q %v", how, got.Entity, rr.Rule.ID,
							rr.Outcome, rr.Reason, rr.Facts, w.Rules[i].Outcome, w.Rules[i].Reason, w.Rules[i].Facts)
					}
				}
			}
			for _, e := range tt.ents {
				check("Evaluate", c.Evaluate(e, facts[e.Ref().String()]))
			}
			// A worker reuses its input from entity to entity.
			for _, workers := range []int{1, 2} {
				ev := NewEvaluator([]*Scorecard{c}, nil, facts)
				ev.workers = workers
				results, err := ev.evaluateAll(context.Background(), c, tt.ents, ev.factsOf)
				if err != nil || len(results) != len(tt.ents) {
					t.Fatalf("evaluateAll: %d results, %v", len(results), err)
				}
				for _, r := range results {
					check(fmt.Sprintf("%d workers", workers), r)
				}
			}
		})
	}
}

// exampleRules are the rules of the example scorecards, as one list.
func exampleRules(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, c := range loadExamples(t) {
		for _, r := range c.Rules {
			fmt.Fprintf(&b, "    - {id: %s-%s, level: %s, weight: %g, expr: %q}\n", c.ID, r.ID, c.Levels[r.Level], r.Weight, r.Expr)
		}
	}
	return b.String()
}
