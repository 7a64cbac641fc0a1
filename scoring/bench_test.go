package scoring

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// twentyRules is a scorecard of 20 rules of the kinds people write:
// presence checks, string and list tests, annotation lookups, relation
// scans and facts.
const twentyRules = `apiVersion: idpbot.dev/v1alpha1
kind: Scorecard
metadata: {name: bench}
spec:
  levels: [Bronze, Silver, Gold]
  rules:
    - {id: r01, level: Bronze, expr: "has(entity.spec.owner)"}
    - {id: r02, level: Bronze, expr: "entity.metadata.description.size() >= 20"}
    - {id: r03, level: Bronze, expr: "has(entity.spec.lifecycle) && entity.spec.lifecycle in ['production', 'experimental']"}
    - {id: r04, level: Bronze, expr: "has(entity.spec.type)"}
    - {id: r05, level: Bronze, expr: "entity.metadata.tags.size() > 0"}
    - {id: r06, level: Bronze, expr: "entity.metadata.title != ''"}
    - {id: r07, level: Bronze, expr: "has(entity.spec.system)"}
    - {id: r08, level: Silver, expr: "entity.metadata.links.exists(l, l.type == 'runbook')"}
    - {id: r09, level: Silver, expr: "'pagerduty.com/service-id' in entity.metadata.annotations"}
    - {id: r10, level: Silver, expr: "'github.com/project-slug' in entity.metadata.annotations"}
    - {id: r11, level: Silver, expr: "entity.relations.exists(r, r.type == 'dependsOn')"}
    - {id: r12, level: Silver, expr: "entity.metadata.tags.exists(t, t.startsWith('tier-'))"}
    - {id: r13, level: Silver, expr: "entity.metadata.name.matches('^[a-z][a-z0-9-]*$')"}
    - {id: r14, level: Silver, expr: "!entity.metadata.tags.exists(t, t == 'deprecated')"}
    - {id: r15, level: Gold, expr: "entity.metadata.links.exists(l, l.type == 'dashboard')"}
    - {id: r16, level: Gold, expr: "entity.relations.filter(r, r.type == 'providesApi').size() > 0"}
    - {id: r17, level: Gold, expr: "double(facts.coverage) >= 80.0"}
    - {id: r18, level: Gold, expr: "int(facts.deploys_per_week) >= 5"}
    - {id: r19, level: Gold, expr: "entity.metadata.annotations.exists(k, k.startsWith('backstage.io/'))"}
    - {id: r20, level: Gold, expr: "size(entity.metadata.labels) > 0"}
`

func benchEntities(n int) ([]*catalog.Entity, map[string]Facts) {
	ents := make([]*catalog.Entity, n)
	facts := make(map[string]Facts, n)
	for i := range n {
		name := fmt.Sprintf("svc-%06d", i)
		e := &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component",
			Metadata: catalog.Metadata{
				Name: name, Namespace: "default", Title: strings.ToUpper(name),
				Description: "Service number " + strconv.Itoa(i) + " of the synthetic benchmark catalog.",
				Tags:        []string{"go", "tier-" + strconv.Itoa(i%3)},
				Annotations: map[string]string{"github.com/project-slug": "org/" + name},
				Links:       []catalog.Link{{URL: "https://runbooks.example/" + name, Type: "runbook"}},
			},
			Spec: map[string]any{"type": "service", "owner": fmt.Sprintf("team-%d", i%200), "lifecycle": "production"},
			Relations: []catalog.Relation{
				{Type: "ownedBy", TargetRef: fmt.Sprintf("group:default/team-%d", i%200)},
				{Type: "dependsOn", TargetRef: fmt.Sprintf("component:default/svc-%06d", (i+1)%n)},
			},
		}
		if i%2 == 0 {
			e.Metadata.Annotations["pagerduty.com/service-id"] = "P" + strconv.Itoa(i)
			e.Spec["system"] = "sys-" + strconv.Itoa(i%50)
		}
		ents[i] = e
		if i%3 != 0 {
			facts[e.Ref().String()] = Facts{"coverage": {Value: float64(i % 100)}, "deploys_per_week": {Value: i % 9}}
		}
	}
	return ents, facts
}

// BenchmarkEvaluate20Rules scores IDPBOT_BENCH_N entities (default 100000)
// on a 20-rule scorecard with both cores; one op is one full pass. Target:
// 100k entities × 20 rules in ≤ 2 s.
//
//	go test -run '^$' -bench Evaluate20Rules -benchtime 3x ./scoring/
func BenchmarkEvaluate20Rules(b *testing.B) {
	n := 100000
	if v := os.Getenv("IDPBOT_BENCH_N"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	path := b.TempDir() + "/bench.yaml"
	if err := os.WriteFile(path, []byte(twentyRules), 0o644); err != nil {
		b.Fatal(err)
	}
	cards, problems, err := Load([]string{path})
	if err != nil || len(problems) > 0 {
		b.Fatal(err, problems)
	}
	ents, facts := benchEntities(n)
	ev := NewEvaluator(cards, nil, staticFacts(facts))
	ctx := context.Background()
	var took time.Duration
	for b.Loop() {
		start := time.Now()
		res, err := ev.evaluateAll(ctx, cards[0], ents, ev.factsOf)
		if err != nil || len(res) != n {
			b.Fatal(err)
		}
		took += time.Since(start)
	}
	b.ReportMetric(took.Seconds()/float64(b.N), "s/pass")
	b.ReportMetric(float64(n)*float64(b.N)/took.Seconds(), "entities/s")
}
