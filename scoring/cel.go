package scoring

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"

	"github.com/idpbot/idpbot/catalog"
)

// newEnv is the CEL environment of rules: entity and facts are maps of
// dynamic values; the standard library, string and list extensions apply.
func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("entity", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("facts", cel.MapType(cel.StringType, cel.DynType)),
	)
}

// The fields of the entity map below spec (which is free-form).
var entityFields = map[string][]string{
	"":         {"apiVersion", "kind", "metadata", "spec", "relations"},
	"metadata": {"name", "namespace", "title", "description", "labels", "annotations", "tags", "links"},
}

// Rules are code reviewed like the rest of a platform team's configuration
// (`idpbot scorecards validate` in CI); their evaluation has no cost limit:
// cel-go's runtime cost tracking (cel.CostLimit) costs 40-50% of a pass over
// the catalog (measured with BenchmarkEvaluate20Rules), and an entity's
// lists are bounded by its validation.

// compile checks expr: it must parse, type-check, be boolean, and select
// only fields the entity has. It returns the program and the facts read.
func compile(env *cel.Env, expr string) (cel.Program, []string, error) {
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, nil, errors.New(strings.ReplaceAll(iss.Err().Error(), "\n", " "))
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, nil, fmt.Errorf("the expression gives %s; a rule must give true or false", t)
	}
	var unknown []string
	facts := map[string]bool{}
	celast.PreOrderVisit(ast.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() != celast.SelectKind {
			return
		}
		root, path := selectPath(e)
		switch root {
		case "facts":
			if len(path) > 0 {
				facts[path[0]] = true
			}
		case "entity":
			if bad := checkEntityPath(path); bad != "" {
				unknown = append(unknown, bad)
			}
		}
	}))
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, nil, fmt.Errorf("unknown field %s; an entity has %s, and metadata has %s",
			strings.Join(unknown, ", "), strings.Join(entityFields[""], ", "), strings.Join(entityFields["metadata"], ", "))
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(facts))
	for f := range facts {
		names = append(names, f)
	}
	sort.Strings(names)
	return prg, names, nil
}

// selectPath unwinds a.b.c into root "a" and path [b c]; a root that is
// not an identifier gives "".
func selectPath(e celast.Expr) (string, []string) {
	var path []string
	for e.Kind() == celast.SelectKind {
		s := e.AsSelect()
		path = append([]string{s.FieldName()}, path...)
		e = s.Operand()
	}
	if e.Kind() != celast.IdentKind {
		return "", nil
	}
	return e.AsIdent(), path
}

// checkEntityPath returns the first unknown field of entity.<path>, or "".
func checkEntityPath(path []string) string {
	if len(path) == 0 {
		return ""
	}
	if !contains(entityFields[""], path[0]) {
		return "entity." + path[0]
	}
	if path[0] == "metadata" && len(path) > 1 && !contains(entityFields["metadata"], path[1]) {
		return "entity.metadata." + path[1]
	}
	return ""
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// entityMap is the entity as rules see it: the Backstage descriptor shape,
// with every metadata field present (empty when unset) so that rules can
// test them without has(). Strings, string lists and string maps go to CEL
// as they are (it adapts them natively); only links and relations need
// maps. Evaluations do not build it whole (see input), but what they find
// field by field is what it holds.
func entityMap(e *catalog.Entity) map[string]any {
	return map[string]any{
		"apiVersion": e.APIVersion,
		"kind":       e.Kind,
		"metadata":   metadataMap(&e.Metadata),
		"spec":       specOf(e),
		"relations":  relationsOf(e),
	}
}

func metadataMap(md *catalog.Metadata) map[string]any {
	return map[string]any{
		"name": md.Name, "namespace": md.Namespace, "title": md.Title, "description": md.Description,
		"labels": stringMap(md.Labels), "annotations": stringMap(md.Annotations), "tags": stringList(md.Tags), "links": linksOf(md),
	}
}

// The values of the entity's fields as rules see them: unset maps and
// lists are empty (shared: CEL does not modify its input), links and
// relations are maps.
var (
	noSpec    = map[string]any{}
	noStrings = map[string]string{}
)

func specOf(e *catalog.Entity) map[string]any {
	if e.Spec == nil {
		return noSpec
	}
	return e.Spec
}

func relationsOf(e *catalog.Entity) []any {
	rels := make([]any, len(e.Relations))
	for i, r := range e.Relations {
		rels[i] = relationMap(make(map[string]any, 2), r)
	}
	return rels
}

// relationMap sets m to r's fields.
func relationMap(m map[string]any, r catalog.Relation) map[string]any {
	m["type"], m["targetRef"] = r.Type, r.TargetRef
	return m
}

func linksOf(md *catalog.Metadata) []any {
	links := make([]any, len(md.Links))
	for i, l := range md.Links {
		links[i] = linkMap(make(map[string]any, 4), l)
	}
	return links
}

// linkMap sets m to l's fields.
func linkMap(m map[string]any, l catalog.Link) map[string]any {
	m["url"], m["title"], m["icon"], m["type"] = l.URL, l.Title, l.Icon, l.Type
	return m
}

func stringMap(m map[string]string) map[string]string {
	if m == nil {
		return noStrings
	}
	return m
}

func stringList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
