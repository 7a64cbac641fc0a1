package discord

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestPing(t *testing.T) {
	h := newHarness(t)
	out := h.interact([]byte(`{"id":"1","application_id":"` + testAppID + `","type":1,"token":"x","version":1}`))
	if got := strings.TrimSpace(string(out)); got != `{"type":1}` {
		t.Fatalf("PING answered %s, want {\"type\":1}", got)
	}
	if h.runs() != 0 {
		t.Fatal("PING ran a command")
	}
}

// TestCommands runs each command through the HTTP endpoint and pins the
// initial response (type 4) in a golden file.
func TestCommands(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, sub string
		user      string
		opts      []opt
		public    bool
		want      string // a piece of the rendered JSON
	}{
		{name: "who-owns", sub: "who-owns", opts: []opt{{name: "entity", value: "payments-api"}}, want: "Owner"},
		{name: "who-owns-public", sub: "who-owns", opts: []opt{{name: "entity", value: "payments-api"}, {name: "public", value: true}}, public: true, want: "Owner"},
		{name: "oncall", sub: "oncall", opts: []opt{{name: "entity", value: "payments-api"}}, want: "payments"},
		{name: "search", sub: "search", opts: []opt{{name: "text", value: "ledger"}, {name: "limit", value: 3}}, want: "ledger"},
		{name: "search-kind", sub: "search", opts: []opt{{name: "text", value: "payments"}, {name: "kind", value: "api"}}, want: "api"},
		{name: "show", sub: "show", opts: []opt{{name: "entity", value: "payments-api"}}, want: "payments"},
		{name: "team", sub: "team", opts: []opt{{name: "team", value: "payments"}}, want: "payments"},
		{name: "team-mine", sub: "team", user: aliceID, want: "Payments Team"},
		{name: "whoami", sub: "whoami", user: aliceID, want: "alice"},
		{name: "whoami-unlinked", sub: "whoami", user: strangerID, want: "discord.com/user-id"},
		{name: "help", sub: "help", want: "who-owns"},
		{name: "help-command", sub: "help", opts: []opt{{name: "command", value: "who-owns"}}, want: "who-owns"},
		{name: "not-found", sub: "who-owns", opts: []opt{{name: "entity", value: "paymnets-api"}}, want: "payments"},
		{name: "flag-injection", sub: "who-owns", opts: []opt{{name: "entity", value: "--public"}}, want: "--public"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user := tc.user
			if user == "" {
				user = strangerID
			}
			out := h.interact(commandInteraction(t, user, tc.sub, false, tc.opts...))
			r := decodeResponse(t, out)
			if r.Type != int(discordgo.InteractionResponseChannelMessageWithSource) {
				t.Fatalf("type %d, want 4", r.Type)
			}
			wantFlags := 64
			if tc.public {
				wantFlags = 0
			}
			if r.Data == nil || r.Data.Flags != wantFlags {
				t.Fatalf("flags = %+v, want %d", r.Data, wantFlags)
			}
			if r.Data.AllowedMentions == nil || len(r.Data.AllowedMentions.Parse) != 1 || r.Data.AllowedMentions.Parse[0] != "users" {
				t.Errorf("allowed_mentions = %+v, want parse [users]", r.Data.AllowedMentions)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("answer lacks %q:\n%s", tc.want, out)
			}
			golden(t, "command-"+tc.name, out)
		})
	}
	if len(h.api.requests()) != 0 {
		t.Errorf("fast commands called the REST API: %+v", h.api.requests())
	}
}

func TestAutocomplete(t *testing.T) {
	h := newHarness(t)
	t.Run("entity", func(t *testing.T) {
		out := h.interact(commandInteraction(t, strangerID, "who-owns", true, opt{name: "entity", value: "paym", focused: true}))
		r := decodeResponse(t, out)
		if r.Type != int(discordgo.InteractionApplicationCommandAutocompleteResult) {
			t.Fatalf("type %d, want 8", r.Type)
		}
		if len(r.Data.Choices) == 0 || len(r.Data.Choices) > 25 {
			t.Fatalf("%d choices", len(r.Data.Choices))
		}
		for _, c := range r.Data.Choices {
			if !strings.Contains(c.Value, "paym") || c.Name != c.Value || len(c.Name) > 100 {
				t.Errorf("choice %+v", c)
			}
		}
		golden(t, "autocomplete", out)
	})
	t.Run("command", func(t *testing.T) {
		out := h.interact(commandInteraction(t, strangerID, "help", true, opt{name: "command", value: "wh", focused: true}))
		r := decodeResponse(t, out)
		var names []string
		for _, c := range r.Data.Choices {
			names = append(names, c.Name)
		}
		if got := strings.Join(names, ","); got != "who-owns,whoami" {
			t.Fatalf("choices %s, want who-owns,whoami", got)
		}
	})
	t.Run("not completable", func(t *testing.T) {
		out := h.interact(commandInteraction(t, strangerID, "search", true, opt{name: "text", value: "pay", focused: true}))
		if r := decodeResponse(t, out); r.Type != 8 || len(r.Data.Choices) != 0 {
			t.Fatalf("got %s", out)
		}
	})
	if h.runs() != 0 {
		t.Errorf("autocomplete ran %v commands", h.runs())
	}
}

// buttonOf returns the custom_id of the button labelled label.
func buttonOf(t *testing.T, r wireResponse, label string) string {
	t.Helper()
	for _, row := range r.Data.Components {
		for _, b := range row.Components {
			if b.Label == label {
				return b.CustomID
			}
		}
	}
	t.Fatalf("no button %q in %+v", label, r.Data.Components)
	return ""
}

func TestButtonClick(t *testing.T) {
	h := newHarness(t)
	// A card's buttons run a command as whoever clicks: a new ephemeral
	// message.
	out := h.interact(commandInteraction(t, strangerID, "who-owns", false, opt{name: "entity", value: "payments-api"}))
	id := buttonOf(t, decodeResponse(t, out), "Team")
	if len(id) > 100 {
		t.Fatalf("custom_id has %d characters", len(id))
	}
	out = h.interact(clickInteraction(t, aliceID, id))
	r := decodeResponse(t, out)
	if r.Type != 4 || r.Data.Flags != 64 || !strings.Contains(string(out), "Payments Team") {
		t.Fatalf("click answered type %d flags %d, want 4 and 64: %s", r.Type, r.Data.Flags, out)
	}
	golden(t, "click", out)

	t.Run("did-you-mean replaces the picker", func(t *testing.T) {
		out := h.interact(commandInteraction(t, strangerID, "who-owns", false, opt{name: "entity", value: "paymnets-api"}))
		id := buttonOf(t, decodeResponse(t, out), "component:default/payments-api")
		out = h.interact(clickInteraction(t, strangerID, id))
		r := decodeResponse(t, out)
		if r.Type != int(discordgo.InteractionResponseUpdateMessage) || r.Data.Flags != 0 {
			t.Fatalf("type %d flags %d, want 7 and none", r.Type, r.Data.Flags)
		}
		golden(t, "click-update", out)
	})
	t.Run("forged", func(t *testing.T) {
		before := h.runs()
		out := h.interact(clickInteraction(t, strangerID, "b1.d2hvLW93bnMgeA.AAAAAAAAAAAAAAAAAAAAAA"))
		if !strings.Contains(string(out), "not valid any more") {
			t.Fatalf("forged button: %s", out)
		}
		if h.runs() != before+1 { // counted as a refused click, ran nothing else
			t.Fatalf("runs %v → %v", before, h.runs())
		}
	})
}

// TestDeferredCommand makes a command slower than the budget: the
// endpoint answers type 5 (ephemeral), then the reply edits the original
// response.
func TestDeferredCommand(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t, slow(gate))
	out := h.interact(commandInteraction(t, strangerID, "who-owns", false, opt{name: "entity", value: "payments-api"}))
	if got := strings.TrimSpace(string(out)); got != `{"type":5,"data":{"flags":64}}` {
		t.Fatalf("deferred answer %s", got)
	}
	close(gate)
	edit := h.api.next(t)
	if edit.Method != http.MethodPatch || !strings.HasSuffix(edit.Path, "/messages/@original") || !strings.HasPrefix(edit.Path, "/api/v10/webhooks/"+testAppID+"/") {
		t.Fatalf("got %s %s, want PATCH of the original response", edit.Method, edit.Path)
	}
	if edit.Auth != "" {
		t.Errorf("the webhook edit carries the bot token")
	}
	golden(t, "deferred-edit", edit.Body)
}

func TestDeferredPublic(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t, slow(gate))
	out := h.interact(commandInteraction(t, strangerID, "who-owns", false, opt{name: "entity", value: "payments-api"}, opt{name: "public", value: true}))
	if r := decodeResponse(t, out); r.Type != 5 || r.Data != nil {
		t.Fatalf("public deferred answer %s, want type 5 without the ephemeral flag", out)
	}
	close(gate)
	if edit := h.api.next(t); edit.Method != http.MethodPatch {
		t.Fatalf("got %s %s", edit.Method, edit.Path)
	}
}

// TestDeferredClick: a slow click is answered type 6, then a follow-up
// (new message) or an edit of the message (replace original).
func TestDeferredClick(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t, slow(gate))
	id := h.router.ButtonValue(botButton("who-owns payments-api"))
	out := h.interact(clickInteraction(t, strangerID, id))
	if r := decodeResponse(t, out); r.Type != int(discordgo.InteractionResponseDeferredMessageUpdate) {
		t.Fatalf("slow click answered %s, want type 6", out)
	}
	close(gate)
	fu := h.api.next(t)
	if fu.Method != http.MethodPost || !strings.HasPrefix(fu.Path, "/api/v10/webhooks/"+testAppID+"/") || strings.Contains(fu.Path, "@original") {
		t.Fatalf("got %s %s, want a follow-up POST", fu.Method, fu.Path)
	}
	var params struct {
		Flags int `json:"flags"`
	}
	if err := json.Unmarshal(fu.Body, &params); err != nil || params.Flags != 64 {
		t.Fatalf("follow-up flags %d (%v), want 64", params.Flags, err)
	}
	golden(t, "deferred-followup", fu.Body)

	// The replacing command reads no catalog: it is never slow, so make
	// the budget nothing at all.
	h.fd.cfg.AckBudget = -1
	out = h.interact(clickInteraction(t, aliceID, h.router.ButtonValue(botButton("flip"))))
	if r := decodeResponse(t, out); r.Type != 6 {
		t.Fatalf("answered %s, want type 6", out)
	}
	if edit := h.api.next(t); edit.Method != http.MethodPatch || !strings.HasSuffix(edit.Path, "/messages/@original") {
		t.Fatalf("got %s %s, want the edit of the clicked message", edit.Method, edit.Path)
	}
}

// TestEditRateLimited: a 429 on the edit is waited out (Retry-After) and
// retried; the 429 is counted.
func TestEditRateLimited(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t, slow(gate))
	h.api.fail("edit", http.StatusTooManyRequests, http.StatusTooManyRequests)
	h.interact(commandInteraction(t, strangerID, "who-owns", false, opt{name: "entity", value: "payments-api"}))
	close(gate)
	for i := range 3 {
		if r := h.api.next(t); r.Method != http.MethodPatch {
			t.Fatalf("request %d: %s %s", i, r.Method, r.Path)
		}
	}
	if err := h.fd.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := h.fd.api.invalidCounts()[http.StatusTooManyRequests]; got != 2 {
		t.Errorf("counted %d rate-limited answers, want 2", got)
	}
	if !strings.Contains(h.logs.String(), "deferred reply delivered") {
		t.Errorf("the edit was not delivered after the rate limit:\n%s", h.logs.String())
	}
}

// TestEditGivesUp: retries are bounded.
func TestEditGivesUp(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t, slow(gate))
	h.api.fail("edit", 429, 429, 429, 429, 429, 429)
	h.interact(commandInteraction(t, strangerID, "who-owns", false, opt{name: "entity", value: "payments-api"}))
	close(gate)
	if err := h.fd.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range h.api.requests() {
		if r.Method == http.MethodPatch {
			n++
		}
	}
	if n != maxRetries+1 {
		t.Errorf("%d attempts, want %d", n, maxRetries+1)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "deferred reply not delivered") || strings.Contains(logs, "token-") {
		t.Errorf("logs should say the reply was lost, without the interaction token:\n%s", logs)
	}
}

func TestShutdown(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t, slow(gate))
	h.interact(commandInteraction(t, strangerID, "who-owns", false, opt{name: "entity", value: "payments-api"}))
	done := make(chan error, 1)
	go func() { done <- h.fd.Shutdown(t.Context()) }()
	// New work is refused once shutdown began; the deferred one finishes.
	for {
		out := h.interact(commandInteraction(t, strangerID, "help", false))
		if bytes.Contains(out, []byte("restarting")) {
			break
		}
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r := h.api.next(t); r.Method != http.MethodPatch {
		t.Fatalf("the deferred reply was not delivered before shutdown returned: %s %s", r.Method, r.Path)
	}
}

// TestDirectMessage: in a DM the user comes in "user", not "member".
func TestDirectMessage(t *testing.T) {
	h := newHarness(t)
	var in map[string]any
	if err := json.Unmarshal(commandInteraction(t, aliceID, "whoami", false), &in); err != nil {
		t.Fatal(err)
	}
	in["user"] = in["member"].(map[string]any)["user"]
	delete(in, "member")
	delete(in, "guild_id")
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := h.interact(body)
	if !strings.Contains(string(out), "alice") {
		t.Fatalf("whoami in a DM: %s", out)
	}
}
