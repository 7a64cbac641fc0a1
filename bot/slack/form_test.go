package slack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
)

// formEnv is a front door whose router runs the test actions. Runs are
// announced in their channel through the front door (chat.postMessage),
// as cmd wires it; views.open, chat.postMessage and chat.postEphemeral
// are recorded.
type formEnv struct {
	*env
	eng       *actions.Engine
	views     chan openedView
	posts     chan url.Values
	ephemeral chan url.Values
	// failViews makes views.open answer with this Slack error.
	failViews string
	// start is when the env was made: the catalog (and its runs) is
	// shared by the package's tests.
	start time.Time
}

// openedView is one views.open call: the trigger and the view as sent.
type openedView struct {
	TriggerID string          `json:"trigger_id"`
	View      json.RawMessage `json:"view"`
}

// formOptions adjust a formEnv.
type formOptions struct {
	// failViews makes views.open answer with this Slack error.
	failViews string
	binders   []slacktest.Binder
	cfg       func(*Config)
	// engine, when set, is what the router gets instead of the engine.
	engine func(*actions.Engine) bot.ActionEngine
}

func newFormEnv(t *testing.T, o formOptions) *formEnv {
	t.Helper()
	failViews, more := o.failViews, o.binders
	fe := &formEnv{views: make(chan openedView, 4), posts: make(chan url.Values, 4), ephemeral: make(chan url.Values, 4), failViews: failViews, start: time.Now()}
	n := &bottest.Notifier{}
	fe.eng = bottest.ActionEngine(t, store, n)
	fe.env = newEnv(t, envOptions{
		cfg: o.cfg,
		router: func(c *bot.Config) {
			c.Actions = fe.eng
			if o.engine != nil {
				c.Actions = o.engine(fe.eng)
			}
		},
		api: func(c slacktest.Customize) {
			c.Handle("/views.open", fe.viewsOpen)
			c.Handle("/chat.postMessage", fe.record(fe.posts))
			c.Handle("/chat.postEphemeral", fe.record(fe.ephemeral))
			for _, b := range more {
				b(c)
			}
		},
	})
	n.SetPost(fe.fd.PostMessage)
	return fe
}

// viewsOpen is the views.open method slacktest lacks (slack-go posts it
// as JSON).
func (fe *formEnv) viewsOpen(w http.ResponseWriter, r *http.Request) {
	var v openedView
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil || r.Header.Get("Authorization") != "Bearer "+testBotToken {
		http.Error(w, "bad views.open", http.StatusBadRequest)
		return
	}
	fe.views <- v
	if fe.failViews != "" {
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": fe.failViews})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "view": map[string]any{"id": "V0FORM"}})
}

func (fe *formEnv) record(ch chan url.Values) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ch <- r.PostForm
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.PostForm.Get("channel"), "ts": "1760000100.000200", "message_ts": "1760000100.000200"})
	}
}

func next[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-deadline(t):
		t.Fatalf("no %s", what)
	}
	var zero T
	return zero
}

// quiet checks, once the front door and the engine have finished their
// work, that nothing more was posted.
func (fe *formEnv) quiet(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fe.fd.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	fe.eng.Wait()
	if n := len(fe.posts) + len(fe.ephemeral) + len(fe.views) + len(fe.sink.posts); n != 0 {
		t.Errorf("%d unexpected posts (messages %d, ephemeral %d, views %d, response_url %d)", n, len(fe.posts), len(fe.ephemeral), len(fe.views), len(fe.sink.posts))
	}
}

// runs lists alice's runs requested since the env was made.
func (fe *formEnv) runs(t *testing.T) []*actions.Run {
	t.Helper()
	all, err := fe.eng.List(context.Background(), actions.RunFilter{Requester: "user:default/alice.nguyen"}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var runs []*actions.Run
	for _, r := range all {
		if !r.CreatedAt.Before(fe.start) {
			runs = append(runs, r)
		}
	}
	return runs
}

// wireView is a modal as views.open got it, decoded loosely.
type wireView struct {
	Type            string      `json:"type"`
	CallbackID      string      `json:"callback_id"`
	PrivateMetadata string      `json:"private_metadata"`
	Title           wireText    `json:"title"`
	Submit          wireText    `json:"submit"`
	Close           wireText    `json:"close"`
	Blocks          []wireBlock `json:"blocks"`
}

type wireText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type wireBlock struct {
	Type     string    `json:"type"`
	BlockID  string    `json:"block_id"`
	Optional bool      `json:"optional"`
	Label    wireText  `json:"label"`
	Hint     *wireText `json:"hint"`
	Element  struct {
		Type          string    `json:"type"`
		ActionID      string    `json:"action_id"`
		InitialValue  string    `json:"initial_value"`
		Multiline     bool      `json:"multiline"`
		MinLength     int       `json:"min_length"`
		MaxLength     int       `json:"max_length"`
		MinValue      string    `json:"min_value"`
		MaxValue      string    `json:"max_value"`
		Placeholder   *wireText `json:"placeholder"`
		InitialOption *struct {
			Value string `json:"value"`
		} `json:"initial_option"`
		Options []struct {
			Text  wireText `json:"text"`
			Value string   `json:"value"`
		} `json:"options"`
	} `json:"element"`
}

func decodeView(t *testing.T, raw json.RawMessage) wireView {
	t.Helper()
	var v wireView
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("view: %v\n%s", err, raw)
	}
	return v
}

func (v wireView) block(t *testing.T, id string) wireBlock {
	t.Helper()
	for _, b := range v.Blocks {
		if b.BlockID == id {
			return b
		}
	}
	t.Fatalf("view has no block %q", id)
	return wireBlock{}
}

// openForm runs /idp text and returns the modal it opened.
func (fe *formEnv) openForm(t *testing.T, text string) (openedView, wireView) {
	t.Helper()
	resp, body := fe.slash(t, text, fe.sink.url("/slash"))
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("acknowledgement %d %q, want an empty 200", resp.StatusCode, body)
	}
	ov := next(t, fe.views, "views.open")
	return ov, decodeView(t, ov.View)
}

func TestFormOpensModal(t *testing.T) {
	fe := newFormEnv(t, formOptions{})
	ov, v := fe.openForm(t, "run restart-service env=prod")
	if ov.TriggerID != slashForm("", "").Get("trigger_id") {
		t.Errorf("trigger_id %q", ov.TriggerID)
	}
	if v.Type != "modal" || v.CallbackID != FormCallbackID || v.Title.Text != "Restart a service" || v.Submit.Text != "Request" || v.Close.Text != "Cancel" {
		t.Errorf("view %+v", v)
	}
	if !strings.HasPrefix(v.PrivateMetadata, "f1.") || len(v.PrivateMetadata) > 100 {
		t.Errorf("private_metadata %q", v.PrivateMetadata)
	}
	if len(v.Blocks) != 4 || v.Blocks[0].Type != "section" {
		t.Fatalf("blocks %+v", v.Blocks)
	}
	svc := v.block(t, "service")
	if svc.Type != "input" || svc.Optional || svc.Element.Type != "plain_text_input" || svc.Element.ActionID != formActionID ||
		svc.Element.Placeholder == nil || svc.Element.Placeholder.Text != "a component name or ref" || svc.Hint == nil || !strings.Contains(svc.Hint.Text, "the service to restart") {
		t.Errorf("service %+v", svc)
	}
	env := v.block(t, "env")
	if !env.Optional || env.Element.Type != "static_select" || len(env.Element.Options) != 2 || env.Element.InitialOption == nil || env.Element.InitialOption.Value != "prod" {
		t.Errorf("env %+v", env)
	}
	reason := v.block(t, "reason")
	if reason.Optional || !reason.Element.Multiline || reason.Element.MinLength != 5 || reason.Element.MaxLength != 200 {
		t.Errorf("reason %+v", reason)
	}
	checkGolden(t, "form-restart-service", mustReadable(t, ov.View))
	fe.quiet(t)
}

func TestFormModalEveryType(t *testing.T) {
	fe := newFormEnv(t, formOptions{})
	ov, v := fe.openForm(t, "run provision-database ticket=CHG-42 size=8")
	if v.Title.Text != "Provision a database" || len(v.Blocks) != 8 {
		t.Fatalf("view %+v", v)
	}
	if name := v.block(t, "name"); name.Element.Type != "plain_text_input" || name.Element.Multiline || !strings.Contains(name.Hint.Text, "must match [a-z][a-z0-9-]{2,30}") {
		t.Errorf("name %+v", name)
	}
	team := v.block(t, "team")
	if team.Element.Type != "static_select" || len(team.Element.Options) == 0 || team.Element.InitialOption != nil {
		t.Errorf("team %+v", team)
	}
	for _, o := range team.Element.Options {
		if !strings.HasPrefix(o.Value, "group:default/") || len([]rune(o.Text.Text)) > maxOptionTextChars {
			t.Errorf("team option %+v", o)
		}
	}
	if size := v.block(t, "size"); size.Element.Type != "number_input" || size.Element.InitialValue != "8" || size.Element.MinValue != "1" || size.Element.MaxValue != "64" {
		t.Errorf("size %+v", size)
	}
	if region := v.block(t, "region"); region.Element.Type != "static_select" || region.Optional {
		t.Errorf("region %+v", region)
	}
	if ret := v.block(t, "retention"); ret.Element.Type != "plain_text_input" || ret.Element.Placeholder.Text != "e.g. 4h" {
		t.Errorf("retention %+v", ret)
	}
	if repl := v.block(t, "replicated"); repl.Element.Type != "static_select" || len(repl.Element.Options) != 2 {
		t.Errorf("replicated %+v", repl)
	}
	if ticket := v.block(t, "ticket"); ticket.Element.Type != "plain_text_input" || ticket.Element.InitialValue != "" || ticket.Optional {
		t.Errorf("ticket %+v", ticket)
	}
	if strings.Contains(string(ov.View), "CHG-42") {
		t.Error("the secret typed with the command is in the modal")
	}
	checkGolden(t, "form-provision-database", mustReadable(t, ov.View))
	fe.quiet(t)
}

// viewSubmission is the form body of a view_submission of the opened
// view, by userID, with private_metadata and the values by block_id
// (a value "option:x" selects x). The view's id is the same for every
// submission of one opened view, as Slack's is.
func viewSubmission(t *testing.T, ov openedView, userID, metadata string, values map[string]string) string {
	t.Helper()
	var view map[string]any
	if err := json.Unmarshal(ov.View, &view); err != nil {
		t.Fatal(err)
	}
	state := map[string]any{}
	for id, v := range values {
		if opt, ok := strings.CutPrefix(v, "option:"); ok {
			state[id] = map[string]any{formActionID: map[string]any{"type": "static_select", "selected_option": map[string]any{"text": map[string]any{"type": "plain_text", "text": opt}, "value": opt}}}
		} else {
			state[id] = map[string]any{formActionID: map[string]any{"type": "plain_text_input", "value": v}}
		}
	}
	// Slack's view id: the same for every submission of one opened view.
	sum := sha256.Sum256(ov.View)
	id := "V0" + strings.ToUpper(hex.EncodeToString(sum[:5]))
	view["id"], view["team_id"], view["state"], view["private_metadata"] = id, "T0NORTHWIND", map[string]any{"values": state}, metadata
	payload := map[string]any{
		"type":       "view_submission",
		"team":       map[string]any{"id": "T0NORTHWIND", "domain": "northwind"},
		"user":       map[string]any{"id": userID, "username": "someone", "name": "someone", "team_id": "T0NORTHWIND"},
		"api_app_id": "A0IDPBOT",
		"token":      "legacy-verification-token",
		"trigger_id": "13345224609.738474920.8088930838d88f008e1",
		"view":       view,
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"payload": {string(b)}}.Encode()
}

// submit posts a signed view_submission and decodes the answer.
func (fe *formEnv) submit(t *testing.T, body string) map[string]any {
	t.Helper()
	resp, out := fe.do(t, signed(t, fe.srv.URL+InteractivityPath, testNow, body))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, out)
	}
	if len(out) == 0 {
		return nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	return m
}

func TestFormSubmission(t *testing.T) {
	fe := newFormEnv(t, formOptions{})
	ov, v := fe.openForm(t, "run restart-service")
	good := map[string]string{"service": "payments-api", "env": "option:prod", "reason": "OOM loop since 10:40"}

	t.Run("invalid values: inline errors, no run", func(t *testing.T) {
		ans := fe.submit(t, viewSubmission(t, ov, "U01ALICE", v.PrivateMetadata, map[string]string{"service": "paymnets-api", "env": "option:prod", "reason": "oom"}))
		errs, _ := ans["errors"].(map[string]any)
		if ans["response_action"] != "errors" || len(errs) != 2 {
			t.Fatalf("answer %v", ans)
		}
		if s, _ := errs["service"].(string); !strings.HasPrefix(s, "No component named") || !strings.Contains(s, "payments-api") {
			t.Errorf("service error %q", s)
		}
		if s, _ := errs["reason"].(string); !strings.HasPrefix(s, "Too short") || !strings.Contains(s, "at least 5") {
			t.Errorf("reason error %q", s)
		}
	})
	refusals := []struct {
		name, user, metadata, want string
	}{
		{"tampered metadata", "U01ALICE", v.PrivateMetadata[:len(v.PrivateMetadata)-3] + "xyz", "not valid"},
		{"metadata of another kind", "U01ALICE", "C04PAYMENTS", "not valid"},
		{"another user", "U01BILAL", v.PrivateMetadata, "opened by someone else"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			ans := fe.submit(t, viewSubmission(t, ov, tc.user, tc.metadata, good))
			errs, _ := ans["errors"].(map[string]any)
			if s, _ := errs["service"].(string); ans["response_action"] != "errors" || !strings.Contains(s, tc.want) {
				t.Fatalf("answer %v, want the refusal %q on the first field", ans, tc.want)
			}
		})
	}
	if n := len(fe.runs(t)); n != 0 {
		t.Fatalf("%d runs after refused submissions", n)
	}

	t.Run("valid values: the run is requested in the form's channel", func(t *testing.T) {
		ans := fe.submit(t, viewSubmission(t, ov, "U01ALICE", v.PrivateMetadata, good))
		if ans["response_action"] != "clear" {
			t.Fatalf("answer %v", ans)
		}
		approval := next(t, fe.posts, "approval request")
		if approval.Get("channel") != "C04PAYMENTS" || !strings.Contains(approval.Get("text"), "asks to run Restart a service") || !strings.Contains(approval.Get("blocks"), "Approve") {
			t.Errorf("approval request %v", approval)
		}
		confirm := next(t, fe.ephemeral, "confirmation")
		if confirm.Get("channel") != "C04PAYMENTS" || confirm.Get("user") != "U01ALICE" || !strings.HasPrefix(confirm.Get("text"), "Requested Restart a service") {
			t.Errorf("confirmation %v", confirm)
		}
		runs := fe.runs(t)
		if len(runs) != 1 || runs[0].Inputs["env"] != "prod" || runs[0].Origin.Channel != "C04PAYMENTS" || runs[0].Origin.Platform != "slack" {
			t.Fatalf("runs %+v", runs)
		}
	})
	t.Run("a view that is not a form", func(t *testing.T) {
		if ans := fe.submit(t, strings.Replace(viewSubmission(t, ov, "U01ALICE", v.PrivateMetadata, good), FormCallbackID, "someone-elses-modal", 1)); ans != nil {
			t.Errorf("answer %v, want an empty acknowledgement", ans)
		}
	})
	fe.quiet(t)
	if n := len(fe.runs(t)); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
}

func TestFormFromButton(t *testing.T) {
	fe := newFormEnv(t, formOptions{})
	value := fe.fd.router.ButtonValue(bot.Button{Command: "run restart-service"})
	resp, body := fe.click(t, actionPrefix+"0", value, fe.sink.url("/click"))
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("click ack %d %q", resp.StatusCode, body)
	}
	ov := next(t, fe.views, "views.open")
	if v := decodeView(t, ov.View); v.CallbackID != FormCallbackID || len(v.Blocks) != 4 {
		t.Errorf("view %+v", v)
	}
	fe.quiet(t)
}

func TestFormFallsBackToUsage(t *testing.T) {
	t.Run("no trigger_id", func(t *testing.T) {
		fe := newFormEnv(t, formOptions{})
		form := slashForm("run restart-service", fe.sink.url("/slash"))
		form.Del("trigger_id")
		resp, body := fe.do(t, signed(t, fe.srv.URL+CommandsPath, testNow, form.Encode()))
		m := ackMessage(t, resp, body)
		if !strings.Contains(m.Text, "service: required, not given") || !strings.Contains(m.Text, "usage: /idp run restart-service") {
			t.Errorf("reply %q", m.Text)
		}
		fe.quiet(t)
	})
	t.Run("views.open fails", func(t *testing.T) {
		fe := newFormEnv(t, formOptions{failViews: "expired_trigger_id"})
		fe.openForm(t, "run restart-service")
		p := fe.sink.next(t)
		if p.path != "/slash" || !strings.Contains(p.msg.Text, "usage: /idp run restart-service") || p.msg.ResponseType != "ephemeral" {
			t.Errorf("fallback %s %+v", p.path, p.msg)
		}
		fe.quiet(t)
	})
}

// mustReadable is raw JSON indented for a golden file.
func mustReadable(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, err := readableJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFormSocketMode(t *testing.T) {
	sock := newFakeSocket()
	fe := newFormEnv(t, formOptions{binders: []slacktest.Binder{sock.bind}})
	runSocket(t, fe.env)
	sock.send(t, "env-form", "slash_commands", slashPayload("run restart-service", fe.sink.url("/sm-form")))
	if a := sock.ack(t); a.EnvelopeID != "env-form" || len(a.Payload) != 0 {
		t.Fatalf("ack %s with payload %s, want an empty ack", a.EnvelopeID, a.Payload)
	}
	ov := next(t, fe.views, "views.open")
	v := decodeView(t, ov.View)
	submission := func(values map[string]string) map[string]any {
		t.Helper()
		form, err := url.ParseQuery(viewSubmission(t, ov, "U01ALICE", v.PrivateMetadata, values))
		if err != nil {
			t.Fatal(err)
		}
		var payload map[string]any
		if err := json.Unmarshal([]byte(form.Get("payload")), &payload); err != nil {
			t.Fatal(err)
		}
		return payload
	}

	sock.send(t, "env-bad", "interactive", submission(map[string]string{"service": "payments-api", "reason": "oom"}))
	a := sock.ack(t)
	var ans map[string]any
	if err := json.Unmarshal(a.Payload, &ans); err != nil || a.EnvelopeID != "env-bad" || ans["response_action"] != "errors" {
		t.Fatalf("ack %s: %s", a.EnvelopeID, a.Payload)
	}
	sock.send(t, "env-good", "interactive", submission(map[string]string{"service": "payments-api", "reason": "OOM loop since 10:40"}))
	a = sock.ack(t)
	if err := json.Unmarshal(a.Payload, &ans); err != nil || a.EnvelopeID != "env-good" || ans["response_action"] != "clear" {
		t.Fatalf("ack %s: %s", a.EnvelopeID, a.Payload)
	}
	if p := next(t, fe.posts, "approval request"); p.Get("channel") != "C04PAYMENTS" {
		t.Errorf("approval request in %q", p.Get("channel"))
	}
	next(t, fe.ephemeral, "confirmation")
	fe.quiet(t)
	if n := len(fe.runs(t)); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
}

// TestFormSubmissionSlow: a submission not handled within the
// acknowledgement budget closes the form at once; the outcome is posted in
// the form's channel when ready.
func TestFormSubmissionSlow(t *testing.T) {
	fe := newFormEnv(t, formOptions{cfg: func(c *Config) { c.AckBudget = 10 * time.Millisecond }})
	rep := fe.fd.router.Handle(context.Background(), &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U01ALICE"}, ChannelID: "C04PAYMENTS", Text: "run restart-service", Forms: true})
	if rep.Form == nil {
		t.Fatal("no form")
	}
	view, err := ModalView(rep.Form)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(view)
	gate := make(chan struct{})
	fe.cat.gate = gate // nothing reads it until the submission below
	ans := fe.submit(t, viewSubmission(t, openedView{View: raw}, "U01ALICE", rep.Form.State, map[string]string{"service": "payments-api", "reason": "OOM loop since 10:40"}))
	if ans["response_action"] != "clear" {
		t.Fatalf("answer %v", ans)
	}
	close(gate)
	if p := next(t, fe.posts, "approval request"); p.Get("channel") != "C04PAYMENTS" {
		t.Errorf("approval request in %q", p.Get("channel"))
	}
	if c := next(t, fe.ephemeral, "outcome"); c.Get("user") != "U01ALICE" || !strings.HasPrefix(c.Get("text"), "Requested Restart a service") {
		t.Errorf("outcome %v", c)
	}
	fe.quiet(t)
}
