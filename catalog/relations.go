package catalog

import "strings"

// Edge is one directed relation: From has relation Type to To. Both ends are
// canonical reference strings. An entity's descriptor produces edges in both
// directions (its owner gets ownerOf, the entity gets ownedBy), as Backstage's
// processors do; the edges are stored per producing entity so that replacing
// or removing it removes exactly what it produced.
type Edge struct {
	From string `json:"f"`
	Type string `json:"t"`
	To   string `json:"o"`
}

// deriveEdges returns the relations e produces from its spec fields. e must
// have passed validation.
func deriveEdges(e *Entity) []Edge {
	fields, _ := fieldsOf(strings.ToLower(e.Kind))
	self := e.Ref().String()
	ns := e.Metadata.Namespace
	var out []Edge
	emit := func(target string, f specField) {
		r, err := ParseRef(target, RefDefaults{Kind: f.DefaultKind, Namespace: ns})
		if err != nil {
			return // validation reported it
		}
		t := r.String()
		out = append(out, Edge{From: self, Type: f.Out, To: t}, Edge{From: t, Type: f.In, To: self})
	}
	for _, f := range fields {
		if f.Out == "" {
			continue
		}
		switch v := e.Spec[f.Name].(type) {
		case string:
			if f.Type == fieldRef {
				emit(v, f)
			}
		case []any:
			if f.Type == fieldRefs {
				for _, item := range v {
					if s, ok := item.(string); ok {
						emit(s, f)
					}
				}
			}
		}
	}
	return out
}
