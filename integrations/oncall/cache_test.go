package oncall_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/oncall"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)

// gated is a provider whose answers the test hands out one by one: each
// call blocks until the test sends a reply on gate, or its context ends.
type gated struct {
	calls   atomic.Int32
	started chan struct{} // one value per call, when it starts
	gate    chan reply
}

type reply struct {
	oc  *catalog.OnCall
	err error
}

func newGated() *gated {
	return &gated{started: make(chan struct{}, 100), gate: make(chan reply)}
}

func (g *gated) OnCall(ctx context.Context, o *catalog.Ownership) (*catalog.OnCall, error) {
	g.calls.Add(1)
	g.started <- struct{}{}
	select {
	case r := <-g.gate:
		return r.oc, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func answer(who string, asOf time.Time) *catalog.OnCall {
	return &catalog.OnCall{AsOf: asOf, Now: []catalog.Shift{{Person: catalog.Person{DisplayName: who}, Level: 1, Source: "pagerduty"}}}
}

var payments = &catalog.Ownership{
	Owner:  catalog.Summary{Ref: "group:default/payments"},
	OnCall: map[string]string{catalog.AnnotationPagerDutyServiceID: "PX7Q2LM"},
}

// lookup runs c.OnCall in the background, so that the test can serve the
// provider meanwhile.
func lookup(ctx context.Context, c *oncall.Cached, o *catalog.Ownership) <-chan reply {
	ch := make(chan reply, 1)
	go func() {
		oc, err := c.OnCall(ctx, o)
		ch <- reply{oc, err}
	}()
	return ch
}

func TestCachedServesStaleWhenTheProviderHangs(t *testing.T) {
	g := newGated()
	clk := &clock{t: t0}
	c := oncall.NewCached(g, "pagerduty", oncall.CacheConfig{TTL: time.Minute, Deadline: 50 * time.Millisecond}, nil, oncall.WithClock(clk.now))
	ctx := context.Background()

	// First lookup: nothing cached, it waits for the provider.
	res := lookup(ctx, c, payments)
	<-g.started
	g.gate <- reply{oc: answer("Bilal", t0)}
	r := <-res
	if r.err != nil || r.oc.Stale || r.oc.Now[0].Person.DisplayName != "Bilal" || !r.oc.AsOf.Equal(t0) {
		t.Fatalf("first lookup = %+v, %v", r.oc, r.err)
	}

	// Within the TTL: from the cache, the provider is not asked.
	clk.advance(30 * time.Second)
	if oc, err := c.OnCall(ctx, payments); err != nil || oc.Stale || g.calls.Load() != 1 {
		t.Fatalf("lookup within TTL = %+v, %v after %d calls", oc, err, g.calls.Load())
	}

	// Five minutes later the provider hangs: the answer is the cached one,
	// marked stale, as of when it was fetched — within the deadline (the
	// bot's budget is 1s, the chat's 3s).
	clk.advance(4*time.Minute + 30*time.Second)
	start := time.Now()
	oc, err := c.OnCall(ctx, payments)
	took := time.Since(start)
	if err != nil || !oc.Stale || !oc.AsOf.Equal(t0) || oc.Now[0].Person.DisplayName != "Bilal" {
		t.Fatalf("lookup with the provider hanging = %+v, %v", oc, err)
	}
	if age := clk.now().Sub(oc.AsOf); age != 5*time.Minute {
		t.Errorf("age %s, want 5m", age)
	}
	if took > time.Second {
		t.Errorf("stale answer took %s, want it within the deadline of 50ms (well inside 1s)", took)
	}
	<-g.started // the fetch that hangs

	// More lookups while it hangs: each answers stale; no second fetch is
	// started for the same owner.
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if oc, err := c.OnCall(ctx, payments); err != nil || !oc.Stale {
				t.Errorf("concurrent lookup = %+v, %v", oc, err)
			}
		})
	}
	wg.Wait()
	if n := g.calls.Load(); n != 2 {
		t.Errorf("%d provider calls, want 2 (one fetch per owner at a time)", n)
	}

	// The hung fetch fails: the next lookups answer stale at once (no
	// waiting for a provider that just failed) and start a new fetch.
	g.gate <- reply{err: errors.New("connection reset")}
	waitFor(t, func() bool { oc, _ := c.OnCall(ctx, payments); return oc != nil && oc.Stale && g.calls.Load() == 3 })
	<-g.started

	// That fetch succeeds: fresh again.
	g.gate <- reply{oc: answer("Carmen", clk.now())}
	waitFor(t, func() bool {
		oc, _ := c.OnCall(ctx, payments)
		return oc != nil && !oc.Stale && oc.Now[0].Person.DisplayName == "Carmen"
	})
}

// waitFor polls cond until it holds (a fetch finishing in the background).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCachedWithoutData(t *testing.T) {
	clk := &clock{t: t0}
	cfg := oncall.CacheConfig{TTL: time.Minute, Deadline: 50 * time.Millisecond, MaxStale: time.Hour}

	t.Run("error is returned", func(t *testing.T) {
		g := newGated()
		c := oncall.NewCached(g, "opsgenie", cfg, nil, oncall.WithClock(clk.now))
		res := lookup(context.Background(), c, payments)
		<-g.started
		boom := &oncall.Error{Provider: "opsgenie", Op: "list schedules", Kind: oncall.ErrUnavailable, Detail: "HTTP 503"}
		g.gate <- reply{err: boom}
		if r := <-res; !errors.Is(r.err, oncall.ErrUnavailable) || r.oc != nil {
			t.Errorf("lookup = %+v, %v; want the provider's error", r.oc, r.err)
		}
	})

	t.Run("hanging provider ends with the caller's context", func(t *testing.T) {
		g := newGated()
		c := oncall.NewCached(g, "pagerduty", cfg, nil, oncall.WithClock(clk.now))
		ctx, cancel := context.WithCancel(context.Background())
		res := lookup(ctx, c, payments)
		<-g.started
		cancel()
		r := <-res
		if !errors.Is(r.err, oncall.ErrUnavailable) || r.err.Error() != "pagerduty: look up on-call: provider unavailable (canceled)" {
			t.Errorf("lookup = %+v, %v", r.oc, r.err)
		}
		// The fetch outlives the caller and fills the cache.
		g.gate <- reply{oc: answer("Bilal", t0)}
		waitFor(t, func() bool { oc, _ := c.OnCall(context.Background(), payments); return oc != nil && !oc.Stale })
	})

	t.Run("answers older than max_stale are not served", func(t *testing.T) {
		g := newGated()
		clk := &clock{t: t0}
		c := oncall.NewCached(g, "pagerduty", cfg, nil, oncall.WithClock(clk.now))
		res := lookup(context.Background(), c, payments)
		<-g.started
		g.gate <- reply{oc: answer("Bilal", t0)}
		<-res
		clk.advance(2 * time.Hour)
		res = lookup(context.Background(), c, payments)
		<-g.started
		g.gate <- reply{err: errors.New("down")}
		if r := <-res; r.err == nil {
			t.Errorf("lookup = %+v; want the error, the cached answer is too old", r.oc)
		}
	})

	t.Run("knowing nothing is cached too", func(t *testing.T) {
		g := newGated()
		c := oncall.NewCached(g, "pagerduty", cfg, nil, oncall.WithClock(clk.now))
		res := lookup(context.Background(), c, payments)
		<-g.started
		g.gate <- reply{}
		if r := <-res; r.oc != nil || r.err != nil {
			t.Fatalf("lookup = %+v, %v", r.oc, r.err)
		}
		if oc, err := c.OnCall(context.Background(), payments); oc != nil || err != nil || g.calls.Load() != 1 {
			t.Errorf("second lookup = %+v, %v after %d calls", oc, err, g.calls.Load())
		}
	})
}

func TestCachedKeysByTarget(t *testing.T) {
	g := newGated()
	c := oncall.NewCached(g, "pagerduty", oncall.CacheConfig{}, nil, oncall.WithClock(func() time.Time { return t0 }))
	other := &catalog.Ownership{Owner: payments.Owner, OnCall: map[string]string{catalog.AnnotationPagerDutyServiceID: "PGW4K9T"}}
	for i, o := range []*catalog.Ownership{payments, other, payments, other} {
		res := lookup(context.Background(), c, o)
		if i < 2 {
			<-g.started
			g.gate <- reply{oc: answer(o.OnCall[catalog.AnnotationPagerDutyServiceID], t0)}
		}
		r := <-res
		if want := o.OnCall[catalog.AnnotationPagerDutyServiceID]; r.err != nil || r.oc.Now[0].Person.DisplayName != want {
			t.Errorf("lookup %d = %+v, %v; want %s's answer", i, r.oc, r.err, want)
		}
	}
	if g.calls.Load() != 2 {
		t.Errorf("%d provider calls, want 2 (same owner, two services)", g.calls.Load())
	}
}

func TestCacheConfigValidate(t *testing.T) {
	if err := (oncall.CacheConfig{}).Validate("pagerduty.cache"); err != nil {
		t.Errorf("defaults: %v", err)
	}
	err := oncall.CacheConfig{TTL: -time.Second, Deadline: 4 * time.Second, FetchTimeout: -1}.Validate("opsgenie.cache")
	for _, key := range []string{"opsgenie.cache.ttl", "opsgenie.cache.deadline", "opsgenie.cache.fetch_timeout"} {
		if err == nil || !contains(err.Error(), key) {
			t.Errorf("Validate = %v; want it to name %s", err, key)
		}
	}
}
