package github

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/idpbot/idpbot/catalog"
)

// outsideFile writes a descriptor of a valid component outside the mirror
// and returns its path.
func outsideFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outside.yaml")
	if err := os.WriteFile(p, []byte(component(name, "Read from outside the repository.")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func locationTo(target string) string {
	return "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: escape\nspec:\n  target: " + target + "\n"
}

// A repository's files cannot make the catalog read a file outside the
// repository's mirror: fetchRepo's scan refuses what it sees (a content
// problem: the repository is not ingested), and the catalog's loader,
// confined to the mirror, refuses what the scan cannot see.
func TestSyncConfinesLocationTargets(t *testing.T) {
	tests := []struct {
		name  string
		files func(outside string) map[string]string
		// problem: the scan refuses the repository; otherwise it is
		// ingested and the loader refuses the target.
		problem bool
	}{
		{"absolute path", func(outside string) map[string]string {
			return map[string]string{"catalog-info.yaml": component("evil", "Mine.") + "---\n" + locationTo(outside)}
		}, true},
		{"YAML alias", func(outside string) map[string]string {
			return map[string]string{"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: a\n" +
				"  annotations:\n    note: &t " + outside + "\nspec:\n  target: *t\n"}
		}, true},
		{"YAML merge key", func(outside string) map[string]string {
			return map[string]string{"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: m\n" +
				"spec:\n  <<: {target: " + outside + "}\n"}
		}, true},
		{"key written twice", func(outside string) map[string]string {
			return map[string]string{"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: d\n" +
				"spec:\n  target: ./catalog-info.yaml\n  target: " + outside + "\n"}
		}, true},
		{"placeholder file the directory walk parses", func(outside string) map[string]string {
			return map[string]string{
				"catalog-info.yaml": strings.Replace(component("evil", "Mine."), "metadata:\n", "metadata:\n  annotations:\n    x: {$text: ./docs/notes.yaml}\n", 1),
				"docs/notes.yaml":   locationTo(outside),
			}
		}, true},
		{"file fetched as the 50-file cap is reached", func(outside string) map[string]string {
			files := map[string]string{}
			var loc strings.Builder
			loc.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: many\nspec:\n  targets:\n")
			for i := range maxFiles - 2 {
				name := fmt.Sprintf("c%02d.yaml", i)
				fmt.Fprintf(&loc, "    - ./%s\n", name)
				files[name] = component(fmt.Sprintf("c%02d", i), "One of many.")
			}
			loc.WriteString("    - ./zz-escape.yaml\n    - ./zz-extra.yaml\n")
			files["zz-escape.yaml"] = locationTo(outside)
			files["zz-extra.yaml"] = component("extra", "One too many.")
			files["catalog-info.yaml"] = loc.String()
			return files
		}, true},
		{"target read from a placeholder", func(outside string) map[string]string {
			return map[string]string{
				"catalog-info.yaml": component("evil", "Mine.") + "---\n" + locationTo("{$text: ./target.txt}"),
				"target.txt":        outside,
			}
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			outside := outsideFile(t, "stolen")
			e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "evil", files: tc.files(outside)})
			e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "fine", files: map[string]string{"catalog-info.yaml": component("fine", "Works.")}})
			rep := e.sync(e.source(e.config()))
			e.gone("component:default/stolen")
			e.entity("component:default/fine")
			if !tc.problem {
				if len(rep.Problems) != 0 {
					t.Errorf("problems %v", rep.Problems)
				}
				e.entity("component:default/evil")
				reports, err := e.store.SourceReports(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range reports {
					if r.Source == "github:northwind/evil" && r.Problems.Errors() == 0 {
						t.Errorf("the refused target is not reported: %+v", r.Problems)
					}
				}
				return
			}
			if len(rep.Problems) != 1 || rep.Problems[0].Repo != "northwind/evil" || !strings.Contains(rep.Problems[0].Error(), "only files inside the repository") {
				t.Errorf("problems %v", rep.Problems)
			}
			e.gone("component:default/evil")
		})
	}
}

// However the files reach the mirror, the ingest is confined to it.
func TestApplyConfinesLocationTargets(t *testing.T) {
	e := newEnv(t, "")
	s := e.source(e.config())
	outside := outsideFile(t, "stolen")
	repo := repoInfo{Owner: "northwind", Name: "evil", HTMLURL: e.fake.htmlURL("northwind", "evil"), DefaultBranch: "main"}
	rel, err := filepath.Rel(filepath.Join(e.mirror, "northwind", "evil"), outside)
	if err != nil {
		t.Fatal(err)
	}
	f := fetched{repo: repo, files: map[string][]byte{
		"catalog-info.yaml": []byte(component("evil", "Mine.") + "---\n" + locationTo(outside) +
			"---\n" + strings.Replace(locationTo(filepath.ToSlash(rel)), "name: escape", "name: escape-up", 1)),
	}}
	rep := &SyncReport{}
	s.apply(context.Background(), f, map[string]catalog.IngestReport{}, rep)
	if rep.Ingested != 1 || len(rep.Failed) != 0 {
		t.Fatalf("report: %+v", rep)
	}
	e.entity("component:default/evil")
	e.gone("component:default/stolen")
	reports, err := e.store.SourceReports(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Source == "github:northwind/evil" && r.Problems.Errors() < 2 {
			t.Errorf("the refused targets are not both reported: %+v", r.Problems)
		}
	}
}

// Every fetched file the loader parses as a descriptor is scanned for the
// files it refers to, not only Location targets.
func TestFetchFollowsFilesTheWalkParses(t *testing.T) {
	e := newEnv(t, "")
	e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "docs", files: map[string]string{
		"catalog-info.yaml": strings.Replace(component("docs", "Has notes."), "metadata:\n", "metadata:\n  annotations:\n    notes: {$text: ./docs/notes.yaml}\n", 1),
		"docs/notes.yaml":   locationTo("./more.yaml"),
		"docs/more.yaml":    component("more", "Named by a file fetched as a placeholder."),
	}})
	if rep := e.sync(e.source(e.config())); rep.Ingested != 1 {
		t.Errorf("report: %+v", rep)
	}
	e.entity("component:default/docs")
	e.entity("component:default/more")
}

func TestReferencesResolveAliasesAndMergeKeys(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []fileRef
	}{
		{"alias target", "kind: Location\nmetadata: {name: a, annotations: {t: &t ./a.yaml}}\nspec:\n  target: *t\n",
			[]fileRef{{path: "a.yaml", descriptor: true}}},
		{"alias targets", "kind: Location\nx: &ts [./a.yaml, ./b.yaml]\nspec:\n  targets: *ts\n",
			[]fileRef{{path: "a.yaml", descriptor: true}, {path: "b.yaml", descriptor: true}}},
		{"alias spec", "kind: Location\nx: &s {target: ./a.yaml}\nspec: *s\n",
			[]fileRef{{path: "a.yaml", descriptor: true}}},
		{"merge key", "kind: Location\nspec:\n  <<: {target: ./a.yaml}\n",
			[]fileRef{{path: "a.yaml", descriptor: true}}},
		{"merged list, first wins", "kind: Location\nspec:\n  <<: [{target: ./a.yaml}, {target: ./b.yaml}]\n",
			[]fileRef{{path: "a.yaml", descriptor: true}}},
		{"written key wins over merged", "kind: Location\nspec:\n  <<: {target: ./b.yaml}\n  target: ./a.yaml\n",
			[]fileRef{{path: "a.yaml", descriptor: true}}},
		{"last of twice", "kind: Location\nspec:\n  target: ./b.yaml\n  target: ./a.yaml\n",
			[]fileRef{{path: "a.yaml", descriptor: true}}},
		{"aliased placeholder", "kind: API\nx: &d {$text: ./openapi.yaml}\nspec:\n  definition: *d\n",
			[]fileRef{{path: "openapi.yaml"}}},
		{"not a string", "kind: Location\nspec:\n  target: 42\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			refs, problems, refused := references("catalog-info.yaml", []byte(tc.doc))
			if !reflect.DeepEqual(refs, tc.want) || len(problems) != 0 || len(refused) != 0 {
				t.Errorf("refs %+v, problems %q, refused %q; want %+v", refs, problems, refused, tc.want)
			}
		})
	}

	t.Run("an alias bomb costs the document's size", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("kind: API\na0: &a0 [{$text: ./x.txt}]\n")
		for i := 1; i < 30; i++ {
			fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
		}
		refs, _, _ := references("catalog-info.yaml", []byte(b.String()))
		if len(refs) != 1 {
			t.Errorf("%d refs", len(refs))
		}
	})
}
