package catalog

import (
	"slices"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// nameIndex maps lower-case entity names to the refs that carry them, in
// memory, so that a bare name typed in chat ("payments-api") resolves in
// microseconds. It is rebuilt from the store's keys at Open (a key-only scan)
// and kept up to date by ingests.
type nameIndex struct {
	mu     sync.RWMutex
	byName map[string][]string
}

func refName(ref string) string { return ref[strings.IndexByte(ref, '/')+1:] }

func (n *nameIndex) add(ref string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	name := refName(ref)
	if !slices.Contains(n.byName[name], ref) {
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
