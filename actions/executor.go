package actions

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// ExecutorSpec is the executor block of an action: the type, the settings
// every executor shares, and the type's own settings, kept as written (a
// `${NAME}` is expanded by the executor's factory when it is built, so that
// `actions validate` in CI needs no secrets).
type ExecutorSpec struct {
	Type string
	// Timeout bounds one attempt (0: the executor's default).
	Timeout time.Duration
	// Retries is how many more attempts an executor that retries may
	// make; -1 when not set (the executor's default).
	Retries int
	// Settings are the type's own keys, as written.
	Settings map[string]string

	line  int
	lines map[string]int // line of each setting
}

// Job is one execution of a run, as an executor sees it.
type Job struct {
	RunID  string
	Action *Action
	// Inputs are the normalised values, secrets included (only executors
	// see them).
	Inputs map[string]string
	// Target is the canonical ref of the target entity ("" when none).
	Target    string
	Requester string
	Approvers []string
	// Attempt counts executions of this run, 1 for the first; a run retried
	// after a restart has a higher attempt and the same RunID.
	Attempt int
}

// Executor runs approved jobs. Execute returns the run's output (shown to
// people, capped) and an error when the action failed; output may be set
// with an error too. When ctx is cancelled the outcome is unknown: the
// engine leaves the run running for Recover.
type Executor interface {
	Execute(ctx context.Context, job *Job) (output string, err error)
	// Idempotent executors may be retried after a crash with the same run
	// id: the receiver deduplicates (the webhook's idempotency key), or
	// repeating has no further effect.
	Idempotent() bool
}

// Factory builds the executor of one action from its spec.
type Factory interface {
	// Check validates a.Executor's settings (and what they need of the
	// action, such as a target) without side effects or environment: what
	// `idpbot actions validate` runs in CI.
	Check(a *Action) error
	// New checks the settings, expands what comes from the environment and
	// returns the executor of a.
	New(a *Action) (Executor, error)
}

// SettingError names the executor setting at fault; Check and New return
// it so that the problem points at the key's line.
type SettingError struct {
	Key     string
	Message string
	Hint    string
}

func (e *SettingError) Error() string {
	if e.Key == "" {
		return e.Message
	}
	return e.Key + ": " + e.Message
}

// Registry maps executor types ("webhook", "catalog") to their factories;
// cmd fills it in one table.
type Registry map[string]Factory

// Check validates every action's executor settings and returns the problems
// (file, line, action and key).
func (r Registry) Check(acts []*Action) catalog.Problems {
	var ps catalog.Problems
	for _, a := range acts {
		f, err := r.factory(a)
		if err == nil {
			err = f.Check(a)
		}
		if err != nil {
			ps = append(ps, a.Executor.problem(a, err))
		}
	}
	ps.Sort()
	return ps
}

// Build builds the executor of every action; the problems name what failed
// (an unset environment variable, a bad URL).
func (r Registry) Build(acts []*Action) (map[string]Executor, catalog.Problems) {
	out := map[string]Executor{}
	var ps catalog.Problems
	for _, a := range acts {
		f, err := r.factory(a)
		var ex Executor
		if err == nil {
			ex, err = f.New(a)
		}
		if err != nil {
			ps = append(ps, a.Executor.problem(a, err))
			continue
		}
		out[a.ID] = ex
	}
	ps.Sort()
	return out, ps
}

func (r Registry) factory(a *Action) (Factory, error) {
	f, ok := r[a.Executor.Type]
	if !ok {
		types := make([]string, 0, len(r))
		for t := range r {
			types = append(types, t)
		}
		sort.Strings(types)
		return nil, &SettingError{Key: "type", Message: fmt.Sprintf("unknown executor type %q", a.Executor.Type), Hint: "use one of " + strings.Join(types, ", ")}
	}
	return f, nil
}

func (s *ExecutorSpec) problem(a *Action, err error) catalog.Problem {
	p := catalog.Problem{Severity: catalog.SeverityError, File: a.File, Line: s.line, Entity: "action:" + a.ID,
		Path: "spec.executor", Message: err.Error()}
	var se *SettingError
	if errors.As(err, &se) {
		p.Message, p.Hint = se.Message, se.Hint
		if se.Key != "" {
			p.Path += "." + se.Key
			if l, ok := s.lines[se.Key]; ok {
				p.Line = l
			}
		}
	}
	return p
}

// Setting returns a setting and whether it was given.
func (s *ExecutorSpec) Setting(key string) (string, bool) {
	v, ok := s.Settings[key]
	return v, ok
}

// CheckKeys returns a SettingError for the first setting not in allowed.
func (s *ExecutorSpec) CheckKeys(allowed ...string) error {
	keys := make([]string, 0, len(s.Settings))
	for k := range s.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			return &SettingError{Key: k, Message: fmt.Sprintf("unknown setting %q for a %s executor", k, s.Type),
				Hint: "use type, timeout, retries, " + strings.Join(allowed, ", ")}
		}
	}
	return nil
}
