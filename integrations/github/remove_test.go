package github

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// twoRepos fills the fake with northwind/payments and northwind/checkout,
// each with a catalog file, and ingests them with a first sync.
func (e *env) twoRepos(cfg Config) (payments, checkout *fakeRepo) {
	e.t.Helper()
	payments = e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "payments", files: map[string]string{
		"catalog-info.yaml": component("payments", "Takes card payments."),
	}})
	checkout = e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "checkout", files: map[string]string{
		"catalog-info.yaml": component("checkout", "Takes orders."),
	}})
	e.sync(e.source(cfg))
	e.entity("component:default/payments")
	return payments, checkout
}

// slugOf is the repository an entity was ingested from.
func (e *env) slugOf(ref string) string {
	e.t.Helper()
	return e.entity(ref).Metadata.Annotations[AnnotationProjectSlug]
}

// confirmations are the GET /repos/{owner}/{repo} requests seen.
func confirmations(reqs []seenRequest) []string {
	var out []string
	for _, r := range reqs {
		if strings.HasPrefix(r.Path, "/repos/") && strings.Count(r.Path, "/") == 3 {
			out = append(out, r.Path)
		}
	}
	return out
}

func TestSyncConfirmsRemovals(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *env, payments *fakeRepo, cfg *Config)
		// removed: payments loses its entities; renamed: they move to
		// northwind/payments-svc.
		removed, renamed bool
		// confirmed: GitHub was asked about northwind/payments.
		confirmed bool
	}{
		{"deleted", func(e *env, _ *fakeRepo, _ *Config) {
			e.fake.update(func() { e.fake.orgs["northwind"] = e.fake.orgs["northwind"][1:] })
		}, true, false, true},
		{"archived", func(e *env, p *fakeRepo, _ *Config) { e.fake.update(func() { p.archived = true }) }, true, false, true},
		{"disabled", func(e *env, p *fakeRepo, _ *Config) { e.fake.update(func() { p.disabled = true }) }, true, false, true},
		{"a fork", func(e *env, p *fakeRepo, _ *Config) { e.fake.update(func() { p.fork = true }) }, true, false, true},
		{"renamed", func(e *env, p *fakeRepo, _ *Config) {
			e.fake.update(func() { p.name, p.renamedFrom = "payments-svc", "payments" })
		}, false, true, true},
		{"renamed in case only", func(e *env, p *fakeRepo, _ *Config) { e.fake.update(func() { p.name = "Payments" }) }, false, false, true},
		{"transferred to an organisation not configured", func(e *env, p *fakeRepo, _ *Config) {
			e.fake.update(func() {
				e.fake.orgs["northwind"] = e.fake.orgs["northwind"][1:]
				p.owner = "tailspin"
				e.fake.orgs["tailspin"] = []*fakeRepo{p}
			})
			// The old name answers 404 here; GitHub answers a 301 to the
			// new owner, which is not configured: gone either way.
		}, true, false, true},
		{"excluded", func(_ *env, _ *fakeRepo, cfg *Config) { cfg.Exclude = []string{"pay*"} }, true, false, false},
		{"missing from the listing but there", func(e *env, p *fakeRepo, _ *Config) { e.fake.update(func() { p.unlisted = true }) }, false, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			cfg := e.config()
			payments, _ := e.twoRepos(cfg)
			tc.change(e, payments, &cfg)
			e.fake.requests()
			rep := e.sync(e.source(cfg))

			reqs := e.fake.requests()
			asked := false
			for _, p := range confirmations(reqs) {
				asked = asked || strings.EqualFold(p, "/repos/northwind/payments")
				if strings.Contains(p, "checkout") {
					t.Errorf("asked about a listed repository: %s", p)
				}
			}
			if asked != tc.confirmed {
				t.Errorf("asked GitHub about northwind/payments: %v, want %v (requests %v)", asked, tc.confirmed, confirmations(reqs))
			}
			e.entity("component:default/checkout")
			switch {
			case tc.removed:
				e.gone("component:default/payments")
				if rep.Removed != 1 || rep.Kept != 0 {
					t.Errorf("report: %+v", rep)
				}
			case tc.renamed:
				if got := e.slugOf("component:default/payments"); got != "northwind/payments-svc" {
					t.Errorf("the entity belongs to %q, want the new name", got)
				}
				if rep.Removed != 1 || rep.Ingested != 1 {
					t.Errorf("report: %+v", rep)
				}
			default:
				if got := e.slugOf("component:default/payments"); !strings.EqualFold(got, "northwind/payments") {
					t.Errorf("the entity belongs to %q", got)
				}
			}

			// The next sync settles: nothing more is removed, and a
			// repository that was missing from the listing is back.
			e.fake.update(func() { payments.unlisted = false })
			rep = e.sync(e.source(cfg))
			if rep.Removed != 0 || rep.Kept != 0 || rep.RemovalsPostponed != 0 {
				t.Errorf("next sync: %+v", rep)
			}
			if !tc.removed {
				e.entity("component:default/payments")
			}
		})
	}
}

// A repository deleted while the listing is between pages shifts the next
// page: a repository that still exists goes unseen. It keeps its entities.
func TestSyncKeepsARepositoryAShiftedListingMissed(t *testing.T) {
	e := newEnv(t, "")
	for _, n := range []string{"aaa", "bbb", "ccc"} {
		e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: n, files: map[string]string{"catalog-info.yaml": component(n, "Repository "+n+".")}})
	}
	s := e.source(e.config())
	e.sync(s)

	e.fake.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/orgs/northwind/repos") && r.URL.Query().Get("page") == "2" {
			e.fake.update(func() { e.fake.orgs["northwind"] = e.fake.orgs["northwind"][1:] }) // aaa deleted meanwhile
		}
		return false
	})
	rep := e.sync(s)
	if rep.Repos != 2 || rep.Removed != 1 || rep.Kept != 1 {
		t.Errorf("report: %+v", rep)
	}
	e.gone("component:default/aaa")
	e.entity("component:default/ccc")
	if !strings.Contains(e.logs.String(), "still exists") {
		t.Errorf("the log does not say why northwind/ccc was kept:\n%s", e.logs)
	}

	e.fake.setHook(nil)
	rep = e.sync(s)
	if rep.Repos != 2 || rep.Removed != 0 || rep.Kept != 0 || rep.Unchanged != 2 {
		t.Errorf("next sync: %+v", rep)
	}
	e.entity("component:default/ccc")
}

func TestSyncPostponesRemovalsWhileARepositoryFails(t *testing.T) {
	t.Run("a renamed repository whose new name fails", func(t *testing.T) {
		e := newEnv(t, "")
		payments, _ := e.twoRepos(e.config())
		s := e.source(e.config())
		e.fake.update(func() {
			payments.name, payments.renamedFrom, payments.failStatus = "payments-svc", "payments", http.StatusBadGateway
		})
		rep, err := s.Sync(context.Background())
		if err == nil || !strings.Contains(err.Error(), "northwind/payments-svc") {
			t.Fatalf("error %v", err)
		}
		if rep.Removed != 0 || rep.RemovalsPostponed != 1 {
			t.Errorf("report: %+v", rep)
		}
		if got := e.slugOf("component:default/payments"); got != "northwind/payments" {
			t.Errorf("the entity belongs to %q", got)
		}
		if !strings.Contains(e.logs.String(), "removals postponed") {
			t.Errorf("the postponement is not logged:\n%s", e.logs)
		}

		e.fake.update(func() { payments.failStatus = 0 })
		rep = e.sync(s)
		if rep.Removed != 1 || rep.RemovalsPostponed != 0 || rep.Ingested != 1 {
			t.Errorf("after recovery: %+v", rep)
		}
		if got := e.slugOf("component:default/payments"); got != "northwind/payments-svc" {
			t.Errorf("the entity belongs to %q, want the new name", got)
		}
	})

	t.Run("a renamed repository while another fails", func(t *testing.T) {
		e := newEnv(t, "")
		payments, checkout := e.twoRepos(e.config())
		s := e.source(e.config())
		e.fake.update(func() {
			payments.name, payments.renamedFrom = "payments-svc", "payments"
			checkout.failStatus = http.StatusServiceUnavailable
		})
		if _, err := s.Sync(context.Background()); err == nil {
			t.Fatal("no error")
		}
		// The new name's entity is refused while the old name holds it.
		if got := e.slugOf("component:default/payments"); got != "northwind/payments" {
			t.Errorf("the entity belongs to %q", got)
		}

		e.fake.update(func() { checkout.failStatus = 0 })
		rep := e.sync(s)
		if rep.Removed != 1 {
			t.Errorf("after recovery: %+v", rep)
		}
		if got := e.slugOf("component:default/payments"); got != "northwind/payments-svc" {
			t.Errorf("the entity belongs to %q, want the new name", got)
		}
		e.entity("component:default/checkout")
	})

	t.Run("a confirmation that fails", func(t *testing.T) {
		e := newEnv(t, "")
		payments, checkout := e.twoRepos(e.config())
		s := e.source(e.config())
		e.fake.update(func() {
			payments.unlisted = true
			e.fake.orgs["northwind"] = []*fakeRepo{payments} // checkout deleted
		})
		e.fake.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/repos/northwind/payments" {
				e.fake.error(w, http.StatusInternalServerError, "server_error.json")
				return true
			}
			return false
		})
		rep, err := s.Sync(context.Background())
		if err == nil || !strings.Contains(err.Error(), "northwind/payments: remove: confirm") {
			t.Fatalf("error %v", err)
		}
		if rep.Removed != 0 || rep.RemovalsPostponed != 1 {
			t.Errorf("report: %+v", rep)
		}
		e.entity("component:default/payments")
		e.entity("component:default/checkout")

		e.fake.setHook(nil)
		rep = e.sync(s)
		if rep.Removed != 1 || rep.Kept != 1 {
			t.Errorf("after recovery: %+v", rep)
		}
		e.gone("component:default/checkout")
		e.entity("component:default/payments")
		_ = checkout
	})

	t.Run("a repository GitHub refuses does not hold removals", func(t *testing.T) {
		e := newEnv(t, "")
		payments, checkout := e.twoRepos(e.config())
		s := e.source(e.config())
		e.fake.update(func() {
			checkout.failStatus = http.StatusForbidden
			e.fake.orgs["northwind"] = []*fakeRepo{checkout} // payments deleted
		})
		rep, err := s.Sync(context.Background())
		if err == nil || !strings.Contains(err.Error(), "northwind/checkout") {
			t.Fatalf("error %v", err)
		}
		if rep.Removed != 1 || rep.RemovalsPostponed != 0 {
			t.Errorf("report: %+v", rep)
		}
		e.gone("component:default/payments")
		e.entity("component:default/checkout")
		_ = payments
	})
}

func TestSyncSkipsForks(t *testing.T) {
	e := newEnv(t, "")
	e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "payments", files: map[string]string{
		"catalog-info.yaml": component("payments", "Takes card payments."),
	}})
	e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "payments-fork", fork: true, files: map[string]string{
		"catalog-info.yaml": component("payments-fork", "Someone's experiment."),
	}})
	cfg := e.config()

	rep := e.sync(e.source(cfg))
	if rep.Repos != 1 || rep.Ingested != 1 {
		t.Errorf("report: %+v", rep)
	}
	e.gone("component:default/payments-fork")
	for _, r := range e.fake.requests() {
		if strings.Contains(r.Path, "payments-fork") {
			t.Errorf("requested %s of a fork", r.Path)
		}
	}

	cfg.Forks = true
	if rep := e.sync(e.source(cfg)); rep.Repos != 2 || rep.Ingested != 1 {
		t.Errorf("with github.forks: %+v", rep)
	}
	e.entity("component:default/payments-fork")

	cfg.Forks = false
	if rep := e.sync(e.source(cfg)); rep.Removed != 1 {
		t.Errorf("github.forks off again: %+v", rep)
	}
	e.gone("component:default/payments-fork")
	e.entity("component:default/payments")
}
