package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
)

// restartForm is the form of "run restart-service" as the router makes it
// for alice in C04PAYMENTS: its state is real, so its submission runs.
func (fe *formEnv) restartForm(t *testing.T) *bot.Form {
	t.Helper()
	rep := fe.fd.router.Handle(context.Background(), &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U01ALICE"}, ChannelID: "C04PAYMENTS", Text: "run restart-service", Forms: true})
	if rep.Form == nil {
		t.Fatal("no form")
	}
	return rep.Form
}

// choiceFields are n choice fields of options choices each, with labels
// of Slack's longest (75 characters of label) and values of the longest
// (150), and hints of the longest (2000).
func choiceFields(n, options int, label string) []bot.FormField {
	var out []bot.FormField
	for i := range n {
		fld := bot.FormField{Name: fmt.Sprintf("pick%02d", i), Label: "pick", Kind: bot.FieldChoice, Hint: strings.Repeat(label, maxHintChars)}
		for j := range options {
			v := fmt.Sprintf("%03d-%s", j, strings.Repeat("v", maxOptionValueChars-4))
			fld.Choices = append(fld.Choices, bot.Choice{Label: strings.Repeat(label, maxOptionTextChars), Value: v})
		}
		out = append(out, fld)
	}
	return out
}

// modal renders f and decodes it as views.open would get it.
func modal(t *testing.T, f *bot.Form) (openedView, wireView) {
	t.Helper()
	view, err := ModalView(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(view)
	if err != nil {
		t.Fatal(err)
	}
	return openedView{View: raw}, decodeView(t, raw)
}

// slackEscaped is a form body as Slack sends it: in the JSON of the
// payload, "/" is "\/" and every non-ASCII character a \uXXXX escape
// (a surrogate pair past U+FFFF).
func slackEscaped(t *testing.T, body string) string {
	t.Helper()
	form, err := url.ParseQuery(body)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range form.Get("payload") {
		switch {
		case r == '/':
			b.WriteString(`\/`)
		case r < 0x80:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return url.Values{"payload": {b.String()}}.Encode()
}

// worstValues fill every input of v to its limit with the costliest
// characters: emoji in text inputs, the longest option of a select, a
// number of 64 digits.
func worstValues(v wireView) map[string]string {
	out := map[string]string{}
	for _, b := range v.Blocks {
		switch b.Element.Type {
		case "plain_text_input":
			n := b.Element.MaxLength
			if n == 0 {
				n = maxInputChars
			}
			out[b.BlockID] = strings.Repeat("😀", n)
		case "static_select":
			longest := ""
			for _, o := range b.Element.Options {
				if len(o.Value) > len(longest) {
					longest = o.Value
				}
			}
			out[b.BlockID] = "option:" + longest
		case "number_input":
			out[b.BlockID] = strings.Repeat("9", numberChars)
		}
	}
	return out
}

// TestFormLargeSubmission: the submission of a form with long option lists
// is larger than slack.max_body_bytes (Slack sends the whole view back);
// the interactivity endpoint takes it, and the run is requested.
func TestFormLargeSubmission(t *testing.T) {
	fe := newFormEnv(t, formOptions{})
	f := fe.restartForm(t)
	f.Fields = append(f.Fields, choiceFields(4, maxSelectOptions, "x")...)
	ov, v := modal(t, f)
	values := map[string]string{"service": "payments-api", "env": "option:prod", "reason": "OOM loop since 10:40"}
	for i := range 4 {
		name := fmt.Sprintf("pick%02d", i)
		if b := v.block(t, name); b.Element.Type != "static_select" || len(b.Element.Options) != maxSelectOptions {
			t.Fatalf("%s: %s of %d options", name, b.Element.Type, len(b.Element.Options))
		}
		values[name] = "option:" + f.Fields[3+i].Choices[99].Value
	}
	body := slackEscaped(t, viewSubmission(t, ov, "U01ALICE", v.PrivateMetadata, values))
	t.Logf("submission of %d bytes", len(body))
	if len(body) <= DefaultMaxBodyBytes {
		t.Fatalf("submission of %d bytes: the case needs more than %d", len(body), DefaultMaxBodyBytes)
	}
	if ans := fe.submit(t, body); ans["response_action"] != "clear" {
		t.Fatalf("answer %v", ans)
	}
	next(t, fe.posts, "approval request")
	next(t, fe.ephemeral, "confirmation")
	fe.quiet(t)
	if runs := fe.runs(t); len(runs) != 1 || runs[0].Inputs["env"] != "prod" {
		t.Errorf("runs %+v", runs)
	}
}

// TestFormSubmissionBound: the largest form, filled to every limit with the
// costliest characters, is accepted; ModalView shows long option lists as
// text inputs to keep it so. Bodies past the bound, and slash commands
// past slack.max_body_bytes, are refused (413).
func TestFormSubmissionBound(t *testing.T) {
	fe := newFormEnv(t, formOptions{})
	f := fe.restartForm(t)
	f.Fields = append(f.Fields, choiceFields(20, maxSelectOptions, "é")...)
	ov, v := modal(t, f)
	typed := 0
	for _, fld := range f.Fields[3:] {
		switch b := v.block(t, fld.Name); b.Element.Type {
		case "plain_text_input":
			typed++
			if b.Element.MaxLength != maxOptionValueChars {
				t.Errorf("%s: a list shown as text takes %d characters, want the longest value's %d", fld.Name, b.Element.MaxLength, maxOptionValueChars)
			}
		case "static_select":
		default:
			t.Errorf("%s: %s", fld.Name, b.Element.Type)
		}
	}
	if typed == 0 || typed == 20 {
		t.Errorf("%d of 20 lists shown as text inputs; want the longest ones only", typed)
	}
	view, err := ModalView(f)
	if err != nil {
		t.Fatal(err)
	}
	bound, err := submissionBytes(view)
	if err != nil || bound > maxSubmissionBytes {
		t.Fatalf("bound %d (%v), want at most %d", bound, err, maxSubmissionBytes)
	}
	body := slackEscaped(t, viewSubmission(t, ov, "U01ALICE", v.PrivateMetadata, worstValues(v)))
	t.Logf("%d of 20 lists shown as text; worst submission %d bytes, bound %d", typed, len(body), bound)
	if len(body) > bound {
		t.Errorf("the worst submission has %d bytes, more than the bound of %d", len(body), bound)
	}
	if ans := fe.submit(t, body); ans["response_action"] != "errors" {
		t.Errorf("answer %v, want the field errors", ans)
	}

	for name, tc := range map[string]struct {
		path string
		size int
	}{
		"interactivity past the bound":      {InteractivityPath, maxSubmissionBytes + 1},
		"slash command past max_body_bytes": {CommandsPath, DefaultMaxBodyBytes + 1},
	} {
		t.Run(name, func(t *testing.T) {
			body := "payload=" + strings.Repeat("x", tc.size-len("payload="))
			if resp, _ := fe.do(t, signed(t, fe.srv.URL+tc.path, testNow, body)); resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413", resp.StatusCode)
			}
		})
	}
	fe.quiet(t)
	if n := len(fe.runs(t)); n != 0 {
		t.Errorf("%d runs", n)
	}
}

// TestFormSubmissionRunStored: once the run is stored, a later failure
// (its message) does not keep the form open with an error, which would
// invite a second Submit; and a second Submit of the same view requests
// nothing.
func TestFormSubmissionRunStored(t *testing.T) {
	fe := newFormEnv(t, formOptions{engine: func(e *actions.Engine) bot.ActionEngine { return bottest.BrokenMessages{Engine: e} }})
	ov, v := fe.openForm(t, "run restart-service")
	body := viewSubmission(t, ov, "U01ALICE", v.PrivateMetadata, map[string]string{"service": "payments-api", "reason": "OOM loop since 10:40"})
	for i := range 2 {
		if ans := fe.submit(t, body); ans["response_action"] != "clear" {
			t.Fatalf("submission %d: answer %v", i+1, ans)
		}
	}
	next(t, fe.posts, "approval request")
	c := next(t, fe.ephemeral, "confirmation")
	runs := fe.runs(t)
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	if !strings.HasPrefix(c.Get("text"), "Requested Restart a service (run "+runs[0].ID+")") {
		t.Errorf("confirmation %q", c.Get("text"))
	}
	fe.quiet(t)
}

// TestFormSubmittedTwice: the same view submitted twice requests one run,
// and the second submission posts nothing.
func TestFormSubmittedTwice(t *testing.T) {
	fe := newFormEnv(t, formOptions{})
	ov, v := fe.openForm(t, "run restart-service")
	good := map[string]string{"service": "payments-api", "reason": "OOM loop since 10:40"}
	for i := range 2 {
		if ans := fe.submit(t, viewSubmission(t, ov, "U01ALICE", v.PrivateMetadata, good)); ans["response_action"] != "clear" {
			t.Fatalf("submission %d: answer %v", i+1, ans)
		}
	}
	next(t, fe.posts, "approval request")
	next(t, fe.ephemeral, "confirmation")
	fe.quiet(t)
	if n := len(fe.runs(t)); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
}
