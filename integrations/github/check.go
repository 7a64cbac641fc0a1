package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v75/github"

	"github.com/idpbot/idpbot/integrations/check"
)

// checkRepos is how many repositories Check tries for a catalog file.
const checkRepos = 10

// Fixes for what Check finds missing.
const (
	fixTokenScopes  = "give the classic token the repo and read:org scopes (Settings → Developer settings → Personal access tokens), or use a fine-grained token with repository permissions Contents: read and Metadata: read"
	fixFineGrained  = "a fine-grained token needs the organisation as resource owner, repository access to its repositories (All repositories, or the selected ones) and repository permissions Contents: read and Metadata: read; Administration is not needed"
	fixAppPerms     = "in the App's settings give it repository permissions Contents: Read-only and Metadata: Read-only, then accept the new permissions on the installation (Administration is not needed)"
	fixOrgAccess    = "check the name in github.orgs; a private organisation must be visible to the credentials: the token's owner must be a member (classic tokens also need read:org), or the App must be installed on it"
	fixInstallation = "github.app.installation_id must be an installation of this App: open the organisation's Settings → GitHub Apps → Configure and take the number at the end of the URL"
)

// Check tests the credentials, each org's visibility, the repository
// listing and reading a catalog file, saying for each failure what to fix.
func (s *Source) Check(ctx context.Context) []check.Result {
	var out []check.Result
	add := func(name string, ok bool, detail, fix string) {
		r := check.Result{Integration: Name, Check: name, OK: ok, Detail: detail}
		if !ok {
			r.Fix = fix
		}
		out = append(out, r)
	}
	var fineGrained bool
	if s.app != nil {
		if !s.checkApp(ctx, add) {
			return out
		}
	} else {
		var ok bool
		if ok, fineGrained = s.checkToken(ctx, add); !ok {
			return out
		}
	}
	listFix := fixTokenScopes
	switch {
	case s.app != nil:
		listFix = fixAppPerms
	case fineGrained:
		listFix = fixFineGrained
	}
	for _, org := range s.cfg.Orgs {
		if !s.checkOrg(ctx, org, add) {
			continue
		}
		s.checkListing(ctx, org, listFix, add)
	}
	return out
}

type addFunc func(name string, ok bool, detail, fix string)

// checkToken tests a token with GET /user; it reports whether it works
// and whether it is a fine-grained token (no X-OAuth-Scopes).
func (s *Source) checkToken(ctx context.Context, add addFunc) (ok, fineGrained bool) {
	u, resp, err := s.client.Users.Get(ctx, "")
	if err != nil {
		fix := "check that GitHub is reachable from here and that github.base_url is the REST API (https://api.github.com/ or https://HOST/api/v3/)"
		if status(resp, err) == http.StatusUnauthorized {
			fix = "the token is invalid, expired or revoked: create a new one and set github.token (usually ${GITHUB_TOKEN})"
		}
		add("token", false, errorDetail(err), fix)
		return false, false
	}
	add("token", true, "authenticated as "+u.GetLogin(), "")
	scopes, classic := resp.Header[http.CanonicalHeaderKey("X-OAuth-Scopes")]
	if !classic {
		add("token scopes", true, "fine-grained token (scopes are not listed): it needs Contents: read and Metadata: read on the repositories", "")
		return true, true
	}
	have := map[string]bool{}
	for _, line := range scopes {
		for _, sc := range strings.Split(line, ",") {
			if sc = strings.TrimSpace(sc); sc != "" {
				have[sc] = true
			}
		}
	}
	var missing []string
	if !have["repo"] {
		missing = append(missing, "repo")
	}
	if !have["read:org"] && !have["write:org"] && !have["admin:org"] {
		missing = append(missing, "read:org")
	}
	detail := "classic token with scopes: " + strings.Join(scopes, ", ")
	if len(scopes) == 0 || strings.TrimSpace(strings.Join(scopes, "")) == "" {
		detail = "classic token with no scopes"
	}
	if len(missing) > 0 {
		detail += "; missing " + strings.Join(missing, " and ")
		if !have["repo"] && have["public_repo"] {
			detail += " (public_repo reads public repositories only)"
		}
	}
	add("token scopes", len(missing) == 0, detail,
		"add the "+strings.Join(missing, " and ")+" scope(s) to the classic token (Settings → Developer settings → Personal access tokens → edit), or use a fine-grained token with Contents: read and Metadata: read")
	return true, false
}

// checkApp tests the App's JWT (GET /app) and its installation token.
func (s *Source) checkApp(ctx context.Context, add addFunc) bool {
	app, resp, err := s.app.client.Apps.Get(ctx, "")
	if err != nil {
		fix := "check that GitHub is reachable and github.base_url is the REST API"
		if st := status(resp, err); st == http.StatusUnauthorized || st == http.StatusForbidden || st == http.StatusNotFound {
			fix = "github.app.id and the private key must belong to the same App: check the App ID on its settings page, or generate a new private key there (and check this machine's clock)"
		}
		add("app", false, errorDetail(err), fix)
		return false
	}
	add("app", true, fmt.Sprintf("GitHub App %s (id %d)", app.GetSlug(), app.GetID()), "")
	if _, err := s.app.installationToken(ctx); err != nil {
		add("installation token", false, errorDetail(err), fixInstallation)
		return false
	}
	p := s.app.permissions()
	var missing []string
	if p == nil || (p.GetContents() != "read" && p.GetContents() != "write") {
		missing = append(missing, "Contents: Read-only")
	}
	if p == nil || (p.GetMetadata() != "read" && p.GetMetadata() != "write") {
		missing = append(missing, "Metadata: Read-only")
	}
	detail := fmt.Sprintf("installation %d", s.cfg.App.InstallationID)
	if len(missing) > 0 {
		detail += "; missing " + strings.Join(missing, " and ")
	}
	add("installation token", len(missing) == 0, detail, fixAppPerms)
	return true
}

// checkOrg tests that org (or a user of that name) is visible.
func (s *Source) checkOrg(ctx context.Context, org string, add addFunc) bool {
	name := "org " + org
	o, resp, err := s.client.Organizations.Get(ctx, org)
	if err == nil {
		add(name, true, "organisation "+o.GetLogin(), "")
		return true
	}
	if status(resp, err) == http.StatusNotFound {
		if u, _, uerr := s.client.Users.Get(ctx, org); uerr == nil {
			add(name, true, "user account "+u.GetLogin()+" (its own repositories are listed)", "")
			return true
		}
	}
	add(name, false, errorDetail(err), fixOrgAccess)
	return false
}

// checkListing lists org's first repositories and reads a catalog file
// from one of them.
func (s *Source) checkListing(ctx context.Context, org, fix string, add addFunc) {
	repos, err := s.listOwner(ctx, org)
	name := "repositories " + org
	if err != nil {
		add(name, false, errorDetail(err), fix)
		return
	}
	if len(repos) == 0 {
		add(name, false, "no repository is visible", fix)
		return
	}
	var kept []*gh.Repository
	for _, r := range repos {
		if s.cfg.keeps(r) {
			kept = append(kept, r)
		}
	}
	add(name, true, fmt.Sprintf("%d visible, %d kept by the filters", len(repos), len(kept)), "")
	cname := "catalog file " + org
	for i, r := range kept {
		if i == checkRepos {
			break
		}
		info := repoInfo{Owner: r.GetOwner().GetLogin(), Name: r.GetName()}
		if info.Owner == "" {
			info.Owner = org
		}
		_, found, err := s.getFile(ctx, info, s.cfg.CatalogPath)
		if err != nil {
			add(cname, false, info.slug()+": "+errorDetail(err), fix)
			return
		}
		if found {
			add(cname, true, "read "+info.slug()+"/"+s.cfg.CatalogPath, "")
			return
		}
	}
	add(cname, true, fmt.Sprintf("no %s in the first %d repositories (nothing to read yet)", s.cfg.CatalogPath, min(len(kept), checkRepos)), "")
}

// status is the HTTP status of a failed call, or 0.
func status(resp *gh.Response, err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	if resp != nil && resp.Response != nil {
		return resp.StatusCode
	}
	return 0
}

// errorDetail shortens an error for a check line.
func errorDetail(err error) string {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		msg := er.Message
		if msg == "" {
			msg = http.StatusText(er.Response.StatusCode)
		}
		return fmt.Sprintf("%d %s", er.Response.StatusCode, msg)
	}
	return err.Error()
}
