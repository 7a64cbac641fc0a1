package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/idpbot/idpbot/bot/discord"
	"github.com/idpbot/idpbot/bot/httpapi"
	"github.com/idpbot/idpbot/bot/slack"
	"github.com/idpbot/idpbot/integrations/github"
	"github.com/idpbot/idpbot/integrations/opsgenie"
	"github.com/idpbot/idpbot/integrations/pagerduty"
)

// config is the file given to `idpbot serve --config`. Every value may use
// ${ENV} to read an environment variable (for secrets); a variable that is
// not set is an error naming the key.
type config struct {
	DataDir string        `yaml:"data_dir"`
	Listen  string        `yaml:"listen"`
	Catalog catalogConfig `yaml:"catalog"`
	// Scorecards are loaded at start (files, directories, globs).
	Scorecards scorecardsConfig `yaml:"scorecards"`
	// Actions are the self-service action definitions.
	Actions actionsConfig `yaml:"actions"`
	// Leaderboards schedules the weekly posts to team channels.
	Leaderboards leaderboardsConfig `yaml:"leaderboards"`
	Slack        slack.Config       `yaml:"slack"`
	Discord      discord.Config     `yaml:"discord"`
	API          httpapi.Config     `yaml:"api"`
	PagerDuty    pagerduty.Config   `yaml:"pagerduty"`
	Opsgenie     opsgenie.Config    `yaml:"opsgenie"`
	GitHub       github.Config      `yaml:"github"`
	Log          logConfig          `yaml:"log"`
	Buttons      buttonsConfig      `yaml:"buttons"`
}

type catalogConfig struct {
	// Paths are ingested at start (files, directories, globs), as one
	// source.
	Paths []string `yaml:"paths"`
	// Interval re-reads Paths on a schedule (e.g. behind a git-sync
	// sidecar); 0: only at start.
	Interval time.Duration `yaml:"interval"`
}

type scorecardsConfig struct {
	Paths []string `yaml:"paths"`
	// Interval is how often every scorecard is evaluated over the catalog
	// (history, metrics, leaderboards); default 1h.
	Interval time.Duration `yaml:"interval"`
}

type logConfig struct {
	Level string `yaml:"level"`
	File  string `yaml:"file"`
}

type buttonsConfig struct {
	// SigningKey signs button values (at least 32 characters). Empty: a
	// random key kept in the data directory (button.key).
	SigningKey string `yaml:"signing_key"`
}

// defaultListen is where serve listens without a config or --listen.
const defaultListen = "127.0.0.1:8080"

// envRef matches ${NAME}.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// loadConfig reads and validates a config file.
func loadConfig(path string, getenv func(string) string) (*config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parseConfig(path, data, getenv)
}

func parseConfig(name string, data []byte, getenv func(string) string) (*config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	cfg := &config{}
	if len(root.Content) == 0 {
		return cfg, cfg.validate()
	}
	if err := expandEnv(root.Content[0], "", getenv); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out, err := yaml.Marshal(root.Content[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("%s: %w (see deploy/examples/config.yaml for the keys)", name, err)
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}

// expandEnv replaces ${NAME} in every scalar under n; path is the dotted key
// of n, for errors.
func expandEnv(n *yaml.Node, path string, getenv func(string) string) error {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if path != "" {
				key = path + "." + key
			}
			if err := expandEnv(n.Content[i+1], key, getenv); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := expandEnv(c, fmt.Sprintf("%s[%d]", path, i), getenv); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		var missing []string
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := envRef.FindStringSubmatch(m)[1]
			v := getenv(name)
			if v == "" {
				missing = append(missing, name)
			}
			return v
		})
		if len(missing) > 0 {
			return fmt.Errorf("line %d: %s: environment variable %s is not set (set it, or remove the key)", n.Line, path, strings.Join(missing, ", "))
		}
		if n.Tag == "!!null" || n.Tag == "" {
			n.Tag = "!!str"
		}
	}
	return nil
}

func (c *config) validate() error {
	var errs []error
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			errs = append(errs, fmt.Errorf("listen: %q is not host:port (e.g. 127.0.0.1:8080 or :8080)", c.Listen))
		}
	}
	if c.Log.Level != "" {
		switch strings.ToLower(c.Log.Level) {
		case "debug", "info", "warn", "error":
		default:
			errs = append(errs, fmt.Errorf("log.level: %q: use debug, info, warn or error", c.Log.Level))
		}
	}
	if k := c.Buttons.SigningKey; k != "" && len(k) < 32 {
		errs = append(errs, fmt.Errorf("buttons.signing_key: too short (%d characters); use at least 32 random characters, e.g. from `openssl rand -hex 32`", len(k)))
	}
	if s := c.Slack; s.BotToken != "" || s.SigningSecret != "" || s.AppToken != "" {
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.PagerDuty.Token != "" || c.PagerDuty.APIURL != "" {
		if err := c.PagerDuty.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Opsgenie.APIKey != "" || c.Opsgenie.APIURL != "" {
		if err := c.Opsgenie.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.GitHub.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.API.Validate(); err != nil {
		errs = append(errs, err)
	}
	if iv := c.Catalog.Interval; iv != 0 && (iv < 10*time.Second || iv > 7*24*time.Hour) {
		errs = append(errs, fmt.Errorf("catalog.interval: %s; use 10s to 168h, or leave it out to read the paths only at start", iv))
	}
	if iv := c.Scorecards.Interval; iv != 0 && (iv < time.Minute || iv > 7*24*time.Hour) {
		errs = append(errs, fmt.Errorf("scorecards.interval: %s; use 1m to 168h (default 1h)", iv))
	}
	if err := c.Leaderboards.validate(); err != nil {
		errs = append(errs, err)
	}
	if d := c.Discord; d.BotToken != "" || d.ApplicationID != "" || d.PublicKey != "" {
		if err := d.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// applyEnv fills what the file left empty from the conventional environment
// variables.
func (c *config) applyEnv(getenv func(string) string) {
	set := func(dst *string, env string) {
		if *dst == "" {
			*dst = getenv(env)
		}
	}
	set(&c.Slack.BotToken, "SLACK_BOT_TOKEN")
	set(&c.Slack.SigningSecret, "SLACK_SIGNING_SECRET")
	set(&c.Slack.AppToken, "SLACK_APP_TOKEN")
	set(&c.Slack.APIURL, "SLACK_API_URL")
	set(&c.Buttons.SigningKey, "IDPBOT_BUTTON_KEY")
	set(&c.PagerDuty.Token, "PAGERDUTY_TOKEN")
	set(&c.PagerDuty.APIURL, "PAGERDUTY_API_URL")
	set(&c.Opsgenie.APIKey, "OPSGENIE_API_KEY")
	set(&c.Opsgenie.APIURL, "OPSGENIE_API_URL")
	set(&c.Discord.BotToken, "DISCORD_BOT_TOKEN")
	set(&c.Discord.ApplicationID, "DISCORD_APPLICATION_ID")
	set(&c.Discord.PublicKey, "DISCORD_PUBLIC_KEY")
	set(&c.Discord.APIURL, "DISCORD_API_URL")
	set(&c.Discord.GuildID, "DISCORD_GUILD_ID")
	if g := &c.GitHub; g.Enabled() && g.Token == "" && g.App == (github.AppConfig{}) {
		// Discovery is configured without credentials: the conventional
		// variable (GITHUB_TOKEN is only read for it, not on its own).
		g.Token = getenv("GITHUB_TOKEN")
	}
	if tok := getenv("IDPBOT_API_TOKEN"); tok != "" {
		c.API.Tokens = append(c.API.Tokens, httpapi.Token{Name: "env", Token: tok, Scopes: []string{httpapi.ScopeRead, httpapi.ScopeFactsWrite}})
	}
	if v := strings.ToLower(getenv("DISCORD_GATEWAY")); v == "1" || v == "true" || v == "yes" {
		c.Discord.Gateway = true
	}
}

// discordEnabled says whether the Discord front door is configured.
func (c *config) discordEnabled() bool {
	return c.Discord.BotToken != "" && c.Discord.ApplicationID != ""
}

// slackEnabled says whether the Slack front door has what it needs.
func (c *config) slackEnabled() bool {
	return c.Slack.BotToken != "" && (c.Slack.SigningSecret != "" || c.Slack.AppToken != "")
}
