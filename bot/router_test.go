package bot_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/scoring"
	"github.com/prometheus/client_golang/prometheus"
)

// plain flattens a reply to text for assertions.
func plain(r *bot.Reply) string {
	var b strings.Builder
	b.WriteString(r.Text + "\n")
	for _, blk := range r.Blocks {
		switch x := blk.(type) {
		case *bot.Header:
			b.WriteString(x.Text + "\n")
		case *bot.Section:
			b.WriteString(x.Text.String() + "\n")
			for _, f := range x.Fields {
				b.WriteString(f.Label + ": " + f.Value.String() + "\n")
			}
		case *bot.Context:
			b.WriteString(x.Text.String() + "\n")
		case *bot.Actions:
			for _, btn := range x.Buttons {
				b.WriteString("[" + btn.Label + "] ")
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func buttons(r *bot.Reply) []bot.Button {
	var out []bot.Button
	for _, blk := range r.Blocks {
		if a, ok := blk.(*bot.Actions); ok {
			out = append(out, a.Buttons...)
		}
	}
	return out
}

type fixture struct {
	store   *catalog.Store
	router  *bot.Router
	reg     *prometheus.Registry
	logs    *bytes.Buffer
	metrics *bot.Metrics
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: bottest.ExampleCatalog(t), reg: prometheus.NewRegistry(), logs: &bytes.Buffer{}}
	var err error
	if f.metrics, err = bot.NewMetrics(f.reg); err != nil {
		t.Fatal(err)
	}
	f.router = bottest.Router(t, f.store, bot.Config{
		Logger:  slog.New(slog.NewTextHandler(f.logs, nil)),
		Metrics: f.metrics,
	})
	return f
}

func slackReq(text string) *bot.Request {
	return &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U01ALICE", Name: "alice"}, ChannelID: "C1", Text: text}
}

func TestWhoOwns(t *testing.T) {
	f := newFixture(t)
	rep := f.router.Handle(context.Background(), slackReq("who-owns payments-api"))
	if rep.IsError {
		t.Fatalf("error reply: %s", plain(rep))
	}
	got := plain(rep)
	for _, want := range []string{
		"Payments API", "Owner: Payments Team", "Members: @Alice Nguyen, @Bilal Haddad, @Carmen Ortiz",
		"On call: PagerDuty service PX7Q2LM", "Part of: Product Engineering › Northwind Pay",
		"Runbook https://runbooks.northwind.example/payments/payments-api", "component:default/payments-api",
		"[On call] [Team] [Details]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("who-owns reply lacks %q:\n%s", want, got)
		}
	}
	if rep.Visibility != bot.Ephemeral {
		t.Error("who-owns is not ephemeral by default")
	}
	// Mentions carry the platform ids, so each front door can ping.
	var sawSlackMention, sawChannel bool
	for _, blk := range rep.Blocks {
		if s, ok := blk.(*bot.Section); ok {
			for _, fl := range s.Fields {
				for _, sp := range fl.Value {
					if sp.Kind == bot.UserMention && sp.IDs[bot.Slack] == "U01ALICE" {
						sawSlackMention = true
					}
					if sp.Kind == bot.ChannelMention && sp.IDs[bot.Slack] == "C04PAYMENTS" && sp.IDs[bot.Discord] == "1180000000000000001" {
						sawChannel = true
					}
				}
			}
		}
	}
	if !sawSlackMention || !sawChannel {
		t.Errorf("mentions: user %v, channel %v; want both with platform ids", sawSlackMention, sawChannel)
	}
	if n := f.count(t, "slack", "who-owns", "ok"); n != 1 {
		t.Errorf("idpbot_commands_total{who-owns,ok} = %v, want 1", n)
	}
}

// count reads idpbot_commands_total for the labels.
func (f *fixture) count(t *testing.T, platform, command, outcome string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "idpbot_commands_total" {
			continue
		}
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["platform"] == platform && labels["command"] == command && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestAmbiguousNameButtonsRunThePreciseCommand(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// "payments" names a group, a system and a domain.
	rep := f.router.Handle(ctx, slackReq("show payments"))
	if !rep.IsError {
		t.Fatalf("want a which-one reply, got:\n%s", plain(rep))
	}
	btns := buttons(rep)
	if len(btns) < 3 {
		t.Fatalf("want at least 3 candidate buttons, got %d:\n%s", len(btns), plain(rep))
	}
	var sys bot.Button
	for _, b := range btns {
		if b.Label == "system:default/payments" {
			sys = b
		}
	}
	if sys.Command != "show system:default/payments" {
		t.Fatalf("no button for system:default/payments among %+v", btns)
	}
	clicked := f.router.Click(ctx, slackReq(""), f.router.ButtonValue(sys))
	if clicked.IsError || !strings.Contains(plain(clicked), "system:default/payments") || !strings.Contains(plain(clicked), "Kind: System") {
		t.Fatalf("click answered:\n%s", plain(clicked))
	}
	if !clicked.ReplaceOriginal {
		t.Error("the answer to a picker does not replace the picker")
	}
	// A button on a card adds an answer instead.
	card := buttons(clicked)[0]
	if next := f.router.Click(ctx, slackReq(""), f.router.ButtonValue(card)); next.IsError || next.ReplaceOriginal {
		t.Errorf("card button %q: error %v, replace %v", card.Command, next.IsError, next.ReplaceOriginal)
	}
}

func TestClickRejectsForgedValues(t *testing.T) {
	f := newFixture(t)
	value := f.router.ButtonValue(bot.Button{Command: "who-owns payments-api"})
	forged := strings.Replace(value, value[5:8], "AAA", 1)
	for _, v := range []string{forged, "who-owns payments-api", ""} {
		rep := f.router.Click(context.Background(), slackReq(""), v)
		if !rep.IsError || !strings.Contains(plain(rep), "not valid") {
			t.Errorf("Click(%q) = %s; want a rejection", v, plain(rep))
		}
	}
	if n := f.count(t, "slack", "who-owns", "ok"); n != 0 {
		t.Errorf("a forged click ran who-owns %v times", n)
	}
}

func TestUserErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, text string
		want       []string
		buttons    []string
	}{
		{name: "unknown command", text: "whoowns-x payments", want: []string{`There is no command "whoowns-x"`, "/idp help lists every command"}},
		{name: "typo command", text: "serch ledger", want: []string{`Did you mean "search"?`}, buttons: []string{"search --help"}},
		{name: "missing argument", text: "who-owns", want: []string{"who-owns needs <entity>", "usage: /idp who-owns <entity>"}},
		{name: "too many arguments", text: "who-owns payments api", want: []string{"takes 1 argument", "quote a name"}},
		{name: "unknown flag", text: "search x --colour", want: []string{"search has no flag --colour", "usage: /idp search <text>... [--kind=KIND] [--limit=N]"}},
		{name: "bad limit", text: "search x --limit=500", want: []string{"--limit=500: give a whole number from 1 to 20"}},
		{name: "bad kind", text: "search x --kind=service", want: []string{"--kind=service is not a kind", "component, api"}},
		{name: "unclosed quote", text: `search "ledger`, want: []string{"could not read that command", "is not closed"}},
		{name: "unknown entity", text: "who-owns paymnts-api", want: []string{`Nothing in the catalog is called "paymnts-api". Did you mean`}, buttons: []string{"who-owns component:default/payments-api"}},
		{name: "unknown entity, no suggestion", text: "who-owns zzzzqqq", want: []string{"try /idp search zzzzqqq"}},
		{name: "team of a component", text: "team component:payments-api", want: []string{"is a component, not a team"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := f.router.Handle(context.Background(), slackReq(tt.text))
			got := plain(rep)
			if !rep.IsError {
				t.Fatalf("not an error:\n%s", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("reply lacks %q:\n%s", w, got)
				}
			}
			cmds := map[string]bool{}
			for _, b := range buttons(rep) {
				cmds[b.Command] = true
			}
			for _, b := range tt.buttons {
				if !cmds[b] {
					t.Errorf("no button running %q; have %v", b, cmds)
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	f := newFixture(t)
	for _, text := range []string{"", "help", "--help"} {
		got := plain(f.router.Handle(context.Background(), slackReq(text)))
		for _, cmd := range []string{"who-owns", "oncall", "search", "show", "team", "whoami", "help"} {
			if !strings.Contains(got, "/idp "+cmd) {
				t.Errorf("help for %q lacks %s:\n%s", text, cmd, got)
			}
		}
	}
	got := plain(f.router.Handle(context.Background(), slackReq("who-owns --help")))
	if !strings.Contains(got, "/idp who-owns <entity>") || !strings.Contains(got, "--public") || !strings.Contains(got, "/idp who-owns payments-api") {
		t.Errorf("who-owns --help:\n%s", got)
	}
	if got := plain(f.router.Handle(context.Background(), slackReq("help search"))); !strings.Contains(got, "--kind=KIND") {
		t.Errorf("help search:\n%s", got)
	}
}

func TestPublicFlag(t *testing.T) {
	f := newFixture(t)
	rep := f.router.Handle(context.Background(), slackReq("who-owns ledger --public"))
	if rep.IsError || rep.Visibility != bot.InChannel {
		t.Fatalf("--public: error %v, visibility %v", rep.IsError, rep.Visibility)
	}
}

func TestSearchShowTeam(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	got := plain(f.router.Handle(ctx, slackReq("search ledger --limit=3")))
	if !strings.Contains(got, "component:default/ledger") || !strings.Contains(got, "3 of ") {
		t.Errorf("search:\n%s", got)
	}
	got = plain(f.router.Handle(ctx, slackReq("search ledger --kind=api")))
	if !strings.Contains(got, "api:default/ledger-grpc-api") || strings.Contains(got, "component:default/ledger ") {
		t.Errorf("search --kind=api:\n%s", got)
	}
	got = plain(f.router.Handle(ctx, slackReq("search zzzzqqq")))
	if !strings.Contains(got, `Nothing in the catalog matches "zzzzqqq"`) {
		t.Errorf("empty search:\n%s", got)
	}
	got = plain(f.router.Handle(ctx, slackReq("show payments-api")))
	for _, want := range []string{"Kind: Component", "Lifecycle: production", "dependsOn:", "resource:default/payments-db", "providesApi:"} {
		if !strings.Contains(got, want) {
			t.Errorf("show lacks %q:\n%s", want, got)
		}
	}
	got = plain(f.router.Handle(ctx, slackReq("team payments")))
	for _, want := range []string{"Payments Team", "Members: @Alice Nguyen", "Components (", "component:default/payments-api"} {
		if !strings.Contains(got, want) {
			t.Errorf("team lacks %q:\n%s", want, got)
		}
	}
}

func TestTeamAndWhoAmIUseTheCallersIdentity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	got := plain(f.router.Handle(ctx, slackReq("whoami")))
	if !strings.Contains(got, "Alice Nguyen") || !strings.Contains(got, "user:default/alice.nguyen") {
		t.Errorf("whoami as U01ALICE:\n%s", got)
	}
	got = plain(f.router.Handle(ctx, slackReq("team")))
	if !strings.Contains(got, "Payments Team") {
		t.Errorf("team (mine) as U01ALICE:\n%s", got)
	}
	stranger := &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U0NOBODY"}, Text: "team"}
	rep := f.router.Handle(ctx, stranger)
	if !rep.IsError || !strings.Contains(plain(rep), "slack.com/user-id: U0NOBODY") {
		t.Errorf("team as an unknown user:\n%s", plain(rep))
	}
}

func TestOnCallWithoutIntegration(t *testing.T) {
	f := newFixture(t)
	got := plain(f.router.Handle(context.Background(), slackReq("oncall payments-api")))
	for _, want := range []string{"On call for Payments API", "No on-call source (rotations, PagerDuty, Opsgenie) is configured", "Paging: PagerDuty service PX7Q2LM", "Members: @Alice Nguyen"} {
		if !strings.Contains(got, want) {
			t.Errorf("oncall lacks %q:\n%s", want, got)
		}
	}
}

// fixedOnCall is an on-call source with a fixed answer.
type fixedOnCall struct {
	oc    *catalog.OnCall
	err   error
	block chan struct{} // when set, OnCall waits for it or the context
}

func (o fixedOnCall) OnCall(ctx context.Context, _ *catalog.Ownership) (*catalog.OnCall, error) {
	if o.block != nil {
		select {
		case <-o.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return o.oc, o.err
}

func TestOnCallFromASource(t *testing.T) {
	store := bottest.ExampleCatalog(t)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	bilal := catalog.Person{Ref: "user:default/bilal.haddad", DisplayName: "Bilal Haddad", SlackID: "U01BILAL"}
	carmen := catalog.Person{Ref: "user:default/carmen.ortiz", DisplayName: "Carmen Ortiz"}
	answer := &catalog.OnCall{
		AsOf: now,
		Now: []catalog.Shift{
			{Person: bilal, Level: 1, Schedule: "Payments primary", Source: "rotation", Start: now.Add(-time.Hour), End: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)},
			{Person: carmen, Level: 2, Schedule: "Payments secondary", Source: "rotation"},
		},
		Next: []catalog.Shift{{Person: carmen, Level: 1, Schedule: "Payments primary", Source: "rotation",
			Start: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}},
	}
	r := bottest.Router(t, store, bot.Config{OnCall: fixedOnCall{oc: answer}, Now: func() time.Time { return now }})
	got := plain(r.Handle(context.Background(), slackReq("oncall payments-api")))
	for _, want := range []string{
		"Payments primary: @Bilal Haddad until Fri 27 Nov 09:00 UTC",
		"Payments secondary (level 2): @Carmen Ortiz",
		"Next", "Payments primary: @Carmen Ortiz from Fri 27 Nov 09:00 UTC to Sat 28 Nov 09:00 UTC",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("oncall lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Members:") {
		t.Errorf("oncall with shifts still lists members as a fallback:\n%s", got)
	}
	got = plain(r.Handle(context.Background(), slackReq("who-owns payments-api")))
	if !strings.Contains(got, "On call: @Bilal Haddad until Fri 27 Nov 09:00 UTC, @Carmen Ortiz") {
		t.Errorf("who-owns lacks the on-call now:\n%s", got)
	}

	stale := *answer
	stale.AsOf, stale.Stale = now.Add(-3*time.Minute), true
	r = bottest.Router(t, store, bot.Config{OnCall: fixedOnCall{oc: &stale}, Now: func() time.Time { return now }})
	if got := plain(r.Handle(context.Background(), slackReq("oncall payments-api"))); !strings.Contains(got, "what it said 3 minutes ago") {
		t.Errorf("stale answer without its age:\n%s", got)
	}

	r = bottest.Router(t, store, bot.Config{OnCall: fixedOnCall{err: errors.New("pagerduty: 503 Service Unavailable")}})
	got = plain(r.Handle(context.Background(), slackReq("oncall payments-api")))
	if !strings.Contains(got, "did not answer (pagerduty: 503 Service Unavailable)") || !strings.Contains(got, "Members:") {
		t.Errorf("oncall with a failing source:\n%s", got)
	}
}

func TestOnCallNeverWaitsForAHangingSource(t *testing.T) {
	store := bottest.ExampleCatalog(t)
	hang := make(chan struct{})
	defer close(hang)
	r := bottest.Router(t, store, bot.Config{OnCall: fixedOnCall{block: hang}, OnCallBudget: 50 * time.Millisecond})
	rep := r.Handle(context.Background(), slackReq("who-owns payments-api"))
	if rep.IsError || !strings.Contains(plain(rep), "Owner: Payments Team") {
		t.Errorf("who-owns with a hanging source:\n%s", plain(rep))
	}
	rep = r.Handle(context.Background(), slackReq("oncall payments-api"))
	if rep.IsError || !strings.Contains(plain(rep), "did not answer") {
		t.Errorf("oncall with a hanging source:\n%s", plain(rep))
	}
}

func TestInternalErrorsShowOnlyTheRequestID(t *testing.T) {
	f := newFixture(t)
	err := f.router.Register(
		&bot.Command{Name: "boom", Args: []bot.Arg{{Name: "x", Rest: true}}, Run: func(context.Context, *bot.Call) (*bot.Reply, error) {
			return nil, errors.New("badger: value log corrupt at /secret/path")
		}},
		&bot.Command{Name: "panic", Args: []bot.Arg{{Name: "x", Rest: true}}, Run: func(context.Context, *bot.Call) (*bot.Reply, error) {
			panic("nil map")
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"boom", "panic"} {
		req := slackReq(cmd)
		rep := f.router.Handle(context.Background(), req)
		got := plain(rep)
		if !rep.IsError || !strings.Contains(got, req.ID) || strings.Contains(got, "/secret/path") || strings.Contains(got, "nil map") {
			t.Errorf("%s replied:\n%s", cmd, got)
		}
		if !strings.Contains(f.logs.String(), "request_id="+req.ID) {
			t.Errorf("%s: log lacks the request id:\n%s", cmd, f.logs.String())
		}
	}
	if n := f.count(t, "slack", "panic", "internal_error"); n != 1 {
		t.Errorf("internal_error count for panic = %v, want 1", n)
	}
	if err := f.router.Register(&bot.Command{Name: "search"}); err == nil {
		t.Error("registering a taken name succeeded")
	}
}

func TestComplete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	got, err := f.router.Complete(ctx, bot.CompleteEntity, "payments-a", 5)
	if err != nil || !slices.Contains(got, "component:default/payments-api") {
		t.Errorf("entities for payments-a = %v, %v", got, err)
	}
	got, err = f.router.Complete(ctx, bot.CompleteTeam, "pay", 5)
	if err != nil || len(got) != 1 || got[0] != "group:default/payments" {
		t.Errorf("teams for pay = %v, %v; want only group:default/payments", got, err)
	}
	got, _ = f.router.Complete(ctx, bot.CompleteCommand, "wh", 5)
	if !slices.Equal(got, []string{"who-owns", "whoami"}) {
		t.Errorf("commands for wh = %v", got)
	}
	got, _ = f.router.Complete(ctx, bot.CompleteEntity, "zzzz", 5)
	if len(got) != 0 {
		t.Errorf("entities for zzzz = %v", got)
	}
}

func TestCommandMetadata(t *testing.T) {
	f := newFixture(t)
	for _, c := range f.router.Commands() {
		if c.Summary == "" || c.Run == nil {
			t.Errorf("%s: missing summary or Run", c.Name)
		}
		for i, a := range c.Args {
			if a.Rest && i != len(c.Args)-1 {
				t.Errorf("%s: only the last argument may take the rest", c.Name)
			}
		}
	}
}

func scoringFixture(t *testing.T) *bot.Router {
	t.Helper()
	store := bottest.ExampleCatalog(t)
	cards, problems, err := scoring.Load([]string{filepath.Join(bottest.RepoRoot(t), "deploy", "examples", "scorecards")})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	return bottest.Router(t, store, bot.Config{Scorer: scoring.NewEvaluator(cards, store, nil)})
}

func TestScoreAndLeaderboard(t *testing.T) {
	r := scoringFixture(t)
	ctx := context.Background()
	got := plain(r.Handle(ctx, slackReq("score payments-gateway")))
	for _, want := range []string{"Scorecards of Payments Gateway", "Production readiness — Silver", "For Gold:", `no fact "coverage"`, "idpbot facts push"} {
		if !strings.Contains(got, want) {
			t.Errorf("score lacks %q:\n%s", want, got)
		}
	}
	got = plain(r.Handle(ctx, slackReq("score payments-rest-api --all")))
	if !strings.Contains(got, "API hygiene — Gold · score 100/100") || !strings.Contains(got, "✅ Has an owning team") {
		t.Errorf("score --all:\n%s", got)
	}
	if got := plain(r.Handle(ctx, slackReq("score group:payments"))); !strings.Contains(got, "No scorecard applies") {
		t.Errorf("score of a group:\n%s", got)
	}
	got = plain(r.Handle(ctx, slackReq("leaderboard production-readiness")))
	for _, want := range []string{"Production readiness leaderboard", "🥇 1. ", "Payments Team", "other scorecards: api-hygiene"} {
		if !strings.Contains(got, want) {
			t.Errorf("leaderboard lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Northwind Pay —") {
		t.Errorf("the organisation is ranked among teams:\n%s", got)
	}
	for _, text := range []string{"leaderboard production-readiness --team payments", "leaderboard production-readiness --team=payments"} {
		got = plain(r.Handle(ctx, slackReq(text)))
		if !strings.Contains(got, "Production readiness — Payments Team") || !strings.Contains(got, "payments-api") || strings.Contains(got, "cart-service") {
			t.Errorf("%s:\n%s", text, got)
		}
	}
	rep := r.Handle(ctx, slackReq("leaderboard nope"))
	if !rep.IsError || !strings.Contains(plain(rep), "use one of api-hygiene, production-readiness") {
		t.Errorf("unknown scorecard:\n%s", plain(rep))
	}
	if got := plain(r.Handle(ctx, slackReq("help"))); !strings.Contains(got, "/idp score <entity>") {
		t.Errorf("help lacks score:\n%s", got)
	}
}

func TestSpaceSeparatedFlagValues(t *testing.T) {
	f := newFixture(t)
	got := plain(f.router.Handle(context.Background(), slackReq("search ledger --limit 2")))
	if !strings.Contains(got, "2 of ") {
		t.Errorf("search --limit 2:\n%s", got)
	}
}
