package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/idpbot/idpbot/bot/slack"
)

func TestConfig(t *testing.T) {
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1-2-secretvalue", "SIGNING": "s3cret-signing"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name, yaml string
		err        []string // substrings; none: must parse
	}{
		{name: "empty", yaml: ""},
		{name: "full", yaml: `
data_dir: /var/lib/idpbot
listen: ":8080"
catalog: {paths: [deploy/examples/catalog/all.yaml]}
slack:
  bot_token: ${SLACK_BOT_TOKEN}
  signing_secret: ${SIGNING}
log: {level: info, file: /var/log/idpbot.log}
buttons: {signing_key: 0123456789abcdef0123456789abcdef}
`},
		{name: "missing env", yaml: "slack:\n  bot_token: ${NOPE_TOKEN}\n", err: []string{"line 2: slack.bot_token: environment variable NOPE_TOKEN is not set"}},
		{name: "unknown key", yaml: "slak:\n  bot_token: x\n", err: []string{"field slak not found"}},
		{name: "wrong type", yaml: "catalog: {paths: 3}\n", err: []string{"cannot unmarshal"}},
		{name: "bad listen", yaml: "listen: localhost\n", err: []string{`listen: "localhost" is not host:port`}},
		{name: "bad level", yaml: "log: {level: loud}\n", err: []string{"log.level"}},
		{name: "short key", yaml: "buttons: {signing_key: abc}\n", err: []string{"buttons.signing_key: too short"}},
		{name: "wrong token kind", yaml: "slack: {bot_token: xapp-1-2, signing_secret: x}\n", err: []string{"slack.bot_token: a bot token starts with xoxb-"}},
		{name: "secret without token", yaml: "slack: {signing_secret: '${SIGNING}'}\n", err: []string{"slack.bot_token: required"}},
		{name: "malformed yaml", yaml: "listen: [\n", err: []string{"test.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig("test.yaml", []byte(tt.yaml), getenv)
			if len(tt.err) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("parsed: %+v", cfg)
			}
			for _, w := range tt.err {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, secret := range env {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows a secret: %q", err)
				}
			}
		})
	}
	cfg, err := parseConfig("t.yaml", []byte("slack: {bot_token: '${SLACK_BOT_TOKEN}', signing_secret: '${SIGNING}'}\n"), getenv)
	if err != nil || cfg.Slack.BotToken != env["SLACK_BOT_TOKEN"] || !cfg.slackEnabled() {
		t.Fatalf("substitution: %+v, %v", cfg, err)
	}
}

func TestConfigCheckCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idpbot.yaml")
	if err := os.WriteFile(path, []byte("listen: 127.0.0.1:9999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLACK_BOT_TOKEN", "")
	t.Setenv("SLACK_SIGNING_SECRET", "")
	t.Setenv("SLACK_APP_TOKEN", "")
	if code, out, errOut := idpbot(t, "config", "check", path); code != 0 || !strings.Contains(out, "ok (slack disabled)") {
		t.Errorf("config check: exit %d %s%s", code, out, errOut)
	}
	if err := os.WriteFile(path, []byte("listen: nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := idpbot(t, "config", "check", path); code != 1 || !strings.Contains(errOut, "listen:") {
		t.Errorf("config check of a bad file: exit %d %s", code, errOut)
	}
}

func TestAsk(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := idpbot(t, "--data-dir", data, "ask", "--catalog", exampleCatalog, "who-owns", "payments-api")
	if code != 0 || !strings.Contains(out, "Owner:   Payments Team") || !strings.Contains(out, "[1] On call") {
		t.Fatalf("ask who-owns: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = idpbot(t, "--data-dir", data, "ask", "search", "card tokens")
	if code != 0 || !strings.Contains(out, "matches") {
		t.Errorf("ask search with a quoted phrase: exit %d\n%s", code, out)
	}
	code, out, _ = idpbot(t, "--data-dir", data, "ask", "who-owns", "ledgr")
	if code != 1 || !strings.Contains(out, "component:default/ledger") {
		t.Errorf("ask of a typo: exit %d\n%s", code, out)
	}
	code, out, _ = idpbot(t, "--data-dir", data, "ask", "--as", "alice.nguyen", "team")
	if code != 0 || !strings.Contains(out, "Payments Team") {
		t.Errorf("ask --as alice team: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(data, "button.key")); err != nil {
		t.Errorf("no button key kept in the data directory: %v", err)
	}
}

func TestChatReadsStdin(t *testing.T) {
	data := t.TempDir()
	var out, errOut bytes.Buffer
	g := &globals{stdin: strings.NewReader("who-owns ledger\n1\n"), stdout: &out, stderr: &errOut}
	code := runWith(context.Background(), g, []string{"--data-dir", data, "chat", "--catalog", exampleCatalog})
	if code != 0 || !strings.Contains(out.String(), "Ledger") || !strings.Contains(out.String(), "On call for Ledger") {
		t.Fatalf("chat: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if _, err := os.Stat(filepath.Join(data, "idpbot.log")); err != nil {
		t.Errorf("chat did not log to DATA_DIR/idpbot.log: %v", err)
	}
	if errOut.Len() != 0 {
		t.Errorf("chat wrote over the prompt: %s", errOut.String())
	}
}

// served is an `idpbot serve` running in this process.
type served struct {
	addr        string
	out, errOut *bytes.Buffer
	cancel      context.CancelFunc
	done        chan int
}

// startServe runs serve on a free loopback port with the example catalog
// and data in data; stop it with stop.
func startServe(t *testing.T, data string) *served {
	t.Helper()
	return startServeArgs(t, []string{"--data-dir", data, "--log-level", "info", "serve", "--listen", "127.0.0.1:0", "--catalog", exampleCatalog})
}

// startServeArgs runs idpbot with args (a serve command listening on
// 127.0.0.1:0) and waits until it listens.
func startServeArgs(t *testing.T, args []string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	addrc := make(chan string, 1)
	s := &served{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}, cancel: cancel, done: make(chan int, 1)}
	g := &globals{stdin: strings.NewReader(""), stdout: s.out, stderr: s.errOut, onListen: func(a string) { addrc <- a }}
	go func() {
		s.done <- runWith(ctx, g, args)
	}()
	select {
	case s.addr = <-addrc:
	case code := <-s.done:
		t.Fatalf("serve exited %d before listening:\n%s", code, s.errOut.String())
	case <-time.After(time.Minute):
		t.Fatal("serve did not start listening within a minute")
	}
	return s
}

// stop cancels serve (as SIGTERM does) and returns its exit code.
func (s *served) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		return code
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop within a minute of cancellation")
	}
	return -1
}

func TestServeHealthMetricsAndGracefulStop(t *testing.T) {
	data := t.TempDir()
	s := startServe(t, data)
	addr, errOut := s.addr, s.errOut
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, "entities") {
		t.Errorf("/readyz: %d %q", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") ||
		!strings.Contains(body, "idpbot_catalog_entities 72") || !strings.Contains(body, "idpbot_store_lsm_bytes") || !strings.Contains(body, "idpbot_index_bytes") {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("serve exited %d after SIGTERM-equivalent:\n%s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown log:\n%s", errOut.String())
	}
	// The catalog was closed cleanly: it opens again at once.
	if code, out, errOut := idpbot(t, "--data-dir", data, "catalog", "who-owns", "ledger"); code != 0 {
		t.Errorf("reopen after serve: exit %d\n%s%s", code, out, errOut)
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	if _, err := loadConfig(filepath.Join("..", "..", "deploy", "examples", "config.yaml"), func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
}

func TestScorecardsValidate(t *testing.T) {
	code, out, _ := idpbot(t, "scorecards", "validate", filepath.Join("..", "..", "deploy", "examples", "scorecards"))
	if code != 0 || !strings.Contains(out, "2 scorecards, 15 rules, 0 errors") {
		t.Errorf("validate examples: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: idpbot.dev/v1alpha1\nkind: Scorecard\nmetadata: {name: bad}\nspec:\n  levels: [A]\n  rules:\n    - {id: r1, level: A, expr: 'entity.spec.owner =='}\n"), 0o644)
	code, out, _ = idpbot(t, "scorecards", "validate", bad)
	if code != 1 || !strings.Contains(out, "bad.yaml:7:") || !strings.Contains(out, "spec.rules[r1].expr") {
		t.Errorf("validate a bad scorecard: exit %d\n%s", code, out)
	}
}

func TestAskScore(t *testing.T) {
	data := t.TempDir()
	scorecards := filepath.Join("..", "..", "deploy", "examples", "scorecards")
	code, out, errOut := idpbot(t, "--data-dir", data, "ask", "--catalog", exampleCatalog, "--scorecards", scorecards, "leaderboard", "production-readiness", "--team", "payments")
	if code != 0 || !strings.Contains(out, "Production readiness — Payments Team") {
		t.Errorf("ask leaderboard --team: exit %d\n%s%s", code, out, errOut)
	}
}

func TestServeSlackEndToEnd(t *testing.T) {
	api := slacktest.NewTestServer()
	api.Start()
	defer api.Stop()
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
	t.Setenv("SLACK_SIGNING_SECRET", secret)
	t.Setenv("SLACK_APP_TOKEN", "")
	t.Setenv("SLACK_API_URL", api.GetAPIURL())

	srv := startServe(t, t.TempDir())
	addr := srv.addr
	post := func(body string, sign bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/slack/commands", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		sig := slack.Signature(secret, ts, []byte(body))
		if !sign {
			sig = slack.Signature("not-the-secret", ts, []byte(body))
		}
		req.Header.Set("X-Slack-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	form := url.Values{"command": {"/idp"}, "text": {"who-owns payments-api"}, "user_id": {"U01ALICE"},
		"channel_id": {"C1"}, "team_id": {"T1"}, "response_url": {"http://127.0.0.1:1/unused"}}.Encode()
	resp := post(form, true)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Payments Team") || !strings.Contains(string(body), "<@U01ALICE>") {
		t.Errorf("signed who-owns through serve: %d %s", resp.StatusCode, body)
	}
	resp = post(form, false)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged request through serve: %d, want 401", resp.StatusCode)
	}
	if code := srv.stop(t); code != 0 {
		t.Errorf("serve exited %d:\n%s", code, srv.errOut.String())
	}
	for _, secretValue := range []string{secret, "xoxb-test-token"} {
		if strings.Contains(srv.errOut.String(), secretValue) || strings.Contains(srv.out.String(), secretValue) {
			t.Errorf("a secret appears in the output")
		}
	}
}

func TestFactsPushThroughServe(t *testing.T) {
	const token = "facts-token-0123456789abcdef012345"
	t.Setenv("IDPBOT_API_TOKEN", token)
	data := t.TempDir()
	scorecards := filepath.Join("..", "..", "deploy", "examples", "scorecards")
	srv := startServeArgs(t, []string{"--data-dir", data, "serve", "--listen", "127.0.0.1:0", "--catalog", exampleCatalog, "--scorecards", scorecards})
	addr, errOut := srv.addr, srv.errOut
	code, stdout, stderr := idpbot(t, "facts", "push", "--url", "http://"+addr, "--entity", "payments-gateway", "coverage=91.5", "deploys_per_week=7")
	if code != 0 || !strings.Contains(stdout, "pushed 2 facts about component:default/payments-gateway") {
		t.Errorf("facts push: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = idpbot(t, "facts", "push", "--url", "http://"+addr, "--entity", "payments-gateway", "Bad-Name=1")
	if code != 1 || !strings.Contains(stderr, "400 Bad Request") || !strings.Contains(stderr, "fact name") {
		t.Errorf("bad fact: exit %d\n%s", code, stderr)
	}
	code, _, stderr = idpbot(t, "facts", "push", "--url", "http://"+addr, "--token", "wrong-token-0123456789abcdefgh", "--entity", "ledger", "x=1")
	if code != 1 || !strings.Contains(stderr, "401") {
		t.Errorf("wrong token: exit %d\n%s", code, stderr)
	}
	srv.stop(t)
	if strings.Contains(errOut.String(), token) {
		t.Error("the API token appears in the logs")
	}
}

// TestOnCallFromPagerDuty asks `oncall payments-api` with PagerDuty
// configured from the environment: the answer comes from a local server
// speaking PagerDuty's REST API instead of the catalog's rotation.
func TestOnCallFromPagerDuty(t *testing.T) {
	now := time.Now().UTC()
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Token token=pd-test-token-0123456789" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/services/PX7Q2LM":
			fmt.Fprint(w, `{"service":{"id":"PX7Q2LM","type":"service","name":"payments-api","html_url":"https://northwind.pagerduty.com/service-directory/PX7Q2LM",
				"escalation_policy":{"id":"PPAYEP1","type":"escalation_policy_reference","summary":"Payments escalation"}}}`)
		case "/oncalls":
			fmt.Fprintf(w, `{"limit":25,"offset":0,"more":false,"oncalls":[{"escalation_level":1,
				"escalation_policy":{"id":"PPAYEP1","type":"escalation_policy_reference","summary":"Payments escalation"},
				"schedule":{"id":"PSPRIM1","type":"schedule_reference","summary":"Payments primary (PagerDuty)"},
				"user":{"id":"PCARMEN","type":"user","summary":"Carmen Ortiz","name":"Carmen Ortiz","email":"carmen.ortiz@northwind.example"},
				"start":%q,"end":%q}]}`, now.Add(-time.Hour).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer pd.Close()
	t.Setenv("PAGERDUTY_TOKEN", "pd-test-token-0123456789")
	t.Setenv("PAGERDUTY_API_URL", pd.URL)
	code, out, errOut := idpbot(t, "--data-dir", t.TempDir(), "--log-level", "debug", "ask", "--catalog", exampleCatalog, "oncall", "payments-api")
	if code != 0 || !strings.Contains(out, "Payments primary (PagerDuty)") || !strings.Contains(out, "@Carmen Ortiz") {
		t.Errorf("oncall with PagerDuty: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "pd-test-token") {
		t.Error("the PagerDuty token appears in the output")
	}
}

func TestActionsValidateAndAuditVerify(t *testing.T) {
	examples := filepath.Join("..", "..", "deploy", "examples", "actions")
	code, out, _ := idpbot(t, "actions", "validate", examples)
	if code != 0 || !strings.Contains(out, "4 actions, 0 errors") {
		t.Errorf("validate examples: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: idpbot.dev/v1alpha1\nkind: Action\nmetadata: {name: x}\nspec:\n  runners: {anyone: true}\n  executor: {type: shell}\n"), 0o644)
	code, out, _ = idpbot(t, "actions", "validate", bad)
	if code != 1 || !strings.Contains(out, "bad.yaml:") {
		t.Errorf("validate a bad action: exit %d\n%s", code, out)
	}
	data := t.TempDir()
	code, out, _ = idpbot(t, "--data-dir", data, "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit log: ok, 0 records") {
		t.Errorf("audit verify of an empty log: exit %d\n%s", code, out)
	}
}
