package catalog

import (
	"context"
	"errors"
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
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxRel})
		defer it.Close()
		seen := map[Edge]bool{}
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			e, origin, ok := parseRelKey(it.Item().Key())
			if !ok || seen[e] {
				continue
			}
			from, err := has(e.From)
			if err != nil {
				return err
			}
			to, err := has(e.To)
			if err != nil {
				return err
			}
			if from && !to {
				seen[e] = true
				d := Dangling{From: e.From, Type: e.Type, To: e.To}
				if p, found, err := getPointer(txn, origin, true); err == nil && found {
					d.File = p.File
				}
				rep.Dangling = append(rep.Dangling, d)
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
