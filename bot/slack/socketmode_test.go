package slack

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/idpbot/idpbot/bot"
)

// fakeSocket is Slack's side of a Socket Mode connection: slacktest
// answers apps.connections.open with its /ws URL, and this serves /ws.
type fakeSocket struct {
	frames chan string // envelopes to push to the bot
	acks   chan ack    // what the bot sent back
}

type ack struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

func newFakeSocket() *fakeSocket {
	return &fakeSocket{frames: make(chan string, 8), acks: make(chan ack, 8)}
}

func (s *fakeSocket) bind(c slacktest.Customize) {
	c.Handle("/ws", slacktest.Websocket(func(conn *websocket.Conn) {
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			for {
				var a ack
				if err := conn.ReadJSON(&a); err != nil {
					return
				}
				s.acks <- a
			}
		}()
		if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","num_connections":1,"connection_info":{"app_id":"A0IDPBOT"}}`)); err != nil {
			return
		}
		for {
			select {
			case f := <-s.frames:
				if err := conn.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
					return
				}
			case <-closed:
				return
			}
		}
	}))
}

func (s *fakeSocket) send(t *testing.T, envelopeID, typ string, payload any) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"envelope_id": envelopeID, "type": typ, "payload": payload, "accepts_response_payload": typ == "slash_commands"})
	if err != nil {
		t.Fatal(err)
	}
	s.frames <- string(b)
}

func (s *fakeSocket) ack(t *testing.T) ack {
	t.Helper()
	select {
	case a := <-s.acks:
		return a
	case <-deadline(t):
		t.Fatal("no acknowledgement")
	}
	return ack{}
}

// runSocket starts RunSocketMode and stops it when the test ends.
func runSocket(t *testing.T, e *env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.fd.RunSocketMode(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunSocketMode = %v", err)
		}
	})
}

func slashPayload(text, responseURL string) map[string]string {
	p := map[string]string{}
	for k, v := range slashForm(text, responseURL) {
		p[k] = v[0]
	}
	return p
}

func TestSocketMode(t *testing.T) {
	sock := newFakeSocket()
	e := newEnv(t, envOptions{api: sock.bind})
	runSocket(t, e)

	t.Run("slash command answered in the ack", func(t *testing.T) {
		sock.send(t, "env-1", "slash_commands", slashPayload("who-owns payments-api", e.sink.url("/sm-who-owns")))
		a := sock.ack(t)
		var m slackapi.WebhookMessage
		if err := json.Unmarshal(a.Payload, &m); err != nil {
			t.Fatalf("ack payload: %v: %s", err, a.Payload)
		}
		if a.EnvelopeID != "env-1" || header(m) != "Payments API" || m.ResponseType != "ephemeral" {
			t.Errorf("ack %s: %+v", a.EnvelopeID, m)
		}
	})
	t.Run("click acknowledged at once, answered at response_url", func(t *testing.T) {
		value := e.fd.router.ButtonValue(bot.Button{Command: "show component:default/payments-api"})
		var payload map[string]any
		if err := json.Unmarshal([]byte(clickForm("idp-2", value, e.sink.url("/sm-click")).Get("payload")), &payload); err != nil {
			t.Fatal(err)
		}
		sock.send(t, "env-2", "interactive", payload)
		if a := sock.ack(t); a.EnvelopeID != "env-2" || len(a.Payload) != 0 {
			t.Errorf("ack %s with payload %s", a.EnvelopeID, a.Payload)
		}
		if p := e.sink.next(t); p.path != "/sm-click" || header(p.msg) != "Payments API" {
			t.Errorf("click reply at %s: %q", p.path, header(p.msg))
		}
	})
	t.Run("events and unreadable envelopes are acknowledged", func(t *testing.T) {
		sock.send(t, "env-3", "events_api", map[string]any{"token": "x", "team_id": "T0NORTHWIND", "type": "event_callback",
			"event": map[string]any{"type": "app_mention", "user": "U01ALICE", "text": "hi", "ts": "1.2", "channel": "C04PAYMENTS", "event_ts": "1.2"}})
		if a := sock.ack(t); a.EnvelopeID != "env-3" {
			t.Errorf("ack %s", a.EnvelopeID)
		}
		sock.send(t, "env-4", "slash_commands", "not an object")
		if a := sock.ack(t); a.EnvelopeID != "env-4" {
			t.Errorf("ack %s", a.EnvelopeID)
		}
	})
}

// TestSocketModeLargeReply: a reply too big for a Socket Mode ack (Slack
// drops acks of 20 KB or more; lowered here) is acknowledged empty and
// posted to response_url.
func TestSocketModeLargeReply(t *testing.T) {
	sock := newFakeSocket()
	e := newEnv(t, envOptions{api: sock.bind})
	e.fd.maxAckBytes = 200
	runSocket(t, e)
	sock.send(t, "env-big", "slash_commands", slashPayload("search ledger", e.sink.url("/sm-big")))
	if a := sock.ack(t); a.EnvelopeID != "env-big" || len(a.Payload) != 0 {
		t.Errorf("ack %s with payload %s", a.EnvelopeID, a.Payload)
	}
	if p := e.sink.next(t); p.path != "/sm-big" || len(buttons(p.msg)) == 0 {
		t.Errorf("reply at %s: %+v", p.path, p.msg)
	}
}

func TestSocketModeSlow(t *testing.T) {
	gate := make(chan struct{})
	sock := newFakeSocket()
	e := newEnv(t, envOptions{api: sock.bind, cat: func(c *testCatalog) { c.gate = gate }, cfg: func(c *Config) { c.AckBudget = 10 * time.Millisecond }})
	runSocket(t, e)
	sock.send(t, "env-slow", "slash_commands", slashPayload("who-owns payments-api", e.sink.url("/sm-slow")))
	if a := sock.ack(t); a.EnvelopeID != "env-slow" || len(a.Payload) != 0 {
		t.Errorf("ack %s with payload %s", a.EnvelopeID, a.Payload)
	}
	close(gate)
	if p := e.sink.next(t); p.path != "/sm-slow" || header(p.msg) != "Payments API" {
		t.Errorf("reply at %s: %q", p.path, header(p.msg))
	}
}

func TestSocketModeNeedsAppToken(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) { c.AppToken = "" }})
	if err := e.fd.RunSocketMode(t.Context()); err == nil {
		t.Fatal("RunSocketMode without app token succeeded")
	}
}
