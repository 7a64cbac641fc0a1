package oncall

import (
	"context"
	"fmt"
	"strings"

	"github.com/idpbot/idpbot/catalog"
)

// Users is what the Directory reads of the catalog; *catalog.Store
// satisfies it.
type Users interface {
	List(ctx context.Context, f catalog.Filter, limit int) ([]*catalog.Entity, error)
}

// Directory maps the e-mail addresses a provider knows its users by to the
// catalog's User entities (spec.profile.email), so that replies can
// mention them in chat.
type Directory struct {
	cat Users
}

// NewDirectory returns a Directory over cat; a nil cat maps nobody.
func NewDirectory(cat Users) *Directory { return &Directory{cat: cat} }

// People returns the catalog person of each address that a User entity
// has, keyed by the lower-cased address; addresses no user has are absent.
// One catalog query answers all of them.
func (d *Directory) People(ctx context.Context, emails []string) (map[string]catalog.Person, error) {
	out := map[string]catalog.Person{}
	if d == nil || d.cat == nil {
		return out, nil
	}
	var f catalog.Filter
	seen := map[string]bool{}
	for _, e := range emails {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" || seen[e] {
			continue
		}
		seen[e] = true
		f.Sets = append(f.Sets, []catalog.Condition{
			{Key: "kind", Value: "user", HasValue: true},
			{Key: "spec.profile.email", Value: e, HasValue: true},
		})
	}
	if len(f.Sets) == 0 {
		return out, nil
	}
	users, err := d.cat.List(ctx, f, 0)
	if err != nil {
		return nil, fmt.Errorf("look up users by e-mail: %w", err)
	}
	for _, u := range users {
		p := catalog.PersonOf(u)
		if k := strings.ToLower(p.Email); seen[k] {
			if _, dup := out[k]; !dup { // List is sorted by ref: the first wins
				out[k] = p
			}
		}
	}
	return out, nil
}

// Person is the catalog person with the address email when people (from
// People) has one, else a person known only to the provider by name and
// address.
func Person(people map[string]catalog.Person, email, name string) catalog.Person {
	if p, ok := people[strings.ToLower(strings.TrimSpace(email))]; ok && email != "" {
		return p
	}
	if name == "" {
		name = email
	}
	return catalog.Person{DisplayName: name, Email: email}
}
