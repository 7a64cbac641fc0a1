package pagerduty

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/idpbot/idpbot/integrations/apiurl"
	"github.com/idpbot/idpbot/integrations/oncall"
)

// Defaults of Config.
const (
	DefaultAPIURL    = "https://api.pagerduty.com"
	DefaultTimeout   = 10 * time.Second
	DefaultLookahead = 14 * 24 * time.Hour
	// maxLookahead is the longest since/until range /oncalls accepts.
	maxLookahead = 90 * 24 * time.Hour
)

// Config configures the PagerDuty on-call source. The YAML keys
// (pagerduty.token, …) are the names Validate uses; errors never carry the
// token.
type Config struct {
	// Token is a REST API key (read-only is enough); env PAGERDUTY_TOKEN.
	Token string `yaml:"token"`
	// APIURL is the REST API base: https://api.pagerduty.com (default), or
	// https://api.eu.pagerduty.com for the EU service region; env
	// PAGERDUTY_API_URL. Plain http is accepted for loopback hosts only.
	APIURL string `yaml:"api_url"`
	// Timeout bounds one lookup, all its requests and retries included
	// (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// Lookahead is how far ahead the next shift is looked for (default
	// 14 days, at most 90).
	Lookahead time.Duration `yaml:"lookahead"`
	// MaxRetryWait is the longest Retry-After honoured on HTTP 429 (default
	// 5s); a longer one fails the lookup at once.
	MaxRetryWait time.Duration `yaml:"max_retry_wait"`
	// Cache configures the freshness layer cmd wraps the source in.
	Cache oncall.CacheConfig `yaml:"cache"`
}

// WithDefaults returns cfg with zero values replaced by the defaults.
func (cfg Config) WithDefaults() Config {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Lookahead == 0 {
		cfg.Lookahead = DefaultLookahead
	}
	if cfg.MaxRetryWait == 0 {
		cfg.MaxRetryWait = oncall.DefaultMaxRetryWait
	}
	cfg.Cache = cfg.Cache.WithDefaults()
	return cfg
}

// Validate checks cfg after defaults; each error names its key.
func (cfg Config) Validate() error {
	cfg = cfg.WithDefaults()
	var errs []error
	switch {
	case cfg.Token == "":
		errs = append(errs, errors.New("pagerduty.token: required (a read-only REST API key: Integrations → API Access Keys; or set PAGERDUTY_TOKEN)"))
	case strings.ContainsAny(cfg.Token, " \t\r\n"):
		errs = append(errs, errors.New("pagerduty.token: contains white space (copy the key again)"))
	}
	if err := checkURL(cfg.APIURL); err != nil {
		errs = append(errs, fmt.Errorf("pagerduty.api_url: %w", err))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("pagerduty.timeout: %s is negative", cfg.Timeout))
	}
	if cfg.Lookahead < time.Hour || cfg.Lookahead > maxLookahead {
		errs = append(errs, fmt.Errorf("pagerduty.lookahead: %s; use between 1h and 2160h (90 days, the longest range PagerDuty's /oncalls accepts)", cfg.Lookahead))
	}
	if cfg.MaxRetryWait < 0 {
		errs = append(errs, fmt.Errorf("pagerduty.max_retry_wait: %s is negative", cfg.MaxRetryWait))
	}
	if err := cfg.Cache.Validate("pagerduty.cache"); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkURL accepts https URLs, and http ones for loopback hosts.
func checkURL(raw string) error {
	_, err := apiurl.Parse(raw, DefaultAPIURL, "token")
	return err
}
