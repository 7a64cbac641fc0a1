package catalog

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/dgraph-io/badger/v4"
)

// nameIndex maps lower-case entity names to the refs that carry them, in
// memory, so that a bare name typed in chat ("payments-api") resolves in
// microseconds. It is rebuilt from the store's keys at Open (a key-only scan)
// and kept up to date by ingests.
type nameIndex struct {
	mu     sync.RWMutex
	byName map[string][]string
	// sorted lists the names in order for prefix lookups; it is rebuilt on
	// the first lookup after an ingest changed the set of names.
	sorted []string
	dirty  bool
	// words counts the names each word of a name (a run of letters and
	// digits) appears in: a typed word that is a name's word is taken as
	// spelled right (see textQuery).
	words map[string]int
}

// nameAnalyzer is the name field's analyzer (Unicode word boundaries, lower
// case, English stop words left out): a name's words are exactly the terms
// the index holds for it ("edge_broker" is one).
var nameAnalyzer = sync.OnceValue(func() analysis.Analyzer {
	return bleve.NewIndexMapping().AnalyzerNamed(standard.Name)
})

// stopWords are the words the name field's analyzer leaves out.
var stopWords = sync.OnceValue(func() analysis.TokenMap {
	tm, err := registry.NewCache().TokenMapNamed(en.StopName)
	if err != nil {
		return analysis.TokenMap{}
	}
	return tm
})

// nameWords returns the words of a name as the index has them. Most names
// are lower-case letters and digits between hyphens, whose words are the
// parts between them (the analyzer breaks words at hyphens only there):
// those are split without running the analyzer, which at 100k names would
// add a quarter of a second to opening the store.
func nameWords(name string) []string {
	var out []string
	eachNameWord(name, func(w string) { out = append(out, w) })
	return out
}

// eachNameWord calls fn with each word of name (see nameWords).
func eachNameWord(name string, fn func(w string)) {
	if simpleName(name) {
		stop := stopWords()
		for rest, more := name, true; more; {
			var w string
			w, rest, more = strings.Cut(rest, "-")
			if !stop[w] {
				fn(w)
			}
		}
		return
	}
	for _, t := range nameAnalyzer().Analyze([]byte(name)) {
		fn(string(t.Term))
	}
}

// simpleName reports whether name is lower-case letters and digits between
// single hyphens.
func simpleName(name string) bool {
	if name == "" || name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && name[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// addWords and removeWords count a name's words in or out; callers hold
// n.mu for writing.
func (n *nameIndex) addWords(name string, delta int) {
	if n.words == nil {
		n.words = map[string]int{}
	}
	eachNameWord(name, func(w string) {
		if c := n.words[w] + delta; c > 0 {
			n.words[w] = c
		} else {
			delete(n.words, w)
		}
	})
}

// isWord says whether w (lower case) is a word of some name.
func (n *nameIndex) isWord(w string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.words[w] > 0
}

func refName(ref string) string { return ref[strings.IndexByte(ref, '/')+1:] }

func (n *nameIndex) add(ref string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	name := refName(ref)
	if !slices.Contains(n.byName[name], ref) {
		if len(n.byName[name]) == 0 {
			n.dirty = true
			n.addWords(name, 1)
		}
		n.byName[name] = append(n.byName[name], ref)
		slices.Sort(n.byName[name])
	}
}

func (n *nameIndex) remove(ref string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	name := refName(ref)
	refs := slices.DeleteFunc(n.byName[name], func(r string) bool { return r == ref })
	if len(refs) == 0 {
		if _, had := n.byName[name]; had {
			n.dirty = true
			n.addWords(name, -1)
		}
		delete(n.byName, name)
	} else {
		n.byName[name] = refs
	}
}

// lookup returns the refs named name (case-insensitive), sorted.
func (n *nameIndex) lookup(name string) []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return slices.Clone(n.byName[strings.ToLower(name)])
}

// has says whether ref (canonical) is in the catalog.
func (n *nameIndex) has(ref string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return slices.Contains(n.byName[refName(ref)], ref)
}

// sortedNames returns the names in order, rebuilding the list after an
// ingest changed them. Callers hold n.mu for reading; it is released and
// taken again around a rebuild.
func (n *nameIndex) sortedNames() []string {
	if n.dirty || (n.sorted == nil && len(n.byName) > 0) {
		n.mu.RUnlock()
		n.mu.Lock()
		if n.dirty || n.sorted == nil {
			n.sorted = make([]string, 0, len(n.byName))
			for name := range n.byName {
				n.sorted = append(n.sorted, name)
			}
			slices.Sort(n.sorted)
			n.dirty = false
		}
		n.mu.Unlock()
		n.mu.RLock()
	}
	return n.sorted
}

// shortestWithPrefix returns up to limit refs whose names start with prefix
// (lower case), shortest names first, then by ref.
func (n *nameIndex) shortestWithPrefix(prefix string, limit int) []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	sorted := n.sortedNames()
	var out []string
	for i, _ := slices.BinarySearch(sorted, prefix); i < len(sorted) && strings.HasPrefix(sorted[i], prefix); i++ {
		// Keep the limit shortest: names come in lexical order, so a name
		// only enters when it is shorter than the longest kept.
		if len(out) >= limit && len(sorted[i]) > len(refName(out[len(out)-1])) {
			continue
		}
		out = append(out, n.byName[sorted[i]]...)
		slices.SortStableFunc(out, func(a, b string) int {
			if d := len(refName(a)) - len(refName(b)); d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		if len(out) > limit {
			out = out[:limit]
		}
	}
	return out
}

// withPrefix returns the refs whose names start with prefix (lower case),
// in name order, unless more than limit do: then it returns only that count.
func (n *nameIndex) withPrefix(prefix string, limit int) (refs []string, count int) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	sorted := n.sortedNames()
	i, _ := slices.BinarySearch(sorted, prefix)
	j := i
	for j < len(sorted) && strings.HasPrefix(sorted[j], prefix) {
		if j-i >= limit {
			// Count the rest without collecting them.
			k := j + sort.Search(len(sorted)-j, func(x int) bool { return !strings.HasPrefix(sorted[j+x], prefix) })
			return nil, k - i
		}
		refs = append(refs, n.byName[sorted[j]]...)
		j++
	}
	return refs, j - i
}

func (n *nameIndex) size() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	c := 0
	for _, r := range n.byName {
		c += len(r)
	}
	return c
}

func (s *Store) loadNames() error {
	n := &nameIndex{byName: map[string][]string{}}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxEntity})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			ref := refFromEntityKey(it.Item().Key())
			name := refName(ref)
			if len(n.byName[name]) == 0 {
				n.addWords(name, 1)
			}
			n.byName[name] = append(n.byName[name], ref)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.names = n
	return nil
}
