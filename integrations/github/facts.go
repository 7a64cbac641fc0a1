package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	gh "github.com/google/go-github/v75/github"
	"golang.org/x/sync/errgroup"

	"github.com/idpbot/idpbot/catalog"
)

// Fact names, read by scorecard rules as facts.<name>.
const (
	FactBranchProtection = "github_branch_protection"
	FactCodeowners       = "github_codeowners"
	FactReadme           = "github_readme"
	FactLicense          = "github_license"
	FactLastCommitDays   = "github_last_commit_days"
)

// codeownersPaths are where GitHub looks for CODEOWNERS, in its order.
var codeownersPaths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

// pushFacts computes the facts of each listed repository that catalog
// entities point at (annotation github.com/project-slug, any source) and
// pushes them to those entities.
func (s *Source) pushFacts(ctx context.Context, repos []repoInfo, rep *SyncReport) {
	targets, err := s.factTargets(ctx)
	if err != nil {
		rep.Failed = append(rep.Failed, RepoError{Repo: "*", Stage: "facts", Err: fmt.Errorf("list the entities with %s: %w", AnnotationProjectSlug, err)})
		return
	}
	type result struct {
		pushed int
		err    error
	}
	results := make([]result, len(repos))
	at := s.opts.Now()
	var g errgroup.Group
	g.SetLimit(concurrency)
	for i, r := range repos {
		refs := targets[strings.ToLower(r.slug())]
		if len(refs) == 0 {
			continue
		}
		g.Go(func() error {
			facts, err := s.repoFacts(ctx, r, at)
			if err != nil {
				results[i].err = err
				return nil
			}
			for _, ref := range refs {
				if err := s.opts.Facts.Push(ctx, ref, Name, at, facts); err != nil {
					results[i].err = fmt.Errorf("push facts to %s: %w", ref, err)
					return nil
				}
				results[i].pushed++
			}
			return nil
		})
	}
	_ = g.Wait()
	for i, res := range results {
		rep.FactsPushed += res.pushed
		if res.err != nil {
			rep.Failed = append(rep.Failed, RepoError{Repo: repos[i].slug(), Stage: "facts", Err: res.err})
		}
	}
}

// factTargets maps a lower-cased <org>/<repo> to the refs of the entities
// annotated with it (Locations aside).
func (s *Source) factTargets(ctx context.Context) (map[string][]string, error) {
	f, err := catalog.ParseFilter("metadata.annotations." + AnnotationProjectSlug)
	if err != nil {
		return nil, err
	}
	entities, err := s.opts.Store.List(ctx, f, 0)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, e := range entities {
		if strings.EqualFold(e.Kind, catalog.KindLocation) {
			continue // scorecards do not apply to Locations
		}
		for k, v := range e.Metadata.Annotations {
			if strings.EqualFold(k, AnnotationProjectSlug) {
				slug := strings.ToLower(strings.TrimSpace(v))
				out[slug] = append(out[slug], e.Ref().String())
			}
		}
	}
	for _, refs := range out {
		sort.Strings(refs)
	}
	return out, nil
}

// repoFacts computes the facts of r at time now.
func (s *Source) repoFacts(ctx context.Context, r repoInfo, now time.Time) (map[string]any, error) {
	facts := map[string]any{FactLicense: r.License}

	b, err := s.getBranch(ctx, r)
	switch {
	case err == nil:
		facts[FactBranchProtection] = b.GetProtected()
		c := b.GetCommit().GetCommit()
		when := c.GetCommitter().GetDate().Time
		if when.IsZero() {
			when = c.GetAuthor().GetDate().Time
		}
		if !when.IsZero() {
			facts[FactLastCommitDays] = max(int(now.Sub(when)/(24*time.Hour)), 0)
		}
	case isNotFound(err):
		facts[FactBranchProtection] = false // an empty repository has no branch
	default:
		return nil, fmt.Errorf("get branch %s: %w", r.DefaultBranch, describe(err))
	}

	_, _, err = s.client.Repositories.GetReadme(ctx, r.Owner, r.Name, nil)
	switch {
	case err == nil:
		facts[FactReadme] = true
	case isNotFound(err):
		facts[FactReadme] = false
	default:
		return nil, fmt.Errorf("get the README: %w", describe(err))
	}

	facts[FactCodeowners] = false
	for _, p := range codeownersPaths {
		_, found, err := s.exists(ctx, r, p)
		if err != nil {
			return nil, err
		}
		if found {
			facts[FactCodeowners] = true
			break
		}
	}
	return facts, nil
}

// getBranch reads r's default branch. go-github's GetBranch follows a
// redirect itself, to whatever host it names; this request goes through
// the http.Client, whose policy follows redirects on the API's host only.
func (s *Source) getBranch(ctx context.Context, r repoInfo) (*gh.Branch, error) {
	u := fmt.Sprintf("repos/%s/%s/branches/%s", url.PathEscape(r.Owner), url.PathEscape(r.Name), url.PathEscape(r.DefaultBranch))
	req, err := s.client.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	b := new(gh.Branch)
	if _, err := s.client.Do(ctx, req, b); err != nil {
		return nil, err
	}
	return b, nil
}

// exists reports whether p is a file of r's default branch, without
// decoding it.
func (s *Source) exists(ctx context.Context, r repoInfo, p string) (*gh.RepositoryContent, bool, error) {
	fc, _, _, err := s.client.Repositories.GetContents(ctx, r.Owner, r.Name, p, nil)
	switch {
	case err == nil:
		return fc, fc != nil, nil
	case isNotFound(err):
		return nil, false, nil
	default:
		return nil, false, fmt.Errorf("get %s: %w", p, describe(err))
	}
}
