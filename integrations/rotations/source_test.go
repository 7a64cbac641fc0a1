package rotations_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpbot/idpbot/bot/bottest"
	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/rotations"
)

func TestSourceOnTheExampleCatalog(t *testing.T) {
	store := bottest.ExampleCatalog(t)
	ctx := context.Background()
	// Thursday 26 November 2026, 12:00 in Berlin: week 46 of the payments
	// rotation (bilal primary, alice secondary).
	now := time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)
	src := rotations.New(store, rotations.WithClock(func() time.Time { return now }))

	o, err := store.WhoOwns(ctx, "payments-api")
	if err != nil {
		t.Fatal(err)
	}
	oc, err := src.OnCall(ctx, o)
	if err != nil || oc == nil {
		t.Fatalf("OnCall = %v, %v", oc, err)
	}
	if len(oc.Now) != 2 || len(oc.Next) != 2 {
		t.Fatalf("now %d, next %d shifts; want 2 and 2: %+v", len(oc.Now), len(oc.Next), oc)
	}
	primary, secondary := oc.Now[0], oc.Now[1]
	if primary.Level != 1 || primary.Person.Ref != "user:default/bilal.haddad" || primary.Person.SlackID != "U01BILAL" || primary.Schedule != "Payments primary" {
		t.Errorf("primary = %+v", primary)
	}
	if want := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC); !primary.End.Equal(want) {
		t.Errorf("primary ends %s, want %s (Monday 09:00 Berlin)", primary.End, want)
	}
	if secondary.Level != 2 || secondary.Person.Ref != "user:default/alice.nguyen" {
		t.Errorf("secondary = %+v", secondary)
	}
	if next := oc.Next[0]; next.Person.Ref != "user:default/carmen.ortiz" || !next.Start.Equal(primary.End) {
		t.Errorf("next primary = %+v", next)
	}

	// A team without a rotation: no answer, no error.
	o, err = store.WhoOwns(ctx, "northwind")
	if err != nil {
		t.Fatal(err)
	}
	if oc, err := src.OnCall(ctx, o); oc != nil || err != nil {
		t.Errorf("OnCall(northwind) = %+v, %v; want nothing", oc, err)
	}

	// A 12-hour rotation: at 11:00 UTC the first half of the day.
	o, _ = store.WhoOwns(ctx, "group:sre")
	oc, err = src.OnCall(ctx, o)
	if err != nil || len(oc.Now) != 1 || oc.Now[0].Person.Ref != "user:default/lena.fischer" ||
		!oc.Now[0].End.Equal(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("sre on call = %+v, %v", oc, err)
	}
}

func TestInvalidRotationIsReported(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	yaml := `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: idpbot.dev/v1alpha1
kind: Rotation
metadata: {name: team-a-primary}
spec: {owner: team-a, start: "2026-01-05 09:00", length: fortnightly, members: [ann]}
`
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	store, err := catalog.Open(ctx, t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Ingest(ctx, "test", []string{filepath.Join(dir, "c.yaml")}); err != nil {
		t.Fatal(err)
	}
	o, err := store.WhoOwns(ctx, "team-a")
	if err != nil {
		t.Fatal(err)
	}
	_, err = rotations.New(store).OnCall(ctx, o)
	if err == nil || !strings.Contains(err.Error(), `rotation:default/team-a-primary: spec.length: "fortnightly" is not a length`) {
		t.Errorf("err = %v; want the invalid length named", err)
	}
}
