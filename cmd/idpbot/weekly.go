package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/robfig/cron/v3"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/discord"
	"github.com/idpbot/idpbot/bot/slack"
	"github.com/idpbot/idpbot/scoring"
)

// leaderboardsConfig schedules the weekly leaderboard posts.
type leaderboardsConfig struct {
	// Schedule is a cron expression (minute hour day month weekday);
	// default Monday 09:00.
	Schedule string `yaml:"schedule"`
	// Timezone is the IANA zone of the schedule and of week numbers.
	Timezone string `yaml:"timezone"`
	// Fallback channels get the report of teams that name no channel;
	// Global channels get the whole board. Each is "slack:C0123".
	Fallback []string `yaml:"fallback"`
	Global   []string `yaml:"global"`
}

const defaultLeaderboardSchedule = "0 9 * * 1"

func (c leaderboardsConfig) validate() error {
	var errs []error
	if _, err := cron.ParseStandard(c.schedule()); err != nil {
		errs = append(errs, fmt.Errorf("leaderboards.schedule: %q: %v (five fields: minute hour day month weekday, e.g. %q)", c.Schedule, err, defaultLeaderboardSchedule))
	}
	if _, err := c.location(); err != nil {
		errs = append(errs, err)
	}
	for key, list := range map[string][]string{"leaderboards.fallback": c.Fallback, "leaderboards.global": c.Global} {
		for _, s := range list {
			if _, err := parseChannel(s); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (c leaderboardsConfig) schedule() string {
	if c.Schedule == "" {
		return defaultLeaderboardSchedule
	}
	return c.Schedule
}

func (c leaderboardsConfig) location() (*time.Location, error) {
	if c.Timezone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("leaderboards.timezone: unknown zone %q; use an IANA name such as Europe/Berlin", c.Timezone)
	}
	return loc, nil
}

// discordPoster posts leaderboards to Discord channels with the bot
// token, each keyed in its footer so that a restart can tell whether it
// went out, with the chart attached and shown in the embed.
type discordPoster struct{ fd *discord.FrontDoor }

var _ scoring.Poster = discordPoster{}

func (p discordPoster) Post(ctx context.Context, post *scoring.Post) error {
	var files []discord.Attachment
	if png, err := scoring.Chart(post.Board, teamOf(post)); err == nil {
		files = append(files, discord.Attachment{Filename: chartName(post), ContentType: "image/png", Data: png})
	}
	_, err := p.fd.PostKeyed(ctx, post.Channel.ID, post.Key, bot.LeaderboardPost(post), files...)
	return err
}

// teamOf is the team a post is for ("" for the global board).
func teamOf(post *scoring.Post) string {
	if post.Team == nil {
		return ""
	}
	return post.Team.Standing.Team
}

// chartName is the chart's file name: scorecard and week.
func chartName(post *scoring.Post) string {
	return strings.NewReplacer("/", "-", ":", "-").Replace(post.Board.Scorecard.ID + "-" + post.Board.Week + ".png")
}

func (p discordPoster) Posted(ctx context.Context, post *scoring.Post) (bool, error) {
	return p.fd.FindKeyed(ctx, post.Channel.ID, post.Key, post.Board.At.AddDate(0, 0, -8))
}

// locationOrUTC is the zone, or UTC when it does not load (validate has
// reported that).
func (c leaderboardsConfig) locationOrUTC() *time.Location {
	if loc, err := c.location(); err == nil {
		return loc
	}
	return time.UTC
}

func parseChannel(s string) (scoring.Channel, error) {
	p, id, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || id == "" || (p != "slack" && p != "discord") {
		return scoring.Channel{}, fmt.Errorf("%q is not platform:channel-id (e.g. slack:C04PAYMENTS)", s)
	}
	return scoring.Channel{Platform: p, ID: id}, nil
}

func parseChannels(list []string) []scoring.Channel {
	var out []scoring.Channel
	for _, s := range list {
		if ch, err := parseChannel(s); err == nil {
			out = append(out, ch)
		}
	}
	return out
}

// slackPoster posts leaderboards through the Slack front door, each message
// keyed in its metadata so that a restart can tell whether it went out, with
// the chart in its thread.
type slackPoster struct {
	fd  *slack.FrontDoor
	log *slog.Logger
}

var _ scoring.Poster = slackPoster{}

func (p slackPoster) Post(ctx context.Context, post *scoring.Post) error {
	ts, err := p.fd.PostKeyed(ctx, post.Channel.ID, post.Key, bot.LeaderboardPost(post))
	if err != nil {
		return err
	}
	// The chart is a picture of what the message says: a failed upload is
	// logged, and the post stands (it is not posted again).
	png, err := scoring.Chart(post.Board, teamOf(post))
	if err == nil {
		err = p.fd.UploadFile(ctx, post.Channel.ID, ts, chartName(post), post.Board.Scorecard.Title+" — week "+post.Board.Week,
			"Bar chart of team scores this week and last week", png)
	}
	if err != nil && p.log != nil {
		p.log.WarnContext(ctx, "leaderboard chart not shared", "key", post.Key, "error", err.Error())
	}
	return nil
}

func (p slackPoster) Posted(ctx context.Context, post *scoring.Post) (bool, error) {
	// The week's posts are at most eight days old.
	return p.fd.FindKeyed(ctx, post.Channel.ID, post.Key, post.Board.At.AddDate(0, 0, -8))
}

// schedule is the table of scheduled work: the store's garbage collection
// (hourly), the expiry of stale approvals (every minute), the periodic
// evaluation of the scorecards and, with a poster, the weekly leaderboards
// (with a catch-up, once, of a week whose run was due while the bot was
// down). It returns the scheduler to shut down.
func schedule(ctx context.Context, tracker *scoring.Tracker, interval time.Duration, w *scoring.Weekly, cfg leaderboardsConfig, engine *actions.Engine,
	gc func(context.Context) (int, error), log *slog.Logger) (gocron.Scheduler, error) {
	loc, err := cfg.location()
	if err != nil {
		return nil, err
	}
	s, err := gocron.NewScheduler(gocron.WithLocation(loc))
	if err != nil {
		return nil, err
	}
	if gc != nil {
		collect := func(ctx context.Context) {
			n, err := gc(ctx)
			if err != nil {
				log.Error("store garbage collection", "error", err.Error())
				return
			}
			log.Debug("store garbage collection", "value_log_files_rewritten", n)
		}
		if _, err := s.NewJob(gocron.DurationJob(time.Hour), gocron.NewTask(collect),
			gocron.WithSingletonMode(gocron.LimitModeReschedule), gocron.WithContext(ctx), gocron.WithName("store-gc")); err != nil {
			return nil, err
		}
	}
	if engine != nil {
		expire := func(ctx context.Context) {
			if err := engine.ExpireStale(ctx); err != nil {
				log.Error("expire stale approvals", "error", err.Error())
			}
		}
		if _, err := s.NewJob(gocron.DurationJob(time.Minute), gocron.NewTask(expire),
			gocron.WithSingletonMode(gocron.LimitModeReschedule), gocron.WithContext(ctx), gocron.WithName("expire-approvals")); err != nil {
			return nil, err
		}
	}
	if tracker == nil {
		s.Start()
		return s, nil
	}
	if interval <= 0 {
		interval = time.Hour
	}
	evaluate := func(ctx context.Context) {
		start := time.Now()
		if _, err := tracker.Run(ctx); err != nil {
			log.Error("scorecard evaluation", "error", err.Error())
			return
		}
		log.Info("scorecards evaluated", "duration_ms", time.Since(start).Milliseconds())
	}
	_, err = s.NewJob(gocron.DurationJob(interval), gocron.NewTask(evaluate),
		gocron.WithSingletonMode(gocron.LimitModeReschedule), gocron.WithContext(ctx), gocron.WithName("scorecard-evaluation"),
		gocron.WithStartAt(gocron.WithStartImmediately()))
	if err != nil {
		return nil, fmt.Errorf("scorecards.interval: %w", err)
	}
	if w == nil {
		s.Start()
		return s, nil
	}
	run := func(ctx context.Context) {
		start := time.Now()
		if err := w.Run(ctx); err != nil {
			log.Error("weekly leaderboards", "error", err.Error(), "duration_ms", time.Since(start).Milliseconds())
			return
		}
		log.Info("weekly leaderboards posted", "duration_ms", time.Since(start).Milliseconds())
	}
	_, err = s.NewJob(gocron.CronJob(cfg.schedule(), false), gocron.NewTask(run),
		gocron.WithSingletonMode(gocron.LimitModeReschedule), gocron.WithContext(ctx), gocron.WithName("weekly-leaderboards"))
	if err != nil {
		return nil, fmt.Errorf("leaderboards.schedule: %w", err)
	}
	s.Start()
	if due, err := catchUpDue(ctx, w, cfg.schedule(), loc, time.Now()); err != nil {
		log.Error("weekly leaderboards: catch-up check", "error", err.Error())
	} else if due {
		log.Info("weekly leaderboards: this week's posts are due and not done; catching up")
		go run(ctx)
	}
	return s, nil
}

// catchUpDue says whether this week's scheduled run has passed without
// finishing (the bot was down, or crashed mid-way).
func catchUpDue(ctx context.Context, w *scoring.Weekly, schedule string, loc *time.Location, now time.Time) (bool, error) {
	sched, err := cron.ParseStandard(schedule)
	if err != nil {
		return false, err
	}
	now = now.In(loc)
	y, wk := now.ISOWeek()
	// The last scheduled time at or before now, if it falls in this week.
	var last time.Time
	for t := sched.Next(now.AddDate(0, 0, -8)); !t.After(now); t = sched.Next(t) {
		last = t
	}
	if last.IsZero() {
		return false, nil
	}
	if ly, lw := last.ISOWeek(); ly != y || lw != wk {
		return false, nil
	}
	done, err := w.WeekDone(ctx, now)
	return !done, err
}
