package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/integrationstest"
	"github.com/idpbot/idpbot/scoring"
)

var testNow = time.Date(2025, 3, 10, 14, 0, 0, 0, time.UTC)

// The scorecards' fact store is what cmd passes as Options.Facts.
var _ FactSink = (*scoring.FactStore)(nil)

// logBuffer collects a Source's logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is one test's catalog, mirror and fake GitHub.
type env struct {
	t      *testing.T
	fake   *fakeGitHub
	store  *catalog.Store
	mirror string
	sleeps *integrationstest.Sleeps
	logs   *logBuffer
}

func newEnv(t *testing.T, prefix string) *env {
	t.Helper()
	ctx := context.Background()
	store, err := catalog.Open(ctx, t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &env{t: t, fake: newFake(t, prefix), store: store, mirror: filepath.Join(t.TempDir(), "github"),
		sleeps: &integrationstest.Sleeps{}, logs: &logBuffer{}}
}

func (e *env) config() Config {
	return Config{BaseURL: e.fake.baseURL(), Token: "ghp_testtoken0123456789", Orgs: []string{"northwind"}}
}

func (e *env) source(cfg Config, adjust ...func(*Options)) *Source {
	e.t.Helper()
	opts := Options{Store: e.store, MirrorDir: e.mirror, Now: func() time.Time { return testNow },
		Sleep: e.sleeps.Sleep, Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, a := range adjust {
		a(&opts)
	}
	s, err := New(cfg, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) sync(s *Source) *SyncReport {
	e.t.Helper()
	rep, err := s.Sync(context.Background())
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	return rep
}

func (e *env) entity(ref string) *catalog.Entity {
	e.t.Helper()
	ent, err := e.store.Get(context.Background(), ref)
	if err != nil {
		e.t.Fatalf("get %s: %v", ref, err)
	}
	return ent
}

func (e *env) gone(ref string) {
	e.t.Helper()
	if _, err := e.store.Get(context.Background(), ref); !errors.Is(err, catalog.ErrNotFound) {
		e.t.Errorf("%s: want not found, got %v", ref, err)
	}
}

func component(name, desc string) string {
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
  description: %s
spec:
  type: service
  lifecycle: production
  owner: team-payments
`, name, desc)
}

const paymentsCatalog = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  description: Takes card payments.
spec:
  type: service
  lifecycle: production
  owner: team-payments
  providesApis: [payments-api]
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: payments-apis
spec:
  targets:
    - ./apis/payments-api.yaml
`

const paymentsAPI = `apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: payments-api
  description: Charges cards.
spec:
  type: openapi
  lifecycle: production
  owner: team-payments
  definition:
    $text: ./openapi.yaml
`

const paymentsOpenAPI = "openapi: 3.0.0\ninfo:\n  title: Payments\n  version: 1.0.0\npaths: {}\n"

// northwind fills the fake with an organisation: a repository with a
// Location and a placeholder, one with a plain catalog file, one with
// Location globs, one without a catalog file, an archived and an excluded
// one.
func (e *env) northwind() (payments, checkout *fakeRepo) {
	f := e.fake
	payments = f.addOrgRepo(&fakeRepo{owner: "northwind", name: "payments", license: "Apache-2.0", protected: true,
		lastCommit: testNow.Add(-12*24*time.Hour - time.Hour), files: map[string]string{
			"catalog-info.yaml":         paymentsCatalog,
			"apis/payments-api.yaml":    paymentsAPI,
			"apis/openapi.yaml":         paymentsOpenAPI,
			"README.md":                 "# Payments\n",
			".github/CODEOWNERS":        "* @northwind/team-payments\n",
			"src/main.go":               "package main\n",
			"apis/unreferenced-ok.yaml": component("not-referenced", "Never fetched."),
		}})
	checkout = f.addOrgRepo(&fakeRepo{owner: "northwind", name: "checkout", lastCommit: testNow.Add(-time.Hour), files: map[string]string{
		"catalog-info.yaml": component("checkout", "Takes orders."),
		"docs/CODEOWNERS":   "* @northwind/team-checkout\n",
	}})
	f.addOrgRepo(&fakeRepo{owner: "northwind", name: "platform", files: map[string]string{
		"catalog-info.yaml":    "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: systems\nspec:\n  target: ./systems/*.yaml\n",
		"systems/billing.yaml": "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: billing\nspec:\n  owner: team-payments\n",
		"systems/orders.yaml":  "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: orders\nspec:\n  owner: team-payments\n",
		"systems/notes.txt":    "not a descriptor\n",
	}})
	f.addOrgRepo(&fakeRepo{owner: "northwind", name: "no-catalog", files: map[string]string{"README.md": "# nothing\n"}})
	f.addOrgRepo(&fakeRepo{owner: "northwind", name: "legacy", archived: true, files: map[string]string{
		"catalog-info.yaml": component("legacy", "Old."),
	}})
	f.addOrgRepo(&fakeRepo{owner: "northwind", name: "sandbox-tools", files: map[string]string{
		"catalog-info.yaml": component("sandbox", "Playground."),
	}})
	return payments, checkout
}

func contentsRequests(reqs []seenRequest, suffix string) []seenRequest {
	var out []seenRequest
	for _, r := range reqs {
		if strings.Contains(r.Path, "/contents/") && strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

func TestSyncDiscoversIngestsAndRemoves(t *testing.T) {
	e := newEnv(t, "")
	payments, checkout := e.northwind()
	cfg := e.config()
	cfg.Exclude = []string{"sandbox-*"}
	s := e.source(cfg)

	t.Run("first sync ingests every repository with a catalog file", func(t *testing.T) {
		rep := e.sync(s)
		if rep.Repos != 4 || rep.WithCatalog != 3 || rep.Ingested != 3 || rep.Unchanged != 0 || !rep.Changed {
			t.Errorf("report: %+v", rep)
		}
		if rep.RateRemaining != 4321 || rep.Requests == 0 {
			t.Errorf("rate remaining %d, requests %d", rep.RateRemaining, rep.Requests)
		}
		reqs := e.fake.requests()
		pages := map[string]bool{}
		for _, r := range reqs {
			if strings.HasSuffix(r.Path, "/orgs/northwind/repos") {
				pages[r.Query] = true
			}
			if strings.Contains(r.Path, "unreferenced") || strings.Contains(r.Path, "src/") {
				t.Errorf("fetched %s, which nothing (inside the repository) refers to", r.Path)
			}
			if r.Auth != "Bearer ghp_testtoken0123456789" {
				t.Errorf("%s sent Authorization %q", r.Path, r.Auth)
			}
		}
		if len(pages) != 3 { // 6 repositories, 2 a page
			t.Errorf("listing pages requested: %v", pages)
		}

		c := e.entity("component:default/payments")
		if got := c.Metadata.Annotations[AnnotationProjectSlug]; got != "northwind/payments" {
			t.Errorf("project slug %q", got)
		}
		wantLoc := "url:" + e.fake.htmlURL("northwind", "payments") + "/blob/main/catalog-info.yaml"
		if got := c.Metadata.Annotations[catalog.AnnotationManagedByLocation]; got != wantLoc {
			t.Errorf("managed-by-location %q, want %q", got, wantLoc)
		}
		api := e.entity("api:default/payments-api")
		if def, _ := api.Spec["definition"].(string); def != paymentsOpenAPI {
			t.Errorf("definition %q, want the $text file", def)
		}
		if got := api.Metadata.Annotations[catalog.AnnotationManagedByLocation]; !strings.HasSuffix(got, "/blob/main/apis/payments-api.yaml") {
			t.Errorf("API location %q", got)
		}
		e.entity("component:default/checkout")
		e.entity("system:default/billing")
		e.entity("system:default/orders")
		e.gone("component:default/legacy")
		e.gone("component:default/sandbox")
		e.gone("component:default/not-referenced")
		if _, err := os.Stat(filepath.Join(e.mirror, "northwind", "payments", "apis", "openapi.yaml")); err != nil {
			t.Errorf("mirror: %v", err)
		}
	})

	t.Run("second sync is all 304s and ingests nothing", func(t *testing.T) {
		rep := e.sync(s)
		if rep.Ingested != 0 || rep.Unchanged != 3 || rep.Changed || rep.NotModified == 0 {
			t.Errorf("report: %+v", rep)
		}
		reqs := e.fake.requests()
		cat := contentsRequests(reqs, "/catalog-info.yaml")
		if len(cat) != 4 {
			t.Fatalf("%d catalog file requests, want 4", len(cat))
		}
		for _, r := range cat {
			if r.Path != "/repos/northwind/no-catalog/contents/catalog-info.yaml" && (r.IfNoneMatch == "" || r.Status != 304) {
				t.Errorf("%s: If-None-Match %q, status %d; want a conditional request answered 304", r.Path, r.IfNoneMatch, r.Status)
			}
		}
		for _, r := range reqs {
			if strings.HasSuffix(r.Path, "/repos") && r.IfNoneMatch == "" {
				t.Errorf("listing %s?%s was not conditional", r.Path, r.Query)
			}
		}
	})

	t.Run("a changed file is re-ingested", func(t *testing.T) {
		e.fake.update(func() { checkout.files["catalog-info.yaml"] = component("checkout", "Takes orders and refunds.") })
		rep := e.sync(s)
		if rep.Ingested != 1 || rep.Unchanged != 2 || !rep.Changed {
			t.Errorf("report: %+v", rep)
		}
		if got := e.entity("component:default/checkout").Metadata.Description; got != "Takes orders and refunds." {
			t.Errorf("description %q", got)
		}
	})

	t.Run("a repository that loses its catalog file loses its entities", func(t *testing.T) {
		e.fake.update(func() { delete(payments.files, "catalog-info.yaml") })
		rep := e.sync(s)
		if rep.Removed != 1 || rep.WithCatalog != 2 || !rep.Changed {
			t.Errorf("report: %+v", rep)
		}
		e.gone("component:default/payments")
		e.gone("api:default/payments-api")
		e.entity("component:default/checkout")
		if _, err := os.Stat(filepath.Join(e.mirror, "northwind", "payments")); !os.IsNotExist(err) {
			t.Errorf("mirror of a removed repository: %v", err)
		}
		if rep := e.sync(s); rep.Removed != 0 || rep.Changed {
			t.Errorf("removal repeated: %+v", rep)
		}
	})

	t.Run("an excluded repository loses its entities", func(t *testing.T) {
		cfg := cfg
		cfg.Exclude = append(cfg.Exclude, "platform")
		rep := e.sync(e.source(cfg))
		if rep.Removed != 1 {
			t.Errorf("report: %+v", rep)
		}
		e.gone("system:default/billing")
	})

	t.Run("after a restart the persisted ETags keep the sync cheap", func(t *testing.T) {
		e.fake.requests()
		rep := e.sync(e.source(cfg))
		if rep.Ingested != 1 { // platform is back
			t.Errorf("report: %+v", rep)
		}
		rep = e.sync(e.source(cfg))
		if rep.Ingested != 0 || rep.Unchanged != 2 {
			t.Errorf("report: %+v", rep)
		}
		for _, r := range contentsRequests(e.fake.requests(), "/catalog-info.yaml") {
			if strings.Contains(r.Path, "/checkout/") && r.Status != 304 {
				t.Errorf("%s after restart: status %d, want 304", r.Path, r.Status)
			}
		}
	})
}

func TestSyncEnterpriseAndUserAccount(t *testing.T) {
	e := newEnv(t, "/api/v3")
	e.fake.addUserRepo(&fakeRepo{owner: "octo-user", name: "dotfiles", files: map[string]string{
		"catalog-info.yaml": component("dotfiles", "Shell setup."),
	}})
	cfg := e.config()
	cfg.Orgs = []string{"octo-user"}
	rep := e.sync(e.source(cfg))
	if rep.Repos != 1 || rep.Ingested != 1 {
		t.Errorf("report: %+v", rep)
	}
	c := e.entity("component:default/dotfiles")
	want := "url:" + e.fake.htmlURL("octo-user", "dotfiles") + "/blob/main/catalog-info.yaml"
	if got := c.Metadata.Annotations[catalog.AnnotationManagedByLocation]; got != want {
		t.Errorf("location %q, want %q", got, want)
	}
	var sawOrg bool
	for _, r := range e.fake.requests() {
		if !strings.HasPrefix(r.Path, "/api/v3/") {
			t.Errorf("request outside the Enterprise API path: %s", r.Path)
		}
		sawOrg = sawOrg || r.Path == "/api/v3/orgs/octo-user/repos"
	}
	if !sawOrg {
		t.Error("the organisation listing was not tried first")
	}
}

func TestSyncPushesFacts(t *testing.T) {
	e := newEnv(t, "")
	e.northwind()
	// An entity from another source pointing at the same repository, with
	// the slug in another case.
	dir := t.TempDir()
	other := strings.Replace(component("checkout-worker", "Works the queue."), "metadata:\n", "metadata:\n  annotations:\n    github.com/project-slug: Northwind/Checkout\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "worker.yaml"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Ingest(context.Background(), "file:worker", []string{dir}); err != nil {
		t.Fatal(err)
	}
	st, err := e.store.State("facts")
	if err != nil {
		t.Fatal(err)
	}
	facts := scoring.NewFactStore(st)
	s := e.source(e.config(), func(o *Options) { o.Facts = facts })
	rep := e.sync(s)
	// payments: component and API; checkout: its component and the worker;
	// platform: two systems; sandbox-tools: its component.
	if rep.FactsPushed != 7 {
		t.Errorf("facts pushed to %d entities, want 7", rep.FactsPushed)
	}
	tests := []struct {
		ref  string
		want map[string]any
	}{
		{"component:default/payments", map[string]any{FactBranchProtection: true, FactCodeowners: true, FactReadme: true, FactLicense: "Apache-2.0", FactLastCommitDays: 12.0}},
		{"api:default/payments-api", map[string]any{FactBranchProtection: true, FactLicense: "Apache-2.0"}},
		{"component:default/checkout", map[string]any{FactBranchProtection: false, FactCodeowners: true, FactReadme: false, FactLicense: "", FactLastCommitDays: 0.0}},
		{"component:default/checkout-worker", map[string]any{FactBranchProtection: false, FactCodeowners: true}},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			got, err := facts.Facts(context.Background(), tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.want {
				f, ok := got[name]
				if !ok || f.Value != want || f.Source != "github" || !f.At.Equal(testNow) {
					t.Errorf("%s = %+v (present %v), want %v from github at %s", name, f, ok, want, testNow)
				}
			}
		})
	}
	e.fake.requests()
	rep = e.sync(s)
	if rep.FactsPushed != 7 {
		t.Errorf("second sync pushed %d", rep.FactsPushed)
	}
	for _, r := range e.fake.requests() {
		if strings.Contains(r.Path, "/branches/") && r.Status != 304 {
			t.Errorf("%s: status %d, want a 304 for an unchanged branch", r.Path, r.Status)
		}
	}
}

func TestSyncCatalogPathInADotDirectory(t *testing.T) {
	e := newEnv(t, "")
	e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "hidden", files: map[string]string{
		".backstage/catalog-info.yaml": component("hidden", "Lives in a dot directory.") + "  definition: {$text: ../README.md}\n",
		"README.md":                    "# Hidden\n",
	}})
	cfg := e.config()
	cfg.CatalogPath = ".backstage/catalog-info.yaml"
	if rep := e.sync(e.source(cfg)); rep.Ingested != 1 {
		t.Errorf("report: %+v", rep)
	}
	c := e.entity("component:default/hidden")
	if got := c.Metadata.Annotations[catalog.AnnotationManagedByLocation]; !strings.HasSuffix(got, "/blob/main/.backstage/catalog-info.yaml") {
		t.Errorf("location %q", got)
	}
	if got, _ := c.Spec["definition"].(string); got != "# Hidden\n" {
		t.Errorf("definition %q", got)
	}
}
