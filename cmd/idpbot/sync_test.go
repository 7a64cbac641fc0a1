package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/idpbot/idpbot/integrations/syncer"
)

// The catalog files are a scheduled source: a run reads them again, a
// change reaches the catalog, and a broken file keeps the last good data.
func TestCatalogFilesSync(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	write := func(desc string) {
		t.Helper()
		doc := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: checkout\n  description: " + desc +
			"\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("takes orders")
	cfg := &config{DataDir: t.TempDir(), Catalog: catalogConfig{Paths: []string{dir}, Interval: time.Minute}}
	a, s, logs := startSyncsForTest(t, cfg)
	description := func() string {
		t.Helper()
		e, err := a.store.Get(ctx, "component:checkout")
		if err != nil {
			t.Fatal(err)
		}
		return e.Metadata.Description
	}

	write("takes orders and refunds")
	if err := s.RunNow(ctx, "catalog-files"); err != nil {
		t.Fatal(err)
	}
	if got := description(); got != "takes orders and refunds" {
		t.Errorf("after a sync the description is %q", got)
	}

	if err := os.WriteFile(file, []byte("kind: Component\nmetadata: [broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = s.RunNow(ctx, "catalog-files") // a broken file is a problem of the file, not of the sync
	if got := description(); got != "takes orders and refunds" {
		t.Errorf("a broken file lost the last good data: description %q", got)
	}
	st := s.Status()
	if len(st) != 1 || st[0].Name != "catalog-files" || st[0].Runs != 2 {
		t.Errorf("status: %+v", st)
	}
	if !strings.Contains(logs.String(), `"msg":"sync finished"`) {
		t.Errorf("no sync log:\n%s", logs.String())
	}
}

// startSyncsForTest builds the app of cfg (logs in the returned buffer) and
// its sync jobs on a scheduler that is not started: tests run them with
// RunNow. Both are closed when the test ends.
func startSyncsForTest(t *testing.T, cfg *config) (*app, *syncer.Syncer, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	a, err := newApp(context.Background(), &globals{stderr: logs, stdout: logs}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	sched, err := gocron.NewScheduler()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sched.Shutdown() })
	s, err := a.startSyncs(context.Background(), sched)
	if err != nil {
		t.Fatal(err)
	}
	return a, s, logs
}
