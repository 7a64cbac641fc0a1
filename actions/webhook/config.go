package webhook

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/idpbot/idpbot/actions"
)

// Defaults of the executor settings.
const (
	DefaultTimeout = 30 * time.Second
	DefaultRetries = 3
	// MaxResponse caps how much of the response body is read (the run keeps
	// at most actions.MaxOutput of it).
	MaxResponse = 64 << 10
	// minSecretLen is the shortest signing secret accepted.
	minSecretLen = 16
)

// settings are the keys of a webhook executor beyond type, timeout and
// retries:
//
//	executor:
//	  type: webhook
//	  url: https://deploy.example/hooks/restart   # ${NAME} allowed
//	  secret: ${RESTART_WEBHOOK_SECRET}           # must come from the environment
//	  timeout: 30s                                # per attempt (default 30s)
//	  retries: 3                                  # after the first attempt (default 3)
var settings = []string{"url", "secret"}

// envRef matches ${NAME}.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Options configure the factory; every field has a default.
type Options struct {
	// Client sends the requests (default: a client with no overall timeout;
	// each attempt has the action's timeout).
	Client *http.Client
	// Getenv expands ${NAME} in url and secret when executors are built
	// (default os.LookupEnv). The loader keeps them as written, so that
	// validating definitions needs no secrets.
	Getenv func(string) (string, bool)
	// Backoff is the wait before retry n (1 for the first retry); default
	// 1s, 2s, 4s … capped at 30s. A Retry-After header wins, up to 60s.
	Backoff func(n int) time.Duration
	Logger  *slog.Logger
}

// Factory builds webhook executors; register it as "webhook".
type Factory struct {
	opts Options
}

var _ actions.Factory = (*Factory)(nil)

// NewFactory returns a Factory.
func NewFactory(opts Options) *Factory {
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	if opts.Backoff == nil {
		opts.Backoff = func(n int) time.Duration {
			d := time.Second << min(n-1, 5)
			return min(d, 30*time.Second)
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Factory{opts: opts}
}

// Check validates the settings without reading the environment.
func (f *Factory) Check(a *actions.Action) error {
	spec := &a.Executor
	if err := spec.CheckKeys(settings...); err != nil {
		return err
	}
	raw, ok := spec.Setting("url")
	if !ok || strings.TrimSpace(raw) == "" {
		return &actions.SettingError{Key: "url", Message: "url is required", Hint: "the receiver's https URL"}
	}
	// A URL that starts with ${NAME} is checked when it is built.
	if !strings.HasPrefix(strings.TrimSpace(raw), "${") {
		if err := checkURL(envRef.ReplaceAllString(raw, "x")); err != nil {
			return &actions.SettingError{Key: "url", Message: err.Error(), Hint: "an http or https URL with a host"}
		}
	}
	sec, ok := spec.Setting("secret")
	if !ok || strings.TrimSpace(sec) == "" {
		return &actions.SettingError{Key: "secret", Message: "secret is required: requests are signed with it", Hint: "secret: ${NAME_OF_AN_ENVIRONMENT_VARIABLE}"}
	}
	if !envRef.MatchString(sec) {
		return &actions.SettingError{Key: "secret", Message: "the secret must come from the environment, not the file", Hint: "secret: ${NAME_OF_AN_ENVIRONMENT_VARIABLE}"}
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("invalid url")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url must be http or https, with a host")
	}
	if u.User != nil {
		return fmt.Errorf("url must not carry credentials; requests are signed with the secret")
	}
	return nil
}

// New builds the executor of a, expanding ${NAME} from the environment.
func (f *Factory) New(a *actions.Action) (actions.Executor, error) {
	if err := f.Check(a); err != nil {
		return nil, err
	}
	spec := &a.Executor
	rawURL, _ := spec.Setting("url")
	u, err := f.expand("url", rawURL)
	if err != nil {
		return nil, err
	}
	if err := checkURL(u); err != nil {
		// Say which key, never the value: the URL may carry a token.
		return nil, &actions.SettingError{Key: "url", Message: err.Error() + " (after expanding the environment)"}
	}
	rawSecret, _ := spec.Setting("secret")
	secret, err := f.expand("secret", rawSecret)
	if err != nil {
		return nil, err
	}
	if len(secret) < minSecretLen {
		return nil, &actions.SettingError{Key: "secret", Message: fmt.Sprintf("the secret is shorter than %d characters", minSecretLen)}
	}
	x := &Executor{action: a.ID, url: strings.TrimSpace(u), secret: []byte(secret), timeout: spec.Timeout, retries: spec.Retries,
		client: f.opts.Client, backoff: f.opts.Backoff, log: f.opts.Logger.With(slog.String("executor", "webhook"), slog.String("action", a.ID))}
	if x.timeout <= 0 {
		x.timeout = DefaultTimeout
	}
	if x.retries < 0 {
		x.retries = DefaultRetries
	}
	return x, nil
}

func (f *Factory) expand(key, s string) (string, error) {
	var missing string
	out := envRef.ReplaceAllStringFunc(s, func(m string) string {
		name := envRef.FindStringSubmatch(m)[1]
		v, ok := f.opts.Getenv(name)
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", &actions.SettingError{Key: key, Message: fmt.Sprintf("environment variable %s is not set", missing)}
	}
	return out, nil
}
