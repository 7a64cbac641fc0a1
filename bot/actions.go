package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/catalog"
)

// ActionEngine is what the action commands use; *actions.Engine satisfies
// it.
type ActionEngine interface {
	Actions() []*actions.Action
	Available(ctx context.Context, actor string) ([]actions.Available, error)
	Bind(ctx context.Context, actionID string, params map[string]string) (actions.Inputs, error)
	Request(ctx context.Context, actor, actionID string, in actions.Inputs, origin actions.Origin) (*actions.Run, error)
	Approve(ctx context.Context, runID, actor string) (*actions.Decision, error)
	Reject(ctx context.Context, runID, actor, note string) (*actions.Decision, error)
	Cancel(ctx context.Context, runID, actor string) (*actions.Decision, error)
	List(ctx context.Context, f actions.RunFilter, limit int) ([]*actions.Run, error)
	Message(ctx context.Context, runID string) (*actions.Message, error)
}

var _ ActionEngine = (*actions.Engine)(nil)

// maxRunsShown bounds the runs listing.
const maxRunsShown = 15

func actionCommands(r *Router) []*Command {
	return []*Command{
		{
			Name: "actions", Summary: "the self-service actions you may run",
			Run: r.listActions,
		},
		{
			Name: "run", Summary: "request a self-service action (approvers are asked in the channel)",
			Help: "Checks the inputs and your right to ask, then posts the approval request in the channel; " +
				"the action runs once when the required approvers have approved. Inputs are name=value; quote values with spaces. " +
				"In Slack and Discord, when required inputs are missing, a form opens for them.",
			Args:     []Arg{{Name: "action", Help: "the action (see /idp actions)", Required: true}, {Name: "inputs", Help: "name=value pairs", Rest: true}},
			Examples: []string{`run restart-service service=payments-api env=prod reason="OOM loop"`},
			Run:      r.runAction,
		},
		{
			Name: "runs", Summary: "recent action runs (open ones, or yours), or one run",
			Args:     []Arg{{Name: "run", Help: "a run id"}},
			Flags:    []Flag{{Name: "mine", Help: "only the runs you requested"}},
			Examples: []string{"runs", "runs --mine", "runs 3fQ2…"},
			Run:      r.listRuns,
		},
		{
			Name: "cancel", Summary: "cancel a run you requested, before it runs",
			Args: []Arg{{Name: "run", Help: "the run id", Required: true}},
			Run:  r.cancelRun,
		},
		{
			Name: "approve", Summary: "approve a run (what the Approve button does)",
			Args: []Arg{{Name: "run", Help: "the run id", Required: true}},
			Run:  r.approveRun,
		},
		{
			Name: "reject", Summary: "reject a run, with a reason (what the Reject button does)",
			Args: []Arg{{Name: "run", Help: "the run id", Required: true}, {Name: "reason", Help: "why", Rest: true}},
			Run:  r.rejectRun,
		},
	}
}

// actionError turns the engine's user-safe errors into chat answers.
func actionError(c *Call, err error) error {
	var ie *actions.InputError
	var ue *actions.UserError
	switch {
	case errors.As(err, &ie):
		var lines []string
		for _, p := range ie.Problems {
			lines = append(lines, "• "+p.String())
		}
		e := Errorf("%s", "The inputs of "+ie.Action+" are not right:\n"+strings.Join(lines, "\n"))
		e.Hint = "usage: " + cmdline(c.Request, "run "+ie.Usage)
		return e
	case errors.As(err, &ue):
		return &UserError{Message: ue.Message, Hint: ue.Hint}
	}
	return err
}

func (r *Router) caller(ctx context.Context, c *Call) (string, error) {
	me, err := c.Caller(ctx)
	if err != nil {
		return "", err
	}
	return me.Ref().String(), nil
}

func (r *Router) listActions(ctx context.Context, c *Call) (*Reply, error) {
	me, err := r.caller(ctx, c)
	if err != nil {
		return nil, err
	}
	avail, err := r.actions.Available(ctx, me)
	if err != nil {
		return nil, actionError(c, err)
	}
	rep := &Reply{Text: fmt.Sprintf("You may run %s.", plural(len(avail), "action"))}
	rep.Blocks = append(rep.Blocks, &Header{Text: "Actions you may run"})
	if len(avail) == 0 {
		rep.Blocks = append(rep.Blocks, &Section{Text: T("None: no action lists you (or your teams) as a runner.")})
		return rep, nil
	}
	for _, a := range avail {
		t := Text{B(a.Action.Title), P(" "), C(a.Action.ID)}
		if a.Action.Description != "" {
			t = append(t, P("\n"+oneLine(a.Action.Description, 200)))
		}
		t = append(t, P("\n"), C(cmdline(c.Request, "run "+a.Action.Usage())))
		if a.ForTargets {
			t = append(t, P("\n(for the services you own or are on call for)"))
		}
		rep.Blocks = append(rep.Blocks, &Section{Text: t})
	}
	// A button per action opens the form of its inputs, prefilled with the
	// defaults, for whoever clicks: one click never runs anything. Where
	// no form can be shown, the answer says how to type the command.
	var run []Button
	for _, a := range avail {
		run = append(run, Button{Label: "Run " + a.Action.ID, Command: "run " + a.Action.ID, Form: true})
	}
	rep.Blocks = append(rep.Blocks, &Actions{Buttons: run})
	return rep, nil
}

func (r *Router) runAction(ctx context.Context, c *Call) (*Reply, error) {
	me, err := r.caller(ctx, c)
	if err != nil {
		return nil, err
	}
	params := map[string]string{}
	for k, v := range c.Args.Params {
		params[k] = v
	}
	// Typed front doors (Discord) hand the inputs over as one option:
	// "service=payments-api reason=\"OOM loop\"" — split it the same way.
	for _, w := range c.Args.Words[1:] {
		more, err := ParseArgs(w)
		if err != nil {
			return nil, Errorf("I could not read the inputs: %v.", err).WithHint("inputs are name=value; quote values with spaces: reason=\"OOM loop\"")
		}
		if len(more.Words) > 0 || len(more.Flags) > 0 {
			return nil, Errorf("Inputs are name=value; %q is not.", w).WithHint("quote values with spaces: reason=\"OOM loop\"")
		}
		for k, v := range more.Params {
			params[k] = v
		}
	}
	id := c.Args.Words[0]
	in, err := r.actions.Bind(ctx, id, params)
	if err != nil {
		if rep, ok, ferr := r.offerForm(ctx, c, me, params, err); ferr != nil || ok {
			return rep, ferr
		}
		return nil, actionError(c, err)
	}
	rep, _, err := r.requestRun(ctx, c, me, id, in)
	return rep, err
}

// requestRun asks for a run of bound inputs, as me from the request's
// channel, and answers with the run's message (the approval request
// itself is posted in the channel by the engine's notifier). Once the
// engine has stored the run, the answer is never an error: a failure
// after that is logged and the answer is made from the run, so that
// nobody is invited to ask a second time.
func (r *Router) requestRun(ctx context.Context, c *Call, me, id string, in actions.Inputs) (*Reply, *actions.Run, error) {
	origin := actions.Origin{Via: "chat", Platform: string(c.Request.Platform), Channel: c.Request.ChannelID}
	run, err := r.actions.Request(ctx, me, id, in, origin)
	if err != nil {
		return nil, nil, actionError(c, err)
	}
	m, err := r.actions.Message(ctx, run.ID)
	if err != nil {
		r.log.ErrorContext(ctx, "run requested; its message failed", "request_id", c.Request.ID, "platform", c.Request.Platform,
			"user_id", c.Request.User.ID, "action", run.Action, "run_id", run.ID, "error", err.Error())
		return requestedReply(c.Request, run), run, nil
	}
	rep := RunMessage(m)
	rep.Visibility = Ephemeral // the in-channel copy is posted by the notifier
	if m.AwaitingApproval {
		rep.Text = fmt.Sprintf("Requested %s (run %s): the approval request is in the channel.", run.Title, run.ID)
	}
	return rep, run, nil
}

// requestedReply is the answer to a run whose message could not be made:
// what was requested, its status, and how to see it later.
func requestedReply(req *Request, run *actions.Run) *Reply {
	rep := &Reply{Text: fmt.Sprintf("Requested %s (run %s): %s.", run.Title, run.ID, statusLabel(run.Status))}
	rep.Blocks = append(rep.Blocks,
		&Section{Text: Text{P("Requested "), B(run.Title), P(" (run "), C(run.ID), P("): " + statusLabel(run.Status) + ".")}},
		&Context{Text: Text{C(cmdline(req, "runs "+run.ID)), P(" shows it as it goes.")}})
	return rep
}

func (r *Router) listRuns(ctx context.Context, c *Call) (*Reply, error) {
	if len(c.Args.Words) == 1 {
		m, err := r.actions.Message(ctx, c.Args.Words[0])
		if err != nil {
			return nil, actionError(c, err)
		}
		return RunMessage(m), nil
	}
	f := actions.RunFilter{Open: true}
	title := "Open runs"
	if _, mine := c.Flag("mine"); mine {
		me, err := r.caller(ctx, c)
		if err != nil {
			return nil, err
		}
		f = actions.RunFilter{Requester: me}
		title = "Your runs"
	}
	runs, err := r.actions.List(ctx, f, maxRunsShown+1)
	if err != nil {
		return nil, err
	}
	rep := &Reply{Text: fmt.Sprintf("%s: %d.", title, len(runs))}
	rep.Blocks = append(rep.Blocks, &Header{Text: title})
	if len(runs) == 0 {
		rep.Blocks = append(rep.Blocks, &Section{Text: T("None.")})
		return rep, nil
	}
	rep.Blocks = append(rep.Blocks, &Section{Text: capped(len(runs), maxRunsShown, "\n", "\n…and more", func(i int) Text {
		run := runs[i]
		t := Text{C(run.ID), P(" "), B(run.Title), P(" — " + statusLabel(run.Status) + " · by " + catalog.MustParseRef(run.Requester).Name + " · "), When(run.CreatedAt)}
		if run.Target != "" {
			t = append(t, P(" · "+catalog.MustParseRef(run.Target).Name))
		}
		return t
	})})
	return rep, nil
}

func (r *Router) cancelRun(ctx context.Context, c *Call) (*Reply, error) {
	me, err := r.caller(ctx, c)
	if err != nil {
		return nil, err
	}
	d, err := r.actions.Cancel(ctx, c.Args.Words[0], me)
	return decisionReply(c, d, err)
}

func (r *Router) approveRun(ctx context.Context, c *Call) (*Reply, error) {
	me, err := r.caller(ctx, c)
	if err != nil {
		return nil, err
	}
	d, err := r.actions.Approve(ctx, c.Args.Words[0], me)
	return decisionReply(c, d, err)
}

func (r *Router) rejectRun(ctx context.Context, c *Call) (*Reply, error) {
	me, err := r.caller(ctx, c)
	if err != nil {
		return nil, err
	}
	d, err := r.actions.Reject(ctx, c.Args.Words[0], me, strings.Join(c.Args.Words[1:], " "))
	return decisionReply(c, d, err)
}

// decisionReply answers the person who clicked (only them): what their
// click did. The message in the channel is updated by the notifier.
func decisionReply(c *Call, d *actions.Decision, err error) (*Reply, error) {
	if err != nil {
		return nil, actionError(c, err)
	}
	return &Reply{Text: d.Message, Blocks: []Block{&Section{Text: T(d.Message)}}}, nil
}

func statusLabel(s actions.Status) string {
	labels := map[actions.Status]string{
		actions.StatusAwaitingApproval: "⏳ awaiting approval",
		actions.StatusApproved:         "✅ approved",
		actions.StatusRunning:          "⚙️ running",
		actions.StatusSucceeded:        "✅ succeeded",
		actions.StatusFailed:           "❌ failed",
		actions.StatusRejected:         "🚫 rejected",
		actions.StatusExpired:          "⌛ expired",
		actions.StatusCancelled:        "↩️ cancelled",
		actions.StatusUnknown:          "❓ outcome unknown — check",
	}
	if l, ok := labels[s]; ok {
		return l
	}
	return string(s)
}

// RunMessage renders an action run: who asks what and why, the inputs
// (secrets redacted by the engine), the policy and the approvals so far,
// the outcome, and Approve/Reject buttons while it awaits approval. It is
// posted in channel and edited as the run progresses.
func RunMessage(m *actions.Message) *Reply {
	rep := &Reply{Visibility: InChannel}
	rep.Text = fmt.Sprintf("%s asks to run %s (%s): %s.", m.Requester.DisplayName, m.Title, m.RunID, statusLabel(m.Status))
	rep.Blocks = append(rep.Blocks, &Header{Text: m.Title})
	head := Text{Mention(m.Requester.DisplayName, personIDs(m.Requester)), P(" asks to run "), B(m.Title)}
	if m.Target != "" {
		head = append(head, P(" on "), C(m.Target))
	}
	if m.Reason != "" {
		head = append(head, P("\nWhy: "+oneLine(m.Reason, 300)))
	}
	sec := &Section{Text: head}
	var inputs []string
	for _, f := range m.Inputs {
		inputs = append(inputs, f.Name+"="+oneLine(f.Value, 100))
	}
	if len(inputs) > 0 {
		sec.Fields = append(sec.Fields, Field{Label: "Inputs", Value: T(strings.Join(inputs, "  "))})
	}
	sec.Fields = append(sec.Fields, Field{Label: "Status", Value: T(statusLabel(m.Status))})
	if m.Policy != "" {
		sec.Fields = append(sec.Fields, Field{Label: "Policy", Value: T(m.Policy)})
	}
	if m.Required > 0 || len(m.Approvals) > 0 {
		v := Text{P(fmt.Sprintf("%d of %d", len(m.Approvals), m.Required))}
		for i, a := range m.Approvals {
			if i == 0 {
				v = append(v, P(": "))
			} else {
				v = append(v, P(", "))
			}
			v = append(v, Mention(a.Person.DisplayName, personIDs(a.Person)), P(" "), When(a.At))
		}
		sec.Fields = append(sec.Fields, Field{Label: "Approvals", Value: v})
	}
	if d := m.Rejection; d != nil {
		v := Text{Mention(d.Person.DisplayName, personIDs(d.Person)), P(" "), When(d.At)}
		if d.Note != "" {
			v = append(v, P(": "+oneLine(d.Note, 200)))
		}
		sec.Fields = append(sec.Fields, Field{Label: "Rejected by", Value: v})
	}
	if d := m.Cancelled; d != nil {
		sec.Fields = append(sec.Fields, Field{Label: "Cancelled by", Value: Text{Mention(d.Person.DisplayName, personIDs(d.Person)), P(" "), When(d.At)}})
	}
	if m.AwaitingApproval && !m.ExpiresAt.IsZero() {
		sec.Fields = append(sec.Fields, Field{Label: "Expires", Value: Text{When(m.ExpiresAt)}})
	}
	if !m.FinishedAt.IsZero() {
		sec.Fields = append(sec.Fields, Field{Label: "Finished", Value: Text{When(m.FinishedAt), P(fmt.Sprintf(" after %s", plural(max(m.Attempts, 1), "attempt")))}})
	}
	rep.Blocks = append(rep.Blocks, sec)
	if m.Output != "" {
		rep.Blocks = append(rep.Blocks, &Section{Text: Text{B("Output"), P("\n"), C(oneLine(m.Output, 1500))}})
	}
	if m.Error != "" {
		rep.Blocks = append(rep.Blocks, &Section{Text: Text{B("Error"), P("\n" + oneLine(m.Error, 1500))}})
	}
	rep.Blocks = append(rep.Blocks, &Context{Text: Text{P("run "), C(m.RunID), P(" · " + m.Action)}})
	if m.AwaitingApproval {
		rep.Blocks = append(rep.Blocks, &Actions{Buttons: []Button{
			{Label: "Approve", Command: "approve " + m.RunID, Style: Primary},
			{Label: "Reject", Command: "reject " + m.RunID, Style: Danger},
		}})
	}
	return rep
}
