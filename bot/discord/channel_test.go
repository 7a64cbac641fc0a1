package discord

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

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
	if err != nil || !isSnowflake(id) {
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

func TestKeyedPosts(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	rep := &bot.Reply{Visibility: bot.InChannel, Blocks: []bot.Block{&bot.Header{Text: "Leaderboard"}, &bot.Context{Text: bot.T("as of Monday")}}}
	since := testNow.Add(-time.Hour)
	if found, err := h.fd.FindKeyed(ctx, testChannel, "2026-W49/x", since); err != nil || found {
		t.Fatalf("before posting: %v, %v", found, err)
	}
	if _, err := h.fd.PostKeyed(ctx, testChannel, "2026-W49/x", rep); err != nil {
		t.Fatal(err)
	}
	if found, err := h.fd.FindKeyed(ctx, testChannel, "2026-W49/x", since); err != nil || !found {
		t.Errorf("after posting: %v, %v", found, err)
	}
	if found, _ := h.fd.FindKeyed(ctx, testChannel, "2026-W49", since); found {
		t.Error("a key that is a prefix of another was found")
	}
}

func TestKeyedPostWithChart(t *testing.T) {
	h := newHarness(t)
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 2000)...)
	rep := &bot.Reply{Visibility: bot.InChannel, Blocks: []bot.Block{&bot.Header{Text: "Leaderboard"}}}
	if _, err := h.fd.PostKeyed(context.Background(), testChannel, "2026-W49/chart", rep,
		Attachment{Filename: "chart.png", ContentType: "image/png", Data: png}); err != nil {
		t.Fatal(err)
	}
	h.api.mu.Lock()
	defer h.api.mu.Unlock()
	msgs := h.api.channelMsgs[testChannel]
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	raw, _ := json.Marshal(msgs[0])
	for _, want := range []string{`"attachment://chart.png"`, `"filename":"chart.png"`, `"_file_sizes":[2008]`, "ref 2026-W49/chart"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("posted message lacks %s: %s", want, raw)
		}
	}
}
