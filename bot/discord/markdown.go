package discord

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/idpbot/idpbot/bot"
)

// mdSpecial are the characters Discord markdown gives a meaning: emphasis,
// code, spoilers, quotes, headings, subtext and lists, masked links and
// the <@…>, <#…>, <t:…> forms. A backslash makes each literal.
const mdSpecial = "\\*_~`|>#-[]()<"

// escape makes untrusted text literal in Discord markdown and defuses
// @everyone and @here (allowed_mentions also stops them pinging).
func escape(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i, r := range s {
		switch {
		case strings.ContainsRune(mdSpecial, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '@' && (strings.HasPrefix(s[i+1:], "everyone") || strings.HasPrefix(s[i+1:], "here")):
			b.WriteString("@\u200b")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// width is the length Discord counts: UTF-16 code units, so a character
// outside the Basic Multilingual Plane (most emoji) counts twice. It is
// never less than the number of runes.
func width(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// cutPlain returns the longest prefix of s, escaped when esc is set, that
// fits in room; it never splits a rune or an escape.
func cutPlain(s string, room int, esc bool) string {
	var b strings.Builder
	used := 0
	for _, r := range s {
		piece := string(r)
		if esc {
			piece = escape(piece)
		}
		w := width(piece)
		if used+w > room {
			break
		}
		b.WriteString(piece)
		used += w
	}
	return b.String()
}

// ellipsis marks text that was cut.
const ellipsis = "…"

// truncate returns plain s cut to limit characters, ending with an
// ellipsis when cut.
func truncate(s string, limit int) string {
	if width(s) <= limit {
		return s
	}
	if limit <= 0 {
		return ""
	}
	return cutPlain(s, limit-1, false) + ellipsis
}

// markdown renders t as Discord markdown in at most limit characters. When
// it must cut, it stops at a span boundary or inside a plain, bold or code
// run (never inside a mention, link or time), and ends with an ellipsis.
func markdown(t bot.Text, limit int) (out string, cut bool) {
	pieces := make([]string, len(t))
	total := 0
	for i, s := range t {
		pieces[i] = span(s)
		total += width(pieces[i])
	}
	if total <= limit {
		return strings.Join(pieces, ""), false
	}
	if limit <= 0 {
		return "", true
	}
	room := limit - width(ellipsis)
	var b strings.Builder
	for i, s := range t {
		w := width(pieces[i])
		if w <= room {
			b.WriteString(pieces[i])
			room -= w
			continue
		}
		b.WriteString(cutSpan(s, room))
		break
	}
	return b.String() + ellipsis, true
}

// span renders one run of rich text.
func span(s bot.Span) string {
	switch s.Kind {
	case bot.Bold:
		if s.Text == "" {
			return ""
		}
		return "**" + escape(s.Text) + "**"
	case bot.Code:
		c := codeText(s.Text)
		if c == "" {
			return ""
		}
		return "`" + c + "`"
	case bot.Link:
		return link(s.Text, s.URL)
	case bot.UserMention:
		if id := s.IDs[bot.Discord]; isSnowflake(id) {
			return "<@" + id + ">"
		}
		return escape(s.Text)
	case bot.ChannelMention:
		if id := s.IDs[bot.Discord]; isSnowflake(id) {
			return "<#" + id + ">"
		}
		return escape("#" + s.Text)
	case bot.Time:
		if !s.At.IsZero() {
			return "<t:" + strconv.FormatInt(s.At.Unix(), 10) + ":f>"
		}
		return escape(s.Text)
	}
	return escape(s.Text)
}

// cutSpan renders the part of s that fits in room: plain, bold and code
// runs are cut; mentions, links and times are kept whole or left out.
func cutSpan(s bot.Span, room int) string {
	switch s.Kind {
	case bot.Plain:
		return cutPlain(s.Text, room, true)
	case bot.Bold:
		if in := cutPlain(s.Text, room-4, true); in != "" {
			return "**" + in + "**"
		}
	case bot.Code:
		if in := cutPlain(codeText(s.Text), room-2, false); in != "" {
			return "`" + in + "`"
		}
	case bot.UserMention, bot.ChannelMention:
		if !isSnowflake(s.IDs[bot.Discord]) {
			name := s.Text
			if s.Kind == bot.ChannelMention {
				name = "#" + name
			}
			return cutPlain(name, room, true)
		}
	}
	return ""
}

// codeText is the text of a code span: backticks cannot be escaped inside
// one, so they go, and so do line breaks.
func codeText(s string) string {
	s = strings.ReplaceAll(s, "`", "")
	return strings.Join(strings.Fields(s), " ")
}

// link renders a masked link [label](url) when url is http(s); a link to
// anything else shows its label and address as text.
func link(label, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		switch {
		case label == "" || label == raw:
			return escape(strings.TrimPrefix(raw, "mailto:"))
		case strings.HasPrefix(raw, "mailto:") && strings.TrimPrefix(raw, "mailto:") == label:
			return escape(label)
		}
		return escape(label + " (" + raw + ")")
	}
	target := u.String()
	// Keep the target inside (…) whatever it holds.
	target = strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", " ", "%20").Replace(target)
	if label == "" || label == raw {
		return "<" + target + ">"
	}
	return "[" + escape(label) + "](" + target + ")"
}
