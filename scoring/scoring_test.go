package scoring

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

var examples = filepath.Join("..", "deploy", "examples")

func exampleCatalog(t testing.TB) *catalog.Store {
	t.Helper()
	ctx := context.Background()
	s, err := catalog.Open(ctx, t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Ingest(ctx, "examples", []string{filepath.Join(examples, "catalog", "all.yaml")}); err != nil {
		t.Fatal(err)
	}
	return s
}

func loadExamples(t testing.TB) []*Scorecard {
	t.Helper()
	cards, problems, err := Load([]string{filepath.Join(examples, "scorecards")})
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("example scorecards have problems: %v", problems)
	}
	return cards
}

// staticFacts is a fact source with fixed facts (what a pipeline pushed).
type staticFacts map[string]Facts

func (s staticFacts) Facts(_ context.Context, ref string) (Facts, error) { return s[ref], nil }

func TestExampleScorecards(t *testing.T) {
	cards := loadExamples(t)
	if len(cards) != 2 || cards[0].ID != "api-hygiene" || cards[1].ID != "production-readiness" {
		t.Fatalf("loaded %d scorecards", len(cards))
	}
	store := exampleCatalog(t)
	facts := staticFacts{"component:default/payments-api": {"coverage": {Value: 91, Source: "ci"}}}
	ev := NewEvaluator(cards, store, facts)
	ctx := context.Background()

	e, results, err := ev.Entity(ctx, "payments-api")
	if err != nil || e.Metadata.Name != "payments-api" || len(results) != 1 {
		t.Fatalf("Entity(payments-api) = %v, %d results, %v", e, len(results), err)
	}
	r := results[0]
	if r.LevelName() != "Gold" || r.Score != 100 {
		t.Errorf("payments-api: %s %.1f; want Gold 100 (it has everything, coverage 91)", r.LevelName(), r.Score)
		for _, rr := range r.Rules {
			t.Logf("  %s: %s %s", rr.Rule.ID, rr.Outcome, rr.Reason)
		}
	}
	// Without the coverage fact the Gold rule errors, and says why.
	_, results, err = ev.Entity(ctx, "payments-gateway")
	if err != nil {
		t.Fatal(err)
	}
	r = results[0]
	var cov RuleResult
	for _, rr := range r.Rules {
		if rr.Rule.ID == "test-coverage" {
			cov = rr
		}
	}
	if cov.Outcome != Error || !strings.Contains(cov.Reason, `no fact "coverage"`) {
		t.Errorf("test-coverage without facts: %s %q", cov.Outcome, cov.Reason)
	}
	if r.LevelName() == "Gold" {
		t.Error("payments-gateway reached Gold without a coverage fact")
	}
	if b := r.Blocking(); r.LevelName() == "Silver" && (len(b) == 0 || b[0].Rule.Level != 2) {
		t.Errorf("blocking rules for Gold: %+v", b)
	}

	rep, err := ev.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prod := rep.Results["production-readiness"]
	if len(prod) < 10 {
		t.Errorf("production-readiness scored %d services", len(prod))
	}
	teams := rep.Teams["production-readiness"]
	byRef := map[string]*TeamResult{}
	for _, tr := range teams {
		byRef[tr.Team] = tr
	}
	pay, prodEng, root := byRef["group:default/payments"], byRef["group:default/product-engineering"], byRef["group:default/northwind"]
	if pay == nil || prodEng == nil || root == nil {
		t.Fatalf("team results lack payments, product-engineering or northwind: %v", teams)
	}
	if prodEng.Entities <= pay.Entities || root.Entities != len(prod) {
		t.Errorf("roll-up: payments %d, product-engineering %d, northwind %d of %d services", pay.Entities, prodEng.Entities, root.Entities, len(prod))
	}
	for i := 1; i < len(teams); i++ {
		if teams[i].Score > teams[i-1].Score {
			t.Errorf("teams not sorted by score: %v then %v", teams[i-1], teams[i])
		}
	}
}

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "card.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const cardHead = `apiVersion: idpbot.dev/v1alpha1
kind: Scorecard
metadata: {name: t}
spec:
  levels: [Bronze, Silver, Gold]
  rules:
`

func card(t *testing.T, rules string) *Scorecard {
	t.Helper()
	cards, problems, err := Load([]string{write(t, cardHead+rules)})
	if err != nil || len(problems) > 0 || len(cards) != 1 {
		t.Fatalf("load: %d cards, %v, %v", len(cards), problems, err)
	}
	return cards[0]
}

func entity(name string, spec map[string]any) *catalog.Entity {
	return &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component",
		Metadata: catalog.Metadata{Name: name, Namespace: "default"}, Spec: spec}
}

func TestLevelsAreCumulative(t *testing.T) {
	c := card(t, `
    - {id: b1, level: Bronze, expr: "has(entity.spec.owner)"}
    - {id: s1, level: Silver, expr: "has(entity.spec.system)"}
    - {id: g1, level: Gold, expr: "has(entity.spec.lifecycle)"}
`)
	tests := []struct {
		name  string
		spec  map[string]any
		level string
	}{
		{"nothing", map[string]any{}, ""},
		{"bronze", map[string]any{"owner": "a"}, "Bronze"},
		{"silver", map[string]any{"owner": "a", "system": "s"}, "Silver"},
		{"gold", map[string]any{"owner": "a", "system": "s", "lifecycle": "production"}, "Gold"},
		// Gold and Silver rules pass, but a failing Bronze rule caps the level.
		{"capped by bronze", map[string]any{"system": "s", "lifecycle": "production"}, ""},
		{"capped by silver", map[string]any{"owner": "a", "lifecycle": "production"}, "Bronze"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Evaluate(entity("x", tt.spec), nil).LevelName(); got != tt.level {
				t.Errorf("level %q, want %q", got, tt.level)
			}
		})
	}
}

func TestWeightsAndOutcomes(t *testing.T) {
	c := card(t, `
    - {id: heavy, level: Bronze, weight: 3, expr: "has(entity.spec.owner)"}
    - {id: light, level: Bronze, expr: "has(entity.spec.system)"}
    - {id: fact, level: Silver, weight: 2, expr: "facts.coverage >= 80"}
    - {id: typed, level: Gold, expr: "entity.spec.replicas > 2"}
`)
	r := c.Evaluate(entity("x", map[string]any{"owner": "a", "replicas": "three"}), Facts{"coverage": {Value: 85}})
	// heavy (3) + fact (2) pass, light (1) fails, typed errors (1): 5 of 7.
	if want := 100 * 5.0 / 7.0; r.Score < want-0.01 || r.Score > want+0.01 {
		t.Errorf("score %.2f, want %.2f", r.Score, want)
	}
	got := map[string]Outcome{}
	for _, rr := range r.Rules {
		got[rr.Rule.ID] = rr.Outcome
		if rr.Outcome == Error && rr.Reason == "" {
			t.Errorf("%s errored without a reason", rr.Rule.ID)
		}
	}
	if got["heavy"] != Pass || got["light"] != Fail || got["fact"] != Pass || got["typed"] != Error {
		t.Errorf("outcomes %v", got)
	}
	r = c.Evaluate(entity("x", map[string]any{"owner": "a", "system": "s"}), nil)
	if r.Rules[2].Outcome != Error || !strings.Contains(r.Rules[2].Reason, `no fact "coverage"`) {
		t.Errorf("missing fact: %s %q", r.Rules[2].Outcome, r.Rules[2].Reason)
	}
	if r.LevelName() != "Bronze" {
		t.Errorf("level %q with a missing Silver fact, want Bronze", r.LevelName())
	}
}

func TestLoadReportsProblems(t *testing.T) {
	tests := []struct {
		name, rules string
		want        []string
	}{
		{"syntax", `    - {id: r1, level: Bronze, expr: "has(entity.spec.owner"}`, []string{"card.yaml:7:", "spec.rules[r1].expr", "Syntax error"}},
		{"not boolean", `    - {id: r1, level: Bronze, expr: "entity.metadata.tags.size()"}`, []string{"spec.rules[r1].expr", "must give true or false"}},
		{"unknown field", `    - {id: r1, level: Bronze, expr: "entity.metdata.name == 'x'"}`, []string{"unknown field entity.metdata"}},
		{"unknown metadata field", `    - {id: r1, level: Bronze, expr: "has(entity.metadata.owner)"}`, []string{"unknown field entity.metadata.owner"}},
		{"unknown variable", `    - {id: r1, level: Bronze, expr: "service.owner == 'x'"}`, []string{"undeclared reference to 'service'"}},
		{"unknown level", `    - {id: r1, level: Platinum, expr: "true"}`, []string{`unknown level "Platinum"`, "use one of Bronze, Silver, Gold"}},
		{"duplicate id", "    - {id: r1, level: Bronze, expr: \"true\"}\n    - {id: r1, level: Bronze, expr: \"true\"}", []string{`rule id "r1" is used twice`}},
		{"typo key", `    - {id: r1, level: Bronze, wieght: 2, expr: "true"}`, []string{`unknown key "wieght"`}},
		{"bad weight", `    - {id: r1, level: Bronze, weight: -1, expr: "true"}`, []string{"invalid weight"}},
		{"missing expr", `    - {id: r1, level: Bronze}`, []string{"spec.rules[r1].expr is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cards, problems, err := Load([]string{write(t, cardHead+tt.rules+"\n")})
			if err != nil {
				t.Fatal(err)
			}
			if len(cards) != 0 {
				t.Errorf("a scorecard with errors was loaded")
			}
			var all []string
			for _, p := range problems {
				all = append(all, p.String())
			}
			text := strings.Join(all, "\n")
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("problems lack %q:\n%s", w, text)
				}
			}
		})
	}
	_, problems, _ := Load([]string{write(t, "apiVersion: idpbot.dev/v1alpha1\nkind: Scorecard\nmetadata: {name: t}\nspec: {levels: [A], rules: [{id: r, level: A, expr: 'true'}]\n")})
	if len(problems) == 0 || !strings.Contains(problems[0].Message, "invalid YAML") {
		t.Errorf("malformed YAML: %v", problems)
	}
	if _, _, err := Load([]string{"no/such/dir"}); err == nil {
		t.Error("a missing path is not an error")
	}
}

// perRefFacts hides FactStore.AllFacts: facts are read one entity at a time.
type perRefFacts struct{ fs *FactStore }

func (p perRefFacts) Facts(ctx context.Context, ref string) (Facts, error) {
	return p.fs.Facts(ctx, ref)
}

// A full evaluation reads every fact in one scan (FactStore.AllFacts) and
// scores exactly as reading them entity by entity does.
func TestRunReadsFactsInOneScan(t *testing.T) {
	ctx := context.Background()
	cards := loadExamples(t)
	store := exampleCatalog(t)
	st, err := store.State("facts")
	if err != nil {
		t.Fatal(err)
	}
	fs := NewFactStore(st)
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for ref, facts := range map[string]map[string]any{
		"component:default/payments-api":     {"coverage": 91.0, "deploys_per_week": 7.0},
		"component:default/payments-gateway": {"coverage": 42.0},
		"component:default/ledger":           {"coverage": 88.0, "on_call_tested": true},
	} {
		if err := fs.Push(ctx, ref, "ci", now, facts); err != nil {
			t.Fatal(err)
		}
	}
	all, err := fs.AllFacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all["component:default/payments-api"]["deploys_per_week"].Value != 7.0 {
		t.Fatalf("AllFacts = %v", all)
	}
	bulk, err := NewEvaluator(cards, store, fs).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	one, err := NewEvaluator(cards, store, perRefFacts{fs}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range one.Results {
		got := bulk.Results[id]
		if len(got) != len(want) {
			t.Fatalf("%s: %d results with the scan, %d one by one", id, len(got), len(want))
		}
		for i := range want {
			if got[i].Entity != want[i].Entity || got[i].Score != want[i].Score || got[i].Level != want[i].Level {
				t.Errorf("%s %s: scan %v/%v, one by one %v/%v", id, want[i].Entity, got[i].Score, got[i].Level, want[i].Score, want[i].Level)
			}
		}
	}
}
