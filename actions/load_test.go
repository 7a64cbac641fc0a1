package actions_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/actions/githubwf"
	"github.com/idpbot/idpbot/actions/webhook"
)

func TestExampleActionsLoad(t *testing.T) {
	acts, ps, err := actions.Load([]string{filepath.Join(repoRoot(t), "deploy", "examples", "actions")})
	if err != nil || len(ps) != 0 {
		t.Fatalf("Load = %v, %v", ps, err)
	}
	if len(acts) != 4 {
		t.Fatalf("%d actions", len(acts))
	}
	reg := actions.Registry{"webhook": webhook.NewFactory(webhook.Options{}), "catalog": checkOnlyCatalog{}, githubwf.Type: githubwf.NewFactory(githubwf.Options{})}
	if ps := reg.Check(acts); len(ps) != 0 {
		t.Errorf("Registry.Check = %v", ps)
	}
	g := acts[0]
	if g.ID != "grant-temporary-access" || g.Approval.Required != 2 || g.Approval.ExpiresAfter != 2*time.Hour ||
		!g.Input("ticket").Secret || g.Input("duration").Default != "1h" || g.Approval.Approvers.Groups[0] != "group:default/sre" {
		t.Errorf("grant-temporary-access = %+v", g)
	}
	if u := acts[1].Usage(); u != "restart-service service=<component> [env=staging|prod] reason=<text>" {
		t.Errorf("usage = %q", u)
	}
	// Building needs the environment: an unset variable names the key.
	_, ps = reg.Build(acts[:1])
	if len(ps) != 1 || ps[0].Path != "spec.executor.url" || !strings.Contains(ps[0].Message, "ACCESS_TENANT is not set") || ps[0].Line == 0 {
		t.Errorf("Build problems = %v", ps)
	}
}

// checkOnlyCatalog stands in for the catalog executor in checks.
type checkOnlyCatalog struct{}

func (checkOnlyCatalog) Check(*actions.Action) error                   { return nil }
func (checkOnlyCatalog) New(*actions.Action) (actions.Executor, error) { return nil, nil }

func TestLoadProblems(t *testing.T) {
	const head = "apiVersion: idpbot.dev/v1alpha1\nkind: Action\nmetadata: {name: a}\n"
	tests := []struct {
		name, doc, path, msg string
		line                 int
	}{
		{"unknown key", head + "spec:\n  runners: {anyone: true}\n  approval: none\n  executor: {type: webhook}\n  inptus: []\n", "spec.inptus", "unknown key", 8},
		{"bad input type", head + "spec:\n  inputs:\n    - {name: n, type: integer}\n  runners: {anyone: true}\n  approval: none\n  executor: {type: x}\n", "spec.inputs[n].type", "unknown input type", 6},
		{"no approvers", head + "spec:\n  runners: {anyone: true}\n  approval: {required: 2}\n  executor: {type: x}\n", "spec.approval.approvers", "required", 6},
		{"owners without target", head + "spec:\n  runners: {owners: true}\n  approval: none\n  executor: {type: x}\n", "spec.runners", "need a target", 5},
		{"anyone approves", head + "spec:\n  runners: {anyone: true}\n  approval: {approvers: {anyone: true}}\n  executor: {type: x}\n", "spec.approval.approvers.anyone", "no approval", 6},
		{"bad default", head + "spec:\n  inputs:\n    - {name: n, type: number, max: 3, default: 5}\n  runners: {anyone: true}\n  approval: none\n  executor: {type: x}\n", "spec.inputs[n].default", "out of range", 6},
		{"bad expiry", head + "spec:\n  runners: {users: [a]}\n  approval: {approvers: {users: [b]}, expiresAfter: 30d}\n  executor: {type: x}\n", "spec.approval.expiresAfter", "invalid expiresAfter", 6},
		{"missing executor", head + "spec:\n  runners: {anyone: true}\n  approval: none\n", "spec.executor", "required", 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acts, ps := actions.Parse("a.yaml", []byte(tc.doc))
			if len(acts) != 0 || len(ps) == 0 {
				t.Fatalf("Parse = %v, %v; want problems", acts, ps)
			}
			p := ps[0]
			if p.Path != tc.path || !strings.Contains(p.Message, tc.msg) || p.Line != tc.line || p.File != "a.yaml" || p.Entity != "action:a" {
				t.Errorf("problem = %s; want %s at line %d: …%s…", p, tc.path, tc.line, tc.msg)
			}
		})
	}
	// Executor settings are checked by the registry, at the key's line.
	acts, _ := actions.Parse("a.yaml", []byte(head+"spec:\n  runners: {anyone: true}\n  approval: none\n  executor:\n    type: webhook\n    url: https://x.example\n    secret: literal-secret\n"))
	ps := actions.Registry{"webhook": webhook.NewFactory(webhook.Options{})}.Check(acts)
	if len(ps) != 1 || ps[0].Path != "spec.executor.secret" || ps[0].Line != 10 || strings.Contains(ps[0].String(), "literal-secret") {
		t.Errorf("executor problems = %v", ps)
	}
}
