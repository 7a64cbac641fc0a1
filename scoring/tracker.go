package scoring

import (
	"context"
	"sync"
	"time"
)

// Tracker evaluates every scorecard over the catalog on a schedule: it
// records the week's snapshot in the history, updates the metrics and keeps
// the latest report for leaderboards, so that chat never waits for a full
// evaluation of a large catalog.
type Tracker struct {
	ev      *Evaluator
	hist    *History
	metrics *Metrics
	now     func() time.Time

	mu     sync.Mutex
	latest *Report
	// changed is signalled when facts or the catalog change.
	changed chan struct{}
}

// NewTracker returns a tracker; hist and metrics may be nil.
func NewTracker(ev *Evaluator, hist *History, metrics *Metrics) *Tracker {
	return &Tracker{ev: ev, hist: hist, metrics: metrics, now: time.Now, changed: make(chan struct{}, 1)}
}

// SetClock replaces the clock (tests).
func (t *Tracker) SetClock(now func() time.Time) { t.now = now }

// Run evaluates, records and publishes one report.
func (t *Tracker) Run(ctx context.Context) (*Report, error) {
	start := time.Now()
	rep, err := t.ev.Run(ctx)
	if err != nil {
		return nil, err
	}
	rep.At = t.now()
	if t.hist != nil {
		if err := t.hist.Record(ctx, rep); err != nil {
			return nil, err
		}
	}
	t.metrics.Observe(rep, time.Since(start), t.ev.Scorecards())
	t.mu.Lock()
	t.latest = rep
	t.mu.Unlock()
	return rep, nil
}

// Latest is the last report, or nil before the first Run.
func (t *Tracker) Latest() *Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.latest
}

// Changed tells the tracker that what scores are computed from has changed
// (facts pushed, the catalog ingested); Follow evaluates again soon.
func (t *Tracker) Changed() {
	select {
	case t.changed <- struct{}{}:
	default: // one pending evaluation covers every change before it
	}
}

// Follow evaluates after changes until ctx ends, at most once per quiet
// period: changes in a burst (a pipeline pushing facts for many entities)
// give one evaluation, quiet after the last change.
func (t *Tracker) Follow(ctx context.Context, quiet time.Duration, onError func(error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.changed:
		}
		timer := time.NewTimer(quiet)
	settle:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-t.changed:
				timer.Reset(quiet)
			case <-timer.C:
				break settle
			}
		}
		if _, err := t.Run(ctx); err != nil && onError != nil && ctx.Err() == nil {
			onError(err)
		}
	}
}
