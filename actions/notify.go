package actions

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// Notifier posts a run's approval message and keeps it up to date; cmd
// satisfies it with the Slack and Discord front doors.
//
// The engine calls Notify after every change of a run, from a background
// goroutine, one call at a time per run, always with the run as it is now
// (two quick changes may arrive as one call showing the later). The first
// call for a run has Ref == "": post the message (in Origin's channel, or
// one of Channels) and return a ref to it (e.g. "slack:C04PAYMENTS:1712.34");
// later calls carry that ref: edit the message with the bot token. A
// returned error is logged and the next change tries again.
type Notifier interface {
	Notify(ctx context.Context, m *Message) (ref string, err error)
}

// Message is a neutral description of a run for people; the chat layer
// renders it. Secret inputs are redacted.
type Message struct {
	RunID string
	// Ref is what Notify returned last time ("" the first time).
	Ref    string
	Origin Origin
	// Channels are the chat channels of the target's owner, nearest first,
	// for a request that came without a channel (the API).
	Channels []catalog.Channel

	// Event is what just happened (EventRequested, EventApproval, …) and
	// Actor who did it (zero for the engine itself: expiry, recovery).
	Event string
	Actor catalog.Person

	Status Status
	// AwaitingApproval: show Approve and Reject buttons carrying RunID.
	AwaitingApproval bool
	// Final: the run will not change again.
	Final bool

	Action      string
	Title       string
	Description string
	Requester   catalog.Person
	Target      string
	Reason      string
	// Inputs in the action's order.
	Inputs []Field

	// Policy says the approval policy in one line; Required approvals,
	// Approvals so far.
	Policy     string
	Required   int
	Approvals  []Approver
	Rejection  *Approver
	Cancelled  *Approver
	ExpiresAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	Attempts   int
	// Output is the executor's output, Error why the run failed.
	Output string
	Error  string
}

// Field is one input as shown.
type Field struct {
	Name   string
	Value  string
	Secret bool
}

// Approver is one decision with the person who made it.
type Approver struct {
	Person catalog.Person
	At     time.Time
	Note   string
}

// notifyTimeout bounds one Notify call.
const notifyTimeout = 30 * time.Second

// notifyLater sends the run's message in the background.
func (e *Engine) notifyLater(runID string) {
	if e.notifier == nil {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
		defer cancel()
		e.notify(ctx, runID)
	}()
}

func (e *Engine) notify(ctx context.Context, runID string) {
	mu := &e.runLocks[lockIndex(runID)]
	mu.Lock()
	defer mu.Unlock()
	r, err := e.Get(ctx, runID)
	if err != nil {
		e.log.ErrorContext(ctx, "notify: read run", slog.String("run_id", runID), slog.Any("error", err))
		return
	}
	m := e.message(ctx, r)
	ref, err := e.notifier.Notify(ctx, m)
	if err != nil {
		e.log.WarnContext(ctx, "notify run", slog.String("run_id", runID), slog.String("status", string(r.Status)), slog.Any("error", err))
		return
	}
	if ref == "" || ref == r.NoticeRef {
		return
	}
	err = updateRetry(ctx, e.runs, func(tx *catalog.StateTx) error {
		var cur Run
		found, err := tx.Get(runKey(runID), &cur)
		if err != nil || !found {
			return err
		}
		cur.NoticeRef = ref
		return tx.Put(runKey(runID), &cur)
	})
	if err != nil {
		e.log.ErrorContext(ctx, "notify: keep message ref", slog.String("run_id", runID), slog.Any("error", err))
	}
}

// Message builds the message of a run as it is now (to render it again,
// e.g. for `/idp runs <id>`).
func (e *Engine) Message(ctx context.Context, runID string) (*Message, error) {
	r, err := e.Get(ctx, runID)
	if err != nil {
		return nil, err
	}
	return e.message(ctx, r), nil
}

func (e *Engine) message(ctx context.Context, r *Run) *Message {
	m := &Message{
		RunID: r.ID, Ref: r.NoticeRef, Origin: r.Origin, Event: r.LastEvent,
		Status: r.Status, AwaitingApproval: r.Status == StatusAwaitingApproval, Final: r.Status.Final(),
		Action: r.Action, Title: r.Title, Requester: e.person(ctx, r.Requester), Target: r.Target, Reason: r.Reason,
		Policy: r.Policy.Describe(), Required: r.Policy.Required, ExpiresAt: r.ExpiresAt,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Attempts: r.Attempts, Output: r.Output, Error: r.Error,
	}
	if r.LastActor != "" {
		m.Actor = e.person(ctx, r.LastActor)
	}
	if r.Policy.None {
		m.Required = 0
	}
	if a, ok := e.actions[r.Action]; ok {
		m.Description = a.Description
		for _, in := range a.Inputs {
			if v, ok := r.Inputs[in.Name]; ok {
				m.Inputs = append(m.Inputs, Field{Name: in.Name, Value: v, Secret: in.Secret})
			}
		}
	}
	for _, v := range r.Approvals {
		m.Approvals = append(m.Approvals, Approver{Person: e.person(ctx, v.Actor), At: v.At, Note: v.Note})
	}
	if v := r.Rejection; v != nil {
		m.Rejection = &Approver{Person: e.person(ctx, v.Actor), At: v.At, Note: v.Note}
	}
	if v := r.Cancelled; v != nil {
		m.Cancelled = &Approver{Person: e.person(ctx, v.Actor), At: v.At, Note: v.Note}
	}
	if r.Target != "" {
		if o, err := e.cat.WhoOwns(ctx, r.Target); err == nil {
			m.Channels = o.Channels
		}
	}
	return m
}

// person describes a user ref for people (their name and chat ids), or
// just the ref when the catalog no longer has them.
func (e *Engine) person(ctx context.Context, ref string) catalog.Person {
	u, err := e.cat.Get(ctx, ref)
	if err != nil {
		if !errors.Is(err, catalog.ErrNotFound) {
			e.log.WarnContext(ctx, "read user", slog.String("user", ref), slog.Any("error", err))
		}
		name := ref
		if r, err := catalog.ParseRef(ref, catalog.RefDefaults{}); err == nil {
			name = r.Name
		}
		return catalog.Person{Ref: ref, DisplayName: name}
	}
	return catalog.PersonOf(u)
}
