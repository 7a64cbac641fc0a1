package actions_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/actions/catalogexec"
	"github.com/idpbot/idpbot/actions/githubwf"
	"github.com/idpbot/idpbot/actions/webhook"
	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/rotations"
)

// People of the example catalog. At testNow (Thursday 26 November 2026,
// 11:00 UTC) bilal.haddad and alice.nguyen are on call for payments;
// carmen.ortiz is in payments and sre; lena.fischer and marco.silva are in
// sre; dmitri.volkov is in checkout.
const (
	alice  = "user:default/alice.nguyen"
	bilal  = "user:default/bilal.haddad"
	carmen = "user:default/carmen.ortiz"
	dmitri = "user:default/dmitri.volkov"
	lena   = "user:default/lena.fischer"
	marco  = "user:default/marco.silva"
)

var testNow = time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)

const (
	testSecret  = "0123456789abcdef-webhook-secret"
	ticketValue = "INC-424242"
)

func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(dir)
}

// openCatalog opens (or reopens) the store in dir; ingest loads the example
// catalog.
func openCatalog(t testing.TB, dir string, ingest bool) *catalog.Store {
	t.Helper()
	ctx := context.Background()
	s, err := catalog.Open(ctx, dir, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ingest {
		rep, err := s.Ingest(ctx, "file:examples", []string{filepath.Join(repoRoot(t), "deploy", "examples", "catalog", "all.yaml")})
		if err != nil {
			t.Fatalf("ingest example catalog: %v", err)
		}
		if rep.Problems.Errors() > 0 {
			t.Fatalf("example catalog has errors: %v", rep.Problems)
		}
	}
	return s
}

// clock is an injected clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// receiver is a webhook receiver counting deliveries by idempotency key.
type receiver struct {
	t   testing.TB
	srv *httptest.Server

	mu     sync.Mutex
	byRun  map[string]int
	bodies []webhook.Body
	raw    []string
	// hold, when set, is called before answering; it may block.
	hold func(r *http.Request)
	// status answers (default 200).
	status int
}

func newReceiver(t testing.TB) *receiver {
	rc := &receiver{t: t, byRun: map[string]int{}, status: http.StatusOK}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !webhook.Verify([]byte(testSecret), body, r.Header.Get(webhook.HeaderSignature)) {
		rc.t.Errorf("delivery with a bad signature")
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var b webhook.Body
	if err := json.Unmarshal(body, &b); err != nil || b.RunID != r.Header.Get(webhook.HeaderRunID) {
		rc.t.Errorf("body %s does not match run id header %q", body, r.Header.Get(webhook.HeaderRunID))
	}
	rc.mu.Lock()
	rc.byRun[r.Header.Get(webhook.HeaderRunID)]++
	rc.bodies = append(rc.bodies, b)
	rc.raw = append(rc.raw, string(body))
	hold, status := rc.hold, rc.status
	rc.mu.Unlock()
	if hold != nil {
		hold(r)
		if r.Context().Err() != nil {
			return
		}
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"ok":true,"message":"done"}`)
}

func (rc *receiver) count(runID string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.byRun[runID]
}

func (rc *receiver) total() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, c := range rc.byRun {
		n += c
	}
	return n
}

// recorder is a Notifier that records messages.
type recorder struct {
	mu   sync.Mutex
	msgs []actions.Message
}

func (n *recorder) Notify(_ context.Context, m *actions.Message) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, *m)
	return "msg-" + m.RunID, nil
}

func (n *recorder) forRun(id string) []actions.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []actions.Message
	for _, m := range n.msgs {
		if m.RunID == id {
			out = append(out, m)
		}
	}
	return out
}

// manual is a non-idempotent executor for tests: it reports each start on
// started and blocks until release is closed or ctx ends.
type manual struct {
	started chan string
	release chan struct{}
}

func (m *manual) Check(a *actions.Action) error { return a.Executor.CheckKeys() }
func (m *manual) New(a *actions.Action) (actions.Executor, error) {
	return m, m.Check(a)
}
func (m *manual) Idempotent() bool { return false }
func (m *manual) Execute(ctx context.Context, job *actions.Job) (string, error) {
	m.started <- job.RunID
	select {
	case <-m.release:
		return "done by hand", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

const manualAction = `apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata: {name: rotate-keys, title: Rotate signing keys}
spec:
  target: service
  inputs:
    - {name: service, type: entity, kind: component, required: true}
  runners: {owners: true}
  approval: none
  executor: {type: manual}
`

// env is one engine over one data directory.
type env struct {
	t     testing.TB
	dir   string
	store *catalog.Store
	eng   *actions.Engine
	clk   *clock
	recv  *receiver
	note  *recorder
	man   *manual
	// changes are the statuses OnChange reported, in order.
	mu      sync.Mutex
	changes []string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clk: &clock{now: testNow}, recv: newReceiver(t), note: &recorder{},
		man: &manual{started: make(chan string, 4), release: make(chan struct{})}}
	e.store = openCatalog(t, e.dir, true)
	e.start()
	t.Cleanup(func() {
		_ = e.eng.Shutdown(context.Background())
		_ = e.store.Close()
	})
	return e
}

func (e *env) loadActions() []*actions.Action {
	e.t.Helper()
	acts, ps, err := actions.Load([]string{filepath.Join(repoRoot(e.t), "deploy", "examples", "actions")})
	if err != nil || ps.Errors() > 0 {
		e.t.Fatalf("load example actions: %v %v", err, ps)
	}
	extra, ps := actions.Parse("manual.yaml", []byte(manualAction))
	if ps.Errors() > 0 {
		e.t.Fatal(ps)
	}
	return append(acts, extra...)
}

func (e *env) start() {
	e.t.Helper()
	wh := webhook.NewFactory(webhook.Options{
		Getenv: func(k string) (string, bool) {
			switch k {
			case "RESTART_WEBHOOK_SECRET", "ACCESS_WEBHOOK_SECRET":
				return testSecret, true
			case "ACCESS_TENANT":
				return "northwind", true
			}
			return "", false
		},
		Backoff: func(int) time.Duration { return 0 },
	})
	cx, err := catalogexec.NewFactory(e.store)
	if err != nil {
		e.t.Fatal(err)
	}
	acts := e.loadActions()
	for _, a := range acts {
		if a.Executor.Type == "webhook" {
			a.Executor.Settings["url"] = e.recv.srv.URL + "/hooks/" + a.ID
		}
	}
	eng, err := actions.New(actions.Config{
		Catalog: e.store,
		Actions: acts,
		Executors: actions.Registry{"webhook": wh, "catalog": cx, "manual": e.man, githubwf.Type: githubwf.NewFactory(githubwf.Options{
			Getenv: func(k string) (string, bool) { return "test-token", k == "GITHUB_TOKEN" },
		})},
		OnCall:   rotations.New(e.store, rotations.WithClock(e.clk.Now)),
		Notifier: e.note,
		OnChange: func(action string, status actions.Status) {
			e.mu.Lock()
			e.changes = append(e.changes, action+":"+string(status))
			e.mu.Unlock()
		},
		Now: e.clk.Now,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.eng = eng
}

// restart stops the engine, closes and reopens the store and starts a new
// engine on it, as a process restart does.
func (e *env) restart() {
	e.t.Helper()
	if err := e.eng.Shutdown(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.store = openCatalog(e.t, e.dir, false)
	e.start()
}

func (e *env) request(actor, action string, params map[string]string) *actions.Run {
	e.t.Helper()
	ctx := context.Background()
	in, err := e.eng.Bind(ctx, action, params)
	if err != nil {
		e.t.Fatalf("bind %s: %v", action, err)
	}
	r, err := e.eng.Request(ctx, actor, action, in, actions.Origin{Via: "chat", Platform: "slack", Channel: "C04PAYMENTS"})
	if err != nil {
		e.t.Fatalf("request %s: %v", action, err)
	}
	return r
}

func (e *env) run(id string) *actions.Run {
	e.t.Helper()
	r, err := e.eng.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

var restartParams = map[string]string{"service": "payments-api", "env": "prod", "reason": "OOM loop since 10:40"}

var grantParams = map[string]string{"database": "payments-db", "level": "read", "duration": "2h", "ticket": ticketValue, "reason": "investigate a stuck refund"}
