package syncer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newSyncer(t *testing.T, opts ...gocron.SchedulerOption) (*Syncer, *Metrics, *prometheus.Registry, gocron.Scheduler, chan struct{}) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := gocron.NewScheduler(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sched.Shutdown() })
	changed := make(chan struct{}, 10)
	return New(sched, m, nil, func() { changed <- struct{}{} }), m, reg, sched, changed
}

func TestRunRecordsSuccessFailureAndChange(t *testing.T) {
	ctx := context.Background()
	s, m, _, _, changed := newSyncer(t)
	fail := false
	err := s.Add(ctx, Job{Name: "github", Interval: time.Hour, Run: func(context.Context) (bool, error) {
		if fail {
			return false, errors.New("list repositories: 502 Bad Gateway")
		}
		return true, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunNow(ctx, "github"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Error("a run that changed the catalog did not call OnChange")
	}
	first := s.Status()[0]
	if first.Runs != 1 || first.LastSuccess.IsZero() || first.LastError != "" || first.Running {
		t.Errorf("status after a success: %+v", first)
	}
	if v := testutil.ToFloat64(m.lastSuccess.WithLabelValues("github")); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last success gauge = %v", v)
	}

	fail = true
	if err := s.RunNow(ctx, "github"); err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("failed run returned %v", err)
	}
	st := s.Status()[0]
	if st.Runs != 2 || !st.LastSuccess.Equal(first.LastSuccess) || !strings.Contains(st.LastError, "502") {
		t.Errorf("status after a failure: %+v", st)
	}
	if n := testutil.ToFloat64(m.errors.WithLabelValues("github")); n != 1 {
		t.Errorf("errors_total = %v, want 1", n)
	}
	if n := testutil.ToFloat64(m.runs.WithLabelValues("github", "ok")); n != 1 {
		t.Errorf("runs_total{ok} = %v, want 1", n)
	}
	select {
	case <-changed:
		t.Error("a failed run called OnChange")
	default:
	}
	if err := s.RunNow(ctx, "nope"); err == nil {
		t.Error("RunNow of an unknown job succeeded")
	}
}

func TestRunsNeverOverlap(t *testing.T) {
	ctx := context.Background()
	s, m, _, _, _ := newSyncer(t)
	entered, release := make(chan struct{}), make(chan struct{})
	err := s.Add(ctx, Job{Name: "catalog-files", Interval: time.Hour, Run: func(context.Context) (bool, error) {
		entered <- struct{}{}
		<-release
		return false, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- s.RunNow(ctx, "catalog-files") }()
	<-entered
	if !s.Status()[0].Running {
		t.Error("status does not say running")
	}
	if err := s.RunNow(ctx, "catalog-files"); !errors.Is(err, ErrRunning) {
		t.Errorf("second run while the first is going: %v, want ErrRunning", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := testutil.ToFloat64(m.runs.WithLabelValues("catalog-files", "skipped")); n != 1 {
		t.Errorf("skipped runs = %v, want 1", n)
	}
}

func TestPanicIsAnErrorAndReleasesTheJob(t *testing.T) {
	ctx := context.Background()
	s, _, _, _, _ := newSyncer(t)
	calls := 0
	if err := s.Add(ctx, Job{Name: "bad", Interval: time.Hour, Run: func(context.Context) (bool, error) {
		calls++
		panic("nil map")
	}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := s.RunNow(ctx, "bad"); err == nil || !strings.Contains(err.Error(), "panicked") {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if calls != 2 {
		t.Errorf("the job ran %d times after a panic, want 2 (it must not stay marked running)", calls)
	}
}

func TestScheduleRunsEveryInterval(t *testing.T) {
	ctx := context.Background()
	clock := clockwork.NewFakeClock()
	s, _, _, sched, _ := newSyncer(t, gocron.WithClock(clock))
	runs := make(chan struct{}, 10)
	if err := s.Add(ctx, Job{Name: "github", Interval: 30 * time.Minute, Jitter: -1,
		Run: func(context.Context) (bool, error) { runs <- struct{}{}; return false, nil }}); err != nil {
		t.Fatal(err)
	}
	sched.Start()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-runs:
		t.Fatal("the job ran before its interval")
	default:
	}
	clock.Advance(30 * time.Minute)
	select {
	case <-runs:
	case <-time.After(10 * time.Second):
		t.Fatal("no run after one interval")
	}
}

func TestImmediatelyRunsAtStart(t *testing.T) {
	ctx := context.Background()
	s, _, _, sched, _ := newSyncer(t)
	runs := make(chan struct{}, 10)
	if err := s.Add(ctx, Job{Name: "github", Interval: time.Hour, Immediately: true,
		Run: func(context.Context) (bool, error) { runs <- struct{}{}; return false, nil }}); err != nil {
		t.Fatal(err)
	}
	sched.Start()
	select {
	case <-runs:
	case <-time.After(10 * time.Second):
		t.Fatal("no run at start")
	}
}

func TestAddRefusesBadJobs(t *testing.T) {
	ctx := context.Background()
	s, _, _, _, _ := newSyncer(t)
	ok := func(context.Context) (bool, error) { return false, nil }
	if err := s.Add(ctx, Job{Name: "x", Run: ok}); err == nil || !strings.Contains(err.Error(), "interval") {
		t.Errorf("zero interval: %v", err)
	}
	if err := s.Add(ctx, Job{Name: "x", Interval: time.Minute, Run: ok}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, Job{Name: "x", Interval: time.Minute, Run: ok}); err == nil {
		t.Error("two jobs with one name were accepted")
	}
}

func TestSpread(t *testing.T) {
	for _, c := range []struct {
		jitter float64
		lo, hi time.Duration
	}{{0, 27 * time.Minute, 33 * time.Minute}, {-1, 30 * time.Minute, 30 * time.Minute}, {0.5, 15 * time.Minute, 45 * time.Minute}} {
		lo, hi := Spread(30*time.Minute, c.jitter)
		if lo != c.lo || hi != c.hi {
			t.Errorf("Spread(30m, %v) = %v..%v, want %v..%v", c.jitter, lo, hi, c.lo, c.hi)
		}
	}
}

// A scheduled run that comes due while the previous one is still going is
// skipped and counted; the source's age counts from the start until a first
// success.
func TestScheduledOverlapIsSkippedAndCounted(t *testing.T) {
	ctx := context.Background()
	clock := clockwork.NewFakeClock()
	s, m, _, sched, _ := newSyncer(t, gocron.WithClock(clock))
	results := make(chan string, 10)
	s.observe = func(name, result string) { results <- result }
	entered, release := make(chan struct{}, 10), make(chan struct{})
	if err := s.Add(ctx, Job{Name: "github", Interval: time.Minute, Jitter: -1,
		Run: func(context.Context) (bool, error) { entered <- struct{}{}; <-release; return false, nil }}); err != nil {
		t.Fatal(err)
	}
	if v := testutil.ToFloat64(m.lastSuccess.WithLabelValues("github")); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("no age before the first success: %v", v)
	}
	sched.Start()
	deadline := time.After(10 * time.Second)
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	select {
	case <-entered:
	case <-deadline:
		t.Fatal("the first scheduled run did not start")
	}
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	select {
	case r := <-results:
		if r != "skipped" {
			t.Errorf("the overlapping run was %q, want skipped", r)
		}
	case <-deadline:
		t.Fatal("the overlapping run was not counted")
	}
	close(release)
	select {
	case r := <-results:
		if r != "ok" {
			t.Errorf("the first run ended %q", r)
		}
	case <-deadline:
		t.Fatal("the first run did not end")
	}
	if n := testutil.ToFloat64(m.runs.WithLabelValues("github", "skipped")); n != 1 {
		t.Errorf("skipped = %v, want 1", n)
	}
}
