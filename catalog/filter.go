package catalog

import (
	"fmt"
	"strings"
)

// Filter is Backstage's entity filter: alternatives joined by OR, each a set
// of conditions joined by AND. "kind=component,spec.type=service" is one set;
// several sets are given as several strings. Keys and values compare
// case-insensitively; a key without '=' asks only that the field exists;
// list fields match when any item does; relations.<type>=<ref> matches
// entities with that relation.
type Filter struct {
	Sets [][]Condition
}

// Condition is one key[=value] of a filter.
type Condition struct {
	Key      string
	Value    string
	HasValue bool
}

// ParseFilter parses filter expressions, one set each.
func ParseFilter(exprs ...string) (Filter, error) {
	var f Filter
	for _, expr := range exprs {
		if strings.TrimSpace(expr) == "" {
			continue
		}
		var set []Condition
		for _, part := range strings.Split(expr, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			key, value, has := strings.Cut(part, "=")
			key = strings.ToLower(strings.TrimSpace(key))
			if key == "" {
				return Filter{}, fmt.Errorf("filter %q: condition %q has no key; write key=value, e.g. kind=component", expr, part)
			}
			set = append(set, Condition{Key: key, Value: strings.TrimSpace(value), HasValue: has})
		}
		f.Sets = append(f.Sets, set)
	}
	return f, nil
}

// String renders the filter in its input syntax, sets separated by " OR ".
func (f Filter) String() string {
	sets := make([]string, len(f.Sets))
	for i, set := range f.Sets {
		parts := make([]string, len(set))
		for j, c := range set {
			parts[j] = c.Key
			if c.HasValue {
				parts[j] += "=" + c.Value
			}
		}
		sets[i] = strings.Join(parts, ",")
	}
	return strings.Join(sets, " OR ")
}

// Match reports whether e satisfies the filter. An empty filter matches all.
func (f Filter) Match(e *Entity) bool {
	if len(f.Sets) == 0 {
		return true
	}
	for _, set := range f.Sets {
		ok := true
		for _, c := range set {
			if !c.match(e) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (c Condition) match(e *Entity) bool {
	values, exists := fieldValues(e, c.Key)
	if !c.HasValue {
		return exists
	}
	for _, v := range values {
		if strings.EqualFold(v, c.Value) {
			return true
		}
	}
	return false
}

// prefixes narrows the keys a List must scan: when every set names one kind,
// only those kinds' keys are read.
func (f Filter) prefixes() [][]byte {
	if len(f.Sets) == 0 {
		return [][]byte{pfxEntity}
	}
	seen := map[string]bool{}
	var out [][]byte
	for _, set := range f.Sets {
		kind := ""
		for _, c := range set {
			if c.Key == "kind" && c.HasValue {
				kind = strings.ToLower(c.Value)
			}
		}
		if kind == "" {
			return [][]byte{pfxEntity}
		}
		if !seen[kind] {
			seen[kind] = true
			out = append(out, cat(string(pfxEntity), kind, ":"))
		}
	}
	return out
}

// fieldValues returns the string values at a dotted key of e and whether the
// field exists.
func fieldValues(e *Entity, key string) ([]string, bool) {
	md := &e.Metadata
	one := func(s string) ([]string, bool) { return []string{s}, s != "" }
	switch key {
	case "kind":
		return one(e.Kind)
	case "apiversion":
		return one(e.APIVersion)
	case "metadata.name":
		return one(md.Name)
	case "metadata.namespace":
		return one(md.Namespace)
	case "metadata.title":
		return one(md.Title)
	case "metadata.description":
		return one(md.Description)
	case "metadata.tags":
		return md.Tags, len(md.Tags) > 0
	}
	switch {
	case strings.HasPrefix(key, "metadata.annotations."):
		return mapValue(md.Annotations, strings.TrimPrefix(key, "metadata.annotations."))
	case strings.HasPrefix(key, "metadata.labels."):
		return mapValue(md.Labels, strings.TrimPrefix(key, "metadata.labels."))
	case strings.HasPrefix(key, "relations."):
		t := canonicalRelation[strings.TrimPrefix(key, "relations.")]
		var out []string
		for _, r := range e.Relations {
			if r.Type == t {
				out = append(out, r.TargetRef)
			}
		}
		return out, len(out) > 0
	case strings.HasPrefix(key, "spec."):
		return anyValues(e.Spec, strings.Split(strings.TrimPrefix(key, "spec."), "."))
	}
	return nil, false
}

func mapValue(m map[string]string, key string) ([]string, bool) {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return []string{v}, true
		}
	}
	return nil, false
}

func anyValues(v any, path []string) ([]string, bool) {
	if len(path) == 0 {
		switch x := v.(type) {
		case nil:
			return nil, false
		case []any:
			var out []string
			for _, item := range x {
				if s, ok := scalarString(item); ok {
					out = append(out, s)
				}
			}
			return out, true
		default:
			s, ok := scalarString(x)
			if !ok {
				return nil, true
			}
			return []string{s}, true
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	for k, child := range m {
		if strings.EqualFold(k, path[0]) {
			return anyValues(child, path[1:])
		}
	}
	return nil, false
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool, int64, float64, int:
		return fmt.Sprint(x), true
	}
	return "", false
}
