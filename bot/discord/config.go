package discord

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultAPIURL          = "https://discord.com/api/v10"
	DefaultMaxBodyBytes    = 256 << 10
	DefaultAckBudget       = 2500 * time.Millisecond
	DefaultTimestampWindow = 5 * time.Minute
)

// ackLimit is Discord's deadline for the initial response to an
// interaction; AckBudget must leave room below it for the network.
const ackLimit = 3 * time.Second

// Config configures the Discord front door. The YAML keys (discord.bot_token,
// ...) are the names Validate uses in its errors; errors never carry the
// values of secrets.
type Config struct {
	// BotToken authenticates the REST calls that need the bot
	// (registering the command) and the gateway connection.
	BotToken string `yaml:"bot_token"`
	// ApplicationID is the application's id (a snowflake), in the path of
	// the command and webhook endpoints.
	ApplicationID string `yaml:"application_id"`
	// PublicKey is the application's Ed25519 public key, hex (General
	// Information page); the HTTP endpoint verifies every request with it.
	PublicKey string `yaml:"public_key"`
	// APIURL is another REST base (tests, proxies); empty:
	// https://discord.com/api/v10.
	APIURL string `yaml:"api_url"`
	// GuildID, when set, registers the command in that guild only
	// (instant updates, for testing) instead of globally.
	GuildID string `yaml:"guild_id"`
	// MaxBodyBytes bounds a request body (default 256 KiB: a modal
	// submission of five 4,000-character fields is about 80 KB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// AckBudget is how long a command may take to answer in the initial
	// response (default 2.5 s, below Discord's 3 s); slower answers are
	// deferred and finished by editing the original response. Tests set
	// a negative value to defer every command.
	AckBudget time.Duration `yaml:"ack_budget"`
	// Gateway makes the bot take interactions over the gateway
	// (RunGateway) instead of the HTTP endpoint: for deployments without a
	// public HTTPS address. cmd reads it; the front door serves both.
	Gateway bool `yaml:"gateway"`
	// TimestampWindow is how far X-Signature-Timestamp may be from now
	// (default 5 min): Discord defines no replay window, this is ours.
	TimestampWindow time.Duration `yaml:"timestamp_window"`
}

// withDefaults returns cfg with the zero values replaced by defaults.
func (cfg Config) withDefaults() Config {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.AckBudget == 0 {
		cfg.AckBudget = DefaultAckBudget
	}
	if cfg.TimestampWindow == 0 {
		cfg.TimestampWindow = DefaultTimestampWindow
	}
	return cfg
}

// Validate checks cfg after defaults; each error names its key.
func (cfg Config) Validate() error {
	cfg = cfg.withDefaults()
	var errs []error
	switch {
	case cfg.BotToken == "":
		errs = append(errs, errors.New("discord.bot_token: required (Bot page of the Discord application)"))
	case strings.HasPrefix(cfg.BotToken, "Bot "):
		errs = append(errs, errors.New(`discord.bot_token: give the token without the "Bot " prefix`))
	case strings.ContainsAny(cfg.BotToken, " \t\r\n"):
		errs = append(errs, errors.New("discord.bot_token: contains white space (copy it again from the Bot page)"))
	}
	if !isSnowflake(cfg.ApplicationID) {
		errs = append(errs, errors.New("discord.application_id: required, the numeric id from the General Information page"))
	}
	if _, err := parsePublicKey(cfg.PublicKey); err != nil {
		errs = append(errs, fmt.Errorf("discord.public_key: %w", err))
	}
	if cfg.GuildID != "" && !isSnowflake(cfg.GuildID) {
		errs = append(errs, fmt.Errorf("discord.guild_id: %q is not a numeric guild id", cfg.GuildID))
	}
	if u, err := url.Parse(cfg.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("discord.api_url: %q is not an http(s) URL like %s", cfg.APIURL, DefaultAPIURL))
	}
	if cfg.MaxBodyBytes < 1<<10 || cfg.MaxBodyBytes > 16<<20 {
		errs = append(errs, fmt.Errorf("discord.max_body_bytes: %d is outside 1024 to %d", cfg.MaxBodyBytes, 16<<20))
	}
	if cfg.AckBudget >= ackLimit {
		errs = append(errs, fmt.Errorf("discord.ack_budget: %s must be below Discord's %s limit", cfg.AckBudget, ackLimit))
	}
	if cfg.TimestampWindow < 0 || cfg.TimestampWindow > time.Hour {
		errs = append(errs, fmt.Errorf("discord.timestamp_window: %s is outside 0 to 1h", cfg.TimestampWindow))
	}
	return errors.Join(errs...)
}

// parsePublicKey decodes a hex Ed25519 public key. Its errors do not show
// the value (a public key is no secret, but a pasted private key would be).
func parsePublicKey(s string) (ed25519.PublicKey, error) {
	if s == "" {
		return nil, errors.New("required, the hex public key from the General Information page")
	}
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("is not hex (copy the Public Key from the General Information page)")
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("is %d bytes; an Ed25519 public key has %d (64 hex digits)", len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// isSnowflake reports whether s looks like a Discord id: 1 to 20 digits.
func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
