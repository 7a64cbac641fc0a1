package discord

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/idpbot/idpbot/bot"
)

func TestChannelMessages(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	rep := &bot.Reply{Visibility: bot.InChannel, Text: "Restart requested", Blocks: []bot.Block{
		&bot.Header{Text: "Restart a service"},
		&bot.Section{Text: bot.T("@everyone look")},
		&bot.Actions{Buttons: []bot.Button{{Label: "Approve", Command: "approve run-1", Style: bot.Primary}}},
	}}
	id, err := h.fd.PostMessage(ctx, testChannel, rep)
	if err != nil || id != "1300000000000000500" {
		t.Fatalf("PostMessage = %q, %v", id, err)
	}
	req := h.api.next(t)
	if req.Method != http.MethodPost || req.Path != "/api/v10/channels/"+testChannel+"/messages" || req.Auth != "Bot "+testBotToken {
		t.Fatalf("request %s %s auth %q", req.Method, req.Path, req.Auth)
	}
	var sent struct {
		Embeds     []map[string]any `json:"embeds"`
		Components []map[string]any `json:"components"`
		Allowed    map[string]any   `json:"allowed_mentions"`
		Flags      int              `json:"flags"`
	}
	if err := json.Unmarshal(req.Body, &sent); err != nil {
		t.Fatal(err)
	}
	if len(sent.Embeds) == 0 || len(sent.Components) == 0 || sent.Flags&64 != 0 {
		t.Errorf("posted %s", req.Body)
	}
	if strings.Contains(string(req.Body), `"everyone"`) {
		t.Errorf("allowed_mentions lets @everyone ping: %s", req.Body)
	}
	if err := h.fd.EditMessage(ctx, testChannel, id, rep); err != nil {
		t.Fatal(err)
	}
	if req := h.api.next(t); req.Method != http.MethodPatch || req.Path != "/api/v10/channels/"+testChannel+"/messages/"+id {
		t.Errorf("edit: %s %s", req.Method, req.Path)
	}
	if _, err := h.fd.PostMessage(ctx, "../../guilds", rep); err == nil {
		t.Error("a channel id that is not a snowflake was used in a URL")
	}
}
