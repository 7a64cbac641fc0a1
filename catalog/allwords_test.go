package catalog

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/idpbot/idpbot/catalog/catalogtest"
)

// syntheticStore ingests a generated catalog of n entities.
func syntheticStore(t *testing.T, n int) (*Store, *catalogtest.Generated) {
	t.Helper()
	g, err := catalogtest.Generate(t.TempDir(), n, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := openTestStoreWith(t, Options{})
	if _, err := s.Ingest(context.Background(), "synthetic", []string{g.Root}); err != nil {
		t.Fatal(err)
	}
	return s, g
}

// withLeadMin sets leadMinPostings for the rest of the test.
func withLeadMin(t *testing.T, n uint64) {
	old := leadMinPostings
	leadMinPostings = n
	t.Cleanup(func() { leadMinPostings = old })
}

// TestSearchersScoreAsBleves runs every benchmark query, and some with
// kinds, facets, stop words and typos, with the searchers of allWordsQuery
// (led by the bitmap list) and wordQuery (only the alternatives with
// postings) and with Bleve's plain conjunction and disjunction: the same
// total, hits, scores (exactly) and facets.
func TestSearchersScoreAsBleves(t *testing.T) {
	s, g := syntheticStore(t, 3000)
	ctx := context.Background()
	var reqs []SearchRequest
	for _, q := range g.Queries {
		reqs = append(reqs, SearchRequest{Text: q, Limit: 20})
	}
	reqs = append(reqs,
		SearchRequest{Text: "the handles", Limit: 20},
		SearchRequest{Text: "payments gateway", Limit: 100, Facets: []string{fKind, fOwner, fTags}},
		SearchRequest{Text: "handles processes", Kinds: []string{"Component", "API"}, Limit: 10, Offset: 5},
		SearchRequest{Text: "handels procesess", Limit: 20}, // typos in both words
		SearchRequest{Text: g.Components[7], Limit: 5},      // a hyphenated name: whole-name alternatives beside the words
	)
	run := func(lead uint64, live bool) []*SearchResult {
		withLeadMin(t, lead)
		old := liveAlternatives
		liveAlternatives = live
		defer func() { liveAlternatives = old }()
		var out []*SearchResult
		for _, r := range reqs {
			res, err := s.Search(ctx, r)
			if err != nil {
				t.Fatalf("search %q: %v", r.Text, err)
			}
			res.Took = 0
			for i := range res.Hits {
				res.Hits[i].Entity = nil
			}
			out = append(out, res)
		}
		return out
	}
	plain := run(math.MaxUint64, false)
	for _, c := range []struct {
		name string
		lead uint64
		live bool
	}{{"led", 0, false}, {"live alternatives", math.MaxUint64, true}, {"led, live alternatives", 0, true}} {
		got := run(c.lead, c.live)
		for i, r := range reqs {
			p, l := plain[i], got[i]
			if p.Total != l.Total || !slices.Equal(p.Hits, l.Hits) || !equalFacets(p.Facets, l.Facets) {
				t.Errorf("search %q: %s\n  total %d hits %v facets %v\nBleve's\n  total %d hits %v facets %v",
					r.Text, c.name, l.Total, l.Hits, l.Facets, p.Total, p.Hits, p.Facets)
			}
		}
	}
	multi := 0
	for _, r := range reqs {
		if len(textWords(r.Text)) > 1 {
			multi++
		}
	}
	if multi < 20 {
		t.Fatalf("only %d queries of several words: the comparison proves little", multi)
	}
}

func textWords(text string) []string {
	q, _ := (&Store{}).textQuery(text, false)
	if a, ok := q.(allWordsQuery); ok {
		return make([]string, len(a.words))
	}
	return nil
}

func equalFacets(a, b map[string][]FacetCount) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// shardSearcher builds q's searcher on the first index shard.
func shardSearcher(t *testing.T, s *Store, q query.Query, options search.SearcherOptions) search.Searcher {
	t.Helper()
	shard := s.index.shards[0]
	adv, err := shard.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	sr, err := q.Searcher(context.Background(), r, shard.Mapping(), options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sr.Close() })
	return sr
}

// collect returns the internal ids and scores of every match of sr.
func collect(t *testing.T, sr search.Searcher) (ids []string, scores []float64) {
	t.Helper()
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(sr.DocumentMatchPoolSize(), 0)}
	for {
		m, err := sr.Next(sctx)
		if err != nil {
			t.Fatal(err)
		}
		if m == nil {
			return ids, scores
		}
		ids = append(ids, string(m.IndexInternalID))
		scores = append(scores, m.Score)
		sctx.DocumentMatchPool.Put(m)
	}
}

func TestAllWordsQueryLeadsOnlyWhenEveryWordIsCommon(t *testing.T) {
	s, _ := syntheticStore(t, 1000)
	q, _ := s.textQuery("handles processes", false)
	if _, ok := q.(allWordsQuery); !ok {
		t.Fatalf("textQuery of two words is %T, want allWordsQuery", q)
	}
	withLeadMin(t, 0)
	if sr := shardSearcher(t, s, q, search.SearcherOptions{}); !isLed(sr) {
		t.Errorf("common words, no minimum: searcher %T, want the led one", sr)
	}
	if sr := shardSearcher(t, s, q, search.SearcherOptions{Score: "none"}); isLed(sr) {
		t.Error("unscored: led, want Bleve's own (bitmap) searcher")
	}
	// A stop word has no postings in the English fields: Bleve cannot
	// reduce the query to bitmaps and the plain conjunction is kept.
	stop, _ := s.textQuery("the handles", false)
	if sr := shardSearcher(t, s, stop, search.SearcherOptions{}); isLed(sr) {
		t.Error(`"the handles": led, want the plain conjunction`)
	}
	withLeadMin(t, math.MaxUint64)
	if sr := shardSearcher(t, s, q, search.SearcherOptions{}); isLed(sr) {
		t.Error("a word below the minimum: led, want the plain conjunction")
	}
}

func isLed(sr search.Searcher) bool {
	_, ok := sr.(*ledSearcher)
	return ok
}

// TestLedSearcherReturnsOnlyDocumentsBothMatch leads searchers whose
// documents differ: only the documents of both come back, with the scored
// searcher's scores.
func TestLedSearcherReturnsOnlyDocumentsBothMatch(t *testing.T) {
	s, _ := syntheticStore(t, 1000)
	unscored := search.SearcherOptions{Score: "none"}
	handles := fieldMatch(fDescription, "handles", 1, 0)
	both := query.NewConjunctionQuery([]query.Query{handles, fieldMatch(fDescription, "processes", 1, 0)})

	wantIDs, wantScores := collect(t, shardSearcher(t, s, both, search.SearcherOptions{}))
	handlesIDs, _ := collect(t, shardSearcher(t, s, handles, unscored))
	if len(wantIDs) == 0 || len(handlesIDs) <= len(wantIDs) {
		t.Fatalf("%d documents with both words, %d with handles: want some, and fewer than with handles", len(wantIDs), len(handlesIDs))
	}
	for name, led := range map[string]*ledSearcher{
		"list wider than scored": {
			list:   shardSearcher(t, s, handles, unscored),
			scored: shardSearcher(t, s, both, search.SearcherOptions{}),
		},
		"scored wider than list": {
			list:   shardSearcher(t, s, both, unscored),
			scored: shardSearcher(t, s, handles, search.SearcherOptions{}),
		},
	} {
		ids, scores := collect(t, led)
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("%s: %d documents, want the %d with both words", name, len(ids), len(wantIDs))
		}
		if name == "list wider than scored" && !slices.Equal(scores, wantScores) {
			t.Errorf("%s: scores differ from the scored searcher's", name)
		}
	}

	// Advance lands on the first common document at or after the target.
	led := &ledSearcher{list: shardSearcher(t, s, handles, unscored), scored: shardSearcher(t, s, both, search.SearcherOptions{})}
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(led.DocumentMatchPoolSize(), 0)}
	mid := wantIDs[len(wantIDs)/2]
	m, err := led.Advance(sctx, index.IndexInternalID(mid))
	if err != nil || m == nil || string(m.IndexInternalID) != mid {
		t.Fatalf("Advance to a common document: %v, %v", m, err)
	}
	if m, err = led.Next(sctx); err != nil || (len(wantIDs) > len(wantIDs)/2+1 && (m == nil || string(m.IndexInternalID) != wantIDs[len(wantIDs)/2+1])) {
		t.Errorf("Next after Advance: %v, %v; want the next common document", m, err)
	}
}

// TestWordQueryReadsOnlyAlternativesWithPostings checks which searcher a
// typed word gets: a common description word reads its one alternative
// with postings, a name word several, a word found nowhere Bleve's
// disjunction.
func TestWordQueryReadsOnlyAlternativesWithPostings(t *testing.T) {
	s, g := syntheticStore(t, 1000)
	word := func(text string) query.Query {
		q, _ := s.textQuery(text, false)
		if d, ok := q.(*query.DisjunctionQuery); ok { // whole-name alternatives first
			q = d.Disjuncts[len(d.Disjuncts)-1]
		}
		if _, ok := q.(wordQuery); !ok {
			t.Fatalf("textQuery(%q) holds %T, want a wordQuery", text, q)
		}
		return q
	}
	nameWord := strings.SplitN(g.Components[0], "-", 2)[0]
	for _, c := range []struct {
		text string
		live int // 0: Bleve's disjunction
	}{
		{"handles", 1},
		{nameWord, 2},
		{"xyzzyplugh", 0},
	} {
		sr := shardSearcher(t, s, word(c.text), search.SearcherOptions{})
		ld, ok := sr.(*liveDisjunction)
		switch {
		case c.live == 0 && ok:
			t.Errorf("%q: reads %d alternatives, want Bleve's disjunction", c.text, len(ld.live))
		case c.live == 1 && (!ok || len(ld.live) != 1):
			t.Errorf("%q: searcher %T, want one alternative read", c.text, sr)
		case c.live > 1 && (!ok || len(ld.live) < c.live || len(ld.live) == ld.total):
			t.Errorf("%q: searcher %T, want several alternatives read, not all", c.text, sr)
		}
	}
}
