package catalog

import "strings"

// Relation types (Backstage's well-known relations), in pairs.
const (
	RelOwnedBy       = "ownedBy"
	RelOwnerOf       = "ownerOf"
	RelPartOf        = "partOf"
	RelHasPart       = "hasPart"
	RelDependsOn     = "dependsOn"
	RelDependencyOf  = "dependencyOf"
	RelProvidesAPI   = "providesApi"
	RelAPIProvidedBy = "apiProvidedBy"
	RelConsumesAPI   = "consumesApi"
	RelAPIConsumedBy = "apiConsumedBy"
	RelMemberOf      = "memberOf"
	RelHasMember     = "hasMember"
	RelChildOf       = "childOf"
	RelParentOf      = "parentOf"
)

// RelationTypes lists every relation type the catalog derives.
var RelationTypes = []string{
	RelOwnedBy, RelOwnerOf, RelPartOf, RelHasPart, RelDependsOn, RelDependencyOf,
	RelProvidesAPI, RelAPIProvidedBy, RelConsumesAPI, RelAPIConsumedBy,
	RelMemberOf, RelHasMember, RelChildOf, RelParentOf,
}

// canonicalRelation maps a lower-cased relation type to its canonical form,
// for filters such as relations.ownedby=….
var canonicalRelation = func() map[string]string {
	m := make(map[string]string, len(RelationTypes))
	for _, t := range RelationTypes {
		m[strings.ToLower(t)] = t
	}
	return m
}()

// fieldType says what a spec field holds.
type fieldType int

const (
	fieldString   fieldType = iota // a non-empty string
	fieldRef                       // one entity reference
	fieldRefs                      // a list of entity references
	fieldStrings                   // a list of strings
	fieldObject                    // a mapping
	fieldDocument                  // a string, usually filled by $text
)

// specField describes one spec field of a kind: its type, whether it must be
// present, and for references the default kind and the relation pair it
// produces (Out from the entity to the target, In back).
type specField struct {
	Name        string
	Type        fieldType
	Required    bool
	DefaultKind string
	Out, In     string
	Enum        []string
	// Warn makes a missing required field a warning rather than an error.
	Warn bool
}

// kindSpec describes a kind Backstage knows: the apiVersions it accepts and
// its spec fields.
type kindSpec struct {
	Kind        string // canonical display form
	APIVersions []string
	Fields      []specField
}

var (
	sfOwner = specField{Name: "owner", Type: fieldRef, Required: true, DefaultKind: KindGroup, Out: RelOwnedBy, In: RelOwnerOf}
	sfSys   = specField{Name: "system", Type: fieldRef, DefaultKind: KindSystem, Out: RelPartOf, In: RelHasPart}
	sfDeps  = specField{Name: "dependsOn", Type: fieldRefs, Out: RelDependsOn, In: RelDependencyOf}
	sfDepOf = specField{Name: "dependencyOf", Type: fieldRefs, Out: RelDependencyOf, In: RelDependsOn}
	sfType  = specField{Name: "type", Type: fieldString, Required: true}
	sfLife  = specField{Name: "lifecycle", Type: fieldString, Required: true}
	sfProf  = specField{Name: "profile", Type: fieldObject}
)

var backstageV1 = []string{"backstage.io/v1alpha1", "backstage.io/v1beta1"}

// kinds is the table of Backstage's built-in kinds (BuiltinKindsEntityProcessor
// and the kind schemas of @backstage/catalog-model).
var kinds = map[string]*kindSpec{
	KindComponent: {Kind: "Component", APIVersions: backstageV1, Fields: []specField{
		sfType, sfLife, sfOwner, sfSys,
		{Name: "subcomponentOf", Type: fieldRef, DefaultKind: KindComponent, Out: RelPartOf, In: RelHasPart},
		{Name: "providesApis", Type: fieldRefs, DefaultKind: KindAPI, Out: RelProvidesAPI, In: RelAPIProvidedBy},
		{Name: "consumesApis", Type: fieldRefs, DefaultKind: KindAPI, Out: RelConsumesAPI, In: RelAPIConsumedBy},
		sfDeps, sfDepOf,
	}},
	KindAPI: {Kind: "API", APIVersions: backstageV1, Fields: []specField{
		sfType, sfLife, sfOwner, sfSys,
		{Name: "definition", Type: fieldDocument, Required: true, Warn: true},
	}},
	KindResource: {Kind: "Resource", APIVersions: backstageV1, Fields: []specField{
		sfType, sfOwner, sfSys, sfDeps, sfDepOf,
	}},
	KindSystem: {Kind: "System", APIVersions: backstageV1, Fields: []specField{
		sfOwner,
		{Name: "domain", Type: fieldRef, DefaultKind: KindDomain, Out: RelPartOf, In: RelHasPart},
		{Name: "type", Type: fieldString},
	}},
	KindDomain: {Kind: "Domain", APIVersions: backstageV1, Fields: []specField{
		sfOwner,
		{Name: "subdomainOf", Type: fieldRef, DefaultKind: KindDomain, Out: RelPartOf, In: RelHasPart},
		{Name: "type", Type: fieldString},
	}},
	KindGroup: {Kind: "Group", APIVersions: backstageV1, Fields: []specField{
		sfType, sfProf,
		{Name: "parent", Type: fieldRef, DefaultKind: KindGroup, Out: RelChildOf, In: RelParentOf},
		{Name: "children", Type: fieldRefs, Required: true, DefaultKind: KindGroup, Out: RelParentOf, In: RelChildOf},
		{Name: "members", Type: fieldRefs, DefaultKind: KindUser, Out: RelHasMember, In: RelMemberOf},
	}},
	KindUser: {Kind: "User", APIVersions: backstageV1, Fields: []specField{
		sfProf,
		{Name: "memberOf", Type: fieldRefs, Required: true, DefaultKind: KindGroup, Out: RelMemberOf, In: RelHasMember},
	}},
	KindLocation: {Kind: "Location", APIVersions: backstageV1, Fields: []specField{
		{Name: "type", Type: fieldString},
		{Name: "target", Type: fieldString},
		{Name: "targets", Type: fieldStrings},
		{Name: "presence", Type: fieldString, Enum: []string{"required", "optional"}},
	}},
	KindTemplate: {Kind: "Template", APIVersions: []string{"scaffolder.backstage.io/v1beta3", "backstage.io/v1beta2"}, Fields: []specField{
		sfType,
		{Name: "owner", Type: fieldRef, DefaultKind: KindGroup, Out: RelOwnedBy, In: RelOwnerOf},
	}},
}

// genericFields are the relation-producing fields read from kinds Backstage
// does not build in (for example AiResource, which newer Backstage releases
// model with spec.owner and spec.system): ownership and system membership are
// what chat lookups need.
var genericFields = []specField{
	{Name: "owner", Type: fieldRef, DefaultKind: KindGroup, Out: RelOwnedBy, In: RelOwnerOf},
	sfSys,
}

// fieldsOf returns the spec fields of kind k (canonical lower-case), and
// whether the kind is built in.
func fieldsOf(k string) ([]specField, bool) {
	if ks, ok := kinds[k]; ok {
		return ks.Fields, true
	}
	return genericFields, false
}
