package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// Config configures an Engine.
type Config struct {
	// Catalog resolves inputs, people, groups and owners, and keeps the
	// runs and the audit log (namespaces "actions" and "audit").
	Catalog Catalog
	Actions []*Action
	// Executors builds each action's executor.
	Executors Registry
	// OnCall answers "on call for the target" policies (optional: without
	// it nobody is on call).
	OnCall OnCall
	// Notifier posts and updates approval messages (optional).
	Notifier Notifier
	// OnChange, when set, is called after every committed change of a run
	// that gives it a new status, with the run's action and that status
	// (metrics): once per status a run reaches. It must not block.
	OnChange func(action string, status Status)
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Engine runs actions: it takes requests, counts approvals, executes
// approved runs exactly once and records everything in the audit log.
// Every change of a run is one compare-and-set transaction, so concurrent
// clicks, stale buttons and restarts are harmless. An Engine is safe for
// concurrent use; it assumes it is the only engine on its data directory
// (Badger allows one process).
type Engine struct {
	onChange func(action string, status Status)
	cat      Catalog
	actions  map[string]*Action
	order    []*Action
	exec     map[string]Executor
	runs     *catalog.State
	audit    *Audit
	oncall   OnCall
	notifier Notifier
	now      func() time.Time
	log      *slog.Logger

	runLocks [numRunLocks]sync.Mutex // serialise notifications per run
	flushMu  sync.Mutex
	wg       sync.WaitGroup

	mu      sync.Mutex
	stopped bool
	stop    chan struct{}
}

// New returns an Engine; it builds every action's executor and fails,
// naming the problems, when one cannot be built.
func New(cfg Config) (*Engine, error) {
	if cfg.Catalog == nil {
		return nil, errors.New("actions: a catalog is required")
	}
	runs, err := cfg.Catalog.State(RunsNamespace)
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	aud, err := cfg.Catalog.State(AuditNamespace)
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	execs, ps := cfg.Executors.Build(cfg.Actions)
	if ps.Errors() > 0 {
		msgs := make([]string, 0, len(ps))
		for _, p := range ps {
			msgs = append(msgs, p.String())
		}
		return nil, fmt.Errorf("actions: build executors: %s", strings.Join(msgs, "; "))
	}
	e := &Engine{cat: cfg.Catalog, actions: map[string]*Action{}, exec: execs, runs: runs, audit: NewAudit(aud),
		oncall: cfg.OnCall, notifier: cfg.Notifier, onChange: cfg.OnChange, now: cfg.Now, log: cfg.Logger, stop: make(chan struct{})}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With(slog.String("component", "actions"))
	for _, a := range cfg.Actions {
		if _, dup := e.actions[a.ID]; dup {
			return nil, fmt.Errorf("actions: action %q is defined twice", a.ID)
		}
		e.actions[a.ID] = a
		e.order = append(e.order, a)
	}
	sort.Slice(e.order, func(i, j int) bool { return e.order[i].ID < e.order[j].ID })
	return e, nil
}

// Audit is the engine's audit log.
func (e *Engine) Audit() *Audit { return e.audit }

// Actions lists every action, by id.
func (e *Engine) Actions() []*Action { return append([]*Action(nil), e.order...) }

// Action returns the action id names, or a *UserError (ErrUnknownAction)
// with the closest names.
func (e *Engine) Action(id string) (*Action, error) {
	if a, ok := e.actions[strings.ToLower(strings.TrimSpace(id))]; ok {
		return a, nil
	}
	ids := make([]string, 0, len(e.order))
	for _, a := range e.order {
		ids = append(ids, a.ID)
	}
	hint := "list actions with /idp actions"
	if s := closest(id, ids, 2); len(s) > 0 {
		hint = "did you mean " + strings.Join(s, ", ") + "?"
	}
	return nil, userErr(ErrUnknownAction, hint, "no action %q", clip(id, 40))
}

// Available is an action a person may run.
type Available struct {
	Action *Action
	// ForTargets is set when the right depends on the target (owners or
	// on-call of it): the person may run it for the targets they own or
	// are on call for.
	ForTargets bool
}

// Available lists the actions actor may run (`/idp actions`).
func (e *Engine) Available(ctx context.Context, actor string) ([]Available, error) {
	u, err := e.user(ctx, actor)
	if err != nil {
		return nil, err
	}
	m := e.membership(u)
	var out []Available
	for _, a := range e.order {
		ok, _, err := m.in(ctx, a.Runners, "")
		if err != nil {
			return nil, err
		}
		switch {
		case ok:
			out = append(out, Available{Action: a})
		case a.Runners.Owners || a.Runners.OnCall:
			out = append(out, Available{Action: a, ForTargets: true})
		}
	}
	return out, nil
}

// Bind validates params for the action id names (see Action.Bind).
func (e *Engine) Bind(ctx context.Context, actionID string, params map[string]string) (Inputs, error) {
	a, err := e.Action(actionID)
	if err != nil {
		return Inputs{}, err
	}
	return a.Bind(ctx, e.cat, params)
}

// Request records a run of an action with inputs from Bind, after checking
// that actor (a catalog user ref) may run it. The run awaits approval, or,
// for an action without approval, is approved and starts at once.
func (e *Engine) Request(ctx context.Context, actor, actionID string, in Inputs, origin Origin) (*Run, error) {
	a, err := e.Action(actionID)
	if err != nil {
		return nil, err
	}
	if in.action != a.ID || in.values == nil {
		return nil, fmt.Errorf("request %s: inputs were not bound for this action", a.ID)
	}
	u, err := e.user(ctx, actor)
	if err != nil {
		return nil, err
	}
	target := ""
	if a.Target != "" {
		target = in.values[a.Target]
	}
	ok, _, err := e.membership(u).in(ctx, a.Runners, target)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", a.ID, err)
	}
	if !ok {
		return nil, userErr(ErrNotAllowed, "it may be run by: "+a.Runners.String(), "you may not run %s", a.ID)
	}
	now := e.now().UTC()
	r := &Run{ID: newID(now), Action: a.ID, Title: a.Title, Status: StatusAwaitingApproval, Requester: u.Ref().String(),
		Origin: origin, Inputs: a.Redacted(in), Target: target, Policy: a.Approval, CreatedAt: now, UpdatedAt: now}
	if in.values["reason"] != "" && a.Input("reason") != nil && !a.Input("reason").Secret {
		r.Reason = in.values["reason"]
	}
	evs := []event{{name: EventRequested, actor: r.Requester, inputs: r.Inputs, detail: r.Reason}}
	if a.Approval.None {
		r.Status = StatusApproved
		evs = append(evs, event{name: EventApproved, detail: "no approval required"})
	} else {
		r.ExpiresAt = now.Add(a.Approval.ExpiresAfter)
	}
	secrets := map[string]string{}
	for _, i := range a.Inputs {
		if v, ok := in.values[i.Name]; ok && i.Secret {
			secrets[i.Name] = v
		}
	}
	err = updateRetry(ctx, e.runs, func(tx *catalog.StateTx) error {
		c := r.clone()
		if err := e.save(tx, c, evs); err != nil {
			return err
		}
		if len(secrets) > 0 {
			if err := tx.Put(secretKey(c.ID), secrets); err != nil {
				return err
			}
		}
		if err := tx.Put(userKey(c.Requester, c.ID), ""); err != nil {
			return err
		}
		*r = *c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", a.ID, err)
	}
	e.log.InfoContext(ctx, "run requested", slog.String("run_id", r.ID), slog.String("action", a.ID), slog.String("actor", r.Requester))
	e.changed(ctx, r, "")
	if r.Status == StatusApproved {
		e.executeLater(r.ID, 0)
	}
	return r, nil
}

// Approve records actor's approval. Refusals (not an approver, the
// requester approving their own run) are *UserError; clicks that change
// nothing (a second click, a run already approved, rejected or expired)
// are a Decision saying so, never an error. The approval that completes the
// quorum approves the run and starts it.
func (e *Engine) Approve(ctx context.Context, runID, actor string) (*Decision, error) {
	return e.decide(ctx, runID, actor, true, "")
}

// Reject records actor's rejection: one rejection by an allowed approver
// rejects the run, whatever approvals it has.
func (e *Engine) Reject(ctx context.Context, runID, actor, note string) (*Decision, error) {
	return e.decide(ctx, runID, actor, false, note)
}

func (e *Engine) decide(ctx context.Context, runID, actor string, approve bool, note string) (*Decision, error) {
	r, err := e.Get(ctx, runID)
	if err != nil {
		return nil, err
	}
	ref, err := canonicalUser(actor)
	if err != nil {
		return nil, err
	}
	if d := e.stale(r, ref, approve); d != nil {
		return d, nil
	}
	if ref == r.Requester && !r.Policy.AllowSelfApproval {
		if approve {
			return nil, userErr(ErrSelfApproval, "another approver must approve it", "you requested this run; you cannot approve it")
		}
		return nil, userErr(ErrSelfApproval, "cancel it instead: /idp cancel "+r.ID, "you requested this run; you cannot reject it")
	}
	u, err := e.user(ctx, ref)
	if err != nil {
		return nil, err
	}
	ok, why, err := e.membership(u).in(ctx, r.Policy.Approvers, r.Target)
	if err != nil {
		return nil, fmt.Errorf("check approver of %s: %w", r.ID, err)
	}
	if !ok {
		return nil, userErr(ErrNotAllowed, "approvers are: "+r.Policy.Approvers.String(), "you are not an approver of this run")
	}
	now := e.now().UTC()
	var d *Decision
	run, _, err := e.update(ctx, runID, func(r *Run) ([]event, error) {
		if sd := e.stale(r, ref, approve); sd != nil {
			d = sd
			return nil, nil
		}
		if !now.Before(r.ExpiresAt) {
			r.Status = StatusExpired
			d = &Decision{Outcome: OutcomeStale, Message: "this request expired at " + stamp(r.ExpiresAt)}
			return []event{{name: EventExpired, detail: "expired at " + stamp(r.ExpiresAt)}}, nil
		}
		if !approve {
			r.Status = StatusRejected
			r.Rejection = &Vote{Actor: ref, At: now, Note: clip(note, 500)}
			d = &Decision{Outcome: OutcomeRejected, Message: "rejected"}
			return []event{{name: EventRejected, actor: ref, detail: clip(note, 500)}}, nil
		}
		r.Approvals = append(r.Approvals, Vote{Actor: ref, At: now, Note: why})
		evs := []event{{name: EventApproval, actor: ref, detail: why}}
		if len(r.Approvals) >= r.Policy.Required {
			r.Status = StatusApproved
			d = &Decision{Outcome: OutcomeApproved, Message: "approved; the run starts now"}
			return append(evs, event{name: EventApproved, detail: fmt.Sprintf("%d of %d approvals", len(r.Approvals), r.Policy.Required)}), nil
		}
		left := r.Policy.Required - len(r.Approvals)
		d = &Decision{Outcome: OutcomeCounted, Message: fmt.Sprintf("approval counted; %d more needed", left)}
		return evs, nil
	})
	if err != nil {
		return nil, fmt.Errorf("decide run %s: %w", clip(runID, 40), err)
	}
	d.Run = run
	if d.Outcome == OutcomeApproved {
		e.log.InfoContext(ctx, "run approved", slog.String("run_id", run.ID), slog.String("action", run.Action))
		e.executeLater(run.ID, 0)
	}
	return d, nil
}

// stale answers a click that cannot change the run; nil when it can.
func (e *Engine) stale(r *Run, actor string, approve bool) *Decision {
	if r.Status == StatusAwaitingApproval {
		if v, ok := r.approvedBy(actor); ok && approve {
			return &Decision{Outcome: OutcomeDuplicate, Run: r, Message: "you already approved this run at " + stamp(v.At)}
		}
		return nil
	}
	return &Decision{Outcome: OutcomeStale, Run: r, Message: statusSentence(r)}
}

// statusSentence says where a run is, for a click that came too late.
func statusSentence(r *Run) string {
	by := strings.Join(r.Approvers(), ", ")
	switch r.Status {
	case StatusApproved, StatusRunning:
		if by == "" {
			return "already " + string(r.Status) + " (no approval required)"
		}
		return fmt.Sprintf("already approved by %s; the run is %s", by, r.Status)
	case StatusSucceeded, StatusFailed, StatusUnknown:
		if by == "" {
			return "the run already finished: " + string(r.Status)
		}
		return fmt.Sprintf("already approved by %s; the run %s", by, r.Status)
	case StatusRejected:
		if r.Rejection != nil {
			return fmt.Sprintf("already rejected by %s at %s", r.Rejection.Actor, stamp(r.Rejection.At))
		}
		return "already rejected"
	case StatusExpired:
		return "this request expired at " + stamp(r.ExpiresAt)
	case StatusCancelled:
		if r.Cancelled != nil {
			return fmt.Sprintf("cancelled by %s at %s", r.Cancelled.Actor, stamp(r.Cancelled.At))
		}
		return "cancelled"
	}
	return "the run is " + string(r.Status)
}

// Cancel withdraws a run: only its requester, and only before it starts.
func (e *Engine) Cancel(ctx context.Context, runID, actor string) (*Decision, error) {
	ref, err := canonicalUser(actor)
	if err != nil {
		return nil, err
	}
	r, err := e.Get(ctx, runID)
	if err != nil {
		return nil, err
	}
	if r.Requester != ref {
		return nil, userErr(ErrNotAllowed, "approvers can reject it instead", "only %s, who requested this run, can cancel it", r.Requester)
	}
	now := e.now().UTC()
	var d *Decision
	run, _, err := e.update(ctx, runID, func(r *Run) ([]event, error) {
		switch r.Status {
		case StatusAwaitingApproval, StatusApproved:
			r.Status = StatusCancelled
			r.Cancelled = &Vote{Actor: ref, At: now}
			d = &Decision{Outcome: OutcomeCancelled, Message: "cancelled"}
			return []event{{name: EventCancelled, actor: ref}}, nil
		case StatusRunning:
			d = &Decision{Outcome: OutcomeStale, Message: "too late: the run started at " + stamp(r.StartedAt)}
		default:
			d = &Decision{Outcome: OutcomeStale, Message: statusSentence(r)}
		}
		return nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("cancel run %s: %w", clip(runID, 40), err)
	}
	d.Run = run
	return d, nil
}

// Expire expires the runs still awaiting approval whose time is up at now
// and returns them (their messages are updated).
func (e *Engine) Expire(ctx context.Context, now time.Time) ([]*Run, error) {
	ids, err := e.openIDs(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Run
	for _, id := range ids {
		r, changed, err := e.update(ctx, id, func(r *Run) ([]event, error) {
			if r.Status != StatusAwaitingApproval || now.Before(r.ExpiresAt) {
				return nil, nil
			}
			r.Status = StatusExpired
			return []event{{name: EventExpired, detail: "expired at " + stamp(r.ExpiresAt)}}, nil
		})
		if err != nil {
			return out, fmt.Errorf("expire run %s: %w", id, err)
		}
		if changed {
			out = append(out, r)
		}
	}
	return out, nil
}

// ExpireStale is Expire at the engine's clock, for the scheduler table.
func (e *Engine) ExpireStale(ctx context.Context) error {
	_, err := e.Expire(ctx, e.now())
	return err
}

func (e *Engine) openIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := e.runs.View(ctx, func(tx *catalog.StateTx) error {
		return tx.Scan("open/", false, func(key string, _ func(any) error) error {
			ids = append(ids, strings.TrimPrefix(key, "open/"))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list open runs: %w", err)
	}
	return ids, nil
}
