package catalog

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultNamespace is the namespace of entities and references that name none.
const DefaultNamespace = "default"

// Ref identifies an entity: kind, namespace and name. All three parts compare
// case-insensitively; String gives the canonical lower-case form
// "kind:namespace/name" used as the key everywhere in the catalog.
type Ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// RefDefaults fills the parts a reference string leaves out.
type RefDefaults struct {
	Kind      string // "" means the reference must name its kind
	Namespace string // "" means DefaultNamespace
}

// ErrInvalidRef is wrapped by every error ParseRef returns.
var ErrInvalidRef = errors.New("invalid entity reference")

// ParseRef parses "[kind:][namespace/]name" as Backstage's parseEntityRef
// does: the first ':' ends the kind unless a '/' comes before it, the first
// '/' after that ends the namespace, and the rest (which may hold ':' and '/')
// is the name.
func ParseRef(s string, d RefDefaults) (Ref, error) {
	if s == "" {
		return Ref{}, fmt.Errorf("%w: empty reference", ErrInvalidRef)
	}
	var kind, namespace, name string
	rest := s
	colon, slash := strings.IndexByte(rest, ':'), strings.IndexByte(rest, '/')
	if colon >= 0 && (slash < 0 || colon < slash) {
		kind, rest = rest[:colon], rest[colon+1:]
		if kind == "" {
			return Ref{}, fmt.Errorf("%w: %q has an empty kind before ':'", ErrInvalidRef, s)
		}
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		namespace, name = rest[:i], rest[i+1:]
		if namespace == "" {
			return Ref{}, fmt.Errorf("%w: %q has an empty namespace before '/'", ErrInvalidRef, s)
		}
	} else {
		name = rest
	}
	if name == "" {
		return Ref{}, fmt.Errorf("%w: %q has an empty name", ErrInvalidRef, s)
	}
	if kind == "" {
		kind = d.Kind
	}
	if kind == "" {
		return Ref{}, fmt.Errorf("%w: %q names no kind and this field has no default kind", ErrInvalidRef, s)
	}
	if namespace == "" {
		namespace = d.Namespace
	}
	if namespace == "" {
		namespace = DefaultNamespace
	}
	return Ref{Kind: kind, Namespace: namespace, Name: name}, nil
}

// MustParseRef is ParseRef for references known to be valid (tests, constants).
func MustParseRef(s string) Ref {
	r, err := ParseRef(s, RefDefaults{})
	if err != nil {
		panic(err)
	}
	return r
}

// String returns the canonical form "kind:namespace/name", lower-cased.
func (r Ref) String() string {
	return strings.ToLower(r.Kind) + ":" + strings.ToLower(r.Namespace) + "/" + strings.ToLower(r.Name)
}

// Canonical returns r with every part lower-cased.
func (r Ref) Canonical() Ref {
	return Ref{Kind: strings.ToLower(r.Kind), Namespace: strings.ToLower(r.Namespace), Name: strings.ToLower(r.Name)}
}

// Short renders r for people: the name alone when kind and namespace are the
// given defaults, "kind:name" in the default namespace, the full form otherwise.
func (r Ref) Short(defaultKind string) string {
	c := r.Canonical()
	switch {
	case c.Namespace != DefaultNamespace:
		return c.String()
	case strings.EqualFold(c.Kind, defaultKind):
		return c.Name
	default:
		return c.Kind + ":" + c.Name
	}
}

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool { return r == Ref{} }
