package oncall

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/idpbot/idpbot/catalog"
)

// Cached wraps a slow, remote Source so that a lookup never hangs on it.
//
// Answers are cached per on-call target (the owner's on-call annotations,
// or the owner when it has none) for TTL. Past TTL a lookup starts a fetch
// in the background — at most one per target at a time — and waits for it
// up to Deadline; when the fetch is slower, or fails, the last answer is
// served with Stale set and AsOf saying when it was fetched. After a fetch
// failed, lookups serve the last answer at once (and start another fetch)
// until TTL has passed since the failure. With no answer at hand a lookup
// waits for the fetch until its own context ends and returns the error.
// A nil answer ("knows nothing of this owner") is cached like any other.
type Cached struct {
	src  Source
	name string
	cfg  CacheConfig
	log  *slog.Logger
	now  func() time.Time

	group   singleflight.Group
	mu      sync.Mutex
	entries map[string]*entry
}

var _ Source = (*Cached)(nil)

type entry struct {
	oc      *catalog.OnCall // nil: the source knows nothing of the target
	fetched time.Time
	failed  time.Time // when the last fetch failed, if after fetched
}

// CacheOption configures a Cached.
type CacheOption func(*Cached)

// WithClock sets the clock that ages answers (tests).
func WithClock(now func() time.Time) CacheOption { return func(c *Cached) { c.now = now } }

// NewCached wraps src; name (pagerduty, opsgenie) scopes the logs and
// errors. cfg's zero values take the defaults; a nil log discards.
func NewCached(src Source, name string, cfg CacheConfig, log *slog.Logger, opts ...CacheOption) *Cached {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cached{
		src: src, name: name, cfg: cfg.WithDefaults(),
		log: log.With("oncall_source", name), now: time.Now,
		entries: map[string]*entry{},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// OnCall answers from the cache, the provider, or the cache marked stale,
// whichever the rules above allow first.
func (c *Cached) OnCall(ctx context.Context, o *catalog.Ownership) (*catalog.OnCall, error) {
	key := cacheKey(o)
	now := c.now()
	c.mu.Lock()
	e, have := c.entries[key]
	var last entry
	if have {
		last = *e
	}
	c.mu.Unlock()
	if have && now.Sub(last.fetched) > c.cfg.MaxStale {
		have = false // too old to show
	}
	if have && now.Sub(last.fetched) < c.cfg.TTL {
		return last.answer(false), nil
	}
	ch := c.group.DoChan(key, func() (any, error) { return c.fetch(ctx, key, o) })
	if !have {
		select {
		case r := <-ch:
			if r.Err != nil {
				return nil, r.Err
			}
			return r.Val.(*entry).answer(false), nil
		case <-ctx.Done():
			return nil, TransportError(ctx, c.name, "look up on-call", 0, ctx.Err())
		}
	}
	if !last.failed.IsZero() && now.Sub(last.failed) < c.cfg.TTL {
		// The provider failed a moment ago: do not make this lookup wait
		// for it; the fetch just started refreshes the cache if it can.
		return last.answer(true), nil
	}
	timer := time.NewTimer(c.cfg.Deadline)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.Err == nil {
			return r.Val.(*entry).answer(false), nil
		}
	case <-timer.C:
		c.log.InfoContext(ctx, "on-call provider slow, serving the last answer", "age", now.Sub(last.fetched).Round(time.Second).String())
	case <-ctx.Done():
	}
	return last.answer(true), nil
}

// fetch asks the source, detached from the lookup that started it (which
// may give up first), within FetchTimeout, and records the outcome.
func (c *Cached) fetch(ctx context.Context, key string, o *catalog.Ownership) (*entry, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.FetchTimeout)
	defer cancel()
	oc, err := c.src.OnCall(ctx, o)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if e, ok := c.entries[key]; ok {
			e.failed = now
		}
		c.log.WarnContext(ctx, "on-call fetch failed", "key", key, "error", err.Error())
		return nil, err
	}
	e := &entry{oc: clone(oc), fetched: now}
	if e.oc != nil && e.oc.AsOf.IsZero() {
		e.oc.AsOf = now
	}
	if e.oc != nil {
		e.oc.Stale = false
	}
	c.entries[key] = e
	return e, nil
}

// answer is a copy of the cached answer; a stale one says when it was
// fetched.
func (e *entry) answer(stale bool) *catalog.OnCall {
	oc := clone(e.oc)
	if oc != nil && stale {
		oc.Stale = true
		if oc.AsOf.IsZero() || oc.AsOf.After(e.fetched) {
			oc.AsOf = e.fetched
		}
	}
	return oc
}

// cacheKey names the on-call target of o: its on-call annotations when it
// has any (the answer of a provider depends on them alone), else its owner.
func cacheKey(o *catalog.Ownership) string {
	if o == nil {
		return ""
	}
	var parts []string
	for k, v := range o.OnCall {
		parts = append(parts, k+"="+v)
	}
	if v := Annotation(o, AnnotationOpsgenieSchedule); v != "" && o.OnCall[AnnotationOpsgenieSchedule] == "" {
		parts = append(parts, AnnotationOpsgenieSchedule+"="+v)
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "owner=" + strings.ToLower(o.Owner.Ref)
	}
	return strings.Join(parts, ",")
}
