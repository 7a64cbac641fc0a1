package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/idpbot/idpbot/integrations/oncall"
)

// The transport chain of a Source, outermost first:
//
//	authTransport      Authorization (the token, or the App's installation token),
//	                   on requests to the API only
//	cacheTransport     If-None-Match from the ETag cache; a 304 is served from it
//	exhaustedTransport a rate limit not waited out becomes a *RateLimitError
//	oncall.RetryTransport  waits Retry-After / backoff on 429 and 5xx (GET only)
//	rateLimitTransport GitHub's 403 rate limits become 429 with Retry-After
//	wireTransport      per-attempt timeout; counts requests, 304s, remaining
//	opts.Transport     (http.DefaultTransport)

// Retry settings.
const (
	maxRetries = 3
	// maxRateWait is the longest wait for a rate limit; a longer one fails
	// the request with a *RateLimitError.
	maxRateWait = time.Minute
	minBackoff  = time.Second
	// maxCachedBody is the largest response body kept in the ETag cache.
	maxCachedBody = 4 << 20
	// cacheHeader marks a response served from the ETag cache after a 304.
	cacheHeader = "X-Idpbot-Cache"
)

// ErrRateLimited is matched (errors.Is) by a *RateLimitError.
var ErrRateLimited = errors.New("GitHub rate limit exhausted")

// ErrTimeout says GitHub did not answer within github.timeout.
var ErrTimeout = errors.New("GitHub did not answer in time")

// RateLimitError is a rate limit that lasts longer than the sync waits.
type RateLimitError struct {
	// Until is when GitHub accepts requests again (zero: not said).
	Until time.Time
}

func (e *RateLimitError) Error() string {
	const hint = "the next sync resumes; a GitHub App installation has a higher limit than a token, or lengthen github.interval"
	if e.Until.IsZero() {
		return "GitHub rate limit exhausted; " + hint
	}
	return fmt.Sprintf("GitHub rate limit exhausted until %s UTC; %s", e.Until.UTC().Format("15:04"), hint)
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// stats counts the requests of one Sync; it travels in the request context,
// so that Check and concurrent work do not mix their counts.
type stats struct {
	requests, notModified, rateLimited atomic.Int64
	remaining                          atomic.Int64 // -1: unknown
}

func newStats() *stats {
	st := &stats{}
	st.remaining.Store(-1)
	return st
}

type statsKey struct{}

func withStats(ctx context.Context, st *stats) context.Context {
	return context.WithValue(ctx, statsKey{}, st)
}

// statsFrom returns the context's stats, or a throwaway one.
func statsFrom(ctx context.Context) *stats {
	if st, ok := ctx.Value(statsKey{}).(*stats); ok {
		return st
	}
	return newStats()
}

// Interface guards.
var (
	_ http.RoundTripper = (*wireTransport)(nil)
	_ http.RoundTripper = (*rateLimitTransport)(nil)
	_ http.RoundTripper = (*exhaustedTransport)(nil)
	_ http.RoundTripper = (*authTransport)(nil)
	_ http.RoundTripper = (*cacheTransport)(nil)
)

// buildChain composes the transports below authTransport and
// cacheTransport: what a request goes through on the wire.
func buildChain(base http.RoundTripper, timeout time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) http.RoundTripper {
	wire := &wireTransport{base: base, timeout: timeout}
	limited := &rateLimitTransport{base: wire, now: now}
	retry := &oncall.RetryTransport{Base: limited, MaxRetries: maxRetries, MaxWait: maxRateWait,
		MinBackoff: minBackoff, Sleep: sleep, Now: now}
	return &exhaustedTransport{base: retry, now: now}
}

// wireTransport bounds each attempt by the timeout (the body included) and
// counts what goes over the wire.
type wireTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (t *wireTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := statsFrom(req.Context())
	st.requests.Add(1)
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded) && req.Context().Err() == nil
		cancel()
		if timedOut {
			return nil, fmt.Errorf("%w: no reply within %s (github.timeout)", ErrTimeout, t.timeout)
		}
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	if resp.StatusCode == http.StatusNotModified {
		st.notModified.Add(1)
	}
	if n, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Remaining"), 10, 64); err == nil {
		st.remaining.Store(n)
	}
	return resp, nil
}

// cancelBody releases the attempt's context when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// rateLimitTransport turns GitHub's rate-limit answers into what
// oncall.RetryTransport waits on: a 429 with Retry-After when the wait is
// known (Retry-After, or X-RateLimit-Reset once X-RateLimit-Remaining is 0),
// a 429 without it (exponential backoff) for a secondary limit that does
// not say. A 403 that is not about rate limits passes unchanged.
type rateLimitTransport struct {
	base http.RoundTripper
	now  func() time.Time
}

func (t *rateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || (resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests) {
		return resp, err
	}
	limited, wait, known := t.classify(resp)
	if !limited {
		return resp, nil
	}
	statsFrom(req.Context()).rateLimited.Add(1)
	resp.StatusCode, resp.Status = http.StatusTooManyRequests, "429 Too Many Requests"
	resp.Header = resp.Header.Clone()
	if known && resp.Header.Get("Retry-After") == "" {
		resp.Header.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	}
	return resp, nil
}

// classify says whether resp is a rate limit, and the wait when known.
func (t *rateLimitTransport) classify(resp *http.Response) (limited bool, wait time.Duration, known bool) {
	h := resp.Header
	if h.Get("Retry-After") != "" {
		return true, 0, true
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return true, max(time.Unix(reset, 0).Sub(t.now())+time.Second, 0), true
		}
		return true, 0, false
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return true, 0, false
	}
	// A 403 is a secondary limit when its body says so.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false, 0, false
	}
	lower := strings.ToLower(string(body))
	if strings.Contains(lower, "secondary rate limit") || strings.Contains(lower, "secondary-rate-limits") ||
		strings.Contains(lower, "abuse") || strings.Contains(lower, "rate limit exceeded") {
		return true, 0, false
	}
	return false, 0, false
}

// exhaustedTransport turns a rate limit the retries did not wait out into a
// *RateLimitError saying until when.
type exhaustedTransport struct {
	base http.RoundTripper
	now  func() time.Time
}

func (t *exhaustedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	e := &RateLimitError{}
	if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil && resp.Header.Get("X-RateLimit-Remaining") == "0" {
		e.Until = time.Unix(reset, 0)
	} else if v := resp.Header.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil {
			e.Until = t.now().Add(time.Duration(s) * time.Second)
		} else if at, err := http.ParseTime(v); err == nil {
			e.Until = at
		}
	}
	return nil, e
}

// authTransport sets the Authorization header on the requests to the API
// (the configured base URL's scheme and host, a path under its path) and
// on no other: a redirect, or go-github following a Location itself, never
// carries the credentials elsewhere. token gives the current credential;
// invalidate, when set, drops it after a 401 (an installation token revoked
// before its expiry).
type authTransport struct {
	base       http.RoundTripper
	api        *url.URL
	token      func(ctx context.Context) (string, error)
	invalidate func(token string)
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !underAPI(t.api, req.URL) {
		return t.base.RoundTrip(req)
	}
	tok, err := t.token(req.Context())
	if err != nil {
		return nil, &credentialError{err: err}
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := t.base.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusUnauthorized && t.invalidate != nil {
		t.invalidate(tok)
	}
	return resp, err
}

// underAPI reports whether u is on api's scheme and host and under its
// path.
func underAPI(api, u *url.URL) bool {
	if !sameOrigin(api, u) {
		return false
	}
	prefix := strings.TrimSuffix(api.Path, "/") + "/"
	return strings.HasPrefix(path.Clean("/"+u.Path)+"/", prefix)
}

// sameOrigin reports whether a and b have the same scheme, host and port
// (the scheme's default port when none is given).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// ErrRedirectRefused is matched (errors.Is) by the failure of a request
// that GitHub redirected to another scheme or host: it is not followed.
var ErrRedirectRefused = errors.New("redirect to another host or scheme refused")

// maxRedirects bounds the redirects followed for one request, as
// http.Client does by default.
const maxRedirects = 10

// checkRedirect is the http.Client's redirect policy: redirects on the
// API's scheme and host are followed (GitHub answers 301 for a renamed or
// transferred repository), any other is refused and fails the request.
func checkRedirect(api *url.URL) func(req *http.Request, via []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(api, req.URL) {
			return fmt.Errorf("%w: GitHub redirected to %s://%s, not github.base_url's %s://%s", ErrRedirectRefused,
				req.URL.Scheme, req.URL.Host, api.Scheme, api.Host)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

// credentialError is a failure to obtain the credentials of a request. It
// keeps the cause for errors.Is and errors.As, but isNotFound ignores what
// is behind it: a 404 from the token endpoint is not a missing resource.
type credentialError struct{ err error }

func (e *credentialError) Error() string { return e.err.Error() }
func (e *credentialError) Unwrap() error { return e.err }
