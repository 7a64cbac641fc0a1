package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpbot/idpbot/actions/webhook"
	"github.com/idpbot/idpbot/bot/discord"
	"github.com/idpbot/idpbot/bot/slack"
)

// deployHook is the deploy system's webhook: it counts deliveries per
// idempotency key, checks the signature, and says when one arrives.
type deployHook struct {
	secret     string
	mu         sync.Mutex
	deliveries map[string]int
	arrived    chan string
}

func (h *deployHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !webhook.Verify([]byte(h.secret), body, r.Header.Get(webhook.HeaderSignature)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	id := r.Header.Get("X-Idpbot-Run-Id")
	h.mu.Lock()
	h.deliveries[id]++
	h.mu.Unlock()
	fmt.Fprintf(w, "restarted (run %s)", id)
	h.arrived <- id
}

// slackMessages is a Slack Web API that keeps posted messages and their
// updates, and signals each update.
type slackMessages struct {
	*slackWorkspace
	updates chan string // text of each chat.update
}

func newSlackMessages(t *testing.T) *slackMessages {
	t.Helper()
	ws := newSlackWorkspace(t)
	sm := &slackMessages{slackWorkspace: ws, updates: make(chan string, 32)}
	ws.Handle("/chat.update", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		sm.updates <- r.FormValue("text") + "\n" + r.FormValue("blocks")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.FormValue("channel"), "ts": r.FormValue("ts")})
	})
	return sm
}

func TestActionThroughSlack(t *testing.T) {
	hook := &deployHook{secret: "hook-secret-0123456789", deliveries: map[string]int{}, arrived: make(chan string, 4)}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	dir := t.TempDir()
	def := fmt.Sprintf(`apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata: {name: restart-service, title: Restart a service}
spec:
  target: service
  inputs:
    - {name: service, type: entity, kind: component, required: true}
    - {name: env, type: enum, values: [staging, prod], default: staging}
    - {name: reason, type: string, required: true, min: 5}
  runners: {owners: true}
  approval:
    required: 1
    approvers: {groups: [sre]}
    expiresAfter: 4h
  executor: {type: webhook, url: %s/hooks/restart, secret: "${TEST_HOOK_SECRET}", timeout: 10s, retries: 1}
`, hookSrv.URL)
	if err := os.WriteFile(filepath.Join(dir, "restart.yaml"), []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	sm := newSlackMessages(t)
	const secret = "actions-signing-secret"
	t.Setenv("TEST_HOOK_SECRET", hook.secret)
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-actions")
	t.Setenv("SLACK_SIGNING_SECRET", secret)
	t.Setenv("SLACK_APP_TOKEN", "")
	t.Setenv("SLACK_API_URL", sm.GetAPIURL())

	srv := startServeArgs(t, []string{"--data-dir", t.TempDir(), "--log-level", "debug", "serve", "--listen", "127.0.0.1:0",
		"--catalog", exampleCatalog, "--actions", dir})
	addr, errOut := srv.addr, srv.errOut
	// The response_url sink: the answers to clicks, only for the clicker.
	answers := make(chan string, 16)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		answers <- string(b)
	}))
	defer sink.Close()
	answer := func() string {
		t.Helper()
		select {
		case a := <-answers:
			return a
		case <-time.After(30 * time.Second):
			t.Fatal("no answer to a click")
		}
		return ""
	}
	post := func(path, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", slack.Signature(secret, ts, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	slash := func(user, text string) string {
		return string(post(slack.CommandsPath, url.Values{"command": {"/idp"}, "text": {text}, "user_id": {user},
			"channel_id": {"C04PAYMENTS"}, "team_id": {"T1"}, "response_url": {sink.URL}}.Encode()))
	}
	click := func(user string, button [2]string) {
		actionID, value := button[0], button[1]
		payload, _ := json.Marshal(map[string]any{
			"type": "block_actions", "user": map[string]any{"id": user}, "team": map[string]any{"id": "T1"},
			"channel": map[string]any{"id": "C04PAYMENTS"}, "response_url": sink.URL,
			"container": map[string]any{"type": "message", "channel_id": "C04PAYMENTS"},
			"actions":   []any{map[string]any{"action_id": actionID, "block_id": "b1", "type": "button", "value": value}},
		})
		post(slack.InteractivityPath, url.Values{"payload": {string(payload)}}.Encode())
	}

	// Bad inputs are refused before anything is requested.
	if got := slash("U01ALICE", "run restart-service service=paymnts-api env=qa"); !strings.Contains(got, "paymnts-api") || !strings.Contains(got, "env") {
		t.Errorf("bad inputs: %s", got)
	}
	// Someone who may not run it is refused.
	if got := slash("U02DMITRI", `run restart-service service=payments-api reason="OOM loop"`); !strings.Contains(strings.ToLower(got), "may not") && !strings.Contains(strings.ToLower(got), "not allowed") {
		t.Errorf("a non-owner's request: %s", got)
	}
	// Alice owns payments-api: her request is posted in the channel with
	// Approve and Reject buttons.
	got := slash("U01ALICE", `run restart-service service=payments-api env=prod reason="OOM loop"`)
	if !strings.Contains(got, "approval request is in the channel") {
		t.Fatalf("request: %s", got)
	}
	var approve [2]string
	select {
	case blocks := <-sm.posted:
		approve = button(blocks, "Approve")
	case <-time.After(30 * time.Second):
		t.Fatal("no approval request was posted in the channel")
	}
	if approve[1] == "" {
		t.Fatal("the approval request has no Approve button")
	}
	click("U01ALICE", approve) // self-approval: refused, nothing runs
	if a := answer(); !strings.Contains(a, "you cannot approve it") {
		t.Errorf("self-approval answered: %s", a)
	}
	click("U01CARMEN", approve)
	if a := answer(); !strings.Contains(strings.ToLower(a), "approved") {
		t.Errorf("approval answered: %s", a)
	}
	var id string
	select {
	case id = <-hook.arrived:
	case <-time.After(30 * time.Second):
		t.Fatalf("the approved run was not executed; log:\n%s", errOut.String())
	}
	click("U01CARMEN", approve) // a double click changes nothing
	if a := answer(); !strings.Contains(strings.ToLower(a), "already") {
		t.Errorf("double click answered: %s", a)
	}
	// The channel message ends up showing the outcome.
	for {
		select {
		case text := <-sm.updates:
			if strings.Contains(text, "succeeded") {
				goto done
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the approval message was not updated with the outcome")
		}
	}
done:
	mresp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(metrics), `idpbot_action_run_changes_total{action="restart-service",status="succeeded"} 1`) {
		t.Errorf("/metrics lacks the succeeded run")
	}
	srv.stop(t)
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.deliveries) != 1 || hook.deliveries[id] != 1 {
		t.Errorf("deliveries %v; want exactly one, of run %s", hook.deliveries, id)
	}
	if strings.Contains(errOut.String(), hook.secret) {
		t.Error("the webhook secret appears in the logs")
	}
}

// button finds the action id and value of the button labelled label in a
// Block Kit JSON string.
func button(blocksJSON, label string) [2]string {
	var blocks []map[string]any
	if json.Unmarshal([]byte(blocksJSON), &blocks) != nil {
		return [2]string{}
	}
	for _, b := range blocks {
		els, _ := b["elements"].([]any)
		for _, e := range els {
			m, _ := e.(map[string]any)
			if t, _ := m["text"].(map[string]any); t != nil && t["text"] == label {
				id, _ := m["action_id"].(string)
				v, _ := m["value"].(string)
				return [2]string{id, v}
			}
		}
	}
	return [2]string{}
}

func TestActionsThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "idpbot.yaml")
	cfg := fmt.Sprintf(`catalog: {paths: [%s]}
actions: {paths: [%s]}
api:
  tokens:
    - {name: deploy-pipeline, token: "${PIPELINE_TOKEN}", as: alice.nguyen, scopes: [actions:run, audit:read]}
`, exampleCatalog, filepath.Join("..", "..", "deploy", "examples", "actions", "toggle-maintenance.yaml"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const token = "pipeline-token-0123456789abcdef"
	t.Setenv("PIPELINE_TOKEN", token)
	srv := startServeArgs(t, []string{"--data-dir", t.TempDir(), "serve", "--config", cfgPath, "--listen", "127.0.0.1:0"})
	addr := srv.addr
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	status, run := call(http.MethodPost, "/api/v1/actions/toggle-maintenance/runs", `{"inputs": {"service": "payments-api", "enabled": true, "reason": "db migration"}}`)
	if status != http.StatusAccepted || run["requester"] != "user:default/alice.nguyen" || run["id"] == "" {
		t.Fatalf("request: %d %v", status, run)
	}
	status, body := call(http.MethodPost, "/api/v1/actions/toggle-maintenance/runs", `{"inputs": {"service": "cart-service"}}`)
	if status != http.StatusForbidden {
		t.Errorf("alice toggling checkout's cart-service: %d %v; want 403", status, body)
	}
	status, body = call(http.MethodPost, "/api/v1/actions/toggle-maintenance/runs", `{"inputs": {"service": "paymnts-api"}}`)
	if status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["problems"]), "payments-api") {
		t.Errorf("bad input: %d %v", status, body)
	}
	if status, body = call(http.MethodGet, "/api/v1/runs/"+fmt.Sprint(run["id"]), ""); status != 200 || body["action"] != "toggle-maintenance" {
		t.Errorf("get run: %d %v", status, body)
	}
	status, body = call(http.MethodGet, "/api/v1/audit?run="+fmt.Sprint(run["id"]), "")
	if status != 200 || !strings.Contains(fmt.Sprint(body["records"]), "requested") {
		t.Errorf("audit: %d %v", status, body)
	}
	srv.stop(t)
}

// fakeDiscordREST is Discord's REST API for channel messages: it keeps
// what the bot posts and edits, and signals both.
type fakeDiscordREST struct {
	mu     sync.Mutex
	seq    int
	posted chan map[string]any
	edited chan string
	// kept are the posted messages per channel, oldest first.
	kept map[string][]map[string]any
}

func (f *fakeDiscordREST) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/messages"):
		var m map[string]any
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			r.Body = io.NopCloser(bytes.NewReader(body))
			if err := r.ParseMultipartForm(10 << 20); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			json.Unmarshal([]byte(r.FormValue("payload_json")), &m)
			if fh := r.MultipartForm.File["files[0]"]; len(fh) > 0 {
				m["_file"] = fh[0].Filename
			}
		} else {
			json.Unmarshal(body, &m)
		}
		f.mu.Lock()
		f.seq++
		id := fmt.Sprintf("14000000000000%05d", f.seq)
		m["id"] = id
		if f.kept == nil {
			f.kept = map[string][]map[string]any{}
		}
		ch := channelOf(r.URL.Path)
		f.kept[ch] = append(f.kept[ch], m)
		f.mu.Unlock()
		select {
		case f.posted <- m:
		default:
		}
		fmt.Fprintf(w, `{"id":%q,"type":0}`, id)
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/messages"):
		f.mu.Lock()
		msgs := f.kept[channelOf(r.URL.Path)]
		out := []map[string]any{}
		for i := len(msgs) - 1; i >= 0; i-- {
			out = append(out, msgs[i])
		}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/messages/"):
		f.edited <- string(body)
		fmt.Fprint(w, `{"id":"1","type":0}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"404: Not Found","code":0}`)
	}
}

func TestActionThroughDiscord(t *testing.T) {
	hook := &deployHook{secret: "hook-secret-0123456789", deliveries: map[string]int{}, arrived: make(chan string, 4)}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	dir := t.TempDir()
	def := fmt.Sprintf(`apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata: {name: restart-service, title: Restart a service}
spec:
  target: service
  inputs:
    - {name: service, type: entity, kind: component, required: true}
    - {name: reason, type: string, required: true, min: 5}
  runners: {owners: true}
  approval: {required: 1, approvers: {groups: [sre]}}
  executor: {type: webhook, url: %s/hooks/restart, secret: "${TEST_HOOK_SECRET}", timeout: 10s}
`, hookSrv.URL)
	os.WriteFile(filepath.Join(dir, "restart.yaml"), []byte(def), 0o644)
	rest := &fakeDiscordREST{posted: make(chan map[string]any, 8), edited: make(chan string, 16)}
	restSrv := httptest.NewServer(rest)
	defer restSrv.Close()
	pub, priv, _ := ed25519.GenerateKey(nil)
	t.Setenv("TEST_HOOK_SECRET", hook.secret)
	t.Setenv("SLACK_BOT_TOKEN", "")
	t.Setenv("DISCORD_BOT_TOKEN", "discord-test-token")
	t.Setenv("DISCORD_APPLICATION_ID", "1100000000000000001")
	t.Setenv("DISCORD_PUBLIC_KEY", hex.EncodeToString(pub))
	t.Setenv("DISCORD_API_URL", restSrv.URL)

	srv := startServeArgs(t, []string{"--data-dir", t.TempDir(), "serve", "--listen", "127.0.0.1:0", "--catalog", exampleCatalog, "--actions", dir})
	addr, errOut := srv.addr, srv.errOut
	const channel = "1180000000000000001" // the payments channel on Discord
	interact := func(user string, typ int, data map[string]any) map[string]any {
		t.Helper()
		in := map[string]any{"id": "1400000000000000001", "application_id": "1100000000000000001", "type": typ, "data": data,
			"guild_id": "1200000000000000001", "channel_id": channel, "token": "aW50ZXJhY3Rpb246MTIz.e2e", "version": 1,
			"member": map[string]any{"user": map[string]any{"id": user, "username": "u"}}}
		if typ == 3 {
			in["message"] = map[string]any{"id": "1300000000000000777", "channel_id": channel}
		}
		body, _ := json.Marshal(in)
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+discord.InteractionsPath, bytes.NewReader(body))
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(discord.HeaderTimestamp, ts)
		req.Header.Set(discord.HeaderSignature, discord.Sign(priv, ts, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("interaction: %d %v", resp.StatusCode, m)
		}
		return m
	}
	const alice, carmen = "1180000000000100137", "1180000000000100411"
	resp := interact(alice, 2, map[string]any{"id": "1300000000000000001", "name": discord.CommandName, "type": 1,
		"options": []map[string]any{{"name": "run", "type": 1, "options": []map[string]any{
			{"name": "action", "type": 3, "value": "restart-service"},
			{"name": "inputs", "type": 3, "value": `service=payments-api reason="OOM loop"`},
		}}}})
	if r := fmt.Sprint(resp); !strings.Contains(r, "Restart a service") || !strings.Contains(r, "awaiting approval") || !strings.Contains(r, "flags:64") {
		t.Fatalf("run answered %v", resp)
	}
	var approve string
	select {
	case m := <-rest.posted:
		approve = customID(m, "Approve")
	case <-time.After(30 * time.Second):
		t.Fatalf("no approval request was posted in the Discord channel; log:\n%s", errOut.String())
	}
	if approve == "" {
		t.Fatal("the approval request has no Approve button")
	}
	if r := interact(alice, 3, map[string]any{"custom_id": approve, "component_type": 2}); !strings.Contains(fmt.Sprint(r), "cannot approve") {
		t.Errorf("self-approval answered %v", r)
	}
	interact(carmen, 3, map[string]any{"custom_id": approve, "component_type": 2})
	select {
	case <-hook.arrived:
	case <-time.After(30 * time.Second):
		t.Fatalf("the approved run was not executed; log:\n%s", errOut.String())
	}
	for {
		select {
		case e := <-rest.edited:
			if strings.Contains(e, "succeeded") {
				srv.stop(t)
				return
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the Discord message was not edited to the outcome")
		}
	}
}

// customID finds the custom_id of the button labelled label in a Discord
// message.
func customID(m map[string]any, label string) string {
	rows, _ := m["components"].([]any)
	for _, row := range rows {
		comps, _ := row.(map[string]any)["components"].([]any)
		for _, c := range comps {
			b, _ := c.(map[string]any)
			if b["label"] == label {
				id, _ := b["custom_id"].(string)
				return id
			}
		}
	}
	return ""
}

// channelOf is the id after "channels/" in a Discord REST path.
func channelOf(path string) string {
	_, rest, _ := strings.Cut(path, "/channels/")
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// TestBackupOnlineAndRestore backs up a running serve over the API, after
// an action run, restores into a new directory, and finds the catalog, the
// run and an intact audit log there.
func TestBackupOnlineAndRestore(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "idpbot.yaml")
	cfg := fmt.Sprintf(`catalog: {paths: [%s]}
actions: {paths: [%s]}
api:
  tokens:
    - {name: ops, token: "${OPS_TOKEN}", as: alice.nguyen, scopes: [actions:run, audit:read, admin:backup]}
`, exampleCatalog, filepath.Join("..", "..", "deploy", "examples", "actions", "toggle-maintenance.yaml"))
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	const token = "ops-token-0123456789abcdef012345"
	t.Setenv("OPS_TOKEN", token)
	live := t.TempDir()
	srv := startServeArgs(t, []string{"--data-dir", live, "serve", "--config", cfgPath, "--listen", "127.0.0.1:0"})
	addr := srv.addr
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/actions/toggle-maintenance/runs", strings.NewReader(`{"inputs": {"service": "ledger"}}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("request a run: %v %v", resp, err)
	}
	resp.Body.Close()

	file := filepath.Join(t.TempDir(), "idpbot.backup")
	// Offline backup of a data directory serve holds: refused with the way out.
	if code, _, stderr := idpbot(t, "--data-dir", live, "backup", file); code != 1 || !strings.Contains(stderr, "--url") {
		t.Errorf("offline backup of a live directory: exit %d\n%s", code, stderr)
	}
	if code, stdout, stderr := idpbot(t, "backup", "--url", "http://"+addr, "--token", token, file); code != 0 || !strings.Contains(stdout, "backup written") {
		t.Fatalf("online backup: exit %d\n%s%s", code, stdout, stderr)
	}
	srv.stop(t)

	restored := t.TempDir()
	if code, stdout, stderr := idpbot(t, "--data-dir", restored, "restore", file); code != 0 || !strings.Contains(stdout, "restored 72 catalog entities") {
		t.Fatalf("restore: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := idpbot(t, "--data-dir", restored, "audit", "verify"); code != 0 || !strings.Contains(stdout, "audit log: ok") || strings.Contains(stdout, "ok, 0 records") {
		t.Errorf("audit after restore: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := idpbot(t, "--data-dir", restored, "catalog", "who-owns", "ledger"); code != 0 || !strings.Contains(stdout, "Payments Team") {
		t.Errorf("who-owns after restore: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := idpbot(t, "--data-dir", restored, "restore", file); code != 1 || !strings.Contains(stderr, "not empty") {
		t.Errorf("restore over a store: exit %d\n%s", code, stderr)
	}
}
