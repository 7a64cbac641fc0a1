package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/idpbot/idpbot/catalog"
)

// Catalog is what the engine reads and where it keeps its state;
// *catalog.Store is one.
type Catalog interface {
	Resolver
	WhoOwns(ctx context.Context, query string) (*catalog.Ownership, error)
	State(name string) (*catalog.State, error)
}

var _ Catalog = (*catalog.Store)(nil)

// OnCall tells who is on call for an ownership answer (the target's owner);
// the integrations implement it (rotations kept in the catalog, PagerDuty,
// Opsgenie). A nil answer with a nil error means nobody is known.
type OnCall interface {
	OnCall(ctx context.Context, o *catalog.Ownership) (*catalog.OnCall, error)
}

// maxGroupDepth bounds the walk up the group hierarchy (bad data may have
// cycles).
const maxGroupDepth = 20

// canonicalUser turns "alice.nguyen" or "user:default/alice.nguyen" into
// the canonical user ref.
func canonicalUser(actor string) (string, error) {
	r, err := catalog.ParseRef(strings.TrimSpace(actor), catalog.RefDefaults{Kind: catalog.KindUser})
	if err != nil || r.Kind != catalog.KindUser {
		return "", userErr(ErrNotLinked, "the chat layer maps chat users to catalog users", "%q is not a catalog user reference", clip(actor, 80))
	}
	return r.String(), nil
}

// user checks that the actor is a user in the catalog and returns the
// entity.
func (e *Engine) user(ctx context.Context, actor string) (*catalog.Entity, error) {
	ref, err := canonicalUser(actor)
	if err != nil {
		return nil, err
	}
	u, err := e.cat.Get(ctx, ref)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, userErr(ErrNotLinked, "ask the platform team to add you to the catalog, with your chat user id annotation", "%s is not in the catalog", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("read user %s: %w", ref, err)
	}
	return u, nil
}

// membership answers policy questions about one person, reading the
// catalog only as far as a question needs.
type membership struct {
	e      *Engine
	user   *catalog.Entity
	ref    string
	groups map[string]bool // the user's groups and all their ancestors
}

func (e *Engine) membership(u *catalog.Entity) *membership {
	return &membership{e: e, user: u, ref: u.Ref().String()}
}

// inGroup says whether the person is a member of g or of any of its
// sub-groups (transitively).
func (m *membership) inGroup(ctx context.Context, g string) (bool, error) {
	if m.groups == nil {
		m.groups = map[string]bool{}
		level := m.user.RelationTargets(catalog.RelMemberOf)
		for depth := 0; depth < maxGroupDepth && len(level) > 0; depth++ {
			var next []string
			for _, ref := range level {
				if m.groups[ref] {
					continue
				}
				m.groups[ref] = true
				ge, err := m.e.cat.Get(ctx, ref)
				if errors.Is(err, catalog.ErrNotFound) {
					continue
				}
				if err != nil {
					m.groups = nil
					return false, fmt.Errorf("read group %s: %w", ref, err)
				}
				next = append(next, ge.RelationTargets(catalog.RelChildOf)...)
			}
			level = next
		}
	}
	return m.groups[g], nil
}

// in says whether the person is in w for the target (a canonical ref or
// ""); why names the part that matched.
func (m *membership) in(ctx context.Context, w Who, target string) (ok bool, why string, err error) {
	if w.Anyone {
		return true, "anyone", nil
	}
	for _, u := range w.Users {
		if u == m.ref {
			return true, u, nil
		}
	}
	for _, g := range w.Groups {
		ok, err := m.inGroup(ctx, g)
		if err != nil || ok {
			return ok, g, err
		}
	}
	if (!w.Owners && !w.OnCall) || target == "" {
		return false, "", nil
	}
	own, err := m.e.cat.WhoOwns(ctx, target)
	if errors.Is(err, catalog.ErrNotFound) {
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("who owns %s: %w", target, err)
	}
	if w.Owners && own.Owner.Ref != "" {
		if own.Owner.Ref == m.ref {
			return true, "owner of " + target, nil
		}
		if strings.HasPrefix(own.Owner.Ref, catalog.KindGroup+":") {
			ok, err := m.inGroup(ctx, own.Owner.Ref)
			if err != nil || ok {
				return ok, "owners of " + target + " (" + own.Owner.Ref + ")", err
			}
		}
	}
	if w.OnCall && m.e.oncall != nil {
		oc, err := m.e.oncall.OnCall(ctx, own)
		if err != nil {
			// An on-call source that is down must not block the other
			// approvers; the person is refused with a clear message.
			m.e.log.WarnContext(ctx, "on-call lookup failed", slog.String("target", target), slog.Any("error", err))
			return false, "", nil
		}
		if oc != nil {
			for _, s := range oc.Now {
				if s.Person.Ref == m.ref {
					return true, "on call for " + own.Owner.Ref, nil
				}
			}
		}
	}
	return false, "", nil
}
