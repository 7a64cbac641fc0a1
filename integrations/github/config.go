package github

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	gh "github.com/google/go-github/v75/github"

	"github.com/idpbot/idpbot/integrations/apiurl"
)

// Defaults of Config.
const (
	DefaultBaseURL     = "https://api.github.com/"
	DefaultCatalogPath = "catalog-info.yaml"
	DefaultInterval    = 30 * time.Minute
	DefaultTimeout     = 20 * time.Second
	// minInterval keeps a misconfigured interval from spending the rate
	// limit in a loop.
	minInterval = time.Minute
)

// ownerRE is GitHub's rule for organisation and user logins.
var ownerRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

// Config configures GitHub discovery. It sits under the key github: of the
// main configuration; Validate's errors name the keys (github.orgs, …) and
// never carry the token or the private key.
type Config struct {
	// BaseURL is the REST API: https://api.github.com/ (default), or
	// https://HOST/api/v3/ for GitHub Enterprise Server. Plain http is
	// accepted for loopback hosts only.
	BaseURL string `yaml:"base_url"`
	// Token is a personal access token (classic: repo, read:org;
	// fine-grained: Contents and Metadata read), usually ${GITHUB_TOKEN}.
	Token string `yaml:"token"`
	// App authenticates as a GitHub App installation instead of Token.
	App AppConfig `yaml:"app"`
	// Orgs are the organisations (or user accounts) whose repositories are
	// discovered.
	Orgs []string `yaml:"orgs"`
	// Include, when set, keeps only the repositories whose name matches
	// one of these globs (path.Match syntax, e.g. "svc-*").
	Include []string `yaml:"include"`
	// Exclude skips the repositories whose name matches one of these globs.
	Exclude []string `yaml:"exclude"`
	// Forks, when true, discovers forks too; by default they are skipped
	// (a fork's catalog file usually describes its upstream's entities).
	Forks bool `yaml:"forks"`
	// CatalogPath is the descriptor file looked for on each repository's
	// default branch (default catalog-info.yaml).
	CatalogPath string `yaml:"catalog_path"`
	// Interval between syncs (default 30m, at least 1m); the caller
	// schedules them.
	Interval time.Duration `yaml:"interval"`
	// Facts turns the repository facts for scorecards on or off (default
	// on).
	Facts *bool `yaml:"facts"`
	// Timeout bounds one HTTP request (default 20s); retries and rate-limit
	// waits come on top.
	Timeout time.Duration `yaml:"timeout"`
}

// AppConfig is a GitHub App installation.
type AppConfig struct {
	// ID is the App's numeric id (its settings page: "App ID").
	ID int64 `yaml:"id"`
	// InstallationID is the installation on the organisation (the number
	// at the end of the installation's settings URL).
	InstallationID int64 `yaml:"installation_id"`
	// PrivateKeyFile is the path of the App's PEM private key.
	PrivateKeyFile string `yaml:"private_key_file"`
	// PrivateKey is the PEM private key itself (e.g. ${GITHUB_APP_KEY}).
	PrivateKey string `yaml:"private_key"`
}

// configured reports whether any App setting is given.
func (a AppConfig) configured() bool {
	return a.ID != 0 || a.InstallationID != 0 || a.PrivateKeyFile != "" || a.PrivateKey != ""
}

// Enabled reports whether discovery is configured: at least one org.
func (c Config) Enabled() bool { return len(c.Orgs) > 0 }

// SyncInterval is the configured interval, or the default.
func (c Config) SyncInterval() time.Duration {
	if c.Interval <= 0 {
		return DefaultInterval
	}
	return c.Interval
}

// FactsEnabled reports whether repository facts are pushed (default true).
func (c Config) FactsEnabled() bool { return c.Facts == nil || *c.Facts }

// WithDefaults returns c with zero values replaced by the defaults.
func (c Config) WithDefaults() Config {
	if strings.TrimSpace(c.BaseURL) == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimSpace(c.BaseURL)
	if !strings.HasSuffix(c.BaseURL, "/") {
		c.BaseURL += "/"
	}
	if strings.TrimSpace(c.CatalogPath) == "" {
		c.CatalogPath = DefaultCatalogPath
	}
	c.CatalogPath = strings.TrimPrefix(path.Clean(strings.TrimSpace(c.CatalogPath)), "/")
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Validate checks c; each error names its key. A config with no orgs and
// no credentials is valid: discovery is off.
func (c Config) Validate() error {
	if !c.Enabled() && c.Token == "" && !c.App.configured() {
		return nil
	}
	raw := c
	c = c.WithDefaults()
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if len(c.Orgs) == 0 {
		add("github.orgs: required: list the organisations (or users) whose repositories are discovered, e.g. orgs: [northwind]")
	}
	seen := map[string]bool{}
	for i, o := range c.Orgs {
		switch {
		case !ownerRE.MatchString(o):
			add("github.orgs[%d]: %q is not an organisation or user name (letters, digits and '-', at most 39)", i, o)
		case seen[strings.ToLower(o)]:
			add("github.orgs[%d]: %q is listed twice", i, o)
		}
		seen[strings.ToLower(o)] = true
	}

	switch {
	case c.Token != "" && c.App.configured():
		add("github.token: set either github.token or github.app, not both")
	case c.Token == "" && !c.App.configured():
		add("github.token: required, or github.app: a token with repo and read:org (classic) or Contents and Metadata read (fine-grained), usually token: ${GITHUB_TOKEN}")
	case c.Token != "" && strings.ContainsAny(c.Token, " \t\r\n"):
		add("github.token: contains white space (copy the token again)")
	case c.App.configured():
		errs = append(errs, c.App.validate()...)
	}

	for i, g := range c.Include {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			add("github.include[%d]: %q is not a glob (path.Match syntax, e.g. svc-*)", i, g)
		}
	}
	for i, g := range c.Exclude {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			add("github.exclude[%d]: %q is not a glob (path.Match syntax, e.g. *-archive)", i, g)
		}
	}
	if err := checkBaseURL(c.BaseURL); err != nil {
		add("github.base_url: %w", err)
	}
	if p := strings.TrimSpace(raw.CatalogPath); p != "" {
		clean := path.Clean(p)
		if strings.HasPrefix(p, "/") || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") || strings.HasSuffix(p, "/") || hasGlob(p) {
			add("github.catalog_path: %q must name one file inside the repository, e.g. catalog-info.yaml or .backstage/catalog-info.yaml", p)
		}
	}
	switch {
	case raw.Interval < 0:
		add("github.interval: %s is negative", raw.Interval)
	case raw.Interval > 0 && raw.Interval < minInterval:
		add("github.interval: %s is too short; use at least %s (each sync spends rate limit)", raw.Interval, minInterval)
	}
	if raw.Timeout < 0 {
		add("github.timeout: %s is negative", raw.Timeout)
	}
	return errors.Join(errs...)
}

func (a AppConfig) validate() []error {
	var errs []error
	if a.ID <= 0 {
		errs = append(errs, errors.New("github.app.id: required: the App ID from the App's settings page"))
	}
	if a.InstallationID <= 0 {
		errs = append(errs, errors.New("github.app.installation_id: required: the number at the end of the installation's settings URL (…/settings/installations/<id>)"))
	}
	switch {
	case a.PrivateKeyFile != "" && a.PrivateKey != "":
		errs = append(errs, errors.New("github.app.private_key: set either github.app.private_key or github.app.private_key_file, not both"))
	case a.PrivateKeyFile == "" && a.PrivateKey == "":
		errs = append(errs, errors.New("github.app.private_key_file: required (or github.app.private_key): the PEM key generated in the App's settings"))
	case a.PrivateKey != "":
		if _, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(a.PrivateKey)); err != nil {
			errs = append(errs, errors.New("github.app.private_key: not an RSA private key in PEM form (-----BEGIN RSA PRIVATE KEY-----)"))
		}
	}
	return errs
}

// checkBaseURL accepts https URLs, and http ones for loopback hosts.
func checkBaseURL(raw string) error {
	_, err := apiurl.Parse(raw, DefaultBaseURL+" or https://github.example.com/api/v3/", "token")
	return err
}

func hasGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// keeps reports whether a repository of the listing (or of GET
// /repos/{owner}/{repo}) is discovered: not archived or disabled, not a
// fork unless Forks, and its name passes Include and Exclude.
func (c Config) keeps(r *gh.Repository) bool {
	return !r.GetArchived() && !r.GetDisabled() && (c.Forks || !r.GetFork()) && c.match(r.GetName())
}

// match reports whether a repository name passes Include and Exclude,
// compared case-insensitively as GitHub compares names.
func (c Config) match(name string) bool {
	name = strings.ToLower(name)
	for _, g := range c.Exclude {
		if ok, _ := path.Match(strings.ToLower(g), name); ok {
			return false
		}
	}
	if len(c.Include) == 0 {
		return true
	}
	for _, g := range c.Include {
		if ok, _ := path.Match(strings.ToLower(g), name); ok {
			return true
		}
	}
	return false
}
