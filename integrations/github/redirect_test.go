package github

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// roundTripFunc is an http.RoundTripper from a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAuthorizationOnlyForTheAPI(t *testing.T) {
	tests := []struct {
		name, base, url string
		want            bool
	}{
		{"github.com", "https://api.github.com/", "https://api.github.com/repos/o/r", true},
		{"default port", "https://api.github.com/", "https://api.github.com:443/repos/o/r", true},
		{"host case", "https://api.github.com/", "https://API.GitHub.com/repos/o/r", true},
		{"another host", "https://api.github.com/", "https://evil.example.com/repos/o/r", false},
		{"plain http", "https://api.github.com/", "http://api.github.com/repos/o/r", false},
		{"another port", "https://api.github.com/", "https://api.github.com:8443/repos/o/r", false},
		{"enterprise", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3/repos/o/r", true},
		{"enterprise base itself", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3", true},
		{"enterprise outside the API path", "https://ghe.example.com/api/v3/", "https://ghe.example.com/uploads/x", false},
		{"enterprise path prefix only", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3x/repos", false},
		{"enterprise path leaving the API", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3/../../login", false},
		{"enterprise escaped dots", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3/%2e%2e/%2e%2e/login", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, _ := url.Parse(tc.base)
			var got string
			auth := &authTransport{api: base, token: func(context.Context) (string, error) { return "ghp_secret", nil },
				base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					got = r.Header.Get("Authorization")
					return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
				})}
			req := httptest.NewRequest(http.MethodGet, tc.url, nil)
			if _, err := auth.RoundTrip(req); err != nil {
				t.Fatal(err)
			}
			if sent := got == "Bearer ghp_secret"; sent != tc.want {
				t.Errorf("Authorization %q, want it sent: %v", got, tc.want)
			}
		})
	}
}

func TestCheckRedirect(t *testing.T) {
	base, _ := url.Parse("https://ghe.example.com/api/v3/")
	tests := []struct {
		name, to string
		via      int
		refused  bool
	}{
		{"renamed repository", "https://ghe.example.com/api/v3/repositories/42", 1, false},
		{"another host", "https://evil.example.com/api/v3/repositories/42", 1, true},
		{"plain http", "http://ghe.example.com/api/v3/repositories/42", 1, true},
		{"another port", "https://ghe.example.com:8443/api/v3/repositories/42", 1, true},
		{"too many", "https://ghe.example.com/api/v3/repositories/42", maxRedirects, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkRedirect(base)(httptest.NewRequest(http.MethodGet, tc.to, nil), make([]*http.Request, tc.via))
			if (err != nil) != tc.refused {
				t.Errorf("error %v, want refused: %v", err, tc.refused)
			}
		})
	}
}

// otherHost is a server that is not GitHub; it records what reaches it.
type otherHost struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string
}

func newOtherHost(t *testing.T) *otherHost {
	t.Helper()
	o := &otherHost{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.got = append(o.got, r.URL.Path+" Authorization="+r.Header.Get("Authorization"))
		o.mu.Unlock()
		http.NotFound(w, r)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *otherHost) requests() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.got...)
}

func TestSyncRefusesRedirectsToAnotherHost(t *testing.T) {
	tests := []struct {
		name string
		// path is the suffix of the redirected request; facts turns facts on.
		path  string
		facts bool
		// to is where GitHub redirects: another host, or the same host on
		// https (the fake speaks http).
		to     func(e *env, other *otherHost, r *http.Request) string
		status int
		stage  string
	}{
		{"catalog file, 302 to another host", "/payments/contents/catalog-info.yaml", false,
			func(_ *env, o *otherHost, _ *http.Request) string { return o.srv.URL + "/elsewhere/contents" }, http.StatusFound, "catalog"},
		{"catalog file, 301 to https", "/payments/contents/catalog-info.yaml", false,
			func(_ *env, _ *otherHost, r *http.Request) string { return "https://" + r.Host + r.URL.Path }, http.StatusMovedPermanently, "catalog"},
		{"referred file, 307 to another host", "/payments/contents/apis/payments-api.yaml", false,
			func(_ *env, o *otherHost, _ *http.Request) string { return o.srv.URL + "/elsewhere/api" }, http.StatusTemporaryRedirect, "catalog"},
		{"branch for facts, 301 to another host", "/payments/branches/main", true,
			func(_ *env, o *otherHost, _ *http.Request) string { return o.srv.URL + "/elsewhere/branch" }, http.StatusMovedPermanently, "facts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			e.northwind()
			other := newOtherHost(t)
			s := e.source(e.config(), func(o *Options) {
				if tc.facts {
					o.Facts = nopFacts{}
				}
			})
			e.sync(s)
			e.fake.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, tc.path) {
					return false
				}
				http.Redirect(w, r, tc.to(e, other, r), tc.status)
				return true
			})
			rep, err := s.Sync(context.Background())
			if !errors.Is(err, ErrRedirectRefused) || !strings.Contains(err.Error(), "northwind/payments") {
				t.Fatalf("error %v, want a refused redirect naming northwind/payments", err)
			}
			if len(rep.Failed) != 1 || rep.Failed[0].Stage != tc.stage || rep.Removed != 0 {
				t.Errorf("report: %+v", rep)
			}
			if got := other.requests(); len(got) != 0 {
				t.Errorf("the other host received %q", got)
			}
			// A failure, not "no catalog file": the entities stay.
			e.entity("component:default/payments")
			e.entity("api:default/payments-api")
		})
	}
}

// nopFacts is a FactSink that drops the facts.
type nopFacts struct{}

func (nopFacts) Push(context.Context, string, string, time.Time, map[string]any) error { return nil }

func TestSyncFollowsRedirectsOnTheAPIHost(t *testing.T) {
	e := newEnv(t, "/api/v3")
	const token = "ghp_testtoken0123456789"
	e.fake.update(func() { e.fake.token = token })
	e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "payments", files: map[string]string{
		"moved/catalog-info.yaml": component("payments", "Moved."),
	}})
	e.fake.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v3/repos/northwind/payments/contents/catalog-info.yaml" {
			return false
		}
		http.Redirect(w, r, "/api/v3/repos/northwind/payments/contents/moved/catalog-info.yaml", http.StatusMovedPermanently)
		return true
	})
	e.sync(e.source(e.config()))
	e.entity("component:default/payments")
	var followed bool
	for _, r := range e.fake.requests() {
		if strings.HasSuffix(r.Path, "/contents/moved/catalog-info.yaml") {
			followed = true
			if r.Auth != "Bearer "+token {
				t.Errorf("the redirected request carried Authorization %q", r.Auth)
			}
		}
	}
	if !followed {
		t.Error("the redirect was not followed")
	}
}
