package bottest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/bot"
)

// TestActions are the actions of the front-door tests, over the example
// catalog, run by the "test" executor (which does nothing):
//
//   - restart-service: an entity (of a kind with many entities), an enum
//     with a default and a bounded text; owners of the service or sre may
//     ask (alice.nguyen owns payments-api), sre approves.
//   - provision-database: seven required inputs, one of each type, a
//     secret among them; anyone may ask, platform approves.
//   - rotate-keys: one required input; only sre may ask (alice may not).
//   - flush-cache: one input, with a default; anyone may ask, and it runs
//     at once (approval: none).
//   - deploy-tag: a required tag, an optional secret token and optional
//     free text (notes); anyone may ask, platform approves.
//   - warm-the-caches-of-every-service-in-every-region-after-a-deploy: no
//     inputs, an id of the longest length (63); anyone may ask, it runs at
//     once.
const TestActions = `apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata:
  name: restart-service
  title: Restart a service
  description: Rolling restart of every pod of a service in one environment.
spec:
  target: service
  inputs:
    - name: service
      type: entity
      kind: component
      required: true
      description: the service to restart
    - name: env
      type: enum
      values: [staging, prod]
      default: staging
      description: the environment
    - name: reason
      type: string
      required: true
      min: 5
      max: 200
      description: why, for the approvers and the audit log
  runners:
    owners: true
    groups: [sre]
  approval:
    required: 1
    approvers:
      groups: [sre]
    expiresAfter: 4h
  executor:
    type: test
---
apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata:
  name: provision-database
  title: Provision a database
  description: A managed database with backups and alerts, for a team.
spec:
  inputs:
    - {name: name, type: string, required: true, pattern: "[a-z][a-z0-9-]{2,30}", description: the database name}
    - {name: team, type: entity, kind: group, required: true, description: the owning team}
    - {name: size, type: number, required: true, min: 1, max: 64, description: storage in GiB}
    - {name: region, type: enum, values: [eu-west, us-east], required: true}
    - {name: retention, type: duration, required: true, min: 1d, max: 30d, description: how long backups are kept}
    - {name: replicated, type: boolean, required: true}
    - {name: ticket, type: string, required: true, pattern: "[A-Z]+-[0-9]+", secret: true, description: the change ticket}
  runners:
    anyone: true
  approval:
    required: 1
    approvers:
      groups: [platform]
  executor:
    type: test
---
apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata:
  name: rotate-keys
  title: Rotate signing keys
spec:
  inputs:
    - {name: reason, type: string, required: true}
  runners:
    groups: [sre]
  approval: none
  executor:
    type: test
---
apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata:
  name: flush-cache
  title: Flush a cache
spec:
  inputs:
    - {name: scope, type: enum, values: [all, sessions], default: all, description: what to flush}
  runners:
    anyone: true
  approval: none
  executor:
    type: test
---
apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata:
  name: deploy-tag
  title: Deploy a tag
spec:
  inputs:
    - {name: tag, type: string, required: true, pattern: "v[0-9][0-9.]*", description: the release tag}
    - {name: token, type: string, secret: true, description: "a registry token, when the registry needs one"}
    - {name: notes, type: string, description: release notes for the approvers}
  runners:
    anyone: true
  approval:
    required: 1
    approvers:
      groups: [platform]
  executor:
    type: test
---
apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata:
  name: warm-the-caches-of-every-service-in-every-region-after-a-deploy
  title: Warm every cache
spec:
  runners:
    anyone: true
  approval: none
  executor:
    type: test
`

// ActionEngine returns an engine with TestActions over cat, announcing
// runs through n (nil: not announced); it is shut down when the test ends.
func ActionEngine(t testing.TB, cat actions.Catalog, n actions.Notifier) *actions.Engine {
	t.Helper()
	acts, ps := actions.Parse("bottest-actions.yaml", []byte(TestActions))
	if ps.Errors() > 0 {
		t.Fatalf("test actions: %v", ps)
	}
	cfg := actions.Config{Catalog: cat, Actions: acts, Executors: actions.Registry{"test": nopExecutor{}}}
	if n != nil {
		cfg.Notifier = n
	}
	eng, err := actions.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := eng.Shutdown(ctx); err != nil {
			t.Errorf("action engine shutdown: %v", err)
		}
	})
	return eng
}

// nopExecutor is the "test" executor: it succeeds and does nothing.
type nopExecutor struct{}

func (nopExecutor) Check(a *actions.Action) error { return a.Executor.CheckKeys() }
func (x nopExecutor) New(a *actions.Action) (actions.Executor, error) {
	return x, x.Check(a)
}
func (nopExecutor) Idempotent() bool { return true }
func (nopExecutor) Execute(context.Context, *actions.Job) (string, error) {
	return "done", nil
}

// Notifier announces runs as cmd's wiring does, reduced to what front-door
// tests need: the first message of a run is posted, through the function
// given to SetPost (a front door's PostMessage), in the channel the run was
// requested from; later changes are not posted.
type Notifier struct {
	mu   sync.Mutex
	post func(ctx context.Context, channelID string, rep *bot.Reply) (string, error)
}

// SetPost sets how messages are posted.
func (n *Notifier) SetPost(post func(ctx context.Context, channelID string, rep *bot.Reply) (string, error)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.post = post
}

// Notify implements actions.Notifier.
func (n *Notifier) Notify(ctx context.Context, m *actions.Message) (string, error) {
	if m.Ref != "" {
		return m.Ref, nil
	}
	n.mu.Lock()
	post := n.post
	n.mu.Unlock()
	if post == nil || m.Origin.Channel == "" {
		return "", errors.New("bottest: nowhere to post the run")
	}
	return post(ctx, m.Origin.Channel, bot.RunMessage(m))
}

var _ actions.Notifier = (*Notifier)(nil)

// ErrMessageUnavailable is what BrokenMessages.Message returns.
var ErrMessageUnavailable = errors.New("bottest: run message unavailable")

// BrokenMessages is an engine whose Message always fails, as a store
// error right after a run was stored would: front-door tests check that a
// run once stored is never answered as a failure (which would invite a
// second request).
type BrokenMessages struct{ *actions.Engine }

// Message implements bot.ActionEngine, failing.
func (BrokenMessages) Message(context.Context, string) (*actions.Message, error) {
	return nil, ErrMessageUnavailable
}

var _ bot.ActionEngine = BrokenMessages{}
