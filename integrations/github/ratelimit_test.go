package github

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSyncWaitsOutRateLimits(t *testing.T) {
	limited := func(t *testing.T, status int, headers map[string]string, body string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			for k, v := range headers {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			if body != "" {
				b, err := os.ReadFile(filepath.Join("testdata", body))
				if err != nil {
					t.Error(err)
				}
				_, _ = w.Write(b)
			}
		}
	}
	reset := strconv.FormatInt(testNow.Add(30*time.Second).Unix(), 10)
	tests := []struct {
		name      string
		status    int
		headers   map[string]string
		body      string
		times     int
		wantWaits []time.Duration
	}{
		{"429 with Retry-After", http.StatusTooManyRequests, map[string]string{"Retry-After": "7"}, "", 1, []time.Duration{7 * time.Second}},
		{"403 secondary limit with Retry-After", http.StatusForbidden, map[string]string{"Retry-After": "3"}, "secondary_rate_limit.json", 1, []time.Duration{3 * time.Second}},
		{"403 secondary limit without headers", http.StatusForbidden, nil, "secondary_rate_limit.json", 2, []time.Duration{time.Second, 2 * time.Second}},
		{"403 primary limit until reset", http.StatusForbidden, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, "rate_limit.json", 1, []time.Duration{31 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "checkout", files: map[string]string{"catalog-info.yaml": component("checkout", "Takes orders.")}})
			var mu sync.Mutex
			left := tc.times
			reply := limited(t, tc.status, tc.headers, tc.body)
			e.fake.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				mu.Lock()
				defer mu.Unlock()
				if left == 0 || !strings.HasSuffix(r.URL.Path, "/orgs/northwind/repos") {
					return false
				}
				left--
				reply(w)
				return true
			})
			rep := e.sync(e.source(e.config()))
			if got := e.sleeps.Waits(); !reflect.DeepEqual(got, tc.wantWaits) {
				t.Errorf("waits %v, want %v", got, tc.wantWaits)
			}
			if rep.RateLimited != tc.times || rep.Ingested != 1 {
				t.Errorf("report: %+v", rep)
			}
		})
	}
}

func TestSyncGivesUpOnALongRateLimit(t *testing.T) {
	e := newEnv(t, "")
	e.northwind()
	s := e.source(e.config())
	e.sync(s)
	e.fake.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(testNow.Add(time.Hour+5*time.Minute).Unix(), 10))
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`))
		return true
	})
	rep, err := s.Sync(context.Background())
	if err == nil || !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "GitHub rate limit exhausted until 15:05 UTC") {
		t.Fatalf("error %v", err)
	}
	if len(e.sleeps.Waits()) != 0 {
		t.Errorf("waited %v for a limit beyond the bound", e.sleeps.Waits())
	}
	if rep.RateLimited != 1 || rep.RateRemaining != 0 || rep.Changed {
		t.Errorf("report: %+v", rep)
	}
	e.entity("component:default/payments")
}

func TestSyncStopsWaitingWhenCancelled(t *testing.T) {
	e := newEnv(t, "")
	e.northwind()
	e.fake.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	ctx, cancel := context.WithCancel(context.Background())
	s := e.source(e.config(), func(o *Options) {
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		}
	})
	_, err := s.Sync(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}
