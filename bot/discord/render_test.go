package discord

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/idpbot/idpbot/bot"
)

func testValue(b bot.Button) string { return "v:" + b.Command }

func TestMarkdownSpans(t *testing.T) {
	at := time.Unix(1_760_000_000, 0)
	tests := []struct {
		name string
		in   bot.Text
		want string
	}{
		{"plain escaped", bot.T("*bold* _it_ ~s~ `c` |x| > # - [a](b) <@1> \\"), `\*bold\* \_it\_ \~s\~ \` + "`" + `c\` + "`" + ` \|x\| \> \# \- \[a\]\(b\) \<@1\> \\`},
		{"everyone", bot.T("@everyone and @here"), "@\u200beveryone and @\u200bhere"},
		{"bold", bot.Text{bot.B("a*b")}, `**a\*b**`},
		{"code strips backticks", bot.Text{bot.C("a`b`c")}, "`abc`"},
		{"empty code", bot.Text{bot.C("``")}, ""},
		{"link", bot.Text{bot.L("run*book", "https://x.example/a_(b)")}, `[run\*book](https://x.example/a_%28b%29)`},
		{"bare link", bot.Text{bot.L("", "https://x.example/")}, "<https://x.example/>"},
		{"javascript link", bot.Text{bot.L("click", "javascript:alert(1)")}, `click \(javascript:alert\(1\)\)`},
		{"mailto", bot.Text{bot.L("a@b.example", "mailto:a@b.example")}, "a@b.example"},
		{"mention with id", bot.Text{bot.Mention("Alice", map[bot.Platform]string{bot.Discord: "123", bot.Slack: "U1"})}, "<@123>"},
		{"mention without id", bot.Text{bot.Mention("Al_ice", map[bot.Platform]string{bot.Slack: "U1"})}, `Al\_ice`},
		{"mention with bad id", bot.Text{bot.Mention("Alice", map[bot.Platform]string{bot.Discord: "12>3"})}, "Alice"},
		{"channel with id", bot.Text{bot.ChannelRef("payments", map[bot.Platform]string{bot.Discord: "456"})}, "<#456>"},
		{"channel without id", bot.Text{bot.ChannelRef("payments", nil)}, `\#payments`},
		{"time", bot.Text{bot.When(at)}, "<t:1760000000:f>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, cut := markdown(tc.in, 4096)
			if got != tc.want || cut {
				t.Errorf("got %q (cut %v), want %q", got, cut, tc.want)
			}
		})
	}
}

func TestMarkdownTruncation(t *testing.T) {
	mention := bot.Mention("Alice", map[bot.Platform]string{bot.Discord: "1180000000000100137"})
	link := bot.L("Runbook", "https://runbooks.example/payments")
	tests := []struct {
		name  string
		in    bot.Text
		limit int
		want  string
	}{
		{"fits", bot.T("abc"), 3, "abc"},
		{"plain", bot.T("abcdef"), 4, "abc…"},
		{"never splits a rune", bot.T("日本語テキスト"), 4, "日本語…"},
		{"emoji count twice", bot.T("😀😀😀"), 4, "😀…"},
		{"never splits an escape", bot.T("a*b*c"), 4, `a\*…`},
		{"escape left out whole", bot.T("ab*c"), 4, `ab…`},
		{"mention kept whole or left out", bot.Text{bot.P("on call: "), mention, bot.P(" now")}, 20, "on call: …"},
		{"link kept whole or left out", bot.Text{bot.P("see "), link, bot.P(".")}, 30, "see …"},
		{"bold cut inside", bot.Text{bot.B("abcdefgh")}, 8, "**abc**…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := markdown(tc.in, tc.limit)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if width(got) > tc.limit || !utf8.ValidString(got) {
				t.Errorf("%q is %d characters, limit %d", got, width(got), tc.limit)
			}
		})
	}
}

// checkLimits fails the test when m breaks one of Discord's limits.
func checkLimits(t *testing.T, m *Message) {
	t.Helper()
	if width(m.Content) > maxContent {
		t.Errorf("content has %d characters", width(m.Content))
	}
	if len(m.Embeds) > maxEmbeds {
		t.Errorf("%d embeds", len(m.Embeds))
	}
	total := 0
	for i, e := range m.Embeds {
		if emptyEmbed(e) {
			t.Errorf("embed %d is empty", i)
		}
		total += width(e.Title) + width(e.Description)
		if width(e.Title) > maxTitle || width(e.Description) > maxDescription || len(e.Fields) > maxFields {
			t.Errorf("embed %d: title %d, description %d, %d fields", i, width(e.Title), width(e.Description), len(e.Fields))
		}
		for _, f := range e.Fields {
			total += width(f.Name) + width(f.Value)
			if f.Name == "" || f.Value == "" || width(f.Name) > maxFieldName || width(f.Value) > maxFieldValue {
				t.Errorf("embed %d: field %q (%d) = %d characters", i, f.Name, width(f.Name), width(f.Value))
			}
		}
		if e.Footer != nil {
			total += width(e.Footer.Text)
			if width(e.Footer.Text) > maxFooter {
				t.Errorf("embed %d: footer %d", i, width(e.Footer.Text))
			}
		}
	}
	if total > maxEmbedTotal {
		t.Errorf("embeds have %d characters in all", total)
	}
	if len(m.Components) > maxRows {
		t.Errorf("%d rows", len(m.Components))
	}
	ids := map[string]bool{}
	for _, c := range m.Components {
		row := c.(discordgo.ActionsRow)
		if len(row.Components) == 0 || len(row.Components) > maxButtonsPerRow {
			t.Errorf("row of %d buttons", len(row.Components))
		}
		for _, x := range row.Components {
			b := x.(discordgo.Button)
			if utf8.RuneCountInString(b.Label) > maxLabel || b.Label == "" {
				t.Errorf("label %q", b.Label)
			}
			if (b.CustomID == "") == (b.URL == "") || len(b.CustomID) > maxCustomID || ids[b.CustomID] && b.CustomID != "" {
				t.Errorf("button %+v", b)
			}
			ids[b.CustomID] = true
		}
	}
	if m.Content == "" && len(m.Embeds) == 0 && len(m.Components) == 0 {
		t.Error("empty message")
	}
}

func TestRenderLimits(t *testing.T) {
	long := strings.Repeat("word ", 2000)
	var manyFields []bot.Field
	for i := range 40 {
		manyFields = append(manyFields, bot.Field{Label: fmt.Sprintf("field %d", i), Value: bot.T(strings.Repeat("x", 900))})
	}
	var manyBlocks []bot.Block
	for i := range 14 {
		manyBlocks = append(manyBlocks, &bot.Header{Text: fmt.Sprintf("part %d", i)}, &bot.Section{Text: bot.T("text")}, &bot.Divider{})
	}
	var manyButtons []bot.Button
	for i := range 32 {
		manyButtons = append(manyButtons, bot.Button{Label: fmt.Sprintf("b%d", i), Command: fmt.Sprintf("show x%d", i)})
	}
	tests := []struct {
		name  string
		reply *bot.Reply
		note  string
	}{
		{"long description", &bot.Reply{Blocks: []bot.Block{&bot.Header{Text: strings.Repeat("T", 300)}, &bot.Section{Text: bot.T(long)}}}, "shortened"},
		{"many fields", &bot.Reply{Blocks: []bot.Block{&bot.Section{Fields: manyFields}}}, "33 more fields not shown"},
		{"many embeds", &bot.Reply{Blocks: manyBlocks}, "8 more parts not shown"},
		{"many buttons", &bot.Reply{Blocks: []bot.Block{&bot.Actions{Buttons: manyButtons}}}, "7 more buttons not shown"},
		{"long button value", &bot.Reply{Blocks: []bot.Block{&bot.Actions{Buttons: []bot.Button{{Label: "ok", Command: "show a"}, {Label: "long", Command: strings.Repeat("y", 120)}}}}}, "1 button left out"},
		{"bad link button", &bot.Reply{Blocks: []bot.Block{&bot.Actions{Buttons: []bot.Button{{Label: "x", URL: "javascript:alert(1)"}}}}}, "1 link left out"},
		{"long label", &bot.Reply{Blocks: []bot.Block{&bot.Actions{Buttons: []bot.Button{{Label: strings.Repeat("é", 100), Command: "show a"}}}}}, ""},
		{"duplicate buttons", &bot.Reply{Blocks: []bot.Block{&bot.Actions{Buttons: []bot.Button{{Label: "a", Command: "show a"}, {Label: "b", Command: "show a"}}}}}, ""},
		{"text only", &bot.Reply{Text: strings.Repeat("@everyone ", 300)}, ""},
		{"nothing", &bot.Reply{}, ""},
		{"long context", &bot.Reply{Blocks: []bot.Block{&bot.Section{Text: bot.T("x")}, &bot.Context{Text: bot.T(strings.Repeat("c", 3000))}}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Render(tc.reply, testValue)
			checkLimits(t, m)
			if !strings.Contains(m.Content, tc.note) {
				t.Errorf("content %q lacks %q", m.Content, tc.note)
			}
			if _, err := json.Marshal(m.responseData(false)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRenderLayout(t *testing.T) {
	img := "https://img.example/board.png"
	rep := &bot.Reply{
		Visibility: bot.InChannel,
		Text:       "summary",
		Blocks: []bot.Block{
			&bot.Header{Text: "Payments # scorecard"},
			&bot.Section{Text: bot.T("intro"), Fields: []bot.Field{
				{Label: "Short", Value: bot.T("yes")},
				{Label: "Long", Value: bot.T(strings.Repeat("z", 60))},
			}},
			&bot.Context{Text: bot.T("from catalog")},
			&bot.Divider{},
			&bot.Section{Text: bot.T("second")},
			&bot.Context{Text: bot.Text{bot.P("see "), bot.L("docs", "https://docs.example")}},
			&bot.Image{URL: img, AltText: "a chart", Title: "Board"},
			&bot.Actions{Buttons: []bot.Button{{Label: "Open", URL: "https://portal.example"}, {Label: "Go", Command: "show a", Style: bot.Primary}, {Label: "Stop", Command: "show b", Style: bot.Danger}}},
		},
	}
	m := Render(rep, testValue)
	checkLimits(t, m)
	if m.Ephemeral {
		t.Error("an in-channel reply rendered ephemeral")
	}
	b, err := json.Marshal(m.responseData(false))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "render-layout", b)
	if len(m.Embeds) != 2 || m.Embeds[0].Title != `Payments \# scorecard` || m.Embeds[0].Footer == nil ||
		!m.Embeds[0].Fields[0].Inline || m.Embeds[0].Fields[1].Inline || m.Embeds[1].Image == nil ||
		!strings.Contains(m.Embeds[1].Description, "-# see [docs](https://docs.example)") {
		t.Errorf("layout:\n%s", b)
	}
}

func TestRenderEphemeralError(t *testing.T) {
	m := Render(&bot.Reply{IsError: true, Text: "bad", Blocks: []bot.Block{&bot.Section{Text: bot.T("bad")}}}, testValue)
	if !m.Ephemeral || m.Embeds[0].Color != colorError {
		t.Fatalf("%+v", m)
	}
	d := m.responseData(false)
	if d.Flags != discordgo.MessageFlagsEphemeral || len(d.AllowedMentions.Parse) != 1 || d.AllowedMentions.Parse[0] != discordgo.AllowedMentionTypeUsers {
		t.Fatalf("%+v", d)
	}
}
