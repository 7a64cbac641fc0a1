package catalog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

const groupA = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
`

func component(name, owner, desc string) string {
	return "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: " + name +
		"\n  description: " + desc + "\nspec:\n  type: service\n  lifecycle: production\n  owner: " + owner + "\n"
}

func TestIngestReplacesSourceAndRemovesWhatItNoLongerLists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"org.yaml":        groupA,
		"services.yaml":   component("checkout", "team-a", "takes orders") + component("billing", "team-a", "sends invoices"),
		"nested/x.yaml":   component("search-api", "team-a", "finds things"),
		"notes/readme.md": "not yaml",
		"openapi.yaml":    "openapi: 3.0.0\ninfo: {title: x}\n", // not an entity: skipped in a directory walk
	})
	s := openTestStore(t)
	rep, err := s.Ingest(ctx, "repo", []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 4 || len(rep.Problems) != 0 {
		t.Fatalf("first ingest: %+v", rep)
	}
	// billing disappears, checkout changes, search-api is unchanged.
	writeFiles(t, dir, map[string]string{"services.yaml": component("checkout", "team-a", "takes orders and refunds")})
	rep, err = s.Ingest(ctx, "repo", []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 1 || rep.Updated != 1 || rep.Unchanged != 2 || rep.Added != 0 {
		t.Errorf("second ingest: added %d updated %d unchanged %d removed %d", rep.Added, rep.Updated, rep.Unchanged, rep.Removed)
	}
	if _, err := s.Get(ctx, "component:billing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed entity still there: %v", err)
	}
	res, err := s.Search(ctx, SearchRequest{Text: "invoices"})
	if err != nil || res.Total != 0 {
		t.Errorf("search still finds the removed entity: %v %+v", err, res)
	}
	team, err := s.Get(ctx, "group:team-a")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(team.RelationTargets(RelOwnerOf), ","); got != "component:default/checkout,component:default/search-api" {
		t.Errorf("team-a ownerOf = %s", got)
	}
	res, err = s.Search(ctx, SearchRequest{Text: "refunds"})
	if err != nil || res.Total != 1 || res.Hits[0].Ref != "component:default/checkout" {
		t.Errorf("search for the new description: %v %+v", err, res)
	}
}

func TestIngestKeepsPreviousVersionWhenTheNewOneFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"org.yaml": groupA,
		"a.yaml":   component("alpha", "team-a", "first"),
		"b.yaml":   component("beta", "team-a", "second"),
	})
	s := openTestStore(t)
	if _, err := s.Ingest(ctx, "repo", []string{dir}); err != nil {
		t.Fatal(err)
	}
	// a.yaml is broken YAML; beta loses its required owner.
	writeFiles(t, dir, map[string]string{
		"a.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: alpha\n  description: [unclosed\n",
		"b.yaml": strings.Replace(component("beta", "team-a", "second, edited"), "  owner: team-a\n", "", 1),
	})
	rep, err := s.Ingest(ctx, "repo", []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kept != 2 || rep.Removed != 0 {
		t.Errorf("kept %d, removed %d; want both previous versions kept", rep.Kept, rep.Removed)
	}
	var syntax, owner bool
	for _, p := range rep.Problems {
		if strings.HasSuffix(p.File, "a.yaml") && strings.Contains(p.Message, "invalid YAML") && p.Line > 0 {
			syntax = true
		}
		if strings.HasSuffix(p.File, "b.yaml") && p.Path == "spec.owner" && strings.Contains(p.Message, "required") && p.Hint != "" && p.Line > 0 {
			owner = true
		}
	}
	if !syntax || !owner {
		t.Errorf("problems do not locate the YAML error and the missing owner:\n%s", problemsText(rep.Problems))
	}
	beta, err := s.Get(ctx, "component:beta")
	if err != nil || beta.Metadata.Description != "second" {
		t.Errorf("beta = %v, %v; want the previous version", beta, err)
	}
	if _, err := s.Get(ctx, "component:alpha"); err != nil {
		t.Errorf("alpha lost: %v", err)
	}
}

func TestIngestRejectsEntitiesOfAnotherSourceAndDuplicates(t *testing.T) {
	ctx := context.Background()
	a, b := t.TempDir(), t.TempDir()
	writeFiles(t, a, map[string]string{"c.yaml": groupA + component("shared", "team-a", "from a") + component("Shared", "team-a", "again")})
	writeFiles(t, b, map[string]string{"c.yaml": component("shared", "team-a", "from b")})
	s := openTestStore(t)
	rep, err := s.Ingest(ctx, "a", []string{a})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problems.Errors() != 1 || !strings.Contains(rep.Problems[0].Message, "defined twice") {
		t.Errorf("duplicate (case-insensitive) not reported: %s", problemsText(rep.Problems))
	}
	rep, err = s.Ingest(ctx, "b", []string{b})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problems.Errors() != 1 || !strings.Contains(rep.Problems[0].Message, `from source "a"`) {
		t.Errorf("conflict not reported: %s", problemsText(rep.Problems))
	}
	e, err := s.Get(ctx, "component:shared")
	if err != nil || e.Metadata.Description != "from a" {
		t.Errorf("shared = %v, %v; want source a's", e, err)
	}
}

func TestLocationTargets(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"all.yaml": `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: root}
spec:
  targets:
    - ./org.yaml
    - ./services/*.yaml
    - ./deep/**/catalog-info.yaml
    - ./missing.yaml
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: optional}
spec:
  presence: optional
  target: ./maybe.yaml
`,
		"org.yaml":                   groupA,
		"services/one.yaml":          component("one", "team-a", "x"),
		"services/two.yaml":          component("two", "team-a", "x"),
		"deep/a/b/catalog-info.yaml": component("deep", "team-a", "x"),
		"deep/a/b/other.yaml":        component("not-targeted", "team-a", "x"),
		"api.yaml":                   "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: def}\nspec: {type: openapi, lifecycle: production, owner: team-a, definition: {$text: ./spec.txt}}\n",
		"spec.txt":                   "openapi: 3.0.0",
	})
	rep, err := Validate(ctx, []string{filepath.Join(dir, "all.yaml"), filepath.Join(dir, "api.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entities != 7 {
		t.Errorf("entities = %d, want 7 (2 locations, group, one, two, deep, def)", rep.Entities)
	}
	if rep.Problems.Errors() != 1 || !strings.Contains(rep.Problems[0].Message, "missing.yaml does not exist") || rep.Problems[0].Line != 9 || rep.Problems[0].Path != "spec.targets[3]" {
		t.Errorf("want one error for the missing required target at line 9, spec.targets[3]:\n%s", problemsText(rep.Problems))
	}
	s := openTestStore(t)
	if _, err := s.Ingest(ctx, "x", []string{filepath.Join(dir, "all.yaml"), filepath.Join(dir, "api.yaml")}); err != nil {
		t.Fatal(err)
	}
	api, err := s.Get(ctx, "api:def")
	if err != nil || api.SpecString("definition") != "openapi: 3.0.0" {
		t.Errorf("$text not substituted: %v %v", api, err)
	}
}

func TestPlaceholderOutsideTheCatalogIsRefused(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"api.yaml": "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: def}\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition:\n    $text: ../../../../etc/passwd\n",
	})
	rep, err := Validate(context.Background(), []string{filepath.Join(dir, "api.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problems.Errors() != 1 || !strings.Contains(rep.Problems[0].Message, "outside") || rep.Problems[0].Line != 9 {
		t.Errorf("want the placeholder refused at line 9:\n%s", problemsText(rep.Problems))
	}
}

func TestValidationReportsEveryProblemWithPosition(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"bad.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
owner: misplaced
metadata:
  name: -bad-
  namespace: Not_OK
  labels:
    tier: 1
  annotations:
    "bad key!": x
  tags: [ok, "Not OK", ok]
spec:
  type: service
  lifecycle: 3
  dependsOn: [orders-db]
  providesApis: [good-api, ""]
`})
	rep, err := Validate(context.Background(), []string{filepath.Join(dir, "bad.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{ // path → line
		"owner":                         3,
		"metadata.name":                 5,
		"metadata.namespace":            6,
		"metadata.labels.tier":          8,
		"metadata.annotations.bad key!": 10,
		"metadata.tags[1]":              11,
		"metadata.tags[2]":              11,
		"spec.lifecycle":                14,
		"spec.owner":                    12,
		"spec.dependsOn[0]":             15,
		"spec.providesApis[1]":          16,
	}
	got := map[string]int{}
	for _, p := range rep.Problems {
		got[p.Path] = p.Line
		if p.Hint == "" {
			t.Errorf("no hint: %s", p)
		}
	}
	for path, line := range want {
		if got[path] != line {
			t.Errorf("problem at %s: line %d, want %d", path, got[path], line)
		}
	}
	if len(rep.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(rep.Problems), len(want), problemsText(rep.Problems))
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(keySchema, uvarint(SchemaVersion+1)) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(context.Background(), dir, Options{})
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "upgrade idpbot") {
		t.Fatalf("open of a newer data directory: %v", err)
	}
}

func TestIndexRebuiltWhenLost(t *testing.T) {
	ctx := context.Background()
	dir, data := t.TempDir(), t.TempDir()
	writeFiles(t, dir, map[string]string{"c.yaml": groupA + component("ledger", "team-a", "double entry bookkeeping")})
	s, err := Open(ctx, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, "x", []string{dir}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.RemoveAll(filepath.Join(data, "index")); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Search(ctx, SearchRequest{Text: "bookkeeping"})
	if err != nil || res.Total != 1 {
		t.Fatalf("search after the index was deleted: %v %+v", err, res)
	}
}

func TestJSONFilesAndUnknownKinds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"org.yaml": groupA,
		"svc.json": `{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
 "metadata": {"name": "from-json", "tags": ["go"]},
 "spec": {"type": "service", "lifecycle": "production", "owner": "team-a", "system": "plat"}}`,
		"custom.yaml": "apiVersion: example.com/v1\nkind: Pipeline\nmetadata:\n  name: nightly\nspec:\n  owner: team-a\n  schedule: '0 3 * * *'\n",
	})
	s := openTestStore(t)
	rep, err := s.Ingest(ctx, "x", []string{dir})
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("ingest: %v\n%s", err, problemsText(rep.Problems))
	}
	e, err := s.Get(ctx, "component:from-json")
	if err != nil || e.Metadata.Tags[0] != "go" {
		t.Fatalf("JSON entity: %+v %v", e, err)
	}
	if got := e.RelationTargets(RelPartOf); len(got) != 1 || got[0] != "system:default/plat" {
		t.Errorf("partOf = %v", got)
	}
	p, err := s.Get(ctx, "pipeline:nightly")
	if err != nil || p.Spec["schedule"] != "0 3 * * *" {
		t.Fatalf("unknown kind not kept as a generic entity: %+v %v", p, err)
	}
	if got := p.RelationTargets(RelOwnedBy); len(got) != 1 || got[0] != "group:default/team-a" {
		t.Errorf("generic entity ownedBy = %v", got)
	}
}

func TestIngestWithLocationAndAnnotations(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"catalog-info.yaml": component("checkout", "team-a", "takes orders") +
			"---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: own-slug\n  annotations:\n    github.com/project-slug: other/repo\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
	})
	s := openTestStore(t)
	loc := func(path string) string {
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			t.Errorf("path outside the mirror: %s", path)
		}
		return "url:https://github.example.com/acme/checkout/blob/main/" + filepath.ToSlash(rel)
	}
	if _, err := s.Ingest(ctx, "github:acme/checkout", []string{dir}, WithLocation(loc),
		WithAnnotations(map[string]string{"github.com/project-slug": "acme/checkout"})); err != nil {
		t.Fatal(err)
	}
	e, err := s.Get(ctx, "component:checkout")
	if err != nil {
		t.Fatal(err)
	}
	want := "url:https://github.example.com/acme/checkout/blob/main/catalog-info.yaml"
	if got := e.Metadata.Annotations[AnnotationManagedByLocation]; got != want {
		t.Errorf("managed-by-location = %q, want %q", got, want)
	}
	if got := e.Metadata.Annotations[AnnotationManagedByOriginLocation]; got != want {
		t.Errorf("managed-by-origin-location = %q, want %q", got, want)
	}
	if got := e.Metadata.Annotations["github.com/project-slug"]; got != "acme/checkout" {
		t.Errorf("project slug = %q", got)
	}
	own, err := s.Get(ctx, "component:own-slug")
	if err != nil {
		t.Fatal(err)
	}
	if got := own.Metadata.Annotations["github.com/project-slug"]; got != "other/repo" {
		t.Errorf("the entity's own annotation was overridden: %q", got)
	}
}

// With WithConfinedTargets, Location targets cannot reach files outside the
// ingested directory: not by absolute path, ../, a YAML alias, or a symbolic
// link; targets inside are followed.
func TestConfinedLocationTargets(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	repo, outside := filepath.Join(base, "repo"), filepath.Join(base, "outside")
	secret := filepath.Join(outside, "secret.yaml")
	writeFiles(t, outside, map[string]string{"secret.yaml": component("stolen", "team-a", "not this repository's")})
	writeFiles(t, repo, map[string]string{
		"inside.yaml": component("inside", "team-a", "this repository's"),
		"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: repo\nspec:\n  targets:\n" +
			"    - ./inside.yaml\n    - " + secret + "\n    - ../outside/secret.yaml\n    - ./link.yaml\n" +
			"---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: aliased\n  annotations:\n    x: &t " + secret + "\nspec:\n  target: *t\n",
	})
	if err := os.Symlink(secret, filepath.Join(repo, "link.yaml")); err != nil {
		t.Fatal(err)
	}

	s := openTestStore(t)
	rep, err := s.Ingest(ctx, "github:acme/repo", []string{repo}, WithConfinedTargets())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "component:inside"); err != nil {
		t.Errorf("the target inside the repository was not followed: %v", err)
	}
	if _, err := s.Get(ctx, "component:stolen"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an entity outside the repository was ingested: %v", err)
	}
	refused := 0
	for _, p := range rep.Problems {
		if strings.Contains(p.Message, "outside the ingested directories") {
			refused++
		}
	}
	if refused < 3 {
		t.Errorf("%d targets refused, want the absolute, ../ and aliased ones at least; problems: %v", refused, rep.Problems)
	}

	// Without the option the operator's own files may point anywhere.
	s2 := openTestStore(t)
	if _, err := s2.Ingest(ctx, "file:repo", []string{repo}); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get(ctx, "component:stolen"); err != nil {
		t.Errorf("an unconfined ingest did not follow the absolute target: %v", err)
	}
}

// "root/link/../x", with link a directory symlink leading out, is checked
// and read as root/x: a Location target or a placeholder cannot use it to
// read a file outside the roots.
func TestDotDotAfterSymlinkStaysInside(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	repo, outside := filepath.Join(base, "repo"), filepath.Join(base, "outside")
	writeFiles(t, outside, map[string]string{
		"secret.yaml": component("stolen", "team-a", "not this repository's"),
		"secret.txt":  "TOP-SECRET",
		"deep/x":      "",
	})
	if err := os.Symlink(filepath.Join(outside, "deep"), filepath.Join(repo+"-link")); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, repo, map[string]string{
		"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: repo\nspec:\n  targets:\n" +
			"    - " + filepath.Join(repo, "link") + "/../secret.yaml\n" +
			"---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: reader\n  description:\n    $text: " + filepath.Join(repo, "link") + "/../secret.txt\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
	})
	if err := os.Rename(repo+"-link", filepath.Join(repo, "link")); err != nil {
		t.Fatal(err)
	}
	s := openTestStore(t)
	if _, err := s.Ingest(ctx, "github:acme/repo", []string{repo}, WithConfinedTargets()); err != nil && !errors.Is(err, ErrIngestFailed) {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "component:stolen"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a target through link/.. read a file outside the repository: %v", err)
	}
	if e, err := s.Get(ctx, "component:reader"); err == nil && strings.Contains(e.Metadata.Description, "TOP-SECRET") {
		t.Error("a placeholder through link/.. read a file outside the repository")
	}
}
