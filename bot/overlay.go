package bot

import (
	"context"
	"sort"

	"github.com/idpbot/idpbot/actions/catalogexec"
	"github.com/idpbot/idpbot/catalog"
)

// OverlaySource gives what self-service actions changed on an entity on
// top of its catalog files: the annotations the catalog executor set or
// removed (maintenance mode, feature flags), with the last run that did
// and who asked. Get takes a canonical ref and returns nil, nil when
// actions changed nothing. *catalogexec.Overlays satisfies it.
type OverlaySource interface {
	Get(ctx context.Context, ref string) (*catalogexec.Overlay, error)
}

var _ OverlaySource = (*catalogexec.Overlays)(nil)

// maxOverlayShown bounds the annotations listed from one overlay.
const maxOverlayShown = 10

// overlayOf returns the overlay of e, or nil when there is none or it
// cannot be read (the card is useful without it; the failure is logged).
func (r *Router) overlayOf(ctx context.Context, c *Call, e *catalog.Entity) *catalogexec.Overlay {
	if r.overlays == nil {
		return nil
	}
	ov, err := r.overlays.Get(ctx, e.Ref().String())
	if err != nil {
		r.log.WarnContext(ctx, "read overlay", "request_id", c.Request.ID, "entity", e.Ref().String(), "error", err.Error())
		return nil
	}
	if ov == nil || (len(ov.Set) == 0 && len(ov.Removed) == 0) {
		return nil
	}
	return ov
}

// overlaySection shows an overlay: each annotation set (key=value) or
// removed by an action, then the last change: which run, who asked it
// (by name, mentioned where the catalog knows their chat id) and when.
func (r *Router) overlaySection(ctx context.Context, ov *catalogexec.Overlay) *Section {
	keys := make([]string, 0, len(ov.Set))
	for k := range ov.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t := Text{B("Set by actions"), P(" (not in the catalog files)\n")}
	t = append(t, capped(len(keys), maxOverlayShown, ", ", ", and %d more", func(i int) Text {
		return Text{C(keys[i] + "=" + oneLine(ov.Set[keys[i]], 100))}
	})...)
	if len(ov.Removed) > 0 {
		if len(keys) > 0 {
			t = append(t, P("\n"))
		}
		t = append(t, P("Removed: "))
		t = append(t, capped(len(ov.Removed), maxOverlayShown, ", ", ", and %d more", func(i int) Text {
			return Text{C(ov.Removed[i])}
		})...)
	}
	var last Text
	if ov.RunID != "" {
		last = append(last, P(" by run "), C(ov.RunID))
	}
	if ov.Requester != "" {
		last = append(last, P(", requested by "), r.personSpan(ctx, ov.Requester))
	}
	if !ov.UpdatedAt.IsZero() {
		last = append(last, P(", "), When(ov.UpdatedAt))
	}
	if len(last) > 0 {
		t = append(t, P("\nLast changed"))
		t = append(t, last...)
	}
	return &Section{Text: t}
}

// personSpan mentions the catalog user ref names, or shows the ref's name
// when the catalog no longer has them.
func (r *Router) personSpan(ctx context.Context, ref string) Span {
	if u, err := r.cat.Get(ctx, ref); err == nil {
		p := catalog.PersonOf(u)
		return Mention(p.DisplayName, personIDs(p))
	}
	if rf, err := catalog.ParseRef(ref, catalog.RefDefaults{Kind: catalog.KindUser}); err == nil {
		return P(rf.Name)
	}
	return P(ref)
}
