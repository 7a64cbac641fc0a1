package catalog

import (
	"context"
	"fmt"
)

// ValidateReport is the outcome of validating descriptor files.
type ValidateReport struct {
	Files    int      `json:"files"`
	Entities int      `json:"entities"`
	Problems Problems `json:"problems"`
}

// Validate reads the descriptor files under roots as an ingest would
// (following Location targets) and reports every problem, without a store:
// invalid fields, duplicate entities, and references to entities that are
// not in the set (as warnings, since another source may provide them).
func Validate(ctx context.Context, roots []string) (*ValidateReport, error) {
	rep := &ValidateReport{Problems: Problems{}}
	defined := map[string]string{}
	type use struct {
		edge Edge
		doc  *Doc
	}
	var uses []use
	err := load(ctx, roots, loadOptions{}, func(res *loadResult) error {
		rep.Files++
		rep.Problems = append(rep.Problems, res.Problems...)
		for _, d := range res.Docs {
			rep.Problems = append(rep.Problems, d.Problems...)
			if d.Entity == nil {
				continue
			}
			ref := d.Entity.Ref().String()
			if prev, dup := defined[ref]; dup {
				rep.Problems = append(rep.Problems, Problem{Severity: SeverityError, File: d.File, Line: d.Line, Column: d.Column, Entity: ref,
					Message: "entity is defined twice; the first definition is at " + prev,
					Hint:    "names are unique per kind and namespace, case-insensitively: rename or remove one"})
				continue
			}
			defined[ref] = fmt.Sprintf("%s:%d", d.File, d.Line)
			rep.Entities++
			for _, e := range d.Edges {
				if e.From == ref {
					uses = append(uses, use{edge: e, doc: d})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, u := range uses {
		if _, ok := defined[u.edge.To]; !ok {
			rep.Problems = append(rep.Problems, Problem{Severity: SeverityWarning, File: u.doc.File, Line: u.doc.Line, Column: u.doc.Column,
				Entity: u.edge.From, Message: fmt.Sprintf("%s %s is not defined in these files", u.edge.Type, u.edge.To),
				Hint: "check the name; if another source defines it, ignore this warning"})
		}
	}
	rep.Problems.Sort()
	return rep, nil
}
