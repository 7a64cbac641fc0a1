package catalog

import (
	"fmt"
	"regexp"
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

// DefinitionIDPattern is what names scorecards, actions and their parts:
// 1-63 lower-case letters, digits and '-', starting and ending with a
// letter or digit.
var DefinitionIDPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Envelope is the common head of a definition document (apiVersion, kind,
// metadata, spec).
type Envelope struct {
	Name, Title, Description string
	Metadata, Spec           *yaml.Node
}

// CheckEnvelope checks a definition document's head: the apiVersion, the
// top-level and metadata keys, the name, and that spec is a mapping
// (specHint says what it must hold). It sets Entity to "kind:name" for the
// problems that follow; ok is false when metadata or spec is missing.
func (p *DocChecker) CheckEnvelope(root *yaml.Node, kind, apiVersion string, topKeys, metadataKeys []string, specHint string) (env Envelope, ok bool) {
	env.Metadata, env.Spec = YAMLChild(root, "metadata"), YAMLChild(root, "spec")
	env.Name = YAMLScalar(env.Metadata, "name")
	p.Entity = kind + ":" + env.Name
	p.Keys(root, "", topKeys)
	if v := YAMLScalar(root, "apiVersion"); v != apiVersion {
		p.Errorf(YAMLChild(root, "apiVersion"), "apiVersion", "write apiVersion: "+apiVersion, "apiVersion %q is not %s", v, apiVersion)
	}
	if env.Metadata == nil || env.Metadata.Kind != yaml.MappingNode {
		p.Errorf(root, "metadata", "", "metadata is required, with a name")
		return env, false
	}
	p.Keys(env.Metadata, "metadata", metadataKeys)
	if !DefinitionIDPattern.MatchString(env.Name) {
		p.Errorf(YAMLChild(env.Metadata, "name"), "metadata.name", "use 1-63 lower-case letters, digits and '-'", "invalid %s name %q", kind, env.Name)
	}
	env.Title = p.Str(env.Metadata, "title", "metadata.title", false)
	if env.Title == "" {
		env.Title = env.Name
	}
	env.Description = p.Str(env.Metadata, "description", "metadata.description", false)
	if env.Spec == nil || env.Spec.Kind != yaml.MappingNode {
		p.Errorf(root, "spec", "", "spec is required, %s", specHint)
		return env, false
	}
	return env, true
}
