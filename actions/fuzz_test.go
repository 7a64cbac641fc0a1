package actions_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/catalog"
)

// fakeResolver is a tiny in-memory catalog for fuzzing (Badger per input
// would be slow).
type fakeResolver struct{ ents map[string]*catalog.Entity }

func newFakeResolver() *fakeResolver {
	f := &fakeResolver{ents: map[string]*catalog.Entity{}}
	for _, ref := range []string{"component:default/payments-api", "component:default/checkout-service", "group:default/checkout", "resource:default/payments-db"} {
		r := catalog.MustParseRef(ref)
		f.ents[ref] = &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: r.Kind, Metadata: catalog.Metadata{Name: r.Name, Namespace: r.Namespace}}
	}
	return f
}

func (f *fakeResolver) Get(_ context.Context, ref string) (*catalog.Entity, error) {
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{})
	if err != nil {
		return nil, err
	}
	if e, ok := f.ents[r.String()]; ok {
		return e, nil
	}
	return nil, &catalog.NotFoundError{Query: ref}
}

func (f *fakeResolver) Resolve(_ context.Context, q string, _ ...string) (*catalog.Entity, error) {
	var found []*catalog.Entity
	for _, e := range f.ents {
		if strings.EqualFold(e.Metadata.Name, q) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 0:
		return nil, &catalog.NotFoundError{Query: q}
	case 1:
		return found[0], nil
	}
	amb := &catalog.AmbiguousError{Query: q}
	for _, e := range found {
		amb.Candidates = append(amb.Candidates, e.Ref())
	}
	return nil, amb
}

func (f *fakeResolver) Complete(_ context.Context, prefix string, n int) ([]catalog.Ref, error) {
	var out []catalog.Ref
	for _, e := range f.ents {
		if strings.HasPrefix(e.Metadata.Name, strings.ToLower(prefix)) && len(out) < n {
			out = append(out, e.Ref())
		}
	}
	return out, nil
}

const fuzzAction = `apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata: {name: fuzz}
spec:
  target: service
  inputs:
    - {name: service, type: entity, kind: component, required: true}
    - {name: env, type: enum, values: [staging, prod], default: staging}
    - {name: replicas, type: number, min: 1, max: 50}
    - {name: force, type: boolean}
    - {name: window, type: duration, min: 15m, max: 8h}
    - {name: ticket, type: string, pattern: "[A-Z]+-[0-9]+", secret: true}
    - {name: reason, type: string, min: 3, max: 40}
  runners: {anyone: true}
  approval: none
  executor: {type: x}
`

// FuzzBind checks that binding never panics, reports only *InputError for
// bad values, never repeats a secret, and that what it accepts binds again
// to the same values.
func FuzzBind(f *testing.F) {
	acts, ps := actions.Parse("fuzz.yaml", []byte(fuzzAction))
	if len(acts) != 1 {
		f.Fatal(ps)
	}
	a := acts[0]
	cat := newFakeResolver()
	seeds := [][7]string{
		{"payments-api", "prod", "3", "yes", "2h", "INC-1", "OOM loop"},
		{"checkout", "", "", "", "", "", ""},
		{"component:default/checkout-service", "PROD", "1e2", "0", "1d", "x", "a"},
		{"", "qa", "NaN", "maybe", "-5m", "inc-1", strings.Repeat("é", 50)},
		{"component:", "staging", "50", "off", "15m", "ABC-123", "\x00bad"},
		{"group:checkout", "prod|staging", "0x10", "TRUE", "8h0m1s", "SEKRIT-secret", "  spaced  "},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6])
	}
	names := []string{"service", "env", "replicas", "force", "window", "ticket", "reason"}
	f.Fuzz(func(t *testing.T, service, env, replicas, force, window, ticket, reason string) {
		ctx := context.Background()
		params := map[string]string{}
		for i, v := range []string{service, env, replicas, force, window, ticket, reason} {
			if v != "" {
				params[names[i]] = v
			}
		}
		in, err := a.Bind(ctx, cat, params)
		if err != nil {
			var ie *actions.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Bind error %v is not an *InputError", err)
			}
			if len(ticket) >= 8 && strings.Contains(err.Error(), ticket) {
				t.Fatalf("secret repeated in %q", err)
			}
			if !utf8.ValidString(err.Error()) {
				t.Fatalf("error is not UTF-8: %q", err)
			}
			return
		}
		again := map[string]string{}
		for _, n := range names {
			if v, ok := in.Value(n); ok {
				again[n] = v
			}
		}
		in2, err := a.Bind(ctx, cat, again)
		if err != nil {
			t.Fatalf("normalised inputs %v do not bind again: %v", again, err)
		}
		for _, n := range names {
			v1, _ := in.Value(n)
			v2, _ := in2.Value(n)
			if v1 != v2 {
				t.Fatalf("input %s: %q then %q", n, v1, v2)
			}
		}
		if v, _ := in.Value("service"); !strings.HasPrefix(v, "component:default/") {
			t.Fatalf("service bound to %q", v)
		}
	})
}
