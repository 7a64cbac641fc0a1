package catalog_test

import (
	"context"
	"testing"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/catalog/catalogtest"
)

// TestSyntheticCatalog checks that the generator's catalog is what the
// benchmarks assume: valid as Backstage would have it, with no dangling
// reference, and ingested whole.
func TestSyntheticCatalog(t *testing.T) {
	ctx := context.Background()
	g, err := catalogtest.Generate(t.TempDir(), 2000, 1)
	if err != nil {
		t.Fatal(err)
	}

	rep, err := catalog.Validate(ctx, []string{g.Root})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range rep.Problems {
		if i == 20 {
			t.Errorf("… %d problems in all", len(rep.Problems))
			break
		}
		t.Errorf("validate: %s", p)
	}
	if rep.Entities != g.Entities || rep.Files != g.Files {
		t.Errorf("validate: %d entities in %d files, generated %d in %d", rep.Entities, rep.Files, g.Entities, g.Files)
	}

	s, err := catalog.Open(ctx, t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ing, err := s.Ingest(ctx, "synthetic", []string{g.Root})
	if err != nil {
		t.Fatal(err)
	}
	if len(ing.Problems) > 0 {
		t.Errorf("ingest: %d problems, first: %s", len(ing.Problems), ing.Problems[0])
	}
	if s.Count() != g.Entities || ing.Entities != g.Entities {
		t.Errorf("ingest: Count() = %d, report says %d, generated %d", s.Count(), ing.Entities, g.Entities)
	}
	chk, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range chk.Dangling {
		if i == 20 {
			t.Errorf("… %d dangling relations in all", len(chk.Dangling))
			break
		}
		t.Errorf("dangling: %s %s %s", d.From, d.Type, d.To)
	}

	// The names the benchmarks look up resolve to one entity each.
	for _, name := range []string{g.Components[0], g.Components[len(g.Components)-1]} {
		o, err := s.WhoOwns(ctx, name)
		if err != nil {
			t.Fatalf("who owns %s: %v", name, err)
		}
		if !o.Owner.Exists {
			t.Errorf("who owns %s: owner %s not in the catalog", name, o.Owner.Ref)
		}
	}
	if _, err := s.Get(ctx, "component:default/"+g.Components[0]); err != nil {
		t.Errorf("get: %v", err)
	}
	for _, u := range g.Users[:3] {
		if _, err := s.Get(ctx, "user:"+u); err != nil {
			t.Errorf("get: %v", err)
		}
	}
	for _, gr := range g.Groups[:3] {
		if _, err := s.Get(ctx, "group:"+gr); err != nil {
			t.Errorf("get: %v", err)
		}
	}
}
