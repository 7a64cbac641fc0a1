package scoring

import (
	"reflect"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"

	"github.com/idpbot/idpbot/catalog"
)

// input binds the two variables of rules, `entity` and `facts`, for one
// entity at a time. Rules mostly select a few fields (entity.spec.owner,
// entity.metadata.tags, facts.coverage), so the entity is not converted to
// a map up front (entityMap): each field is found when a rule selects it,
// and the lists and maps CEL makes of it are made once for all the rules of
// the entity instead of once per rule. Anything else a rule does with
// entity, entity.metadata or facts as a whole (iterate, compare, size, in)
// goes to the full map, built on first need, so rules see exactly the
// values they would see in entityMap.
//
// An input is used by one goroutine; an evaluation worker reuses one for
// every entity (reset), since nothing of it outlives the entity's result.
type input struct {
	adapter types.Adapter

	e     *catalog.Entity
	facts Facts

	entityVal, metadataVal, factsVal lazyMap

	// The entity's values as CEL sees them, made on first use.
	spec, relations, labels, annotations, tags, links ref.Val

	// The maps of links and relations, reused from entity to entity:
	// rules only read them, and nothing keeps them past the entity.
	relPool, linkPool []map[string]any
}

var _ interpreter.Activation = (*input)(nil)

func newInput(adapter types.Adapter) *input {
	if adapter == nil {
		adapter = types.DefaultTypeAdapter
	}
	in := &input{adapter: adapter}
	in.entityVal = lazyMap{fields: entityView{in}, adapter: adapter}
	in.metadataVal = lazyMap{fields: metadataView{in}, adapter: adapter}
	in.factsVal = lazyMap{fields: factView{in}, adapter: adapter}
	return in
}

// reset points the input at e and its facts, forgetting the last entity.
func (in *input) reset(e *catalog.Entity, facts Facts) {
	in.e, in.facts = e, facts
	in.entityVal.whole, in.metadataVal.whole, in.factsVal.whole = nil, nil, nil
	in.spec, in.relations, in.labels, in.annotations, in.tags, in.links = nil, nil, nil, nil, nil, nil
}

// ResolveName implements interpreter.Activation.
func (in *input) ResolveName(name string) (any, bool) {
	switch name {
	case "entity":
		return &in.entityVal, true
	case "facts":
		return &in.factsVal, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (in *input) Parent() interpreter.Activation { return nil }

// convert gives the CEL value of v, made once per entity in *cache.
func (in *input) convert(cache *ref.Val, v any) ref.Val {
	if *cache == nil {
		*cache = in.adapter.NativeToValue(v)
	}
	return *cache
}

// relationMaps is relationsOf(in.e), in maps reused from earlier entities.
func (in *input) relationMaps() []any {
	rels := in.e.Relations
	for len(in.relPool) < len(rels) {
		in.relPool = append(in.relPool, make(map[string]any, 2))
	}
	out := make([]any, len(rels))
	for i, r := range rels {
		out[i] = relationMap(in.relPool[i], r)
	}
	return out
}

// linkMaps is linksOf(&in.e.Metadata), in maps reused from earlier entities.
func (in *input) linkMaps() []any {
	links := in.e.Metadata.Links
	for len(in.linkPool) < len(links) {
		in.linkPool = append(in.linkPool, make(map[string]any, 4))
	}
	out := make([]any, len(links))
	for i, l := range links {
		out[i] = linkMap(in.linkPool[i], l)
	}
	return out
}

// fields is what a lazyMap finds by name without building its map.
type fields interface {
	// field is the value of the map's key name (a Go value, or a CEL value
	// made once per entity), and whether the map has the key.
	field(name string) (any, bool)
	// native is the whole map, as entityMap or factValues makes it.
	native() map[string]any
}

type entityView struct{ in *input }

func (f entityView) field(name string) (any, bool) {
	in := f.in
	switch name {
	case "apiVersion":
		return types.String(in.e.APIVersion), true
	case "kind":
		return types.String(in.e.Kind), true
	case "metadata":
		return &in.metadataVal, true
	case "spec":
		return in.convert(&in.spec, specOf(in.e)), true
	case "relations":
		if in.relations == nil {
			in.relations = in.adapter.NativeToValue(in.relationMaps())
		}
		return in.relations, true
	}
	return nil, false
}

func (f entityView) native() map[string]any { return entityMap(f.in.e) }

type metadataView struct{ in *input }

func (f metadataView) field(name string) (any, bool) {
	in := f.in
	md := &in.e.Metadata
	switch name {
	case "name":
		return types.String(md.Name), true
	case "namespace":
		return types.String(md.Namespace), true
	case "title":
		return types.String(md.Title), true
	case "description":
		return types.String(md.Description), true
	case "labels":
		return in.convert(&in.labels, stringMap(md.Labels)), true
	case "annotations":
		return in.convert(&in.annotations, stringMap(md.Annotations)), true
	case "tags":
		return in.convert(&in.tags, stringList(md.Tags)), true
	case "links":
		if in.links == nil {
			in.links = in.adapter.NativeToValue(in.linkMaps())
		}
		return in.links, true
	}
	return nil, false
}

func (f metadataView) native() map[string]any { return metadataMap(&f.in.e.Metadata) }

type factView struct{ in *input }

func (f factView) field(name string) (any, bool) {
	fact, ok := f.in.facts[name]
	return fact.Value, ok
}

func (f factView) native() map[string]any { return factValues(f.in.facts) }

// lazyMap is a CEL map(string, dyn) that answers field selections from its
// fields and everything else from the whole map, made on first need.
type lazyMap struct {
	fields  fields
	adapter types.Adapter
	whole   traits.Mapper
}

var (
	_ ref.Val         = (*lazyMap)(nil)
	_ traits.Mapper   = (*lazyMap)(nil)
	_ traits.Foldable = (*lazyMap)(nil)
	_ traits.Zeroer   = (*lazyMap)(nil)
)

func (m *lazyMap) full() traits.Mapper {
	if m.whole == nil {
		m.whole = m.adapter.NativeToValue(m.fields.native()).(traits.Mapper)
	}
	return m.whole
}

// FindStringKey is the interpreter's fast path for selecting a field
// (entity.spec, facts.coverage): no map, and no CEL string for the key.
// Without it (cel-go does not document it) selections come through Find,
// more slowly, to the same values.
func (m *lazyMap) FindStringKey(name string) (any, bool) { return m.fields.field(name) }

// Find implements traits.Mapper.
func (m *lazyMap) Find(key ref.Val) (ref.Val, bool) {
	if s, ok := key.(types.String); ok {
		v, found := m.fields.field(string(s))
		if !found {
			return nil, false
		}
		return m.adapter.NativeToValue(v), true
	}
	return m.full().Find(key)
}

// Contains implements traits.Container.
func (m *lazyMap) Contains(key ref.Val) ref.Val {
	if s, ok := key.(types.String); ok {
		_, found := m.fields.field(string(s))
		return types.Bool(found)
	}
	return m.full().Contains(key)
}

// Get implements traits.Indexer.
func (m *lazyMap) Get(key ref.Val) ref.Val {
	if v, found := m.Find(key); found {
		return v
	}
	return m.full().Get(key)
}

// Iterator implements traits.Iterable.
func (m *lazyMap) Iterator() traits.Iterator { return m.full().Iterator() }

// Fold implements traits.Foldable.
func (m *lazyMap) Fold(f traits.Folder) {
	if fm, ok := m.full().(traits.Foldable); ok {
		fm.Fold(f)
		return
	}
	types.ToFoldableMap(m.full()).Fold(f)
}

// Size implements traits.Sizer.
func (m *lazyMap) Size() ref.Val { return m.full().Size() }

// IsZeroValue implements traits.Zeroer.
func (m *lazyMap) IsZeroValue() bool { return m.full().Size() == types.IntZero }

// ConvertToNative implements ref.Val.
func (m *lazyMap) ConvertToNative(t reflect.Type) (any, error) { return m.full().ConvertToNative(t) }

// ConvertToType implements ref.Val.
func (m *lazyMap) ConvertToType(t ref.Type) ref.Val {
	if t == types.MapType {
		return m
	}
	return m.full().ConvertToType(t)
}

// Equal implements ref.Val.
func (m *lazyMap) Equal(other ref.Val) ref.Val {
	if o, ok := other.(*lazyMap); ok {
		other = o.full()
	}
	return m.full().Equal(other)
}

// Type implements ref.Val.
func (m *lazyMap) Type() ref.Type { return types.MapType }

// Value implements ref.Val.
func (m *lazyMap) Value() any { return m.full().Value() }

func (m *lazyMap) String() string {
	if s, ok := m.full().(interface{ String() string }); ok {
		return s.String()
	}
	return types.Format(m)
}
