package actions

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// State namespaces.
const (
	RunsNamespace  = "actions"
	AuditNamespace = "audit"
)

func runKey(id string) string        { return "run/" + id }
func openKey(id string) string       { return "open/" + id }
func userKey(user, id string) string { return "user/" + user + "/" + id }
func secretKey(id string) string     { return "secret/" + id }
func lockIndex(id string) int {
	h := 0
	for i := 0; i < len(id); i++ {
		h = h*31 + int(id[i])
	}
	return (h & 0x7fffffff) % numRunLocks
}
func outboxKey(r *Run, i int) string {
	return fmt.Sprintf("outbox/%020d/%s/%06d-%02d", r.UpdatedAt.UnixNano(), r.ID, r.Version, i)
}

const numRunLocks = 64

// newID makes a run id: the UTC time of the request and 6 random letters,
// sortable, short enough for a button (Discord custom_id ≤ 100).
func newID(now time.Time) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return now.UTC().Format("20060102-150405") + "-" + string(b)
}

// event is one audit event of a transition.
type event struct {
	name   string
	actor  string
	detail string
	inputs map[string]string
}

// save writes r after a change, in tx, with its audit events in the outbox:
// the run and the record of what happened commit together.
func (e *Engine) save(tx *catalog.StateTx, r *Run, evs []event) error {
	now := e.now().UTC()
	if now.Before(r.UpdatedAt) {
		now = r.UpdatedAt // keep a run's events in order if the clock steps back
	}
	r.Version++
	r.UpdatedAt = now
	last := evs[len(evs)-1]
	r.LastEvent, r.LastActor = last.name, last.actor
	if err := tx.Put(runKey(r.ID), r); err != nil {
		return err
	}
	if r.Status.Final() {
		if err := tx.Delete(openKey(r.ID)); err != nil {
			return err
		}
		if err := tx.Delete(secretKey(r.ID)); err != nil {
			return err
		}
	} else if err := tx.Put(openKey(r.ID), ""); err != nil {
		return err
	}
	for i, ev := range evs {
		rec := Record{Time: now, Event: ev.name, RunID: r.ID, Action: r.Action, Actor: ev.actor, Status: r.Status,
			Inputs: ev.inputs, Detail: ev.detail, EventID: fmt.Sprintf("%s/%d/%d", r.ID, r.Version, i)}
		if err := tx.Put(outboxKey(r, i), rec); err != nil {
			return err
		}
	}
	return nil
}

// update runs fn on the stored run in one serializable transaction (a
// compare-and-set: fn sees the current run and is run again on conflict).
// fn changes the run and returns the audit events; none means no change.
func (e *Engine) update(ctx context.Context, id string, fn func(r *Run) ([]event, error)) (*Run, bool, error) {
	var out *Run
	var changed bool
	var before Status
	err := updateRetry(ctx, e.runs, func(tx *catalog.StateTx) error {
		var r Run
		found, err := tx.Get(runKey(id), &r)
		if err != nil {
			return err
		}
		if !found {
			return unknownRun(id)
		}
		before = r.Status
		evs, err := fn(&r)
		if err != nil {
			return err
		}
		changed = len(evs) > 0
		if changed {
			if err := e.save(tx, &r, evs); err != nil {
				return err
			}
		}
		out = &r
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if changed {
		e.changed(ctx, out, before)
	}
	return out, changed, nil
}

func unknownRun(id string) error {
	return userErr(ErrUnknownRun, "list runs with /idp runs", "no run %q", clip(id, 40))
}

// changed reports the run's new status (when it has one: before is the
// status the change started from, "" for a new run), moves its audit
// events into the chain and updates its message.
func (e *Engine) changed(ctx context.Context, r *Run, before Status) {
	if e.onChange != nil && r.Status != before {
		e.onChange(r.Action, r.Status)
	}
	if err := e.flushAudit(context.WithoutCancel(ctx)); err != nil {
		e.log.ErrorContext(ctx, "audit: flush outbox", slog.String("run_id", r.ID), slog.Any("error", err))
	}
	e.notifyLater(r.ID)
}

// flushAudit appends the outbox's records to the audit chain, oldest first,
// and removes them from the outbox. A crash in between appends nothing
// twice: the chain remembers event ids.
func (e *Engine) flushAudit(ctx context.Context) error {
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	for {
		type item struct {
			key string
			rec Record
		}
		var batch []item
		err := e.runs.View(ctx, func(tx *catalog.StateTx) error {
			return tx.Scan("outbox/", false, func(key string, decode func(any) error) error {
				var it item
				it.key = key
				if err := decode(&it.rec); err != nil {
					return err
				}
				batch = append(batch, it)
				if len(batch) >= 100 {
					return catalog.ErrStopScan
				}
				return nil
			})
		})
		if err != nil || len(batch) == 0 {
			return err
		}
		for _, it := range batch {
			if _, err := e.audit.Append(ctx, it.rec); err != nil {
				return err
			}
			if err := updateRetry(ctx, e.runs, func(tx *catalog.StateTx) error { return tx.Delete(it.key) }); err != nil {
				return err
			}
		}
	}
}

// RunFilter selects runs; empty fields match everything.
type RunFilter struct {
	// Requester is a user ref ("--mine").
	Requester string
	Action    string
	Status    Status
	// Open selects runs not yet final.
	Open bool
}

// Get returns a run.
func (e *Engine) Get(ctx context.Context, id string) (*Run, error) {
	var r Run
	found, err := e.runs.Get(ctx, runKey(id), &r)
	if err != nil {
		return nil, fmt.Errorf("read run %s: %w", clip(id, 40), err)
	}
	if !found {
		return nil, unknownRun(id)
	}
	return &r, nil
}

// List returns up to limit runs matching f, newest first (limit <= 0: 20).
func (e *Engine) List(ctx context.Context, f RunFilter, limit int) ([]*Run, error) {
	if limit <= 0 {
		limit = 20
	}
	var out []*Run
	prefix := "run/"
	if f.Requester != "" {
		ref, err := canonicalUser(f.Requester)
		if err != nil {
			return nil, err
		}
		f.Requester = ref
		prefix = userKey(ref, "")
	} else if f.Open {
		prefix = "open/"
	}
	err := e.runs.View(ctx, func(tx *catalog.StateTx) error {
		return tx.Scan(prefix, true, func(key string, decode func(any) error) error {
			var r Run
			if prefix == "run/" {
				if err := decode(&r); err != nil {
					return err
				}
			} else {
				found, err := tx.Get(runKey(strings.TrimPrefix(key, prefix)), &r)
				if err != nil || !found {
					return err
				}
			}
			if (f.Action == "" || r.Action == f.Action) && (f.Status == "" || r.Status == f.Status) &&
				(!f.Open || !r.Status.Final()) && (f.Requester == "" || r.Requester == f.Requester) {
				out = append(out, &r)
			}
			if len(out) >= limit {
				return catalog.ErrStopScan
			}
			return ctx.Err()
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}
