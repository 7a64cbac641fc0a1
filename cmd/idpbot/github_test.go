package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpbot/idpbot/integrations/check"
	"github.com/idpbot/idpbot/integrations/github"
)

// fakeGitHubOrg is GitHub Enterprise's REST API (under /api/v3) for one
// organisation with one repository holding a catalog file.
func fakeGitHubOrg(t *testing.T, token string) *httptest.Server {
	t.Helper()
	const catalogFile = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: checkout\n  description: Takes orders\nspec:\n  type: service\n  lifecycle: production\n  owner: group:payments\n"
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
			return
		}
		w.Header().Set("X-OAuth-Scopes", "repo, read:org")
		w.Header().Set("X-RateLimit-Remaining", "4990")
		repo := map[string]any{"id": 1, "name": "checkout", "full_name": "northwind/checkout", "owner": map[string]any{"login": "northwind", "type": "Organization"},
			"html_url": srv.URL + "/northwind/checkout", "default_branch": "main", "archived": false, "disabled": false,
			"license": map[string]any{"key": "apache-2.0", "spdx_id": "Apache-2.0", "name": "Apache License 2.0"}}
		switch strings.TrimPrefix(r.URL.Path, "/api/v3") {
		case "/user":
			json.NewEncoder(w).Encode(map[string]any{"login": "idpbot", "id": 7, "type": "User"})
		case "/orgs/northwind":
			json.NewEncoder(w).Encode(map[string]any{"login": "northwind", "id": 3, "type": "Organization"})
		case "/orgs/northwind/repos":
			json.NewEncoder(w).Encode([]any{repo})
		case "/repos/northwind/checkout":
			json.NewEncoder(w).Encode(repo)
		case "/repos/northwind/checkout/contents/catalog-info.yaml":
			json.NewEncoder(w).Encode(map[string]any{"type": "file", "encoding": "base64", "name": "catalog-info.yaml", "path": "catalog-info.yaml",
				"size": len(catalogFile), "sha": "3d21ec53a331a6f037a91c368710b99387d012c1", "content": base64.StdEncoding.EncodeToString([]byte(catalogFile))})
		case "/repos/northwind/checkout/contents/.github/CODEOWNERS":
			json.NewEncoder(w).Encode(map[string]any{"type": "file", "encoding": "base64", "name": "CODEOWNERS", "path": ".github/CODEOWNERS",
				"size": 16, "sha": "4d21ec53a331a6f037a91c368710b99387d012c1", "content": base64.StdEncoding.EncodeToString([]byte("* @northwind/payments\n"))})
		case "/repos/northwind/checkout/branches/main":
			json.NewEncoder(w).Encode(map[string]any{"name": "main", "protected": true,
				"commit": map[string]any{"sha": "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d", "commit": map[string]any{
					"author":    map[string]any{"name": "Alice", "date": time.Now().Add(-72 * time.Hour).UTC().Format(time.RFC3339)},
					"committer": map[string]any{"name": "Alice", "date": time.Now().Add(-72 * time.Hour).UTC().Format(time.RFC3339)}}}})
		default: // no README, no other CODEOWNERS
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The GitHub discovery runs as a scheduled source of the app: the
// repository's catalog file becomes entities of the source
// github:northwind/checkout, located at the file's URL, and its facts reach
// the scorecards' fact store.
func TestGitHubSyncThroughTheApp(t *testing.T) {
	ctx := context.Background()
	const token = "ghp_cmdtest0123456789abcdefghijklmnop"
	srv := fakeGitHubOrg(t, token)
	cfg := &config{DataDir: t.TempDir(),
		Catalog:    catalogConfig{Paths: []string{exampleCatalog}},
		Scorecards: scorecardsConfig{Paths: []string{filepath.Join("..", "..", "deploy", "examples", "scorecards")}},
		GitHub:     github.Config{BaseURL: srv.URL + "/api/v3/", Token: token, Orgs: []string{"northwind"}}}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	a, s, logs := startSyncsForTest(t, cfg)
	if err := s.RunNow(ctx, "github"); err != nil {
		t.Fatalf("github sync: %v\n%s", err, logs.String())
	}
	e, err := a.store.Get(ctx, "component:default/checkout")
	if err != nil {
		t.Fatalf("the repository's component is not in the catalog: %v", err)
	}
	if got, want := e.Metadata.Annotations["backstage.io/managed-by-location"], "url:"+srv.URL+"/northwind/checkout/blob/main/catalog-info.yaml"; got != want {
		t.Errorf("location %q, want %q", got, want)
	}
	if got := e.Metadata.Annotations["github.com/project-slug"]; got != "northwind/checkout" {
		t.Errorf("project slug %q", got)
	}
	facts, err := a.facts.Facts(ctx, "component:default/checkout")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]any{"github_branch_protection": true, "github_codeowners": true, "github_readme": false, "github_license": "Apache-2.0"} {
		if f, ok := facts[name]; !ok || f.Value != want {
			t.Errorf("fact %s = %+v, want %v", name, f, want)
		}
	}
	if f := facts["github_last_commit_days"]; f.Value == nil {
		t.Errorf("no last commit age: %+v", facts)
	}
	// The second run asks with ETags and changes nothing.
	if err := s.RunNow(ctx, "github"); err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	if len(st) != 1 || st[0].Runs != 2 || st[0].LastError != "" {
		t.Errorf("status: %+v", st)
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the token appears in the logs")
	}

	rs, err := a.checkIntegrations(ctx, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 || check.Failed(rs) != 0 {
		var out bytes.Buffer
		check.Print(&out, rs)
		t.Errorf("github check:\n%s", out.String())
	}
}
