package catalog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// AmbiguousError says a name matches several entities; Candidates lists them.
type AmbiguousError struct {
	Query      string
	Candidates []Ref
}

func (e *AmbiguousError) Error() string {
	names := make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		names[i] = c.String()
	}
	return fmt.Sprintf("%q matches %d entities: %s", e.Query, len(e.Candidates), strings.Join(names, ", "))
}

// NotFoundError says nothing matches; Suggestions are close names ("did you
// mean"). It wraps ErrNotFound.
type NotFoundError struct {
	Query       string
	Suggestions []Ref
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no entity named %q", e.Query)
	if len(e.Suggestions) > 0 {
		names := make([]string, len(e.Suggestions))
		for i, c := range e.Suggestions {
			names[i] = c.String()
		}
		msg += "; did you mean " + strings.Join(names, ", ") + "?"
	}
	return msg
}

func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// Get returns the entity ref names ("kind:namespace/name" or "kind:name",
// any case), with its relations.
func (s *Store) Get(ctx context.Context, ref string) (*Entity, error) {
	r, err := ParseRef(ref, RefDefaults{})
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.get(ctx, r.String())
}

func (s *Store) get(ctx context.Context, ref string) (*Entity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var e *Entity
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		if e, _, err = (reader{txn}).entity(ref); err != nil {
			return err
		}
		e.Relations, err = relationsOf(txn, ref)
		return err
	})
	return e, err
}

// reader reads entities inside one read transaction.
type reader struct{ txn *badger.Txn }

// entity reads the body of ref and the targets of the relation types asked
// for (without checking that they exist). A missing entity gives a
// *NotFoundError.
func (r reader) entity(ref string, types ...string) (*Entity, map[string][]string, error) {
	p, found, err := getPointer(r.txn, ref, false)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, &NotFoundError{Query: ref}
	}
	var e Entity
	if found, err = getJSON(r.txn, bodyKey(ref, p.Hash), &e); err != nil || !found {
		return nil, nil, errors.Join(err, fmt.Errorf("body of %s is missing; run idpbot catalog reindex or re-ingest", ref))
	}
	if len(types) == 0 {
		return &e, nil, nil
	}
	rels := make(map[string][]string, len(types))
	for _, t := range types {
		prefix := cat(string(pfxRel), ref, "\x00", t, "\x00")
		it := r.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		last := ""
		for it.Rewind(); it.Valid(); it.Next() {
			rest := it.Item().Key()[len(prefix):]
			to := string(rest[:max(indexByte(rest, 0), 0)])
			if to != last {
				rels[t] = append(rels[t], to)
				last = to
			}
		}
		it.Close()
	}
	return &e, rels, nil
}

// relationsOf reads the relations whose source is ref, with whether each
// target exists, sorted by type and target.
func relationsOf(txn *badger.Txn, ref string) ([]Relation, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: relPrefix(ref)})
	defer it.Close()
	var out []Relation
	seen := map[[2]string]bool{}
	for it.Rewind(); it.Valid(); it.Next() {
		e, _, ok := parseRelKey(it.Item().Key())
		if !ok || seen[[2]string{e.Type, e.To}] {
			continue
		}
		seen[[2]string{e.Type, e.To}] = true
		_, err := txn.Get(entityKey(e.To))
		if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return nil, err
		}
		out = append(out, Relation{Type: e.Type, TargetRef: e.To, TargetExists: err == nil})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].TargetRef < out[j].TargetRef
	})
	return out, nil
}

// Resolve finds the one entity a person means: a full or partial ref
// ("component:payments-api", "default/payments-api") or a bare name, any
// case. Several matches give an *AmbiguousError; none a *NotFoundError with
// suggestions. preferKinds, when given, breaks ties: a name that matches one
// entity of the first preferred kind that has any resolves to it.
func (s *Store) Resolve(ctx context.Context, query string, preferKinds ...string) (*Entity, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return nil, &NotFoundError{Query: query}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var refs []string
	if strings.ContainsAny(q, ":/") {
		if r, err := ParseRef(q, RefDefaults{}); err == nil {
			e, err := s.get(ctx, r.String())
			if !errors.Is(err, ErrNotFound) {
				return e, err
			}
		}
		// "default/name" or "kind:name" in another namespace: filter by name.
		kind, ns, name := splitLoose(q)
		for _, r := range s.names.lookup(name) {
			rr := MustParseRef(r)
			if (kind == "" || strings.EqualFold(rr.Kind, kind)) && (ns == "" || strings.EqualFold(rr.Namespace, ns)) {
				refs = append(refs, r)
			}
		}
	} else {
		refs = s.names.lookup(q)
	}
	if len(refs) > 1 {
		for _, k := range preferKinds {
			var pick []string
			for _, r := range refs {
				if strings.HasPrefix(r, strings.ToLower(k)+":") {
					pick = append(pick, r)
				}
			}
			if len(pick) == 1 {
				refs = pick
				break
			}
			if len(pick) > 1 {
				refs = pick // still ambiguous, but among the preferred kind
				break
			}
		}
	}
	switch len(refs) {
	case 0:
		return nil, &NotFoundError{Query: q, Suggestions: s.suggest(ctx, q, 5)}
	case 1:
		return s.get(ctx, refs[0])
	default:
		amb := &AmbiguousError{Query: q}
		for _, r := range refs {
			amb.Candidates = append(amb.Candidates, MustParseRef(r))
		}
		return nil, amb
	}
}

// splitLoose splits "kind:ns/name", "kind:name", "ns/name" without defaults.
func splitLoose(q string) (kind, ns, name string) {
	rest := q
	colon, slash := strings.IndexByte(rest, ':'), strings.IndexByte(rest, '/')
	if colon >= 0 && (slash < 0 || colon < slash) {
		kind, rest = rest[:colon], rest[colon+1:]
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		ns, rest = rest[:i], rest[i+1:]
	}
	return kind, ns, rest
}

// Count returns the number of entities in the catalog.
func (s *Store) Count() int { return s.names.size() }

// List returns the entities matching filter (Backstage's filter syntax, see
// ParseFilter), sorted by ref, at most limit (0: all), with relations.
func (s *Store) List(ctx context.Context, f Filter, limit int) ([]*Entity, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Entity
	err := s.db.View(func(txn *badger.Txn) error {
		for _, prefix := range f.prefixes() {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 128})
			err := func() error {
				defer it.Close()
				for it.Rewind(); it.Valid(); it.Next() {
					if err := ctx.Err(); err != nil {
						return err
					}
					ref := refFromEntityKey(it.Item().Key())
					var p pointer
					if err := it.Item().Value(func(b []byte) error { return decodePointer(b, &p) }); err != nil {
						return err
					}
					var e Entity
					if found, err := getJSON(txn, bodyKey(ref, p.Hash), &e); err != nil || !found {
						return errors.Join(err, fmt.Errorf("body of %s is missing", ref))
					}
					rels, err := relationsOf(txn, ref)
					if err != nil {
						return err
					}
					e.Relations = rels
					if f.Match(&e) {
						out = append(out, &e)
						if limit > 0 && len(out) >= limit && len(f.prefixes()) == 1 {
							return nil
						}
					}
				}
				return nil
			}()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref().String() < out[j].Ref().String() })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
