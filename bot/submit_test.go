package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
)

// TestRunStoredThenMessageFails: once the engine has stored the run, a
// later failure (making its message) is logged, and the answer is the run,
// not an error inviting a second request.
func TestRunStoredThenMessageFails(t *testing.T) {
	f := newFormFixture(t)
	router := bottest.Router(t, bottest.ExampleCatalog(t), bot.Config{Actions: bottest.BrokenMessages{Engine: f.eng}})
	ctx := context.Background()

	rep := router.Handle(ctx, formReq("run flush-cache"))
	if rep.IsError || !strings.HasPrefix(rep.Text, "Requested Flush a cache (run ") || !strings.Contains(plain(rep), "/idp runs ") {
		t.Errorf("typed: %s", plain(rep))
	}
	state := router.Handle(ctx, formReq("run restart-service")).Form.State
	sub := router.Submit(ctx, &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U01ALICE"}}, state,
		map[string]string{"service": "payments-api", "reason": "OOM loop since 10:40"})
	if sub.Reply.IsError || len(sub.Errors) != 0 || sub.RunID == "" || !strings.Contains(sub.Reply.Text, sub.RunID) || sub.ChannelID != "C04PAYMENTS" {
		t.Errorf("submission %+v: %s", sub, plain(sub.Reply))
	}
	if n := len(f.runs(t)); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
}

// TestSubmitTwice: a form sent twice under the same submission id (a
// second click on Submit, a redelivery) requests one run; one refused for
// a wrong value can be sent again, corrected.
func TestSubmitTwice(t *testing.T) {
	f := newFormFixture(t)
	ctx := context.Background()
	state := f.router.Handle(ctx, formReq("run restart-service")).Form.State
	submit := func(id string, values map[string]string) *bot.Submission {
		req := &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U01ALICE"}, SubmissionID: id}
		return f.router.Submit(ctx, req, state, values)
	}
	good := map[string]string{"service": "payments-api", "reason": "OOM loop since 10:40"}

	if sub := submit("V0FORM", map[string]string{"service": "payments-api", "reason": "oom"}); len(sub.Errors) != 1 {
		t.Fatalf("wrong value: %+v", sub)
	}
	first := submit("V0FORM", good)
	if first.Reply.IsError || first.RunID == "" || first.Duplicate {
		t.Fatalf("corrected: %+v: %s", first, plain(first.Reply))
	}
	again := submit("V0FORM", good)
	if !again.Duplicate || again.RunID != first.RunID || again.Reply.IsError || !strings.Contains(again.Reply.Text, first.RunID) {
		t.Errorf("again: %+v: %s", again, plain(again.Reply))
	}
	if n := len(f.runs(t)); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
	// Another form (another view), or a front door without ids: a new run.
	if sub := submit("V0OTHER", good); sub.Duplicate || sub.RunID == "" {
		t.Errorf("another form: %+v", sub)
	}
	if sub := submit("", good); sub.Duplicate || sub.RunID == "" {
		t.Errorf("no id: %+v", sub)
	}
	if n := len(f.runs(t)); n != 3 {
		t.Errorf("%d runs, want 3", n)
	}
}
