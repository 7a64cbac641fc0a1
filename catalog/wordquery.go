package catalog

import (
	"context"
	"sort"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// wordQuery matches a typed word in any of its alternatives (the name,
// title, description, text and tag fields, a name with one typo, a name
// prefix), scored exactly as Bleve's disjunction of them.
//
// Most alternatives of a word have no postings: a common description word
// ("handles", half of the catalog at 100k entities) has none in the name,
// title, text and tag fields. Bleve's disjunction still goes through all
// of its children at every hit and scores through a general scorer: 45%
// of such a search. The searcher here merges only the alternatives with
// postings and computes the disjunction's score itself (the sum of the
// matching children's scores, in the disjunction's order of children,
// times the number matching over the number of children). The
// disjunction of all alternatives is built all the same, for the query
// norm and weights it gives the query around it.
type wordQuery struct {
	alts []query.Query
}

func newWordQuery(alts ...query.Query) query.Query { return wordQuery{alts: alts} }

// liveAlternatives turns the searcher off (tests compare the two).
var liveAlternatives = true

func (q wordQuery) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	if !liveAlternatives || options.Score == "none" || options.Explain || options.IncludeTermVectors {
		// Unscored, Bleve's disjunction reads bitmaps (see allWordsQuery).
		return query.NewDisjunctionQuery(q.alts).Searcher(ctx, i, m, options)
	}
	children, err := searchers(ctx, i, m, options, q.alts)
	if err != nil {
		return nil, err
	}
	// The disjunction orders its children by Count, and sums their scores
	// in that order: so does this searcher (a searcher's Count never falls
	// short of its matches; the sort is the same on the same input).
	ordered := make(searcher.OrderedSearcherList, len(children))
	copy(ordered, children)
	sort.Sort(ordered)
	d, err := searcher.NewDisjunctionSearcher(ctx, i, children, 0, options)
	if err != nil || len(children) < 2 {
		return d, err
	}
	var live []search.Searcher
	for _, c := range ordered {
		if c.Count() > 0 {
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		return d, nil
	}
	return &liveDisjunction{Searcher: d, live: live, total: len(children),
		currs: make([]*search.DocumentMatch, len(live)), matching: make([]int, 0, len(live))}, nil
}

// liveDisjunction returns the matches of the disjunction it wraps, reading
// only the children that have postings (live, in the disjunction's order).
// Everything but Next and Advance is the disjunction's.
type liveDisjunction struct {
	search.Searcher // the disjunction: weight, query norm, count, close
	live            []search.Searcher
	total           int // children of the disjunction
	currs           []*search.DocumentMatch
	matching        []int
	started         bool
}

func (s *liveDisjunction) start(ctx *search.SearchContext) (err error) {
	s.started = true
	for i, c := range s.live {
		if s.currs[i], err = c.Next(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (s *liveDisjunction) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if len(s.live) == 1 { // the one child's matches, scored as one of total
		return s.one(s.live[0].Next(ctx))
	}
	if !s.started {
		if err := s.start(ctx); err != nil {
			return nil, err
		}
	}
	return s.next(ctx)
}

func (s *liveDisjunction) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	if len(s.live) == 1 {
		return s.one(s.live[0].Advance(ctx, id))
	}
	if !s.started {
		if err := s.start(ctx); err != nil {
			return nil, err
		}
	}
	for i, c := range s.live {
		if s.currs[i] != nil {
			if s.currs[i].IndexInternalID.Compare(id) >= 0 {
				continue
			}
			ctx.DocumentMatchPool.Put(s.currs[i])
		}
		var err error
		if s.currs[i], err = c.Advance(ctx, id); err != nil {
			return nil, err
		}
	}
	return s.next(ctx)
}

func (s *liveDisjunction) one(m *search.DocumentMatch, err error) (*search.DocumentMatch, error) {
	if m != nil {
		var sum float64
		sum += m.Score
		m.Score = sum * (float64(1) / float64(s.total))
	}
	return m, err
}

// next scores the smallest current document, as the disjunction scorer
// does, and moves the children there past it.
func (s *liveDisjunction) next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	matching := s.matching[:0]
	for i, c := range s.currs {
		if c == nil {
			continue
		}
		if len(matching) > 0 {
			cmp := c.IndexInternalID.Compare(s.currs[matching[0]].IndexInternalID)
			if cmp > 0 {
				continue
			}
			if cmp < 0 {
				matching = matching[:0]
			}
		}
		matching = append(matching, i)
	}
	s.matching = matching
	if len(matching) == 0 {
		return nil, nil
	}
	var sum float64
	for _, i := range matching {
		sum += s.currs[i].Score
	}
	rv := s.currs[matching[0]]
	rv.Score = sum * (float64(len(matching)) / float64(s.total))
	for _, i := range matching {
		if s.currs[i] != rv {
			ctx.DocumentMatchPool.Put(s.currs[i])
		}
		var err error
		if s.currs[i], err = s.live[i].Next(ctx); err != nil {
			return nil, err
		}
	}
	return rv, nil
}
