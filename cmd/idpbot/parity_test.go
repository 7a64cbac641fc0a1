package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
	"github.com/idpbot/idpbot/bot/discord"
	"github.com/idpbot/idpbot/bot/slack"
	"github.com/idpbot/idpbot/scoring"
)

// TestSlackAndDiscordGiveTheSameAnswers runs each command through the real
// Slack and Discord front doors (really signed requests over HTTP) and
// compares the platform-neutral replies the router gave: the same
// information on both platforms, whatever each renders.
func TestSlackAndDiscordGiveTheSameAnswers(t *testing.T) {
	store := bottest.ExampleCatalog(t)
	cards, problems, err := scoring.Load([]string{filepath.Join("..", "..", "deploy", "examples", "scorecards")})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	var mu sync.Mutex
	replies := map[bot.Platform][]*bot.Reply{}
	commands := map[bot.Platform][]string{}
	router := bottest.Router(t, store, bot.Config{
		Scorer: scoring.NewEvaluator(cards, store, nil),
		Observe: func(req *bot.Request, command string, rep *bot.Reply) {
			mu.Lock()
			defer mu.Unlock()
			replies[req.Platform] = append(replies[req.Platform], rep)
			commands[req.Platform] = append(commands[req.Platform], command)
		},
	})

	const secret = "parity-signing-secret"
	sfd, err := slack.New(slack.Config{BotToken: "xoxb-parity", SigningSecret: secret, APIURL: "http://127.0.0.1:1/"}, router, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	dfd, err := discord.New(discord.Config{BotToken: "parity-token", ApplicationID: "1100000000000000001",
		PublicKey: hex.EncodeToString(pub), APIURL: "http://127.0.0.1:1"}, router, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == discord.InteractionsPath {
			dfd.Handler().ServeHTTP(w, r)
			return
		}
		sfd.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()

	askSlack := func(text string) {
		t.Helper()
		body := url.Values{"command": {"/idp"}, "text": {text}, "user_id": {"U01ALICE"}, "user_name": {"alice"},
			"channel_id": {"C1"}, "team_id": {"T1"}, "response_url": {"http://127.0.0.1:1/unused"}}.Encode()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+slack.CommandsPath, bytes.NewReader([]byte(body)))
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", slack.Signature(secret, ts, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("slack %q: status %d", text, resp.StatusCode)
		}
	}
	askDiscord := func(sub string, opts map[string]any) {
		t.Helper()
		var options []map[string]any
		for name, v := range opts {
			typ := 3
			switch v.(type) {
			case bool:
				typ = 5
			case int:
				typ = 4
			}
			options = append(options, map[string]any{"name": name, "type": typ, "value": v})
		}
		in := map[string]any{
			"id": "1400000000000000001", "application_id": "1100000000000000001", "type": 2,
			"data": map[string]any{"id": "1300000000000000001", "name": discord.CommandName, "type": 1,
				"options": []map[string]any{{"name": sub, "type": 1, "options": options}}},
			"guild_id": "1200000000000000001", "channel_id": "1200000000000000002",
			"member": map[string]any{"user": map[string]any{"id": "1180000000000100137", "username": "alice"}},
			"token":  "aW50ZXJhY3Rpb246MTIz.parity", "version": 1,
		}
		body, _ := json.Marshal(in)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+discord.InteractionsPath, bytes.NewReader(body))
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(discord.HeaderTimestamp, ts)
		req.Header.Set(discord.HeaderSignature, discord.Sign(priv, ts, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("discord %s: status %d", sub, resp.StatusCode)
		}
	}

	tests := []struct {
		name  string
		slack string
		sub   string
		opts  map[string]any
	}{
		{"who-owns", "who-owns payments-api", "who-owns", map[string]any{"entity": "payments-api"}},
		{"who-owns public", "who-owns ledger --public", "who-owns", map[string]any{"entity": "ledger", "public": true}},
		{"oncall", "oncall payments-api", "oncall", map[string]any{"entity": "payments-api"}},
		{"search", "search ledger --limit=3", "search", map[string]any{"text": "ledger", "limit": 3}},
		{"search kind", `search "card tokens" --kind=api`, "search", map[string]any{"text": "card tokens", "kind": "api"}},
		{"show", "show system:payments", "show", map[string]any{"entity": "system:payments"}},
		{"ambiguous", "show payments", "show", map[string]any{"entity": "payments"}},
		{"unknown", "who-owns paymnts-api", "who-owns", map[string]any{"entity": "paymnts-api"}},
		{"team", "team payments", "team", map[string]any{"team": "payments"}},
		{"my team", "team", "team", nil},
		{"whoami", "whoami", "whoami", nil},
		{"score", "score payments-gateway", "score", map[string]any{"entity": "payments-gateway"}},
		{"leaderboard", "leaderboard production-readiness --team payments", "leaderboard", map[string]any{"scorecard": "production-readiness", "team": "payments"}},
		{"help", "help", "help", nil},
		{"help command", "help who-owns", "help", map[string]any{"command": "who-owns"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			askSlack(tt.slack)
			askDiscord(tt.sub, tt.opts)
			mu.Lock()
			defer mu.Unlock()
			if len(replies[bot.Slack]) != i+1 || len(replies[bot.Discord]) != i+1 {
				t.Fatalf("replies: slack %d, discord %d; want %d each", len(replies[bot.Slack]), len(replies[bot.Discord]), i+1)
			}
			s, d := replies[bot.Slack][i], replies[bot.Discord][i]
			if commands[bot.Slack][i] != commands[bot.Discord][i] {
				t.Errorf("commands differ: slack %q, discord %q", commands[bot.Slack][i], commands[bot.Discord][i])
			}
			if !reflect.DeepEqual(s, d) {
				sj, _ := json.MarshalIndent(s, "", " ")
				dj, _ := json.MarshalIndent(d, "", " ")
				t.Errorf("the replies differ\nslack:   %s\ndiscord: %s", sj, dj)
			}
		})
	}
}
