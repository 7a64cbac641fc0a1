// Package catalogexec is the "catalog" executor of actions: it sets or
// removes an annotation of the run's target entity (maintenance mode, a
// feature flag).
//
// The catalog has no write path for single entities yet (each source owns
// its entities and re-ingesting replaces them), so the change is kept as
// an overlay in the catalog's state namespace "overlays", one record per
// entity; Overlays reads them and Overlay.Apply merges one into an entity,
// for the answers that show annotations. A re-ingest leaves overlays alone.
//
//	executor:
//	  type: catalog
//	  annotation: idpbot.dev/maintenance   # the annotation to change
//	  valueFrom: enabled                   # an input's value, or
//	  value: "true"                        # a fixed value, or
//	  remove: "true"                       # remove the annotation
package catalogexec

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/catalog"
)

// Namespace is the state namespace of overlays.
const Namespace = "overlays"

var settings = []string{"annotation", "value", "valueFrom", "remove"}

// Overlay is what actions changed on one entity, on top of its descriptor.
type Overlay struct {
	Entity string `json:"entity"`
	// Set annotations win over the descriptor's; Removed ones are dropped.
	Set     map[string]string `json:"set,omitempty"`
	Removed []string          `json:"removed,omitempty"`
	// The last change: when, by which run, requested by whom.
	UpdatedAt time.Time `json:"updatedAt"`
	RunID     string    `json:"runId"`
	Requester string    `json:"requester"`
}

// Apply returns a copy of e with the overlay's annotations applied.
func (o *Overlay) Apply(e *catalog.Entity) *catalog.Entity {
	c := *e
	c.Metadata.Annotations = make(map[string]string, len(e.Metadata.Annotations)+len(o.Set))
	for k, v := range e.Metadata.Annotations {
		c.Metadata.Annotations[k] = v
	}
	for _, k := range o.Removed {
		delete(c.Metadata.Annotations, k)
	}
	for k, v := range o.Set {
		c.Metadata.Annotations[k] = v
	}
	return &c
}

// States opens state namespaces; *catalog.Store is one.
type States interface {
	State(name string) (*catalog.State, error)
}

// Overlays reads the overlays.
type Overlays struct{ st *catalog.State }

// NewOverlays returns the overlays kept in the store.
func NewOverlays(s States) (*Overlays, error) {
	st, err := s.State(Namespace)
	if err != nil {
		return nil, err
	}
	return &Overlays{st: st}, nil
}

// Get returns the overlay of an entity (canonical ref), or nil.
func (o *Overlays) Get(ctx context.Context, ref string) (*Overlay, error) {
	var ov Overlay
	found, err := o.st.Get(ctx, ref, &ov)
	if err != nil || !found {
		return nil, err
	}
	return &ov, nil
}

// List returns every overlay, by entity.
func (o *Overlays) List(ctx context.Context) ([]*Overlay, error) {
	var out []*Overlay
	err := o.st.View(ctx, func(tx *catalog.StateTx) error {
		return tx.Scan("", false, func(_ string, decode func(any) error) error {
			var ov Overlay
			if err := decode(&ov); err != nil {
				return err
			}
			out = append(out, &ov)
			return nil
		})
	})
	return out, err
}

// Factory builds catalog executors; register it as "catalog".
type Factory struct{ overlays *Overlays }

var _ actions.Factory = (*Factory)(nil)

// NewFactory returns a Factory writing overlays to the store.
func NewFactory(s States) (*Factory, error) {
	o, err := NewOverlays(s)
	if err != nil {
		return nil, err
	}
	return &Factory{overlays: o}, nil
}

// Check validates the settings.
func (f *Factory) Check(a *actions.Action) error {
	spec := &a.Executor
	if err := spec.CheckKeys(settings...); err != nil {
		return err
	}
	if a.Target == "" {
		return &actions.SettingError{Message: "a catalog executor changes the target: set spec.target"}
	}
	key, _ := spec.Setting("annotation")
	if !catalog.IsValidAnnotationKey(strings.TrimSpace(key)) {
		return &actions.SettingError{Key: "annotation", Message: fmt.Sprintf("invalid annotation key %q", key), Hint: "e.g. idpbot.dev/maintenance"}
	}
	n := 0
	for _, k := range []string{"value", "valueFrom", "remove"} {
		if _, ok := spec.Setting(k); ok {
			n++
		}
	}
	if n != 1 {
		return &actions.SettingError{Key: "value", Message: "give exactly one of value, valueFrom and remove"}
	}
	if from, ok := spec.Setting("valueFrom"); ok {
		in := a.Input(from)
		if in == nil {
			return &actions.SettingError{Key: "valueFrom", Message: fmt.Sprintf("no input %q", from)}
		}
		if in.Secret {
			return &actions.SettingError{Key: "valueFrom", Message: "a secret input cannot become an annotation"}
		}
	}
	if r, ok := spec.Setting("remove"); ok && r != "true" {
		return &actions.SettingError{Key: "remove", Message: `remove must be "true"`}
	}
	return nil
}

// New builds the executor of a.
func (f *Factory) New(a *actions.Action) (actions.Executor, error) {
	if err := f.Check(a); err != nil {
		return nil, err
	}
	s := a.Executor.Settings
	_, remove := s["remove"]
	return &Executor{overlays: f.overlays, key: strings.TrimSpace(s["annotation"]), value: s["value"], from: s["valueFrom"], remove: remove}, nil
}

// Executor changes one annotation.
type Executor struct {
	overlays *Overlays
	key      string
	value    string
	from     string
	remove   bool
}

var _ actions.Executor = (*Executor)(nil)

// Idempotent: setting an annotation twice is setting it once.
func (x *Executor) Idempotent() bool { return true }

// Execute writes the overlay of the target.
func (x *Executor) Execute(ctx context.Context, job *actions.Job) (string, error) {
	if job.Target == "" {
		return "", fmt.Errorf("the run has no target")
	}
	val := x.value
	if x.from != "" {
		val = job.Inputs[x.from]
	}
	err := x.overlays.st.Update(ctx, func(tx *catalog.StateTx) error {
		ov := Overlay{Entity: job.Target}
		if _, err := tx.Get(job.Target, &ov); err != nil {
			return err
		}
		if ov.Set == nil {
			ov.Set = map[string]string{}
		}
		removed := ov.Removed[:0]
		for _, k := range ov.Removed {
			if k != x.key {
				removed = append(removed, k)
			}
		}
		ov.Removed = removed
		delete(ov.Set, x.key)
		if x.remove {
			ov.Removed = append(ov.Removed, x.key)
			sort.Strings(ov.Removed)
		} else {
			ov.Set[x.key] = val
		}
		ov.UpdatedAt, ov.RunID, ov.Requester = time.Now().UTC(), job.RunID, job.Requester
		return tx.Put(job.Target, &ov)
	})
	if err != nil {
		return "", fmt.Errorf("write overlay of %s: %w", job.Target, err)
	}
	if x.remove {
		return fmt.Sprintf("removed annotation %s from %s", x.key, job.Target), nil
	}
	return fmt.Sprintf("set annotation %s=%s on %s", x.key, val, job.Target), nil
}
