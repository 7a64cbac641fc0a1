// Package githubwf is the "github-workflow" executor of actions: it starts
// a GitHub Actions workflow with a workflow_dispatch event (go-github), on
// github.com or a GitHub Enterprise Server.
//
//	executor:
//	  type: github-workflow
//	  repo: northwind/service-template     # owner/name
//	  workflow: scaffold.yml               # the workflow's file name (or numeric id)
//	  ref: main                            # branch or tag (default main)
//	  token: ${GITHUB_TOKEN}               # from the environment; needs actions:write
//	  baseURL: https://github.example.com/api/v3/   # Enterprise only
//	  inputs: name,owner,template          # the inputs passed (default: all but secret ones)
//
// A dispatch has no idempotency key: after a crash mid-dispatch the run is
// marked "unknown — check" rather than dispatched twice.
package githubwf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v75/github"

	"github.com/idpbot/idpbot/actions"
)

// Type is the executor type in action definitions.
const Type = "github-workflow"

// DefaultTimeout bounds a dispatch.
const DefaultTimeout = 30 * time.Second

var (
	settings = []string{"repo", "workflow", "ref", "token", "baseURL", "inputs"}
	envRef   = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	repoRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$`)
)

// maxWorkflowInputs is GitHub's limit on workflow_dispatch inputs.
const maxWorkflowInputs = 10

// Options configure the factory.
type Options struct {
	// Client sends the requests (default http.DefaultClient).
	Client *http.Client
	// Getenv expands ${NAME} in token and baseURL (default os.LookupEnv).
	Getenv func(string) (string, bool)
}

// Factory builds github-workflow executors.
type Factory struct{ opts Options }

var _ actions.Factory = (*Factory)(nil)

// NewFactory returns a Factory.
func NewFactory(opts Options) *Factory {
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	return &Factory{opts: opts}
}

func setting(a *actions.Action, key string) string {
	v, _ := a.Executor.Setting(key)
	return strings.TrimSpace(v)
}

// Check validates the settings without reading the environment.
func (f *Factory) Check(a *actions.Action) error {
	if err := a.Executor.CheckKeys(settings...); err != nil {
		return err
	}
	if repo := setting(a, "repo"); !repoRE.MatchString(repo) {
		return &actions.SettingError{Key: "repo", Message: fmt.Sprintf("%q is not owner/name", repo), Hint: "repo: northwind/service-template"}
	}
	if setting(a, "workflow") == "" {
		return &actions.SettingError{Key: "workflow", Message: "workflow is required", Hint: "the workflow's file name in .github/workflows, e.g. scaffold.yml"}
	}
	tok := setting(a, "token")
	if tok == "" || !envRef.MatchString(tok) {
		return &actions.SettingError{Key: "token", Message: "the token must come from the environment", Hint: "token: ${GITHUB_TOKEN} (a token with actions:write on the repository)"}
	}
	if b := setting(a, "baseURL"); b != "" && !strings.HasPrefix(b, "${") {
		if err := checkBaseURL(b); err != nil {
			return &actions.SettingError{Key: "baseURL", Message: err.Error(), Hint: "https://github.example.com/api/v3/"}
		}
	}
	names := inputNames(a)
	for _, n := range names {
		if a.Input(n) == nil {
			return &actions.SettingError{Key: "inputs", Message: fmt.Sprintf("the action has no input %q", n)}
		}
	}
	if len(names) > maxWorkflowInputs {
		return &actions.SettingError{Key: "inputs", Message: fmt.Sprintf("%d inputs; a workflow_dispatch takes at most %d", len(names), maxWorkflowInputs),
			Hint: "list the ones the workflow needs in inputs: a,b,c"}
	}
	return nil
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return errors.New("baseURL must be an http(s) URL with a host and no credentials")
	}
	return nil
}

// inputNames are the action inputs passed to the workflow: the listed
// ones, or every input that is not secret.
func inputNames(a *actions.Action) []string {
	if list := setting(a, "inputs"); list != "" {
		var out []string
		for _, n := range strings.Split(list, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
		return out
	}
	var out []string
	for _, in := range a.Inputs {
		if !in.Secret {
			out = append(out, in.Name)
		}
	}
	return out
}

func (f *Factory) expand(key, s string) (string, error) {
	var missing string
	out := envRef.ReplaceAllStringFunc(s, func(m string) string {
		v, ok := f.opts.Getenv(envRef.FindStringSubmatch(m)[1])
		if !ok && missing == "" {
			missing = envRef.FindStringSubmatch(m)[1]
		}
		return v
	})
	if missing != "" {
		return "", &actions.SettingError{Key: key, Message: fmt.Sprintf("environment variable %s is not set", missing)}
	}
	return out, nil
}

// New builds the executor of a, reading the token (and base URL) from the
// environment.
func (f *Factory) New(a *actions.Action) (actions.Executor, error) {
	if err := f.Check(a); err != nil {
		return nil, err
	}
	token, err := f.expand("token", setting(a, "token"))
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, &actions.SettingError{Key: "token", Message: "the token is empty"}
	}
	client := github.NewClient(f.opts.Client).WithAuthToken(token)
	base := ""
	if b := setting(a, "baseURL"); b != "" {
		if base, err = f.expand("baseURL", b); err != nil {
			return nil, err
		}
		if err := checkBaseURL(base); err != nil {
			return nil, &actions.SettingError{Key: "baseURL", Message: err.Error() + " (after expanding the environment)"}
		}
		if client, err = client.WithEnterpriseURLs(base, base); err != nil {
			return nil, &actions.SettingError{Key: "baseURL", Message: err.Error()}
		}
	}
	owner, repo, _ := strings.Cut(setting(a, "repo"), "/")
	ref := setting(a, "ref")
	if ref == "" {
		ref = "main"
	}
	x := &Executor{client: client, owner: owner, repo: repo, workflow: setting(a, "workflow"), ref: ref,
		inputs: inputNames(a), timeout: a.Executor.Timeout, web: webURL(base)}
	if x.timeout <= 0 {
		x.timeout = DefaultTimeout
	}
	return x, nil
}

// webURL is the web address matching an API base ("" for github.com).
func webURL(base string) string {
	if base == "" {
		return "https://github.com"
	}
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// Executor dispatches one workflow.
type Executor struct {
	client                *github.Client
	owner, repo, workflow string
	ref, web              string
	inputs                []string
	timeout               time.Duration
}

var _ actions.Executor = (*Executor)(nil)

// Idempotent is false: dispatching twice starts two workflow runs.
func (x *Executor) Idempotent() bool { return false }

// Execute sends the workflow_dispatch event with the run's inputs.
func (x *Executor) Execute(ctx context.Context, job *actions.Job) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	in := map[string]any{}
	for _, n := range x.inputs {
		if v, ok := job.Inputs[n]; ok {
			in[n] = v
		}
	}
	ev := github.CreateWorkflowDispatchEventRequest{Ref: x.ref, Inputs: in}
	var err error
	if id, perr := strconv.ParseInt(x.workflow, 10, 64); perr == nil {
		_, err = x.client.Actions.CreateWorkflowDispatchEventByID(ctx, x.owner, x.repo, id, ev)
	} else {
		_, err = x.client.Actions.CreateWorkflowDispatchEventByFileName(ctx, x.owner, x.repo, x.workflow, ev)
	}
	if err != nil {
		return "", x.explain(err)
	}
	return fmt.Sprintf("dispatched %s on %s/%s@%s; runs: %s/%s/%s/actions/workflows/%s", x.workflow, x.owner, x.repo, x.ref,
		x.web, x.owner, x.repo, x.workflow), nil
}

// explain turns GitHub's answer into a message that says what to fix,
// without the token or the request URL.
func (x *Executor) explain(err error) error {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		switch ge.Response.StatusCode {
		case http.StatusUnauthorized:
			return errors.New("github: the token was refused (401); renew it")
		case http.StatusForbidden:
			return fmt.Errorf("github: forbidden (403): the token needs actions:write on %s/%s (%s)", x.owner, x.repo, ge.Message)
		case http.StatusNotFound:
			return fmt.Errorf("github: %s/%s or its workflow %s was not found, or the token cannot see it (404)", x.owner, x.repo, x.workflow)
		case http.StatusUnprocessableEntity:
			return fmt.Errorf("github: the dispatch was refused (422): %s; check that the workflow has on: workflow_dispatch with these inputs and the ref %q exists", ge.Message, x.ref)
		}
		return fmt.Errorf("github: HTTP %d: %s", ge.Response.StatusCode, ge.Message)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is not secret, but keep messages short
	}
	return fmt.Errorf("github: %w", err)
}
