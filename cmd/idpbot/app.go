package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/actions/catalogexec"
	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/apimetrics"
	"github.com/idpbot/idpbot/integrations/oncall"
	"github.com/idpbot/idpbot/integrations/opsgenie"
	"github.com/idpbot/idpbot/integrations/pagerduty"
	"github.com/idpbot/idpbot/integrations/rotations"
	"github.com/idpbot/idpbot/scoring"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// app is the running bot: the catalog, the router and what they report to.
// serve, chat and ask build it the same way.
type app struct {
	cfg     *config
	dataDir string
	log     *slog.Logger
	logFile io.Closer
	store   *catalog.Store
	router  *bot.Router
	ident   *bot.Identity
	// oncall answers who is on call (rotations, PagerDuty, Opsgenie).
	oncall *oncall.Multi
	// engine runs actions (nil without action definitions); notifier
	// announces runs through the front doors serve starts.
	engine   *actions.Engine
	notifier *chatNotifier
	// scores, facts and tracker are nil without scorecards.
	scores  *scoring.Evaluator
	facts   *scoring.FactStore
	tracker *scoring.Tracker
	reg     *prometheus.Registry
	// api counts the calls to the platforms (Slack, Discord, PagerDuty,
	// Opsgenie, GitHub).
	api *apimetrics.Metrics
}

// appOptions are the command-line settings that override the config file.
type appOptions struct {
	configPath     string
	catalogPaths   []string
	scorecardPaths []string
	actionPaths    []string
	logFile        string
}

func (o *appOptions) register(flags interface {
	StringVar(*string, string, string, string)
	StringSliceVar(*[]string, string, []string, string)
}) {
	flags.StringVar(&o.configPath, "config", "", "configuration file (YAML; ${ENV} is replaced); optional")
	flags.StringSliceVar(&o.catalogPaths, "catalog", nil, "catalog files, directories or globs to ingest at start (repeatable)")
	flags.StringSliceVar(&o.scorecardPaths, "scorecards", nil, "scorecard files, directories or globs to load (repeatable)")
	flags.StringSliceVar(&o.actionPaths, "actions", nil, "action definition files, directories or globs to load (repeatable)")
	flags.StringVar(&o.logFile, "log-file", "", "write logs to this file instead of stderr")
}

// loadSettings reads the config file, if any, and fills the rest from the
// environment and the flags.
func (g *globals) loadSettings(o *appOptions, dataDirSet bool) (*config, error) {
	cfg := &config{}
	if o.configPath != "" {
		c, err := loadConfig(o.configPath, os.Getenv)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	cfg.applyEnv(os.Getenv)
	if dataDirSet || cfg.DataDir == "" {
		cfg.DataDir = g.dataDir
	}
	if len(o.catalogPaths) > 0 {
		cfg.Catalog.Paths = o.catalogPaths
	}
	if len(o.scorecardPaths) > 0 {
		cfg.Scorecards.Paths = o.scorecardPaths
	}
	if len(o.actionPaths) > 0 {
		cfg.Actions.Paths = o.actionPaths
	}
	if o.logFile != "" {
		cfg.Log.File = o.logFile
	}
	if cfg.Log.Level == "" {
		cfg.Log.Level = g.logLevel
	}
	return cfg, cfg.validate()
}

// newApp opens the catalog, ingests the configured paths and builds the
// router.
func newApp(ctx context.Context, g *globals, cfg *config) (_ *app, err error) {
	a := &app{cfg: cfg, dataDir: cfg.DataDir, reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			a.close() // whatever was opened before the error
		}
	}()
	logOut := g.stderr
	if cfg.Log.File != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.Log.File), 0o755); err != nil {
			return nil, fmt.Errorf("log file: %w", err)
		}
		f, err := os.OpenFile(cfg.Log.File, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			return nil, fmt.Errorf("log file: %w", err)
		}
		a.logFile, logOut = f, f
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToLower(cfg.Log.Level))); err != nil {
		level = slog.LevelInfo
	}
	a.log = slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level}))

	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if a.api, err = apimetrics.New(a.reg); err != nil {
		return nil, err
	}
	if a.store, err = catalog.Open(ctx, cfg.DataDir, catalog.Options{Logger: a.log.With("component", "catalog")}); err != nil {
		return nil, err
	}
	if len(cfg.Catalog.Paths) > 0 {
		if err := a.ingest(ctx, cfg.Catalog.Paths); err != nil {
			return nil, err
		}
	}
	a.registerStoreMetrics()
	key, err := buttonKey(cfg)
	if err != nil {
		return nil, err
	}
	signer, err := bot.NewSigner(key)
	if err != nil {
		return nil, err
	}
	metrics, err := bot.NewMetrics(a.reg)
	if err != nil {
		return nil, err
	}
	var scorer bot.Scorer
	if len(cfg.Scorecards.Paths) > 0 {
		cards, problems, err := scoring.Load(cfg.Scorecards.Paths)
		if err != nil {
			return nil, err
		}
		for _, p := range problems {
			a.log.Error("scorecard problem; the scorecard is left out", "problem", p.String())
		}
		a.log.Info("scorecards loaded", "scorecards", len(cards), "problems", len(problems))
		st, err := a.store.State("facts")
		if err != nil {
			return nil, err
		}
		a.facts = scoring.NewFactStore(st)
		a.scores = scoring.NewEvaluator(cards, a.store, a.facts)
		scorer = a.scores
		hst, err := a.store.State("scores")
		if err != nil {
			return nil, err
		}
		smetrics, err := scoring.NewMetrics(a.reg)
		if err != nil {
			return nil, err
		}
		a.tracker = scoring.NewTracker(a.scores, scoring.NewHistory(hst, cfg.Leaderboards.locationOrUTC()), smetrics)
	}
	a.ident = bot.NewIdentity(a.store, nil, 0)
	var latest func() *scoring.Report
	if a.tracker != nil {
		latest = a.tracker.Latest
	}
	if a.oncall, err = onCallSource(cfg, a.store, a.api, a.log); err != nil {
		return nil, err
	}
	a.notifier = newChatNotifier(a.reg)
	var engine bot.ActionEngine
	if len(cfg.Actions.Paths) > 0 {
		if a.engine, err = newActionEngine(cfg.Actions.Paths, a.store, a.oncall, a.notifier, a.log); err != nil {
			return nil, err
		}
		engine = a.engine
	}
	// Annotations set by the catalog action executor show on /idp show
	// (whether or not actions are loaded now: they may have been before).
	overlays, err := catalogexec.NewOverlays(a.store)
	if err != nil {
		return nil, err
	}
	a.router, err = bot.NewRouter(bot.Config{
		Catalog: a.store, Signer: signer, Identity: a.ident, OnCall: a.oncall,
		Scorer: scorer, LatestReport: latest, Actions: engine, Overlays: overlays,
		Logger: a.log.With("component", "bot"), Metrics: metrics,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// onCallSource composes the on-call sources: PagerDuty and Opsgenie when
// configured (each behind the freshness cache), the catalog's rotations
// otherwise.
func onCallSource(cfg *config, store *catalog.Store, api *apimetrics.Metrics, log *slog.Logger) (*oncall.Multi, error) {
	m := &oncall.Multi{Rotations: rotations.New(store, rotations.WithLogger(log.With("component", "rotations"))), Log: log.With("component", "oncall")}
	if cfg.PagerDuty.Token != "" {
		pd, err := pagerduty.New(cfg.PagerDuty, store, log.With("component", "pagerduty"), pagerduty.WithTransport(api.Transport("pagerduty", nil)))
		if err != nil {
			return nil, err
		}
		m.PagerDuty = oncall.NewCached(pd, "pagerduty", cfg.PagerDuty.Cache, log.With("component", "pagerduty"))
	}
	if cfg.Opsgenie.APIKey != "" {
		og, err := opsgenie.New(cfg.Opsgenie, store, log.With("component", "opsgenie"), opsgenie.WithTransport(api.Transport("opsgenie", nil)))
		if err != nil {
			return nil, err
		}
		m.Opsgenie = oncall.NewCached(og, "opsgenie", cfg.Opsgenie.Cache, log.With("component", "opsgenie"))
	}
	return m, nil
}

// ingest loads paths as one source, logging what it found; a path that gives
// errors does not stop the bot (the previous versions are kept).
func (a *app) ingest(ctx context.Context, paths []string) error {
	rep, err := a.ingestFiles(ctx, paths)
	if rep == nil {
		return err
	}
	return nil
}

// ingestFiles loads paths as one source and reports what it did; a failed
// ingest keeps the previous catalog and returns an error with the report
// (without one when it could not start).
func (a *app) ingestFiles(ctx context.Context, paths []string) (*catalog.IngestReport, error) {
	abs := make([]string, len(paths))
	for i, p := range paths {
		ap, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		abs[i] = ap
	}
	rep, err := a.store.Ingest(ctx, catalog.DefaultSource(abs), paths)
	if rep == nil {
		return nil, fmt.Errorf("ingest %s: %w", strings.Join(paths, ", "), err)
	}
	for _, p := range rep.Problems {
		a.log.Warn("catalog problem", "problem", p.String())
	}
	a.log.Info("catalog ingested", "source", rep.Source, "entities", rep.Entities, "added", rep.Added,
		"updated", rep.Updated, "removed", rep.Removed, "errors", rep.Problems.Errors(), "duration_ms", rep.Duration.Milliseconds())
	if err != nil {
		a.log.Error("catalog ingest failed; serving the previous catalog", "error", err.Error())
	}
	return rep, err
}

func (a *app) close() {
	if a.engine != nil {
		// Let runs that were approved finish (and be recorded) first.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := a.engine.Shutdown(ctx); err != nil && a.log != nil {
			a.log.Error("actions shutdown: runs still executing were left to recovery", "error", err.Error())
		}
		cancel()
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil && a.log != nil {
			a.log.Error("close catalog", "error", err.Error())
		}
	}
	if a.logFile != nil {
		a.logFile.Close()
	}
}

// buttonKey is the configured signing key, or the one kept in the data
// directory (made on first start), so buttons survive restarts.
func buttonKey(cfg *config) ([]byte, error) {
	if cfg.Buttons.SigningKey != "" {
		return []byte(cfg.Buttons.SigningKey), nil
	}
	path := filepath.Join(cfg.DataDir, "button.key")
	key, err := os.ReadFile(path)
	switch {
	case err == nil && len(key) >= 32:
		return key, nil
	case err == nil:
		return nil, fmt.Errorf("%s is shorter than 32 bytes; delete it to make a new one (open buttons stop working)", path)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("read button key: %w", err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) {
		return buttonKey(cfg) // made by a concurrent start
	}
	if err != nil {
		return nil, fmt.Errorf("write button key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write button key: %w", err)
	}
	return key, f.Close()
}

// registerStoreMetrics exports the catalog's size: entities, and the
// bytes of Badger's LSM tree and value log.
func (a *app) registerStoreMetrics() {
	a.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idpbot_catalog_entities", Help: "Entities in the catalog."},
			func() float64 { return float64(a.store.Count()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idpbot_store_lsm_bytes", Help: "Bytes of the store's LSM tree (Badger)."},
			func() float64 { lsm, _ := a.store.Sizes(); return float64(lsm) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idpbot_store_vlog_bytes", Help: "Bytes of the store's value log (Badger); garbage collected hourly."},
			func() float64 { _, vlog := a.store.Sizes(); return float64(vlog) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idpbot_index_bytes", Help: "Bytes of the search index on disk (Bleve)."},
			func() float64 { return float64(a.store.IndexBytes()) }),
	)
}
