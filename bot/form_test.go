package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
)

const alice = "user:default/alice.nguyen"

type formFixture struct {
	router *bot.Router
	eng    *actions.Engine
	reg    *prometheus.Registry
}

func newFormFixture(t *testing.T) *formFixture {
	t.Helper()
	store := bottest.ExampleCatalog(t)
	f := &formFixture{eng: bottest.ActionEngine(t, store, nil), reg: prometheus.NewRegistry()}
	m, err := bot.NewMetrics(f.reg)
	if err != nil {
		t.Fatal(err)
	}
	f.router = bottest.Router(t, store, bot.Config{Actions: f.eng, Metrics: m})
	return f
}

// runs lists alice's runs.
func (f *formFixture) runs(t *testing.T) []*actions.Run {
	t.Helper()
	runs, err := f.eng.List(context.Background(), actions.RunFilter{Requester: alice}, 50)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func formReq(text string) *bot.Request {
	return &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U01ALICE", Name: "alice.nguyen"}, ChannelID: "C04PAYMENTS", Text: text, Forms: true}
}

func field(t *testing.T, f *bot.Form, name string) bot.FormField {
	t.Helper()
	for _, fld := range f.Fields {
		if fld.Name == name {
			return fld
		}
	}
	t.Fatalf("form has no field %q", name)
	return bot.FormField{}
}

func TestRunOffersForm(t *testing.T) {
	f := newFormFixture(t)
	ctx := context.Background()

	rep := f.router.Handle(ctx, formReq("run restart-service env=PROD"))
	if rep.Form == nil {
		t.Fatalf("no form: %s", plain(rep))
	}
	// The reply is the refusal a front door shows when it cannot open the
	// form: what is missing, and the usage.
	if !rep.IsError || !strings.Contains(plain(rep), "service: required, not given") || !strings.Contains(plain(rep), "usage: /idp run restart-service") {
		t.Errorf("fallback reply: %s", plain(rep))
	}
	form := rep.Form
	if form.Title != "Restart a service" || form.Submit != "Request" || len(form.Fields) != 3 {
		t.Fatalf("form %+v", form)
	}
	if len(form.State) > bot.MaxFormState {
		t.Errorf("state is %d characters", len(form.State))
	}
	// 22 components: more than a list takes, so the service is typed.
	if svc := field(t, form, "service"); svc.Kind != bot.FieldText || !svc.Required || svc.Value != "" || svc.Typed || svc.Placeholder != "a component name or ref" || !strings.Contains(svc.Hint, "the service to restart") {
		t.Errorf("service %+v", svc)
	}
	env := field(t, form, "env")
	if env.Kind != bot.FieldChoice || env.Required || env.Value != "prod" || !env.Typed || len(env.Choices) != 2 || env.Placeholder != "staging | prod" {
		t.Errorf("env %+v", env)
	}
	reason := field(t, form, "reason")
	if reason.Kind != bot.FieldText || !reason.Required || !reason.Multiline || *reason.Min != 5 || *reason.Max != 200 || !strings.Contains(reason.Hint, "5 to 200 characters") {
		t.Errorf("reason %+v", reason)
	}
	if got := outcomes(t, f.reg, "form"); got != 1 {
		t.Errorf("idpbot_commands_total{outcome=form} = %v", got)
	}
	if len(f.runs(t)) != 0 {
		t.Error("offering a form requested a run")
	}
}

// outcomes sums idpbot_commands_total of one outcome.
func outcomes(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "idpbot_commands_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "outcome" && lp.GetValue() == outcome {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

func TestRunFormEveryType(t *testing.T) {
	f := newFormFixture(t)
	// A typed secret is never shown back; a typed boolean is normalised.
	rep := f.router.Handle(context.Background(), formReq("run provision-database ticket=CHG-1 replicated=yes size=8"))
	if rep.Form == nil {
		t.Fatalf("no form: %s", plain(rep))
	}
	form := rep.Form
	if name := field(t, form, "name"); name.Kind != bot.FieldText || name.Multiline || !strings.Contains(name.Hint, "must match [a-z][a-z0-9-]{2,30}") {
		t.Errorf("name %+v", name)
	}
	team := field(t, form, "team")
	if team.Kind != bot.FieldChoice || len(team.Choices) == 0 || len(team.Choices) > 20 {
		t.Fatalf("team %+v", team)
	}
	for _, c := range team.Choices {
		if !strings.HasPrefix(c.Value, "group:default/") {
			t.Errorf("team choice %+v", c)
		}
	}
	if size := field(t, form, "size"); size.Kind != bot.FieldNumber || size.Value != "8" || *size.Min != 1 || *size.Max != 64 {
		t.Errorf("size %+v", size)
	}
	if region := field(t, form, "region"); region.Kind != bot.FieldChoice || region.Value != "" || !region.Required {
		t.Errorf("region %+v", region)
	}
	if ret := field(t, form, "retention"); ret.Kind != bot.FieldText || ret.Placeholder != "e.g. 4h" || !strings.Contains(ret.Hint, "1d to 30d") {
		t.Errorf("retention %+v", ret)
	}
	if repl := field(t, form, "replicated"); repl.Kind != bot.FieldChoice || repl.Value != "true" {
		t.Errorf("replicated %+v", repl)
	}
	ticket := field(t, form, "ticket")
	if !ticket.Secret || ticket.Value != "" || !ticket.Typed || !ticket.Required {
		t.Errorf("ticket %+v", ticket)
	}
	if strings.Contains(form.State, "CHG-1") || strings.Contains(plain(rep), "CHG-1") {
		t.Error("the secret is in the form or the reply")
	}
}

func TestRunWithoutForm(t *testing.T) {
	f := newFormFixture(t)
	ctx := context.Background()
	for name, req := range map[string]*bot.Request{
		"front door without forms": {Platform: bot.Console, User: bot.ChatUser{CatalogRef: alice}, Text: "run restart-service"},
		// A wrong value is refused as typed: the person sees what was wrong.
		"a wrong value":       formReq("run restart-service env=prd"),
		"an unknown input":    formReq("run restart-service servce=payments-api"),
		"an unlinked user":    {Platform: bot.Slack, User: bot.ChatUser{ID: "U0NOBODY"}, ChannelID: "C04PAYMENTS", Text: "run restart-service", Forms: true},
		"with --help instead": formReq("run --help"),
	} {
		t.Run(name, func(t *testing.T) {
			rep := f.router.Handle(ctx, req)
			if rep.Form != nil {
				t.Fatalf("form offered: %+v", rep.Form)
			}
		})
	}
	if len(f.runs(t)) != 0 {
		t.Error("a run was requested")
	}
}

// TestRunFormNotAllowed: a person who may not run the action is told so
// before filling in a form.
func TestRunFormNotAllowed(t *testing.T) {
	f := newFormFixture(t)
	rep := f.router.Handle(context.Background(), formReq("run rotate-keys"))
	if rep.Form != nil || !rep.IsError || !strings.Contains(rep.Text, "You may not run rotate-keys") || !strings.Contains(rep.Text, "group:default/sre") {
		t.Errorf("reply %s (form %v)", plain(rep), rep.Form != nil)
	}
}

func TestSubmitForm(t *testing.T) {
	f := newFormFixture(t)
	ctx := context.Background()
	state := f.router.Handle(ctx, formReq("run restart-service")).Form.State
	submitter := func() *bot.Request {
		// The submission knows the user, not the channel: the state does.
		return &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U01ALICE", Name: "alice.nguyen"}}
	}

	t.Run("invalid values are answered field by field", func(t *testing.T) {
		sub := f.router.Submit(ctx, submitter(), state, map[string]string{"service": "paymnets-api", "env": "prod", "reason": "oom"})
		if len(sub.Errors) != 2 || !strings.Contains(sub.Errors["service"], "payments-api") || !strings.HasPrefix(sub.Errors["reason"], "Too short") {
			t.Errorf("errors %v", sub.Errors)
		}
		if !sub.Reply.IsError || !strings.Contains(plain(sub.Reply), "reason: too short") {
			t.Errorf("reply %s", plain(sub.Reply))
		}
		if errs := f.router.Submit(ctx, submitter(), state, map[string]string{"env": "prod"}).Errors; errs["service"] != "Required: fill it in" || errs["reason"] == "" {
			t.Errorf("missing: %v", errs)
		}
		if len(f.runs(t)) != 0 {
			t.Fatal("a run was requested")
		}
	})
	t.Run("valid values request the run", func(t *testing.T) {
		sub := f.router.Submit(ctx, submitter(), state, map[string]string{"service": "payments-api", "env": "prod", "reason": "OOM loop since 10:40", "unknown": "x"})
		if len(sub.Errors) != 0 || sub.Reply.IsError || !strings.HasPrefix(sub.Reply.Text, "Requested Restart a service") || sub.ChannelID != "C04PAYMENTS" {
			t.Fatalf("submission %+v: %s", sub, plain(sub.Reply))
		}
		runs := f.runs(t)
		if len(runs) != 1 || runs[0].Origin.Channel != "C04PAYMENTS" || runs[0].Origin.Platform != "slack" || runs[0].Inputs["env"] != "prod" || runs[0].Target != "component:default/payments-api" {
			t.Fatalf("runs %+v", runs)
		}
	})
	refused := map[string]struct {
		req   *bot.Request
		state string
		want  string
	}{
		"tampered state":   {submitter(), state[:len(state)-2] + "AA", "not valid"},
		"a button value":   {submitter(), "b1." + strings.TrimPrefix(state, "f1."), "not valid"},
		"another user":     {&bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U01BILAL"}}, state, "opened by someone else"},
		"another platform": {&bot.Request{Platform: bot.Discord, User: bot.ChatUser{ID: "U01ALICE"}}, state, "opened by someone else"},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			sub := f.router.Submit(ctx, tc.req, tc.state, map[string]string{"service": "payments-api", "reason": "OOM loop since 10:40"})
			if !sub.Reply.IsError || !strings.Contains(sub.Reply.Text, tc.want) || sub.ChannelID != "" || len(sub.Errors) != 0 {
				t.Errorf("submission %+v: %s", sub, sub.Reply.Text)
			}
		})
	}
	if n := len(f.runs(t)); n != 1 {
		t.Errorf("%d runs, want the one valid submission", n)
	}
}

func TestFormStateFitsDiscord(t *testing.T) {
	f := newFormFixture(t)
	req := &bot.Request{Platform: bot.Discord, User: bot.ChatUser{ID: "1180000000000100137"}, ChannelID: "12000000000000000030", Text: "run provision-database", Forms: true}
	rep := f.router.Handle(context.Background(), req)
	if rep.Form == nil {
		t.Fatalf("no form: %s", plain(rep))
	}
	if n := len(rep.Form.State); n > 100 {
		t.Errorf("state of %d characters does not fit a custom_id", n)
	}
}

// runButtons runs "actions" for req and returns its Run buttons by label.
func runButtons(t *testing.T, r *bot.Router, req *bot.Request) map[string]bot.Button {
	t.Helper()
	rep := r.Handle(context.Background(), req)
	out := map[string]bot.Button{}
	for _, b := range rep.Blocks {
		if a, ok := b.(*bot.Actions); ok {
			for _, btn := range a.Buttons {
				out[btn.Label] = btn
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no Run buttons: %s", plain(rep))
	}
	return out
}

// TestRunButtonOpensForm: the Run button of /idp actions opens the form,
// prefilled with the defaults, even when the defaults would do; one click
// never runs anything, and where no form can be shown the answer says how
// to type the command.
func TestRunButtonOpensForm(t *testing.T) {
	f := newFormFixture(t)
	ctx := context.Background()
	buttons := runButtons(t, f.router, formReq("actions"))
	const long = "warm-the-caches-of-every-service-in-every-region-after-a-deploy"
	for label, b := range buttons {
		if v := f.router.ButtonValue(b); v == "" || len(v) > 100 {
			t.Errorf("%s: value of %d characters does not fit a Discord custom_id", label, len(v))
		}
	}
	click := func(t *testing.T, req *bot.Request, label string) *bot.Reply {
		t.Helper()
		b, ok := buttons[label]
		if !ok {
			t.Fatalf("no button %q", label)
		}
		return f.router.Click(ctx, req, f.router.ButtonValue(b))
	}

	t.Run("every input defaulted, no approval", func(t *testing.T) {
		rep := click(t, formReq(""), "Run flush-cache")
		if rep.Form == nil || rep.IsError {
			t.Fatalf("no form: %s", plain(rep))
		}
		if !rep.Form.AllFields || rep.Form.Submit != "Run" || len(rep.Form.Fields) != 1 {
			t.Errorf("form %+v", rep.Form)
		}
		if scope := field(t, rep.Form, "scope"); scope.Kind != bot.FieldChoice || scope.Value != "all" || scope.Required || scope.Typed {
			t.Errorf("scope %+v", scope)
		}
		// What a front door shows when it cannot open the form.
		if !strings.Contains(plain(rep), "/idp run flush-cache [scope=all|sessions]") {
			t.Errorf("reply %s", plain(rep))
		}
	})
	t.Run("required inputs", func(t *testing.T) {
		rep := click(t, formReq(""), "Run restart-service")
		if rep.Form == nil || len(rep.Form.Fields) != 3 || field(t, rep.Form, "env").Value != "staging" {
			t.Fatalf("form %+v: %s", rep.Form, plain(rep))
		}
	})
	t.Run("no inputs: a confirmation", func(t *testing.T) {
		rep := click(t, formReq(""), "Run "+long)
		if rep.Form == nil || len(rep.Form.Fields) != 0 || rep.Form.Submit != "Run" {
			t.Fatalf("form %+v: %s", rep.Form, plain(rep))
		}
	})
	t.Run("no form possible: how to type it", func(t *testing.T) {
		req := &bot.Request{Platform: bot.Console, User: bot.ChatUser{CatalogRef: alice}}
		rep := click(t, req, "Run flush-cache")
		if rep.Form != nil || rep.IsError || !strings.Contains(plain(rep), "type:\nrun flush-cache [scope=all|sessions]") || !strings.Contains(plain(rep), "scope: enum (one of all, sessions), default all") {
			t.Errorf("reply %s (form %v)", plain(rep), rep.Form != nil)
		}
	})
	t.Run("an unlinked person", func(t *testing.T) {
		rep := click(t, &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U0NOBODY"}, ChannelID: "C04PAYMENTS", Forms: true}, "Run flush-cache")
		if rep.Form != nil || !rep.IsError {
			t.Errorf("reply %s", plain(rep))
		}
	})
	if n := len(f.runs(t)); n != 0 {
		t.Fatalf("%d runs after clicks on Run buttons", n)
	}

	t.Run("submitting the form runs it", func(t *testing.T) {
		state := click(t, formReq(""), "Run flush-cache").Form.State
		sub := f.router.Submit(ctx, &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U01ALICE"}}, state, map[string]string{"scope": "sessions"})
		if sub.Reply.IsError || sub.RunID == "" {
			t.Fatalf("submission %+v: %s", sub, plain(sub.Reply))
		}
		if runs := f.runs(t); len(runs) != 1 || runs[0].Inputs["scope"] != "sessions" {
			t.Errorf("runs %+v", runs)
		}
	})
}

// TestRunButtonOthers: a Run button opens nothing for a person who may not
// run the action, nor for an action that no longer exists.
func TestRunButtonOthers(t *testing.T) {
	f := newFormFixture(t)
	ctx := context.Background()
	carmen := &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U01CARMEN"}, ChannelID: "C04SRE", Text: "actions", Forms: true}
	sre, ok := runButtons(t, f.router, carmen)["Run rotate-keys"]
	if !ok {
		t.Fatal("carmen (sre) has no Run rotate-keys button")
	}
	// Alice clicks it (it is in a channel she reads): she may not run it.
	rep := f.router.Click(ctx, formReq(""), f.router.ButtonValue(sre))
	if rep.Form != nil || !rep.IsError || !strings.Contains(rep.Text, "You may not run rotate-keys") {
		t.Errorf("reply %s", plain(rep))
	}
	// The same key, other actions: the digest names none of them.
	other := bottest.Router(t, bottest.ExampleCatalog(t), bot.Config{Actions: f.eng})
	v := other.ButtonValue(bot.Button{Command: "run flush-cache", Form: true})
	empty := bottest.Router(t, bottest.ExampleCatalog(t), bot.Config{})
	if rep := empty.Click(ctx, formReq(""), v); rep.Form != nil || !rep.IsError || !strings.Contains(rep.Text, "no longer exists") {
		t.Errorf("reply %s", plain(rep))
	}
	if v := f.router.ButtonValue(bot.Button{Command: "run no-such-action", Form: true}); v != "" {
		t.Errorf("value %q for an unknown action", v)
	}
}

// TestRunFormTypedSecret: a secret typed with the command is not filled
// in; its field becomes required, so that the form cannot run without it.
func TestRunFormTypedSecret(t *testing.T) {
	f := newFormFixture(t)
	rep := f.router.Handle(context.Background(), formReq("run deploy-tag token=s3cr3t"))
	if rep.Form == nil {
		t.Fatalf("no form: %s", plain(rep))
	}
	tok := field(t, rep.Form, "token")
	if !tok.Secret || tok.Value != "" || !tok.Typed || !tok.Required || !strings.Contains(tok.Hint, "type it again") || !strings.Contains(tok.Placeholder, "type it again") {
		t.Errorf("token %+v", tok)
	}
	if notes := field(t, rep.Form, "notes"); notes.Required {
		t.Errorf("notes %+v", notes)
	}
	if strings.Contains(rep.Form.State, "s3cr3t") || strings.Contains(plain(rep), "s3cr3t") {
		t.Error("the secret is in the form or the reply")
	}
	// An optional secret not typed stays optional.
	if tok := field(t, f.router.Handle(context.Background(), formReq("run deploy-tag")).Form, "token"); tok.Required || strings.Contains(tok.Hint, "type it again") {
		t.Errorf("token not typed %+v", tok)
	}
}
