package console

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/idpbot/idpbot/bot"
)

// Render writes r as plain text and returns its buttons in the order they
// were numbered ("[1] Details").
func Render(w io.Writer, r *bot.Reply) []bot.Button {
	var buttons []bot.Button
	if len(r.Blocks) == 0 && r.Text != "" {
		fmt.Fprintln(w, r.Text)
	}
	for _, b := range r.Blocks {
		switch b := b.(type) {
		case *bot.Header:
			fmt.Fprintln(w, b.Text)
			fmt.Fprintln(w, strings.Repeat("─", min(max(len([]rune(b.Text)), 3), 72)))
		case *bot.Section:
			if len(b.Text) > 0 {
				writeIndented(w, "", text(b.Text))
			}
			width := 0
			for _, f := range b.Fields {
				width = max(width, len([]rune(f.Label)))
			}
			for _, f := range b.Fields {
				label := f.Label + ":" + strings.Repeat(" ", width-len([]rune(f.Label)))
				writeIndented(w, "  "+label+" ", text(f.Value))
			}
		case *bot.Context:
			writeIndented(w, "  ", text(b.Text))
		case *bot.Divider:
			fmt.Fprintln(w)
		case *bot.Image:
			fmt.Fprintf(w, "  [image: %s] %s\n", b.AltText, b.URL)
		case *bot.Actions:
			var parts []string
			for _, btn := range b.Buttons {
				if btn.URL != "" {
					parts = append(parts, btn.Label+" "+btn.URL)
					continue
				}
				buttons = append(buttons, btn)
				parts = append(parts, fmt.Sprintf("[%d] %s", len(buttons), btn.Label))
			}
			fmt.Fprintln(w, "  "+strings.Join(parts, "  "))
		}
	}
	return buttons
}

// writeIndented writes s with prefix on the first line and as many spaces
// on the following ones.
func writeIndented(w io.Writer, prefix, s string) {
	pad := strings.Repeat(" ", len([]rune(prefix)))
	for i, line := range strings.Split(s, "\n") {
		if i == 0 {
			fmt.Fprintln(w, prefix+line)
		} else {
			fmt.Fprintln(w, pad+line)
		}
	}
}

// text renders rich text for a terminal: links as "label <url>", mentions
// as @name and #name, with the chat ids in parentheses for channels.
func text(t bot.Text) string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case bot.Link:
			if s.Text != "" && s.Text != s.URL && !strings.HasPrefix(s.URL, "mailto:") {
				b.WriteString(s.Text + " <" + s.URL + ">")
			} else {
				b.WriteString(strings.TrimPrefix(s.URL, "mailto:"))
			}
		case bot.Time:
			b.WriteString(s.At.Local().Format("Mon 2 Jan 15:04 MST"))
		case bot.UserMention:
			b.WriteString("@" + s.Text)
		case bot.ChannelMention:
			b.WriteString("#" + s.Text)
			if len(s.IDs) > 0 {
				var ids []string
				for p, id := range s.IDs {
					ids = append(ids, string(p)+" "+id)
				}
				sort.Strings(ids)
				b.WriteString(" (" + strings.Join(ids, ", ") + ")")
			}
		default:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}
