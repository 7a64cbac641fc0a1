package oncall

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors a provider's Error wraps, for callers that branch.
var (
	// ErrUnavailable: the provider did not answer in time, answered 5xx or
	// kept rate-limiting; the last known data is the best answer.
	ErrUnavailable = errors.New("provider unavailable")
	// ErrUnauthorized: the token or API key was refused (HTTP 401/403).
	ErrUnauthorized = errors.New("credentials refused")
	// ErrNotFound: the service, team or schedule an annotation names does
	// not exist (or the credentials cannot see it).
	ErrNotFound = errors.New("not found")
	// ErrMalformed: the provider answered with a body that is not the JSON
	// its API documents.
	ErrMalformed = errors.New("malformed response")
	// ErrBadAnnotation: an on-call annotation has a value the provider
	// cannot use.
	ErrBadAnnotation = errors.New("bad annotation")
	// ErrRefused: the provider refused the request for another reason
	// (HTTP 4xx other than 401, 403, 404 and 429).
	ErrRefused = errors.New("request refused")
)

// Error is a failed provider call. Its message is meant for chat: short,
// naming the provider, the step and what went wrong, never a secret or a
// URL; the underlying error stays reachable with errors.Unwrap for logs.
type Error struct {
	Provider string // pagerduty, opsgenie
	Op       string // "get service PX7Q2LM", "list schedules"
	Kind     error  // one of the sentinels above
	Detail   string // "HTTP 503", "no answer within 10s"
	Err      error  // the cause, for logs
}

func (e *Error) Error() string {
	msg := e.Provider + ": " + e.Op + ": " + e.Kind.Error()
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Unwrap returns the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// HTTPError classifies an HTTP status a provider answered with.
func HTTPError(provider, op string, status int, cause error) *Error {
	e := &Error{Provider: provider, Op: op, Detail: fmt.Sprintf("HTTP %d", status), Err: cause}
	switch {
	case status == 401 || status == 403:
		e.Kind = ErrUnauthorized
	case status == 404:
		e.Kind = ErrNotFound
	case status == 429:
		e.Kind = ErrUnavailable
		e.Detail = "rate limited, HTTP 429"
	case status >= 500:
		e.Kind = ErrUnavailable
	default:
		e.Kind = ErrRefused
	}
	return e
}

// TransportError classifies an error that is not an HTTP status: the
// call's context ending (ctx is the context the call ran with, timeout its
// budget) or the connection failing.
func TransportError(ctx context.Context, provider, op string, timeout time.Duration, cause error) *Error {
	e := &Error{Provider: provider, Op: op, Kind: ErrUnavailable, Err: cause}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(cause, context.DeadlineExceeded):
		e.Detail = "no answer in time"
		if timeout > 0 {
			e.Detail = "no answer within " + timeout.String()
		}
	case errors.Is(ctx.Err(), context.Canceled) || errors.Is(cause, context.Canceled):
		e.Detail = "canceled"
	default:
		e.Detail = "connection failed"
	}
	return e
}

// MalformedError reports a body that does not decode.
func MalformedError(provider, op string, cause error) *Error {
	return &Error{Provider: provider, Op: op, Kind: ErrMalformed, Err: cause}
}
