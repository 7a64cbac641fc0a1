package actions_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/actions/catalogexec"
)

func overlays(t *testing.T, e *env) *catalogexec.Overlays {
	t.Helper()
	o, err := catalogexec.NewOverlays(e.store)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestBadInputsAreRefusedWithUsage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		action string
		params map[string]string
		want   []string // substrings of the error, each a problem
	}{
		{"wrong type", "toggle-maintenance", map[string]string{"service": "payments-api", "enabled": "maybe"},
			[]string{`enabled: "maybe" is not true or false`}},
		{"out of range", "grant-temporary-access", map[string]string{"database": "payments-db", "duration": "10h", "ticket": "INC-1", "reason": "because"},
			[]string{"duration: 10h is out of range: 15m to 8h"}},
		{"not allowed value", "restart-service", map[string]string{"service": "payments-api", "env": "prdo", "reason": "restart it"},
			[]string{`env: "prdo" is not one of staging, prod (did you mean prod?)`}},
		{"unknown entity", "restart-service", map[string]string{"service": "paymnets-api", "reason": "restart it"},
			[]string{`service: no component named "paymnets-api" (did you mean payments-api`}},
		{"wrong kind", "restart-service", map[string]string{"service": "checkout", "reason": "restart it"},
			[]string{`no component named "checkout" (did you mean checkout-`}},
		{"missing required", "restart-service", map[string]string{"env": "prod"},
			[]string{"service: required, not given", "reason: required, not given"}},
		{"unknown input", "restart-service", map[string]string{"service": "payments-api", "reason": "restart it", "evn": "prod"},
			[]string{"evn: unknown input (did you mean env?)"}},
		{"secret pattern", "grant-temporary-access", map[string]string{"database": "payments-db", "ticket": "not-a-ticket-sekrit", "reason": "because"},
			[]string{"ticket: the value does not match the pattern"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.eng.Bind(ctx, tc.action, tc.params)
			var ie *actions.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Bind = %v; want an *InputError", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if len(ie.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d: %v", len(ie.Problems), len(tc.want), ie.Problems)
			}
			if !strings.Contains(msg, "usage: "+tc.action) || len(ie.Help) == 0 {
				t.Errorf("no usage in %q", msg)
			}
			if strings.Contains(msg, "sekrit") {
				t.Errorf("secret value repeated: %q", msg)
			}
		})
	}
	if runs, err := e.eng.List(ctx, actions.RunFilter{}, 0); err != nil || len(runs) != 0 {
		t.Errorf("runs after refused inputs = %v, %v", runs, err)
	}
	if e.recv.total() != 0 || len(e.note.msgs) != 0 {
		t.Error("something was posted for refused inputs")
	}
	if _, err := e.eng.Bind(ctx, "restart-servcie", nil); !errors.Is(err, actions.ErrUnknownAction) || !strings.Contains(err.Error(), "did you mean restart-service") {
		t.Errorf("unknown action: %v", err)
	}
}

func TestListAndAvailable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r1 := e.request(carmen, "restart-service", restartParams)
	r2 := e.request(dmitri, "grant-temporary-access", grantParams)
	mine, err := e.eng.List(ctx, actions.RunFilter{Requester: "carmen.ortiz"}, 0)
	if err != nil || len(mine) != 1 || mine[0].ID != r1.ID {
		t.Errorf("mine = %v, %v", mine, err)
	}
	open, err := e.eng.List(ctx, actions.RunFilter{Open: true}, 0)
	if err != nil || len(open) != 2 {
		t.Errorf("open = %v, %v", open, err)
	}
	_ = r2
	av, err := e.eng.Available(ctx, dmitri)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, a := range av {
		got[a.Action.ID] = a.ForTargets
	}
	if forTargets, ok := got["grant-temporary-access"]; !ok || forTargets {
		t.Errorf("available to dmitri = %v", got)
	}
	if forTargets := got["restart-service"]; !forTargets {
		t.Errorf("restart-service should be available for owned targets: %v", got)
	}
}
