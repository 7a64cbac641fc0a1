package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/idpbot/idpbot/bot"
)

// deliveryTimeout bounds one piece of background work: running a command
// that missed the acknowledgement, or a click, and posting its reply.
const deliveryTimeout = time.Minute

// FrontDoor connects the bot to Slack: the HTTP endpoints (Handler), Socket
// Mode (RunSocketMode), deferred replies through response_url, and the Web
// API calls made with the bot token.
type FrontDoor struct {
	cfg    Config
	router *bot.Router
	log    *slog.Logger
	api    *slackapi.Client
	hc     *http.Client
	now    func() time.Time
	verify verifier
	retry  slackapi.RetryConfig
	// maxAckBytes is the largest Socket Mode acknowledgement with a payload.
	maxAckBytes int

	// bg tracks answers delivered after the acknowledgement.
	bg *bot.Deliveries
}

// Option adjusts a FrontDoor.
type Option func(*FrontDoor)

// WithHTTPClient sets the client for the Web API and response_url posts
// (default: a client with a 30 s timeout).
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

// WithRetry sets how Web API calls retry on HTTP 429 (default: 3 retries,
// honouring Retry-After). MaxRetries 0 turns retries off.
func WithRetry(rc slackapi.RetryConfig) Option {
	return func(fd *FrontDoor) { fd.retry = rc }
}

// New returns a FrontDoor for router; cfg is validated first.
func New(cfg Config, router *bot.Router, log *slog.Logger, opts ...Option) (*FrontDoor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	if router == nil {
		return nil, errors.New("slack: router is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fd := &FrontDoor{
		cfg:         cfg.withDefaults(),
		router:      router,
		log:         log.With("component", "slack"),
		hc:          &http.Client{Timeout: 30 * time.Second},
		now:         time.Now,
		retry:       defaultRetry(),
		maxAckBytes: socketAckLimit,
	}
	for _, o := range opts {
		o(fd)
	}
	fd.api = fd.newAPI(nil)
	fd.verify = verifier{secret: []byte(fd.cfg.SigningSecret), now: fd.now}
	fd.bg = bot.NewDeliveries("slack", deliveryTimeout)
	return fd, nil
}

// defaultRetry retries rate-limited Web API calls (HTTP 429) after the
// Retry-After Slack gives, with a little jitter.
func defaultRetry() slackapi.RetryConfig {
	rc := slackapi.DefaultRetryConfig()
	rc.MaxRetries = 3
	rc.RetryAfterDuration = 30 * time.Second
	rc.RetryAfterJitter = 250 * time.Millisecond
	return rc
}

// newAPI returns a Web API client with the bot token, the HTTP client and
// the retry policy (the retry wrapper must come after the HTTP client).
func (fd *FrontDoor) newAPI(extra []slackapi.Option) *slackapi.Client {
	opts := []slackapi.Option{slackapi.OptionHTTPClient(fd.hc)}
	if fd.cfg.APIURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(fd.cfg.APIURL))
	}
	opts = append(opts, slackapi.OptionRetryConfig(fd.retry))
	opts = append(opts, extra...)
	return slackapi.New(fd.cfg.BotToken, opts...)
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
// server (http.Server.Shutdown) and Socket Mode first, then call Shutdown.
func (fd *FrontDoor) Shutdown(ctx context.Context) error { return fd.bg.Shutdown(ctx) }

// Email returns the e-mail address of a Slack user's profile (users.info;
// needs the users:read.email scope). It implements bot.ProfileLookup.
func (fd *FrontDoor) Email(ctx context.Context, userID string) (string, error) {
	u, err := fd.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("slack users.info %s: %w", userID, err)
	}
	return u.Profile.Email, nil
}

var _ bot.ProfileLookup = (*FrontDoor)(nil)
