package bot

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/idpbot/idpbot/actions"
)

// Submit finishes a form made by this router: state is Form.State as it
// came back, values the submitted fields by name, req the person who sent
// it (its ChannelID is taken from the state). The values are bound and
// checked exactly as typed ones are, and the run is requested as /idp run
// would. A state this bot did not sign, or one sent by another person
// than the one it was made for, runs nothing.
func (r *Router) Submit(ctx context.Context, req *Request, state string, values map[string]string) *Submission {
	if req.ID == "" {
		req.ID = NewRequestID()
	}
	start := time.Now()
	sub := &Submission{}
	key := ""
	if req.SubmissionID != "" {
		key = string(req.Platform) + "\x00" + req.User.ID + "\x00" + req.SubmissionID
	}
	if runID, dup := r.sent.begin(key, r.now()); dup {
		sub.Duplicate, sub.RunID = true, runID
		req.Text = "run"
		r.log.InfoContext(ctx, "form sent again; nothing requested", "request_id", req.ID, "platform", req.Platform, "user_id", req.User.ID, "run_id", runID)
		sub.Reply = r.finish(ctx, req, "run", start, sentAgainReply(req, runID), nil)
		return sub
	}
	rep, err := r.submit(ctx, req, state, values, sub)
	r.sent.end(key, sub.RunID)
	sub.Reply = r.finish(ctx, req, "run", start, rep, err)
	return sub
}

// sentAgainReply answers a form sent a second time.
func sentAgainReply(req *Request, runID string) *Reply {
	if runID == "" {
		return &Reply{Text: "This form is being sent already.", Blocks: []Block{&Section{Text: T("This form is being sent already; its answer follows.")}}}
	}
	return &Reply{
		Text: "This form was sent already: run " + runID + ".",
		Blocks: []Block{
			&Section{Text: Text{P("This form was sent already: run "), C(runID), P(". Nothing was requested again.")}},
			&Context{Text: Text{C(cmdline(req, "runs "+runID)), P(" shows it.")}},
		},
	}
}

// sentFormWindow is how long a submitted form is remembered by its id.
const sentFormWindow = 10 * time.Minute

// maxSentForms bounds the forms remembered; past it, submissions are not
// de-duplicated until older ones expire.
const maxSentForms = 4096

// sentForms remembers the forms submitted in the last few minutes, by
// their platform's id, and the run each requested.
type sentForms struct {
	mu   sync.Mutex
	byID map[string]*sentForm
}

type sentForm struct {
	at    time.Time
	runID string // "" while the submission is handled
}

// begin records that the submission key is being handled; dup is true
// (with the run it requested, "" while in flight) when it was seen within
// the window. An empty key is never a duplicate.
func (s *sentForms) begin(key string, now time.Time) (runID string, dup bool) {
	if key == "" {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.byID[key]; ok && now.Sub(f.at) < sentFormWindow {
		return f.runID, true
	}
	if s.byID == nil {
		s.byID = map[string]*sentForm{}
	}
	if len(s.byID) >= maxSentForms {
		for k, f := range s.byID {
			if now.Sub(f.at) >= sentFormWindow {
				delete(s.byID, k)
			}
		}
		if len(s.byID) >= maxSentForms {
			return "", false
		}
	}
	s.byID[key] = &sentForm{at: now}
	return "", false
}

// end records the run a submission requested; without one the key is
// forgotten, so that a form refused (a wrong value) can be sent again.
func (s *sentForms) end(key, runID string) {
	if key == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.byID[key]
	switch {
	case !ok:
	case runID == "":
		delete(s.byID, key)
	default:
		f.runID = runID
	}
}

func (r *Router) submit(ctx context.Context, req *Request, state string, values map[string]string, sub *Submission) (*Reply, error) {
	if r.actions == nil {
		return nil, Errorf("This bot runs no self-service actions.")
	}
	fs, err := decodeFormState(r.signer, state)
	if err != nil {
		r.log.WarnContext(ctx, "rejected form state", "request_id", req.ID, "platform", req.Platform, "user_id", req.User.ID)
		return nil, Errorf("This form is not valid (it was not made by this bot, or its key changed).").WithHint("run the command again")
	}
	if fs.platform != req.Platform || fs.user != req.User.ID {
		r.log.WarnContext(ctx, "form sent by another user", "request_id", req.ID, "platform", req.Platform, "user_id", req.User.ID, "form_user_id", fs.user)
		return nil, Errorf("This form was opened by someone else; only they can send it.").WithHint("run the command yourself to get your own form")
	}
	a := r.actionByDigest(fs.action)
	if a == nil {
		return nil, Errorf("The action of this form no longer exists.").WithHint("%s lists the actions you may run", cmdline(req, "actions"))
	}
	req.ChannelID, sub.ChannelID = fs.channel, fs.channel
	req.Text = "run " + a.ID // the values stay out of logs: some may be secret
	c := &Call{Request: req, Command: r.cmds["run"], Args: &Args{Words: []string{a.ID}, Params: map[string]string{}, Flags: map[string]string{}}, router: r}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	rep, err := r.safely("run", func() (*Reply, error) { return r.submitRun(ctx, c, a, values, sub) })
	if err != nil {
		return nil, r.lookupError(c, err)
	}
	return rep, nil
}

func (r *Router) submitRun(ctx context.Context, c *Call, a *actions.Action, values map[string]string, sub *Submission) (*Reply, error) {
	me, err := r.caller(ctx, c)
	if err != nil {
		return nil, err
	}
	params := map[string]string{}
	for k, v := range values {
		if a.Input(k) != nil { // a form has the action's inputs, nothing else
			params[k] = v
		}
	}
	in, err := r.actions.Bind(ctx, a.ID, params)
	if err != nil {
		var ie *actions.InputError
		if errors.As(err, &ie) {
			sub.Errors = fieldErrors(a, ie, params)
		}
		return nil, actionError(c, err)
	}
	rep, run, err := r.requestRun(ctx, c, me, a.ID, in)
	if run != nil {
		sub.RunID = run.ID
	}
	return rep, err
}

// maxFieldError bounds the message of one field error.
const maxFieldError = 300

// fieldErrors says what is wrong with each field, by name.
func fieldErrors(a *actions.Action, ie *actions.InputError, params map[string]string) map[string]string {
	out := map[string]string{}
	for _, p := range ie.Problems {
		msg := p.Message
		if in := a.Input(p.Input); in != nil && in.Required && strings.TrimSpace(params[p.Input]) == "" {
			msg = "required: fill it in"
		}
		if len(p.Suggestions) > 0 {
			msg += " (did you mean " + strings.Join(p.Suggestions, ", ") + "?)"
		}
		if prev, ok := out[p.Input]; ok {
			msg = prev + "; " + msg
		}
		out[p.Input] = oneLine(upperFirst(msg), maxFieldError)
	}
	return out
}
