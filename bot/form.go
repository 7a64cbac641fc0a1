package bot

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/catalog"
)

// Form asks the person for the inputs a command still needs: a modal on
// Slack and Discord. The router makes it (Reply.Form) and takes the
// submitted values back (Router.Submit); each front door renders it in its
// own way and within its own limits.
type Form struct {
	// Title says what the form is for (the action's title).
	Title string
	// Intro is shown above the fields where the platform has room.
	Intro Text
	// Submit is the label of the button that sends the form.
	Submit string
	// Fields in the order to show them.
	Fields []FormField
	// State is the signed, opaque reference to put on the wire (Slack's
	// private_metadata, Discord's custom_id) and hand back to Submit: at
	// most MaxFormState characters.
	State string
	// AllFields says the person has seen none of the values yet (the form
	// of a Run button): a front door that cannot show every field shows
	// the reply instead of a part of the form, so that no default is used
	// unseen.
	AllFields bool
}

// MaxFormState bounds Form.State (Discord's custom_id takes 100
// characters).
const MaxFormState = 100

// FieldKind is how a form field takes its value.
type FieldKind int

// Field kinds.
const (
	// FieldText is free text (strings, durations, entity names).
	FieldText FieldKind = iota
	// FieldNumber is a number within Min and Max.
	FieldNumber
	// FieldChoice is one of Choices (enums, booleans, entities of a kind
	// with few entities).
	FieldChoice
)

// FormField is one input of a form. A platform that cannot show a kind of
// field shows it as text: every value a field takes can also be typed.
type FormField struct {
	// Name is the input's name: the key of its value in Submit.
	Name  string
	Label string
	// Hint explains the field: its description and rules.
	Hint string
	// Placeholder shows in the empty field: an example, or the values it
	// takes when typed.
	Placeholder string
	Kind        FieldKind
	// Required fields must be filled; an empty optional one takes its
	// default.
	Required bool
	// Value is the initial value: what the person typed, else the default.
	// It is never set for a secret.
	Value string
	// Typed says the person gave this input with the command. A front
	// door that cannot show every field shows at least the typed and the
	// required ones, so that nothing typed is lost.
	Typed bool
	// Choices are the values of a FieldChoice field.
	Choices []Choice
	// Min and Max bound a number, or the length of a text.
	Min, Max *float64
	// Multiline text takes several lines (a reason).
	Multiline bool
	// Secret values are not shown back, not even as the initial value.
	Secret bool
}

// Choice is one value of a FieldChoice field.
type Choice struct {
	Label string
	Value string
}

// Submission is the answer to a submitted form.
type Submission struct {
	// Reply answers the person: the run requested, or why not.
	Reply *Reply
	// Errors are the problems of single fields, by field name, each saying
	// what is wrong and how to fix it; Reply lists them too. A front door
	// that can show them on the form (Slack) keeps the form open with them.
	Errors map[string]string
	// ChannelID is the channel the form was asked from, from the signed
	// state ("" when the state was refused): where to answer.
	ChannelID string
	// RunID is the run the submission requested ("" when none).
	RunID string
	// Duplicate says the same submission (Request.SubmissionID) was sent
	// before: nothing was requested again, and Reply says so.
	Duplicate bool
}

// ErrBadForm says a form state was not made by this bot (forged, altered,
// or signed with a key since rotated).
var ErrBadForm = errors.New("form state is not signed by this bot")

// formPrefix versions the format of form states.
const formPrefix = "f1."

// maxEntityChoices is the most entities of a kind offered as a list; with
// more, the person types the name.
const maxEntityChoices = 20

// formState is what a form state says: who asked for the form, where, and
// for which action (the first bytes of the SHA-256 of its id, which keeps
// the state short enough for Discord whatever the id's length).
type formState struct {
	platform Platform
	user     string
	channel  string
	action   [8]byte
}

var platformCodes = map[Platform]byte{Slack: 's', Discord: 'd', Console: 'c', HTTP: 'h'}

func actionDigest(id string) [8]byte {
	sum := sha256.Sum256([]byte(id))
	var d [8]byte
	copy(d[:], sum[:])
	return d
}

// encode is the signed state; false when it cannot be made or is too long.
func (fs formState) encode(s *Signer) (string, bool) {
	code, ok := platformCodes[fs.platform]
	if !ok || fs.user == "" || strings.ContainsRune(fs.user, 0) || strings.ContainsRune(fs.channel, 0) {
		return "", false
	}
	payload := string(code) + string(fs.action[:]) + fs.user + "\x00" + fs.channel
	v := s.sign(formPrefix, payload)
	return v, len(v) <= MaxFormState
}

func decodeFormState(s *Signer, value string) (formState, error) {
	if len(value) > MaxFormState*2 {
		return formState{}, ErrBadForm
	}
	p, ok := s.verify(formPrefix, value)
	if !ok || len(p) < 10 {
		return formState{}, ErrBadForm
	}
	var fs formState
	for plat, code := range platformCodes {
		if p[0] == code {
			fs.platform = plat
		}
	}
	copy(fs.action[:], p[1:9])
	fs.user, fs.channel, ok = strings.Cut(p[9:], "\x00")
	if fs.platform == "" || !ok || fs.user == "" {
		return formState{}, ErrBadForm
	}
	return fs, nil
}

// action returns the action a digest names, or nil.
func (r *Router) actionByDigest(d [8]byte) *actions.Action {
	for _, a := range r.actions.Actions() {
		if actionDigest(a.ID) == d {
			return a
		}
	}
	return nil
}

func (r *Router) actionByID(id string) *actions.Action {
	id = strings.ToLower(strings.TrimSpace(id))
	for _, a := range r.actions.Actions() {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// mayRun refuses a person who may not run a.
func (r *Router) mayRun(ctx context.Context, c *Call, me string, a *actions.Action) error {
	avail, err := r.actions.Available(ctx, me)
	if err != nil {
		return actionError(c, err)
	}
	for _, av := range avail {
		if av.Action.ID == a.ID {
			return nil
		}
	}
	return Errorf("You may not run %s.", a.ID).WithHint("it may be run by: %s", a.Runners)
}

// offerForm answers a run whose only problems are missing required inputs
// with a form, when the front door can show one: the reply is the usual
// refusal (the front door's fallback) carrying the form. ok is false when
// no form is offered; err refuses the run (the person may not run it).
func (r *Router) offerForm(ctx context.Context, c *Call, me string, params map[string]string, bindErr error) (rep *Reply, ok bool, err error) {
	var ie *actions.InputError
	if !c.Request.Forms || !errors.As(bindErr, &ie) {
		return nil, false, nil
	}
	a := r.actionByID(ie.Action)
	if a == nil || !onlyMissing(a, ie, params) {
		return nil, false, nil
	}
	if err := r.mayRun(ctx, c, me, a); err != nil {
		return nil, false, err
	}
	f, err := r.actionForm(ctx, c.Request, a, params)
	if err != nil || f == nil {
		return nil, false, err
	}
	ue, _ := AsUserError(actionError(c, bindErr))
	rep = userErrorReply(ue)
	rep.Form = f
	r.log.InfoContext(ctx, "form offered", "request_id", c.Request.ID, "platform", c.Request.Platform, "user_id", c.Request.User.ID, "action", a.ID, "fields", len(f.Fields))
	return rep, true, nil
}

// onlyMissing reports whether every problem is a required input without a
// default that was not given.
func onlyMissing(a *actions.Action, ie *actions.InputError, params map[string]string) bool {
	if len(ie.Problems) == 0 {
		return false
	}
	for _, p := range ie.Problems {
		in := a.Input(p.Input)
		if in == nil || !in.Required || in.Default != "" || strings.TrimSpace(params[p.Input]) != "" {
			return false
		}
	}
	return true
}

// actionForm is the form of an action's inputs, with what the person typed
// and the defaults filled in; nil when no state fits.
func (r *Router) actionForm(ctx context.Context, req *Request, a *actions.Action, params map[string]string) (*Form, error) {
	state, ok := formState{platform: req.Platform, user: req.User.ID, channel: req.ChannelID, action: actionDigest(a.ID)}.encode(r.signer)
	if !ok {
		return nil, nil
	}
	f := &Form{Title: a.Title, Submit: "Request", State: state}
	if a.Approval.None {
		f.Submit = "Run"
	}
	f.Intro = Text{B(a.Title)}
	if a.Description != "" {
		f.Intro = append(f.Intro, P(" — "+oneLine(a.Description, 300)))
	}
	f.Intro = append(f.Intro, P("\nApproval: "+a.Approval.Describe()+"."))
	for _, in := range a.Inputs {
		fld, err := r.formField(ctx, in, strings.TrimSpace(params[in.Name]))
		if err != nil {
			return nil, err
		}
		f.Fields = append(f.Fields, fld)
	}
	return f, nil
}

func (r *Router) formField(ctx context.Context, in *actions.Input, typed string) (FormField, error) {
	fld := FormField{Name: in.Name, Label: in.Name, Kind: FieldText, Required: in.Required && in.Default == "",
		Typed: typed != "", Secret: in.Secret}
	value := typed
	if value == "" {
		value = in.Default
	}
	var hint []string
	if in.Description != "" {
		hint = append(hint, oneLine(in.Description, 300))
	}
	if b := in.Bounds(); b != "" {
		hint = append(hint, b)
	}
	switch in.Type {
	case actions.TypeString:
		fld.Min, fld.Max = in.Min, in.Max
		fld.Multiline = in.Pattern == "" && !in.Secret && (in.Max == nil || *in.Max > 100)
		if in.Pattern != "" {
			hint = append(hint, "must match "+in.Pattern)
		}
	case actions.TypeNumber:
		fld.Kind = FieldNumber
		fld.Min, fld.Max = in.Min, in.Max
		fld.Placeholder = "a number"
	case actions.TypeBoolean:
		fld.Kind = FieldChoice
		fld.Choices = []Choice{{Label: "yes", Value: "true"}, {Label: "no", Value: "false"}}
		fld.Placeholder = "yes or no"
		value = normalBool(value)
	case actions.TypeEnum:
		fld.Kind = FieldChoice
		for _, v := range in.Values {
			fld.Choices = append(fld.Choices, Choice{Label: v, Value: v})
			if strings.EqualFold(v, value) {
				value = v
			}
		}
		fld.Placeholder = strings.Join(in.Values, " | ")
	case actions.TypeEntity:
		fld.Placeholder = "a " + in.EntityKind + " name or ref"
		choices, initial, err := r.entityChoices(ctx, in.EntityKind, value)
		if err != nil {
			return FormField{}, err
		}
		if choices != nil {
			fld.Kind, fld.Choices, value = FieldChoice, choices, initial
		}
	case actions.TypeDuration:
		ex := in.Default
		if ex == "" {
			ex = "4h"
		}
		fld.Placeholder = "e.g. " + ex
		hint = append(hint, "a duration such as 30m, 4h or 1d")
	}
	if in.Default != "" && !in.Secret {
		hint = append(hint, "default "+in.Default)
	}
	switch {
	case in.Secret && typed != "":
		// What was typed is not filled in, and an optional field left
		// empty would run without it: the person types it again.
		fld.Required = true
		fld.Placeholder = "type it again: a secret is never filled in"
		hint = append([]string{"you typed this secret with the command: type it again here"}, hint...)
		hint = append(hint, "secret: kept out of chat and the audit log")
	case in.Secret:
		hint = append(hint, "secret: kept out of chat and the audit log, and never filled in for you")
	default:
		fld.Value = value
	}
	fld.Hint = strings.Join(hint, " · ")
	return fld, nil
}

// entityChoices lists the entities of kind when there are few of them,
// with the one value names selected; nil when there are too many, or when
// value names none of them (the field stays text, keeping what was typed).
func (r *Router) entityChoices(ctx context.Context, kind, value string) (choices []Choice, initial string, err error) {
	f := catalog.Filter{Sets: [][]catalog.Condition{{{Key: "kind", Value: kind, HasValue: true}}}}
	es, err := r.cat.List(ctx, f, maxEntityChoices+1)
	if err != nil {
		return nil, "", fmt.Errorf("list %s entities for a form: %w", kind, err)
	}
	if len(es) == 0 || len(es) > maxEntityChoices {
		return nil, "", nil
	}
	found := value == ""
	for _, e := range es {
		ref := e.Ref()
		label := ref.Name
		if t := e.Metadata.Title; t != "" && t != ref.Name {
			label += " — " + t
		}
		choices = append(choices, Choice{Label: label, Value: ref.String()})
		if value != "" && (strings.EqualFold(value, ref.String()) || strings.EqualFold(value, ref.Name) || strings.EqualFold(value, ref.Short(kind))) {
			initial, found = ref.String(), true
		}
	}
	if !found {
		return nil, "", nil
	}
	return choices, initial, nil
}

func normalBool(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1":
		return "true"
	case "false", "no", "off", "0":
		return "false"
	}
	return ""
}
