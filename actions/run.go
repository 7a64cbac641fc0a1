package actions

import (
	"errors"
	"fmt"
	"time"
)

// Status is where a run is in its life.
//
//	requested ─┬─> awaiting_approval ─┬─> approved ──> running ─┬─> succeeded
//	           │                      ├─> rejected             ├─> failed
//	           │                      ├─> expired              └─> unknown
//	           │                      └─> cancelled
//	           └─> approved (approval: none)      approved ──> cancelled
//
// requested is the audit event of a new run: a stored run starts at
// awaiting_approval, or approved when the action needs no approval.
type Status string

// Statuses.
const (
	StatusRequested        Status = "requested"
	StatusAwaitingApproval Status = "awaiting_approval"
	StatusApproved         Status = "approved"
	StatusRunning          Status = "running"
	StatusSucceeded        Status = "succeeded"
	StatusFailed           Status = "failed"
	StatusRejected         Status = "rejected"
	StatusExpired          Status = "expired"
	StatusCancelled        Status = "cancelled"
	// StatusUnknown: the process stopped while a non-idempotent executor
	// was running; whether the action happened must be checked by hand.
	StatusUnknown Status = "unknown"
)

// Final says the run will not change any more.
func (s Status) Final() bool {
	switch s {
	case StatusSucceeded, StatusFailed, StatusRejected, StatusExpired, StatusCancelled, StatusUnknown:
		return true
	}
	return false
}

// Run is one request to run an action, as stored. Secret inputs are not in
// it (they are kept apart until the run ends).
type Run struct {
	ID      string `json:"id"`
	Action  string `json:"action"`
	Title   string `json:"title"`
	Status  Status `json:"status"`
	Version int    `json:"version"` // increases with every change
	// Requester is the catalog user ref of who asked.
	Requester string `json:"requester"`
	Origin    Origin `json:"origin"`
	// Inputs are the normalised inputs, secret ones Redacted.
	Inputs map[string]string `json:"inputs"`
	// Target is the canonical ref of the target entity.
	Target string `json:"target,omitempty"`
	// Reason is the input called "reason", when the action has one.
	Reason string `json:"reason,omitempty"`
	// Policy is the approval policy as it was when the run was requested;
	// later edits of the action do not change it.
	Policy    Approval  `json:"policy"`
	Approvals []Vote    `json:"approvals,omitempty"`
	Rejection *Vote     `json:"rejection,omitempty"`
	Cancelled *Vote     `json:"cancelled,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// ExpiresAt is when a run awaiting approval expires.
	ExpiresAt  time.Time `json:"expiresAt,omitzero"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// Attempts counts executions (more than one after a retry on restart).
	Attempts int `json:"attempts,omitempty"`
	// Output is the executor's output (capped); Error says why it failed.
	Output string `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
	// LastEvent is the latest audit event of the run, LastActor who caused
	// it ("" for the engine).
	LastEvent string `json:"lastEvent,omitempty"`
	LastActor string `json:"lastActor,omitempty"`
	// NoticeRef is the Notifier's handle of the run's message.
	NoticeRef string `json:"noticeRef,omitempty"`
}

// Vote is one decision by one person.
type Vote struct {
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
}

// Origin is where a request came from, kept with the run and handed back
// to the Notifier; actions does not interpret it.
type Origin struct {
	// Via is "chat" or "api".
	Via      string `json:"via,omitempty"`
	Platform string `json:"platform,omitempty"` // slack, discord
	Channel  string `json:"channel,omitempty"`
	Thread   string `json:"thread,omitempty"`
}

// Approvers lists who approved, in order.
func (r *Run) Approvers() []string {
	out := make([]string, 0, len(r.Approvals))
	for _, v := range r.Approvals {
		out = append(out, v.Actor)
	}
	return out
}

func (r *Run) approvedBy(actor string) (Vote, bool) {
	for _, v := range r.Approvals {
		if v.Actor == actor {
			return v, true
		}
	}
	return Vote{}, false
}

func (r *Run) clone() *Run {
	c := *r
	c.Inputs = make(map[string]string, len(r.Inputs))
	for k, v := range r.Inputs {
		c.Inputs[k] = v
	}
	c.Approvals = append([]Vote(nil), r.Approvals...)
	if r.Rejection != nil {
		v := *r.Rejection
		c.Rejection = &v
	}
	if r.Cancelled != nil {
		v := *r.Cancelled
		c.Cancelled = &v
	}
	return &c
}

// Outcome says what a click (approve, reject, cancel) did.
type Outcome string

// Outcomes.
const (
	// OutcomeCounted: the approval is recorded; more are needed.
	OutcomeCounted Outcome = "counted"
	// OutcomeApproved: this approval completed the quorum; the run starts.
	OutcomeApproved  Outcome = "approved"
	OutcomeRejected  Outcome = "rejected"
	OutcomeCancelled Outcome = "cancelled"
	// OutcomeDuplicate: the same person already approved; nothing changed.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeStale: the run is past the point the click was for (approved,
	// rejected, expired, cancelled, running or done); nothing changed.
	OutcomeStale Outcome = "stale"
)

// Decision is the answer to a click: what happened, the run as it is now,
// and a sentence for the person who clicked ("already approved by
// user:default/alice.nguyen at 10:02 UTC").
type Decision struct {
	Outcome Outcome
	Run     *Run
	Message string
}

// Changed says the click changed the run.
func (d *Decision) Changed() bool {
	return d.Outcome != OutcomeDuplicate && d.Outcome != OutcomeStale
}

// Sentinel errors, wrapped by *UserError.
var (
	ErrUnknownAction = errors.New("unknown action")
	ErrUnknownRun    = errors.New("unknown run")
	// ErrNotAllowed: the actor is not in the set the policy names.
	ErrNotAllowed = errors.New("not allowed")
	// ErrSelfApproval: the requester may not approve their own run.
	ErrSelfApproval = errors.New("self-approval is not allowed")
	// ErrNotLinked: the actor is not a user in the catalog.
	ErrNotLinked = errors.New("not a catalog user")
	// ErrNotRunnable: Execute found the run not approved (someone else
	// claimed it, or it was cancelled).
	ErrNotRunnable = errors.New("run is not approved")
)

// UserError is a refusal or problem safe to show the person who asked: it
// says what is wrong and how to go on. errors.Is finds its sentinel.
type UserError struct {
	Err     error
	Message string
	Hint    string
}

func (e *UserError) Error() string {
	if e.Hint == "" {
		return e.Message
	}
	return e.Message + " (" + e.Hint + ")"
}

func (e *UserError) Unwrap() error { return e.Err }

func userErr(sentinel error, hint, format string, args ...any) *UserError {
	return &UserError{Err: sentinel, Message: fmt.Sprintf(format, args...), Hint: hint}
}

// stamp formats a time for messages.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
