package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/console"
	"github.com/idpbot/idpbot/bot/discord"
	"github.com/idpbot/idpbot/bot/httpapi"
	"github.com/idpbot/idpbot/bot/slack"
	"github.com/idpbot/idpbot/scoring"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
)

func newServeCmd(g *globals) *cobra.Command {
	var o appOptions
	var listen string
	var withConsole bool
	var as string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the bot: HTTP endpoints, Slack and Discord (when configured) and, with --console, a terminal chat",
		Long: `Serve opens the catalog (ingesting --catalog paths first), then listens on
--listen for /healthz, /readyz, /metrics and, when configured, the Slack
endpoints /slack/commands and /slack/interactivity and the Discord endpoint
/discord/interactions. With a Slack app-level token it also connects over
Socket Mode; with discord.gateway it takes Discord interactions over the
gateway. SIGINT or SIGTERM drain in-flight requests and close the catalog
cleanly.

Without --config, everything comes from flags and the environment:
SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL,
DISCORD_BOT_TOKEN, DISCORD_APPLICATION_ID, DISCORD_PUBLIC_KEY,
DISCORD_API_URL, DISCORD_GUILD_ID, DISCORD_GATEWAY and IDPBOT_BUTTON_KEY.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadSettings(&o, cmd.Flags().Changed("data-dir"))
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("listen") || cfg.Listen == "" {
				cfg.Listen = listen
			}
			if withConsole && cfg.Log.File == "" {
				cfg.Log.File = cfg.DataDir + "/idpbot.log"
			}
			return serve(cmd.Context(), g, cfg, withConsole, as)
		},
	}
	o.register(cmd.Flags())
	cmd.Flags().StringVar(&listen, "listen", defaultListen, "address of the HTTP listener")
	cmd.Flags().BoolVar(&withConsole, "console", false, "attach the console chat to this terminal (logs go to --log-file, by default DATA_DIR/idpbot.log)")
	cmd.Flags().StringVar(&as, "as", "", "with --console: the catalog user to act as")
	return cmd
}

func serve(ctx context.Context, g *globals, cfg *config, withConsole bool, as string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a, err := newApp(ctx, g, cfg)
	if err != nil {
		return err
	}
	defer a.close()

	// 1. The HTTP routes and the front doors.
	var ready atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ok: %d entities\n", a.store.Count())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	deps := httpapi.Deps{Catalog: a.store, Backup: a.store.Backup}
	if a.scores != nil {
		deps.Scorer, deps.Facts = a.scores, a.facts
	}
	if a.engine != nil {
		deps.Actions, deps.Audit = a.engine, a.engine.Audit()
	}
	api, err := httpapi.New(cfg.API, deps, a.log.With("component", "api"))
	if err != nil {
		return err
	}
	mux.Handle("/api/v1/", api.Handler())
	var slackFD *slack.FrontDoor
	if cfg.slackEnabled() {
		if slackFD, err = slack.New(cfg.Slack, a.router, a.log.With("component", "slack"), slack.WithHTTPClient(a.api.Client("slack", 30*time.Second))); err != nil {
			return err
		}
		a.ident.SetLookup(bot.Slack, slackFD)
		mux.Handle("/slack/", slackFD.Handler())
	}
	var discordFD *discord.FrontDoor
	if cfg.discordEnabled() {
		if discordFD, err = discord.New(cfg.Discord, a.router, a.log.With("component", "discord"), discord.WithHTTPClient(a.api.Client("discord", 30*time.Second))); err != nil {
			return err
		}
		mux.Handle("/discord/", discordFD.Handler())
	}
	a.notifier.set(slackFD, discordFD)

	// 2. Work left from before a restart, and the schedule.
	if a.engine != nil {
		// Runs approved before a restart start now; runs cut off while
		// executing are retried (idempotent executors) or marked unknown.
		recovered, err := a.engine.Recover(ctx)
		if err != nil {
			return fmt.Errorf("recover action runs: %w", err)
		}
		for _, r := range recovered {
			a.log.Info("action run recovered", "run", r.ID, "action", r.Action, "status", string(r.Status))
		}
	}
	{
		var weekly *scoring.Weekly
		posters := map[string]scoring.Poster{}
		if slackFD != nil {
			posters["slack"] = slackPoster{slackFD, a.log.With("component", "leaderboards")}
		}
		if discordFD != nil {
			posters["discord"] = discordPoster{discordFD}
		}
		if len(posters) > 0 && a.tracker != nil {
			state, err := a.store.State("leaderboards")
			if err != nil {
				return err
			}
			history, err := a.store.State("scores")
			if err != nil {
				return err
			}
			weekly = scoring.NewWeekly(a.scores, scoring.NewHistory(history, cfg.Leaderboards.locationOrUTC()), state, a.store,
				posters,
				scoring.WeeklyConfig{Fallback: parseChannels(cfg.Leaderboards.Fallback), Global: parseChannels(cfg.Leaderboards.Global)},
				a.log.With("component", "leaderboards"))
			weekly.UseTracker(a.tracker)
		}
		if a.tracker != nil {
			// Pushed facts move scores: evaluate again once a burst of
			// pushes has settled.
			a.facts.OnPush(a.tracker.Changed)
			go a.tracker.Follow(ctx, 30*time.Second, func(err error) {
				a.log.Error("scorecard evaluation after a change", "error", err.Error())
			})
		}
		sched, err := schedule(ctx, a.tracker, cfg.Scorecards.Interval, weekly, cfg.Leaderboards, a.engine, a.store.CollectGarbage, a.log.With("component", "scheduler"))
		if err != nil {
			return err
		}
		defer func() {
			if err := sched.Shutdown(); err != nil {
				a.log.Error("scheduler shutdown", "error", err.Error())
			}
		}()
		if _, err := a.startSyncs(ctx, sched); err != nil {
			return err
		}
	}

	// 3. Listen, connect, and say we are ready.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 4)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	if slackFD != nil && cfg.Slack.AppToken != "" {
		go func() {
			if err := slackFD.RunSocketMode(ctx); err != nil {
				errc <- fmt.Errorf("slack socket mode: %w", err)
			}
		}()
	}
	if discordFD != nil && cfg.Discord.Gateway {
		go func() {
			if err := discordFD.RunGateway(ctx); err != nil {
				errc <- fmt.Errorf("discord gateway: %w", err)
			}
		}()
	}
	ready.Store(true)
	a.log.Info("serving", "listen", ln.Addr().String(), "entities", a.store.Count(),
		"slack_http", slackFD != nil && cfg.Slack.SigningSecret != "", "slack_socket_mode", slackFD != nil && cfg.Slack.AppToken != "",
		"discord_http", discordFD != nil, "discord_gateway", discordFD != nil && cfg.Discord.Gateway,
		"actions", a.engine != nil, "scorecards", a.tracker != nil)
	if g.onListen != nil {
		g.onListen(ln.Addr().String())
	}
	if withConsole {
		fmt.Fprintf(g.stdout, "idpbot: %d catalog entities; HTTP on http://%s (health, metrics); logs in %s\n", a.store.Count(), ln.Addr(), cfg.Log.File)
		go func() {
			errc <- console.Run(ctx, g.stdin, g.stdout, a.router, as, isTerminal(g.stdin))
		}()
	}

	// 4. Until SIGINT/SIGTERM (or a fatal error): then drain.
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	ready.Store(false)
	a.log.Info("shutting down")
	shutCtx, stop := context.WithTimeout(context.Background(), 15*time.Second)
	defer stop()
	if serr := srv.Shutdown(shutCtx); serr != nil {
		a.log.Error("http shutdown", "error", serr.Error())
	}
	cancel() // ends Socket Mode, the gateway, scheduled jobs and the console
	if slackFD != nil {
		if serr := slackFD.Shutdown(shutCtx); serr != nil {
			a.log.Error("slack shutdown: replies still being delivered were dropped", "error", serr.Error())
		}
	}
	if discordFD != nil {
		if serr := discordFD.Shutdown(shutCtx); serr != nil {
			a.log.Error("discord shutdown: replies still being delivered were dropped", "error", serr.Error())
		}
	}
	return err
}
