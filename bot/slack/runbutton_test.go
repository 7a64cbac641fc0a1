package slack

import (
	"net/http"
	"strings"
	"testing"
)

// runButton is the value and action_id of the Run button of an action in
// the answer to /idp actions.
func (fe *formEnv) runButton(t *testing.T, action string) (value, actionID string) {
	t.Helper()
	m := fe.answer(t, "actions", fe.sink.url("/actions"))
	b, ok := buttons(m)["Run "+action]
	if !ok {
		t.Fatalf("no Run %s button in %v", action, buttons(m))
	}
	value, actionID, _ = strings.Cut(b, " ")
	return value, actionID
}

// clickRun clicks the Run button of an action and checks the empty
// acknowledgement.
func (fe *formEnv) clickRun(t *testing.T, action string) {
	t.Helper()
	value, actionID := fe.runButton(t, action)
	resp, body := fe.click(t, actionID, value, fe.sink.url("/click"))
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("click ack %d %q", resp.StatusCode, body)
	}
}

// TestRunButtonOpensModal: the Run button of /idp actions opens the form,
// prefilled with the defaults, even for an action that needs no input and
// no approval; nothing runs until the form is submitted.
func TestRunButtonOpensModal(t *testing.T) {
	fe := newFormEnv(t, formOptions{})

	fe.clickRun(t, "flush-cache")
	ov := next(t, fe.views, "views.open")
	v := decodeView(t, ov.View)
	if v.Submit.Text != "Run" || len(v.Blocks) != 2 {
		t.Fatalf("view %+v", v)
	}
	scope := v.block(t, "scope")
	if !scope.Optional || scope.Element.Type != "static_select" || scope.Element.InitialOption == nil || scope.Element.InitialOption.Value != "all" {
		t.Errorf("scope %+v", scope)
	}

	// No inputs: a confirmation, the intro and the Run button.
	fe.clickRun(t, "warm-the-caches-of-every-service-in-every-region-after-a-deploy")
	warmView := next(t, fe.views, "views.open")
	warm := decodeView(t, warmView.View)
	if warm.Submit.Text != "Run" || len(warm.Blocks) != 1 || warm.Blocks[0].Type != "section" {
		t.Errorf("view %+v", warm)
	}
	if n := len(fe.runs(t)); n != 0 {
		t.Fatalf("%d runs after clicks on Run buttons", n)
	}

	// Submitted, it runs (no approval): the run's card is posted in the
	// channel and the requester is told.
	if ans := fe.submit(t, viewSubmission(t, ov, "U01ALICE", v.PrivateMetadata, map[string]string{"scope": "option:sessions"})); ans["response_action"] != "clear" {
		t.Fatalf("answer %v", ans)
	}
	if p := next(t, fe.posts, "run message"); p.Get("channel") != "C04PAYMENTS" || !strings.Contains(p.Get("text"), "Flush a cache") {
		t.Errorf("run message %v", p)
	}
	next(t, fe.ephemeral, "confirmation")
	if ans := fe.submit(t, viewSubmission(t, warmView, "U01ALICE", warm.PrivateMetadata, nil)); ans["response_action"] != "clear" {
		t.Fatalf("confirmation answer %v", ans)
	}
	if p := next(t, fe.posts, "run message"); !strings.Contains(p.Get("text"), "Warm every cache") {
		t.Errorf("run message %v", p)
	}
	next(t, fe.ephemeral, "confirmation")
	fe.quiet(t)
	runs := fe.runs(t)
	if len(runs) != 2 {
		t.Fatalf("runs %+v", runs)
	}
	for _, r := range runs {
		if r.Action == "flush-cache" && r.Inputs["scope"] != "sessions" {
			t.Errorf("flush-cache run %+v", r)
		}
	}
}

// TestRunButtonWithoutModal: when the modal cannot be opened, the click is
// answered with how to type the command, and nothing runs.
func TestRunButtonWithoutModal(t *testing.T) {
	fe := newFormEnv(t, formOptions{failViews: "expired_trigger_id"})
	fe.clickRun(t, "flush-cache")
	next(t, fe.views, "views.open")
	p := fe.sink.next(t)
	if p.path != "/click" || !strings.Contains(p.msg.Text, "To run Flush a cache, type: /idp run flush-cache [scope=all|sessions]") {
		t.Errorf("answer %s %+v", p.path, p.msg)
	}
	fe.quiet(t)
	if n := len(fe.runs(t)); n != 0 {
		t.Errorf("%d runs", n)
	}
}

// TestFormTypedSecretRequired: a secret typed with the command is not
// filled in, and its field is required, so that the form does not run
// without it.
func TestFormTypedSecretRequired(t *testing.T) {
	fe := newFormEnv(t, formOptions{})
	ov, v := fe.openForm(t, "run deploy-tag token=s3cr3t")
	tok := v.block(t, "token")
	if tok.Optional || tok.Element.InitialValue != "" || tok.Hint == nil || !strings.Contains(tok.Hint.Text, "type it again") {
		t.Errorf("token %+v", tok)
	}
	if notes := v.block(t, "notes"); !notes.Optional {
		t.Errorf("notes %+v", notes)
	}
	if strings.Contains(string(ov.View), "s3cr3t") {
		t.Error("the secret is in the modal")
	}
	fe.quiet(t)
}

// TestFormLongTypedValue: a typed value longer than a Slack text input
// takes is never cut: no form opens, and the answer is the usage.
func TestFormLongTypedValue(t *testing.T) {
	fe := newFormEnv(t, formOptions{})
	t.Run("3,000 characters fit", func(t *testing.T) {
		notes := strings.Repeat("x", maxInputChars)
		_, v := fe.openForm(t, "run deploy-tag notes="+notes)
		if got := v.block(t, "notes").Element.InitialValue; got != notes {
			t.Errorf("notes of %d characters, want %d", len([]rune(got)), maxInputChars)
		}
	})
	t.Run("3,001 do not", func(t *testing.T) {
		resp, body := fe.slash(t, "run deploy-tag notes="+strings.Repeat("x", maxInputChars+1), fe.sink.url("/slash"))
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Fatalf("acknowledgement %d %q", resp.StatusCode, body)
		}
		p := fe.sink.next(t)
		if p.path != "/slash" || !strings.Contains(p.msg.Text, "usage: /idp run deploy-tag tag=") {
			t.Errorf("answer %s %+v", p.path, p.msg)
		}
	})
	fe.quiet(t)
}
