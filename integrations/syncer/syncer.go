// Package syncer runs the catalog's sources on a schedule: each source (the
// catalog files, the GitHub discovery…) is a gocron job with its own
// interval and jitter; runs never overlap (a run due while the previous one
// is still going is skipped, and counted as skipped), with metrics per
// source. A
// failed run leaves the catalog as the last good run left it: sources only
// write what they fetched completely.
package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultJitter is the share of the interval by which runs are spread, so
// that replicas and sources do not hit a provider in step.
const DefaultJitter = 0.1

// Job is one source synced on a schedule.
type Job struct {
	// Name labels the metrics and the logs: "catalog-files", "github".
	Name string
	// Interval between runs (required).
	Interval time.Duration
	// Jitter spreads each wait over Interval ± Jitter×Interval (0:
	// DefaultJitter; negative: none).
	Jitter float64
	// Immediately runs the job once when the scheduler starts, then every
	// Interval.
	Immediately bool
	// Run syncs the source once; it says whether the catalog changed.
	Run func(ctx context.Context) (changed bool, err error)
}

// Status is what the last runs of a job did.
type Status struct {
	Name        string        `json:"name"`
	Interval    time.Duration `json:"interval_ns"`
	Runs        int           `json:"runs"`
	Running     bool          `json:"running"`
	LastRun     time.Time     `json:"last_run,omitempty"`
	LastSuccess time.Time     `json:"last_success,omitempty"`
	LastError   string        `json:"last_error,omitempty"`
	Duration    time.Duration `json:"last_duration_ns"`
}

// Metrics are the sync metrics, labelled by source.
type Metrics struct {
	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	errors      *prometheus.CounterVec
	runs        *prometheus.CounterVec
}

// NewMetrics registers the sync metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idpbot_sync_duration_seconds",
			Help:    "Duration of source syncs (catalog files, GitHub discovery…), successful or not.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"source"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "idpbot_sync_last_success_timestamp_seconds",
			Help: "Unix time of the last successful sync of each source (the start of the process until one succeeds); alert when it is too old.",
		}, []string{"source"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idpbot_sync_errors_total",
			Help: "Failed syncs per source (the last good data is kept).",
		}, []string{"source"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idpbot_sync_runs_total",
			Help: "Syncs per source and result (ok, error, skipped: the previous run was still going).",
		}, []string{"source", "result"}),
	}
	for _, c := range []prometheus.Collector{m.duration, m.lastSuccess, m.errors, m.runs} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Syncer schedules the jobs on a gocron scheduler it is given (the bot's
// one scheduler), and keeps their status.
type Syncer struct {
	sched gocron.Scheduler
	m     *Metrics
	log   *slog.Logger
	// OnChange, when set, is called after a run that changed the catalog
	// (e.g. the scorecards' tracker, to evaluate again).
	onChange func()

	mu     sync.Mutex
	status map[string]*Status
	jobs   map[string]*Job
	// running guards each job: a run that finds its job running is
	// skipped (RunNow as well as the schedule).
	running map[string]bool
	// observe, when set, sees every counted run result (tests).
	observe func(name, result string)
}

// New returns a Syncer adding its jobs to sched. m may be nil (no metrics),
// onChange may be nil.
func New(sched gocron.Scheduler, m *Metrics, log *slog.Logger, onChange func()) *Syncer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{sched: sched, m: m, log: log, onChange: onChange,
		status: map[string]*Status{}, jobs: map[string]*Job{}, running: map[string]bool{}}
}

// Add schedules a job. Runs are bound to ctx: when it ends, a run in
// progress is asked to stop.
func (s *Syncer) Add(ctx context.Context, j Job) error {
	if j.Name == "" || j.Run == nil {
		return errors.New("syncer: a job needs a name and a run function")
	}
	if j.Interval <= 0 {
		return fmt.Errorf("%s: the sync interval must be positive (e.g. 30m)", j.Name)
	}
	s.mu.Lock()
	if _, dup := s.jobs[j.Name]; dup {
		s.mu.Unlock()
		return fmt.Errorf("syncer: two jobs named %s", j.Name)
	}
	s.jobs[j.Name] = &j
	s.status[j.Name] = &Status{Name: j.Name, Interval: j.Interval}
	s.mu.Unlock()
	if s.m != nil {
		// Until the first success, the age counts from now: a source that
		// never syncs still trips an alert on the age.
		s.m.lastSuccess.WithLabelValues(j.Name).Set(float64(time.Now().UnixNano()) / 1e9)
	}

	lo, hi := Spread(j.Interval, j.Jitter)
	// No gocron singleton mode: it would drop an overlapping run silently;
	// RunNow skips it and counts it.
	opts := []gocron.JobOption{
		gocron.WithName("sync-" + j.Name),
		gocron.WithContext(ctx),
	}
	if j.Immediately {
		opts = append(opts, gocron.WithStartAt(gocron.WithStartImmediately()))
	}
	def := gocron.DurationRandomJob(lo, hi)
	if lo == hi {
		def = gocron.DurationJob(lo)
	}
	_, err := s.sched.NewJob(def, gocron.NewTask(func(ctx context.Context) {
		_ = s.RunNow(ctx, j.Name)
	}), opts...)
	return err
}

// Spread is the range of waits for an interval and a jitter share (see
// Job.Jitter).
func Spread(interval time.Duration, jitter float64) (lo, hi time.Duration) {
	if jitter == 0 {
		jitter = DefaultJitter
	}
	if jitter < 0 {
		return interval, interval
	}
	d := time.Duration(float64(interval) * jitter)
	return interval - d, interval + d
}

// ErrRunning is returned by RunNow when the job is already running.
var ErrRunning = errors.New("a sync of this source is already running")

// RunNow runs a job once, now, unless it is already running (then it
// returns ErrRunning at once: runs never overlap).
func (s *Syncer) RunNow(ctx context.Context, name string) error {
	s.mu.Lock()
	j, ok := s.jobs[name]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("no sync job named %s", name)
	}
	if s.running[name] {
		s.mu.Unlock()
		s.count(name, "skipped")
		s.log.Warn("sync still running; this run is skipped", "source", name)
		return ErrRunning
	}
	s.running[name] = true
	st := s.status[name]
	st.Running = true
	s.mu.Unlock()

	start := time.Now()
	changed, err := run(ctx, j)
	took := time.Since(start)

	s.mu.Lock()
	s.running[name] = false
	st.Running, st.Runs, st.LastRun, st.Duration = false, st.Runs+1, start, took
	if err != nil {
		st.LastError = err.Error()
	} else {
		st.LastError, st.LastSuccess = "", start.Add(took)
	}
	s.mu.Unlock()

	if s.m != nil {
		s.m.duration.WithLabelValues(name).Observe(took.Seconds())
		if err == nil {
			s.m.lastSuccess.WithLabelValues(name).Set(float64(start.Add(took).UnixNano()) / 1e9)
		} else {
			s.m.errors.WithLabelValues(name).Inc()
		}
	}
	if err != nil {
		s.count(name, "error")
		s.log.Error("sync failed; the last good data is kept", "source", name, "error", err.Error(), "duration_ms", took.Milliseconds())
	} else {
		s.count(name, "ok")
		s.log.Info("sync finished", "source", name, "changed", changed, "duration_ms", took.Milliseconds())
	}
	if changed && s.onChange != nil {
		s.onChange()
	}
	return err
}

// run calls the job, turning a panic into an error (a source's bug must not
// take the bot down, nor leave the job marked running forever).
func run(ctx context.Context, j *Job) (changed bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sync %s panicked: %v", j.Name, r)
		}
	}()
	return j.Run(ctx)
}

func (s *Syncer) count(name, result string) {
	if s.m != nil {
		s.m.runs.WithLabelValues(name, result).Inc()
	}
	if s.observe != nil {
		s.observe(name, result)
	}
}

// Status returns the jobs' status, by name.
func (s *Syncer) Status() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.status))
	for _, st := range s.status {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
