package bot

import (
	"context"
	"strings"

	"github.com/idpbot/idpbot/actions"
)

// The Run buttons of /idp actions (Button.Form) open the form of an
// action's inputs; they never run it.

// formButtonValue is the value of a button that opens the form of
// command, a run of an action: the signed digest of the action, 38
// characters whatever the length of its id (a Discord custom_id takes
// 100). It is "" when command is not "run <action>" of a known action.
func (r *Router) formButtonValue(command string) string {
	id, ok := strings.CutPrefix(command, "run ")
	if !ok || r.actions == nil {
		return ""
	}
	a := r.actionByID(id)
	if a == nil {
		return ""
	}
	d := actionDigest(a.ID)
	return r.signer.Sign(formMark + string(d[:]))
}

// formClick answers the click on a Form button: the digest names the
// action; the answer is its form (runForm), never the run.
func (r *Router) formClick(ctx context.Context, req *Request, digest string) (*Reply, error) {
	var a *actions.Action
	if r.actions != nil && len(digest) == len(actionDigest("")) {
		a = r.actionByDigest([8]byte([]byte(digest)))
	}
	if a == nil {
		req.Text = "run"
		return nil, Errorf("The action of this button no longer exists.").WithHint("%s lists the actions you may run", cmdline(req, "actions"))
	}
	req.Text = "run " + a.ID
	c := &Call{Request: req, Command: r.cmds["run"], Args: &Args{Words: []string{a.ID}, Params: map[string]string{}, Flags: map[string]string{}}, router: r}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	rep, err := r.safely("run", func() (*Reply, error) { return r.runForm(ctx, c, a) })
	if err != nil {
		return nil, r.lookupError(c, err)
	}
	return rep, nil
}

// runForm answers a Run button: the form of every input of the action,
// prefilled with the defaults, when the front door can show one. Nothing
// runs until the form is submitted, even when the defaults would do: the
// person sees the values first. The reply says how to type the command,
// for a front door that cannot show the form (no trigger, the console,
// more fields than a Discord modal takes).
func (r *Router) runForm(ctx context.Context, c *Call, a *actions.Action) (*Reply, error) {
	me, err := r.caller(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := r.mayRun(ctx, c, me, a); err != nil {
		return nil, err
	}
	rep := howToRun(c.Request, a)
	if !c.Request.Forms {
		return rep, nil
	}
	f, err := r.actionForm(ctx, c.Request, a, nil)
	if err != nil || f == nil {
		return rep, err
	}
	f.AllFields = true
	rep.Form = f
	r.log.InfoContext(ctx, "form offered", "request_id", c.Request.ID, "platform", c.Request.Platform, "user_id", c.Request.User.ID, "action", a.ID, "fields", len(f.Fields))
	return rep, nil
}

// howToRun says how to type the command that runs a: the usage, and a
// line per input.
func howToRun(req *Request, a *actions.Action) *Reply {
	usage := cmdline(req, "run "+a.Usage())
	rep := &Reply{Text: "To run " + a.Title + ", type: " + usage}
	rep.Blocks = append(rep.Blocks, &Section{Text: Text{P("To run "), B(a.Title), P(", type:\n"), C(usage)}})
	if len(a.Inputs) > 0 {
		lines := make([]string, 0, len(a.Inputs))
		for _, in := range a.Inputs {
			lines = append(lines, "• "+oneLine(in.Help(), 200))
		}
		rep.Blocks = append(rep.Blocks, &Context{Text: T(strings.Join(lines, "\n"))})
	}
	return rep
}
