// Package integrationstest holds what the integrations' tests share.
package integrationstest

import (
	"context"
	"sync"
	"time"
)

// Sleeps stands in for an integration's sleep between retries: it records
// the waits asked for and returns at once (with the context's error).
type Sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

// Sleep records d.
func (s *Sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

// Waits returns the waits asked for so far, in order.
func (s *Sleeps) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}
