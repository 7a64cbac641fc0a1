package github

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/idpbot/idpbot/catalog"
)

// removeGone empties the sources of repositories that are gone, archived,
// excluded or without a catalog file, and deletes their mirrors. present
// holds the sources that keep their entities (those with a catalog file,
// and those that failed or have a content problem); listed those of the
// repositories the listing showed.
//
// A removal is never a guess. A source whose repository is missing from
// the listing is removed only when GitHub confirms it is gone (see gone):
// a listing is paginated, and a repository deleted meanwhile shifts the
// next page, hiding a repository that still exists. And when a repository
// failed for a reason that may pass (unsettled), every removal waits for a
// later sync: the failing repository may be the new name of one that is
// missing.
func (s *Source) removeGone(ctx context.Context, reports map[string]catalog.IngestReport, listed, present map[string]bool, unsettled []string, rep *SyncReport) {
	candidates := map[string]bool{}
	for src := range reports {
		candidates[src] = true
	}
	for src := range s.ingested {
		candidates[src] = true
	}
	names := make([]string, 0, len(candidates))
	for src := range candidates {
		if !present[src] {
			names = append(names, src)
		}
	}
	sort.Strings(names)

	type removal struct {
		src, slug, why string
		entities       int
	}
	var remove []removal
	var postponed []string
	hold := len(unsettled) > 0
	for _, src := range names {
		slug := strings.TrimPrefix(src, SourcePrefix)
		entities := reports[src].Entities
		switch {
		case entities == 0:
			s.forget(src) // nothing to remove but the bookkeeping
			continue
		case hold:
			postponed = append(postponed, slug)
			continue
		}
		why, gone, err := s.gone(ctx, slug, listed[src])
		switch {
		case err != nil:
			rep.Failed = append(rep.Failed, RepoError{Repo: slug, Stage: "remove", Err: err})
			s.log.Warn("github repository missing from the listing could not be checked; its entities are kept", "repo", slug, "error", err)
			if transient(err) {
				hold = true
				unsettled = append(unsettled, slug)
			}
		case !gone:
			rep.Kept++
			s.log.Info("github repository missing from the listing still exists; its entities are kept until it is listed again", "repo", slug)
		default:
			remove = append(remove, removal{src: src, slug: slug, why: why, entities: entities})
		}
	}
	if hold {
		for _, r := range remove {
			postponed = append(postponed, r.slug)
		}
		sort.Strings(postponed)
		rep.RemovalsPostponed = len(postponed)
		if len(postponed) > 0 {
			s.log.Warn("github removals postponed to a sync without failures: a repository failed for a reason that may pass",
				"postponed", postponed, "failed", unsettled)
		}
		return
	}
	removed := 0
	for _, r := range remove {
		if err := s.empty(ctx, r.src); err != nil {
			rep.Failed = append(rep.Failed, RepoError{Repo: r.slug, Stage: "remove", Err: err})
			continue
		}
		removed++
		rep.Removed++
		rep.Changed = true
		s.log.Info("github repository's entities removed", "repo", r.slug, "entities", r.entities, "reason", r.why)
		s.forget(r.src)
	}
	if removed > 0 {
		// An entity refused to one source because another held it (a
		// renamed repository whose old name was kept) may now be free:
		// sources whose last ingest had errors are ingested again.
		for src, r := range reports {
			if present[src] && r.Problems.Errors() > 0 {
				delete(s.ingested, src)
			}
		}
	}
}

// gone says whether the repository slug (<owner>/<repo>), whose source has
// entities but no catalog file this sync, is to lose them, and why. listed
// says the listing showed it: its catalog file is gone. A repository
// missing from the listing is gone when it is no longer configured, when
// GitHub answers 404, or when its answer shows it archived, disabled, a
// fork that is not discovered, or moved to another owner or name (GitHub
// answers a renamed or transferred repository with a 301 to its new
// place). A repository that still exists and qualifies is not gone: the
// listing missed it. An error leaves it be.
func (s *Source) gone(ctx context.Context, slug string, listed bool) (why string, gone bool, err error) {
	if listed {
		return "no catalog file", true, nil
	}
	owner, name, _ := strings.Cut(slug, "/")
	switch {
	case !s.configuredOwner(owner):
		return "its owner is not in github.orgs", true, nil
	case !s.cfg.match(name):
		return "excluded by github.include or github.exclude", true, nil
	case !ownerRE.MatchString(owner) || !repoNameRE.MatchString(name) || name == "." || name == "..":
		return "not a repository name", true, nil
	}
	r, _, err := s.client.Repositories.Get(ctx, owner, name)
	switch {
	case isNotFound(err):
		return "deleted, or no longer visible to the credentials", true, nil
	case err != nil:
		return "", false, fmt.Errorf("confirm that the repository is gone: %w", describe(err))
	}
	full := r.GetFullName()
	if full == "" {
		full = r.GetOwner().GetLogin() + "/" + r.GetName()
	}
	switch {
	case full != slug:
		return "moved to " + full, true, nil
	case r.GetArchived():
		return "archived", true, nil
	case r.GetDisabled():
		return "disabled", true, nil
	case r.GetFork() && !s.cfg.Forks:
		return "a fork, and github.forks is off", true, nil
	}
	return "", false, nil
}

// configuredOwner reports whether owner is one of github.orgs.
func (s *Source) configuredOwner(owner string) bool {
	for _, o := range s.cfg.Orgs {
		if strings.EqualFold(o, owner) {
			return true
		}
	}
	return false
}

// forget drops what is kept of src: its digest and its mirror.
func (s *Source) forget(src string) {
	delete(s.ingested, src)
	slug := strings.TrimPrefix(src, SourcePrefix)
	owner, name, _ := strings.Cut(slug, "/")
	if !ownerRE.MatchString(owner) || !repoNameRE.MatchString(name) || name == "." || name == ".." {
		return
	}
	dir := s.repoDir(owner, name)
	if err := os.RemoveAll(dir); err != nil {
		s.log.Warn("delete the mirror", "repo", slug, "error", err)
	}
	_ = os.Remove(filepath.Dir(dir)) // the org's directory, when empty
}

// empty ingests an empty directory as src, removing its entities.
func (s *Source) empty(ctx context.Context, src string) error {
	dir, err := os.MkdirTemp(s.mirror, ".empty-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	_, err = s.opts.Store.Ingest(ctx, src, []string{dir})
	return err
}
