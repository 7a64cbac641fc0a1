package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/slack-go/slack/slacktest"
)

// integrations check reports, per integration, what works and how to fix
// what does not, exits 1 on a failure, and never prints a secret.
func TestIntegrationsCheck(t *testing.T) {
	const (
		slackToken   = "xoxb-check-s3cr3t"
		discordToken = "discord-check-s3cr3t"
		pdToken      = "pd-check-s3cr3t"
	)
	api := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/auth.test", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.Header.Get("Authorization") != "Bearer "+slackToken {
				w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
				return
			}
			// files:write is missing.
			w.Header().Set("X-OAuth-Scopes", "commands,chat:write,users:read,users:read.email,channels:history,groups:history")
			w.Write([]byte(`{"ok":true,"url":"https://northwind.slack.com/","team":"Northwind","user":"idpbot","team_id":"T1","user_id":"U1","bot_id":"B1"}`))
		})
	})
	api.Start()
	defer api.Stop()
	dc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bot "+discordToken {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message": "401: Unauthorized", "code": 0}`))
			return
		}
		switch r.URL.Path {
		case "/users/@me":
			w.Write([]byte(`{"id":"1100","username":"idpbot","bot":true}`))
		case "/applications/1100/commands":
			w.Write([]byte(`[]`)) // not registered
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer dc.Close()
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Token token="+pdToken {
			t.Errorf("PagerDuty got Authorization %q", r.Header.Get("Authorization"))
		}
		switch r.URL.Path {
		case "/abilities":
			w.Write([]byte(`{"abilities":["teams"]}`))
		default: // PX7Q2LM of the example catalog does not exist here
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"message":"Not Found","code":2100}}`))
		}
	}))
	defer pd.Close()
	t.Setenv("SLACK_BOT_TOKEN", slackToken)
	t.Setenv("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5")
	t.Setenv("SLACK_API_URL", api.GetAPIURL())
	t.Setenv("DISCORD_BOT_TOKEN", discordToken)
	t.Setenv("DISCORD_APPLICATION_ID", "1100")
	t.Setenv("DISCORD_PUBLIC_KEY", strings.Repeat("ab", 32))
	t.Setenv("DISCORD_API_URL", dc.URL)
	t.Setenv("PAGERDUTY_TOKEN", pdToken)
	t.Setenv("PAGERDUTY_API_URL", pd.URL)

	data := t.TempDir()
	code, out, errOut := idpbot(t, "--data-dir", data, "integrations", "check", "--catalog", exampleCatalog)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (failures)\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"ok   slack      bot token: bot idpbot in workspace Northwind",
		"FAIL slack      scopes: missing: files:write (the weekly leaderboard chart)",
		"fix: add the scopes under OAuth & Permissions",
		"ok   discord    bot token: bot user idpbot",
		"FAIL discord    /idp command: not registered globally",
		"fix: run `idpbot discord register`",
		"ok   pagerduty  api key",
		"FAIL pagerduty  service PX7Q2LM (component:default/payments-api)",
		"fix: no such service",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{slackToken, discordToken, pdToken} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("a secret was printed:\n%s%s", out, errOut)
		}
	}

	code, out, _ = idpbot(t, "--data-dir", data, "--output", "json", "integrations", "check")
	var rs []struct {
		Integration, Check string
		OK                 bool
	}
	if err := json.Unmarshal([]byte(out), &rs); err != nil || code != 1 || len(rs) < 5 {
		t.Errorf("json: exit %d, %v\n%s", code, err, out)
	}
}

// integrations check runs beside a serve that holds the data directory.
func TestIntegrationsCheckBesideServe(t *testing.T) {
	data := t.TempDir()
	srv := startServe(t, data)
	defer srv.stop(t)
	code, out, errOut := idpbot(t, "--data-dir", data, "integrations", "check", "--catalog", exampleCatalog)
	if code != 0 || !strings.Contains(errOut, "is in use") || !strings.Contains(out, "no integration is configured") {
		t.Errorf("check beside serve: exit %d\n%s%s", code, out, errOut)
	}
}
