package catalog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2"
)

// shardFixture writes a catalog of n components with overlapping words.
func shardFixture(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"org.yaml": groupA}
	var doc string
	words := []string{"payments", "ledger", "search", "orders", "billing"}
	for i := range n {
		doc += component(fmt.Sprintf("svc-%03d", i), "team-a", words[i%5]+" "+words[(i/5)%5]+" service")
	}
	files["services.yaml"] = doc
	writeFiles(t, dir, files)
	return dir
}

// The same catalog in one shard and in three gives the same hits for the
// same queries, and the documents are spread over the shards.
func TestShardedSearchMatchesOneShard(t *testing.T) {
	ctx := context.Background()
	dir := shardFixture(t, 90) // every query has at most 100 hits: the sets compare whole
	open := func(shards int) *Store {
		s, err := Open(ctx, t.TempDir(), Options{IndexShards: shards})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Ingest(ctx, "repo", []string{dir}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	one, three := open(1), open(3)
	if n := len(three.index.shards); n != 3 {
		t.Fatalf("%d shards, want 3", n)
	}
	for i, sh := range three.index.shards {
		if c, _ := sh.DocCount(); c == 0 {
			t.Errorf("shard %d is empty: refs are not spread", i)
		}
	}
	for _, q := range []string{"payments", "ledger billing", "svc-01", "svc-042", "paymnts", "service"} {
		a, err := one.Search(ctx, SearchRequest{Text: q, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		b, err := three.Search(ctx, SearchRequest{Text: q, Limit: 100, Facets: []string{fKind}})
		if err != nil {
			t.Fatal(err)
		}
		if a.Total != b.Total {
			t.Errorf("%q: %d hits in one shard, %d in three", q, a.Total, b.Total)
		}
		refs := func(r *SearchResult) []string {
			var out []string
			for _, h := range r.Hits {
				out = append(out, h.Ref)
			}
			slices.Sort(out)
			return out
		}
		if !slices.Equal(refs(a), refs(b)) {
			t.Errorf("%q: different hits in one shard and in three", q)
		}
		if b.Total > 0 && (len(b.Facets[fKind]) == 0 || uint64(b.Facets[fKind][0].Count) != b.Total) {
			t.Errorf("%q: facets not merged over the shards: %+v (total %d)", q, b.Facets, b.Total)
		}
	}
	// Whole names still rank first.
	res, err := three.Search(ctx, SearchRequest{Text: "svc-042"})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].Ref != "component:default/svc-042" {
		t.Errorf("whole name not first over shards: %v %+v", err, res)
	}
}

// An index of the earlier single-index layout, or whose shards disagree
// (a crash between two shards' batches), is rebuilt from the store at open.
func TestShardedIndexRebuiltWhenOldOrInconsistent(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	src := shardFixture(t, 30)
	s, err := Open(ctx, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, "repo", []string{src}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	check := func(label string) {
		t.Helper()
		s, err := Open(ctx, data, Options{})
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		defer s.Close()
		if n, _ := s.index.DocCount(); n != 31 {
			t.Errorf("%s: %d documents after open, want 31", label, n)
		}
		res, err := s.Search(ctx, SearchRequest{Text: "svc-007"})
		if err != nil || len(res.Hits) == 0 || res.Hits[0].Ref != "component:default/svc-007" {
			t.Errorf("%s: search after open: %v %+v", label, err, res)
		}
	}

	// One shard's generation stamp differs from the other's.
	sh, err := bleve.Open(filepath.Join(data, "index", "shard-1"))
	if err != nil {
		t.Fatal(err)
	}
	b := sh.NewBatch()
	b.SetInternal([]byte(internalGen), uvarint(999))
	if err := sh.Batch(b); err != nil {
		t.Fatal(err)
	}
	sh.Close()
	check("inconsistent shards")

	// The layout of earlier versions: one Bleve index in index/.
	idx := filepath.Join(data, "index")
	if err := os.RemoveAll(idx); err != nil {
		t.Fatal(err)
	}
	m, err := indexMapping()
	if err != nil {
		t.Fatal(err)
	}
	old, err := bleve.New(idx, m)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	check("single-index layout")
	if _, err := os.Stat(filepath.Join(idx, "shard-0")); err != nil {
		t.Errorf("the old layout was not replaced: %v", err)
	}
}

// A search whose context ends fails as it does on one index, instead of
// passing an empty (or half) result for a complete one.
func TestShardedSearchFailsWithItsShards(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir(), Options{IndexShards: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Ingest(context.Background(), "repo", []string{shardFixture(t, 30)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := s.Search(ctx, SearchRequest{Text: "service"}); err == nil {
		t.Errorf("a cancelled search succeeded with %d hits", res.Total)
	}
	// Closing twice (a failed rebuild closes the index before Open's
	// cleanup closes the store) does not panic.
	if err := s.index.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.index.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// Facet counts are the same over three shards as over one, also for values
// near the cut of the top ten.
func TestShardedFacetCounts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var doc string
	files := map[string]string{}
	n := 0
	for team := range 14 {
		files[fmt.Sprintf("team-%02d.yaml", team)] = fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-%02d\nspec:\n  type: team\n  children: []\n", team)
		for range 20 - team {
			doc += component(fmt.Sprintf("svc-%03d", n), fmt.Sprintf("team-%02d", team), "service")
			n++
		}
	}
	files["services.yaml"] = doc
	writeFiles(t, dir, files)
	facets := func(shards int) []FacetCount {
		s, err := Open(ctx, t.TempDir(), Options{IndexShards: shards})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Ingest(ctx, "repo", []string{dir}); err != nil {
			t.Fatal(err)
		}
		res, err := s.Search(ctx, SearchRequest{Text: "service", Facets: []string{fOwner}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Facets[fOwner]
	}
	one, three := facets(1), facets(3)
	if len(one) != 10 || !slices.Equal(one, three) {
		t.Errorf("owner facet over one shard %v, over three %v", one, three)
	}
}

// An index built in another format (IndexFormat) is rebuilt from the store
// at open, even when its generation and document count agree with the
// store; one from before the format stamp existed counts as the first
// format and is kept.
func TestIndexRebuiltWhenItsFormatDiffers(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	s, err := Open(ctx, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, "repo", []string{shardFixture(t, 30)}); err != nil {
		t.Fatal(err)
	}
	if f, err := s.indexFormat(); err != nil || f != IndexFormat {
		t.Fatalf("a new index's format: %d, %v; want %d", f, err, IndexFormat)
	}
	s.Close()
	// tamper swaps svc-007's document for a ghost's in its shard (the
	// count stays the same) and sets or removes the format stamp on the
	// first stamped shards, as an index of another format would look to
	// the generation and count checks.
	tamper := func(format []byte, stamped int) {
		t.Helper()
		for i := range DefaultIndexShards {
			sh, err := bleve.Open(filepath.Join(data, "index", fmt.Sprintf("shard-%d", i)))
			if err != nil {
				t.Fatal(err)
			}
			b := sh.NewBatch()
			if n, _ := sh.DocCount(); n > 0 {
				if doc, err := sh.Document("component:default/svc-007"); err == nil && doc != nil {
					b.Delete("component:default/svc-007")
					b.Index("component:default/ghost", map[string]any{fName: "ghost"})
				}
			}
			switch {
			case i >= stamped:
			case format == nil:
				b.DeleteInternal([]byte(internalFormat))
			default:
				b.SetInternal([]byte(internalFormat), format)
			}
			if err := sh.Batch(b); err != nil {
				t.Fatal(err)
			}
			sh.Close()
		}
	}
	docs := func() []string {
		t.Helper()
		s, err := Open(ctx, data, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		res, err := s.index.SearchInContext(ctx, bleve.NewSearchRequest(bleve.NewDocIDQuery([]string{"component:default/ghost", "component:default/svc-007"})))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, h := range res.Hits {
			ids = append(ids, h.ID)
		}
		return ids
	}

	tamper(uvarint(IndexFormat+1), DefaultIndexShards)
	if got := docs(); !slices.Equal(got, []string{"component:default/svc-007"}) {
		t.Errorf("index of format %d opened as it was: documents %v, want svc-007's only (rebuilt)", IndexFormat+1, got)
	}
	// Shards that disagree on the format (the last one's is current): rebuilt.
	tamper(uvarint(IndexFormat+1), 1)
	if got := docs(); !slices.Equal(got, []string{"component:default/svc-007"}) {
		t.Errorf("shards of two formats opened as they were: documents %v, want svc-007's only (rebuilt)", got)
	}
	tamper(nil, DefaultIndexShards)
	if got := docs(); !slices.Equal(got, []string{"component:default/ghost"}) {
		t.Errorf("index without a format stamp: documents %v, want the ghost kept (not rebuilt)", got)
	}
}
