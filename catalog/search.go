package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/dgraph-io/badger/v4"
)

// SearchRequest asks the full-text index.
type SearchRequest struct {
	Text   string
	Kinds  []string // restrict to these kinds (any case); empty: all
	Limit  int      // default 10, at most 100
	Offset int
	// Facets lists fields to count values of (see FacetFields).
	Facets []string
}

// SearchHit is one result.
type SearchHit struct {
	Ref    string  `json:"ref"`
	Score  float64 `json:"score"`
	Entity *Entity `json:"entity"`
}

// FacetCount is one value of a facet and how many hits have it.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// SearchResult is a page of hits, ranked best first.
type SearchResult struct {
	Total  uint64                  `json:"total"`
	Hits   []SearchHit             `json:"hits"`
	Facets map[string][]FacetCount `json:"facets,omitempty"`
	Took   time.Duration           `json:"took_ns"`
}

// Search runs a full-text query: whole names first, then name prefixes and
// words, names with one typo, titles, descriptions, tags and annotations.
// Words must all match (in any of those fields) for a hit.
func (s *Store) Search(ctx context.Context, req SearchRequest) (*SearchResult, error) {
	text := strings.TrimSpace(req.Text)
	if text == "" && len(req.Kinds) == 0 {
		return nil, errors.New("search: empty query; give some words, e.g. payments")
	}
	if req.Limit <= 0 {
		req.Limit = 10
	}
	req.Limit = min(req.Limit, 100)
	for _, f := range req.Facets {
		if !isFacetField(f) {
			return nil, fmt.Errorf("search: unknown facet %q; use one of %s", f, strings.Join(FacetFields, ", "))
		}
	}
	request := func(typos bool) (sr *bleve.SearchRequest, strict bool) {
		var q query.Query = bleve.NewMatchAllQuery()
		if text != "" {
			q, strict = s.textQuery(text, typos)
		}
		if len(req.Kinds) > 0 {
			kinds := make([]query.Query, len(req.Kinds))
			for i, k := range req.Kinds {
				kinds[i] = termQuery(fKind, strings.ToLower(k), 1)
			}
			q = bleve.NewConjunctionQuery(q, bleve.NewDisjunctionQuery(kinds...))
		}
		sr = bleve.NewSearchRequestOptions(q, req.Limit, req.Offset, false)
		for _, f := range req.Facets {
			sr.AddFacet(f, bleve.NewFacetRequest(f, s.index.facetSize(facetValues)))
		}
		return sr, strict
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	sr, strict := request(false)
	res, err := s.index.SearchInContext(ctx, sr)
	if err == nil && strict && res.Total == 0 {
		// Words taken as spelled found nothing (they are words of names
		// the query's other words or kinds rule out): allow one typo in
		// them too.
		sr, _ = request(true)
		res, err = s.index.SearchInContext(ctx, sr)
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &SearchResult{Total: res.Total, Took: res.Took, Hits: make([]SearchHit, 0, len(res.Hits))}
	err = s.db.View(func(txn *badger.Txn) error {
		r := reader{txn: txn}
		for _, h := range res.Hits {
			e, _, err := r.entity(h.ID)
			if errors.Is(err, ErrNotFound) {
				continue // indexed by an ingest not yet applied
			}
			if err != nil {
				return err
			}
			out.Hits = append(out.Hits, SearchHit{Ref: h.ID, Score: h.Score, Entity: e})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(res.Facets) > 0 {
		out.Facets = map[string][]FacetCount{}
		for name, fr := range res.Facets {
			for _, t := range fr.Terms.Terms() {
				if len(out.Facets[name]) == facetValues {
					break
				}
				out.Facets[name] = append(out.Facets[name], FacetCount{Value: t.Term, Count: t.Count})
			}
		}
	}
	return out, nil
}

// facetValues is the number of values a facet lists, most frequent first.
const facetValues = 10

func isFacetField(f string) bool {
	for _, x := range FacetFields {
		if x == f {
			return true
		}
	}
	return false
}

func termQuery(field, term string, boost float64) query.Query {
	q := bleve.NewTermQuery(term)
	q.SetField(field)
	q.SetBoost(boost)
	return q
}

// maxPrefixNames is the number of names starting with the typed text up to
// which they are boosted as whole-name prefixes.
const maxPrefixNames = 200

// textQuery builds the ranked query for typed text. Each word must match
// somewhere; the whole text matching a name ranks highest, then names that
// start with it.
//
// A word that is a word of some name is taken as spelled unless typos is
// set; strict reports that a word was.
func (s *Store) textQuery(text string, typos bool) (q query.Query, strict bool) {
	lower := strings.ToLower(text)
	words := strings.FieldsFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	// Text that no name is or starts with (a space, several words, makes
	// sure of it; otherwise the name index tells) leaves the query to the
	// words alone: a disjunction less on every hit.
	var whole []query.Query
	switch {
	case strings.IndexFunc(lower, func(r rune) bool { return !isNameChar(r) }) >= 0:
	case len(lower) < 2:
		whole = append(whole, termQuery(fNameKW, lower, 20))
	default:
		if q := s.namePrefixQuery(lower, len(words) == 1 && words[0] == lower); q != nil {
			whole = append(whole, termQuery(fNameKW, lower, 20), q)
		}
	}
	var perWord []query.Query
	for i, w := range words {
		last := i == len(words)-1
		alts := []query.Query{
			fieldMatch(fName, w, 4, 0),
			fieldMatch(fTitle, w, 2, 0),
			fieldMatch(fDescription, w, 1, 0),
			fieldMatch(fText, w, 1, 0),
			termQuery(fTags, w, 2),
		}
		// One typo in a longer word: unless the word is a word of some
		// name, when it is taken as typed (the typo-tolerant alternative
		// would match its neighbours, "router" also "routes", and builds a
		// Levenshtein automaton per index shard: half of what a search
		// allocates).
		if len(w) >= 4 {
			if typos || s.names == nil || !s.names.isWord(w) {
				alts = append(alts, fieldMatch(fName, w, 1.5, 1))
			} else {
				strict = true
			}
		}
		if last && len(w) >= 2 {
			p := bleve.NewPrefixQuery(w)
			p.SetField(fName)
			p.SetBoost(2)
			alts = append(alts, p)
		}
		perWord = append(perWord, newWordQuery(alts...))
	}
	var all query.Query // a conjunction of one costs a searcher level on every hit
	switch len(perWord) {
	case 0:
		return bleve.NewDisjunctionQuery(whole...), strict
	case 1:
		all = perWord[0]
	default:
		all = newAllWordsQuery(perWord...)
	}
	if len(whole) == 0 {
		return all, strict
	}
	return bleve.NewDisjunctionQuery(append(whole, all)...), strict
}

// isNameChar reports whether r may appear in a lower-cased entity name.
func isNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}

// namePrefixQuery matches the entities whose names start with prefix. A
// prefix query on the whole names would expand to every such name in every
// index segment: thousands of terms for a short prefix in a large catalog.
// The names are in memory, so the query names the entities instead when
// there are few. When there are many and the prefix is one word, the
// prefix query runs on the names' leading words, which are few distinct
// terms; only a prefix spanning words ("payments-g") with many names falls
// back to the prefix query on the whole names.
func (s *Store) namePrefixQuery(prefix string, oneWord bool) query.Query {
	var refs []string
	count := -1
	if s.names != nil {
		refs, count = s.names.withPrefix(prefix, maxPrefixNames)
	}
	switch {
	case count == 0:
		return nil
	case count > 0 && refs != nil:
		q := bleve.NewDocIDQuery(refs)
		q.SetBoost(8)
		return q
	}
	p := bleve.NewPrefixQuery(prefix)
	p.SetField(fNameKW)
	if oneWord {
		p.SetField(fNameFirst)
	}
	p.SetBoost(8)
	return p
}

func fieldMatch(field, text string, boost float64, fuzziness int) query.Query {
	q := bleve.NewMatchQuery(text)
	q.SetField(field)
	q.SetBoost(boost)
	q.SetFuzziness(fuzziness)
	return q
}

// suggest returns up to n entities whose names are close to name: a prefix,
// or within two edits. Callers hold s.mu.
func (s *Store) suggest(ctx context.Context, name string, n int) []Ref {
	lower := strings.ToLower(name)
	p := bleve.NewPrefixQuery(lower)
	p.SetField(fNameKW)
	p.SetBoost(2)
	fz := bleve.NewFuzzyQuery(lower)
	fz.SetField(fNameKW)
	fz.SetFuzziness(2)
	words := bleve.NewMatchQuery(lower)
	words.SetField(fName)
	words.SetFuzziness(1)
	words.SetOperator(query.MatchQueryOperatorAnd)
	sr := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(p, fz, words), n, 0, false)
	res, err := s.index.SearchInContext(ctx, sr)
	if err != nil {
		return nil
	}
	out := make([]Ref, 0, len(res.Hits))
	for _, h := range res.Hits {
		if r, err := ParseRef(h.ID, RefDefaults{}); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// Complete returns up to n refs whose names start with prefix (any case),
// shortest names first: the typeahead of chat autocomplete. It reads the
// in-memory name index.
func (s *Store) Complete(ctx context.Context, prefix string, n int) ([]Ref, error) {
	lower := strings.ToLower(strings.TrimSpace(prefix))
	if lower == "" || n <= 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	refs := s.names.shortestWithPrefix(lower, n)
	s.mu.RUnlock()
	out := make([]Ref, 0, len(refs))
	for _, r := range refs {
		if ref, err := ParseRef(r, RefDefaults{}); err == nil {
			out = append(out, ref)
		}
	}
	return out, nil
}
