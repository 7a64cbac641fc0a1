package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// ackMessage decodes the JSON answer of an acknowledgement.
func ackMessage(t *testing.T, resp *http.Response, body []byte) slackapi.WebhookMessage {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	var m slackapi.WebhookMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("ack is not a message: %v: %s", err, body)
	}
	return m
}

// buttons lists the command buttons of a message: label → value.
func buttons(m slackapi.WebhookMessage) map[string]string {
	out := map[string]string{}
	if m.Blocks == nil {
		return out
	}
	for _, b := range m.Blocks.BlockSet {
		if a, ok := b.(*slackapi.ActionBlock); ok {
			for _, el := range a.Elements.ElementSet {
				if btn, ok := el.(*slackapi.ButtonBlockElement); ok && btn.Value != "" {
					out[btn.Text.Text] = btn.Value + " " + btn.ActionID
				}
			}
		}
	}
	return out
}

// header is the text of a message's first header block.
func header(m slackapi.WebhookMessage) string {
	if m.Blocks != nil {
		for _, b := range m.Blocks.BlockSet {
			if h, ok := b.(*slackapi.HeaderBlock); ok {
				return h.Text.Text
			}
		}
	}
	return ""
}

func TestSlashCommandEndToEnd(t *testing.T) {
	e := newEnv(t, envOptions{})
	t.Run("who-owns answers in the acknowledgement", func(t *testing.T) {
		m := e.answer(t, "who-owns payments-api", e.sink.url("/who-owns"))
		if m.ResponseType != "ephemeral" || header(m) != "Payments API" || !strings.Contains(m.Text, "owned by Payments Team") {
			t.Errorf("reply: %+v", m)
		}
		raw := string(mustJSON(t, m))
		for _, want := range []string{"<#C04PAYMENTS>", "<@U01ALICE>", "Runbook"} {
			if !strings.Contains(raw, want) {
				t.Errorf("reply lacks %s", want)
			}
		}
	})
	t.Run("public reply", func(t *testing.T) {
		if m := e.answer(t, "who-owns ledger --public", ""); m.ResponseType != "in_channel" {
			t.Errorf("response_type %q", m.ResponseType)
		}
	})
	t.Run("search", func(t *testing.T) {
		m := e.answer(t, "search ledger", e.sink.url("/search"))
		if !strings.Contains(m.Text, "matches for \"ledger\"") || len(buttons(m)) == 0 {
			t.Errorf("reply: %+v", m)
		}
	})
	t.Run("team of the caller, found by the slack.com/user-id annotation", func(t *testing.T) {
		m := e.answer(t, "team", "")
		if header(m) != "Payments Team" {
			t.Errorf("header %q, text %q", header(m), m.Text)
		}
	})
	t.Run("ambiguous name, then a click on a candidate", func(t *testing.T) {
		m := e.answer(t, "show payments", e.sink.url("/show"))
		bs := buttons(m)
		v, ok := bs["group:default/payments"]
		if !ok {
			t.Fatalf("no button for group:default/payments in %v", bs)
		}
		value, actionID, _ := strings.Cut(v, " ")
		resp, body := e.click(t, actionID, value, e.sink.url("/click-1"))
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Fatalf("click ack: %d %q", resp.StatusCode, body)
		}
		p := e.sink.next(t)
		if p.path != "/click-1" || header(p.msg) != "Payments Team" || p.msg.ResponseType != "ephemeral" {
			t.Errorf("click reply at %s: %q %+v", p.path, header(p.msg), p.msg)
		}
		// The answer replaces the which-one picker; nothing is deleted.
		if p.raw["replace_original"] != true || p.raw["delete_original"] != false {
			t.Errorf("replace_original %v (want true), delete_original %v (want explicitly false)", p.raw["replace_original"], p.raw["delete_original"])
		}
	})
	t.Run("unknown command offers did-you-mean buttons", func(t *testing.T) {
		m := e.answer(t, "who-own payments-api", "")
		if !strings.Contains(m.Text, `There is no command "who-own"`) {
			t.Errorf("text %q", m.Text)
		}
		v, ok := buttons(m)["who-owns"]
		if !ok {
			t.Fatalf("no did-you-mean button: %v", buttons(m))
		}
		value, actionID, _ := strings.Cut(v, " ")
		if resp, _ := e.click(t, actionID, value, e.sink.url("/click-2")); resp.StatusCode != http.StatusOK {
			t.Fatalf("click status %d", resp.StatusCode)
		}
		if p := e.sink.next(t); header(p.msg) != "/idp who-owns" {
			t.Errorf("help reply %q", header(p.msg))
		}
	})
	t.Run("forged button value runs nothing", func(t *testing.T) {
		before := e.cat.calls.Load()
		if resp, _ := e.click(t, "idp-0", "b1.c2hvdyBwYXltZW50cw.AAAAAAAAAAAAAAAAAAAAAA", e.sink.url("/forged")); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		p := e.sink.next(t)
		if !strings.Contains(p.msg.Text, "not valid any more") || e.cat.calls.Load() != before {
			t.Errorf("forged click: %q, catalog calls %d → %d", p.msg.Text, before, e.cat.calls.Load())
		}
	})
	t.Run("link button clicks and other payloads are only acknowledged", func(t *testing.T) {
		before := e.commandsTotal(t)
		if resp, _ := e.click(t, "link-3", "", e.sink.url("/link")); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		form := clickForm("idp-0", "x", "")
		form.Set("payload", `{"type":"view_closed","user":{"id":"U01ALICE"}}`)
		if resp, _ := e.do(t, signed(t, e.srv.URL+InteractivityPath, testNow, form.Encode())); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if err := e.fd.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := e.commandsTotal(t); n != before || len(e.sink.posts) != 0 {
			t.Errorf("commands %v → %v, posts %d", before, n, len(e.sink.posts))
		}
	})
}

func TestSlowCommandIsDeferred(t *testing.T) {
	gate := make(chan struct{})
	e := newEnv(t, envOptions{
		cat: func(c *testCatalog) { c.gate = gate },
		cfg: func(c *Config) { c.AckBudget = 20 * time.Millisecond },
	})
	resp, body := e.slash(t, "who-owns payments-api", e.sink.url("/slow"))
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("ack: %d %q, want an empty 200", resp.StatusCode, body)
	}
	// Shutdown waits for the deferred reply: it returns only after the
	// reply reached response_url.
	shut := make(chan error, 1)
	go func() { shut <- e.fd.Shutdown(context.Background()) }()
	close(gate)
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-e.sink.posts:
		if p.path != "/slow" || header(p.msg) != "Payments API" || p.msg.ResponseType != "ephemeral" || p.msg.ReplaceOriginal {
			t.Errorf("deferred reply: %+v", p.msg)
		}
	default:
		t.Fatal("Shutdown returned before the deferred reply was posted")
	}
	// After Shutdown, commands are turned away politely.
	m := e.answer(t, "who-owns payments-api", e.sink.url("/late"))
	if !strings.Contains(m.Text, "restarting") {
		t.Errorf("after shutdown: %q", m.Text)
	}
}

func TestShutdownGivesUp(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	e := newEnv(t, envOptions{
		cat: func(c *testCatalog) { c.gate = gate },
		cfg: func(c *Config) { c.AckBudget = time.Millisecond },
	})
	if resp, _ := e.slash(t, "who-owns payments-api", e.sink.url("/never")); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.fd.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v, want context.Canceled", err)
	}
}

func TestResponseURLRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.sink.reject.Store(1)
	if err := e.fd.respond(t.Context(), e.sink.url("/429"), Message(shuttingDown, nil)); err != nil {
		t.Fatal(err)
	}
	if p := e.sink.next(t); p.path != "/429" {
		t.Errorf("posted to %s", p.path)
	}
}

func TestWebAPI(t *testing.T) {
	t.Parallel()
	var limited atomic.Int32
	limited.Store(1)
	e := newEnv(t, envOptions{api: func(c slacktest.Customize) {
		// users.info is rate limited once: the client waits Retry-After
		// and asks again.
		c.Handle("/users.info", func(w http.ResponseWriter, r *http.Request) {
			if limited.Add(-1) >= 0 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, `{"ok":false,"error":"ratelimited"}`, http.StatusTooManyRequests)
				return
			}
			_, _ = io.WriteString(w, `{"ok":true,"user":{"id":"W012A3CDE","name":"spengler","profile":{"email":"spengler@ghostbusters.example.com"}}}`)
		})
	}})
	email, err := e.fd.Email(t.Context(), "W012A3CDE")
	if err != nil || email != "spengler@ghostbusters.example.com" {
		t.Errorf("Email = %q, %v", email, err)
	}
	ts, err := e.fd.PostMessage(t.Context(), "C04PAYMENTS", shuttingDown)
	if err != nil || ts == "" {
		t.Fatalf("PostMessage = %q, %v", ts, err)
	}
	if err := e.fd.UpdateMessage(t.Context(), "C04PAYMENTS", ts, shuttingDown); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-e.updates:
		if f.Get("channel") != "C04PAYMENTS" || f.Get("ts") != ts || !strings.Contains(f.Get("text"), "restarting") {
			t.Errorf("chat.update got %v", f)
		}
	case <-deadline(t):
		t.Fatal("no chat.update")
	}
}
