package oncall

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/check"
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

// CheckPeople is the "people" result of `idpbot integrations check`:
// whether the provider's people (by e-mail; who says which, e.g. "on call
// now") are catalog users, so that chat replies can mention them.
func (d *Directory) CheckPeople(ctx context.Context, provider, who string, emails []string) check.Result {
	r := check.Result{Integration: provider, Check: "people"}
	people, err := d.People(ctx, emails)
	if err != nil {
		r.Detail, r.Fix = err.Error(), "check the catalog store"
		return r
	}
	seen := map[string]bool{}
	var missing []string
	for _, e := range emails {
		k := strings.ToLower(strings.TrimSpace(e))
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		if _, ok := people[k]; !ok {
			missing = append(missing, e)
		}
	}
	sort.Strings(missing)
	r.OK = len(missing) == 0
	r.Detail = fmt.Sprintf("%d of %d people %s are catalog users", len(seen)-len(missing), len(seen), who)
	if len(missing) > 0 {
		r.Detail += "; not in the catalog: " + strings.Join(missing, ", ")
		r.Fix = "add a User entity with spec.profile.email set to each address, so that chat replies can mention them"
	}
	return r
}
