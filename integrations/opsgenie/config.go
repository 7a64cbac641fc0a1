package opsgenie

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/idpbot/idpbot/integrations/apiurl"
	"github.com/idpbot/idpbot/integrations/oncall"
)

// Defaults of Config.
const (
	DefaultAPIURL    = "https://api.opsgenie.com"
	DefaultTimeout   = 10 * time.Second
	DefaultLookahead = 14 * 24 * time.Hour
	maxLookahead     = 90 * 24 * time.Hour
)

// Config configures the Opsgenie on-call source. The YAML keys
// (opsgenie.api_key, …) are the names Validate uses; errors never carry the
// key.
type Config struct {
	// APIKey is the key of an API integration with read and configuration
	// access; env OPSGENIE_API_KEY.
	APIKey string `yaml:"api_key"`
	// APIURL is the API base: https://api.opsgenie.com (default) or
	// https://api.eu.opsgenie.com; env OPSGENIE_API_URL. Plain http is
	// accepted for loopback hosts only. No path: the SDK takes a host.
	APIURL string `yaml:"api_url"`
	// Timeout bounds one lookup, all its requests and retries included
	// (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// Lookahead is how far ahead the next shift is looked for (default 14
	// days, at most 90).
	Lookahead time.Duration `yaml:"lookahead"`
	// MaxRetryWait is the longest Retry-After honoured on HTTP 429 (default
	// 5s).
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
	case cfg.APIKey == "":
		errs = append(errs, errors.New("opsgenie.api_key: required (an API integration's key: Settings → Integrations → API; or set OPSGENIE_API_KEY)"))
	case strings.ContainsAny(cfg.APIKey, " \t\r\n"):
		errs = append(errs, errors.New("opsgenie.api_key: contains white space (copy the key again)"))
	}
	if _, err := parseURL(cfg.APIURL); err != nil {
		errs = append(errs, fmt.Errorf("opsgenie.api_url: %w", err))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("opsgenie.timeout: %s is negative", cfg.Timeout))
	}
	if cfg.Lookahead < 24*time.Hour || cfg.Lookahead > maxLookahead {
		errs = append(errs, fmt.Errorf("opsgenie.lookahead: %s; use between 24h and 2160h (90 days)", cfg.Lookahead))
	}
	if cfg.MaxRetryWait < 0 {
		errs = append(errs, fmt.Errorf("opsgenie.max_retry_wait: %s is negative", cfg.MaxRetryWait))
	}
	if err := cfg.Cache.Validate("opsgenie.cache"); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// parseURL accepts https base URLs without a path, and http ones for
// loopback hosts (the SDK takes a host).
func parseURL(raw string) (*url.URL, error) {
	u, err := apiurl.Parse(raw, DefaultAPIURL, "key")
	if err != nil {
		return nil, err
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("%q: give scheme and host only, like %s", u.Redacted(), DefaultAPIURL)
	}
	return u, nil
}
