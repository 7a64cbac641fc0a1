package catalog

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// DocChecker collects the problems of one YAML definition document (a
// scorecard, an action), each with file, line, column, the entity and the
// field path. The definition packages parse with it so that their
// problems read like the catalog's own.
type DocChecker struct {
	File     string
	Entity   string
	Problems Problems
}

// Errorf records an error at n (nil: no position).
func (p *DocChecker) Errorf(n *yaml.Node, path, hint, format string, args ...any) {
	pr := Problem{Severity: SeverityError, File: p.File, Entity: p.Entity, Path: path, Message: fmt.Sprintf(format, args...), Hint: hint}
	if n != nil {
		pr.Line, pr.Column = n.Line, n.Column
	}
	p.Problems = append(p.Problems, pr)
}

// Keys records every key of mapping m not in allowed, so that a typo is an
// error rather than a silent default.
func (p *DocChecker) Keys(m *yaml.Node, path string, allowed []string) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		found := false
		for _, a := range allowed {
			found = found || k.Value == a
		}
		if !found {
			full := k.Value
			if path != "" {
				full = path + "." + k.Value
			}
			p.Errorf(k, full, "use one of "+strings.Join(allowed, ", "), "unknown key %q", k.Value)
		}
	}
}

// Str returns the scalar under key of mapping m, trimmed; a missing
// required key, or a value that is not a scalar, is recorded.
func (p *DocChecker) Str(m *yaml.Node, key, path string, required bool) string {
	v := YAMLChild(m, key)
	if v == nil {
		if required {
			p.Errorf(m, path, "", "%s is required", path)
		}
		return ""
	}
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		p.Errorf(v, path, "", "%s must be a string", path)
		return ""
	}
	return strings.TrimSpace(v.Value)
}

// YAMLChild is the value of key in mapping m, or nil.
func YAMLChild(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// YAMLScalar is the scalar value of key in mapping m, or "".
func YAMLScalar(m *yaml.Node, key string) string {
	if v := YAMLChild(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}
