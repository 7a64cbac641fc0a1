package catalog

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// nodeValue converts a YAML node to plain Go values (map[string]any, []any,
// string, int64, float64, bool, nil) the way JSON would hold them. It keeps
// nothing of the node, so the converted tree can outlive it. sub, when not
// nil, is given every mapping first and may return a replacement value (the
// $text/$json/$yaml substitutions).
func nodeValue(n *yaml.Node, sub func(*yaml.Node) (any, bool, error)) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0], sub)
	case yaml.AliasNode:
		return nodeValue(n.Alias, sub)
	case yaml.ScalarNode:
		return scalarValue(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c, sub)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		if sub != nil {
			if v, ok, err := sub(n); ok || err != nil {
				return v, err
			}
		}
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				if err := mergeInto(out, v, sub); err != nil {
					return nil, err
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, &nodeError{node: k, msg: "mapping keys must be plain strings"}
			}
			val, err := nodeValue(v, sub)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		return out, nil
	}
	return nil, &nodeError{node: n, msg: "unsupported YAML node"}
}

func mergeInto(out map[string]any, v *yaml.Node, sub func(*yaml.Node) (any, bool, error)) error {
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	var srcs []*yaml.Node
	if v.Kind == yaml.SequenceNode {
		srcs = v.Content
	} else {
		srcs = []*yaml.Node{v}
	}
	for _, s := range srcs {
		m, err := nodeValue(s, sub)
		if err != nil {
			return err
		}
		mm, ok := m.(map[string]any)
		if !ok {
			return &nodeError{node: s, msg: "merge key '<<' needs a mapping"}
		}
		for k, val := range mm {
			if _, exists := out[k]; !exists {
				out[k] = val
			}
		}
	}
	return nil
}

func scalarValue(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return n.Value, nil
		}
		return b, nil
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return i, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
		return n.Value, nil
	case "!!float":
		switch strings.ToLower(n.Value) {
		case ".inf", "+.inf":
			return math.Inf(1), nil
		case "-.inf":
			return math.Inf(-1), nil
		case ".nan":
			return n.Value, nil // JSON cannot hold NaN; keep the text
		}
		if f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil {
			return f, nil
		}
		return n.Value, nil
	default: // !!str, !!timestamp, !!binary and custom tags keep their text
		return n.Value, nil
	}
}

// nodeError is an error located at a node.
type nodeError struct {
	node *yaml.Node
	msg  string
	hint string
}

func (e *nodeError) Error() string { return fmt.Sprintf("line %d: %s", e.node.Line, e.msg) }

// nodeAt follows a path of mapping keys (string) and sequence indexes (int)
// from n and returns the deepest node reached and whether the whole path was
// found. Problems use it to point at the right line and column.
func nodeAt(n *yaml.Node, path ...any) (*yaml.Node, bool) {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, p := range path {
		if n == nil {
			return nil, false
		}
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		}
		if next == nil {
			return n, false
		}
		n = next
	}
	return n, true
}

// keyNode returns the key node of key k in mapping m (for "unknown field"
// problems, which point at the key).
func keyNode(m *yaml.Node, k string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i]
		}
	}
	return m
}

// pathString renders a path the way problems show it: metadata.tags[1].
func pathString(path ...any) string {
	var b strings.Builder
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}
