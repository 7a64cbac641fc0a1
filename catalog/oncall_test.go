package catalog

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The paging annotations of the owner group reach the ownership answer,
// which the on-call sources read.
func TestOwnershipCarriesOwnersPagingAnnotations(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	yaml := `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: sre
  annotations: {opsgenie.com/schedule: SRE_Primary, pagerduty.com/integration-key: secret-ish}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: gateway}
spec: {type: service, lifecycle: production, owner: sre}
`
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Ingest(ctx, "t", []string{filepath.Join(dir, "c.yaml")}); err != nil {
		t.Fatal(err)
	}
	o, err := s.WhoOwns(ctx, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	if o.OnCall[AnnotationOpsgenieSchedule] != "SRE_Primary" {
		t.Errorf("on-call annotations %v; want the owner's opsgenie.com/schedule", o.OnCall)
	}
	if _, leaked := o.OnCall[AnnotationPagerDutyIntegrationKey]; leaked {
		t.Error("the PagerDuty integration key (a secret) is in the ownership answer")
	}
}
