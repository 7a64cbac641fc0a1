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
}

var _ Catalog = (*catalog.Store)(nil)

// OnCallSource tells who is on call now for an owner; the integrations
// (PagerDuty, Opsgenie, rotations in YAML) implement it.
type OnCallSource interface {
	OnCall(ctx context.Context, o *catalog.Ownership) ([]Shift, error)
}

// Shift is one person on call.
type Shift struct {
	Person catalog.Person
	// Schedule names the rotation or escalation level ("Payments primary").
	Schedule string
	Source   string // pagerduty, opsgenie, catalog
	Until    string // end of the shift as the source gives it, if known
	// PageURL is where to page them, if the source has one.
	PageURL string
}
