package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// MaxOutput caps the output and error text kept with a run.
const MaxOutput = 4096

// Execute runs an approved run: the compare-and-set from approved to
// running claims it, so that of any number of concurrent calls exactly one
// executes; the others get ErrNotRunnable with the run as it is. The
// outcome (succeeded or failed, with the output) is the second
// compare-and-set. If ctx is cancelled while the executor runs, the outcome
// is unknown and the run stays running, for Recover.
func (e *Engine) Execute(ctx context.Context, runID string) (*Run, error) {
	return e.execute(ctx, runID, 0)
}

// execute claims the run and executes it; retryOf > 0 re-claims a running
// run whose attempt retryOf was interrupted (Recover, idempotent executors
// only).
func (e *Engine) execute(ctx context.Context, runID string, retryOf int) (*Run, error) {
	now := e.now().UTC()
	var claimed bool
	r, _, err := e.update(ctx, runID, func(r *Run) ([]event, error) {
		claimed = false
		switch {
		case retryOf == 0 && r.Status == StatusApproved:
			r.StartedAt = now
			r.Status, r.Attempts, claimed = StatusRunning, r.Attempts+1, true
			return []event{{name: EventStarted, detail: fmt.Sprintf("attempt %d", r.Attempts)}}, nil
		case retryOf > 0 && r.Status == StatusRunning && r.Attempts == retryOf:
			r.Attempts, claimed = r.Attempts+1, true
			return []event{{name: EventRetried, detail: fmt.Sprintf("attempt %d, after a restart interrupted attempt %d", r.Attempts, retryOf)}}, nil
		}
		return nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim run %s: %w", clip(runID, 40), err)
	}
	if !claimed {
		return r, ErrNotRunnable
	}
	attempt := r.Attempts
	log := e.log.With(slog.String("run_id", r.ID), slog.String("action", r.Action), slog.Int("attempt", attempt))
	a, ok := e.actions[r.Action]
	ex := e.exec[r.Action]
	var output string
	var runErr error
	if !ok || ex == nil {
		runErr = fmt.Errorf("action %q is no longer defined", r.Action)
	} else {
		job, err := e.job(ctx, r, a)
		if err != nil {
			return r, err
		}
		log.InfoContext(ctx, "run started")
		output, runErr = ex.Execute(ctx, job)
		if ctx.Err() != nil {
			log.WarnContext(ctx, "run interrupted; outcome unknown until the next start", slog.Any("error", ctx.Err()))
			return r, ctx.Err()
		}
		output, runErr = e.scrub(ctx, r.ID, a, output, runErr)
	}
	fin := e.now().UTC()
	r, _, err = e.update(context.WithoutCancel(ctx), runID, func(r *Run) ([]event, error) {
		if r.Status != StatusRunning || r.Attempts != attempt {
			return nil, nil
		}
		r.FinishedAt, r.Output = fin, clipOutput(output)
		if runErr != nil {
			r.Status, r.Error = StatusFailed, clipOutput(runErr.Error())
			return []event{{name: EventFailed, detail: r.Error}}, nil
		}
		r.Status = StatusSucceeded
		return []event{{name: EventSucceeded}}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("record outcome of run %s: %w", r.ID, err)
	}
	log.InfoContext(ctx, "run finished", slog.String("status", string(r.Status)))
	return r, nil
}

func (e *Engine) job(ctx context.Context, r *Run, a *Action) (*Job, error) {
	in := make(map[string]string, len(r.Inputs))
	for k, v := range r.Inputs {
		in[k] = v
	}
	var secrets map[string]string
	if _, err := e.runs.Get(ctx, secretKey(r.ID), &secrets); err != nil {
		return nil, fmt.Errorf("read secret inputs of run %s: %w", r.ID, err)
	}
	for k, v := range secrets {
		in[k] = v
	}
	return &Job{RunID: r.ID, Action: a, Inputs: in, Target: r.Target, Requester: r.Requester,
		Approvers: r.Approvers(), Attempt: r.Attempts}, nil
}

// scrub removes secret input values from what an executor returned (a
// receiver that echoes its request must not leak them into chat).
func (e *Engine) scrub(ctx context.Context, runID string, a *Action, output string, err error) (string, error) {
	var secrets map[string]string
	if _, gerr := e.runs.Get(ctx, secretKey(runID), &secrets); gerr != nil || len(secrets) == 0 {
		return output, err
	}
	for _, in := range a.Inputs {
		v := secrets[in.Name]
		if !in.Secret || len(v) < 4 {
			continue
		}
		output = strings.ReplaceAll(output, v, Redacted)
		if err != nil && strings.Contains(err.Error(), v) {
			err = errors.New(strings.ReplaceAll(err.Error(), v, Redacted))
		}
	}
	return output, err
}

func clipOutput(s string) string {
	if len(s) <= MaxOutput {
		return s
	}
	cut := MaxOutput
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "\n… (truncated)"
}

// executeLater executes a run in the background (after the approval that
// completed the quorum, a request without approval, or Recover).
func (e *Engine) executeLater(runID string, retryOf int) {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return // stays approved or running: Recover at the next start
	}
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-e.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		if _, err := e.execute(ctx, runID, retryOf); err != nil && !errors.Is(err, ErrNotRunnable) && ctx.Err() == nil {
			e.log.ErrorContext(ctx, "execute run", slog.String("run_id", runID), slog.Any("error", err))
		}
	}()
}

// Wait blocks until the executions and notifications the engine started in
// the background have finished.
func (e *Engine) Wait() { e.wg.Wait() }

// Shutdown stops starting executions, cancels running ones (their outcome
// is unknown: Recover decides at the next start) and waits for the
// background work to end, or for ctx.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if !e.stopped {
		e.stopped = true
		close(e.stop)
	}
	e.mu.Unlock()
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Recover is called once at start, before the engine takes requests. It
// finishes what a crash interrupted: audit records not yet chained are
// chained; runs whose approval time is up expire; approved runs that never
// started start (once: the claim is a compare-and-set); running runs whose
// outcome is unknown are retried, with the same run id, when their executor
// is idempotent, and marked unknown otherwise; runs whose message was never
// posted are announced. It returns the runs it acted on.
func (e *Engine) Recover(ctx context.Context) ([]*Run, error) {
	if err := e.flushAudit(ctx); err != nil {
		return nil, fmt.Errorf("recover: audit outbox: %w", err)
	}
	acted, err := e.Expire(ctx, e.now())
	if err != nil {
		return acted, fmt.Errorf("recover: %w", err)
	}
	ids, err := e.openIDs(ctx)
	if err != nil {
		return acted, err
	}
	for _, id := range ids {
		r, err := e.Get(ctx, id)
		if err != nil {
			return acted, err
		}
		switch r.Status {
		case StatusApproved:
			e.log.InfoContext(ctx, "recover: starting approved run", slog.String("run_id", id))
			e.executeLater(id, 0)
			acted = append(acted, r)
		case StatusRunning:
			if ex := e.exec[r.Action]; ex != nil && ex.Idempotent() {
				e.log.InfoContext(ctx, "recover: retrying interrupted run", slog.String("run_id", id), slog.Int("attempt", r.Attempts))
				e.executeLater(id, r.Attempts)
				acted = append(acted, r)
				continue
			}
			attempt := r.Attempts
			u, changed, err := e.update(ctx, id, func(r *Run) ([]event, error) {
				if r.Status != StatusRunning || r.Attempts != attempt {
					return nil, nil
				}
				r.Status, r.FinishedAt = StatusUnknown, e.now().UTC()
				r.Error = "idpbot stopped while the action ran and its executor cannot be retried safely: check whether it happened"
				return []event{{name: EventUnknown, detail: r.Error}}, nil
			})
			if err != nil {
				return acted, fmt.Errorf("recover run %s: %w", id, err)
			}
			if changed {
				e.log.WarnContext(ctx, "recover: outcome unknown", slog.String("run_id", id))
				acted = append(acted, u)
			}
		case StatusAwaitingApproval:
			if r.NoticeRef == "" {
				e.notifyLater(id)
			}
		}
	}
	return acted, nil
}
