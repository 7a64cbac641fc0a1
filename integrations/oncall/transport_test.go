package oncall_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpbot/idpbot/integrations/oncall"
)

func TestRetryTransport(t *testing.T) {
	for _, tc := range []struct {
		name       string
		method     string
		retryAfter string
		status     int
		ctxTimeout time.Duration
		wantCalls  int32
		wantWaits  []time.Duration
		wantStatus int
	}{
		{name: "retry-after seconds", method: "GET", status: 429, retryAfter: "3", wantCalls: 3, wantWaits: []time.Duration{3 * time.Second, 3 * time.Second}, wantStatus: 429},
		{name: "retry-after date", method: "GET", status: 503, retryAfter: t0.Add(2 * time.Second).Format(http.TimeFormat), wantCalls: 3, wantWaits: []time.Duration{2 * time.Second, 2 * time.Second}, wantStatus: 503},
		{name: "longer than max wait: given up at once", method: "GET", status: 429, retryAfter: "120", wantCalls: 1, wantStatus: 429},
		{name: "longer than the context allows: given up at once", method: "GET", status: 429, retryAfter: "2", ctxTimeout: time.Second, wantCalls: 1, wantStatus: 429},
		{name: "backoff without retry-after", method: "GET", status: 500, wantCalls: 3, wantWaits: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}, wantStatus: 500},
		{name: "POST is not retried", method: "POST", status: 503, wantCalls: 1, wantStatus: 503},
		{name: "client errors are not retried", method: "GET", status: 400, wantCalls: 1, wantStatus: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, `{"error":"nope"}`)
			}))
			defer srv.Close()
			var waits []time.Duration
			rt := &oncall.RetryTransport{
				MaxWait: 5 * time.Second,
				Now:     func() time.Time { return t0 },
				Sleep:   func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil },
			}
			ctx := context.Background()
			if tc.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
				defer cancel()
			}
			req, _ := http.NewRequestWithContext(ctx, tc.method, srv.URL, strings.NewReader(""))
			if tc.method == "GET" {
				req.Body = nil
			}
			resp, err := (&http.Client{Transport: rt}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || string(body) != `{"error":"nope"}` {
				t.Errorf("response %d %q", resp.StatusCode, body)
			}
			if calls.Load() != tc.wantCalls {
				t.Errorf("%d calls, want %d", calls.Load(), tc.wantCalls)
			}
			if len(waits) != len(tc.wantWaits) {
				t.Fatalf("waits %v, want %v", waits, tc.wantWaits)
			}
			for i := range waits {
				if waits[i] != tc.wantWaits[i] {
					t.Errorf("waits %v, want %v", waits, tc.wantWaits)
				}
			}
		})
	}
}

func TestRetryTransportWaitEndsWithTheContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "4")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	rt := &oncall.RetryTransport{Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		time.AfterFunc(20*time.Millisecond, cancel) // the caller gives up while the transport waits 4s
		return resp, err
	})}
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	start := time.Now()
	resp, err := rt.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	if err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("RoundTrip = %v after %s; want the context's error at once", err, time.Since(start))
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
