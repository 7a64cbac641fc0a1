package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// ProfileLookup asks a chat platform for a user's e-mail address (Slack's
// users.info). Front doors provide it; it may return "" when the platform
// does not share it.
type ProfileLookup interface {
	Email(ctx context.Context, userID string) (string, error)
}

// userIDAnnotation is the annotation that links a catalog user to a chat
// account on each platform.
var userIDAnnotation = map[Platform]string{
	Slack:   "slack.com/user-id",
	Discord: "discord.com/user-id",
}

// Identity maps chat users to catalog users: by the platform's user-id
// annotation, else by e-mail (from the request or the platform's profile
// lookup). Answers, found or not, are cached for the TTL.
type Identity struct {
	cat     Catalog
	lookups map[Platform]ProfileLookup
	ttl     time.Duration
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]identityEntry
}

type identityEntry struct {
	ref     string // "" when not found
	expires time.Time
}

// NewIdentity returns an Identity; ttl 0 means five minutes.
func NewIdentity(cat Catalog, lookups map[Platform]ProfileLookup, ttl time.Duration) *Identity {
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	return &Identity{cat: cat, lookups: lookups, ttl: ttl, now: time.Now, cache: map[string]identityEntry{}}
}

// SetLookup installs the profile lookup of a platform (front doors call it
// when they start).
func (id *Identity) SetLookup(p Platform, l ProfileLookup) {
	id.mu.Lock()
	defer id.mu.Unlock()
	if id.lookups == nil {
		id.lookups = map[Platform]ProfileLookup{}
	}
	id.lookups[p] = l
}

// Resolve returns the catalog user behind u, or a UserError that says how to
// link the account.
func (id *Identity) Resolve(ctx context.Context, p Platform, u ChatUser) (*catalog.Entity, error) {
	if u.CatalogRef != "" {
		e, err := id.cat.Resolve(ctx, u.CatalogRef, catalog.KindUser)
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	key := string(p) + "\x00" + u.ID
	id.mu.Lock()
	ent, ok := id.cache[key]
	lookup := id.lookups[p]
	id.mu.Unlock()
	if ok && id.now().Before(ent.expires) {
		if ent.ref == "" {
			return nil, id.unlinked(p, u)
		}
		return id.cat.Get(ctx, ent.ref)
	}
	e, err := id.find(ctx, p, u, lookup)
	if err != nil {
		return nil, err
	}
	ent = identityEntry{expires: id.now().Add(id.ttl)}
	if e != nil {
		ent.ref = e.Ref().String()
	}
	id.mu.Lock()
	id.cache[key] = ent
	id.mu.Unlock()
	if e == nil {
		return nil, id.unlinked(p, u)
	}
	return e, nil
}

func (id *Identity) find(ctx context.Context, p Platform, u ChatUser, lookup ProfileLookup) (*catalog.Entity, error) {
	if ann, ok := userIDAnnotation[p]; ok && u.ID != "" {
		f := catalog.Filter{Sets: [][]catalog.Condition{{
			{Key: "kind", Value: catalog.KindUser, HasValue: true},
			{Key: "metadata.annotations." + ann, Value: u.ID, HasValue: true},
		}}}
		users, err := id.cat.List(ctx, f, 1)
		if err != nil {
			return nil, fmt.Errorf("find catalog user by %s: %w", ann, err)
		}
		if len(users) > 0 {
			return users[0], nil
		}
	}
	email := u.Email
	if email == "" && lookup != nil && u.ID != "" {
		var err error
		if email, err = lookup.Email(ctx, u.ID); err != nil {
			// The platform being slow or refusing is not the user's fault;
			// go on without the e-mail.
			email = ""
		}
	}
	if email == "" {
		return nil, nil
	}
	f := catalog.Filter{Sets: [][]catalog.Condition{{
		{Key: "kind", Value: catalog.KindUser, HasValue: true},
		{Key: "spec.profile.email", Value: strings.TrimSpace(email), HasValue: true},
	}}}
	users, err := id.cat.List(ctx, f, 1)
	if err != nil {
		return nil, fmt.Errorf("find catalog user by e-mail: %w", err)
	}
	if len(users) > 0 {
		return users[0], nil
	}
	return nil, nil
}

func (id *Identity) unlinked(p Platform, u ChatUser) error {
	ann := userIDAnnotation[p]
	if ann == "" {
		return Errorf("I don't know which catalog user you are.").WithHint("name yourself first (the console's /as <user>)")
	}
	return Errorf("I can't find you in the catalog.").
		WithHint("add the annotation %s: %s to your User entity, or give it the e-mail address of your %s profile", ann, u.ID, p)
}
