package slack

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxBodyBytes = 64 << 10
	DefaultAckBudget    = 2500 * time.Millisecond
)

// ackLimit is Slack's deadline for an acknowledgement; AckBudget must leave
// room below it for the network.
const ackLimit = 3 * time.Second

// Config configures the Slack front door. The YAML keys (slack.bot_token,
// ...) are the names Validate uses in its errors; errors never carry the
// values of secrets.
type Config struct {
	// BotToken (xoxb-…) calls the Web API: users.info, chat.postMessage,
	// chat.update.
	BotToken string `yaml:"bot_token"`
	// SigningSecret verifies the signed HTTP requests. Without it the HTTP
	// endpoints refuse every request.
	SigningSecret string `yaml:"signing_secret"`
	// AppToken (xapp-…, scope connections:write) opens Socket Mode.
	AppToken string `yaml:"app_token"`
	// APIURL is another Web API base (Enterprise installs, tests); empty:
	// https://slack.com/api/.
	APIURL string `yaml:"api_url"`
	// MaxBodyBytes bounds the body of a slash command (default 64 KiB).
	// The interactivity endpoint accepts up to 2 MiB, or this if larger:
	// a form's submission carries its whole view back.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// AckBudget is how long a slash command may take to answer in the
	// acknowledgement itself (default 2.5 s, must be below 3 s); slower
	// answers are acknowledged empty and delivered through response_url.
	AckBudget time.Duration `yaml:"ack_budget"`
}

// withDefaults returns cfg with the zero values replaced by defaults.
func (cfg Config) withDefaults() Config {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.AckBudget == 0 {
		cfg.AckBudget = DefaultAckBudget
	}
	if cfg.APIURL != "" && !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/"
	}
	return cfg
}

// Validate checks cfg after defaults; each error names its key.
func (cfg Config) Validate() error {
	cfg = cfg.withDefaults()
	var errs []error
	switch {
	case cfg.BotToken == "":
		errs = append(errs, errors.New("slack.bot_token: required (OAuth & Permissions page of the Slack app)"))
	case !strings.HasPrefix(cfg.BotToken, "xoxb-"):
		errs = append(errs, errors.New("slack.bot_token: a bot token starts with xoxb-"))
	}
	if cfg.SigningSecret == "" && cfg.AppToken == "" {
		errs = append(errs, errors.New("slack.signing_secret: required for the HTTP endpoints unless slack.app_token is set for Socket Mode"))
	}
	if strings.ContainsAny(cfg.SigningSecret, " \t\r\n") {
		errs = append(errs, errors.New("slack.signing_secret: contains white space (copy it again from Basic Information → App Credentials)"))
	}
	if cfg.AppToken != "" && !strings.HasPrefix(cfg.AppToken, "xapp-") {
		errs = append(errs, errors.New("slack.app_token: an app-level token starts with xapp- (Basic Information → App-Level Tokens, scope connections:write)"))
	}
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("slack.api_url: %q is not an http(s) URL like https://slack.com/api/", cfg.APIURL))
		}
	}
	if cfg.MaxBodyBytes < 1<<10 || cfg.MaxBodyBytes > 16<<20 {
		errs = append(errs, fmt.Errorf("slack.max_body_bytes: %d is outside 1024 to %d", cfg.MaxBodyBytes, 16<<20))
	}
	if cfg.AckBudget <= 0 || cfg.AckBudget >= ackLimit {
		errs = append(errs, fmt.Errorf("slack.ack_budget: %s must be above 0 and below Slack's %s limit", cfg.AckBudget, ackLimit))
	}
	return errors.Join(errs...)
}
