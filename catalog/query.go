package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

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
		p, err := readPointer(txn, ref, true)
		if err != nil {
			return err
		}
		if e, err = readBody(txn, ref, p.Hash); err != nil {
			return err
		}
		e.Relations, err = s.relationsOf(txn, ref, &p)
		return err
	})
	return e, err
}

// reader reads entities inside one read transaction. With a cache, the
// summaries it reads are kept for the next query (see summaryCache).
type reader struct {
	txn   *badger.Txn
	cache *summaryCache
}

// entity reads the body of ref and the targets of the relation types asked
// for (sorted, without checking that they exist). A missing entity gives a
// *NotFoundError.
func (r reader) entity(ref string, types ...string) (*Entity, map[string][]string, error) {
	return r.read(ref, false, types...)
}

// summary is entity for entities shown by name only (owners, members,
// parents): the body is decoded without spec fields other than the profile.
// The entity and map returned are shared with the cache: callers must not
// change them.
func (r reader) summary(ref string, types ...string) (*Entity, map[string][]string, error) {
	if r.cache == nil {
		return r.read(ref, true, types...)
	}
	key := ref
	for _, t := range types {
		key += "\x00" + t
	}
	if c, ok := r.cache.get(key); ok {
		return c.entity, c.rels, nil
	}
	e, rels, err := r.read(ref, true, types...)
	if err == nil {
		r.cache.put(key, cachedSummary{entity: e, rels: rels})
	}
	return e, rels, err
}

// summaryCache keeps the summaries who-owns reads (owners, their members and
// parent groups, systems and domains), which many answers share. It is
// emptied whenever an ingest changes the catalog (under Store.mu), and when
// it reaches maxCachedSummaries entries.
type summaryCache struct {
	mu sync.RWMutex
	m  map[string]cachedSummary
}

type cachedSummary struct {
	entity *Entity
	rels   map[string][]string
}

const maxCachedSummaries = 50000

func (c *summaryCache) get(key string) (cachedSummary, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[key]
	return v, ok
}

func (c *summaryCache) put(key string, v cachedSummary) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedSummaries {
		c.m = map[string]cachedSummary{}
	}
	c.m[key] = v
}

func (c *summaryCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

func (r reader) read(ref string, light bool, types ...string) (*Entity, map[string][]string, error) {
	item, err := r.txn.Get(entityKey(ref))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil, &NotFoundError{Query: ref}
	}
	if err != nil {
		return nil, nil, err
	}
	var hash uint64
	var rels map[string][]string
	if len(types) > 0 {
		rels = make(map[string][]string, len(types))
	}
	want := func(t []byte) bool {
		for _, x := range types {
			if x == string(t) {
				return true
			}
		}
		return false
	}
	err = item.Value(func(b []byte) error {
		var err error
		hash, err = pointerEdgesFrom(b, want, func(typ, to []byte) {
			rels[string(typ)] = append(rels[string(typ)], string(to))
		})
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", ref, err)
	}
	var e *Entity
	if light {
		e, err = readSummaryBody(r.txn, ref, hash)
	} else {
		e, err = readBody(r.txn, ref, hash)
	}
	if err != nil || len(types) == 0 {
		return e, nil, err
	}
	err = scanGiven(r.txn, ref, func(typ, to []byte) {
		if want(typ) {
			rels[string(typ)] = append(rels[string(typ)], string(to))
		}
	})
	if err != nil {
		return nil, nil, err
	}
	for t, targets := range rels {
		slices.Sort(targets)
		rels[t] = slices.Compact(targets)
	}
	return e, rels, nil
}

// readPointer reads the pointer of ref (with full false, only its hash); a
// missing entity gives a *NotFoundError.
func readPointer(txn *badger.Txn, ref string, full bool) (pointer, error) {
	p, found, err := getPointer(txn, ref, full)
	if err == nil && !found {
		err = &NotFoundError{Query: ref}
	}
	return p, err
}

// readBody reads and decodes the body of ref.
func readBody(txn *badger.Txn, ref string, hash uint64) (*Entity, error) {
	var e Entity
	if found, err := getJSON(txn, bodyKey(ref, hash), &e); err != nil || !found {
		return nil, errors.Join(err, fmt.Errorf("body of %s is missing; run idpbot catalog reindex or re-ingest", ref))
	}
	return &e, nil
}

// summaryBody is the part of a body that summaries show.
type summaryBody struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       struct {
		Profile *struct {
			DisplayName string `json:"displayName,omitempty"`
			Email       string `json:"email,omitempty"`
		} `json:"profile"`
	} `json:"spec"`
}

// readSummaryBody reads the body of ref without the spec fields other than
// spec.profile's display name and e-mail: a group's body lists its children
// and members, which summaries do not show.
func readSummaryBody(txn *badger.Txn, ref string, hash uint64) (*Entity, error) {
	var sb summaryBody
	found, err := getJSON(txn, bodyKey(ref, hash), &sb)
	if err != nil {
		// A spec.profile of another shape (kinds idpbot does not know):
		// read the whole body.
		return readBody(txn, ref, hash)
	}
	if !found {
		return nil, fmt.Errorf("body of %s is missing; run idpbot catalog reindex or re-ingest", ref)
	}
	e := &Entity{APIVersion: sb.APIVersion, Kind: sb.Kind, Metadata: sb.Metadata}
	if p := sb.Spec.Profile; p != nil {
		prof := map[string]any{}
		if p.DisplayName != "" {
			prof["displayName"] = p.DisplayName
		}
		if p.Email != "" {
			prof["email"] = p.Email
		}
		e.Spec = map[string]any{"profile": prof}
	}
	return e, nil
}

// scanGiven calls fn with the type and target of each relation key under
// ref: the edges other entities gave it.
func scanGiven(txn *badger.Txn, ref string, fn func(typ, to []byte)) error {
	prefix := relPrefix(ref)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		rest := it.Item().Key()[len(prefix):]
		i := indexByte(rest, 0)
		if i < 0 {
			continue
		}
		fn(rest[:i], rest[i+1:])
	}
	return nil
}

// relationsOf reads the relations whose source is ref (p is its pointer),
// with whether each target exists, sorted by type and target.
func (s *Store) relationsOf(txn *badger.Txn, ref string, p *pointer) ([]Relation, error) {
	var out []Relation
	for _, e := range p.Edges {
		if e.From == ref {
			out = append(out, Relation{Type: e.Type, TargetRef: e.To})
		}
	}
	err := scanGiven(txn, ref, func(typ, to []byte) {
		out = append(out, Relation{Type: string(typ), TargetRef: string(to)})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Relation) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.TargetRef, b.TargetRef)
	})
	out = slices.CompactFunc(out, func(a, b Relation) bool { return a.Type == b.Type && a.TargetRef == b.TargetRef })
	exists := map[string]bool{}
	for i := range out {
		t := out[i].TargetRef
		ok, seen := exists[t]
		if !seen && s.names != nil {
			// The name index holds exactly the refs in the store while
			// the caller holds s.mu.
			ok, seen = s.names.has(t), true
		}
		if !seen {
			_, err := txn.Get(entityKey(t))
			if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
				return nil, err
			}
			ok = err == nil
			exists[t] = ok
		}
		out[i].TargetExists = ok
	}
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
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
			err := func() error {
				defer it.Close()
				for it.Rewind(); it.Valid(); it.Next() {
					if err := ctx.Err(); err != nil {
						return err
					}
					ref := refFromEntityKey(it.Item().Key())
					var p pointer
					if err := it.Item().Value(func(b []byte) error { return decodePointer(ref, b, &p) }); err != nil {
						return err
					}
					e, err := readBody(txn, ref, p.Hash)
					if err != nil {
						return err
					}
					if e.Relations, err = s.relationsOf(txn, ref, &p); err != nil {
						return err
					}
					if f.Match(e) {
						out = append(out, e)
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
