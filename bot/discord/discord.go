package discord

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/idpbot/idpbot/bot"
)

// deliveryTimeout bounds one piece of background work: a command or click
// that missed the initial response, and its edit or follow-up. Discord's
// interaction token lives 15 minutes; we give up long before.
const deliveryTimeout = time.Minute

// FrontDoor connects the bot to Discord: the HTTP interactions endpoint
// (Handler), the gateway (RunGateway), the /idp command's registration
// (Register) and the REST calls that finish deferred replies.
type FrontDoor struct {
	cfg    Config
	key    ed25519.PublicKey
	router *bot.Router
	log    *slog.Logger
	hc     *http.Client
	api    *rest
	now    func() time.Time

	// bg tracks answers delivered after the acknowledgement.
	bg *bot.Deliveries
}

// Option adjusts a FrontDoor.
type Option func(*FrontDoor)

// WithHTTPClient sets the client of the REST calls and of the gateway
// session (default: a client with a 30 s timeout).
func WithHTTPClient(c *http.Client) Option {
	return func(fd *FrontDoor) {
		if c != nil {
			fd.hc = c
		}
	}
}

// WithClock sets the clock that checks request timestamps (tests).
func WithClock(now func() time.Time) Option {
	return func(fd *FrontDoor) {
		if now != nil {
			fd.now = now
		}
	}
}

// New returns a FrontDoor for router; cfg is validated first.
func New(cfg Config, router *bot.Router, log *slog.Logger, opts ...Option) (*FrontDoor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	if router == nil {
		return nil, errors.New("discord: router is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	key, _ := parsePublicKey(cfg.PublicKey) // checked by Validate
	fd := &FrontDoor{
		cfg:    cfg,
		key:    key,
		router: router,
		log:    log.With("component", "discord"),
		hc:     &http.Client{Timeout: 30 * time.Second},
		now:    time.Now,
	}
	for _, o := range opts {
		o(fd)
	}
	fd.api = &rest{base: cfg.APIURL, token: cfg.BotToken, hc: fd.hc, log: fd.log, now: fd.now, wait: waitContext}
	fd.bg = bot.NewDeliveries("discord", deliveryTimeout)
	return fd, nil
}

// ErrShuttingDown refuses new work once Shutdown has begun.
var ErrShuttingDown = bot.ErrShuttingDown

// goBackground runs fn as tracked background work (see bot.Deliveries).
func (fd *FrontDoor) goBackground(parent context.Context, fn func(ctx context.Context)) error {
	return fd.bg.Go(parent, fn)
}

// Shutdown stops taking new work and waits for in-flight work (commands
// answered late, clicks and their follow-ups) to finish. When ctx ends
// first, it cancels what is left and returns ctx's error. Stop the HTTP
// server (http.Server.Shutdown) and the gateway first, then call Shutdown.
func (fd *FrontDoor) Shutdown(ctx context.Context) error { return fd.bg.Shutdown(ctx) }
