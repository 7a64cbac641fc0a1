package httpapi

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scopes a token may hold.
const (
	ScopeRead       = "read"         // entities, search, who-owns, scores
	ScopeFactsWrite = "facts:write"  // push facts
	ScopeActionsRun = "actions:run"  // request action runs (as the token's user)
	ScopeAuditRead  = "audit:read"   // read the audit log
	ScopeBackup     = "admin:backup" // download a backup of the data directory
)

var knownScopes = []string{ScopeRead, ScopeFactsWrite, ScopeActionsRun, ScopeAuditRead, ScopeBackup}

// Token is one API client: a pipeline, a script. The token value is a
// secret (from the environment, ${NAME} in the config file).
type Token struct {
	// Name identifies the client in logs and audit records (never the
	// token itself).
	Name  string `yaml:"name"`
	Token string `yaml:"token"`
	// As is the catalog user the client acts as (actions, audit); optional
	// for read and facts.
	As     string   `yaml:"as"`
	Scopes []string `yaml:"scopes"`
}

// Config configures the REST API.
type Config struct {
	Tokens []Token `yaml:"tokens"`
	// MaxBodyBytes bounds a request body (default 64 KiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// BackupIdleTimeout is how long a backup download waits for its client
	// to take more of the stream before it is cut off (default 1m): the
	// backup holds ingests back meanwhile.
	BackupIdleTimeout time.Duration `yaml:"backup_idle_timeout"`
}

// DefaultBackupIdleTimeout is Config.BackupIdleTimeout's default.
const DefaultBackupIdleTimeout = time.Minute

// DefaultMaxBodyBytes bounds request bodies.
const DefaultMaxBodyBytes = 64 << 10

// minTokenLen keeps guessable tokens out.
const minTokenLen = 24

// Validate checks cfg; errors name the key (api.tokens[i].…), never a
// token's value.
func (cfg Config) Validate() error {
	var errs []error
	names := map[string]bool{}
	for i, t := range cfg.Tokens {
		key := fmt.Sprintf("api.tokens[%d]", i)
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required (it names the client in logs)", key))
		} else if names[t.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", key, t.Name))
		}
		names[t.Name] = true
		if len(t.Token) < minTokenLen {
			errs = append(errs, fmt.Errorf("%s.token: at least %d characters (e.g. from `openssl rand -hex 32`)", key, minTokenLen))
		}
		if strings.ContainsAny(t.Token, " \t\r\n") {
			errs = append(errs, fmt.Errorf("%s.token: contains white space", key))
		}
		if len(t.Scopes) == 0 {
			errs = append(errs, fmt.Errorf("%s.scopes: give at least one of %s", key, strings.Join(knownScopes, ", ")))
		}
		for _, s := range t.Scopes {
			if !slices.Contains(knownScopes, s) {
				errs = append(errs, fmt.Errorf("%s.scopes: unknown scope %q; use %s", key, s, strings.Join(knownScopes, ", ")))
			}
		}
		if slices.Contains(t.Scopes, ScopeActionsRun) && t.As == "" {
			errs = append(errs, fmt.Errorf("%s.as: required with the %s scope: the catalog user the runs are requested as (policies apply to them)", key, ScopeActionsRun))
		}
	}
	if cfg.MaxBodyBytes < 0 || cfg.MaxBodyBytes > 16<<20 {
		errs = append(errs, errors.New("api.max_body_bytes: 0 (default) to 16 MiB"))
	}
	return errors.Join(errs...)
}
