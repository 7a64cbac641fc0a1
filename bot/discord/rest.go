package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// REST retry policy for rate-limited calls (HTTP 429) off the
// acknowledgement path.
const (
	maxRetries    = 3
	maxRetryAfter = 30 * time.Second
	// maxResponseBytes bounds what we read of a REST answer.
	maxResponseBytes = 1 << 20
)

// Discord bans an IP for a while after 10,000 invalid requests (401, 403,
// 429) in 10 minutes. We shout well before that.
const (
	invalidWindow    = 10 * time.Minute
	invalidThreshold = 500
)

// APIError is a REST call Discord answered with an error status. Its
// message names the method and the route with tokens left out.
type APIError struct {
	Method string
	Route  string
	Status int
	// Code and Message are Discord's JSON error, when it sent one.
	Code    int
	Message string
	// RetryAfter is the wait Discord asked for on a 429.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("discord %s %s: HTTP %d", e.Method, e.Route, e.Status)
	if e.Message != "" {
		s += fmt.Sprintf(" (%d: %s)", e.Code, e.Message)
	}
	return s
}

// rest calls Discord's REST API with net/http. Doing it here instead of
// through discordgo's Session keeps contexts on every call, bounds the 429
// retries (discordgo sleeps and retries without end), keeps the base URL
// per instance (discordgo's endpoints are package variables) and sees
// every status to count invalid requests.
type rest struct {
	base  string
	token string
	hc    *http.Client
	log   *slog.Logger
	now   func() time.Time
	// wait waits d or until ctx ends (tests replace it).
	wait func(ctx context.Context, d time.Duration) error

	mu          sync.Mutex
	invalid     map[int]int // status → count in the current window
	windowStart time.Time
	warned      bool
}

// call is one REST request.
type call struct {
	method string
	// path is below the base, with tokens in it; route is the same path
	// with tokens and ids replaced, for errors and logs.
	path, route string
	body        any
	// auth sends the bot token (not needed on interaction and webhook
	// routes, whose token is in the path).
	auth bool
	// retry honours 429 Retry-After up to maxRetries times; never on the
	// acknowledgement path.
	retry bool
	// raw, when set, is sent as is with contentType instead of body as
	// JSON (multipart uploads).
	raw         []byte
	contentType string
}

// do performs c and decodes a JSON answer into out (when not nil).
func (r *rest) do(ctx context.Context, c call, out any) error {
	body := c.raw
	if c.raw == nil && c.body != nil {
		var err error
		if body, err = json.Marshal(c.body); err != nil {
			return fmt.Errorf("discord %s %s: encode: %w", c.method, c.route, err)
		}
	}
	for attempt := 0; ; attempt++ {
		err := r.once(ctx, c, body, out)
		var ae *APIError
		if !c.retry || attempt >= maxRetries || !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests {
			return err
		}
		d := min(max(ae.RetryAfter, 0), maxRetryAfter)
		r.log.WarnContext(ctx, "discord rate limit, retrying", "route", c.route, "retry_after", d.String(), "attempt", attempt+1)
		if err := r.wait(ctx, d); err != nil {
			return fmt.Errorf("discord %s %s: waiting out the rate limit: %w", c.method, c.route, err)
		}
	}
}

func (r *rest) once(ctx context.Context, c call, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, r.base+c.path, rd)
	if err != nil {
		return fmt.Errorf("discord %s %s: %w", c.method, c.route, err)
	}
	if body != nil {
		ct := "application/json"
		if c.contentType != "" {
			ct = c.contentType
		}
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("User-Agent", "DiscordBot (https://github.com/idpbot/idpbot, 1)")
	if c.auth {
		req.Header.Set("Authorization", "Bot "+r.token)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		// A *url.Error quotes the URL, which holds the interaction token:
		// keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("discord %s %s: %w", c.method, c.route, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("discord %s %s: read answer: %w", c.method, c.route, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r.countInvalid(ctx, resp.StatusCode)
		return apiError(c, resp, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("discord %s %s: decode answer: %w", c.method, c.route, err)
		}
	}
	return nil
}

// apiError reads Discord's error answer: {"code":…, "message":…} and, on a
// 429, Retry-After (seconds) or retry_after (float seconds).
func apiError(c call, resp *http.Response, data []byte) *APIError {
	e := &APIError{Method: c.method, Route: c.route, Status: resp.StatusCode}
	var body struct {
		Code       int     `json:"code"`
		Message    string  `json:"message"`
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal(data, &body) == nil {
		e.Code = body.Code
		e.Message = oneLine(body.Message, 200)
		e.RetryAfter = time.Duration(body.RetryAfter * float64(time.Second))
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
			e.RetryAfter = max(e.RetryAfter, time.Duration(f*float64(time.Second)))
		}
	}
	return e
}

// countInvalid counts a 401, 403 or 429 answer and logs an error once per
// window when they pass the threshold.
func (r *rest) countInvalid(ctx context.Context, status int) {
	if status != http.StatusUnauthorized && status != http.StatusForbidden && status != http.StatusTooManyRequests {
		return
	}
	r.mu.Lock()
	now := r.now()
	if r.invalid == nil || now.Sub(r.windowStart) >= invalidWindow {
		r.invalid, r.windowStart, r.warned = map[int]int{}, now, false
	}
	r.invalid[status]++
	total := r.invalid[401] + r.invalid[403] + r.invalid[429]
	shout := total >= invalidThreshold && !r.warned
	if shout {
		r.warned = true
	}
	counts := []any{"unauthorized", r.invalid[401], "forbidden", r.invalid[403], "rate_limited", r.invalid[429]}
	r.mu.Unlock()
	if shout {
		r.log.ErrorContext(ctx, "discord is refusing many requests; at 10000 invalid requests in 10 minutes it bans this IP for a while: check discord.bot_token and the bot's permissions",
			append(counts, "window", invalidWindow.String())...)
	}
}

// invalidCounts returns the 401/403/429 answers seen in the current window.
func (r *rest) invalidCounts() map[int]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int]int{}
	for k, v := range r.invalid {
		out[k] = v
	}
	return out
}

// waitContext waits d or until ctx ends.
func waitContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rewriteTransport sends requests for Discord's API host to another base
// (APIURL); the discordgo session of the gateway uses it, so that no
// package variable of discordgo is changed.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != "discord.com" && req.URL.Host != "discordapp.com" {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
	// discordgo builds https://discord.com/api/v9/<route>; keep <route>
	// under our base path.
	route := r.URL.Path
	if i := strings.Index(route, "/api/"); i >= 0 {
		route = route[i+len("/api"):]
		if v, rest, ok := strings.Cut(strings.TrimPrefix(route, "/"), "/"); ok && isVersion(v) {
			route = "/" + rest
		}
	}
	r.URL.Path = strings.TrimRight(t.base.Path, "/") + route
	r.URL.RawPath = ""
	r.Host = ""
	return t.next.RoundTrip(r)
}

// isVersion reports whether s is an API version segment (v9, v10).
func isVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// oneLine shortens s to n runes on one line (for logs of remote text).
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
