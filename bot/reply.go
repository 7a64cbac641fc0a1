package bot

import (
	"strings"
	"time"
)

// Platform names a front door.
type Platform string

// The front doors.
const (
	Slack   Platform = "slack"
	Discord Platform = "discord"
	Console Platform = "console"
	HTTP    Platform = "http"
)

// Visibility says who sees a reply.
type Visibility int

const (
	// Ephemeral replies are seen by the person who asked (the default).
	Ephemeral Visibility = iota
	// InChannel replies are posted for everyone in the channel.
	InChannel
)

// Reply is a message in the platform-neutral model. Text is the plain-text
// summary (notifications, fallbacks, the console's first line); Blocks is the
// message itself. A renderer must keep within its platform's limits and say
// what it left out.
type Reply struct {
	Visibility Visibility
	Text       string
	Blocks     []Block
	// ReplaceOriginal, on a reply to a button click, replaces the message
	// that carried the button instead of adding a new one.
	ReplaceOriginal bool
	// IsError marks replies that report a problem (a console exits non-zero).
	IsError bool
	// Form, when set, asks for the inputs the command still needs. It is
	// only made for a Request with Forms set; the front door shows it (a
	// Slack or Discord modal) instead of the message, and renders the
	// message (which says what is missing, with the usage) when it cannot.
	Form *Form
}

// Block is one part of a reply: *Header, *Section, *Context, *Divider,
// *Actions or *Image.
type Block interface{ block() }

// Header is a title line.
type Header struct{ Text string }

// Section is a paragraph of rich text and an optional grid of labelled
// fields.
type Section struct {
	Text   Text
	Fields []Field
}

// Field is one labelled value of a section.
type Field struct {
	Label string
	Value Text
}

// Context is a line of small print (sources, hints, counts).
type Context struct{ Text Text }

// Divider is a horizontal rule.
type Divider struct{}

// Actions is a row of buttons.
type Actions struct{ Buttons []Button }

// ButtonStyle is a button's colour.
type ButtonStyle int

// Button styles.
const (
	Default ButtonStyle = iota
	Primary
	Danger
)

// Button runs Command when clicked, as the person who clicks it. Front doors
// put a signed, opaque value on the wire (Router.ButtonValue) and hand it
// back to Router.Click, so a forged or altered value runs nothing. A button
// with a URL opens the link instead.
type Button struct {
	Label   string
	Command string
	URL     string
	Style   ButtonStyle
	// Replace makes the answer replace the message that carried the button
	// (a which-one or did-you-mean picker) instead of adding one.
	Replace bool
	// Form makes a button whose Command is "run <action>" open the form of
	// the action's inputs, prefilled with the defaults, instead of running
	// it: nothing runs until the person submits the form. Where no form
	// can be shown, the answer says how to type the command.
	Form bool
}

// Image is a picture with its alternative text.
type Image struct {
	URL     string
	AltText string
	Title   string
}

func (*Header) block()  {}
func (*Section) block() {}
func (*Context) block() {}
func (*Divider) block() {}
func (*Actions) block() {}
func (*Image) block()   {}

// Text is inline rich text: plain runs, bold runs, links and mentions. Catalog
// data is untrusted: renderers escape every run for their platform, so a
// description cannot ping @channel or forge a link.
type Text []Span

// SpanKind says what a span is.
type SpanKind int

// Span kinds.
const (
	Plain SpanKind = iota
	Bold
	Code
	Link
	UserMention
	ChannelMention
	// Time is a moment; platforms that can show it in the reader's time
	// zone do (Slack's <!date>, Discord's <t:…>), others show Text.
	Time
)

// Span is one run of rich text. For a mention, IDs holds the platform
// identifiers known for the user or channel; a renderer that finds none for
// its platform shows Text instead.
type Span struct {
	Kind SpanKind
	Text string
	URL  string
	IDs  map[Platform]string
	At   time.Time
}

// T is plain text.
func T(s string) Text { return Text{{Kind: Plain, Text: s}} }

// B is bold text.
func B(s string) Span { return Span{Kind: Bold, Text: s} }

// P is a plain span.
func P(s string) Span { return Span{Kind: Plain, Text: s} }

// C is a code span (a ref, a command).
func C(s string) Span { return Span{Kind: Code, Text: s} }

// L is a link.
func L(label, url string) Span { return Span{Kind: Link, Text: label, URL: url} }

// Mention is a user mention shown as name where the platform id is unknown.
func Mention(name string, ids map[Platform]string) Span {
	return Span{Kind: UserMention, Text: name, IDs: ids}
}

// ChannelRef is a channel mention shown as name where the platform id is
// unknown.
func ChannelRef(name string, ids map[Platform]string) Span {
	return Span{Kind: ChannelMention, Text: name, IDs: ids}
}

// When is a moment shown in the reader's time zone where the platform can;
// Text is the fallback, in UTC.
func When(t time.Time) Span {
	return Span{Kind: Time, At: t, Text: t.UTC().Format("Mon 2 Jan 15:04 MST")}
}

// Join concatenates spans with sep (plain) between them.
func Join(sep string, parts ...Span) Text {
	var t Text
	for i, p := range parts {
		if i > 0 && sep != "" {
			t = append(t, P(sep))
		}
		t = append(t, p)
	}
	return t
}

// String is the text as plain characters: labels, names and URLs in
// parentheses; used for fallbacks and the console.
func (t Text) String() string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case Link:
			if s.Text != "" && s.Text != s.URL {
				b.WriteString(s.Text + " " + s.URL)
			} else {
				b.WriteString(s.URL)
			}
		case UserMention:
			b.WriteString("@" + s.Text)
		case ChannelMention:
			b.WriteString("#" + s.Text)
		default:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// Len is the number of characters of the plain rendering.
func (t Text) Len() int { return len([]rune(t.String())) }
