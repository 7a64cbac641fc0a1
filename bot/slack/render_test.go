package slack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/idpbot/idpbot/bot"
)

func TestMrkdwnEscaping(t *testing.T) {
	slackIDs := func(id string) map[bot.Platform]string { return map[bot.Platform]string{bot.Slack: id} }
	cases := []struct {
		name string
		in   bot.Text
		want string
	}{
		{"channel ping in text", bot.T("ping <!channel> & <@U01ALICE>"), "ping &lt;!channel&gt; &amp; &lt;@U01ALICE&gt;"},
		{"forged link in text", bot.T("<https://evil.example|Click me>"), "&lt;https://evil.example|Click me&gt;"},
		{"bold", bot.Text{bot.P("owner "), bot.B(" Payments <team> ")}, "owner  *Payments &lt;team&gt;* "},
		{"code with backtick", bot.Text{bot.C("a`b")}, "`aˋb`"},
		{"link", bot.Text{bot.L("Runbook", "https://wiki.example.com/x?a=1&b=2")}, "<https://wiki.example.com/x?a=1&amp;b=2|Runbook>"},
		{"link label breaking out", bot.Text{bot.L("a|b>c<!here>", "https://x.example/")}, "<https://x.example/|abc!here>"},
		{"link url breaking out", bot.Text{bot.L("docs", "https://x.example/a|b>c")}, "<https://x.example/a%7Cb%3Ec|docs>"},
		{"link without label", bot.Text{bot.L("", "https://x.example/")}, "<https://x.example/>"},
		{"javascript link", bot.Text{bot.L("click", "javascript:alert(1)")}, "click"},
		{"mailto", bot.Text{bot.L("team@x.example", "mailto:team@x.example")}, "<mailto:team@x.example|team@x.example>"},
		{"user mention", bot.Text{bot.Mention("Alice", slackIDs("U01ALICE"))}, "<@U01ALICE>"},
		{"user mention without slack id", bot.Text{bot.Mention("Alice <!here>", map[bot.Platform]string{bot.Discord: "123"})}, "Alice &lt;!here&gt;"},
		{"user mention with forged id", bot.Text{bot.Mention("Alice", slackIDs("U1>|<!channel"))}, "Alice"},
		{"channel mention", bot.Text{bot.ChannelRef("payments", slackIDs("C04PAYMENTS"))}, "<#C04PAYMENTS>"},
		{"channel mention without id", bot.Text{bot.ChannelRef("payments", nil)}, "#payments"},
		{"control characters", bot.T("a\x00b\x1bc\nd"), "abc\nd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, n, cut := mrkdwn(tc.in, 3000)
			if got != tc.want || cut || n != utf8.RuneCountInString(got) {
				t.Errorf("mrkdwn = %q (n=%d cut=%v), want %q", got, n, cut, tc.want)
			}
		})
	}
}

func TestMrkdwnTruncation(t *testing.T) {
	text := bot.Text{
		bot.P("Owned by "), bot.B("Payments & Co"), bot.P(" — ask "),
		bot.Mention("Alice", map[bot.Platform]string{bot.Slack: "U01ALICE"}), bot.P(" in "),
		bot.ChannelRef("payments", map[bot.Platform]string{bot.Slack: "C04PAYMENTS"}), bot.P(" or read "),
		bot.L("the runbook", "https://wiki.example.com/runbook"), bot.P(" ünïcödé 🚀 <done>"), bot.C("component:default/payments-api"),
	}
	full, _, _ := mrkdwn(text, 1<<20)
	for limit := 0; limit <= utf8.RuneCountInString(full)+2; limit++ {
		got, n, cut := mrkdwn(text, limit)
		if c := utf8.RuneCountInString(got); c > limit || c != n {
			t.Fatalf("limit %d: %d characters (n=%d): %q", limit, c, n, got)
		}
		if cut != (got != full) {
			t.Fatalf("limit %d: cut=%v for %q", limit, cut, got)
		}
		if cut && limit > 0 && !strings.HasSuffix(got, ellipsis) {
			t.Fatalf("limit %d: cut text does not end with …: %q", limit, got)
		}
		if err := wellFormed(got); err != nil {
			t.Fatalf("limit %d: %v: %q", limit, err, got)
		}
	}
}

var (
	tokenRE  = regexp.MustCompile(`<(@[UW][A-Z0-9]+|#[CGD][A-Z0-9]+|(https?|mailto):[^<>|\s]+(\|[^<>|]*)?)>`)
	entityRE = regexp.MustCompile(`&(amp|lt|gt);`)
)

// wellFormed checks that mrkdwn has only whole tokens and entities and
// valid UTF-8: what truncation must never break.
func wellFormed(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("invalid UTF-8")
	}
	rest := tokenRE.ReplaceAllString(s, "")
	if strings.ContainsAny(rest, "<>") {
		return fmt.Errorf("stray < or > outside a token")
	}
	if strings.Contains(entityRE.ReplaceAllString(rest, ""), "&") {
		return fmt.Errorf("& that is not an entity")
	}
	for _, mark := range []string{"*", "`"} {
		if strings.Count(s, mark)%2 != 0 {
			return fmt.Errorf("unbalanced %s", mark)
		}
	}
	return nil
}

func TestRenderLimits(t *testing.T) {
	value := func(b bot.Button) string { return "v:" + b.Command }
	long := strings.Repeat("word ", 2000)
	t.Run("fields split into sections of ten", func(t *testing.T) {
		sec := &bot.Section{Text: bot.T("intro")}
		for i := range 25 {
			sec.Fields = append(sec.Fields, bot.Field{Label: fmt.Sprintf("F%d", i), Value: bot.T("v")})
		}
		_, blocks := Render(&bot.Reply{Text: "x", Blocks: []bot.Block{sec}}, value)
		if len(blocks) != 3 {
			t.Fatalf("%d blocks, want 3", len(blocks))
		}
		for i, want := range []int{10, 10, 5} {
			s := blocks[i].(*slackapi.SectionBlock)
			if len(s.Fields) != want || (i == 0) != (s.Text != nil) {
				t.Errorf("section %d: %d fields, text %v", i, len(s.Fields), s.Text)
			}
		}
		if got := blocks[0].(*slackapi.SectionBlock).Fields[0].Text; got != "*F0*\nv" {
			t.Errorf("field = %q", got)
		}
	})
	t.Run("too many blocks", func(t *testing.T) {
		var bs []bot.Block
		for i := range 60 {
			bs = append(bs, &bot.Section{Text: bot.T(fmt.Sprintf("s%d", i))})
		}
		_, blocks := Render(&bot.Reply{Text: "x", Blocks: bs}, value)
		if len(blocks) != maxBlocks {
			t.Fatalf("%d blocks", len(blocks))
		}
		last := blocks[len(blocks)-1].(*slackapi.ContextBlock)
		if got := last.ContextElements.Elements[0].(*slackapi.TextBlockObject).Text; got != "and 11 more not shown" {
			t.Errorf("note = %q", got)
		}
	})
	t.Run("exactly fifty blocks need no note", func(t *testing.T) {
		var bs []bot.Block
		for range 50 {
			bs = append(bs, &bot.Divider{})
		}
		if _, blocks := Render(&bot.Reply{Text: "x", Blocks: bs}, value); len(blocks) != 50 {
			t.Fatalf("%d blocks", len(blocks))
		}
	})
	t.Run("text budget", func(t *testing.T) {
		var bs []bot.Block
		for range 20 {
			bs = append(bs, &bot.Section{Text: bot.T(long)})
		}
		text, blocks := Render(&bot.Reply{Text: long, Blocks: bs}, value)
		if n := utf8.RuneCountInString(text); n > maxFallbackChars || !strings.HasSuffix(text, ellipsis) {
			t.Errorf("fallback text: %d characters", n)
		}
		js, _ := json.Marshal(blocks)
		checkWire(t, &slackapi.WebhookMessage{Text: text, Blocks: &slackapi.Blocks{BlockSet: blocks}})
		checkLimits(t, mustJSON(t, &slackapi.WebhookMessage{Text: text, Blocks: &slackapi.Blocks{BlockSet: blocks}}))
		if len(blocks) != 5 || !strings.Contains(string(js), "and 16 more not shown") {
			t.Errorf("%d blocks: %s", len(blocks), js)
		}
	})
	t.Run("header and buttons", func(t *testing.T) {
		var buttons []bot.Button
		for i := range 30 {
			buttons = append(buttons, bot.Button{Label: strings.Repeat("b", 100), Command: fmt.Sprintf("show x%d", i)})
		}
		buttons = append(buttons,
			bot.Button{Label: "huge", Command: strings.Repeat("x", 2500)},
			bot.Button{Label: "docs", URL: "https://docs.example.com/", Style: bot.Primary},
			bot.Button{Label: "bad", URL: "javascript:alert(1)"},
		)
		rep := &bot.Reply{Text: "x", Blocks: []bot.Block{&bot.Header{Text: strings.Repeat("h", 200)}, &bot.Actions{Buttons: buttons}}}
		_, blocks := Render(rep, value)
		msg := &slackapi.WebhookMessage{Text: "x", Blocks: &slackapi.Blocks{BlockSet: blocks}}
		checkWire(t, msg)
		js := mustJSON(t, msg)
		checkLimits(t, js)
		if len(blocks) != 4 {
			t.Fatalf("%d blocks: %s", len(blocks), js)
		}
		if n := len(blocks[1].(*slackapi.ActionBlock).Elements.ElementSet); n != 25 {
			t.Errorf("first actions block has %d elements", n)
		}
		if !strings.Contains(string(js), `"url": "https://docs.example.com/"`) || !strings.Contains(string(js), "and 2 more not shown") {
			t.Errorf("link button or note missing: %s", js)
		}
	})
	t.Run("image", func(t *testing.T) {
		rep := &bot.Reply{Blocks: []bot.Block{
			&bot.Image{URL: "https://img.example.com/board.png", AltText: "leaderboard", Title: "Week 12"},
			&bot.Image{URL: "file:///etc/passwd"},
		}}
		text, blocks := Render(rep, value)
		if len(blocks) != 2 || text != "idpbot" {
			t.Fatalf("%q %d blocks", text, len(blocks))
		}
		checkWire(t, &slackapi.WebhookMessage{Text: text, Blocks: &slackapi.Blocks{BlockSet: blocks}})
		img := blocks[0].(*slackapi.ImageBlock)
		if img.ImageURL != "https://img.example.com/board.png" || img.AltText != "leaderboard" || img.Title.Text != "Week 12" {
			t.Errorf("image = %+v", img)
		}
	})
	t.Run("visibility and replace", func(t *testing.T) {
		m := Message(&bot.Reply{Text: "x", Visibility: bot.InChannel, ReplaceOriginal: true}, value)
		checkWire(t, m)
		js := string(mustJSON(t, m))
		for _, want := range []string{`"response_type": "in_channel"`, `"replace_original": true`, `"delete_original": false`} {
			if !strings.Contains(js, want) {
				t.Errorf("missing %s in %s", want, js)
			}
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := readableJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkLimits checks a rendered message against Slack's limits.
func checkLimits(t *testing.T, msgJSON []byte) {
	t.Helper()
	type element struct {
		Type     string          `json:"type"`
		Text     json.RawMessage `json:"text"` // a string in context elements, an object in buttons
		ActionID string          `json:"action_id"`
		Value    string          `json:"value"`
		URL      string          `json:"url"`
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type     string      `json:"type"`
			Text     *textObject `json:"text"`
			Fields   []textObject
			Elements []element `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(msgJSON, &msg); err != nil {
		t.Fatal(err)
	}
	runes := utf8.RuneCountInString
	if msg.Text == "" || runes(msg.Text) > maxFallbackChars {
		t.Errorf("top-level text has %d characters", runes(msg.Text))
	}
	if len(msg.Blocks) > maxBlocks {
		t.Errorf("%d blocks", len(msg.Blocks))
	}
	total := 0
	ids := map[string]bool{}
	md := func(where string, o *textObject, limit int) {
		if o == nil {
			return
		}
		total += runes(o.Text)
		if o.Text == "" || runes(o.Text) > limit {
			t.Errorf("%s: %d characters", where, runes(o.Text))
		}
		if o.Type == "mrkdwn" {
			if err := wellFormed(o.Text); err != nil {
				t.Errorf("%s: %v: %q", where, err, o.Text)
			}
		}
	}
	for i, b := range msg.Blocks {
		where := fmt.Sprintf("block %d (%s)", i, b.Type)
		switch b.Type {
		case "header":
			md(where, b.Text, maxHeaderChars)
		case "section":
			md(where, b.Text, maxSectionChars)
			if len(b.Fields) > maxFieldsPerSection {
				t.Errorf("%s: %d fields", where, len(b.Fields))
			}
			for j := range b.Fields {
				md(fmt.Sprintf("%s field %d", where, j), &b.Fields[j], maxFieldChars)
			}
		case "context":
			for j, e := range b.Elements {
				var s string
				if err := json.Unmarshal(e.Text, &s); err != nil {
					t.Fatalf("%s element %d: %v", where, j, err)
				}
				md(fmt.Sprintf("%s element %d", where, j), &textObject{Type: e.Type, Text: s}, maxContextChars)
			}
		case "actions":
			if len(b.Elements) > maxActionElements {
				t.Errorf("%s: %d elements", where, len(b.Elements))
			}
			for _, e := range b.Elements {
				var label textObject
				if err := json.Unmarshal(e.Text, &label); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				md(where+" button", &label, maxButtonTextChars)
				if len(e.Value) > maxButtonValueChars || e.ActionID == "" || len(e.ActionID) > 255 || len(e.URL) > maxURLChars {
					t.Errorf("%s: button over a limit", where)
				}
				if ids[e.ActionID] {
					t.Errorf("%s: action_id %s twice", where, e.ActionID)
				}
				ids[e.ActionID] = true
				total += len(e.Value)
			}
		}
	}
	if total > 12000 {
		t.Errorf("blocks carry %d characters", total)
	}
}

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// TestAppendMessageFallback: blocks Render does not make still encode, by
// encoding/json.
func TestAppendMessageFallback(t *testing.T) {
	btn := slackapi.NewButtonBlockElement("a", "v", plainObject("ok"))
	btn.Confirm = slackapi.NewConfirmationBlockObject(plainObject("Sure?"), plainObject("Really"), plainObject("Yes"), plainObject("No"))
	checkWire(t, &slackapi.WebhookMessage{Text: "x\u2028\x01\"\\\xff", ResponseType: "in_channel", Blocks: &slackapi.Blocks{BlockSet: []slackapi.Block{
		slackapi.NewActionBlock("blk", btn),
		slackapi.NewSectionBlock(mdObject("a"), nil, slackapi.NewAccessory(btn)),
		slackapi.NewRichTextBlock("r"),
		slackapi.NewHeaderBlock(plainObject("h"), slackapi.HeaderBlockOptionLevel(2)),
	}}})
}

// FuzzJSONString checks appendString against encoding/json.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "\x00\x1f\x7f", "<&>", "\u2028\u2029", "\xff\xfe", "ünï 🚀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("invalid JSON for %q: %v", s, err)
		}
		js, _ := json.Marshal(s)
		_ = json.Unmarshal(js, &want)
		if got != want {
			t.Fatalf("%q: got %q, want %q", s, got, want)
		}
	})
}

func TestRenderTime(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	_, blocks := Render(&bot.Reply{Blocks: []bot.Block{&bot.Section{Text: bot.Text{bot.P("until "), bot.When(at)}}}}, nil)
	sec, ok := blocks[0].(*slackapi.SectionBlock)
	if !ok {
		t.Fatalf("block %T", blocks[0])
	}
	if want := "until <!date^1796025600^{date_short_pretty} {time}|Mon 30 Nov 08:00 UTC>"; sec.Text.Text != want {
		t.Errorf("rendered %q; want %q", sec.Text.Text, want)
	}
}
