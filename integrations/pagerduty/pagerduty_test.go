package pagerduty_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/integrationstest"
	"github.com/idpbot/idpbot/integrations/oncall"
	"github.com/idpbot/idpbot/integrations/pagerduty"
)

const token = "u+TEST-s3cr3t-t0ken"

// now is Thursday 26 November 2026, 11:00 UTC: week 48 of the fixtures'
// weekly rotations.
var now = time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)

// openCatalog is the example catalog in a real store.
func openCatalog(t *testing.T) *catalog.Store {
	t.Helper()
	ctx := context.Background()
	s, err := catalog.Open(ctx, t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rep, err := s.Ingest(ctx, "file:examples", []string{filepath.Join("..", "..", "deploy", "examples", "catalog", "all.yaml")})
	if err != nil {
		t.Fatalf("ingest example catalog: %v", err)
	}
	if rep.Problems.Errors() > 0 {
		t.Fatalf("example catalog has errors: %v", rep.Problems)
	}
	return s
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakePD is a PagerDuty REST API on 127.0.0.1: /services/{id} and
// /oncalls answer from the fixtures unless a test overrides a path.
type fakePD struct {
	t        *testing.T
	mu       sync.Mutex
	requests map[string]int // by path
	override map[string]http.HandlerFunc
}

func newFakePD(t *testing.T) (*fakePD, *httptest.Server) {
	f := &fakePD{t: t, requests: map[string]int{}, override: map[string]http.HandlerFunc{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakePD) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[path]
}

func (f *fakePD) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests[r.URL.Path]++
	h := f.override[r.URL.Path]
	f.mu.Unlock()
	if got := r.Header.Get("Authorization"); got != "Token token="+token {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"message":"Authentication failed","code":2006}}`))
		return
	}
	if h != nil {
		h(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/services/PX7Q2LM":
		w.Write(fixture(f.t, "service.json"))
	case "/oncalls":
		q := r.URL.Query()
		if q.Get("escalation_policy_ids[]") != "PPAYEP1" || q.Get("include[]") != "users" ||
			q.Get("since") != "2026-11-26T11:00:00Z" || q.Get("until") != "2026-12-10T11:00:00Z" {
			f.t.Errorf("/oncalls query = %s", r.URL.RawQuery)
		}
		switch q.Get("offset") {
		case "", "0":
			w.Write(fixture(f.t, "oncalls-page1.json"))
		case "3":
			w.Write(fixture(f.t, "oncalls-page2.json"))
		default:
			f.t.Errorf("/oncalls offset %q", q.Get("offset"))
			w.WriteHeader(http.StatusBadRequest)
		}
	default:
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":{"message":"Not Found","code":2100}}`))
	}
}

func newSource(t *testing.T, srv *httptest.Server, cat oncall.Users, cfg pagerduty.Config, sl *integrationstest.Sleeps) *pagerduty.Source {
	t.Helper()
	cfg.Token = token
	cfg.APIURL = srv.URL
	src, err := pagerduty.New(cfg, cat, nil, pagerduty.WithClock(func() time.Time { return now }), pagerduty.WithRetrySleep(sl.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func ownership(t *testing.T, store *catalog.Store, name string) *catalog.Ownership {
	t.Helper()
	o, err := store.WhoOwns(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOnCall(t *testing.T) {
	store := openCatalog(t)
	f, srv := newFakePD(t)
	src := newSource(t, srv, store, pagerduty.Config{}, &integrationstest.Sleeps{})
	o := ownership(t, store, "payments-api")

	oc, err := src.OnCall(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if f.count("/oncalls") != 2 {
		t.Errorf("%d /oncalls pages fetched, want 2", f.count("/oncalls"))
	}
	if !oc.AsOf.Equal(now) || oc.Stale {
		t.Errorf("AsOf %s, stale %v", oc.AsOf, oc.Stale)
	}
	const page = "https://northwind.pagerduty.com/service-directory/PX7Q2LM"
	type want struct {
		ref, name, sched string
		level            int
		start, end       string
	}
	check := func(label string, got []catalog.Shift, wants []want) {
		t.Helper()
		if len(got) != len(wants) {
			t.Fatalf("%s: %d shifts, want %d: %+v", label, len(got), len(wants), got)
		}
		for i, w := range wants {
			g := got[i]
			ts := func(tm time.Time) string {
				if tm.IsZero() {
					return ""
				}
				return tm.Format(time.RFC3339)
			}
			if g.Person.Ref != w.ref || g.Person.DisplayName != w.name || g.Schedule != w.sched || g.Level != w.level ||
				ts(g.Start) != w.start || ts(g.End) != w.end || g.Source != "pagerduty" || g.PageURL != page {
				t.Errorf("%s[%d] = %+v, want %+v", label, i, g, w)
			}
		}
	}
	check("now", oc.Now, []want{
		{"user:default/bilal.haddad", "Bilal Haddad", "Payments primary", 1, "2026-11-23T08:00:00Z", "2026-11-30T08:00:00Z"},
		{"user:default/alice.nguyen", "Alice Nguyen", "Payments secondary", 2, "2026-11-23T08:00:00Z", "2026-11-30T08:00:00Z"},
		{"user:default/lena.fischer", "Lena Fischer", "Payments escalation", 3, "", ""},
	})
	check("next", oc.Next, []want{
		{"user:default/carmen.ortiz", "Carmen Ortiz", "Payments primary", 1, "2026-11-30T08:00:00Z", "2026-12-07T08:00:00Z"},
		{"", "Sam Contractor", "Payments secondary", 2, "2026-11-30T08:00:00Z", "2026-12-07T08:00:00Z"},
	})
	// Mapped by e-mail (case-insensitively: PagerDuty has Bilal.Haddad@…),
	// so the chat ids come along.
	if oc.Now[0].Person.SlackID != "U01BILAL" {
		t.Errorf("bilal's person = %+v, want the catalog user with the Slack id", oc.Now[0].Person)
	}
	if p := oc.Next[1].Person; p.Email != "sam@contractor.example" {
		t.Errorf("unmapped person = %+v, want PagerDuty's name and e-mail", p)
	}

	// An owner without the annotation: nothing, and no request.
	before := f.count("/services/PX7Q2LM")
	if oc, err := src.OnCall(context.Background(), ownership(t, store, "group:sre")); oc != nil || err != nil {
		t.Errorf("OnCall(sre) = %+v, %v; want nothing", oc, err)
	}
	if f.count("/services/PX7Q2LM") != before {
		t.Error("asked PagerDuty for an owner without the annotation")
	}
}

func TestOnCallFailures(t *testing.T) {
	store := openCatalog(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the servers close
	for _, tc := range []struct {
		name     string
		handler  http.HandlerFunc // for /services/PX7Q2LM
		cfg      pagerduty.Config
		token    string
		kind     error
		msg      string
		requests int
		waits    []time.Duration
	}{
		{
			name: "rate limited then served",
			handler: func() http.HandlerFunc {
				n := 0
				return func(w http.ResponseWriter, r *http.Request) {
					if n++; n == 1 {
						w.Header().Set("Retry-After", "2")
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(http.StatusTooManyRequests)
						w.Write([]byte(`{"error":{"message":"Rate Limit Exceeded","code":2020}}`))
						return
					}
					w.Header().Set("Content-Type", "application/json")
					w.Write(fixture(t, "service.json"))
				}
			}(),
			requests: 2, waits: []time.Duration{2 * time.Second},
		},
		{
			name: "rate limited for longer than max_retry_wait",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "60")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"error":{"message":"Rate Limit Exceeded","code":2020}}`))
			},
			kind: oncall.ErrUnavailable, msg: "pagerduty: get service PX7Q2LM: provider unavailable (rate limited, HTTP 429)",
			requests: 1,
		},
		{
			name: "server error, retried with backoff, then given up",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte("<html>upstream unavailable</html>"))
			},
			kind: oncall.ErrUnavailable, msg: "pagerduty: get service PX7Q2LM: provider unavailable (HTTP 503)",
			requests: 3, waits: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond},
		},
		{
			name: "hangs past the timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			},
			cfg:  pagerduty.Config{Timeout: 50 * time.Millisecond},
			kind: oncall.ErrUnavailable, msg: "pagerduty: get service PX7Q2LM: provider unavailable (no answer in time)",
			requests: 1,
		},
		{
			name: "malformed body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"service": {"id": "PX7Q2LM", "escalation_policy": `))
			},
			kind: oncall.ErrMalformed, msg: "pagerduty: get service PX7Q2LM: malformed response", requests: 1,
		},
		{
			name: "wrong shape",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"services": []}`))
			},
			kind: oncall.ErrMalformed, msg: "pagerduty: get service PX7Q2LM: malformed response", requests: 1,
		},
		{
			name: "service not found",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(`{"error":{"message":"Not Found","code":2100}}`))
			},
			kind: oncall.ErrNotFound, msg: "pagerduty: get service PX7Q2LM: not found (HTTP 404)", requests: 1,
		},
		{
			name: "token refused", token: "wrong-" + token,
			kind: oncall.ErrUnauthorized, msg: "pagerduty: get service PX7Q2LM: credentials refused (HTTP 401)", requests: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakePD(t)
			if tc.handler != nil {
				f.override["/services/PX7Q2LM"] = tc.handler
			}
			sl := &integrationstest.Sleeps{}
			cfg := tc.cfg
			cfg.Token, cfg.APIURL = token, srv.URL
			if tc.token != "" {
				cfg.Token = tc.token
			}
			src, err := pagerduty.New(cfg, store, nil, pagerduty.WithClock(func() time.Time { return now }), pagerduty.WithRetrySleep(sl.Sleep))
			if err != nil {
				t.Fatal(err)
			}
			oc, err := src.OnCall(context.Background(), ownership(t, store, "payments-api"))
			if tc.kind == nil {
				if err != nil || oc == nil || len(oc.Now) != 3 {
					t.Fatalf("OnCall = %+v, %v; want the fixtures' answer", oc, err)
				}
			} else {
				if !errors.Is(err, tc.kind) {
					t.Fatalf("OnCall error = %v, want %v", err, tc.kind)
				}
				if err.Error() != tc.msg {
					t.Errorf("message %q, want %q", err.Error(), tc.msg)
				}
				if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), srv.URL) {
					t.Errorf("message %q shows the token or the URL", err.Error())
				}
			}
			if got := f.count("/services/PX7Q2LM"); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			if len(sl.Waits()) != len(tc.waits) {
				t.Fatalf("waits %v, want %v", sl.Waits(), tc.waits)
			}
			for i := range tc.waits {
				if sl.Waits()[i] != tc.waits[i] {
					t.Errorf("waits %v, want %v", sl.Waits(), tc.waits)
				}
			}
		})
	}
}

func TestBadAnnotation(t *testing.T) {
	_, srv := newFakePD(t)
	src := newSource(t, srv, nil, pagerduty.Config{}, &integrationstest.Sleeps{})
	o := &catalog.Ownership{OnCall: map[string]string{catalog.AnnotationPagerDutyServiceID: "../users?x=1"}}
	if _, err := src.OnCall(context.Background(), o); !errors.Is(err, oncall.ErrBadAnnotation) {
		t.Errorf("OnCall = %v, want ErrBadAnnotation", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  pagerduty.Config
		want []string // substrings, each naming a key
	}{
		{"defaults with a token", pagerduty.Config{Token: token}, nil},
		{"EU region", pagerduty.Config{Token: token, APIURL: "https://api.eu.pagerduty.com/"}, nil},
		{"loopback http", pagerduty.Config{Token: token, APIURL: "http://127.0.0.1:8089"}, nil},
		{"no token", pagerduty.Config{}, []string{"pagerduty.token: required"}},
		{"token with a newline", pagerduty.Config{Token: token + "\n"}, []string{"pagerduty.token: contains white space"}},
		{"plain http to a remote host", pagerduty.Config{Token: token, APIURL: "http://pagerduty.example"}, []string{"pagerduty.api_url:", "use https"}},
		{"not a URL", pagerduty.Config{Token: token, APIURL: "api.pagerduty.com"}, []string{"pagerduty.api_url:"}},
		{"lookahead too long", pagerduty.Config{Token: token, Lookahead: 100 * 24 * time.Hour}, []string{"pagerduty.lookahead:"}},
		{"cache deadline past the chat deadline", pagerduty.Config{Token: token, Cache: oncall.CacheConfig{Deadline: 5 * time.Second}}, []string{"pagerduty.cache.deadline:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("Validate = %q shows the token", err)
			}
			if _, nerr := pagerduty.New(tc.cfg, nil, nil); nerr == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	store := openCatalog(t)
	f, srv := newFakePD(t)
	f.override["/abilities"] = func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"abilities":["sso","teams","urgencies"]}`))
	}
	f.override["/oncalls"] = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("escalation_policy_ids[]") != "PPAYEP1" {
			t.Errorf("/oncalls query = %s", r.URL.RawQuery)
		}
		w.Write([]byte(`{"oncalls":[
			{"user":{"id":"PU1","summary":"Alice Nguyen","email":"alice.nguyen@northwind.example"},"escalation_level":1,"start":"2026-11-23T09:00:00Z","end":"2026-11-30T09:00:00Z"},
			{"user":{"id":"PU9","summary":"Zed Contractor","email":"zed@contractor.example"},"escalation_level":2,"start":null,"end":null}],
			"limit":100,"offset":0,"more":false}`))
	}
	src := newSource(t, srv, store, pagerduty.Config{}, &integrationstest.Sleeps{})
	rs := src.Check(ctx, map[string][]string{"PX7Q2LM": {"component:payments-api"}, "PNOPE00": {"component:ledger"}, "bad id": {"component:x"}})
	got := map[string]string{}
	for _, r := range rs {
		state := "ok"
		if !r.OK {
			state = "FAIL: " + r.Fix
		}
		got[r.Check] = state + " | " + r.Detail
	}
	for check, want := range map[string]string{
		"api key": "ok | accepted by " + srv.URL + " (3 account abilities)",
		"service PX7Q2LM (component:payments-api)": `ok | "payments-api"`,
		"service PNOPE00 (component:ledger)":       "FAIL: no such service",
		"service bad id (component:x)":             "FAIL: set pagerduty.com/service-id",
		"people":                                   "FAIL: add a User entity",
	} {
		if !strings.HasPrefix(got[check], want) {
			t.Errorf("%s: %q, want prefix %q", check, got[check], want)
		}
	}
	if !strings.Contains(got["people"], "1 of 2 people on call now are catalog users; not in the catalog: zed@contractor.example") {
		t.Errorf("people: %q", got["people"])
	}

	// A refused key stops the check at the first step, without the key.
	bad := pagerduty.Config{Token: "wrong-key", APIURL: srv.URL}
	src2, err := pagerduty.New(bad, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	rs = src2.Check(ctx, nil)
	if len(rs) != 1 || rs[0].OK || !strings.Contains(rs[0].Fix, "REST API key") || strings.Contains(rs[0].Detail, "wrong-key") {
		t.Errorf("refused key: %+v", rs)
	}
}
