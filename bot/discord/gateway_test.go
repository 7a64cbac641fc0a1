package discord

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// gatewayEvent decodes an interaction the way discordgo hands it to the
// InteractionCreate handler.
func gatewayEvent(t *testing.T, body []byte) *discordgo.InteractionCreate {
	t.Helper()
	var in discordgo.Interaction
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatal(err)
	}
	return &discordgo.InteractionCreate{Interaction: &in}
}

func TestGatewayInteraction(t *testing.T) {
	h := newHarness(t)
	body := commandInteraction(t, aliceID, "who-owns", false, opt{name: "entity", value: "payments-api"})
	h.fd.gatewayInteraction(t.Context(), gatewayEvent(t, body))
	cb := h.api.next(t)
	if cb.Method != http.MethodPost || !strings.HasPrefix(cb.Path, "/api/v10/interactions/") || !strings.HasSuffix(cb.Path, "/callback") {
		t.Fatalf("got %s %s, want the interaction callback", cb.Method, cb.Path)
	}
	if cb.Auth != "" {
		t.Error("the callback carries the bot token")
	}
	r := decodeResponse(t, cb.Body)
	if r.Type != 4 || r.Data.Flags != 64 || !strings.Contains(string(cb.Body), "Payments Team") {
		t.Fatalf("callback %s", cb.Body)
	}
	golden(t, "gateway-callback", cb.Body)
}

func TestGatewayDeferred(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t, slow(gate))
	body := commandInteraction(t, aliceID, "who-owns", false, opt{name: "entity", value: "payments-api"})
	h.fd.gatewayInteraction(t.Context(), gatewayEvent(t, body))
	if cb := h.api.next(t); !strings.HasSuffix(cb.Path, "/callback") || string(cb.Body) != `{"type":5,"data":{"flags":64}}` {
		t.Fatalf("got %s %s %s, want the deferred callback", cb.Method, cb.Path, cb.Body)
	}
	close(gate)
	if edit := h.api.next(t); edit.Method != http.MethodPatch || !strings.HasSuffix(edit.Path, "/messages/@original") {
		t.Fatalf("got %s %s, want the edit of the original", edit.Method, edit.Path)
	}
}

// TestGatewayCallbackFails: when the initial response cannot be sent, the
// deferred reply is not sent either (its webhook would not exist), and
// the callback is not retried.
func TestGatewayCallbackFails(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t, slow(gate))
	h.api.fail("callback", http.StatusTooManyRequests)
	body := commandInteraction(t, aliceID, "who-owns", false, opt{name: "entity", value: "payments-api"})
	h.fd.gatewayInteraction(t.Context(), gatewayEvent(t, body))
	close(gate)
	if err := h.fd.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if reqs := h.api.requests(); len(reqs) != 1 {
		t.Fatalf("sent %s, want the one failed callback", describe(reqs))
	}
}

func TestGatewayIgnoresMalformed(t *testing.T) {
	h := newHarness(t)
	h.fd.gatewayInteraction(t.Context(), nil)
	h.fd.gatewayInteraction(t.Context(), &discordgo.InteractionCreate{Interaction: &discordgo.Interaction{Type: discordgo.InteractionApplicationCommand, ID: "1", Token: "../x"}})
	if len(h.api.requests()) != 0 || h.runs() != 0 {
		t.Fatal("a malformed gateway interaction did something")
	}
}

func TestRewriteTransport(t *testing.T) {
	h := newHarness(t)
	c := h.fd.sessionClient()
	for from, to := range map[string]string{
		"https://discord.com/api/v9/gateway/bot":     "/api/v10/gateway/bot",
		"https://discord.com/api/voice/regions":      "/api/v10/voice/regions",
		"https://discordapp.com/api/v10/gateway/bot": "/api/v10/gateway/bot",
	} {
		resp, err := c.Get(from)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if r := h.api.next(t); r.Path != to {
			t.Errorf("%s rewritten to %s, want %s", from, r.Path, to)
		}
	}
}
