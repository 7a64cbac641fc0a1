package opsgenie_test

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
	"github.com/idpbot/idpbot/integrations/opsgenie"
)

const (
	apiKey = "0d9c7b1e-TEST-4f2a-s3cr3t-8e6a5c4b3a21"
	sreID  = "6f0e8a4c-2b7d-4f0c-9a51-3d2e1c0b9a87"
)

// now is Thursday 26 November 2026, 11:00 UTC.
var now = time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)

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

// fakeOG is the Opsgenie REST API on 127.0.0.1: the schedule list and two
// schedules' timelines, unless a test overrides a path.
type fakeOG struct {
	t        *testing.T
	mu       sync.Mutex
	requests map[string]int
	override map[string]http.HandlerFunc
}

func newFakeOG(t *testing.T) (*fakeOG, *httptest.Server) {
	f := &fakeOG{t: t, requests: map[string]int{}, override: map[string]http.HandlerFunc{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeOG) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[path]
}

func (f *fakeOG) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests[r.URL.Path]++
	h := f.override[r.URL.Path]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "3d5e7a9c-1b2f-4c6d-8e0a-2f4b6d8e0a1c")
	if r.Header.Get("Authorization") != "GenieKey "+apiKey {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Could not authenticate","took":0.002,"requestId":"3d5e7a9c-1b2f-4c6d-8e0a-2f4b6d8e0a1c"}`))
		return
	}
	if h != nil {
		h(w, r)
		return
	}
	q := r.URL.Query()
	timeline := func(idType string) {
		if q.Get("identifierType") != idType || q.Get("interval") != "14" || q.Get("intervalUnit") != "days" ||
			q.Get("date") != "2026-11-26T11:00:00.000Z" {
			f.t.Errorf("%s query = %s", r.URL.Path, r.URL.RawQuery)
		}
	}
	switch r.URL.Path {
	case "/v2/schedules":
		w.Write(fixture(f.t, "schedules.json"))
	case "/v2/escalations":
		w.Write(fixture(f.t, "escalations.json"))
	case "/v2/schedules/" + sreID + "/timeline":
		timeline("id")
		w.Write(fixture(f.t, "timeline.json"))
	case "/v2/schedules/Data on-call/timeline":
		timeline("name")
		w.Write(fixture(f.t, "timeline-data.json"))
	default:
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"No schedule exists with identifier","took":0.003,"requestId":"3d5e7a9c-1b2f-4c6d-8e0a-2f4b6d8e0a1c"}`))
	}
}

func newSource(t *testing.T, srv *httptest.Server, cat oncall.Users, cfg opsgenie.Config, sl *integrationstest.Sleeps) *opsgenie.Source {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = apiKey
	}
	cfg.APIURL = srv.URL
	src, err := opsgenie.New(cfg, cat, nil, opsgenie.WithClock(func() time.Time { return now }), opsgenie.WithRetrySleep(sl.Sleep))
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

type want struct {
	ref, name, sched string
	start, end       string
}

func check(t *testing.T, label string, got []catalog.Shift, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("%s: %d shifts, want %d: %+v", label, len(got), len(wants), got)
	}
	for i, w := range wants {
		g := got[i]
		if g.Person.Ref != w.ref || g.Person.DisplayName != w.name || g.Schedule != w.sched || g.Level != 1 ||
			g.Start.Format(time.RFC3339) != w.start || g.End.Format(time.RFC3339) != w.end || g.Source != "opsgenie" {
			t.Errorf("%s[%d] = %+v, want %+v", label, i, g, w)
		}
	}
}

func TestOnCallByTeam(t *testing.T) {
	store := openCatalog(t)
	f, srv := newFakeOG(t)
	src := newSource(t, srv, store, opsgenie.Config{}, &integrationstest.Sleeps{})
	// observability-stack carries opsgenie.com/team: sre-oncall.
	oc, err := src.OnCall(context.Background(), ownership(t, store, "observability-stack"))
	if err != nil {
		t.Fatal(err)
	}
	if !oc.AsOf.Equal(now) || oc.Stale {
		t.Errorf("AsOf %s, stale %v", oc.AsOf, oc.Stale)
	}
	check(t, "now", oc.Now, []want{
		{"user:default/lena.fischer", "Lena Fischer", "SRE schedule (Days)", "2026-11-26T06:00:00Z", "2026-11-26T18:00:00Z"},
	})
	check(t, "next", oc.Next, []want{
		{"", "nightcover@partner.example", "SRE schedule (Nights) (override)", "2026-11-26T18:00:00Z", "2026-11-27T06:00:00Z"},
		{"user:default/carmen.ortiz", "Carmen Ortiz", "SRE schedule (Days)", "2026-11-27T06:00:00Z", "2026-11-27T18:00:00Z"},
	})
	if p := oc.Now[0].Person; p.SlackID == "" {
		t.Errorf("lena = %+v, want the catalog user's chat ids", p)
	}
	// Only the team's enabled schedule is read.
	if f.count("/v2/schedules") != 1 || f.count("/v2/schedules/"+sreID+"/timeline") != 1 || f.count("/v2/escalations") != 1 || len(f.requests) != 3 {
		t.Errorf("requests %v", f.requests)
	}
}

func TestOnCallByScheduleAnnotation(t *testing.T) {
	store := openCatalog(t)
	f, srv := newFakeOG(t)
	src := newSource(t, srv, store, opsgenie.Config{}, &integrationstest.Sleeps{})
	o := &catalog.Ownership{OnCall: map[string]string{oncall.AnnotationOpsgenieSchedule: "Data on-call"}}
	oc, err := src.OnCall(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "now", oc.Now, []want{{"user:default/ivan.petrov", "Ivan Petrov", "Data on-call", "2026-11-23T08:00:00Z", "2026-11-30T08:00:00Z"}})
	check(t, "next", oc.Next, []want{{"user:default/julia.becker", "Julia Becker", "Data on-call", "2026-11-30T08:00:00Z", "2026-12-07T08:00:00Z"}})
	if f.count("/v2/schedules") != 0 {
		t.Error("listed the schedules for a schedule named directly")
	}

	// No annotation: nothing, no request. A team without schedules: nothing.
	for _, o := range []*catalog.Ownership{
		ownership(t, store, "payments-api"),
		{OnCall: map[string]string{catalog.AnnotationOpsgenieTeam: "no-such-team"}},
	} {
		if oc, err := src.OnCall(context.Background(), o); oc != nil || err != nil {
			t.Errorf("OnCall(%v) = %+v, %v; want nothing", o.OnCall, oc, err)
		}
	}
	if _, err := src.OnCall(context.Background(), &catalog.Ownership{OnCall: map[string]string{oncall.AnnotationOpsgenieSchedule: "a/../../users"}}); !errors.Is(err, oncall.ErrBadAnnotation) {
		t.Errorf("OnCall(bad schedule name) = %v, want ErrBadAnnotation", err)
	}
}

func TestOnCallFailures(t *testing.T) {
	store := openCatalog(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	const op = "opsgenie: list schedules: "
	for _, tc := range []struct {
		name     string
		handler  http.HandlerFunc // for /v2/schedules
		cfg      opsgenie.Config
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
						w.Header().Set("Retry-After", "1")
						w.WriteHeader(http.StatusTooManyRequests)
						w.Write([]byte(`{"message":"You are making too many requests! To avoid errors, we recommend you limit requests.","took":0.001,"requestId":"x"}`))
						return
					}
					w.Write(fixture(t, "schedules.json"))
				}
			}(),
			requests: 2, waits: []time.Duration{time.Second},
		},
		{
			name: "rate limited for longer than max_retry_wait",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"message":"You are making too many requests!","took":0.001,"requestId":"x"}`))
			},
			kind: oncall.ErrUnavailable, msg: op + "provider unavailable (rate limited, HTTP 429)", requests: 1,
		},
		{
			name: "server error, retried, then given up",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				w.Write([]byte("<html>502 Bad Gateway</html>"))
			},
			kind: oncall.ErrUnavailable, msg: op + "provider unavailable (HTTP 502)",
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
			cfg:  opsgenie.Config{Timeout: 50 * time.Millisecond},
			kind: oncall.ErrUnavailable, msg: op + "provider unavailable (no answer in time)", requests: 1,
		},
		{
			name: "malformed body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"data": [{"id": "6f0e8a4c", "name": `))
			},
			kind: oncall.ErrMalformed, msg: op + "malformed response", requests: 1,
		},
		{
			name: "wrong types",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"data": {"id": 42}, "took": 0.1, "requestId": "x"}`))
			},
			kind: oncall.ErrMalformed, msg: op + "malformed response", requests: 1,
		},
		{
			name: "key refused", cfg: opsgenie.Config{APIKey: "wrong-" + apiKey},
			kind: oncall.ErrUnauthorized, msg: op + "credentials refused (HTTP 401)", requests: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeOG(t)
			if tc.handler != nil {
				f.override["/v2/schedules"] = tc.handler
			}
			sl := &integrationstest.Sleeps{}
			src := newSource(t, srv, store, tc.cfg, sl)
			oc, err := src.OnCall(context.Background(), ownership(t, store, "observability-stack"))
			if tc.kind == nil {
				if err != nil || oc == nil || len(oc.Now) != 1 {
					t.Fatalf("OnCall = %+v, %v; want the fixtures' answer", oc, err)
				}
			} else {
				if !errors.Is(err, tc.kind) {
					t.Fatalf("OnCall error = %v, want %v", err, tc.kind)
				}
				if err.Error() != tc.msg {
					t.Errorf("message %q, want %q", err.Error(), tc.msg)
				}
				if strings.Contains(err.Error(), apiKey) || strings.Contains(err.Error(), srv.URL) {
					t.Errorf("message %q shows the key or the URL", err.Error())
				}
			}
			if got := f.count("/v2/schedules"); got != tc.requests {
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

func TestScheduleNotFound(t *testing.T) {
	_, srv := newFakeOG(t)
	src := newSource(t, srv, nil, opsgenie.Config{}, &integrationstest.Sleeps{})
	_, err := src.OnCall(context.Background(), &catalog.Ownership{OnCall: map[string]string{oncall.AnnotationOpsgenieSchedule: "Gone"}})
	if !errors.Is(err, oncall.ErrNotFound) || err.Error() != "opsgenie: get timeline of schedule Gone: not found (HTTP 404)" {
		t.Errorf("OnCall = %v, want not found", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  opsgenie.Config
		want []string
	}{
		{"defaults with a key", opsgenie.Config{APIKey: apiKey}, nil},
		{"EU", opsgenie.Config{APIKey: apiKey, APIURL: "https://api.eu.opsgenie.com"}, nil},
		{"no key", opsgenie.Config{}, []string{"opsgenie.api_key: required"}},
		{"key with a space", opsgenie.Config{APIKey: apiKey + " "}, []string{"opsgenie.api_key: contains white space"}},
		{"plain http to a remote host", opsgenie.Config{APIKey: apiKey, APIURL: "http://opsgenie.example"}, []string{"opsgenie.api_url:", "use https"}},
		{"a path", opsgenie.Config{APIKey: apiKey, APIURL: "https://proxy.example/opsgenie"}, []string{"opsgenie.api_url:", "scheme and host only"}},
		{"bad cache", opsgenie.Config{APIKey: apiKey, Cache: oncall.CacheConfig{TTL: time.Hour, MaxStale: time.Minute}}, []string{"opsgenie.cache.max_stale:"}},
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
			if strings.Contains(err.Error(), apiKey) {
				t.Errorf("Validate = %q shows the key", err)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	f, srv := newFakeOG(t)
	f.override["/v2/schedules/"+sreID+"/timeline"] = func(w http.ResponseWriter, r *http.Request) {
		w.Write(fixture(t, "timeline.json"))
	}
	src := newSource(t, srv, openCatalog(t), opsgenie.Config{}, &integrationstest.Sleeps{})
	rs := src.Check(ctx,
		map[string][]string{"sre-oncall": {"group:sre"}, "ghost-team": {"group:ghosts"}},
		map[string][]string{"SRE schedule (old)": {"component:legacy"}, "Nope": {"component:x"}})
	got := map[string]string{}
	for _, r := range rs {
		state := "ok"
		if !r.OK {
			state = "FAIL: " + r.Fix
		}
		got[r.Check] = state + " | " + r.Detail
	}
	for check, want := range map[string]string{
		"api key": "ok | accepted by " + srv.URL + " (4 schedules visible)", "escalations": "ok | 2 readable",

		"team sre-oncall (group:sre)":                    "ok | schedules: SRE schedule",
		"team ghost-team (group:ghosts)":                 "FAIL: check the team name",
		"schedule SRE schedule (old) (component:legacy)": "FAIL: enable it",
		"schedule Nope (component:x)":                    "FAIL: fix opsgenie.com/schedule",
		"people":                                         "FAIL: add a User entity",
	} {
		if !strings.HasPrefix(got[check], want) {
			t.Errorf("%s: %q, want prefix %q", check, got[check], want)
		}
	}
	if !strings.Contains(got["people"], "not in the catalog: nightcover@partner.example") {
		t.Errorf("people: %q", got["people"])
	}

	f.override["/v2/escalations"] = func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"Key has insufficient access","took":0.001,"requestId":"r"}`))
	}
	for _, r := range src.Check(ctx, nil, nil) {
		if r.Check == "escalations" && (r.OK || !strings.Contains(r.Fix, "level 1")) {
			t.Errorf("unreadable escalations: %+v", r)
		}
	}

	bad := newSource(t, srv, nil, opsgenie.Config{APIKey: "wrong"}, &integrationstest.Sleeps{})
	rs = bad.Check(ctx, nil, nil)
	if len(rs) != 1 || rs[0].OK || !strings.Contains(rs[0].Fix, "API integration") {
		t.Errorf("refused key: %+v", rs)
	}
}

// The escalation's order gives the levels: a schedule notified after a
// delay is level 2; escalations that cannot be read leave level 1.
func TestEscalationLevels(t *testing.T) {
	store := openCatalog(t)
	f, srv := newFakeOG(t)
	src := newSource(t, srv, store, opsgenie.Config{}, &integrationstest.Sleeps{})
	f.override["/v2/escalations"] = func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":[{"id":"e1","name":"sre-oncall_escalation","ownerTeam":{"id":"c1a8f3e2-7d44-4b0e-a9c6-5e2f1d3b8a10","name":"sre-oncall"},
			"rules":[
				{"condition":"if-not-acked","notifyType":"default","delay":{"timeAmount":0,"timeUnit":"minutes"},"recipient":{"type":"user","id":"u1","username":"lead@northwind.example"}},
				{"condition":"if-not-acked","notifyType":"default","delay":{"timeAmount":5,"timeUnit":"minutes"},"recipient":{"type":"schedule","id":"` + sreID + `","name":"SRE schedule"}}]},
			{"id":"e2","name":"other-team","ownerTeam":{"id":"x","name":"other"},
			"rules":[{"condition":"if-not-acked","notifyType":"default","delay":{"timeAmount":0,"timeUnit":"minutes"},"recipient":{"type":"schedule","id":"` + sreID + `","name":"SRE schedule"}}]}],
			"took":0.01,"requestId":"r"}`))
	}
	oc, err := src.OnCall(context.Background(), ownership(t, store, "observability-stack"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range append(oc.Now, oc.Next...) {
		if sh.Level != 2 {
			t.Errorf("%s: level %d, want 2 (the team's escalation notifies the schedule after 5 minutes; another team's escalation does not count)", sh.Schedule, sh.Level)
		}
	}

	f.override["/v2/escalations"] = func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"Key has insufficient access","took":0.001,"requestId":"r"}`))
	}
	oc, err = src.OnCall(context.Background(), ownership(t, store, "observability-stack"))
	if err != nil {
		t.Fatalf("unreadable escalations failed the lookup: %v", err)
	}
	if len(oc.Now) == 0 || oc.Now[0].Level != 1 {
		t.Errorf("without escalations: %+v, want level 1", oc.Now)
	}
}
