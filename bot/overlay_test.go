package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/actions/catalogexec"
	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
)

// overlayActions change annotations of a service through the catalog
// executor, without approval, for its owners.
const overlayActions = `apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata: {name: toggle-maintenance, title: Toggle maintenance mode}
spec:
  target: service
  inputs:
    - {name: service, type: entity, kind: component, required: true}
    - {name: enabled, type: boolean, default: "true"}
  runners: {owners: true}
  approval: none
  executor: {type: catalog, annotation: idpbot.dev/maintenance, valueFrom: enabled}
---
apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata: {name: drop-flag, title: Drop the checkout flag}
spec:
  target: service
  inputs:
    - {name: service, type: entity, kind: component, required: true}
  runners: {owners: true}
  approval: none
  executor: {type: catalog, annotation: flags.northwind.example/new-checkout, remove: "true"}
`

type failingOverlays struct{}

func (failingOverlays) Get(context.Context, string) (*catalogexec.Overlay, error) {
	return nil, errors.New("badger: closed")
}

func TestShowOverlay(t *testing.T) {
	ctx := context.Background()
	store := bottest.ExampleCatalog(t)
	acts, ps := actions.Parse("overlay.yaml", []byte(overlayActions))
	if ps.Errors() > 0 {
		t.Fatal(ps)
	}
	cx, err := catalogexec.NewFactory(store)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := actions.New(actions.Config{Catalog: store, Actions: acts, Executors: actions.Registry{"catalog": cx}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Shutdown(context.Background()) })
	overlays, err := catalogexec.NewOverlays(store)
	if err != nil {
		t.Fatal(err)
	}
	r := bottest.Router(t, store, bot.Config{Actions: eng, Overlays: overlays})
	show := func(r *bot.Router) string {
		t.Helper()
		rep := r.Handle(ctx, slackReq("show payments-api"))
		if rep.IsError {
			t.Fatalf("show: %s", plain(rep))
		}
		return plain(rep)
	}

	if out := show(r); strings.Contains(out, "Set by actions") {
		t.Fatalf("overlay shown before any action ran:\n%s", out)
	}
	// Run both actions through the router, as alice (an owner) would.
	for _, cmd := range []string{"run toggle-maintenance service=payments-api", "run drop-flag service=payments-api"} {
		if rep := r.Handle(ctx, slackReq(cmd)); rep.IsError {
			t.Fatalf("%s: %s", cmd, plain(rep))
		}
	}
	eng.Wait()
	ov, err := overlays.Get(ctx, "component:default/payments-api")
	if err != nil || ov == nil {
		t.Fatalf("overlay %v, %v", ov, err)
	}

	out := show(r)
	for _, want := range []string{
		"Set by actions (not in the catalog files)",
		"idpbot.dev/maintenance=true",
		"Removed: flags.northwind.example/new-checkout",
		"Last changed by run " + ov.RunID + ", requested by @Alice Nguyen, " + bot.When(ov.UpdatedAt).Text,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	// The section comes right after the card's main section.
	rep := r.Handle(ctx, slackReq("show payments-api"))
	if s, ok := rep.Blocks[2].(*bot.Section); !ok || !strings.HasPrefix(s.Text.String(), "Set by actions") {
		t.Errorf("block 2 is %#v", rep.Blocks[2])
	}
	// The requester is mentioned with their chat ids.
	found := false
	for _, sp := range rep.Blocks[2].(*bot.Section).Text {
		found = found || (sp.Kind == bot.UserMention && sp.IDs[bot.Slack] == "U01ALICE")
	}
	if !found {
		t.Error("the requester is not mentioned")
	}

	t.Run("without overlays", func(t *testing.T) {
		if out := show(bottest.Router(t, store, bot.Config{})); strings.Contains(out, "Set by actions") {
			t.Errorf("overlay shown without an overlay source:\n%s", out)
		}
	})
	t.Run("overlays failing", func(t *testing.T) {
		out := show(bottest.Router(t, store, bot.Config{Overlays: failingOverlays{}}))
		if strings.Contains(out, "Set by actions") || !strings.Contains(out, "Payments API") {
			t.Errorf("card:\n%s", out)
		}
	})
	t.Run("other entities", func(t *testing.T) {
		rep := r.Handle(ctx, slackReq("show ledger"))
		if strings.Contains(plain(rep), "Set by actions") {
			t.Error("another entity shows the overlay")
		}
	})
}
