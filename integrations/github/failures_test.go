package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSyncFailingRepositoryKeepsItsEntities(t *testing.T) {
	e := newEnv(t, "")
	payments, checkout := e.northwind()
	s := e.source(e.config())
	e.sync(s)

	e.fake.update(func() {
		payments.failStatus = 500
		checkout.files["catalog-info.yaml"] = component("checkout", "Changed while payments fails.")
	})
	e.fake.requests()
	rep, err := s.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "northwind/payments") {
		t.Fatalf("error %v, want one naming northwind/payments", err)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Repo != "northwind/payments" || rep.Ingested != 1 || rep.Removed != 0 {
		t.Errorf("report: %+v", rep)
	}
	e.entity("component:default/payments")
	e.entity("api:default/payments-api")
	if got := e.entity("component:default/checkout").Metadata.Description; got != "Changed while payments fails." {
		t.Errorf("the other repositories were not applied: %q", got)
	}
	if n := len(contentsRequests(e.fake.requests(), "/payments/contents/catalog-info.yaml")); n != 1+maxRetries {
		t.Errorf("%d attempts, want %d", n, 1+maxRetries)
	}
	if got := e.sleeps.Waits(); len(got) < 3 || got[0] != time.Second || got[1] != 2*time.Second || got[2] != 4*time.Second {
		t.Errorf("backoff %v, want 1s 2s 4s", got)
	}

	// Once GitHub recovers, nothing was lost.
	e.fake.update(func() { payments.failStatus = 0 })
	if rep := e.sync(s); rep.Ingested != 0 || rep.Removed != 0 {
		t.Errorf("after recovery: %+v", rep)
	}
}

func TestSyncMalformedResponses(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"malformed JSON", `{"type": "file", "content": "YXBp`, "malformed JSON"},
		{"bad base64", `{"type": "file", "encoding": "base64", "name": "catalog-info.yaml", "path": "catalog-info.yaml", "content": "!!not*base64!!"}`, "base64"},
		{"unsupported encoding", `{"type": "file", "encoding": "none", "name": "catalog-info.yaml", "path": "catalog-info.yaml", "content": ""}`, "encoding"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "broken", contents: map[string]string{"catalog-info.yaml": tc.body}})
			e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "fine", files: map[string]string{"catalog-info.yaml": component("fine", "Works.")}})
			rep, err := e.source(e.config()).Sync(context.Background())
			if err == nil || !strings.Contains(err.Error(), "northwind/broken") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming northwind/broken and %q", err, tc.want)
			}
			if rep.Ingested != 1 {
				t.Errorf("report: %+v", rep)
			}
			e.entity("component:default/fine")
		})
	}

	t.Run("malformed listing changes nothing", func(t *testing.T) {
		e := newEnv(t, "")
		e.northwind()
		s := e.source(e.config())
		e.sync(s)
		e.fake.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, "/orgs/northwind/repos") {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`[{"name": "payments", `))
				return true
			}
			return false
		})
		rep, err := s.Sync(context.Background())
		if err == nil || !strings.Contains(err.Error(), "malformed JSON") || !strings.Contains(err.Error(), "northwind") {
			t.Fatalf("error %v", err)
		}
		if rep.Ingested+rep.Removed != 0 || rep.Changed {
			t.Errorf("report: %+v", rep)
		}
		e.entity("component:default/payments")
	})
}

func TestSyncTimesOutAHangingServer(t *testing.T) {
	e := newEnv(t, "")
	e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "slow", files: map[string]string{"catalog-info.yaml": component("slow", "Hangs.")}})
	e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "fast", files: map[string]string{"catalog-info.yaml": component("fast", "Answers.")}})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	e.fake.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/slow/contents/") {
			return false
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return true
	})
	cfg := e.config()
	cfg.Timeout = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := e.source(cfg).Sync(ctx)
	if err == nil || !strings.Contains(err.Error(), "northwind/slow") || !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "github.timeout") {
		t.Fatalf("error %v, want a timeout naming northwind/slow", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the sync hung until the test's deadline")
	}
	if rep.Ingested != 1 {
		t.Errorf("report: %+v", rep)
	}
}

func TestSyncRefusesLocationsOutsideTheRepository(t *testing.T) {
	e := newEnv(t, "")
	e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "aaa", files: map[string]string{
		"catalog-info.yaml": component("aaa", "Greedy.") + "---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: steal\nspec:\n  target: ../zzz/catalog-info.yaml\n",
	}})
	e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "zzz", files: map[string]string{
		"catalog-info.yaml": component("zzz", "Owned by zzz."),
	}})
	// A content problem: reported, not a failure of the sync.
	rep := e.sync(e.source(e.config()))
	if len(rep.Problems) != 1 || rep.Problems[0].Repo != "northwind/aaa" || !strings.Contains(rep.Problems[0].Error(), "leaves the repository") {
		t.Fatalf("problems %v", rep.Problems)
	}
	if rep.Ingested != 1 || len(rep.Failed) != 0 {
		t.Errorf("report: %+v", rep)
	}
	e.gone("component:default/aaa")
	z := e.entity("component:default/zzz")
	if got := z.Metadata.Annotations[AnnotationProjectSlug]; got != "northwind/zzz" {
		t.Errorf("zzz's entity belongs to %q", got)
	}
	for _, r := range e.fake.requests() {
		if strings.Contains(r.Path, "..") {
			t.Errorf("requested %s", r.Path)
		}
	}
}

func TestFetchStopsAtMaxFiles(t *testing.T) {
	e := newEnv(t, "")
	files := map[string]string{}
	var loc strings.Builder
	loc.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: many\nspec:\n  targets:\n")
	for i := range 60 {
		name := fmt.Sprintf("c%02d.yaml", i)
		fmt.Fprintf(&loc, "    - ./%s\n", name)
		files[name] = component(fmt.Sprintf("c%02d", i), "One of many.")
	}
	files["catalog-info.yaml"] = loc.String()
	e.fake.addOrgRepo(&fakeRepo{owner: "northwind", name: "many", files: files})
	e.sync(e.source(e.config()))
	if n := len(contentsRequests(e.fake.requests(), ".yaml")); n != maxFiles {
		t.Errorf("%d files fetched, want %d", n, maxFiles)
	}
}

// A problem of a repository's files lasts until someone fixes them: the
// repository keeps its last good entities and is reported, but the sync
// does not fail, sync after sync.
func TestSyncReportsContentProblemsWithoutFailing(t *testing.T) {
	withText := func(target string) string {
		return strings.Replace(component("payments", "Broken now."), "metadata:\n", "metadata:\n  annotations:\n    notes: {$text: "+target+"}\n", 1)
	}
	tests := []struct {
		name   string
		change func(r *fakeRepo)
		want   string
	}{
		{"file name with two dots", func(r *fakeRepo) {
			r.files["catalog-info.yaml"] = withText("./notes..v2.md")
			r.files["notes..v2.md"] = "Notes."
		}, `containing ".."`},
		{"file over 1 MB", func(r *fakeRepo) {
			r.files["catalog-info.yaml"] = withText("./big.txt")
			r.contents = map[string]string{"big.txt": `{"type": "file", "encoding": "none", "size": 2000000, "name": "big.txt", "path": "big.txt", "content": ""}`}
		}, "larger than 1 MB"},
		{"directory where a file is expected", func(r *fakeRepo) {
			r.files["catalog-info.yaml"] = withText("./docs")
			r.files["docs/a.md"] = "A."
		}, "is a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			payments, checkout := e.northwind()
			s := e.source(e.config())
			e.sync(s)
			e.fake.update(func() {
				tc.change(payments)
				checkout.files["catalog-info.yaml"] = component("checkout", "Changed meanwhile.")
			})
			for i := range 2 {
				rep := e.sync(s)
				if len(rep.Problems) != 1 || rep.Problems[0].Repo != "northwind/payments" || !strings.Contains(rep.Problems[0].Error(), tc.want) {
					t.Fatalf("sync %d: problems %v, want one naming northwind/payments and %q", i, rep.Problems, tc.want)
				}
				if len(rep.Failed) != 0 || rep.Removed != 0 {
					t.Errorf("sync %d: report %+v", i, rep)
				}
			}
			if got := e.entity("component:default/payments").Metadata.Description; got != "Takes card payments." {
				t.Errorf("description %q, want the last good one", got)
			}
			e.entity("api:default/payments-api")
			if got := e.entity("component:default/checkout").Metadata.Description; got != "Changed meanwhile." {
				t.Errorf("the other repositories were not applied: %q", got)
			}
			if !strings.Contains(e.logs.String(), "until its files are fixed") {
				t.Errorf("the problem is not logged:\n%s", e.logs)
			}
		})
	}
}

// The ETag cache is pruned of what the sync did not use even when a
// repository fails; the failing repository's entries stay.
func TestSyncPrunesTheCacheDespiteFailures(t *testing.T) {
	e := newEnv(t, "")
	payments, _ := e.northwind()
	s := e.source(e.config())
	e.sync(s)
	e.fake.update(func() {
		payments.failStatus = http.StatusInternalServerError
		var kept []*fakeRepo
		for _, r := range e.fake.orgs["northwind"] {
			if r.name != "platform" {
				kept = append(kept, r)
			}
		}
		e.fake.orgs["northwind"] = kept
	})
	if _, err := s.Sync(context.Background()); err == nil {
		t.Fatal("no error")
	}
	st, err := loadState(filepath.Join(e.mirror, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	has := func(part string) bool {
		for k := range st.Cache {
			if strings.Contains(k, part) {
				return true
			}
		}
		return false
	}
	if has("/repos/northwind/platform/") {
		t.Error("the entries of a repository gone from the listing were kept")
	}
	for _, p := range []string{"/repos/northwind/payments/contents/catalog-info.yaml", "/repos/northwind/payments/contents/apis/openapi.yaml", "/repos/northwind/checkout/"} {
		if !has(p) {
			t.Errorf("no cache entry for %s", p)
		}
	}
}
