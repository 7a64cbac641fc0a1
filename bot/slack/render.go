package slack

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/idpbot/idpbot/bot"
)

// Slack's message limits (Block Kit reference; docs/slack.md lists them).
const (
	maxBlocks           = 50
	maxHeaderChars      = 150
	maxSectionChars     = 3000
	maxFieldChars       = 2000
	maxFieldsPerSection = 10
	maxContextChars     = 2000
	maxActionElements   = 25
	maxButtonTextChars  = 75
	maxButtonValueChars = 2000
	maxURLChars         = 3000
	maxAltTextChars     = 2000
	maxFallbackChars    = 3000
	// blockTextBudget is the characters all blocks of a message may carry;
	// Slack refuses messages of about 13k (msg_blocks_too_long).
	blockTextBudget = 10000
	// noteReserve is kept for the "and N more not shown" line.
	noteReserve = 40
)

// actionPrefix starts the action_id of every button that runs a command;
// link buttons use linkPrefix.
const (
	actionPrefix = "idp-"
	linkPrefix   = "link-"
)

// Render turns a reply into Block Kit: the top-level text (the notification
// and fallback, always set, at most 3000 characters) and the blocks, within
// Slack's limits. value gives the signed value of a command button
// (Router.ButtonValue); buttons without one are left out. What does not fit
// is cut, and a last context block says how much was left out.
func Render(r *bot.Reply, value func(bot.Button) string) (text string, blocks []slackapi.Block) {
	rr := renderer{value: value, budget: blockTextBudget - noteReserve}
	var pieces [][]slackapi.Block
	total := 0
	for _, b := range r.Blocks {
		if rr.cut || total > maxBlocks {
			break
		}
		ps := rr.block(b)
		pieces = append(pieces, ps)
		total += len(ps)
	}
	text = fallback(r)
	if total <= maxBlocks && len(pieces) == len(r.Blocks) && rr.dropped == 0 {
		for _, ps := range pieces {
			blocks = append(blocks, ps...)
		}
		return text, blocks
	}
	shown := 0
	for _, ps := range pieces {
		room := maxBlocks - 1 - len(blocks)
		if len(ps) > room {
			blocks = append(blocks, ps[:room]...)
			break
		}
		blocks = append(blocks, ps...)
		shown++
	}
	if n := len(r.Blocks) - shown + rr.dropped; n > 0 {
		blocks = append(blocks, slackapi.NewContextBlock("", mdObject(fmt.Sprintf("and %d more not shown", n))))
	}
	return text, blocks
}

// Message is the reply as Slack takes it in an acknowledgement, a
// response_url post or a Socket Mode ack: response_type ephemeral unless
// the reply is InChannel, and replace_original and delete_original set
// explicitly.
func Message(r *bot.Reply, value func(bot.Button) string) *slackapi.WebhookMessage {
	text, blocks := Render(r, value)
	msg := &slackapi.WebhookMessage{
		Text:            text,
		ResponseType:    slackapi.ResponseTypeEphemeral,
		ReplaceOriginal: r.ReplaceOriginal,
	}
	if r.Visibility == bot.InChannel {
		msg.ResponseType = slackapi.ResponseTypeInChannel
	}
	if len(blocks) > 0 {
		msg.Blocks = &slackapi.Blocks{BlockSet: blocks}
	}
	return msg
}

// fallback is the top-level text: the reply's summary, else its first
// header or section, escaped like all text.
func fallback(r *bot.Reply) string {
	t := r.Text
	for _, b := range r.Blocks {
		if t != "" {
			break
		}
		switch b := b.(type) {
		case *bot.Header:
			t = b.Text
		case *bot.Section:
			t = b.Text.String()
		}
	}
	if s, _, _ := mrkdwn(bot.T(t), maxFallbackChars); s != "" {
		return s
	}
	return "idpbot"
}

// renderer renders the blocks of one message, spending its text budget.
type renderer struct {
	value   func(bot.Button) string
	budget  int
	cut     bool // the budget ran out: no more blocks
	dropped int  // parts left out because Slack could not take them
	actions int  // buttons so far, for unique action ids
}

func (r *renderer) block(b bot.Block) []slackapi.Block {
	switch b := b.(type) {
	case *bot.Header:
		if s := r.plain(b.Text, maxHeaderChars); s != "" {
			return []slackapi.Block{slackapi.NewHeaderBlock(plainObject(s))}
		}
	case *bot.Section:
		return r.section(b)
	case *bot.Context:
		if s := r.md(b.Text, maxContextChars); s != "" {
			return []slackapi.Block{slackapi.NewContextBlock("", mdObject(s))}
		}
	case *bot.Divider:
		return []slackapi.Block{slackapi.NewDividerBlock()}
	case *bot.Actions:
		return r.buttons(b.Buttons)
	case *bot.Image:
		return r.image(b)
	default:
		r.dropped++
	}
	return nil
}

// md renders text within limit and the budget.
func (r *renderer) md(t bot.Text, limit int) string {
	if len(t) == 0 || r.cut {
		return ""
	}
	lim := min(limit, r.budget)
	s, n, cut := mrkdwn(t, lim)
	r.spend(n, cut && lim < limit)
	return s
}

// plain renders plain_text within limit and the budget.
func (r *renderer) plain(s string, limit int) string {
	if r.cut {
		return ""
	}
	lim := min(limit, r.budget)
	out := plainText(s, lim)
	r.spend(utf8.RuneCountInString(out), lim < limit && out != plainText(s, limit))
	return out
}

func (r *renderer) spend(n int, outOfBudget bool) {
	r.budget -= n
	if outOfBudget || r.budget <= 0 {
		r.cut = true
	}
}

// section renders text and fields; more than ten fields continue in
// further sections.
func (r *renderer) section(s *bot.Section) []slackapi.Block {
	text := r.md(s.Text, maxSectionChars)
	var fields []*slackapi.TextBlockObject
	for _, f := range s.Fields {
		if r.cut {
			break
		}
		t := append(bot.Text{bot.B(f.Label), bot.P("\n")}, f.Value...)
		if len(f.Value) == 0 {
			t = append(t, bot.P("–"))
		}
		if v := r.md(t, maxFieldChars); v != "" {
			fields = append(fields, mdObject(v))
		}
	}
	var out []slackapi.Block
	var first *slackapi.TextBlockObject
	if text != "" {
		first = mdObject(text)
	}
	for len(fields) > 0 || first != nil {
		n := min(len(fields), maxFieldsPerSection)
		var chunk []*slackapi.TextBlockObject
		if n > 0 {
			chunk = fields[:n:n]
		}
		out = append(out, slackapi.NewSectionBlock(first, chunk, nil))
		fields, first = fields[n:], nil
	}
	return out
}

// buttons renders a row of buttons; more than 25 continue in further
// actions blocks.
func (r *renderer) buttons(bs []bot.Button) []slackapi.Block {
	var elems []slackapi.BlockElement
	for _, b := range bs {
		if r.cut {
			break
		}
		label := plainText(b.Label, maxButtonTextChars)
		if label == "" {
			label = "Open"
		}
		var el *slackapi.ButtonBlockElement
		if b.URL != "" {
			if !isWebURL(b.URL) {
				r.dropped++
				continue
			}
			el = slackapi.NewButtonBlockElement(linkPrefix+strconv.Itoa(r.actions), "", plainObject(label))
			el.URL = b.URL
			r.spend(utf8.RuneCountInString(label)+len(b.URL), false)
		} else {
			var v string
			if r.value != nil {
				v = r.value(b)
			}
			if v == "" || len(v) > maxButtonValueChars {
				r.dropped++
				continue
			}
			el = slackapi.NewButtonBlockElement(actionPrefix+strconv.Itoa(r.actions), v, plainObject(label))
			r.spend(utf8.RuneCountInString(label)+len(v), false)
		}
		r.actions++
		switch b.Style {
		case bot.Primary:
			el.Style = slackapi.StylePrimary
		case bot.Danger:
			el.Style = slackapi.StyleDanger
		}
		elems = append(elems, el)
	}
	var out []slackapi.Block
	for len(elems) > 0 {
		n := min(len(elems), maxActionElements)
		out = append(out, slackapi.NewActionBlock("", elems[:n:n]...))
		elems = elems[n:]
	}
	return out
}

func (r *renderer) image(im *bot.Image) []slackapi.Block {
	if !isWebURL(im.URL) {
		r.dropped++
		return nil
	}
	alt := r.plain(im.AltText, maxAltTextChars)
	if alt == "" {
		alt = "image"
	}
	var title *slackapi.TextBlockObject
	if t := r.plain(im.Title, maxAltTextChars); t != "" {
		title = plainObject(t)
	}
	return []slackapi.Block{slackapi.NewImageBlock(im.URL, alt, "", title)}
}

func mdObject(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, s, false, false)
}

func plainObject(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, false, false)
}
