package bot

import (
	"context"

	"github.com/idpbot/idpbot/catalog"
)

// Catalog is what the bot reads of the software catalog; *catalog.Store
// satisfies it.
type Catalog interface {
	WhoOwns(ctx context.Context, query string) (*catalog.Ownership, error)
	Resolve(ctx context.Context, query string, preferKinds ...string) (*catalog.Entity, error)
	Get(ctx context.Context, ref string) (*catalog.Entity, error)
	Search(ctx context.Context, req catalog.SearchRequest) (*catalog.SearchResult, error)
	List(ctx context.Context, f catalog.Filter, limit int) ([]*catalog.Entity, error)
	Complete(ctx context.Context, prefix string, n int) ([]catalog.Ref, error)
}

var _ Catalog = (*catalog.Store)(nil)

// OnCallSource tells who is on call now and next for an ownership answer
// (the owner team or person); the integrations (rotations kept in the
// catalog, PagerDuty, Opsgenie) implement it. A nil answer with a nil error
// means the source knows nothing of this owner.
type OnCallSource interface {
	OnCall(ctx context.Context, o *catalog.Ownership) (*catalog.OnCall, error)
}
