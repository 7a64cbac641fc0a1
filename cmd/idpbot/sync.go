package main

import (
	"context"

	"github.com/go-co-op/gocron/v2"

	"github.com/idpbot/idpbot/integrations/syncer"
)

// startSyncs schedules the catalog's sources on sched: the catalog files
// every catalog.interval (when set), the GitHub discovery at start and
// every github.interval (when configured). A sync that changes the catalog asks
// the scorecards to be evaluated again.
func (a *app) startSyncs(ctx context.Context, sched gocron.Scheduler) (*syncer.Syncer, error) {
	m, err := syncer.NewMetrics(a.reg)
	if err != nil {
		return nil, err
	}
	var onChange func()
	if a.tracker != nil {
		onChange = a.tracker.Changed
	}
	s := syncer.New(sched, m, a.log.With("component", "sync"), onChange)
	jobs := a.syncJobs()
	gh, err := a.githubJob()
	if err != nil {
		return nil, err
	}
	if gh != nil {
		jobs = append(jobs, *gh)
	}
	for _, j := range jobs {
		if err := s.Add(ctx, j); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// syncJobs are the scheduled sources of the configuration.
func (a *app) syncJobs() []syncer.Job {
	var jobs []syncer.Job
	if paths := a.cfg.Catalog.Paths; len(paths) > 0 && a.cfg.Catalog.Interval > 0 {
		jobs = append(jobs, syncer.Job{Name: "catalog-files", Interval: a.cfg.Catalog.Interval,
			Run: func(ctx context.Context) (bool, error) {
				rep, err := a.ingestFiles(ctx, paths)
				return rep != nil && rep.Added+rep.Updated+rep.Removed > 0, err
			}})
	}
	return jobs
}
