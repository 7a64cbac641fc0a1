package discord

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
)

const warmCaches = "warm-the-caches-of-every-service-in-every-region-after-a-deploy"

// runButtons are the Run buttons of the answer to /idp actions: label →
// custom_id.
func (h *formHarness) runButtons(t *testing.T) map[string]string {
	t.Helper()
	r := decodeResponse(t, h.interact(commandInteraction(t, aliceID, "actions", false)))
	out := map[string]string{}
	if r.Data == nil {
		t.Fatal("no message")
	}
	for _, row := range r.Data.Components {
		for _, c := range row.Components {
			if strings.HasPrefix(c.Label, "Run ") {
				out[c.Label] = c.CustomID
			}
		}
	}
	return out
}

// TestModalFromRunButton: the Run button of /idp actions opens the form,
// prefilled with the defaults, even for an action that needs no input and
// no approval; where no modal can show the whole form, the answer says how
// to type the command. One click never runs anything, and every action,
// whatever the length of its id, has its button.
func TestModalFromRunButton(t *testing.T) {
	h := newFormHarness(t)
	ids := h.runButtons(t)
	for _, a := range []string{"restart-service", "provision-database", "flush-cache", "deploy-tag", warmCaches} {
		if id, ok := ids["Run "+a]; !ok || len(id) > maxCustomID {
			t.Errorf("Run %s: custom_id %q", a, id)
		}
	}

	m := decodeModal(t, h.interact(clickInteraction(t, aliceID, ids["Run flush-cache"])))
	if len(m.Data.Components) != 1 {
		t.Fatalf("modal %+v", m.Data)
	}
	if scope := m.Data.Components[0].Components[0]; scope.CustomID != "scope" || scope.Value != "all" || scope.Required {
		t.Errorf("scope %+v", scope)
	}
	for name, tc := range map[string]struct{ label, want string }{
		// A Discord modal needs at least one input.
		"no inputs": {"Run " + warmCaches, "run " + warmCaches},
		// Seven inputs: more than a modal's five, and none may be left
		// out unseen.
		"seven inputs": {"Run provision-database", "run provision-database name="},
	} {
		t.Run(name, func(t *testing.T) {
			out := h.interact(clickInteraction(t, aliceID, ids[tc.label]))
			r := decodeResponse(t, out)
			if r.Type != 4 || r.Data.Flags != 64 || !strings.Contains(string(out), "To run") || !strings.Contains(string(out), tc.want) {
				t.Errorf("got %s, want how to type %q", out, tc.want)
			}
		})
	}
	h.quiet(t)
	if n := len(h.runs(t)); n != 0 {
		t.Errorf("%d runs after clicks on Run buttons", n)
	}
}

// TestModalTypedSecretRequired: a secret typed with the command is not
// filled in, and its input is required, so that the form does not run
// without it.
func TestModalTypedSecretRequired(t *testing.T) {
	h := newFormHarness(t)
	out := h.interact(runCommand(t, aliceID, "deploy-tag", "token=s3cr3t"))
	m := decodeModal(t, out)
	var found bool
	for _, row := range m.Data.Components {
		in := row.Components[0]
		if in.CustomID == "token" {
			found = true
			if !in.Required || in.Value != "" || !strings.Contains(in.Placeholder, "type it again") {
				t.Errorf("token %+v", in)
			}
		}
	}
	if !found || strings.Contains(string(out), "s3cr3t") {
		t.Errorf("modal %s", out)
	}
	h.quiet(t)
}

// TestModalSubmitRunStored: once the run is stored, a later failure (its
// message) is not answered as a failure; the same submission delivered
// again requests nothing.
func TestModalSubmitRunStored(t *testing.T) {
	start := time.Now()
	n := &bottest.Notifier{}
	eng := bottest.ActionEngine(t, store, n)
	h := &formHarness{harness: newHarness(t, withActions(bottest.BrokenMessages{Engine: eng})), eng: eng, start: start}
	n.SetPost(h.fd.PostMessage)

	state := decodeModal(t, h.interact(runCommand(t, aliceID, "restart-service", ""))).Data.CustomID
	submit := modalSubmit(t, aliceID, state, map[string]string{"service": "payments-api", "reason": "OOM loop since 10:40"})
	out := h.interact(submit)
	if r := decodeResponse(t, out); r.Type != 4 || r.Data.Flags != 64 || strings.Contains(string(out), "went wrong") || !strings.Contains(string(out), "Requested **Restart a service**") {
		t.Fatalf("got %s", out)
	}
	h.api.next(t) // the approval request
	again := h.interact(submit)
	if r := decodeResponse(t, again); r.Type != 4 || !strings.Contains(string(again), "sent already") {
		t.Errorf("again: %s", again)
	}
	h.quiet(t)
	if n := len(h.runs(t)); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
}

// TestModalLimits: a value longer than a text input takes is never cut
// (no modal: the front door answers with the usage), and a form that must
// show every field does not fit a modal of five. (A typed command is at
// most bot.MaxCommandText bytes, so a typed value cannot be too long on
// Discord; a default can.)
func TestModalLimits(t *testing.T) {
	text := func(name, value string) bot.FormField {
		return bot.FormField{Name: name, Label: name, Kind: bot.FieldText, Value: value}
	}
	six := []bot.FormField{text("a", "1"), text("b", "2"), text("c", "3"), text("d", "4"), text("e", "5"), text("f", "6")}
	for name, tc := range map[string]struct {
		form *bot.Form
		ok   bool
	}{
		"4,000 characters":        {&bot.Form{State: "f1.x", Fields: []bot.FormField{text("notes", strings.Repeat("é", maxInputValue))}}, true},
		"4,001 characters":        {&bot.Form{State: "f1.x", Fields: []bot.FormField{text("notes", strings.Repeat("é", maxInputValue+1))}}, false},
		"six optional fields":     {&bot.Form{State: "f1.x", Fields: six}, true},
		"six fields, all to show": {&bot.Form{State: "f1.x", Fields: six, AllFields: true}, false},
	} {
		t.Run(name, func(t *testing.T) {
			resp, ok := modal(tc.form)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if ok && len(tc.form.Fields) == 1 {
				in := resp.Data.(*modalData).Components[0].(discordgo.ActionsRow).Components[0].(discordgo.TextInput)
				if got := utf8.RuneCountInString(in.Value); got != maxInputValue {
					t.Errorf("value of %d characters", got)
				}
			}
		})
	}
}
