package slack

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/idpbot/idpbot/bot"
)

// ellipsis marks text that was cut.
const ellipsis = "…"

// slackID says whether id is a Slack id starting with one of kinds and
// followed by 1 to 20 capital letters or digits. Mentions carry only such
// ids; anything else in a catalog annotation is shown as a name, so an
// annotation cannot smuggle "<!channel>" or a link.
func slackID(id, kinds string) bool {
	if len(id) < 2 || len(id) > 21 || !strings.Contains(kinds, id[:1]) {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// urlEscaper makes a URL safe inside <…>.
var urlEscaper = strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C")

// mrkdwn renders rich text as Slack mrkdwn of at most limit characters
// (runes, counted as sent). Every run is escaped (&, <, >), so text from the
// catalog cannot ping @channel or forge a link. Text that does not fit is cut
// at a rune or token boundary (never inside a mention, link or escape) and
// ends with "…". It returns the text, its length and whether it was cut.
func mrkdwn(t bot.Text, limit int) (string, int, bool) {
	if limit <= 0 {
		return "", 0, len(t) > 0
	}
	w := mdWriter{limit: limit}
	w.b.Grow(textSize(t))
	w.text(t)
	if !w.cut {
		return w.b.String(), w.n, false
	}
	w = mdWriter{limit: limit - 1}
	w.text(t)
	w.b.WriteString(ellipsis)
	return w.b.String(), w.n + 1, true
}

// textSize estimates the bytes of t's mrkdwn.
func textSize(t bot.Text) int {
	n := 0
	for _, s := range t {
		n += len(s.Text) + len(s.URL) + 4
	}
	return n
}

// mdWriter writes mrkdwn up to limit characters; once something does not
// fit it sets cut and writes nothing more.
type mdWriter struct {
	b     strings.Builder
	n     int
	limit int
	cut   bool
}

func (w *mdWriter) text(t bot.Text) {
	for _, s := range t {
		if w.cut {
			return
		}
		switch s.Kind {
		case bot.Bold:
			w.wrapped("*", s.Text)
		case bot.Code:
			w.wrapped("`", strings.ReplaceAll(s.Text, "`", "ˋ"))
		case bot.Link:
			w.link(s)
		case bot.UserMention:
			if id := s.IDs[bot.Slack]; slackID(id, "UW") {
				w.token("<@" + id + ">")
			} else {
				w.plain(s.Text, 0)
			}
		case bot.Time:
			if s.At.IsZero() {
				w.plain(s.Text, 0)
				continue
			}
			// Shown in the reader's time zone; the fallback is UTC.
			fallback := strings.NewReplacer("|", " ", ">", " ", "<", " ", "&", " ").Replace(s.Text)
			w.token(fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", s.At.Unix(), fallback))
		case bot.ChannelMention:
			if id := s.IDs[bot.Slack]; slackID(id, "CGD") {
				w.token("<#" + id + ">")
			} else {
				w.plain("#"+s.Text, 0)
			}
		default:
			w.plain(s.Text, 0)
		}
	}
}

// fits says whether n more characters fit, keeping reserve for what must
// follow; if not, the writer is cut.
func (w *mdWriter) fits(n, reserve int) bool {
	if w.n+n+reserve > w.limit {
		w.cut = true
		return false
	}
	return true
}

// token writes s whole or not at all.
func (w *mdWriter) token(s string) {
	if n := utf8.RuneCountInString(s); w.fits(n, 0) {
		w.b.WriteString(s)
		w.n += n
	}
}

// plain writes s escaped, rune by rune, keeping reserve characters free.
func (w *mdWriter) plain(s string, reserve int) {
	if w.n+len(s)+reserve <= w.limit && !needsEscape(s) {
		// Fast path: nothing to escape and it fits (runes ≤ bytes).
		w.b.WriteString(s)
		w.n += utf8.RuneCountInString(s)
		return
	}
	for _, r := range s {
		var piece string
		switch r {
		case '&':
			piece = "&amp;"
		case '<':
			piece = "&lt;"
		case '>':
			piece = "&gt;"
		case '\n', '\t':
		default:
			if r < 0x20 || r == 0x7f || r == utf8.RuneError {
				continue
			}
		}
		n := 1
		if piece != "" {
			n = len(piece)
		}
		if !w.fits(n, reserve) {
			return
		}
		if piece != "" {
			w.b.WriteString(piece)
		} else {
			w.b.WriteRune(r)
		}
		w.n += n
	}
}

// needsEscape says whether plain must look at s rune by rune: it holds
// &, <, >, control characters or bytes that are not valid UTF-8.
func needsEscape(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '&' || c == '<' || c == '>' || c == 0x7f:
			return true
		case c < 0x20 && c != '\n' && c != '\t':
			return true
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return !ascii && (!utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError))
}

// wrapped writes s between two marks (*bold*, `code`) on one line, with
// its surrounding blanks outside the marks so that Slack formats it. When
// cut, the closing mark is still written.
func (w *mdWriter) wrapped(mark, s string) {
	lead := strings.TrimLeftFunc(s, unicode.IsSpace) != s
	trail := strings.TrimRightFunc(s, unicode.IsSpace) != s
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		if lead {
			w.plain(" ", 0)
		}
		return
	}
	if lead {
		w.plain(" ", 0)
		if w.cut {
			return
		}
	}
	defer func() {
		if trail && !w.cut {
			w.plain(" ", 0)
		}
	}()
	// Opening mark, one character and the closing mark must fit.
	first, _ := utf8.DecodeRuneInString(s)
	need := 2 * len(mark)
	if first == '&' || first == '<' || first == '>' {
		need += 4
	}
	if !w.fits(need+1, 0) {
		return
	}
	w.b.WriteString(mark)
	w.n += len(mark)
	w.plain(s, len(mark))
	w.b.WriteString(mark)
	w.n += len(mark)
}

// link writes <url|label>, or the label alone when the URL is not one a
// reader should be sent to.
func (w *mdWriter) link(s bot.Span) {
	u, ok := safeURL(s.URL)
	label := strings.Map(func(r rune) rune {
		switch r {
		case '|', '>', '<', '\n', '\r', '\t':
			return -1
		}
		return r
	}, strings.Join(strings.Fields(s.Text), " "))
	if !ok {
		if label == "" {
			label = s.URL
		}
		w.plain(label, 0)
		return
	}
	if label == "" || label == s.URL {
		w.token("<" + u + ">")
		return
	}
	var lb mdWriter
	lb.limit = 1 << 30
	lb.plain(label, 0)
	w.token("<" + u + "|" + lb.b.String() + ">")
}

// safeURL returns u ready to sit inside <…> when it is an http, https or
// mailto URL: & is escaped, and <, > and | (which would end the link) are
// percent-encoded.
func safeURL(u string) (string, bool) {
	if u == "" || len(u) > maxURLChars || strings.ContainsFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", false
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(p.Scheme) {
	case "http", "https":
		if p.Host == "" {
			return "", false
		}
	case "mailto":
		if p.Opaque == "" {
			return "", false
		}
	default:
		return "", false
	}
	return urlEscaper.Replace(u), true
}

// isWebURL says whether u is an http or https URL Slack can open or fetch
// (button and image URLs).
func isWebURL(u string) bool {
	if _, ok := safeURL(u); !ok {
		return false
	}
	p, _ := url.Parse(u)
	s := strings.ToLower(p.Scheme)
	return s == "http" || s == "https"
}

// plainText cuts s, collapsed to one line, to limit characters with "…"
// (plain_text objects: headers, button labels, alt text). Slack does not
// parse mentions or links in plain_text.
func plainText(s string, limit int) string {
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)), " ")
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	if limit <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:limit-1]) + ellipsis
}
