package discord

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/bwmarrin/discordgo"
)

// RunGateway connects to Discord's gateway with no privileged intents and
// answers the interactions it delivers, until ctx ends. Responses go over
// HTTP (the interaction callback), never the gateway. Use it instead of
// the HTTP endpoint, not with it: Discord sends interactions to one or
// the other.
func (fd *FrontDoor) RunGateway(ctx context.Context) error {
	s, err := discordgo.New("Bot " + fd.cfg.BotToken)
	if err != nil {
		return fmt.Errorf("discord: gateway session: %w", err)
	}
	s.Client = fd.sessionClient()
	s.Identify.Intents = discordgo.IntentsNone
	s.ShouldRetryOnRateLimit = false
	s.StateEnabled = false
	s.AddHandler(func(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
		fd.gatewayInteraction(ctx, ic)
	})
	if err := s.Open(); err != nil {
		return fmt.Errorf("discord: open gateway: %w", err)
	}
	fd.log.InfoContext(ctx, "discord gateway connected")
	<-ctx.Done()
	if err := s.Close(); err != nil {
		fd.log.WarnContext(ctx, "discord gateway close", "error", err.Error())
	}
	fd.log.InfoContext(ctx, "discord gateway closed")
	return nil
}

// gatewayInteraction answers an interaction from the gateway; the initial
// response goes to the callback endpoint within Discord's 3 s.
func (fd *FrontDoor) gatewayInteraction(ctx context.Context, ic *discordgo.InteractionCreate) {
	if ic == nil || ic.Interaction == nil {
		return
	}
	in := ic.Interaction
	if in.Type == discordgo.InteractionPing {
		return // HTTP endpoints only
	}
	if err := checkInteraction(in, fd.cfg.ApplicationID); err != nil {
		fd.log.WarnContext(ctx, "gateway interaction ignored", "reason", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(ctx, ackLimit)
	defer cancel()
	fd.interact(ctx, in, func(ctx context.Context, resp *response) error {
		return fd.callback(ctx, in, resp)
	})
}

// sessionClient is the HTTP client of the discordgo session: ours, sending
// Discord's API host to APIURL when that is another base.
func (fd *FrontDoor) sessionClient() *http.Client {
	if fd.cfg.APIURL == DefaultAPIURL {
		return fd.hc
	}
	base, err := url.Parse(fd.cfg.APIURL)
	if err != nil {
		return fd.hc // Validate checked it
	}
	c := *fd.hc
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &rewriteTransport{base: base, next: next}
	return &c
}
