package catalog

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	exampleOnce  sync.Once
	exampleStore *Store
	exampleErr   error
)

// example returns a store holding the example company catalog
// (deploy/examples/catalog), shared by the read-only tests.
func example(t *testing.T) *Store {
	t.Helper()
	exampleOnce.Do(func() {
		dir, err := tempDirForPackage()
		if err != nil {
			exampleErr = err
			return
		}
		exampleStore, exampleErr = Open(context.Background(), dir, Options{})
		if exampleErr != nil {
			return
		}
		var rep *IngestReport
		rep, exampleErr = exampleStore.Ingest(context.Background(), "example",
			[]string{filepath.Join("..", "deploy", "examples", "catalog", "all.yaml")})
		if exampleErr == nil && len(rep.Problems) > 0 {
			exampleErr = errors.New("example catalog has problems:\n" + problemsText(rep.Problems))
		}
	})
	if exampleErr != nil {
		t.Fatal(exampleErr)
	}
	return exampleStore
}

func TestWhoOwns(t *testing.T) {
	s := example(t)
	o, err := s.WhoOwns(context.Background(), "PAYMENTS-API")
	if err != nil {
		t.Fatal(err)
	}
	if o.Entity.Ref().String() != "component:default/payments-api" || o.Owner.Ref != "group:default/payments" ||
		!o.Owner.Exists || o.Owner.DisplayName != "Payments Team" || o.OwnerKind != "group" {
		t.Errorf("owner = %+v (kind %s) of %s", o.Owner, o.OwnerKind, o.Entity.Ref())
	}
	var members []string
	for _, m := range o.Members {
		members = append(members, m.DisplayName+"/"+m.SlackID)
	}
	if got := strings.Join(members, ","); !strings.Contains(got, "Alice Nguyen/U") || len(members) < 3 {
		t.Errorf("members = %s", got)
	}
	var parents []string
	for _, p := range o.Parents {
		parents = append(parents, p.Ref)
	}
	if got := strings.Join(parents, ","); got != "group:default/product-engineering,group:default/northwind" {
		t.Errorf("parents = %s", got)
	}
	if len(o.Channels) == 0 || o.Channels[0] != (Channel{Platform: "slack", ID: "C04PAYMENTS", Annotation: AnnotationSlackChannelID, From: "group:default/payments"}) {
		t.Errorf("channels = %+v", o.Channels)
	}
	if len(o.Links) == 0 || o.Links[0].Type != "runbook" {
		t.Errorf("first link is not the runbook: %+v", o.Links)
	}
	if o.System == nil || o.System.Ref != "system:default/payments" || o.Domain == nil || o.Domain.Ref != "domain:default/payments" {
		t.Errorf("system %+v domain %+v", o.System, o.Domain)
	}
	if o.OnCall[AnnotationPagerDutyServiceID] == "" {
		t.Errorf("no PagerDuty service: %+v", o.OnCall)
	}
	// A user-owned component: the owner is the person.
	o, err = s.WhoOwns(context.Background(), "invoice-renderer")
	if err != nil || o.OwnerKind != "user" || len(o.Members) != 1 || o.Members[0].Email == "" {
		t.Errorf("user-owned: %+v, %v", o, err)
	}
}

func TestResolveAmbiguousAndUnknownNames(t *testing.T) {
	s := example(t)
	ctx := context.Background()
	_, err := s.Resolve(ctx, "payments")
	var amb *AmbiguousError
	if !errors.As(err, &amb) || len(amb.Candidates) != 3 {
		t.Fatalf("Resolve(payments) = %v; want 3 candidates (domain, group, system)", err)
	}
	if e, err := s.Resolve(ctx, "group:payments"); err != nil || e.Ref().String() != "group:default/payments" {
		t.Errorf("Resolve(group:payments) = %v, %v", e, err)
	}
	if e, err := s.Resolve(ctx, "default/ledger"); err != nil || e.Ref().String() != "component:default/ledger" {
		t.Errorf("Resolve(default/ledger) = %v, %v", e, err)
	}
	_, err = s.Resolve(ctx, "paymnts-api")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) || len(nf.Suggestions) == 0 ||
		nf.Suggestions[0].String() != "component:default/payments-api" {
		t.Fatalf("Resolve(paymnts-api) = %v; want did-you-mean payments-api first", err)
	}
	for _, sug := range nf.Suggestions {
		if !strings.Contains(sug.Name, "pay") {
			t.Errorf("unrelated suggestion %s", sug)
		}
	}
}

func TestListFilters(t *testing.T) {
	s := example(t)
	ctx := context.Background()
	count := func(exprs ...string) int {
		t.Helper()
		f, err := ParseFilter(exprs...)
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.List(ctx, f, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			if !f.Match(e) {
				t.Errorf("%s listed for %s but does not match", e.Ref(), f)
			}
		}
		return len(list)
	}
	services := count("kind=component,spec.type=service")
	all := count("kind=component")
	if services == 0 || services >= all {
		t.Errorf("services %d of %d components", services, all)
	}
	if n := count("KIND=Component,Spec.Type=SERVICE"); n != services {
		t.Errorf("filters are not case-insensitive: %d vs %d", n, services)
	}
	if n := count("kind=api", "kind=resource"); n != count("kind=api")+count("kind=resource") {
		t.Errorf("OR of two sets = %d", n)
	}
	owned := count("relations.ownedby=group:default/payments")
	if owned < 5 {
		t.Errorf("payments owns %d entities", owned)
	}
	if n := count("metadata.labels.tier=1"); n != 6 {
		t.Errorf("tier 1 services: %d, want 6", n)
	}
	if n := count("metadata.tags=tier-1"); n < 6 {
		t.Errorf("tier-1 tagged: %d, want at least the 6 services", n)
	}
	if n := count("metadata.annotations.pagerduty.com/service-id"); n == 0 {
		t.Error("existence filter on an annotation matches nothing")
	}
	if _, err := ParseFilter("=x"); err == nil {
		t.Error("a condition without key is accepted")
	}
}

func TestSearchRanksNamesPrefixesAndTypos(t *testing.T) {
	s := example(t)
	ctx := context.Background()
	cases := []struct{ text, top string }{
		{"ledger", "component:default/ledger"},
		{"payments-g", "component:default/payments-gateway"},
		{"ledgr", "component:default/ledger"},
		{"paymnets api", "component:default/payments-api"},
		{"fraud", "component:default/fraud-detector"},
		{"PX7Q2LM", "component:default/payments-api"}, // a PagerDuty service id
	}
	for _, c := range cases {
		res, err := s.Search(ctx, SearchRequest{Text: c.text})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) == 0 || res.Hits[0].Ref != c.top {
			var got []string
			for _, h := range res.Hits {
				got = append(got, h.Ref)
			}
			t.Errorf("search %q: hits %v, want %s first", c.text, got, c.top)
		}
	}
	res, err := s.Search(ctx, SearchRequest{Text: "payments", Kinds: []string{"API"}, Facets: []string{"kind", "owner"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Hits {
		if !strings.HasPrefix(h.Ref, "api:") {
			t.Errorf("kind filter let %s through", h.Ref)
		}
	}
	if len(res.Facets["kind"]) != 1 || res.Facets["kind"][0].Value != "api" {
		t.Errorf("facets = %+v", res.Facets)
	}
	if _, err := s.Search(ctx, SearchRequest{Text: "x", Facets: []string{"colour"}}); err == nil || !strings.Contains(err.Error(), "use one of") {
		t.Errorf("unknown facet: %v", err)
	}
	refs, err := s.Complete(ctx, "PAYMENTS-", 5)
	if err != nil || len(refs) == 0 {
		t.Fatalf("complete: %v %v", refs, err)
	}
	for _, r := range refs {
		if !strings.HasPrefix(r.Name, "payments-") {
			t.Errorf("completion %s does not start with the prefix", r)
		}
	}
}

func TestCheckListsDanglingRelations(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	dir := t.TempDir()
	if _, err := s.Ingest(ctx, "x", []string{versionedCatalog(t, dir, 20, 2)}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Version 2 has no team-d: svc-0003, -0007, -0011, -0015 point at it (18 remain).
	if len(rep.Dangling) != 4 {
		t.Fatalf("dangling = %+v", rep.Dangling)
	}
	d := rep.Dangling[0]
	if d.From != "component:default/svc-0003" || d.Type != RelOwnedBy || d.To != "group:default/team-d" || !strings.HasSuffix(d.File, "catalog-info.yaml") {
		t.Errorf("dangling[0] = %+v", d)
	}
	e, err := s.Get(ctx, "component:svc-0003")
	if err != nil || len(e.Relations) != 1 || e.Relations[0].TargetExists {
		t.Errorf("relation to the missing owner not flagged: %+v %v", e, err)
	}
	if o, err := s.WhoOwns(ctx, "svc-0003"); err != nil || o.Owner.Exists || o.Owner.Ref != "group:default/team-d" {
		t.Errorf("who-owns with a missing owner: %+v %v", o, err)
	}
}
