package catalog

import (
	"context"
	"math"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// allWordsQuery matches the documents that every one of its queries (one
// per typed word) matches, and scores them exactly as their conjunction
// does; it only finds them faster.
//
// A conjunction of per-word disjunctions walks its children in step: for
// two common words ("invoice handles": a third and a half of the catalog,
// 7,113 documents in common at 100k entities) it steps through every
// posting of both, tens of thousands, to find the few thousand documents in
// common. Unscored, Bleve reduces the same conjunction to operations on
// the postings' bitmaps (an OR per word, an AND across words), which cost
// microseconds; so the query builds it twice, unscored to list the matching
// documents and scored to score them, and leads the scored one from match
// to match. The scores, the total and the facets are the conjunction's.
type allWordsQuery struct {
	words []query.Query
}

func newAllWordsQuery(words ...query.Query) query.Query {
	return allWordsQuery{words: words}
}

// leadMinPostings is the number of postings every word must have (in an
// index shard) for the listing to pay: a conjunction walks no further than
// its rarest word, and building the list costs a second pass over the
// query's terms (about 0.1-0.2 ms).
var leadMinPostings uint64 = 4096

func (q allWordsQuery) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	words, err := searchers(ctx, i, m, options, q.words)
	if err != nil {
		return nil, err
	}
	rarest := uint64(math.MaxUint64)
	for _, s := range words {
		rarest = min(rarest, s.Count())
	}
	scored, err := searcher.NewConjunctionSearcher(ctx, i, words, options)
	if err != nil || options.Score == "none" || rarest < leadMinPostings {
		return scored, err // unscored, Bleve's own searcher already uses the bitmaps
	}
	listOptions := options
	listOptions.Score, listOptions.Explain, listOptions.IncludeTermVectors = "none", false, false
	list, err := query.NewConjunctionQuery(q.words).Searcher(ctx, i, m, listOptions)
	if err != nil {
		_ = scored.Close()
		return nil, err
	}
	// Bleve reduces the unscored conjunction to one bitmap-backed term
	// searcher when every part of it allows (a word without any postings,
	// e.g. a stop word, does not); otherwise leading would only add work.
	if _, ok := list.(*searcher.TermSearcher); !ok {
		_ = list.Close()
		return scored, nil
	}
	return &ledSearcher{list: list, scored: scored}, nil
}

// searchers builds the searchers of qs, or none.
func searchers(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options search.SearcherOptions, qs []query.Query) ([]search.Searcher, error) {
	out := make([]search.Searcher, 0, len(qs))
	for _, q := range qs {
		s, err := q.Searcher(ctx, i, m, options)
		if err != nil {
			for _, s := range out {
				_ = s.Close()
			}
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ledSearcher returns the matches of scored at the documents list names.
// list must name exactly the documents scored matches (both are built from
// one query); should they ever disagree, only documents both name are
// returned.
type ledSearcher struct {
	list, scored search.Searcher
	id           index.IndexInternalID // the current document of list, copied
}

func (s *ledSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	c, err := s.list.Next(ctx)
	if err != nil || c == nil {
		return nil, err
	}
	return s.align(ctx, c)
}

func (s *ledSearcher) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	c, err := s.list.Advance(ctx, id)
	if err != nil || c == nil {
		return nil, err
	}
	return s.align(ctx, c)
}

// align returns the scored match at the first document from c on that
// both searchers match, putting c back in the pool.
func (s *ledSearcher) align(ctx *search.SearchContext, c *search.DocumentMatch) (*search.DocumentMatch, error) {
	for {
		s.id = append(s.id[:0], c.IndexInternalID...) // c's ID is reused once c is back in the pool
		ctx.DocumentMatchPool.Put(c)
		m, err := s.scored.Advance(ctx, s.id)
		if err != nil || m == nil {
			return nil, err
		}
		if m.IndexInternalID.Equals(s.id) {
			return m, nil
		}
		// scored has no match at the listed document: bring list up to
		// the next document scored matches.
		if c, err = s.list.Advance(ctx, m.IndexInternalID); err != nil || c == nil {
			ctx.DocumentMatchPool.Put(m)
			return nil, err
		}
		if c.IndexInternalID.Equals(m.IndexInternalID) {
			ctx.DocumentMatchPool.Put(c)
			return m, nil
		}
		ctx.DocumentMatchPool.Put(m)
	}
}

func (s *ledSearcher) Close() error {
	err := s.list.Close()
	if serr := s.scored.Close(); err == nil {
		err = serr
	}
	return err
}

// Weight and SetQueryNorm are the scored searcher's: the query norm, and so
// every score, is the conjunction's.
func (s *ledSearcher) Weight() float64           { return s.scored.Weight() }
func (s *ledSearcher) SetQueryNorm(norm float64) { s.scored.SetQueryNorm(norm) }

// Count is the scored searcher's estimate: disjunctions and conjunctions
// order their children by it, and so the terms of a score are summed in
// the same order as without the list (the bitmap searcher does not count).
func (s *ledSearcher) Count() uint64 { return s.scored.Count() }
func (s *ledSearcher) Min() int      { return s.scored.Min() }

func (s *ledSearcher) Size() int {
	return s.list.Size() + s.scored.Size() + len(s.id)
}

func (s *ledSearcher) DocumentMatchPoolSize() int {
	return s.list.DocumentMatchPoolSize() + s.scored.DocumentMatchPoolSize() + 1
}
