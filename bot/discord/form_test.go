package discord

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
)

const bilalID = "1180000000000100274"

// formHarness is a harness whose router runs the test actions; runs are
// announced in their channel through the front door (as cmd wires it).
type formHarness struct {
	*harness
	eng *actions.Engine
	// start is when the harness was made: the catalog (and its runs) is
	// shared by the package's tests.
	start time.Time
}

func newFormHarness(t *testing.T) *formHarness {
	t.Helper()
	start := time.Now()
	n := &bottest.Notifier{}
	eng := bottest.ActionEngine(t, store, n)
	h := newHarness(t, withActions(eng))
	n.SetPost(h.fd.PostMessage)
	return &formHarness{harness: h, eng: eng, start: start}
}

// runs lists alice's runs requested since the harness was made.
func (h *formHarness) runs(t *testing.T) []*actions.Run {
	t.Helper()
	all, err := h.eng.List(context.Background(), actions.RunFilter{Requester: "user:default/alice.nguyen"}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var runs []*actions.Run
	for _, r := range all {
		if !r.CreatedAt.Before(h.start) {
			runs = append(runs, r)
		}
	}
	return runs
}

// quiet waits for the front door and the engine to finish, then checks
// that they sent nothing more to Discord's REST API.
func (h *formHarness) quiet(t *testing.T) {
	t.Helper()
	if err := h.fd.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.eng.Wait()
	if n := len(h.api.got); n != 0 {
		t.Errorf("%d unexpected REST calls: %s", n, describe(h.api.requests()))
	}
}

// wireModal is a MODAL response (type 9), decoded loosely.
type wireModal struct {
	Type int `json:"type"`
	Data struct {
		CustomID   string `json:"custom_id"`
		Title      string `json:"title"`
		Components []struct {
			Type       int `json:"type"`
			Components []struct {
				Type        int    `json:"type"`
				CustomID    string `json:"custom_id"`
				Label       string `json:"label"`
				Style       int    `json:"style"`
				Placeholder string `json:"placeholder"`
				Value       string `json:"value"`
				Required    bool   `json:"required"`
				MinLength   int    `json:"min_length"`
				MaxLength   int    `json:"max_length"`
			} `json:"components"`
		} `json:"components"`
	} `json:"data"`
}

func decodeModal(t *testing.T, b []byte) wireModal {
	t.Helper()
	var m wireModal
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a modal: %v\n%s", err, b)
	}
	if m.Type != int(discordgo.InteractionResponseModal) {
		t.Fatalf("type %d, want 9 (MODAL): %s", m.Type, b)
	}
	return m
}

// modalSubmit is a MODAL_SUBMIT interaction of the modal customID, from
// userID, with the values of its text inputs.
func modalSubmit(t *testing.T, userID, customID string, values map[string]string) []byte {
	t.Helper()
	var rows []map[string]any
	for id, v := range values {
		rows = append(rows, map[string]any{"type": 1, "components": []map[string]any{{"type": 4, "custom_id": id, "value": v}}})
	}
	return interaction(t, 5, userID, map[string]any{"custom_id": customID, "components": rows}, nil)
}

func runCommand(t *testing.T, user, action, inputs string) []byte {
	t.Helper()
	opts := []opt{{name: "action", value: action}}
	if inputs != "" {
		opts = append(opts, opt{name: "inputs", value: inputs})
	}
	return commandInteraction(t, user, "run", false, opts...)
}

func TestModalForMissingInputs(t *testing.T) {
	h := newFormHarness(t)
	out := h.interact(runCommand(t, aliceID, "restart-service", "env=prod"))
	m := decodeModal(t, out)
	if !strings.HasPrefix(m.Data.CustomID, "f1.") || len(m.Data.CustomID) > 100 || m.Data.Title != "Restart a service" {
		t.Errorf("modal %+v", m.Data)
	}
	if len(m.Data.Components) != 3 {
		t.Fatalf("%d rows: %s", len(m.Data.Components), out)
	}
	for i, want := range []string{"service", "env", "reason"} {
		row := m.Data.Components[i]
		if row.Type != 1 || len(row.Components) != 1 || row.Components[0].Type != 4 || row.Components[0].CustomID != want || len(row.Components[0].Label) > 45 {
			t.Errorf("row %d: %+v", i, row)
		}
	}
	svc, env, reason := m.Data.Components[0].Components[0], m.Data.Components[1].Components[0], m.Data.Components[2].Components[0]
	if !svc.Required || svc.Value != "" || svc.Placeholder != "a component name or ref" || svc.Style != 1 {
		t.Errorf("service %+v", svc)
	}
	if env.Required || env.Value != "prod" || env.Placeholder != "staging | prod" {
		t.Errorf("env %+v", env)
	}
	if !reason.Required || reason.Style != 2 || reason.MinLength != 5 || reason.MaxLength != 200 {
		t.Errorf("reason %+v", reason)
	}
	golden(t, "modal-restart-service", out)
	h.quiet(t)
}

func TestModalRefusedWithUsage(t *testing.T) {
	h := newFormHarness(t)
	for name, inputs := range map[string]string{
		// Seven inputs missing: more than a modal's five.
		"seven missing": "",
		// Five missing and two typed: the typed ones would need rows too.
		"five missing, two typed": "name=orders-db size=8",
	} {
		t.Run(name, func(t *testing.T) {
			out := h.interact(runCommand(t, aliceID, "provision-database", inputs))
			r := decodeResponse(t, out)
			if r.Type != 4 || r.Data.Flags != 64 {
				t.Fatalf("got %s, want an ephemeral message", out)
			}
			if !strings.Contains(string(out), "usage: /idp run provision-database") || !strings.Contains(string(out), "ticket: required, not given") {
				t.Errorf("answer lacks the usage: %s", out)
			}
		})
	}
	h.quiet(t)
	if len(h.runs(t)) != 0 {
		t.Error("a run was requested")
	}
}

func TestModalSubmit(t *testing.T) {
	h := newFormHarness(t)
	state := decodeModal(t, h.interact(runCommand(t, aliceID, "restart-service", ""))).Data.CustomID

	t.Run("invalid values: an ephemeral message naming each input", func(t *testing.T) {
		out := h.interact(modalSubmit(t, aliceID, state, map[string]string{"service": "paymnets-api", "env": "qa", "reason": "oom"}))
		r := decodeResponse(t, out)
		if r.Type != 4 || r.Data.Flags != 64 {
			t.Fatalf("got %s", out)
		}
		// (Discord markdown escapes '-' and parentheses.)
		for _, want := range []string{`service: no component named \"paymnets\\-api\" \\(did you mean payments\\-api?\\)`, `env: \"qa\" is not one of staging, prod`, "reason: too short: 3 characters, at least 5", "usage: /idp run restart-service"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("answer lacks %s:\n%s", want, out)
			}
		}
	})
	refusals := map[string]struct {
		user, state, want string
	}{
		"tampered custom_id": {aliceID, state[:len(state)-2] + "zz", "This form is not valid"},
		"a button value":     {aliceID, h.router.ButtonValue(bot.Button{Command: "run restart-service"}), "This form is not valid"},
		"another user":       {bilalID, state, "opened by someone else"},
	}
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) {
			out := h.interact(modalSubmit(t, tc.user, tc.state, map[string]string{"service": "payments-api", "reason": "OOM loop since 10:40"}))
			if r := decodeResponse(t, out); r.Type != 4 || r.Data.Flags != 64 || !strings.Contains(string(out), tc.want) {
				t.Errorf("got %s, want %q", out, tc.want)
			}
		})
	}
	if n := len(h.runs(t)); n != 0 {
		t.Fatalf("%d runs after refused submissions", n)
	}

	t.Run("valid values: the run is requested", func(t *testing.T) {
		out := h.interact(modalSubmit(t, aliceID, state, map[string]string{"service": "payments-api", "env": "PROD", "reason": "OOM loop since 10:40"}))
		r := decodeResponse(t, out)
		if r.Type != 4 || r.Data.Flags != 64 || !strings.Contains(string(out), "asks to run **Restart a service**") {
			t.Fatalf("got %s", out)
		}
		post := h.api.next(t)
		if post.Method != http.MethodPost || post.Path != "/api/v10/channels/"+testChannel+"/messages" || post.Auth != "Bot "+testBotToken ||
			!strings.Contains(string(post.Body), "Restart a service") || !strings.Contains(string(post.Body), "Approve") {
			t.Errorf("approval request: %s %s %s", post.Method, post.Path, post.Body)
		}
		runs := h.runs(t)
		if len(runs) != 1 || runs[0].Inputs["env"] != "prod" || runs[0].Origin.Platform != "discord" || runs[0].Origin.Channel != testChannel {
			t.Fatalf("runs %+v", runs)
		}
	})
	h.quiet(t)
}

func TestModalOverGateway(t *testing.T) {
	h := newFormHarness(t)
	h.fd.gatewayInteraction(t.Context(), gatewayEvent(t, runCommand(t, aliceID, "restart-service", "")))
	cb := h.api.next(t)
	if !strings.HasSuffix(cb.Path, "/callback") {
		t.Fatalf("got %s %s, want the callback", cb.Method, cb.Path)
	}
	state := decodeModal(t, cb.Body).Data.CustomID
	h.fd.gatewayInteraction(t.Context(), gatewayEvent(t, modalSubmit(t, aliceID, state, map[string]string{"service": "payments-api", "reason": "OOM loop since 10:40"})))
	// The callback and the approval request go out concurrently.
	var sawCallback, sawPost bool
	for range 2 {
		r := h.api.next(t)
		switch {
		case strings.HasSuffix(r.Path, "/callback"):
			sawCallback = decodeResponse(t, r.Body).Type == 4 && strings.Contains(string(r.Body), "asks to run **Restart a service**")
		case strings.HasSuffix(r.Path, "/channels/"+testChannel+"/messages"):
			sawPost = true
		}
	}
	if !sawCallback || !sawPost {
		t.Errorf("callback %v, approval request %v", sawCallback, sawPost)
	}
	h.quiet(t)
}

func TestModalFromButton(t *testing.T) {
	h := newFormHarness(t)
	out := h.interact(clickInteraction(t, aliceID, h.router.ButtonValue(bot.Button{Command: "run restart-service"})))
	if m := decodeModal(t, out); len(m.Data.Components) != 3 {
		t.Errorf("modal %s", out)
	}
	h.quiet(t)
}
