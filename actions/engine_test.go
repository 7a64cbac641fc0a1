package actions_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpbot/idpbot/actions"
)

func TestConcurrentApprovalsExecuteOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.request(carmen, "restart-service", restartParams)
	if r.Status != actions.StatusAwaitingApproval || r.Target != "component:default/payments-api" {
		t.Fatalf("requested run = %+v", r)
	}
	approvers := []string{bilal, alice, lena, marco}
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[actions.Outcome]int{}
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := e.eng.Approve(ctx, r.ID, approvers[i%len(approvers)])
			if err != nil {
				t.Errorf("approve: %v", err)
				return
			}
			mu.Lock()
			outcomes[d.Outcome]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	e.eng.Wait()
	if outcomes[actions.OutcomeApproved] != 1 || outcomes[actions.OutcomeCounted] != 0 {
		t.Errorf("outcomes = %v; want exactly one approval transition", outcomes)
	}
	if n := e.recv.count(r.ID); n != 1 {
		t.Errorf("webhook deliveries = %d; want 1", n)
	}
	got := e.run(r.ID)
	if got.Status != actions.StatusSucceeded || len(got.Approvals) != 1 || got.Attempts != 1 || !strings.Contains(got.Output, "done") {
		t.Errorf("run = %+v", got)
	}
	// A late click is answered with who approved, not an error.
	d, err := e.eng.Approve(ctx, r.ID, lena)
	if err != nil || d.Outcome != actions.OutcomeStale || !strings.Contains(d.Message, "already approved by "+got.Approvals[0].Actor) {
		t.Errorf("late click = %+v, %v", d, err)
	}
	// The receiver saw the run: inputs, requester, approver.
	b := e.recv.bodies[0]
	if b.Action != "restart-service" || b.Inputs["env"] != "prod" || b.Requester != carmen || len(b.Approvers) != 1 || b.Target != "component:default/payments-api" {
		t.Errorf("webhook body = %+v", b)
	}
	// The message went from awaiting approval to succeeded.
	msgs := e.note.forRun(r.ID)
	last := msgs[len(msgs)-1]
	if last.Status != actions.StatusSucceeded || !last.Final || last.Ref != "msg-"+r.ID || last.Requester.SlackID == "" || len(last.Approvals) != 1 {
		t.Errorf("last message = %+v", last)
	}
	// Every committed change was reported once, in order: the 99 clicks
	// that changed nothing were not.
	e.mu.Lock()
	changes := strings.Join(e.changes, " ")
	e.mu.Unlock()
	if want := "restart-service:awaiting_approval restart-service:approved restart-service:running restart-service:succeeded"; changes != want {
		t.Errorf("OnChange reported %q, want %q", changes, want)
	}
	if err := e.eng.Audit().Verify(ctx); err != nil {
		t.Error(err)
	}
}

func TestSelfApprovalAndOutsidersAreRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.request(carmen, "restart-service", restartParams)
	// carmen is in sre (an approver group) but asked for the run.
	_, err := e.eng.Approve(ctx, r.ID, carmen)
	var ue *actions.UserError
	if !errors.Is(err, actions.ErrSelfApproval) || !errors.As(err, &ue) {
		t.Errorf("self-approval: %v", err)
	}
	_, err = e.eng.Approve(ctx, r.ID, dmitri)
	if !errors.Is(err, actions.ErrNotAllowed) || !strings.Contains(err.Error(), "on-call of the target") {
		t.Errorf("outsider: %v", err)
	}
	_, err = e.eng.Reject(ctx, r.ID, dmitri, "no")
	if !errors.Is(err, actions.ErrNotAllowed) {
		t.Errorf("outsider reject: %v", err)
	}
	if got := e.run(r.ID); got.Status != actions.StatusAwaitingApproval || len(got.Approvals) != 0 {
		t.Errorf("run changed: %+v", got)
	}
	// Who may run: dmitri neither owns payments-api nor is in sre.
	in, err := e.eng.Bind(ctx, "restart-service", restartParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Request(ctx, dmitri, "restart-service", in, actions.Origin{}); !errors.Is(err, actions.ErrNotAllowed) {
		t.Errorf("request by outsider: %v", err)
	}
	if _, err := e.eng.Request(ctx, "user:default/nobody", "restart-service", in, actions.Origin{}); !errors.Is(err, actions.ErrNotLinked) {
		t.Errorf("request by unknown user: %v", err)
	}
	// Cancel: only the requester.
	if _, err := e.eng.Cancel(ctx, r.ID, bilal); !errors.Is(err, actions.ErrNotAllowed) {
		t.Errorf("cancel by another: %v", err)
	}
	d, err := e.eng.Cancel(ctx, r.ID, carmen)
	if err != nil || d.Outcome != actions.OutcomeCancelled {
		t.Fatalf("cancel = %+v, %v", d, err)
	}
	d, err = e.eng.Approve(ctx, r.ID, bilal)
	if err != nil || d.Outcome != actions.OutcomeStale || !strings.Contains(d.Message, "cancelled by "+carmen) {
		t.Errorf("approve after cancel = %+v, %v", d, err)
	}
	e.eng.Wait()
	if e.recv.total() != 0 {
		t.Error("a refused or cancelled run was delivered")
	}
}

func TestNofMCountsEachPersonOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.request(dmitri, "grant-temporary-access", grantParams)
	if r.Inputs["ticket"] != actions.Redacted {
		t.Errorf("secret input stored in the run: %q", r.Inputs["ticket"])
	}
	d, err := e.eng.Approve(ctx, r.ID, alice)
	if err != nil || d.Outcome != actions.OutcomeCounted {
		t.Fatalf("first approval = %+v, %v", d, err)
	}
	d, err = e.eng.Approve(ctx, r.ID, alice)
	if err != nil || d.Outcome != actions.OutcomeDuplicate || d.Run.Status != actions.StatusAwaitingApproval {
		t.Fatalf("second click by the same person = %+v, %v", d, err)
	}
	d, err = e.eng.Approve(ctx, r.ID, lena)
	if err != nil || d.Outcome != actions.OutcomeApproved {
		t.Fatalf("second approver = %+v, %v", d, err)
	}
	e.eng.Wait()
	if n := e.recv.count(r.ID); n != 1 {
		t.Fatalf("deliveries = %d", n)
	}
	b := e.recv.bodies[0]
	if b.Inputs["ticket"] != ticketValue || b.Inputs["duration"] != "2h" {
		t.Errorf("the executor must get the secret input: %+v", b.Inputs)
	}
	// The secret is nowhere else: audit log, messages, the stored run.
	recs, err := e.eng.Audit().List(ctx, actions.AuditFilter{RunID: r.ID}, 0)
	if err != nil || len(recs) < 6 {
		t.Fatalf("audit = %d records, %v", len(recs), err)
	}
	for _, rec := range recs {
		if strings.Contains(rec.Detail+strings.Join(mapValues(rec.Inputs), " "), ticketValue) {
			t.Errorf("secret in audit record %+v", rec)
		}
	}
	for _, m := range e.note.forRun(r.ID) {
		for _, f := range m.Inputs {
			if strings.Contains(f.Value, ticketValue) {
				t.Errorf("secret in message: %+v", f)
			}
		}
	}
	if got := e.run(r.ID); got.Status != actions.StatusSucceeded || got.Inputs["ticket"] != actions.Redacted {
		t.Errorf("run = %+v", got)
	}
	// A first approval of two changes the run but not its status: each
	// status is reported once.
	e.mu.Lock()
	changes := strings.Join(e.changes, " ")
	e.mu.Unlock()
	if want := "grant-temporary-access:awaiting_approval grant-temporary-access:approved grant-temporary-access:running grant-temporary-access:succeeded"; changes != want {
		t.Errorf("OnChange reported %q, want %q", changes, want)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestRejectionWins(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.request(dmitri, "grant-temporary-access", grantParams)
	if d, err := e.eng.Approve(ctx, r.ID, alice); err != nil || d.Outcome != actions.OutcomeCounted {
		t.Fatalf("approve = %+v, %v", d, err)
	}
	d, err := e.eng.Reject(ctx, r.ID, lena, "use the read replica")
	if err != nil || d.Outcome != actions.OutcomeRejected || d.Run.Rejection.Note != "use the read replica" {
		t.Fatalf("reject = %+v, %v", d, err)
	}
	d, err = e.eng.Approve(ctx, r.ID, bilal)
	if err != nil || d.Outcome != actions.OutcomeStale || !strings.Contains(d.Message, "already rejected by "+lena) {
		t.Errorf("approve after rejection = %+v, %v", d, err)
	}
	e.eng.Wait()
	if e.recv.total() != 0 {
		t.Error("a rejected run was delivered")
	}
	if got := e.run(r.ID); got.Status != actions.StatusRejected {
		t.Errorf("status = %s", got.Status)
	}
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.request(carmen, "restart-service", restartParams)
	if want := testNow.Add(4 * time.Hour); !r.ExpiresAt.Equal(want) {
		t.Fatalf("expires at %s, want %s", r.ExpiresAt, want)
	}
	if got, err := e.eng.Expire(ctx, e.clk.Now().Add(4*time.Hour-time.Second)); err != nil || len(got) != 0 {
		t.Fatalf("early expire = %v, %v", got, err)
	}
	e.clk.Advance(4 * time.Hour)
	got, err := e.eng.Expire(ctx, e.clk.Now())
	if err != nil || len(got) != 1 || got[0].ID != r.ID || got[0].Status != actions.StatusExpired {
		t.Fatalf("expire = %v, %v", got, err)
	}
	d, err := e.eng.Approve(ctx, r.ID, bilal)
	if err != nil || d.Outcome != actions.OutcomeStale || !strings.Contains(d.Message, "expired") {
		t.Errorf("approve after expiry = %+v, %v", d, err)
	}
	// A click after the deadline, before the job ran, expires the run too.
	r2 := e.request(carmen, "restart-service", restartParams)
	e.clk.Advance(5 * time.Hour)
	d, err = e.eng.Approve(ctx, r2.ID, bilal)
	if err != nil || d.Outcome != actions.OutcomeStale || d.Run.Status != actions.StatusExpired {
		t.Errorf("late approve = %+v, %v", d, err)
	}
	e.eng.Wait()
	if e.recv.total() != 0 {
		t.Error("an expired run was delivered")
	}
	msgs := e.note.forRun(r.ID)
	if last := msgs[len(msgs)-1]; last.Status != actions.StatusExpired || last.AwaitingApproval || !last.Final {
		t.Errorf("last message = %+v", last)
	}
}

func TestRestartBetweenApprovalAndExecution(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.request(carmen, "restart-service", restartParams)
	// Stop taking executions: the approval commits, the run never starts.
	if err := e.eng.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := e.eng.Approve(ctx, r.ID, bilal)
	if err != nil || d.Outcome != actions.OutcomeApproved {
		t.Fatalf("approve = %+v, %v", d, err)
	}
	if e.recv.total() != 0 {
		t.Fatal("executed before the restart")
	}
	e.restart()
	acted, err := e.eng.Recover(ctx)
	if err != nil || len(acted) != 1 {
		t.Fatalf("recover = %v, %v", acted, err)
	}
	e.eng.Wait()
	e.restart()
	if acted, err := e.eng.Recover(ctx); err != nil || len(acted) != 0 {
		t.Fatalf("second recover = %v, %v", acted, err)
	}
	e.eng.Wait()
	if n := e.recv.count(r.ID); n != 1 {
		t.Errorf("deliveries = %d; want exactly 1", n)
	}
	if got := e.run(r.ID); got.Status != actions.StatusSucceeded || got.Attempts != 1 {
		t.Errorf("run = %+v", got)
	}
	if err := e.eng.Audit().Verify(ctx); err != nil {
		t.Error(err)
	}
}

func TestCrashDuringWebhookIsRetriedWithSameKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arrived := make(chan struct{}, 1)
	e.recv.mu.Lock()
	e.recv.hold = func(r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done() // never answers: the process "crashes" first
	}
	e.recv.mu.Unlock()
	r := e.request(carmen, "restart-service", restartParams)
	if _, err := e.eng.Approve(ctx, r.ID, bilal); err != nil {
		t.Fatal(err)
	}
	<-arrived
	if err := e.eng.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.run(r.ID); got.Status != actions.StatusRunning {
		t.Fatalf("after the crash the run is %s; want running", got.Status)
	}
	e.recv.mu.Lock()
	e.recv.hold = nil
	e.recv.mu.Unlock()
	e.restart()
	if _, err := e.eng.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	e.eng.Wait()
	if n := e.recv.count(r.ID); n != 2 {
		t.Errorf("deliveries with key %s = %d; want 2 (the interrupted one and the retry)", r.ID, n)
	}
	if len(e.recv.byRun) != 1 {
		t.Errorf("idempotency keys = %v; want only the run id", e.recv.byRun)
	}
	got := e.run(r.ID)
	if got.Status != actions.StatusSucceeded || got.Attempts != 2 {
		t.Errorf("run = %+v", got)
	}
	if e.recv.bodies[1].Attempt != 2 {
		t.Errorf("retry body attempt = %d", e.recv.bodies[1].Attempt)
	}
}

func TestNonIdempotentCrashIsUnknown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.request(alice, "rotate-keys", map[string]string{"service": "payments-api"})
	if r.Status != actions.StatusApproved {
		t.Fatalf("run without approval is %s", r.Status)
	}
	if id := <-e.man.started; id != r.ID {
		t.Fatalf("started %s", id)
	}
	if err := e.eng.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	e.restart()
	acted, err := e.eng.Recover(ctx)
	if err != nil || len(acted) != 1 || acted[0].Status != actions.StatusUnknown {
		t.Fatalf("recover = %+v, %v", acted, err)
	}
	e.eng.Wait()
	select {
	case id := <-e.man.started:
		t.Errorf("non-idempotent run %s executed again", id)
	default:
	}
	msgs := e.note.forRun(r.ID)
	if last := msgs[len(msgs)-1]; last.Status != actions.StatusUnknown || last.Error == "" {
		t.Errorf("last message = %+v", last)
	}
}

func TestCatalogExecutorWritesOverlay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.request(alice, "toggle-maintenance", map[string]string{"service": "payments-api", "enabled": "yes"})
	e.eng.Wait()
	got := e.run(r.ID)
	if got.Status != actions.StatusSucceeded || !strings.Contains(got.Output, "idpbot.dev/maintenance=true") {
		t.Fatalf("run = %+v", got)
	}
	ov, err := overlays(t, e).Get(ctx, "component:default/payments-api")
	if err != nil || ov == nil || ov.Set["idpbot.dev/maintenance"] != "true" || ov.RunID != r.ID {
		t.Errorf("overlay = %+v, %v", ov, err)
	}
}
