package catalog

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// validator checks one document against Backstage's entity rules and builds
// the Entity. It collects every problem rather than stopping at the first.
type validator struct {
	file     string
	root     *yaml.Node
	problems Problems
}

func (v *validator) report(sev Severity, hint, msg string, path ...any) {
	n, found := nodeAt(v.root, path...)
	if !found && len(path) >= 2 {
		// A missing field: point at the key of the mapping that lacks it.
		if k, ok := path[len(path)-2].(string); ok {
			if parent, ok := nodeAt(v.root, path[:len(path)-2]...); ok {
				n = keyNode(parent, k)
			}
		}
	}
	p := Problem{Severity: sev, File: v.file, Path: pathString(path...), Message: msg, Hint: hint}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	v.problems = append(v.problems, p)
}

func (v *validator) errorf(hint string, path []any, format string, args ...any) {
	v.report(SeverityError, hint, fmt.Sprintf(format, args...), path...)
}

var rootFields = []string{"apiVersion", "kind", "metadata", "spec", "relations", "status"}

// entity validates raw and returns the entity it describes. The entity is
// returned even when there are errors (so that problems can name it), as long
// as it has a kind and a name.
func (v *validator) entity(raw map[string]any) *Entity {
	for k := range raw {
		if !slices.Contains(rootFields, k) {
			kn := keyNode(v.root, k)
			v.problems = append(v.problems, Problem{Severity: SeverityError, File: v.file, Line: kn.Line, Column: kn.Column, Path: k,
				Message: fmt.Sprintf("unknown top-level field %q", k), Hint: "an entity has only apiVersion, kind, metadata and spec; move it under metadata or spec"})
		}
	}
	for _, k := range []string{"relations", "status"} {
		if _, ok := raw[k]; ok {
			v.report(SeverityWarning, "remove it from the file", k+" is computed by the catalog; the value in the file is ignored", k)
		}
	}
	e := &Entity{}
	e.APIVersion = v.requiredString(raw, "apiVersion", "add apiVersion: backstage.io/v1alpha1")
	if e.APIVersion != "" && !IsValidAPIVersion(e.APIVersion) {
		v.errorf("write a version such as backstage.io/v1alpha1", []any{"apiVersion"}, "invalid apiVersion %q", e.APIVersion)
	}
	e.Kind = v.requiredString(raw, "kind", "add kind: Component (or API, Resource, System, Domain, Group, User, Location)")
	if e.Kind != "" && !IsValidKind(e.Kind) {
		v.errorf("a kind is a letter followed by letters and digits, e.g. Component", []any{"kind"}, "invalid kind %q", e.Kind)
	}
	md, ok := raw["metadata"].(map[string]any)
	if !ok {
		if raw["metadata"] == nil {
			v.errorf("add metadata: {name: my-entity}", []any{"metadata"}, "metadata is required")
		} else {
			v.errorf("metadata must be a mapping with at least a name", []any{"metadata"}, "metadata must be a mapping")
		}
		return nil
	}
	v.metadata(md, &e.Metadata)
	kind := strings.ToLower(e.Kind)
	fields, builtin := fieldsOf(kind)
	if builtin && e.APIVersion != "" && !slices.Contains(kinds[kind].APIVersions, e.APIVersion) {
		v.errorf("use apiVersion: "+kinds[kind].APIVersions[0], []any{"apiVersion"},
			"apiVersion %q is not known for kind %s", e.APIVersion, kinds[kind].Kind)
	}
	switch s := raw["spec"].(type) {
	case map[string]any:
		e.Spec = s
	case nil:
		if _, present := raw["spec"]; builtin || present {
			if kind == KindLocation {
				e.Spec = map[string]any{}
			} else if builtin {
				v.errorf(fmt.Sprintf("add a spec with the fields of a %s", kinds[kind].Kind), []any{"spec"}, "spec is required for kind %s", kinds[kind].Kind)
			}
		}
	default:
		v.errorf("spec must be a mapping of fields", []any{"spec"}, "spec must be a mapping, got %s", typeName(s))
	}
	if e.Spec != nil {
		v.spec(e, fields, builtin)
	}
	if e.Kind == "" || e.Metadata.Name == "" {
		return nil
	}
	return e
}

// The field's path (prefix, then key) is built only for a problem: these
// run for every field of every entity.

func (v *validator) requiredString(m map[string]any, key, hint string, prefix ...any) string {
	val, present := m[key]
	if !present || val == nil {
		path := append(slices.Clone(prefix), key)
		v.errorf(hint, path, "%s is required", pathString(path...))
		return ""
	}
	s, ok := val.(string)
	if !ok {
		path := append(slices.Clone(prefix), key)
		v.errorf("quote the value to make it a string", path, "%s must be a string, got %s", pathString(path...), typeName(val))
		return ""
	}
	if s == "" {
		path := append(slices.Clone(prefix), key)
		v.errorf(hint, path, "%s must not be empty", pathString(path...))
	}
	return s
}

func (v *validator) optionalString(m map[string]any, key string, prefix ...any) string {
	val, present := m[key]
	if !present || val == nil {
		return ""
	}
	s, ok := val.(string)
	if !ok {
		path := append(slices.Clone(prefix), key)
		v.errorf("quote the value to make it a string", path, "%s must be a string, got %s", pathString(path...), typeName(val))
	}
	return s
}

func (v *validator) metadata(md map[string]any, m *Metadata) {
	m.Name = v.requiredString(md, "name", "add metadata.name", "metadata")
	if m.Name != "" && !IsValidObjectName(m.Name) {
		v.errorf("use 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit", []any{"metadata", "name"},
			"invalid name %q", m.Name)
	}
	m.Namespace = v.optionalString(md, "namespace", "metadata")
	if _, present := md["namespace"]; present && !IsValidNamespace(m.Namespace) {
		v.errorf("use a lower-case DNS label such as default or team-a", []any{"metadata", "namespace"}, "invalid namespace %q", m.Namespace)
	}
	if m.Namespace == "" {
		m.Namespace = DefaultNamespace
	}
	m.Title = v.optionalString(md, "title", "metadata")
	m.Description = v.optionalString(md, "description", "metadata")
	m.Labels = v.stringMap(md, "labels", IsValidLabelKey, IsValidLabelValue,
		"a label key is an optional DNS-subdomain prefix and '/', then a name of letters, digits, '-', '_', '.'",
		"a label value is empty or 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit")
	m.Annotations = v.stringMap(md, "annotations", IsValidAnnotationKey, IsValidAnnotationValue,
		"an annotation key is an optional DNS-subdomain prefix and '/', then a name of letters, digits, '-', '_', '.'", "")
	if tags, present := md["tags"]; present && tags != nil {
		list, ok := tags.([]any)
		if !ok {
			v.errorf("write tags as a list: tags: [go, tier-1]", []any{"metadata", "tags"}, "metadata.tags must be a list")
		}
		seen := map[string]bool{}
		for i, t := range list {
			s, ok := t.(string)
			switch {
			case !ok:
				v.errorf("quote the tag", []any{"metadata", "tags", i}, "tag must be a string, got %s", typeName(t))
			case !IsValidTag(s):
				v.errorf("a tag is runs of lower-case letters, digits, ':', '+' or '#' joined by single '-', at most 63 characters", []any{"metadata", "tags", i},
					"invalid tag %q", s)
			case seen[s]:
				v.errorf("remove the duplicate", []any{"metadata", "tags", i}, "duplicate tag %q", s)
			default:
				seen[s] = true
				m.Tags = append(m.Tags, s)
			}
		}
	}
	if links, present := md["links"]; present && links != nil {
		list, ok := links.([]any)
		if !ok {
			v.errorf("write links as a list of {url, title}", []any{"metadata", "links"}, "metadata.links must be a list")
		}
		for i, l := range list {
			lm, ok := l.(map[string]any)
			if !ok {
				v.errorf("write each link as {url: https://…, title: …}", []any{"metadata", "links", i}, "link must be a mapping")
				continue
			}
			p := []any{"metadata", "links", i}
			link := Link{
				URL:   v.requiredString(lm, "url", "add the link's url", p...),
				Title: v.optionalString(lm, "title", p...),
				Icon:  v.optionalString(lm, "icon", p...),
				Type:  v.optionalString(lm, "type", p...),
			}
			m.Links = append(m.Links, link)
		}
	}
}

func (v *validator) stringMap(md map[string]any, field string, validKey, validValue func(string) bool, keyHint, valueHint string) map[string]string {
	raw, present := md[field]
	if !present || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		v.errorf("write "+field+" as a mapping of key: value", []any{"metadata", field}, "metadata.%s must be a mapping", field)
		return nil
	}
	out := make(map[string]string, len(m))
	for k, val := range m {
		path := []any{"metadata", field, k}
		if !validKey(k) {
			mn, _ := nodeAt(v.root, "metadata", field)
			kn := keyNode(mn, k)
			v.problems = append(v.problems, Problem{Severity: SeverityError, File: v.file, Line: kn.Line, Column: kn.Column,
				Path: pathString(path...), Message: fmt.Sprintf("invalid %s key %q", strings.TrimSuffix(field, "s"), k), Hint: keyHint})
		}
		s, ok := val.(string)
		if !ok {
			v.errorf("quote the value: "+k+": \"…\"", path, "%s value must be a string, got %s", strings.TrimSuffix(field, "s"), typeName(val))
			continue
		}
		if !validValue(s) {
			v.errorf(valueHint, path, "invalid %s value %q", strings.TrimSuffix(field, "s"), s)
		}
		out[k] = s
	}
	return out
}

func (v *validator) spec(e *Entity, fields []specField, builtin bool) {
	ns := e.Metadata.Namespace
	for _, f := range fields {
		path := []any{"spec", f.Name}
		val, present := e.Spec[f.Name]
		if !present || val == nil {
			if f.Required && builtin {
				sev := SeverityError
				if f.Warn {
					sev = SeverityWarning
				}
				v.report(sev, requiredHint(f), fmt.Sprintf("spec.%s is required for kind %s", f.Name, kinds[strings.ToLower(e.Kind)].Kind), path...)
			}
			continue
		}
		switch f.Type {
		case fieldString:
			s, ok := val.(string)
			switch {
			case !ok:
				v.errorf("quote the value", path, "spec.%s must be a string, got %s", f.Name, typeName(val))
			case s == "":
				v.errorf(requiredHint(f), path, "spec.%s must not be empty", f.Name)
			case len(f.Enum) > 0 && !slices.Contains(f.Enum, s):
				v.errorf("use one of "+strings.Join(f.Enum, ", "), path, "spec.%s must be one of %s, got %q", f.Name, strings.Join(f.Enum, ", "), s)
			}
		case fieldDocument:
			if _, ok := val.(string); !ok {
				if m, isMap := val.(map[string]any); isMap && len(m) == 1 && hasPlaceholderKey(m) {
					continue // an unfetched remote placeholder, already warned about
				}
				v.errorf("write the document as a block string (definition: |) or load it with $text: ./file", path,
					"spec.%s must be a string, got %s", f.Name, typeName(val))
			}
		case fieldObject:
			if _, ok := val.(map[string]any); !ok {
				v.errorf("write spec."+f.Name+" as a mapping", path, "spec.%s must be a mapping, got %s", f.Name, typeName(val))
			}
		case fieldStrings:
			list, ok := val.([]any)
			if !ok {
				v.errorf("write spec."+f.Name+" as a list", path, "spec.%s must be a list, got %s", f.Name, typeName(val))
				continue
			}
			for i, item := range list {
				if _, ok := item.(string); !ok {
					v.errorf("quote the value", append(path, i), "spec.%s[%d] must be a string, got %s", f.Name, i, typeName(item))
				}
			}
		case fieldRef:
			s, ok := val.(string)
			if !ok {
				v.errorf("write the reference as a string such as "+exampleRef(f), path, "spec.%s must be an entity reference string, got %s", f.Name, typeName(val))
				continue
			}
			v.ref(s, f, ns, path)
		case fieldRefs:
			list, ok := val.([]any)
			if !ok {
				v.errorf("write spec."+f.Name+" as a list of references, e.g. ["+exampleRef(f)+"]", path, "spec.%s must be a list, got %s", f.Name, typeName(val))
				continue
			}
			for i, item := range list {
				s, ok := item.(string)
				if !ok {
					v.errorf("write the reference as a string such as "+exampleRef(f), append(path, i), "spec.%s[%d] must be an entity reference string, got %s", f.Name, i, typeName(item))
					continue
				}
				v.ref(s, f, ns, append(path, i))
			}
		}
	}
}

func (v *validator) ref(s string, f specField, ns string, path []any) {
	if _, err := ParseRef(s, RefDefaults{Kind: f.DefaultKind, Namespace: ns}); err != nil {
		hint := "write [kind:][namespace/]name, e.g. " + exampleRef(f)
		if f.DefaultKind == "" && s != "" && !strings.Contains(s, ":") {
			hint = fmt.Sprintf("spec.%s has no default kind: write component:%s or resource:%s", f.Name, s, s)
		}
		v.report(SeverityError, hint, fmt.Sprintf("%s: %v", pathString(path...), err), path...)
	}
}

func hasPlaceholderKey(m map[string]any) bool {
	for k := range m {
		return k == "$text" || k == "$json" || k == "$yaml"
	}
	return false
}

func requiredHint(f specField) string {
	switch f.Name {
	case "owner":
		return "add spec.owner: the team that owns it, e.g. team-a or user:jane"
	case "lifecycle":
		return "add spec.lifecycle: experimental, production or deprecated"
	case "type":
		return "add spec.type, e.g. service, website, library (components), openapi, grpc (APIs), database (resources), team (groups)"
	case "children":
		return "add spec.children: [] (a group lists its sub-groups, possibly none)"
	case "memberOf":
		return "add spec.memberOf: [] (the groups the user belongs to, possibly none)"
	case "definition":
		return "add spec.definition, e.g. definition: {$text: ./openapi.yaml}"
	}
	return "add spec." + f.Name
}

func exampleRef(f specField) string {
	switch f.DefaultKind {
	case "":
		return "resource:default/orders-db"
	case KindGroup:
		return "team-a or group:default/team-a"
	default:
		return f.DefaultKind + ":default/example"
	}
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64, int:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}
