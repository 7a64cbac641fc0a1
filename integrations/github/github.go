// Package github discovers the catalog on GitHub (github.com or GitHub
// Enterprise Server): every repository of the configured organisations that
// has a catalog-info.yaml on its default branch becomes one catalog source,
// github:<org>/<repo>, fed from a mirror of the file and the files it refers
// to, and confined to that mirror; repositories that lose the file, or go
// away (as GitHub confirms), have their entities removed. It also pushes
// repository facts (branch protection, CODEOWNERS, README, licence, last
// commit) for scorecards.
//
// Requests are conditional (ETags, kept across restarts), so a sync of an
// unchanged organisation costs little rate limit; rate limits are waited out
// within a bound; the credentials go to the configured API only. One
// repository's failure never removes its entities, and postpones every
// removal while it may pass.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v75/github"

	"github.com/idpbot/idpbot/catalog"
)

// Name is the integration's name: its config key and its facts' source.
const Name = "github"

// SourcePrefix starts the name of every catalog source this package owns.
const SourcePrefix = "github:"

// AnnotationProjectSlug names the repository (<org>/<repo>) of an entity.
const AnnotationProjectSlug = "github.com/project-slug"

// concurrency is the number of repositories fetched at a time.
const concurrency = 4

// FactSink receives facts about catalog entities; *scoring.FactStore
// satisfies it.
type FactSink interface {
	Push(ctx context.Context, ref, source string, at time.Time, facts map[string]any) error
}

// Options are what a Source needs besides its Config.
type Options struct {
	// Store is the catalog the repositories are ingested into (required).
	Store *catalog.Store
	// Facts receives the repository facts; nil: no facts.
	Facts FactSink
	// MirrorDir keeps the fetched catalog files, one directory per
	// repository (<org>/<repo>), and the ETag cache (required).
	MirrorDir string
	// Transport does the HTTP requests (default http.DefaultTransport).
	Transport http.RoundTripper
	// Logger (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx ends (default a timer); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Source syncs the catalog from GitHub. Its methods are safe for concurrent
// use; syncs are serialised.
type Source struct {
	cfg     Config
	opts    Options
	log     *slog.Logger
	base    *url.URL
	client  *gh.Client
	app     *appAuth // nil with a token
	cache   *etagCache
	mirror  string // absolute
	statePF string

	mu       sync.Mutex // serialises Sync
	ingested map[string]string
}

// SyncReport says what a sync did.
type SyncReport struct {
	// Repos were listed and kept by the filters; WithCatalog of them have
	// the catalog file.
	Repos       int `json:"repos"`
	WithCatalog int `json:"with_catalog"`
	// Ingested repositories changed (or were new to the store); Unchanged
	// ones were not re-ingested; Removed ones lost their entities.
	Ingested  int `json:"ingested"`
	Unchanged int `json:"unchanged"`
	Removed   int `json:"removed"`
	// Kept repositories were missing from the listing but GitHub says they
	// still exist and are discovered (a listing shifted by a deletion
	// between its pages): their entities are kept.
	Kept int `json:"kept"`
	// RemovalsPostponed repositories would have lost their entities, but a
	// repository failed for a reason that may pass (it may be the new name
	// of one of them): the first sync without such a failure removes them.
	RemovalsPostponed int `json:"removals_postponed"`
	// FactsPushed counts the entities that received facts.
	FactsPushed int `json:"facts_pushed"`
	// Failed repositories could not be fetched, ingested, removed or given
	// facts; they keep what they had in the catalog, and Sync returns an
	// error naming them.
	Failed []RepoError `json:"failed,omitempty"`
	// Problems are repositories whose files cannot be read as they are (a
	// file name with "..", a file over 1 MB, a Location target outside the
	// repository): they keep their last good entities until the files are
	// fixed, and do not fail the sync.
	Problems []RepoError `json:"problems,omitempty"`
	// Requests went over the wire (retries included); NotModified of them
	// were answered 304; RateLimited were rate limited.
	Requests    int `json:"requests"`
	NotModified int `json:"not_modified"`
	RateLimited int `json:"rate_limited"`
	// RateRemaining is the last X-RateLimit-Remaining (-1: unknown).
	RateRemaining int `json:"rate_remaining"`
	// Changed says whether the catalog changed.
	Changed bool `json:"changed"`
}

// RepoError is a repository the sync could not fully handle (a failure or
// a content problem); what it had in the catalog is kept.
type RepoError struct {
	// Repo is <org>/<repo>.
	Repo string
	// Stage is "catalog", "ingest", "remove" or "facts".
	Stage string
	Err   error
}

func (e RepoError) Error() string { return fmt.Sprintf("%s: %s: %v", e.Repo, e.Stage, e.Err) }

// Unwrap returns the cause.
func (e RepoError) Unwrap() error { return e.Err }

// MarshalJSON renders the error as text.
func (e RepoError) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"repo": e.Repo, "stage": e.Stage, "error": e.Err.Error()})
}

// New returns a Source for cfg (validated here).
func New(cfg Config, opts Options) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, errors.New("github.orgs: no organisation configured")
	}
	cfg = cfg.WithDefaults()
	if opts.Store == nil {
		return nil, errors.New("github: a catalog store is required")
	}
	if opts.MirrorDir == "" {
		return nil, errors.New("github: a mirror directory is required")
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	mirror, err := filepath.Abs(opts.MirrorDir)
	if err != nil {
		return nil, fmt.Errorf("github: mirror directory: %w", err)
	}
	if err := os.MkdirAll(mirror, 0o750); err != nil {
		return nil, fmt.Errorf("github: create mirror directory: %w", err)
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("github.base_url: %w", err)
	}
	s := &Source{cfg: cfg, opts: opts, log: opts.Logger.With("integration", Name), base: base,
		mirror: mirror, statePF: filepath.Join(mirror, stateFile), cache: newETagCache()}

	st, err := loadState(s.statePF)
	if err != nil {
		s.log.Warn("github state unreadable; starting with an empty ETag cache", "error", err)
	}
	s.ingested = st.Ingested
	s.cache.entries = st.Cache

	wire := buildChain(opts.Transport, cfg.Timeout, opts.Now, opts.Sleep)
	auth := &authTransport{base: &cacheTransport{base: wire, cache: s.cache}, api: base}
	if cfg.Token != "" {
		tok := cfg.Token
		auth.token = func(context.Context) (string, error) { return tok, nil }
	} else {
		key, err := loadAppKey(cfg.App)
		if err != nil {
			return nil, err
		}
		s.app = newAppAuth(cfg.App, key, base, wire, opts.Now)
		auth.token, auth.invalidate = s.app.installationToken, s.app.invalidate
	}
	s.client = newClient(base, auth)
	return s, nil
}

// newClient returns a go-github client on base (github.com or an
// Enterprise /api/v3/) doing its requests through rt, following redirects
// on base's scheme and host only.
func newClient(base *url.URL, rt http.RoundTripper) *gh.Client {
	c := gh.NewClient(&http.Client{Transport: rt, CheckRedirect: checkRedirect(base)})
	u := *base
	c.BaseURL, c.UploadURL = &u, &u
	c.UserAgent = "idpbot"
	// Rate limits are handled by the transports, which wait within a bound.
	c.DisableRateLimitCheck = true
	return c
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Name returns "github".
func (s *Source) Name() string { return Name }

// Interval is the configured sync interval.
func (s *Source) Interval() time.Duration { return s.cfg.SyncInterval() }

// repoInfo is what a sync keeps of a listed repository.
type repoInfo struct {
	Owner, Name   string
	HTMLURL       string
	DefaultBranch string
	License       string // SPDX id, "" when none
}

func (r repoInfo) slug() string   { return r.Owner + "/" + r.Name }
func (r repoInfo) source() string { return SourcePrefix + r.slug() }

// Sync lists the repositories, ingests those whose catalog files changed,
// removes the entities of repositories that no longer have one (see
// removeGone), and pushes facts. A listing failure changes nothing; a
// repository that fails keeps what it had, and the error names it after the
// others are applied. A repository whose files have a problem keeps what it
// had too, and is reported in SyncReport.Problems without failing the sync.
func (s *Source) Sync(ctx context.Context) (*SyncReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := newStats()
	ctx = withStats(ctx, st)
	rep := &SyncReport{}
	defer func() {
		rep.Requests, rep.NotModified = int(st.requests.Load()), int(st.notModified.Load())
		rep.RateLimited, rep.RateRemaining = int(st.rateLimited.Load()), int(st.remaining.Load())
	}()
	start := time.Now()

	repos, err := s.listRepos(ctx)
	if err != nil {
		return rep, fmt.Errorf("sync github: %w", err)
	}
	rep.Repos = len(repos)
	reports, err := s.sourceReports(ctx)
	if err != nil {
		return rep, fmt.Errorf("sync github: read the catalog's sources: %w", err)
	}

	results := s.fetchAll(ctx, repos)
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("sync github: %w", err)
	}
	listed := map[string]bool{}
	for _, r := range repos {
		listed[r.source()] = true
	}
	present := map[string]bool{} // sources that keep their entities
	var unsettled []string       // repositories that failed for a reason that may pass
	for _, r := range results {
		slug := r.repo.slug()
		switch {
		case r.err == nil:
			if r.files != nil {
				present[r.repo.source()] = true
				rep.WithCatalog++
			}
		case isContentProblem(r.err):
			present[r.repo.source()] = true
			rep.Problems = append(rep.Problems, RepoError{Repo: slug, Stage: "catalog", Err: r.err})
			s.log.Warn("github repository not ingested until its files are fixed; its entities are kept", "repo", slug, "problem", r.err)
		default:
			present[r.repo.source()] = true
			rep.Failed = append(rep.Failed, RepoError{Repo: slug, Stage: "catalog", Err: r.err})
			if transient(r.err) {
				unsettled = append(unsettled, slug)
			}
		}
	}

	// Removals first, so that a renamed repository's entities can move to
	// its new source.
	s.removeGone(ctx, reports, listed, present, unsettled, rep)
	for _, r := range results {
		if r.err == nil && r.files != nil {
			s.apply(ctx, r, reports, rep)
		}
	}
	if s.opts.Facts != nil && s.cfg.FactsEnabled() {
		s.pushFacts(ctx, repos, rep)
	}
	if err := s.saveState(rep); err != nil {
		s.log.Warn("save github state", "error", err)
	}

	s.log.Debug("github synced", "repos", rep.Repos, "with_catalog", rep.WithCatalog, "ingested", rep.Ingested,
		"unchanged", rep.Unchanged, "removed", rep.Removed, "kept", rep.Kept, "removals_postponed", rep.RemovalsPostponed,
		"failed", len(rep.Failed), "problems", len(rep.Problems), "facts_pushed", rep.FactsPushed,
		"requests", st.requests.Load(), "not_modified", st.notModified.Load(), "rate_limited", st.rateLimited.Load(),
		"rate_remaining", st.remaining.Load(), "duration", time.Since(start))
	if len(rep.Failed) > 0 {
		errs := make([]error, len(rep.Failed))
		for i, f := range rep.Failed {
			errs[i] = f
		}
		return rep, fmt.Errorf("sync github: %d of %d repositories failed (their entities are kept): %w", len(rep.Failed), rep.Repos, errors.Join(errs...))
	}
	return rep, nil
}

// sourceReports returns the last ingest report of each github: source.
func (s *Source) sourceReports(ctx context.Context) (map[string]catalog.IngestReport, error) {
	all, err := s.opts.Store.SourceReports(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]catalog.IngestReport{}
	for _, r := range all {
		if strings.HasPrefix(r.Source, SourcePrefix) {
			out[r.Source] = r
		}
	}
	return out, nil
}

// listRepos lists the repositories of every org, filtered and sorted.
func (s *Source) listRepos(ctx context.Context) ([]repoInfo, error) {
	var out []repoInfo
	seen := map[string]bool{}
	for _, org := range s.cfg.Orgs {
		repos, err := s.listOwner(ctx, org)
		if err != nil {
			return nil, fmt.Errorf("list the repositories of %s: %w", org, err)
		}
		for _, r := range repos {
			info := repoInfo{Owner: r.GetOwner().GetLogin(), Name: r.GetName(), HTMLURL: r.GetHTMLURL(),
				DefaultBranch: r.GetDefaultBranch(), License: r.GetLicense().GetSPDXID()}
			if info.Owner == "" {
				info.Owner = org
			}
			switch {
			case !s.cfg.keeps(r):
				continue
			case !ownerRE.MatchString(info.Owner) || !repoNameRE.MatchString(info.Name) || info.Name == "." || info.Name == "..":
				s.log.Warn("repository name not usable; skipped", "owner", info.Owner, "repo", info.Name)
				continue
			case seen[strings.ToLower(info.slug())]:
				continue
			}
			if info.DefaultBranch == "" {
				info.DefaultBranch = "main"
			}
			if info.HTMLURL == "" {
				info.HTMLURL = s.htmlBase() + info.slug()
			}
			seen[strings.ToLower(info.slug())] = true
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].slug()) < strings.ToLower(out[j].slug()) })
	return out, nil
}

// maxPages bounds a listing (100 repositories a page).
const maxPages = 1000

// listOwner lists an organisation's repositories, or a user's when the
// organisation does not exist.
func (s *Source) listOwner(ctx context.Context, org string) ([]*gh.Repository, error) {
	opt := &gh.RepositoryListByOrgOptions{Type: "all", ListOptions: gh.ListOptions{PerPage: 100}}
	out, err := listPages(&opt.ListOptions, func() ([]*gh.Repository, *gh.Response, error) {
		return s.client.Repositories.ListByOrg(ctx, org, opt)
	})
	if errors.Is(err, errFirstPageNotFound) {
		return s.listUser(ctx, org)
	}
	return out, err
}

func (s *Source) listUser(ctx context.Context, user string) ([]*gh.Repository, error) {
	opt := &gh.RepositoryListByUserOptions{Type: "owner", ListOptions: gh.ListOptions{PerPage: 100}}
	out, err := listPages(&opt.ListOptions, func() ([]*gh.Repository, *gh.Response, error) {
		return s.client.Repositories.ListByUser(ctx, user, opt)
	})
	if errors.Is(err, errFirstPageNotFound) {
		return nil, fmt.Errorf("no organisation or user %q is visible (check github.orgs and the credentials' access)", user)
	}
	return out, err
}

// errFirstPageNotFound: the listing's first page answered 404 (no such
// owner of that kind).
var errFirstPageNotFound = errors.New("not found")

// listPages follows a listing's pages (list reads the page lo.Page names),
// at most maxPages of them.
func listPages(lo *gh.ListOptions, list func() ([]*gh.Repository, *gh.Response, error)) ([]*gh.Repository, error) {
	var out []*gh.Repository
	for page := 0; page < maxPages; page++ {
		repos, resp, err := list()
		if err != nil {
			if page == 0 && isNotFound(err) {
				return nil, errFirstPageNotFound
			}
			return nil, describe(err)
		}
		out = append(out, repos...)
		if resp.NextPage == 0 {
			return out, nil
		}
		lo.Page = resp.NextPage
	}
	return nil, fmt.Errorf("more than %d pages of repositories", maxPages)
}

// htmlBase is the web address repositories live under.
func (s *Source) htmlBase() string {
	if s.base.Host == "api.github.com" {
		return "https://github.com/"
	}
	u := *s.base
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3") + "/"
	return u.String()
}

// isNotFound reports whether err is GitHub's 404 for the resource asked
// (not for the credentials).
func isNotFound(err error) bool {
	var ce *credentialError
	if errors.As(err, &ce) {
		return false
	}
	var er *gh.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}

// describe makes go-github's and encoding/json's errors say what happened.
func describe(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se), errors.As(err, &te), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("GitHub sent malformed JSON: %w", err)
	}
	return err
}

// saveState persists what was ingested and the ETag cache, pruned of the
// entries this sync did not use, except those of the repositories that
// failed or have a content problem (their fetch may have stopped early).
func (s *Source) saveState(rep *SyncReport) error {
	var keep []string
	for _, f := range append(append([]RepoError(nil), rep.Failed...), rep.Problems...) {
		if owner, name, ok := strings.Cut(f.Repo, "/"); ok {
			keep = append(keep, s.base.JoinPath("repos", owner, name).String())
		}
	}
	return saveState(s.statePF, &persisted{Version: stateVersion, Ingested: s.ingested, Cache: s.cache.prune(keep)})
}
