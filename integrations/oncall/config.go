package oncall

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of CacheConfig.
const (
	DefaultTTL          = time.Minute
	DefaultDeadline     = 300 * time.Millisecond
	DefaultMaxStale     = 12 * time.Hour
	DefaultFetchTimeout = 10 * time.Second
)

// CacheConfig configures Cached; each provider's config holds one under
// the key cache (pagerduty.cache.ttl, …).
type CacheConfig struct {
	// TTL is how long an answer is served without asking the provider
	// again (default 1m).
	TTL time.Duration `yaml:"ttl"`
	// Deadline is how long a lookup waits for the provider when an older
	// answer is at hand; past it the older answer is served, marked stale
	// (default 300ms; the bot's whole on-call budget is 1s).
	Deadline time.Duration `yaml:"deadline"`
	// MaxStale is the age past which an old answer is no longer served
	// (default 12h).
	MaxStale time.Duration `yaml:"max_stale"`
	// FetchTimeout bounds one provider fetch, which runs in the background
	// and outlives the lookup that started it (default 10s).
	FetchTimeout time.Duration `yaml:"fetch_timeout"`
}

// WithDefaults returns cfg with zero values replaced by the defaults.
func (cfg CacheConfig) WithDefaults() CacheConfig {
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Deadline == 0 {
		cfg.Deadline = DefaultDeadline
	}
	if cfg.MaxStale == 0 {
		cfg.MaxStale = DefaultMaxStale
	}
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	return cfg
}

// Validate checks cfg after defaults; prefix is its YAML key
// (pagerduty.cache), which every error names.
func (cfg CacheConfig) Validate(prefix string) error {
	cfg = cfg.WithDefaults()
	var errs []error
	if cfg.TTL < 0 {
		errs = append(errs, fmt.Errorf("%s.ttl: %s is negative", prefix, cfg.TTL))
	}
	if cfg.Deadline < 0 || cfg.Deadline >= 3*time.Second {
		errs = append(errs, fmt.Errorf("%s.deadline: %s; use a value below the chat deadline of 3s (and the bot's 1s on-call budget), e.g. 300ms", prefix, cfg.Deadline))
	}
	if cfg.MaxStale < cfg.TTL {
		errs = append(errs, fmt.Errorf("%s.max_stale: %s is shorter than %s.ttl (%s)", prefix, cfg.MaxStale, prefix, cfg.TTL))
	}
	if cfg.FetchTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.fetch_timeout: %s; use a positive duration, e.g. 10s", prefix, cfg.FetchTimeout))
	}
	return errors.Join(errs...)
}
