package discord

import (
	"context"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/idpbot/idpbot/bot"
)

// Discord's modal limits (interactions/receiving-and-responding,
// components/reference; docs/discord.md lists them).
const (
	maxModalTitle       = 45
	maxModalInputs      = 5
	maxInputLabel       = 45
	maxInputPlaceholder = 100
	maxInputValue       = 4000
	// maxSubmittedInputs bounds what is read of a MODAL_SUBMIT.
	maxSubmittedInputs = 25
)

// modalData is the data of a MODAL response (type 9): only the fields a
// modal takes.
type modalData struct {
	CustomID   string                       `json:"custom_id"`
	Title      string                       `json:"title"`
	Components []discordgo.MessageComponent `json:"components"`
}

// modal renders a form as a Discord modal: one text input per field, each
// in its own action row, the form's state as the modal's custom_id.
// Discord takes five inputs: the fields shown are the required ones still
// empty and the ones the person typed (whose values would otherwise be
// lost), then the others, in the form's order, while there is room. ok is
// false when the first group alone is more than five, when the form must
// show every field (Form.AllFields) and has more than five, when a value
// is longer than a text input takes (it is never cut), or when the state
// does not fit a custom_id: the front door then answers with the reply
// itself (what is missing, or how to type the command, with the usage).
func modal(f *bot.Form) (resp *response, ok bool) {
	if f == nil || f.State == "" || len(f.State) > maxCustomID || len(f.Fields) == 0 {
		return nil, false
	}
	if f.AllFields && len(f.Fields) > maxModalInputs {
		return nil, false
	}
	show := make([]bool, len(f.Fields))
	n := 0
	for i, fld := range f.Fields {
		if (fld.Required && fld.Value == "") || fld.Typed {
			show[i] = true
			n++
		}
	}
	if n > maxModalInputs {
		return nil, false
	}
	for i := range f.Fields {
		if n < maxModalInputs && !show[i] {
			show[i] = true
			n++
		}
	}
	var rows []discordgo.MessageComponent
	for i, fld := range f.Fields {
		if !show[i] {
			continue
		}
		if fld.Name == "" || len(fld.Name) > maxCustomID || (!fld.Secret && utf8.RuneCountInString(fld.Value) > maxInputValue) {
			return nil, false
		}
		rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{textInput(fld)}})
	}
	title := truncate(oneLine(f.Title, maxModalTitle*2), maxModalTitle)
	if title == "" {
		title = "idpbot"
	}
	return &response{Type: discordgo.InteractionResponseModal, Data: &modalData{CustomID: f.State, Title: title, Components: rows}}, true
}

// textInput is the input of one field: every kind of field is typed on
// Discord; the placeholder says what it takes.
func textInput(fld bot.FormField) discordgo.TextInput {
	label := truncate(oneLine(fld.Label, maxInputLabel*2), maxInputLabel)
	if label == "" {
		label = truncate(fld.Name, maxInputLabel)
	}
	ph := fld.Placeholder
	if ph == "" {
		ph = fld.Hint
	}
	in := discordgo.TextInput{
		CustomID:    fld.Name,
		Label:       label,
		Style:       discordgo.TextInputShort,
		Placeholder: truncate(oneLine(ph, maxInputPlaceholder*2), maxInputPlaceholder),
		Required:    fld.Required,
	}
	if fld.Multiline {
		in.Style = discordgo.TextInputParagraph
	}
	if !fld.Secret {
		in.Value = fld.Value // modal checked its length
	}
	if fld.Kind == bot.FieldText {
		if fld.Min != nil && *fld.Min >= 1 && *fld.Min <= maxInputValue {
			in.MinLength = int(*fld.Min)
		}
		if fld.Max != nil && *fld.Max >= 1 {
			in.MaxLength = int(min(*fld.Max, maxInputValue))
		}
	}
	return in
}

// modalValues reads the values of a submitted modal, by input custom_id.
func modalValues(data discordgo.ModalSubmitInteractionData) map[string]string {
	out := map[string]string{}
	var walk func(cs []discordgo.MessageComponent)
	walk = func(cs []discordgo.MessageComponent) {
		for _, c := range cs {
			if len(out) == maxSubmittedInputs {
				return
			}
			switch c := c.(type) {
			case *discordgo.ActionsRow:
				walk(c.Components)
			case discordgo.ActionsRow:
				walk(c.Components)
			case *discordgo.TextInput:
				out[c.CustomID] = c.Value
			case discordgo.TextInput:
				out[c.CustomID] = c.Value
			}
		}
	}
	walk(data.Components)
	return out
}

// modalSubmit finishes a form: the values are bound as typed ones are and
// the run is requested; the answer (the run, or what is wrong with which
// input and how to fix it) is an ephemeral message, deferred when slow.
func (fd *FrontDoor) modalSubmit(ctx context.Context, in *discordgo.Interaction, respond responder) {
	data := in.Data.(discordgo.ModalSubmitInteractionData)
	req := chatRequest(in)
	req.SubmissionID = in.ID
	values := modalValues(data)
	fd.answer(ctx, req, respond,
		func(ctx context.Context) *bot.Reply { return fd.router.Submit(ctx, req, data.CustomID, values).Reply },
		func(rep *bot.Reply) *response { return message(Render(rep, fd.router.ButtonValue), false) },
		&response{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource, Data: &deferredData{Flags: discordgo.MessageFlagsEphemeral}},
		func(ctx context.Context, rep *bot.Reply) error {
			return fd.editOriginal(ctx, in, Render(rep, fd.router.ButtonValue))
		})
}

// replyOrModal is the initial response of a command or click: its form as
// a modal when it has one that fits, else the reply.
func (fd *FrontDoor) replyOrModal(rep *bot.Reply, update bool) *response {
	if rep.Form != nil {
		if m, ok := modal(rep.Form); ok {
			return m
		}
	}
	return message(Render(rep, fd.router.ButtonValue), update)
}
