package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

var exampleCatalog = filepath.Join("..", "..", "deploy", "examples", "catalog", "all.yaml")

// idpbot runs the command line in-process and returns exit code and output.
func idpbot(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCatalogCommands(t *testing.T) {
	data := t.TempDir()
	code, out, stderr := idpbot(t, "--data-dir", data, "catalog", "ingest", exampleCatalog)
	if code != 0 || !strings.Contains(out, "0 errors") {
		t.Fatalf("ingest: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = idpbot(t, "--data-dir", data, "catalog", "who-owns", "payments-api")
	if code != 0 || !strings.Contains(out, "Owner:    Payments Team (group:default/payments)") ||
		!strings.Contains(out, "runbooks.northwind.example") || !strings.Contains(out, "C04PAYMENTS") {
		t.Errorf("who-owns: exit %d\n%s", code, out)
	}
	code, out, _ = idpbot(t, "--data-dir", data, "-o", "json", "catalog", "who-owns", "ledger")
	var o struct {
		Owner struct{ Ref string } `json:"owner"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &o) != nil || o.Owner.Ref != "group:default/payments" {
		t.Errorf("who-owns -o json: exit %d\n%s", code, out)
	}
	code, _, stderr = idpbot(t, "--data-dir", data, "catalog", "who-owns", "ledgr")
	if code != 1 || !strings.Contains(stderr, "did you mean") || !strings.Contains(stderr, "component:default/ledger") {
		t.Errorf("who-owns of a typo: exit %d\n%s", code, stderr)
	}
	code, _, stderr = idpbot(t, "--data-dir", data, "catalog", "show", "payments")
	if code != 1 || !strings.Contains(stderr, "matches several entities") || !strings.Contains(stderr, "system:default/payments") {
		t.Errorf("show of an ambiguous name: exit %d\n%s", code, stderr)
	}
	code, out, _ = idpbot(t, "--data-dir", data, "catalog", "search", "fraud")
	if code != 0 || !strings.Contains(out, "component:default/fraud-detector") {
		t.Errorf("search: exit %d\n%s", code, out)
	}
	code, out, _ = idpbot(t, "--data-dir", data, "catalog", "list", "--filter", "kind=system")
	if code != 0 || !strings.Contains(out, "3 entities") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, _ = idpbot(t, "--data-dir", data, "catalog", "check")
	if code != 0 || !strings.Contains(out, "no dangling relations") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
	code, out, _ = idpbot(t, "--data-dir", data, "catalog", "reindex")
	if code != 0 || !strings.Contains(out, "reindexed") {
		t.Errorf("reindex: exit %d\n%s", code, out)
	}
}

func TestValidateExitCodes(t *testing.T) {
	code, out, _ := idpbot(t, "catalog", "validate", exampleCatalog)
	if code != 0 || !strings.Contains(out, "0 errors, 0 warnings") {
		t.Errorf("validate example: exit %d\n%s", code, out)
	}
	invalid := filepath.Join("..", "..", "catalog", "testdata", "backstage", "backstage-examples", "components", "invalid-component.yaml")
	code, out, _ = idpbot(t, "catalog", "validate", invalid)
	if code != 1 || !strings.Contains(out, "invalid-component.yaml:4:9: error") || !strings.Contains(out, "2 errors") {
		t.Errorf("validate invalid: exit %d\n%s", code, out)
	}
	code, out, _ = idpbot(t, "-o", "json", "catalog", "validate", invalid)
	var rep struct {
		Problems []struct{ Line int }
	}
	if code != 1 || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Problems) != 2 {
		t.Errorf("validate -o json: exit %d\n%s", code, out)
	}
	code, _, stderr := idpbot(t, "catalog", "validate", "does-not-exist.yaml")
	if code != 1 || !strings.Contains(stderr, "does-not-exist.yaml") {
		t.Errorf("validate of a missing path: exit %d\n%s", code, stderr)
	}
	code, _, stderr = idpbot(t, "-o", "yaml", "catalog", "validate", exampleCatalog)
	if code != 1 || !strings.Contains(stderr, "use text or json") {
		t.Errorf("bad --output: exit %d\n%s", code, stderr)
	}
}
