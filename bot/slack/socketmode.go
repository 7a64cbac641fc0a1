package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/idpbot/idpbot/bot"
)

// socketAckLimit is the largest Socket Mode acknowledgement, envelope
// included, that carries a reply: Slack silently drops responses of 20 KB
// or more, so bigger replies go through response_url.
const socketAckLimit = 20*1024 - 1

// ackTimeout bounds queueing one acknowledgement on the socket.
const ackTimeout = time.Second

// RunSocketMode connects to Slack over Socket Mode with the app-level token
// and serves slash commands and button clicks until ctx ends (then it
// returns nil). Every envelope is acknowledged within Slack's 3 seconds:
// a slash command with its reply when that is ready within AckBudget and
// small enough, else empty with the reply posted to response_url; clicks
// and anything else at once. Call Shutdown after it returns to drain
// deliveries.
func (fd *FrontDoor) RunSocketMode(ctx context.Context) error {
	if fd.cfg.AppToken == "" {
		return errors.New("slack: Socket Mode needs slack.app_token")
	}
	logOpt := slackapi.OptionLog(slogOutput{fd.log})
	api := fd.newAPI([]slackapi.Option{slackapi.OptionAppLevelToken(fd.cfg.AppToken), logOpt})
	client := socketmode.New(api, socketmode.OptionLog(slogOutput{fd.log}))

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- client.RunContext(runCtx) }()
	for {
		select {
		case <-ctx.Done():
			cancel()
			<-errc
			return nil
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt := <-client.Events:
			fd.socketEvent(ctx, client, evt)
		}
	}
}

// socketEvent handles one event of the Socket Mode client without blocking
// the loop: slash commands run on their own goroutine.
func (fd *FrontDoor) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slackapi.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		fd.socketSlash(ctx, client, evt.Request.EnvelopeID, cmd)
	case socketmode.EventTypeInteractive:
		if evt.Request == nil {
			return
		}
		in, err := decodeInteraction(evt.Request.Payload)
		if err != nil {
			fd.ack(ctx, client, evt.Request.EnvelopeID, nil)
			fd.log.WarnContext(ctx, "socket mode: interaction refused", "reason", err.Error())
			return
		}
		if in.Type == string(slackapi.InteractionTypeViewSubmission) {
			fd.socketSubmit(ctx, client, evt.Request.EnvelopeID, in)
			return
		}
		fd.ack(ctx, client, evt.Request.EnvelopeID, nil)
		if err := fd.interact(ctx, in); err != nil {
			fd.log.WarnContext(ctx, "socket mode: click dropped", "reason", err.Error())
		}
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not parse it; acknowledge it anyway so that Slack
		// does not retry it.
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal(bad.Message, &env) == nil {
				fd.ack(ctx, client, env.EnvelopeID, nil)
			}
			fd.log.WarnContext(ctx, "socket mode: unreadable envelope", "reason", bad.Cause.Error())
		}
	case socketmode.EventTypeConnecting:
		fd.log.DebugContext(ctx, "socket mode: connecting")
	case socketmode.EventTypeConnected:
		fd.log.InfoContext(ctx, "socket mode: connected")
	case socketmode.EventTypeHello, socketmode.EventTypeDisconnect:
		fd.log.DebugContext(ctx, "socket mode: "+string(evt.Type))
	case socketmode.EventTypeInvalidAuth:
		fd.log.ErrorContext(ctx, "socket mode: Slack refused slack.app_token")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		fd.log.WarnContext(ctx, "socket mode: "+string(evt.Type), "error", fmt.Sprint(evt.Data))
	default:
		if evt.Request != nil {
			fd.ack(ctx, client, evt.Request.EnvelopeID, nil)
		}
	}
}

// socketSlash acknowledges a slash command with its reply when that is
// ready within AckBudget and under the 20 KB limit; otherwise it
// acknowledges empty and posts the reply to response_url.
func (fd *FrontDoor) socketSlash(ctx context.Context, client *socketmode.Client, envelopeID string, cmd slackapi.SlashCommand) {
	if err := checkSlash(cmd); err != nil {
		fd.ack(ctx, client, envelopeID, nil)
		fd.log.WarnContext(ctx, "socket mode: slash command refused", "reason", err.Error())
		return
	}
	trig := newTrigger(cmd.TriggerID)
	err := fd.goBackground(ctx, func(ctx context.Context) {
		req := slashRequest(cmd)
		later := func(ctx context.Context, rep *bot.Reply) { fd.answer(ctx, req, trig, cmd.ResponseURL, rep) }
		rep, late := fd.handleWithin(ctx, req, later)
		if late {
			fd.ack(ctx, client, envelopeID, nil)
			return
		}
		if rep.Form != nil {
			fd.ack(ctx, client, envelopeID, nil)
			later(ctx, rep)
			return
		}
		msg := Message(rep, fd.router.ButtonValue)
		if js, err := json.Marshal(socketmode.Response{EnvelopeID: envelopeID, Payload: msg}); err == nil && len(js) <= fd.maxAckBytes {
			fd.ack(ctx, client, envelopeID, msg)
			return
		}
		fd.ack(ctx, client, envelopeID, nil)
		fd.deliverMessage(ctx, req, cmd.ResponseURL, msg)
	})
	if err != nil {
		fd.ack(ctx, client, envelopeID, Message(shuttingDown, nil))
	}
}

// socketSubmit acknowledges a view_submission with its response action
// (field errors, or clear) without blocking the event loop.
func (fd *FrontDoor) socketSubmit(ctx context.Context, client *socketmode.Client, envelopeID string, in *interaction) {
	err := fd.goBackground(ctx, func(ctx context.Context) {
		if resp := fd.submitView(ctx, in); resp != nil {
			fd.ack(ctx, client, envelopeID, resp)
			return
		}
		fd.ack(ctx, client, envelopeID, nil)
	})
	if err != nil {
		fd.ack(ctx, client, envelopeID, nil)
	}
}

// ack queues the acknowledgement of an envelope.
func (fd *FrontDoor) ack(ctx context.Context, client *socketmode.Client, envelopeID string, payload any) {
	if envelopeID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	if err := client.AckCtx(ctx, envelopeID, payload); err != nil {
		fd.log.WarnContext(ctx, "socket mode: acknowledge", "envelope_id", envelopeID, "error", err.Error())
	}
}

// slogOutput gives slack-go's debug logging to slog, at debug level.
type slogOutput struct{ log *slog.Logger }

func (o slogOutput) Output(_ int, s string) error {
	o.log.Debug(strings.TrimSpace(s), "source", "slack-go")
	return nil
}
