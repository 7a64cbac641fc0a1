package catalogexec_test

import (
	"testing"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/actions/catalogexec"
	"github.com/idpbot/idpbot/catalog"
)

func TestOverlayApply(t *testing.T) {
	e := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "a", Annotations: map[string]string{"keep": "1", "drop": "2", "idpbot.dev/maintenance": "false"}}}
	ov := &catalogexec.Overlay{Set: map[string]string{"idpbot.dev/maintenance": "true"}, Removed: []string{"drop"}}
	got := ov.Apply(e)
	if got.Metadata.Annotations["idpbot.dev/maintenance"] != "true" || got.Metadata.Annotations["keep"] != "1" || got.Metadata.Annotations["drop"] != "" {
		t.Errorf("applied = %v", got.Metadata.Annotations)
	}
	if e.Metadata.Annotations["idpbot.dev/maintenance"] != "false" || e.Metadata.Annotations["drop"] != "2" {
		t.Errorf("Apply changed the entity: %v", e.Metadata.Annotations)
	}
}

func TestCheck(t *testing.T) {
	const head = "apiVersion: idpbot.dev/v1alpha1\nkind: Action\nmetadata: {name: m}\nspec:\n  inputs: [{name: svc, type: entity, kind: component}, {name: on, type: boolean}, {name: pw, type: string, secret: true}]\n  runners: {anyone: true}\n  approval: none\n"
	tests := []struct{ name, spec, wantPath string }{
		{"ok", "  target: svc\n  executor: {type: catalog, annotation: idpbot.dev/maintenance, valueFrom: on}\n", ""},
		{"no target", "  executor: {type: catalog, annotation: idpbot.dev/maintenance, value: x}\n", "spec.executor"},
		{"bad key", "  target: svc\n  executor: {type: catalog, annotation: 'not a key!', value: x}\n", "spec.executor.annotation"},
		{"two values", "  target: svc\n  executor: {type: catalog, annotation: a.b/c, value: x, remove: 'true'}\n", "spec.executor.value"},
		{"secret value", "  target: svc\n  executor: {type: catalog, annotation: a.b/c, valueFrom: pw}\n", "spec.executor.valueFrom"},
		{"unknown setting", "  target: svc\n  executor: {type: catalog, annotation: a.b/c, value: x, colour: red}\n", "spec.executor.colour"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acts, ps := actions.Parse("m.yaml", []byte(head+tc.spec))
			if len(acts) != 1 {
				t.Fatal(ps)
			}
			ps = actions.Registry{"catalog": &catalogexec.Factory{}}.Check(acts)
			switch {
			case tc.wantPath == "" && len(ps) != 0:
				t.Errorf("problems = %v", ps)
			case tc.wantPath != "" && (len(ps) != 1 || ps[0].Path != tc.wantPath):
				t.Errorf("problems = %v; want one at %s", ps, tc.wantPath)
			}
		})
	}
}
