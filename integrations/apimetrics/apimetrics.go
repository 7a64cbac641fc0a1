// Package apimetrics counts the bot's calls to the platforms it depends on
// (Slack, Discord, PagerDuty, Opsgenie, GitHub): requests by status code,
// their duration, and rate limiting, so that a dashboard shows which
// platform is slow or throttling before users notice.
package apimetrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the platform call metrics.
type Metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec
}

// New registers the metrics with reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idpbot_platform_requests_total",
			Help: "HTTP requests to platforms (every attempt, retries included), by platform and status code (\"error\": no answer).",
		}, []string{"platform", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idpbot_platform_request_duration_seconds",
			Help:    "Duration of HTTP requests to platforms, until the response headers.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"platform"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idpbot_platform_rate_limited_total",
			Help: "Platform answers that asked the bot to slow down (HTTP 429; GitHub's 403 rate limits).",
		}, []string{"platform"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.rateLimited} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Transport returns a RoundTripper that counts the requests base makes for
// platform (nil base: http.DefaultTransport). On a nil Metrics it returns
// base unchanged.
func (m *Metrics) Transport(platform string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if m == nil {
		return base
	}
	return &transport{m: m, platform: platform, base: base}
}

// Client is an *http.Client whose requests are counted for platform.
func (m *Metrics) Client(platform string, timeout time.Duration) *http.Client {
	return &http.Client{Transport: m.Transport(platform, nil), Timeout: timeout}
}

type transport struct {
	m        *Metrics
	platform string
	base     http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	t.m.duration.WithLabelValues(t.platform).Observe(time.Since(start).Seconds())
	if err != nil {
		t.m.requests.WithLabelValues(t.platform, "error").Inc()
		return resp, err
	}
	t.m.requests.WithLabelValues(t.platform, strconv.Itoa(resp.StatusCode)).Inc()
	if RateLimited(resp) {
		t.m.rateLimited.WithLabelValues(t.platform).Inc()
	}
	return resp, nil
}

// RateLimited says whether resp asks the client to slow down: HTTP 429, or
// a 403 with an exhausted rate limit or a Retry-After (GitHub's primary
// and secondary limits).
func RateLimited(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return true
	case http.StatusForbidden:
		return resp.Header.Get("X-RateLimit-Remaining") == "0" || resp.Header.Get("Retry-After") != ""
	}
	return false
}
