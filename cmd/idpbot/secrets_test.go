package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/idpbot/idpbot/bot/discord"
	"github.com/idpbot/idpbot/bot/slack"
)

// A whole run of serve with every secret configured, at debug level, taking
// good, forged and failing requests on every front door, and a paging
// provider that echoes the credentials it was sent in its error bodies:
// no secret appears in anything the process writes.
func TestNoSecretInAnyOutput(t *testing.T) {
	secrets := map[string]string{
		"SLACK_BOT_TOKEN":      "xoxb-whole-run-5ecret-bot-token",
		"SLACK_SIGNING_SECRET": "whole-run-5ecret-signing-0123456789",
		"DISCORD_BOT_TOKEN":    "whole-run-5ecret-discord-token",
		"PAGERDUTY_TOKEN":      "whole-run-5ecret-pd-token",
		"IDPBOT_API_TOKEN":     "whole-run-5ecret-api-token-0123456789",
		"IDPBOT_BUTTON_KEY":    "whole-run-5ecret-button-key-0123456789abcdef",
	}
	slackAPI := slacktest.NewTestServer()
	slackAPI.Start()
	defer slackAPI.Stop()
	// PagerDuty refuses every call and, as some servers do, echoes what it
	// was sent.
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		msg, _ := json.Marshal(map[string]any{"error": map[string]any{"message": "invalid request with " + r.Header.Get("Authorization"), "code": 2001}})
		w.Write(msg)
	}))
	defer pd.Close()
	discordAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"401: Unauthorized (` + r.Header.Get("Authorization") + `)","code":0}`))
	}))
	defer discordAPI.Close()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("SLACK_API_URL", slackAPI.GetAPIURL())
	t.Setenv("SLACK_APP_TOKEN", "")
	t.Setenv("PAGERDUTY_API_URL", pd.URL)
	t.Setenv("DISCORD_APPLICATION_ID", "1100000000000000001")
	t.Setenv("DISCORD_PUBLIC_KEY", hex.EncodeToString(pub))
	t.Setenv("DISCORD_API_URL", discordAPI.URL)

	srv := startServeArgs(t, []string{"--data-dir", t.TempDir(), "--log-level", "debug", "serve", "--listen", "127.0.0.1:0", "--catalog", exampleCatalog})
	base := "http://" + srv.addr
	var replies bytes.Buffer
	do := func(req *http.Request) int {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(&replies, resp.Body) // what the caller sees is scanned too
		resp.Body.Close()
		return resp.StatusCode
	}
	slackCmd := func(text, secret string) int {
		body := url.Values{"command": {"/idp"}, "text": {text}, "user_id": {"U01ALICE"}, "channel_id": {"C1"}, "team_id": {"T1"},
			"response_url": {slackAPI.GetAPIURL() + "response"}}.Encode()
		req, _ := http.NewRequest(http.MethodPost, base+slack.CommandsPath, strings.NewReader(body))
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", slack.Signature(secret, ts, []byte(body)))
		return do(req)
	}
	discordCmd := func(sub, entity string, key ed25519.PrivateKey) int {
		in := map[string]any{
			"id": "1400000000000000001", "application_id": "1100000000000000001", "type": 2,
			"data": map[string]any{"id": "1300000000000000001", "name": discord.CommandName, "type": 1,
				"options": []map[string]any{{"name": sub, "type": 1, "options": []map[string]any{{"name": "entity", "type": 3, "value": entity}}}}},
			"guild_id": "1200000000000000001", "channel_id": "1200000000000000002",
			"member": map[string]any{"user": map[string]any{"id": "1180000000000100137", "username": "alice"}},
			"token":  "aW50ZXJhY3Rpb246MTIz.whole-run", "version": 1,
		}
		body, _ := json.Marshal(in)
		req, _ := http.NewRequest(http.MethodPost, base+discord.InteractionsPath, bytes.NewReader(body))
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(discord.HeaderTimestamp, ts)
		req.Header.Set(discord.HeaderSignature, discord.Sign(key, ts, body))
		return do(req)
	}
	api := func(path, token string) int {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return do(req)
	}

	if code := slackCmd("who-owns payments-api", secrets["SLACK_SIGNING_SECRET"]); code != 200 {
		t.Errorf("slack who-owns: %d", code)
	}
	if code := slackCmd("oncall payments-api", secrets["SLACK_SIGNING_SECRET"]); code != 200 {
		t.Errorf("slack oncall (PagerDuty failing): %d", code)
	}
	if code := slackCmd("who-owns ledger", "forged-"+secrets["SLACK_SIGNING_SECRET"]); code != http.StatusUnauthorized {
		t.Errorf("forged slack request: %d", code)
	}
	if code := discordCmd("oncall", "payments-api", priv); code != 200 {
		t.Errorf("discord oncall: %d", code)
	}
	_, otherKey, _ := ed25519.GenerateKey(nil)
	if code := discordCmd("who-owns", "ledger", otherKey); code != http.StatusUnauthorized {
		t.Errorf("forged discord interaction: %d", code)
	}
	if code := api("/api/v1/entities/by-name/component/default/ledger", secrets["IDPBOT_API_TOKEN"]); code != 200 {
		t.Errorf("api with the token: %d", code)
	}
	if code := api("/api/v1/entities/by-name/component/default/ledger", "wrong-"+secrets["IDPBOT_API_TOKEN"]); code != http.StatusUnauthorized {
		t.Errorf("api with a wrong token: %d", code)
	}
	if code := api("/api/v1/entities?access_token="+secrets["IDPBOT_API_TOKEN"], ""); code != http.StatusUnauthorized {
		t.Errorf("api with the token in the query: %d", code)
	}
	// The calls to PagerDuty were counted, by status code.
	if resp, err := http.Get(base + "/metrics"); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `idpbot_platform_requests_total{code="400",platform="pagerduty"}`) {
			t.Errorf("/metrics does not count the PagerDuty calls:\n%s", body)
		}
	}
	if code := srv.stop(t); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	all := srv.out.String() + srv.errOut.String() + replies.String()
	for _, want := range []string{"pagerduty: get service PX7Q2LM: request refused", "slack signature: does not match", "discord signature: does not verify"} {
		if !strings.Contains(all, want) {
			t.Fatalf("the run never logged %q: the test no longer exercises that path\n%s", want, all)
		}
	}
	for name, v := range secrets {
		if strings.Contains(all, v) {
			i := strings.Index(all, v)
			lo := max(0, strings.LastIndex(all[:i], "\n"))
			t.Errorf("%s appears in the output: %s", name, all[lo:min(len(all), i+len(v)+200)])
		}
	}
}
