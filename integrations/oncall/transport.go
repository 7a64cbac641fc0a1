package oncall

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Defaults of RetryTransport.
const (
	DefaultMaxRetries   = 2
	DefaultMaxRetryWait = 5 * time.Second
	DefaultMinBackoff   = 200 * time.Millisecond
)

// RetryTransport retries the idempotent requests (GET, HEAD) of a provider
// client that were rate limited (429) or failed on the provider's side
// (500, 502, 503, 504, a broken connection). It waits what Retry-After
// asks (seconds or an HTTP date), else an exponential backoff, and gives up
// — handing the last response back to the client, which turns it into an
// error — when the wait would exceed MaxWait or the request's context
// deadline. Waiting honours the context.
type RetryTransport struct {
	// Base does the requests; nil: http.DefaultTransport.
	Base http.RoundTripper
	// MaxRetries after the first attempt (0: DefaultMaxRetries; negative:
	// none).
	MaxRetries int
	// MaxWait is the longest single wait honoured (0: DefaultMaxRetryWait).
	MaxWait time.Duration
	// MinBackoff is the first wait without Retry-After, doubled each time
	// (0: DefaultMinBackoff).
	MinBackoff time.Duration
	// Sleep waits d or until ctx ends (nil: a timer); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for Retry-After dates (nil: time.Now).
	Now func() time.Time
}

// RoundTrip implements http.RoundTripper.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	if (req.Method != http.MethodGet && req.Method != http.MethodHead) || (hasBody && req.GetBody == nil) {
		return base.RoundTrip(req)
	}
	retries := t.MaxRetries
	if retries == 0 {
		retries = DefaultMaxRetries
	}
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		resp, err := base.RoundTrip(req)
		if attempt >= retries || ctx.Err() != nil || !retryable(resp, err) {
			return resp, err
		}
		wait, ok := t.wait(ctx, resp, attempt)
		if !ok {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
		if hasBody {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
	}
}

func retryable(resp *http.Response, err error) bool {
	if err != nil {
		return true // the context is checked by the caller
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// wait is how long to wait before the next attempt, and whether to make it.
func (t *RetryTransport) wait(ctx context.Context, resp *http.Response, attempt int) (time.Duration, bool) {
	maxWait := t.MaxWait
	if maxWait == 0 {
		maxWait = DefaultMaxRetryWait
	}
	minBackoff := t.MinBackoff
	if minBackoff == 0 {
		minBackoff = DefaultMinBackoff
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	wait := minBackoff << attempt
	if resp != nil {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), now()); ok {
			wait = d
		}
	}
	if wait > maxWait {
		return 0, false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return 0, false
	}
	return wait, true
}

// retryAfter parses a Retry-After value: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		d := at.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func (t *RetryTransport) sleep(ctx context.Context, d time.Duration) error {
	if t.Sleep != nil {
		return t.Sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
