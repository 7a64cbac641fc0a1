package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// writeFiles writes files (relative path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// versionedCatalog writes a catalog of n components owned by four teams into
// dir. Version 2 differs from version 1: the last tenth of the components is
// gone, every fifth component has a new description with the word "zebra",
// and n/10 new components exist; team-d is gone too, so its components'
// ownedBy relations dangle.
func versionedCatalog(t *testing.T, dir string, n, version int) string {
	t.Helper()
	var b strings.Builder
	teams := []string{"team-a", "team-b", "team-c", "team-d"}
	if version == 2 {
		teams = teams[:3]
	}
	for _, tm := range teams {
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: %s\nspec:\n  type: team\n  children: []\n", tm)
	}
	first, last := 0, n
	if version == 2 {
		last = n - n/10
	}
	for i := first; i < last; i++ {
		desc := fmt.Sprintf("service number %d of the fixture", i)
		if version == 2 && i%5 == 0 {
			desc = fmt.Sprintf("zebra service number %d, rewritten", i)
		}
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-%04d\n  description: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: team-%c\n",
			i, desc, 'a'+rune(i%4))
	}
	if version == 2 {
		for i := n; i < n+n/10; i++ {
			fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-%04d\n  description: a new service\nspec:\n  type: service\n  lifecycle: experimental\n  owner: team-a\n", i)
		}
	}
	writeFiles(t, dir, map[string]string{"catalog-info.yaml": b.String()})
	return filepath.Join(dir, "catalog-info.yaml")
}

// dump renders the whole catalog — every entity with its relations — and
// the set of documents in the index, for comparing two stores.
func dump(t *testing.T, s *Store) (entities string, indexIDs []string) {
	t.Helper()
	ctx := context.Background()
	all, err := s.List(ctx, Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range all {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	sort.Strings(lines)
	res, err := s.Search(ctx, SearchRequest{Kinds: []string{"component", "group"}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if int(res.Total) != len(all) {
		t.Errorf("index holds %d documents, store %d entities", res.Total, len(all))
	}
	count, err := s.index.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	if int(count) != len(all) {
		t.Errorf("index doc count %d, store %d entities", count, len(all))
	}
	return strings.Join(lines, "\n"), nil
}
