package catalog

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/dgraph-io/badger/v4"
)

// Dangling is a relation whose target is not in the catalog. Backstage keeps
// these by design ("soft errors"); so does idpbot, and lists them here.
type Dangling struct {
	From string `json:"from"`
	Type string `json:"type"`
	To   string `json:"to"`
	File string `json:"file,omitempty"` // where the entity that made it is defined
}

// CheckReport is the catalog's health: dangling relations and the problems
// of each source's last ingest.
type CheckReport struct {
	Entities int            `json:"entities"`
	Dangling []Dangling     `json:"dangling"`
	Sources  []IngestReport `json:"sources"`
}

// Check lists dangling relations and the sources' last problems.
func (s *Store) Check(ctx context.Context) (*CheckReport, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rep := &CheckReport{Entities: s.names.size(), Dangling: []Dangling{}}
	exists := map[string]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		has := func(ref string) (bool, error) {
			if v, ok := exists[ref]; ok {
				return v, nil
			}
			_, err := txn.Get(entityKey(ref))
			if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
				return false, err
			}
			exists[ref] = err == nil
			return err == nil, nil
		}
		// A dangling edge leaves an entity in the catalog, so it is one of
		// the edges in that entity's pointer.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxEntity, PrefetchValues: false})
		defer it.Close()
		seen := map[Edge]bool{}
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			ref := refFromEntityKey(it.Item().Key())
			var p pointer
			if err := it.Item().Value(func(b []byte) error { return decodePointer(ref, b, &p) }); err != nil {
				return fmt.Errorf("read %s: %w", ref, err)
			}
			for _, e := range p.Edges {
				if e.From != ref || seen[e] {
					continue
				}
				seen[e] = true
				to, err := has(e.To)
				if err != nil {
					return err
				}
				if !to {
					rep.Dangling = append(rep.Dangling, Dangling{From: e.From, Type: e.Type, To: e.To, File: p.File})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(rep.Dangling, func(i, j int) bool {
		a, b := rep.Dangling[i], rep.Dangling[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.To < b.To
	})
	rep.Sources, err = s.SourceReports(ctx)
	return rep, err
}
