package main

import (
	"context"
	"path/filepath"

	"github.com/idpbot/idpbot/integrations/check"
	"github.com/idpbot/idpbot/integrations/github"
	"github.com/idpbot/idpbot/integrations/syncer"
)

// githubSource builds the GitHub discovery from the configuration (nil
// when no organisation is configured). Catalog files are mirrored under
// DATA_DIR/github; facts go to the scorecards' fact store when scorecards
// are loaded.
func (a *app) githubSource() (*github.Source, error) {
	if !a.cfg.GitHub.Enabled() {
		return nil, nil
	}
	opts := github.Options{
		Store:     a.store,
		MirrorDir: filepath.Join(a.dataDir, "github"),
		Transport: a.api.Transport("github", nil),
		Logger:    a.log.With("component", "github"),
	}
	if a.facts != nil {
		opts.Facts = a.facts // not a typed nil: no facts without scorecards
	}
	return github.New(a.cfg.GitHub, opts)
}

// githubJob is the scheduled GitHub discovery: at start, then every
// github.interval.
func (a *app) githubJob() (*syncer.Job, error) {
	src, err := a.githubSource()
	if err != nil || src == nil {
		return nil, err
	}
	return &syncer.Job{Name: src.Name(), Interval: a.cfg.GitHub.SyncInterval(), Immediately: true,
		Run: func(ctx context.Context) (bool, error) {
			rep, err := src.Sync(ctx)
			if rep != nil {
				a.log.Info("github sync", "repos", rep.Repos, "with_catalog", rep.WithCatalog, "ingested", rep.Ingested,
					"unchanged", rep.Unchanged, "removed", rep.Removed, "kept", rep.Kept, "removals_postponed", rep.RemovalsPostponed,
					"problems", len(rep.Problems), "facts_pushed", rep.FactsPushed, "failed", len(rep.Failed),
					"requests", rep.Requests, "not_modified", rep.NotModified, "rate_limited", rep.RateLimited, "rate_remaining", rep.RateRemaining)
			}
			return rep != nil && rep.Changed, err
		}}, nil
}

// checkGitHub runs the GitHub integration's checks when it is configured.
func (a *app) checkGitHub(ctx context.Context) ([]check.Result, error) {
	src, err := a.githubSource()
	if err != nil || src == nil {
		return nil, err
	}
	return src.Check(ctx), nil
}
