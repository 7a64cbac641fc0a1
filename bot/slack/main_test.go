package slack

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The test credentials. testSecret is the example signing secret of
// Slack's documentation.
const (
	testSecret   = "8f742231b10e8888abcd99yyyzzz85a5"
	testBotToken = "xoxb-test-token"
	testAppToken = "xapp-test-token"
)

// testKey signs button values; fixed so that goldens are stable.
var testKey = []byte("idpbot-golden-button-signing-key-0123456789")

// testNow is the clock of the signed-request tests.
var testNow = time.Unix(1_760_000_000, 0)

// store is the example catalog, opened once for the package's tests.
var store *catalog.Store

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "idpbot-slack-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	store, err = catalog.Open(ctx, dir, catalog.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open catalog:", err)
		return 1
	}
	defer store.Close()
	rep, err := store.Ingest(ctx, "examples", []string{"../../deploy/examples/catalog/all.yaml"})
	if err != nil || rep.Entities == 0 {
		fmt.Fprintln(os.Stderr, "ingest example catalog:", err, rep)
		return 1
	}
	return m.Run()
}

// testCatalog wraps the real catalog: it counts calls, and can hold every
// call until gate is closed or fail them all.
type testCatalog struct {
	bot.Catalog
	calls atomic.Int64
	gate  chan struct{}
	fail  error
}

func (c *testCatalog) enter(ctx context.Context) error {
	c.calls.Add(1)
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return c.fail
}

func (c *testCatalog) WhoOwns(ctx context.Context, q string) (*catalog.Ownership, error) {
	if err := c.enter(ctx); err != nil {
		return nil, err
	}
	return c.Catalog.WhoOwns(ctx, q)
}

func (c *testCatalog) Resolve(ctx context.Context, q string, kinds ...string) (*catalog.Entity, error) {
	if err := c.enter(ctx); err != nil {
		return nil, err
	}
	return c.Catalog.Resolve(ctx, q, kinds...)
}

func (c *testCatalog) Get(ctx context.Context, ref string) (*catalog.Entity, error) {
	if err := c.enter(ctx); err != nil {
		return nil, err
	}
	return c.Catalog.Get(ctx, ref)
}

func (c *testCatalog) Search(ctx context.Context, req catalog.SearchRequest) (*catalog.SearchResult, error) {
	if err := c.enter(ctx); err != nil {
		return nil, err
	}
	return c.Catalog.Search(ctx, req)
}

func (c *testCatalog) List(ctx context.Context, f catalog.Filter, limit int) ([]*catalog.Entity, error) {
	if err := c.enter(ctx); err != nil {
		return nil, err
	}
	return c.Catalog.List(ctx, f, limit)
}

// newRouter returns the real router over cat, with metrics on reg.
func newRouter(tb testing.TB, cat bot.Catalog, reg prometheus.Registerer) *bot.Router {
	tb.Helper()
	return newRouterConfig(tb, cat, reg, nil)
}

// newRouterConfig is newRouter with more of the configuration set by
// config (when not nil).
func newRouterConfig(tb testing.TB, cat bot.Catalog, reg prometheus.Registerer, config func(*bot.Config)) *bot.Router {
	tb.Helper()
	signer, err := bot.NewSigner(testKey)
	if err != nil {
		tb.Fatal(err)
	}
	var m *bot.Metrics
	if reg != nil {
		if m, err = bot.NewMetrics(reg); err != nil {
			tb.Fatal(err)
		}
	}
	cfg := bot.Config{Catalog: cat, Signer: signer, Metrics: m, Identity: bot.NewIdentity(cat, nil, 0)}
	if config != nil {
		config(&cfg)
	}
	r, err := bot.NewRouter(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// env is a front door wired to the real router and catalog, served by an
// HTTP test server, with a slacktest Web API and a response_url sink.
type env struct {
	fd   *FrontDoor
	cat  *testCatalog
	reg  *prometheus.Registry
	srv  *httptest.Server
	api  *slacktest.Server
	sink *sink
	// updates receives the form of every chat.update call.
	updates chan url.Values
}

type envOptions struct {
	api    func(slacktest.Customize)
	cfg    func(*Config)
	cat    func(*testCatalog)
	router func(*bot.Config)
	opts   []Option
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{cat: &testCatalog{Catalog: store}, reg: prometheus.NewRegistry(), updates: make(chan url.Values, 8)}
	if o.cat != nil {
		o.cat(e.cat)
	}
	e.api = slacktest.NewTestServer(func(c slacktest.Customize) {
		if o.api != nil {
			o.api(c)
		}
		c.Handle("/chat.update", e.chatUpdate)
	})
	e.api.Start()
	t.Cleanup(e.api.Stop)
	e.sink = newSink(t)
	cfg := Config{BotToken: testBotToken, SigningSecret: testSecret, AppToken: testAppToken, APIURL: e.api.GetAPIURL()}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	opts := append([]Option{WithClock(func() time.Time { return testNow })}, o.opts...)
	fd, err := New(cfg, newRouterConfig(t, e.cat, e.reg, o.router), testLogger(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	e.fd = fd
	e.srv = httptest.NewServer(fd.Handler())
	t.Cleanup(func() {
		e.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := fd.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return e
}

// chatUpdate is the chat.update method slacktest lacks.
func (e *env) chatUpdate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.updates <- r.PostForm
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.PostForm.Get("channel"), "ts": r.PostForm.Get("ts"), "text": r.PostForm.Get("text")})
}

// commandsTotal sums idpbot_commands_total: how many commands the router
// ran.
func (e *env) commandsTotal(t *testing.T) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "idpbot_commands_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			n += m.GetCounter().GetValue()
		}
	}
	return n
}

// slash posts a slash command signed at testNow and returns the response.
func (e *env) slash(t *testing.T, text, responseURL string) (*http.Response, []byte) {
	t.Helper()
	return e.do(t, signed(t, e.srv.URL+CommandsPath, testNow, slashForm(text, responseURL).Encode()))
}

// answer posts a slash command and decodes the message in its
// acknowledgement.
func (e *env) answer(t *testing.T, text, responseURL string) slackapi.WebhookMessage {
	t.Helper()
	resp, body := e.slash(t, text, responseURL)
	return ackMessage(t, resp, body)
}

// click posts a block_actions payload for a button value.
func (e *env) click(t *testing.T, actionID, value, responseURL string) (*http.Response, []byte) {
	t.Helper()
	return e.do(t, signed(t, e.srv.URL+InteractivityPath, testNow, clickForm(actionID, value, responseURL).Encode()))
}

func (e *env) do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func slashForm(text, responseURL string) url.Values {
	return url.Values{
		"token": {"legacy-verification-token"}, "team_id": {"T0NORTHWIND"}, "team_domain": {"northwind"},
		"channel_id": {"C04PAYMENTS"}, "channel_name": {"payments"}, "user_id": {"U01ALICE"}, "user_name": {"alice.nguyen"},
		"command": {"/idp"}, "text": {text}, "response_url": {responseURL}, "trigger_id": {"13345224609.738474920.8088930838d88f008e0"},
		"api_app_id": {"A0IDPBOT"},
	}
}

func clickForm(actionID, value, responseURL string) url.Values {
	payload := map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": "U01ALICE", "username": "alice.nguyen", "name": "alice.nguyen", "team_id": "T0NORTHWIND"},
		"api_app_id":   "A0IDPBOT",
		"token":        "legacy-verification-token",
		"container":    map[string]any{"type": "message", "message_ts": "1760000000.000100", "channel_id": "C04PAYMENTS", "is_ephemeral": true},
		"trigger_id":   "13345224609.738474920.8088930838d88f008e0",
		"team":         map[string]any{"id": "T0NORTHWIND", "domain": "northwind"},
		"channel":      map[string]any{"id": "C04PAYMENTS", "name": "payments"},
		"response_url": responseURL,
		"message":      map[string]any{"type": "message", "text": "earlier reply", "blocks": []any{}},
		"actions": []any{map[string]any{
			"action_id": actionID, "block_id": "b1", "type": "button", "value": value,
			"text": map[string]any{"type": "plain_text", "text": "label"}, "action_ts": "1760000001.000200",
		}},
	}
	b, _ := json.Marshal(payload)
	return url.Values{"payload": {string(b)}}
}

// signed builds a POST signed the way Slack signs it.
func signed(tb testing.TB, u string, at time.Time, body string) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(headerTimestamp, ts)
	req.Header.Set(headerSignature, Signature(testSecret, ts, []byte(body)))
	return req
}

// sink is a response_url: it records every message posted to it.
type sink struct {
	srv   *httptest.Server
	posts chan posted
	// status, when set, answers the next posts with it (and Retry-After: 1
	// for 429) before accepting.
	reject atomic.Int32
}

type posted struct {
	path string
	msg  slackapi.WebhookMessage
	raw  map[string]any
}

func newSink(t *testing.T) *sink {
	t.Helper()
	s := &sink{posts: make(chan posted, 16)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.reject.Load() > 0 {
			s.reject.Add(-1)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "rate limited", http.StatusTooManyRequests)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var p posted
		p.path = r.URL.Path
		if err := json.Unmarshal(b, &p.msg); err != nil {
			t.Errorf("response_url got invalid JSON: %v", err)
		}
		_ = json.Unmarshal(b, &p.raw)
		s.posts <- p
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) url(path string) string { return s.srv.URL + path }

// next waits for the next post (tests fail by the test deadline, not a
// sleep).
func (s *sink) next(t *testing.T) posted {
	t.Helper()
	select {
	case p := <-s.posts:
		return p
	case <-deadline(t):
		t.Fatal("no post to response_url")
	}
	return posted{}
}

// deadline ends a wait for something that must happen; it is a bound on
// failure, not a pause.
func deadline(t *testing.T) <-chan time.Time {
	t.Helper()
	return time.After(10 * time.Second)
}

// testLogger logs to the test at debug level, until the test's cleanups
// registered after it have run.
func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
