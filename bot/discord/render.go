package discord

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/idpbot/idpbot/bot"
)

// Discord's message limits (resources/message and components/reference).
const (
	maxContent       = 2000
	maxEmbeds        = 10
	maxEmbedTotal    = 6000
	maxTitle         = 256
	maxDescription   = 4096
	maxFields        = 25
	maxFieldName     = 256
	maxFieldValue    = 1024
	maxFooter        = 2048
	maxButtonsPerRow = 5
	maxRows          = 5
	maxLabel         = 80
	maxCustomID      = 100
	maxLinkURL       = 512
)

// Embed colours: Discord's blurple, and red for replies that report a
// problem.
const (
	colorNormal = 0x5865F2
	colorError  = 0xED4245
)

// inlineField is the longest field value shown side by side with others.
const inlineField = 40

// Message is a reply rendered for Discord: the parts of a message that the
// interaction response, the original-response edit and the follow-up all
// carry.
type Message struct {
	Content    string
	Embeds     []*discordgo.MessageEmbed
	Components []discordgo.MessageComponent
	// Ephemeral is set unless the reply is for the whole channel.
	Ephemeral bool
}

// allowedMentions lets a message ping the users it mentions and nobody
// else: never @everyone, @here or a role.
func allowedMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}}
}

func (m *Message) flags() discordgo.MessageFlags {
	if m.Ephemeral {
		return discordgo.MessageFlagsEphemeral
	}
	return 0
}

// responseData is m as the data of an interaction response (types 4 and
// 7; type 7 cannot change who sees the message, so it sends no flags).
func (m *Message) responseData(update bool) *discordgo.InteractionResponseData {
	d := &discordgo.InteractionResponseData{
		Content:         m.Content,
		Embeds:          m.Embeds,
		Components:      m.Components,
		AllowedMentions: allowedMentions(),
	}
	if !update {
		d.Flags = m.flags()
	}
	return d
}

// webhookEdit is m as an edit of the original response.
func (m *Message) webhookEdit() *discordgo.WebhookEdit {
	content, embeds, components := m.Content, m.Embeds, m.Components
	return &discordgo.WebhookEdit{Content: &content, Embeds: &embeds, Components: &components, AllowedMentions: allowedMentions()}
}

// webhookParams is m as a follow-up message.
func (m *Message) webhookParams() *discordgo.WebhookParams {
	return &discordgo.WebhookParams{Content: m.Content, Embeds: m.Embeds, Components: m.Components, AllowedMentions: allowedMentions(), Flags: m.flags()}
}

// Render turns a reply into a Discord message within Discord's limits:
// Header → an embed's title, Section text → its description, Fields → its
// fields (inline when short), Context → its footer or a small line, Divider
// → a new embed, Image → an embed image, Actions → rows of buttons whose
// custom_id is value(button) (link buttons for URLs). What does not fit is
// cut or left out, and the message says so.
func Render(r *bot.Reply, value func(bot.Button) string) *Message {
	rd := &renderer{value: value, budget: maxEmbedTotal, ids: map[string]bool{}, color: colorNormal}
	if r.IsError {
		rd.color = colorError
	}
	for _, b := range r.Blocks {
		rd.block(b)
	}
	m := &Message{Ephemeral: r.Visibility != bot.InChannel, Components: []discordgo.MessageComponent{}}
	for _, e := range rd.embeds {
		if !emptyEmbed(e) {
			m.Embeds = append(m.Embeds, e)
		}
	}
	if m.Embeds == nil {
		m.Embeds = []*discordgo.MessageEmbed{}
	}
	for _, row := range rd.rows {
		m.Components = append(m.Components, discordgo.ActionsRow{Components: row})
	}
	var lines []string
	if len(m.Embeds) == 0 && r.Text != "" {
		lines = append(lines, escape(r.Text))
	}
	lines = append(lines, rd.notes()...)
	m.Content = strings.Join(lines, "\n")
	if width(m.Content) > maxContent {
		// Notes are short; the reply text is what gets cut.
		m.Content = cutPlain(m.Content, maxContent-1, false) + ellipsis
	}
	if m.Content == "" && len(m.Embeds) == 0 && len(m.Components) == 0 {
		m.Content = "Done."
	}
	return m
}

// renderer lays blocks out into embeds and button rows.
type renderer struct {
	value  func(bot.Button) string
	embeds []*discordgo.MessageEmbed
	// cur is the embed blocks are added to; nil after a divider.
	cur    *discordgo.MessageEmbed
	budget int
	color  int
	rows   [][]discordgo.MessageComponent
	ids    map[string]bool

	// What was left out, for the notes.
	droppedBlocks  int
	droppedFields  int
	droppedButtons int
	longButtons    int
	badLinks       int
	cutText        bool
}

// embed returns the current embed when fits says the next block can go
// into it, else a new embed; nil when the message has all the embeds it
// may have or no characters are left for them.
func (rd *renderer) embed(fits func(e *discordgo.MessageEmbed) bool) *discordgo.MessageEmbed {
	if rd.cur != nil && fits(rd.cur) {
		return rd.cur
	}
	if len(rd.embeds) == maxEmbeds || rd.budget <= 0 {
		return nil
	}
	rd.cur = &discordgo.MessageEmbed{Color: rd.color}
	rd.embeds = append(rd.embeds, rd.cur)
	return rd.cur
}

func emptyEmbed(e *discordgo.MessageEmbed) bool {
	return e.Title == "" && e.Description == "" && len(e.Fields) == 0 && e.Image == nil && e.Footer == nil
}

// room is how many characters a part whose own limit is limit may use of
// the embeds' shared budget.
func (rd *renderer) room(limit int) int { return max(min(limit, rd.budget), 0) }

// spend charges s to the shared budget.
func (rd *renderer) spend(s string) string {
	rd.budget -= width(s)
	return s
}

// plain cuts plain s (already escaped when it must be) to the room left.
func (rd *renderer) plain(s string, limit int) string {
	room := rd.room(limit)
	if width(s) > room {
		rd.cutText = true
		return rd.spend(truncate(s, room))
	}
	return rd.spend(s)
}

// rich renders t in the room left.
func (rd *renderer) rich(t bot.Text, limit int) string {
	s, cut := markdown(t, rd.room(limit))
	rd.cutText = rd.cutText || cut
	return rd.spend(s)
}

func (rd *renderer) block(b bot.Block) {
	switch b := b.(type) {
	case *bot.Header:
		e := rd.embed(emptyEmbed)
		if e == nil {
			rd.droppedBlocks++
			return
		}
		e.Title = rd.plain(escape(oneLine(b.Text, maxTitle*2)), maxTitle)
	case *bot.Section:
		rd.section(b)
	case *bot.Context:
		rd.context(b)
	case *bot.Divider:
		rd.cur = nil
	case *bot.Image:
		rd.image(b)
	case *bot.Actions:
		rd.actions(b)
	}
}

// textFits: text can go into the description only while nothing that
// Discord shows below it (fields, image, footer) is there yet.
func textFits(e *discordgo.MessageEmbed) bool {
	return len(e.Fields) == 0 && e.Image == nil && e.Footer == nil
}

func (rd *renderer) section(s *bot.Section) {
	if len(s.Text) > 0 {
		rd.paragraph(s.Text, "\n\n")
	}
	fieldFits := func(e *discordgo.MessageEmbed) bool {
		return len(e.Fields) < maxFields && e.Image == nil && e.Footer == nil
	}
	for i, f := range s.Fields {
		e := rd.embed(fieldFits)
		if e == nil || rd.budget < 2 {
			rd.droppedFields += len(s.Fields) - i
			return
		}
		name := oneLine(f.Label, maxFieldName*2)
		if name == "" {
			name = "\u200b"
		} else {
			name = escape(name)
		}
		name = rd.plain(name, maxFieldName)
		value := rd.rich(f.Value, maxFieldValue)
		if strings.TrimSpace(value) == "" {
			value = rd.spend("—")
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{
			Name:   name,
			Value:  value,
			Inline: shown(f.Value) <= inlineField && !strings.Contains(f.Value.String(), "\n"),
		})
	}
}

// paragraph adds text to the description of the current embed, after sep.
func (rd *renderer) paragraph(t bot.Text, sep string) {
	e := rd.embed(textFits)
	if e == nil {
		rd.droppedBlocks++
		return
	}
	if e.Description != "" {
		if rd.room(maxDescription-width(e.Description)) <= width(sep) {
			rd.cutText = true
			return
		}
		e.Description += rd.spend(sep)
	}
	e.Description += rd.rich(t, maxDescription-width(e.Description))
}

// context becomes the footer of the embed above it when it is plain (a
// footer shows no links or mentions), else a line of small print.
func (rd *renderer) context(c *bot.Context) {
	if rd.cur != nil && rd.cur.Footer == nil && !emptyEmbed(rd.cur) && plainText(c.Text) {
		rd.cur.Footer = &discordgo.MessageEmbedFooter{Text: rd.plain(c.Text.String(), maxFooter)}
		return
	}
	// Subtext ("-# ") is one line.
	line := make(bot.Text, 0, len(c.Text))
	for _, s := range c.Text {
		s.Text = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s.Text)
		line = append(line, s)
	}
	e := rd.embed(textFits)
	if e == nil {
		rd.droppedBlocks++
		return
	}
	sep := ""
	if e.Description != "" {
		sep = "\n"
	}
	if rd.room(maxDescription-width(e.Description)) <= width(sep+"-# ")+1 {
		rd.cutText = true
		return
	}
	e.Description += rd.spend(sep + "-# ")
	e.Description += rd.rich(line, maxDescription-width(e.Description))
}

// shown is about how many characters t takes on screen: links by their
// label, mentions by their name.
func shown(t bot.Text) int {
	n := 0
	for _, s := range t {
		switch {
		case s.Kind == bot.Link && s.Text != "":
			n += width(s.Text)
		case s.Kind == bot.UserMention || s.Kind == bot.ChannelMention:
			n += width(s.Text) + 1
		case s.Kind == bot.Time:
			n += 20
		default:
			n += width(s.Text) + width(s.URL)
		}
	}
	return n
}

// plainText reports whether t reads the same without markdown: no links,
// no mentions that would render as pings, no times.
func plainText(t bot.Text) bool {
	for _, s := range t {
		switch s.Kind {
		case bot.Plain, bot.Bold, bot.Code:
		default:
			return false
		}
	}
	return true
}

func (rd *renderer) image(im *bot.Image) {
	if !httpURL(im.URL, 2048) {
		rd.badLinks++
		return
	}
	e := rd.embed(func(e *discordgo.MessageEmbed) bool { return e.Image == nil && e.Footer == nil })
	if e == nil {
		rd.droppedBlocks++
		return
	}
	e.Image = &discordgo.MessageEmbedImage{URL: im.URL}
	if e.Title == "" && im.Title != "" {
		e.Title = rd.plain(escape(oneLine(im.Title, maxTitle*2)), maxTitle)
	}
	// Embed images have no alternative text; the description carries it
	// when nothing else describes the picture.
	if e.Description == "" && im.AltText != "" {
		e.Description = rd.plain(escape(oneLine(im.AltText, maxDescription)), maxDescription)
	}
}

func (rd *renderer) actions(a *bot.Actions) {
	row := -1 // each Actions block starts a new row
	for _, b := range a.Buttons {
		c, ok := rd.button(b)
		if !ok {
			continue
		}
		if row < 0 || len(rd.rows[row]) == maxButtonsPerRow {
			if len(rd.rows) == maxRows {
				rd.droppedButtons++
				continue
			}
			rd.rows = append(rd.rows, nil)
			row = len(rd.rows) - 1
		}
		rd.rows[row] = append(rd.rows[row], c)
	}
}

// button renders b, or reports that it cannot be sent.
func (rd *renderer) button(b bot.Button) (discordgo.Button, bool) {
	label := truncate(oneLine(b.Label, maxLabel*2), maxLabel)
	if label == "" {
		label = ellipsis
	}
	if b.URL != "" {
		if !httpURL(b.URL, maxLinkURL) {
			rd.badLinks++
			return discordgo.Button{}, false
		}
		return discordgo.Button{Label: label, Style: discordgo.LinkButton, URL: b.URL}, true
	}
	id := ""
	if rd.value != nil {
		id = rd.value(b)
	}
	if id == "" || len(id) > maxCustomID {
		rd.longButtons++
		return discordgo.Button{}, false
	}
	if rd.ids[id] {
		return discordgo.Button{}, false // the same command twice: once is enough
	}
	rd.ids[id] = true
	style := discordgo.SecondaryButton
	switch b.Style {
	case bot.Primary:
		style = discordgo.PrimaryButton
	case bot.Danger:
		style = discordgo.DangerButton
	}
	return discordgo.Button{Label: label, Style: style, CustomID: id}, true
}

func httpURL(raw string, limit int) bool {
	if raw == "" || len(raw) > limit {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// notes say what the message leaves out, as small print under it.
func (rd *renderer) notes() []string {
	var out []string
	if rd.droppedBlocks > 0 {
		out = append(out, fmt.Sprintf("-# and %d more %s not shown: the answer is longer than Discord allows", rd.droppedBlocks, noun(rd.droppedBlocks, "part")))
	}
	if rd.droppedFields > 0 {
		out = append(out, fmt.Sprintf("-# and %d more %s not shown", rd.droppedFields, noun(rd.droppedFields, "field")))
	}
	if rd.droppedButtons > 0 {
		out = append(out, fmt.Sprintf("-# and %d more %s not shown: Discord shows at most %d", rd.droppedButtons, noun(rd.droppedButtons, "button"), maxRows*maxButtonsPerRow))
	}
	if rd.longButtons > 0 {
		out = append(out, fmt.Sprintf("-# %s left out: the command is too long for a Discord button; type it instead", plural(rd.longButtons, "button")))
	}
	if rd.badLinks > 0 {
		out = append(out, fmt.Sprintf("-# %s left out: not an http(s) address Discord accepts", plural(rd.badLinks, "link")))
	}
	if rd.cutText && len(out) == 0 {
		out = append(out, "-# shortened to fit Discord's limits")
	}
	return out
}

func plural(n int, word string) string { return fmt.Sprintf("%d %s", n, noun(n, word)) }

func noun(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
