package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/idpbot/idpbot/bot"
)

// ErrMalformed says an interaction is not one Discord would send.
var ErrMalformed = errors.New("discord: malformed interaction")

// maxToken bounds an interaction token (Discord's are about 200
// characters).
const maxToken = 500

// decodeInteraction reads an interaction and checks what we rely on: a
// known type, ids, a token safe to put in a URL path, a user, and data of
// the right kind.
func decodeInteraction(body []byte, appID string) (*discordgo.Interaction, error) {
	var in discordgo.Interaction
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := checkInteraction(&in, appID); err != nil {
		return nil, err
	}
	return &in, nil
}

func checkInteraction(in *discordgo.Interaction, appID string) error {
	if in.Type == discordgo.InteractionPing {
		return nil
	}
	switch {
	case in.Type != discordgo.InteractionApplicationCommand && in.Type != discordgo.InteractionApplicationCommandAutocomplete &&
		in.Type != discordgo.InteractionMessageComponent && in.Type != discordgo.InteractionModalSubmit:
		return fmt.Errorf("%w: unknown type %d", ErrMalformed, in.Type)
	case !isSnowflake(in.ID):
		return fmt.Errorf("%w: id is not a snowflake", ErrMalformed)
	case in.AppID != appID:
		return fmt.Errorf("%w: application_id is not discord.application_id", ErrMalformed)
	case !safeToken(in.Token):
		return fmt.Errorf("%w: token missing or not URL-safe", ErrMalformed)
	case user(in) == nil || !isSnowflake(user(in).ID):
		return fmt.Errorf("%w: no member.user or user", ErrMalformed)
	}
	switch in.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		if _, ok := in.Data.(discordgo.ApplicationCommandInteractionData); !ok {
			return fmt.Errorf("%w: no command data", ErrMalformed)
		}
	case discordgo.InteractionMessageComponent:
		if _, ok := in.Data.(discordgo.MessageComponentInteractionData); !ok {
			return fmt.Errorf("%w: no component data", ErrMalformed)
		}
	case discordgo.InteractionModalSubmit:
		if _, ok := in.Data.(discordgo.ModalSubmitInteractionData); !ok {
			return fmt.Errorf("%w: no modal data", ErrMalformed)
		}
	}
	return nil
}

// safeToken reports whether an interaction token can go into a URL path
// as it is.
func safeToken(t string) bool {
	if t == "" || len(t) > maxToken {
		return false
	}
	for _, r := range t {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return t != "." && t != ".."
}

// user is the person behind an interaction: member.user in a guild, user
// in a DM.
func user(in *discordgo.Interaction) *discordgo.User {
	if in.Member != nil && in.Member.User != nil {
		return in.Member.User
	}
	return in.User
}

// chatRequest is the bot.Request of an interaction, without its text.
func chatRequest(in *discordgo.Interaction) *bot.Request {
	req := &bot.Request{ID: bot.NewRequestID(), Platform: bot.Discord, ChannelID: in.ChannelID, TeamID: in.GuildID}
	if u := user(in); u != nil {
		req.User = bot.ChatUser{ID: u.ID, Name: u.Username}
	}
	return req
}

// responder sends the initial response of an interaction: the body of the
// HTTP answer, or the callback endpoint for a gateway interaction.
type responder func(ctx context.Context, resp *response) error

// response is the initial response of an interaction. Data is
// *discordgo.InteractionResponseData for a message, or one of the small
// types below, which send only the fields that response type takes.
type response struct {
	Type discordgo.InteractionResponseType `json:"type"`
	Data any                               `json:"data,omitempty"`
}

// deferredData is the data of a deferred response (type 5): only the
// ephemeral flag is allowed.
type deferredData struct {
	Flags discordgo.MessageFlags `json:"flags"`
}

// choicesData is the data of an autocomplete result (type 8).
type choicesData struct {
	Choices []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
}

// shuttingDown is the answer to an interaction that arrives during
// shutdown.
var shuttingDown = &bot.Reply{IsError: true, Text: "idpbot is restarting; try again in a minute."}

// interact answers one verified interaction; respond is called exactly
// once.
func (fd *FrontDoor) interact(ctx context.Context, in *discordgo.Interaction, respond responder) {
	switch in.Type {
	case discordgo.InteractionPing:
		fd.send(ctx, respond, &response{Type: discordgo.InteractionResponsePong})
	case discordgo.InteractionApplicationCommand:
		fd.command(ctx, in, respond)
	case discordgo.InteractionApplicationCommandAutocomplete:
		fd.autocomplete(ctx, in, respond)
	case discordgo.InteractionMessageComponent:
		fd.click(ctx, in, respond)
	case discordgo.InteractionModalSubmit:
		fd.modalSubmit(ctx, in, respond)
	default:
		rep := &bot.Reply{IsError: true, Text: "idpbot does not handle that kind of interaction."}
		fd.send(ctx, respond, message(Render(rep, nil), false))
	}
}

func (fd *FrontDoor) send(ctx context.Context, respond responder, resp *response) {
	if err := respond(ctx, resp); err != nil {
		fd.log.WarnContext(ctx, "interaction response failed", "response_type", int(resp.Type), "error", err.Error())
	}
}

// message is the initial response carrying m: a new message (type 4) or
// the update of the message that carried the button (type 7).
func message(m *Message, update bool) *response {
	t := discordgo.InteractionResponseChannelMessageWithSource
	if update {
		t = discordgo.InteractionResponseUpdateMessage
	}
	return &response{Type: t, Data: m.responseData(update)}
}

// command runs /idp <subcommand> and answers within the budget (with a
// modal when the command asks for missing inputs), or defers (type 5) and
// edits the original response when the reply is ready.
func (fd *FrontDoor) command(ctx context.Context, in *discordgo.Interaction, respond responder) {
	data := in.Data.(discordgo.ApplicationCommandInteractionData)
	req := chatRequest(in)
	text, public := fd.commandText(data)
	req.Text = text
	req.Forms = fd.cfg.AckBudget > 0 // a modal can only be the initial response
	deferred := &response{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if !public {
		deferred.Data = &deferredData{Flags: discordgo.MessageFlagsEphemeral}
	}
	fd.answer(ctx, req, respond,
		func(ctx context.Context) *bot.Reply { return fd.router.Handle(ctx, req) },
		func(rep *bot.Reply) *response { return fd.replyOrModal(rep, false) },
		deferred,
		func(ctx context.Context, rep *bot.Reply) error {
			return fd.editOriginal(ctx, in, Render(rep, fd.router.ButtonValue))
		})
}

// click runs the command behind a button: a new ephemeral message, an
// update of the message with the button when the reply replaces it, or a
// modal when the command asks for missing inputs. A
// slow click is deferred (type 6) and finished by editing that message or
// by a follow-up.
func (fd *FrontDoor) click(ctx context.Context, in *discordgo.Interaction, respond responder) {
	data := in.Data.(discordgo.MessageComponentInteractionData)
	req := chatRequest(in)
	req.Forms = fd.cfg.AckBudget > 0
	fd.answer(ctx, req, respond,
		func(ctx context.Context) *bot.Reply { return fd.router.Click(ctx, req, data.CustomID) },
		func(rep *bot.Reply) *response { return fd.replyOrModal(rep, rep.ReplaceOriginal) },
		&response{Type: discordgo.InteractionResponseDeferredMessageUpdate},
		func(ctx context.Context, rep *bot.Reply) error {
			m := Render(rep, fd.router.ButtonValue)
			if rep.ReplaceOriginal {
				return fd.editOriginal(ctx, in, m)
			}
			return fd.followUp(ctx, in, m)
		})
}

// answer runs work in the background. A reply ready within the budget is
// the initial response (now); otherwise the initial response is deferred
// and, once that has gone out, finish delivers the reply.
func (fd *FrontDoor) answer(ctx context.Context, req *bot.Request, respond responder,
	work func(ctx context.Context) *bot.Reply,
	now func(*bot.Reply) *response,
	deferred *response,
	finish func(ctx context.Context, rep *bot.Reply) error,
) {
	ready := make(chan *bot.Reply)
	tooLate := make(chan struct{})
	sent := make(chan bool, 1)
	err := fd.goBackground(ctx, func(ctx context.Context) {
		rep := work(ctx)
		select {
		case ready <- rep:
			return
		case <-tooLate:
		}
		select {
		case ok := <-sent:
			if !ok {
				return
			}
		case <-ctx.Done():
			return
		}
		if err := finish(ctx, rep); err != nil {
			fd.log.WarnContext(ctx, "deferred reply not delivered", "request_id", req.ID, "error", err.Error())
			return
		}
		fd.log.DebugContext(ctx, "deferred reply delivered", "request_id", req.ID)
	})
	if err != nil {
		fd.send(ctx, respond, message(Render(shuttingDown, nil), false))
		return
	}
	if fd.cfg.AckBudget > 0 {
		t := time.NewTimer(fd.cfg.AckBudget)
		defer t.Stop()
		select {
		case rep := <-ready:
			fd.send(ctx, respond, now(rep))
			return
		case <-t.C:
		case <-ctx.Done():
		}
	}
	close(tooLate)
	err = respond(ctx, deferred)
	sent <- err == nil
	if err != nil {
		fd.log.WarnContext(ctx, "deferred response failed", "request_id", req.ID, "error", err.Error())
		return
	}
	fd.log.DebugContext(ctx, "reply deferred", "request_id", req.ID)
}

// maxChoicesShown is Discord's limit on autocomplete choices.
const maxChoicesShown = 25

// autocomplete answers typeahead on an argument with the router's
// suggestions (type 8), within the acknowledgement budget.
func (fd *FrontDoor) autocomplete(ctx context.Context, in *discordgo.Interaction, respond responder) {
	data := in.Data.(discordgo.ApplicationCommandInteractionData)
	choices := []*discordgo.ApplicationCommandOptionChoice{}
	if kind, prefix, ok := fd.focused(data); ok {
		budget := fd.cfg.AckBudget
		if budget <= 0 {
			budget = DefaultAckBudget
		}
		cctx, cancel := context.WithTimeout(ctx, budget)
		names, err := fd.router.Complete(cctx, kind, prefix, maxChoicesShown)
		cancel()
		if err != nil {
			fd.log.WarnContext(ctx, "autocomplete failed", "error", err.Error())
		}
		for _, n := range names {
			if n == "" || len(n) > maxChoiceLen || len(choices) == maxChoicesShown {
				continue // a cut name would complete to the wrong thing
			}
			choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: n, Value: n})
		}
	}
	fd.send(ctx, respond, &response{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &choicesData{Choices: choices},
	})
}

// editOriginal replaces the original response (the deferred "thinking"
// message, or the message whose button was clicked) with m.
func (fd *FrontDoor) editOriginal(ctx context.Context, in *discordgo.Interaction, m *Message) error {
	return fd.api.do(ctx, call{
		method: http.MethodPatch,
		path:   "/webhooks/" + fd.cfg.ApplicationID + "/" + in.Token + "/messages/@original",
		route:  "/webhooks/{application.id}/{interaction.token}/messages/@original",
		body:   m.webhookEdit(),
		retry:  true,
	}, nil)
}

// followUp posts m as a new message after the initial response.
func (fd *FrontDoor) followUp(ctx context.Context, in *discordgo.Interaction, m *Message) error {
	return fd.api.do(ctx, call{
		method: http.MethodPost,
		path:   "/webhooks/" + fd.cfg.ApplicationID + "/" + in.Token,
		route:  "/webhooks/{application.id}/{interaction.token}",
		body:   m.webhookParams(),
		retry:  true,
	}, nil)
}

// callback sends the initial response of a gateway interaction over HTTP,
// once: no retry on this path (the 3 s window would not allow it).
func (fd *FrontDoor) callback(ctx context.Context, in *discordgo.Interaction, resp *response) error {
	return fd.api.do(ctx, call{
		method: http.MethodPost,
		path:   "/interactions/" + in.ID + "/" + in.Token + "/callback",
		route:  "/interactions/{interaction.id}/{interaction.token}/callback",
		body:   resp,
	}, nil)
}
