package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrShuttingDown refuses new background work once Shutdown has begun.
var ErrShuttingDown = errors.New("shutting down")

// Deliveries tracks a front door's background work: answers delivered
// after the acknowledgement (late commands, clicks, their follow-ups). Go
// starts one; Shutdown stops taking more and waits for them.
type Deliveries struct {
	name    string
	timeout time.Duration
	base    context.Context
	cancel  context.CancelFunc

	mu      sync.Mutex
	closing bool
	pending int
	wg      sync.WaitGroup
}

// NewDeliveries returns a tracker; name prefixes its errors ("slack"),
// timeout bounds each delivery.
func NewDeliveries(name string, timeout time.Duration) *Deliveries {
	d := &Deliveries{name: name, timeout: timeout}
	d.base, d.cancel = context.WithCancel(context.Background())
	return d
}

// Go runs fn on its own goroutine as tracked work. Its context carries the
// values of parent but not its cancellation (the request that started it
// has been answered); it ends after the timeout or when Shutdown gives up.
func (d *Deliveries) Go(parent context.Context, fn func(ctx context.Context)) error {
	d.mu.Lock()
	if d.closing {
		d.mu.Unlock()
		return fmt.Errorf("%s: %w", d.name, ErrShuttingDown)
	}
	d.pending++
	d.wg.Add(1)
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), d.timeout)
	stop := context.AfterFunc(d.base, cancel)
	go func() {
		defer func() {
			stop()
			cancel()
			d.mu.Lock()
			d.pending--
			d.mu.Unlock()
			d.wg.Done()
		}()
		fn(ctx)
	}()
	return nil
}

// Shutdown stops taking new work and waits for what is in flight. When ctx
// ends first, it cancels what is left and returns ctx's error.
func (d *Deliveries) Shutdown(ctx context.Context) error {
	d.mu.Lock()
	d.closing = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.mu.Lock()
		n := d.pending
		d.mu.Unlock()
		d.cancel()
		return fmt.Errorf("%s: shutdown: cancelled %d unfinished deliveries: %w", d.name, n, ctx.Err())
	}
}
