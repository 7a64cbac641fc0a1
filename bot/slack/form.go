package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/idpbot/idpbot/bot"
)

// Slack's modal limits (Block Kit reference: views, input blocks, select
// menus; docs/slack.md lists them).
const (
	maxModalBlocks      = 100
	maxModalTitleChars  = 24
	maxModalButtonChars = 24
	maxPrivateMetadata  = 3000
	maxBlockIDChars     = 255
	maxLabelChars       = 2000
	maxHintChars        = 2000
	maxPlaceholderChars = 150
	maxSelectOptions    = 100
	maxOptionTextChars  = 75
	maxOptionValueChars = 150
	maxInputChars       = 3000
	// maxViewErrorChars bounds the text of one inline error (Slack shows
	// it under the field).
	maxViewErrorChars = 300
)

// triggerWindow is how long a trigger_id can open a modal.
const triggerWindow = 3 * time.Second

// FormCallbackID is the callback_id of idpbot's forms: a view_submission
// with another one is not ours.
const FormCallbackID = "idp-form"

// formActionID is the action_id of every input of a form; the block_id is
// the field's name.
const formActionID = "value"

// ModalView renders a form as a modal (views.open): a section with the
// form's intro, then one input block per field, in order; a form without
// fields is a confirmation (the intro and the submit button). The form's
// state is the private_metadata. It fails when the form does not fit a
// modal: a value longer than a text input takes (it is never cut), or a
// submission that could be larger than the interactivity endpoint
// accepts even once long option lists are shown as text inputs.
func ModalView(f *bot.Form) (slackapi.ModalViewRequest, error) {
	switch {
	case f == nil:
		return slackapi.ModalViewRequest{}, errors.New("slack: no form")
	case len(f.Fields)+1 > maxModalBlocks:
		return slackapi.ModalViewRequest{}, fmt.Errorf("slack: a form of %d fields does not fit a modal's %d blocks", len(f.Fields), maxModalBlocks)
	case f.State == "" || len(f.State) > maxPrivateMetadata:
		return slackapi.ModalViewRequest{}, fmt.Errorf("slack: a form state of %d characters does not fit private_metadata", len(f.State))
	}
	title := plainText(f.Title, maxModalTitleChars)
	if title == "" {
		title = "idpbot"
	}
	submit := plainText(f.Submit, maxModalButtonChars)
	if submit == "" {
		submit = "Send"
	}
	v := slackapi.ModalViewRequest{
		Type:            slackapi.VTModal,
		Title:           plainObject(title),
		Submit:          plainObject(submit),
		Close:           plainObject("Cancel"),
		PrivateMetadata: f.State,
		CallbackID:      FormCallbackID,
	}
	var intro []slackapi.Block
	if s, _, _ := mrkdwn(f.Intro, maxSectionChars); s != "" {
		intro = append(intro, slackapi.NewSectionBlock(mdObject(s), nil, nil))
	}
	if len(intro) == 0 && len(f.Fields) == 0 {
		return slackapi.ModalViewRequest{}, errors.New("slack: a form without fields or intro")
	}
	// Long option lists make the submission large (Slack sends the whole
	// view back): show the longest ones as text inputs until the largest
	// possible submission fits the endpoint's bound.
	asText := make([]bool, len(f.Fields))
	for {
		blocks := append([]slackapi.Block(nil), intro...)
		for i, fld := range f.Fields {
			b, err := inputBlock(fld, asText[i])
			if err != nil {
				return slackapi.ModalViewRequest{}, err
			}
			blocks = append(blocks, b)
		}
		v.Blocks = slackapi.Blocks{BlockSet: blocks}
		n, err := submissionBytes(v)
		if err != nil {
			return slackapi.ModalViewRequest{}, err
		}
		if n <= maxSubmissionBytes {
			return v, nil
		}
		i := longestSelect(f, asText)
		if i < 0 {
			return slackapi.ModalViewRequest{}, fmt.Errorf("slack: a submission of the form could take %d bytes, more than the %d the interactivity endpoint accepts", n, maxSubmissionBytes)
		}
		asText[i] = true
	}
}

// inputBlock is the input block of one field, its select (if any) shown
// as a text input when asText is set.
func inputBlock(fld bot.FormField, asText bool) (*slackapi.InputBlock, error) {
	if fld.Name == "" || len(fld.Name) > maxBlockIDChars {
		return nil, fmt.Errorf("slack: field name %q is not a block_id", fld.Name)
	}
	label := plainText(fld.Label, maxLabelChars)
	if label == "" {
		label = fld.Name
	}
	var hint *slackapi.TextBlockObject
	if h := plainText(fld.Hint, maxHintChars); h != "" {
		hint = plainObject(h)
	}
	el, err := formElement(fld, asText)
	if err != nil {
		return nil, err
	}
	b := slackapi.NewInputBlock(fld.Name, plainObject(label), hint, el)
	b.Optional = !fld.Required
	return b, nil
}

// longestSelect is the index of the field shown as a select with the most
// options, or -1 when none is left.
func longestSelect(f *bot.Form, asText []bool) int {
	best, most := -1, 0
	for i, fld := range f.Fields {
		if asText[i] || fld.Kind != bot.FieldChoice {
			continue
		}
		if _, ok := selectElement(fld); ok && len(fld.Choices) > most {
			best, most = i, len(fld.Choices)
		}
	}
	return best
}

// formElement is the element of one field: a number input, a select of
// its choices, or a text input (choices Slack cannot list, or that
// asText asks to type). A value longer than a text input takes is an
// error: cutting it would submit something else than was typed.
func formElement(fld bot.FormField, asText bool) (slackapi.BlockElement, error) {
	switch fld.Kind {
	case bot.FieldNumber:
		el := slackapi.NewNumberInputBlockElement(placeholder(fld.Placeholder), formActionID, true)
		if _, err := strconv.ParseFloat(fld.Value, 64); err == nil {
			el.InitialValue = fld.Value
		}
		if fld.Min != nil {
			el.MinValue = strconv.FormatFloat(*fld.Min, 'f', -1, 64)
		}
		if fld.Max != nil {
			el.MaxValue = strconv.FormatFloat(*fld.Max, 'f', -1, 64)
		}
		return el, nil
	case bot.FieldChoice:
		if sel, ok := selectElement(fld); ok && !asText {
			return sel, nil
		}
	}
	el := slackapi.NewPlainTextInputBlockElement(placeholder(fld.Placeholder), formActionID)
	el.Multiline = fld.Multiline
	if !fld.Secret {
		if n := utf8.RuneCountInString(fld.Value); n > maxInputChars {
			return nil, fmt.Errorf("slack: the value of %s has %d characters, more than a text input's %d", fld.Name, n, maxInputChars)
		}
		el.InitialValue = fld.Value
	}
	if fld.Min != nil && *fld.Min >= 1 && *fld.Min <= maxInputChars {
		el.MinLength = int(*fld.Min)
	}
	if fld.Max != nil && *fld.Max >= 1 {
		el.MaxLength = int(min(*fld.Max, maxInputChars))
	}
	if fld.Kind == bot.FieldChoice && len(fld.Choices) > 0 {
		// A typed choice is at most as long as the longest value (an
		// entity's name is shorter than its ref).
		longest := 0
		for _, c := range fld.Choices {
			longest = max(longest, utf8.RuneCountInString(c.Value))
		}
		el.MaxLength = max(min(longest, maxInputChars), utf8.RuneCountInString(el.InitialValue))
	}
	return el, nil
}

// selectElement is a static_select of the field's choices, the one equal
// to its value selected; false when they do not fit one.
func selectElement(fld bot.FormField) (*slackapi.SelectBlockElement, bool) {
	if len(fld.Choices) == 0 || len(fld.Choices) > maxSelectOptions {
		return nil, false
	}
	var opts []*slackapi.OptionBlockObject
	var initial *slackapi.OptionBlockObject
	for _, c := range fld.Choices {
		if c.Value == "" || len(c.Value) > maxOptionValueChars {
			return nil, false
		}
		label := plainText(c.Label, maxOptionTextChars)
		if label == "" {
			label = plainText(c.Value, maxOptionTextChars)
		}
		o := slackapi.NewOptionBlockObject(c.Value, plainObject(label), nil)
		opts = append(opts, o)
		if c.Value == fld.Value {
			initial = o
		}
	}
	el := slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic, plainObject("Choose…"), formActionID, opts...)
	el.InitialOption = initial
	return el, true
}

func placeholder(s string) *slackapi.TextBlockObject {
	if p := plainText(s, maxPlaceholderChars); p != "" {
		return plainObject(p)
	}
	return nil
}

// trigger is a trigger_id and when it came: it opens a modal within 3
// seconds.
type trigger struct {
	id string
	at time.Time
}

func newTrigger(id string) trigger { return trigger{id: id, at: time.Now()} }

// Reasons a form is not opened (the reply is posted instead).
var (
	errNoTrigger      = errors.New("slack: no trigger_id to open a modal with")
	errTriggerExpired = errors.New("slack: the trigger_id expired (3 seconds) before the form was ready")
)

// openForm opens f as a modal with the trigger (views.open) before the
// trigger expires.
func (fd *FrontDoor) openForm(ctx context.Context, req *bot.Request, trig trigger, f *bot.Form) error {
	if trig.id == "" {
		return errNoTrigger
	}
	view, err := ModalView(f)
	if err != nil {
		return err
	}
	deadline := trig.at.Add(triggerWindow)
	if !time.Now().Before(deadline) {
		return errTriggerExpired
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if _, err := fd.api.OpenViewContext(ctx, trig.id, view); err != nil {
		return fmt.Errorf("slack views.open: %w", err)
	}
	fd.log.DebugContext(ctx, "form opened", "request_id", req.ID, "user_id", req.User.ID, "fields", len(f.Fields))
	return nil
}

// answer delivers a reply off the acknowledgement path: its form as a
// modal when it has one and the trigger still allows, else the reply
// itself (for a form: what is missing, with the usage) to responseURL.
func (fd *FrontDoor) answer(ctx context.Context, req *bot.Request, trig trigger, responseURL string, rep *bot.Reply) {
	if rep.Form != nil {
		err := fd.openForm(ctx, req, trig, rep.Form)
		if err == nil {
			return
		}
		fd.log.WarnContext(ctx, "form not opened; answering with the usage instead", "request_id", req.ID, "user_id", req.User.ID, "error", err.Error())
	}
	fd.deliver(ctx, req, responseURL, rep)
}

// submitView answers the view_submission of a form. Within the
// acknowledgement budget the answer is the field errors (the form stays
// open and keeps what was typed; a refusal is shown on the first field),
// or "clear" when the run was requested, whose confirmation then goes to
// the person in the form's channel. A slower submission closes the form
// and posts its outcome there when it is ready. Views that are not
// idpbot's forms get an empty acknowledgement (nil).
func (fd *FrontDoor) submitView(ctx context.Context, in *interaction) *slackapi.ViewSubmissionResponse {
	if in.View.CallbackID != FormCallbackID {
		fd.log.DebugContext(ctx, "view submission ignored", "callback_id", in.View.CallbackID)
		return nil
	}
	req := in.request()
	req.SubmissionID = in.View.ID
	values := in.View.values()
	first := in.View.firstInput()
	ready := make(chan *bot.Submission)
	tooLate := make(chan struct{})
	err := fd.goBackground(ctx, func(ctx context.Context) {
		sub := fd.router.Submit(ctx, req, in.View.PrivateMetadata, values)
		select {
		case ready <- sub:
		case <-tooLate:
			if !sub.Duplicate {
				fd.announce(ctx, req, sub)
			}
		}
	})
	if err != nil {
		if first == "" {
			return nil
		}
		return viewErrors(map[string]string{first: shuttingDown.Text})
	}
	t := time.NewTimer(fd.cfg.AckBudget)
	defer t.Stop()
	select {
	case sub := <-ready:
		return fd.viewAnswer(ctx, req, in, first, sub)
	case <-t.C:
	case <-ctx.Done():
	}
	close(tooLate)
	fd.log.DebugContext(ctx, "form outcome deferred to the channel", "request_id", req.ID)
	return slackapi.NewClearViewSubmissionResponse()
}

// viewAnswer is the acknowledgement of a handled submission.
func (fd *FrontDoor) viewAnswer(ctx context.Context, req *bot.Request, in *interaction, first string, sub *bot.Submission) *slackapi.ViewSubmissionResponse {
	if sub.Duplicate {
		// Sent twice: the first submission answers (and has answered).
		return slackapi.NewClearViewSubmissionResponse()
	}
	if len(sub.Errors) > 0 && first != "" {
		errs := map[string]string{}
		for name, msg := range sub.Errors {
			if !in.View.hasInput(name) {
				name = first // an input the form does not show (it changed since)
			}
			if prev := errs[name]; prev != "" {
				msg = prev + "; " + msg
			}
			errs[name] = msg
		}
		return viewErrors(errs)
	}
	if sub.Reply.IsError && first != "" {
		return viewErrors(map[string]string{first: sub.Reply.Text})
	}
	if err := fd.goBackground(ctx, func(ctx context.Context) { fd.announce(ctx, req, sub) }); err != nil {
		fd.log.WarnContext(ctx, "form confirmation dropped", "request_id", req.ID, "reason", err.Error())
	}
	return slackapi.NewClearViewSubmissionResponse()
}

// viewErrors is the "errors" answer, each message within Slack's limit.
func viewErrors(errs map[string]string) *slackapi.ViewSubmissionResponse {
	for k, v := range errs {
		errs[k] = plainText(v, maxViewErrorChars)
	}
	return slackapi.NewErrorsViewSubmissionResponse(errs)
}

// announce posts a submission's reply to the person, ephemerally, in the
// channel the form was asked from.
func (fd *FrontDoor) announce(ctx context.Context, req *bot.Request, sub *bot.Submission) {
	if sub.ChannelID == "" {
		fd.log.WarnContext(ctx, "form outcome not posted: no channel", "request_id", req.ID, "user_id", req.User.ID)
		return
	}
	if err := fd.postEphemeral(ctx, sub.ChannelID, req.User.ID, sub.Reply); err != nil {
		fd.log.ErrorContext(ctx, "post form outcome", "request_id", req.ID, "user_id", req.User.ID, "error", err.Error())
	}
}

// postEphemeral shows rep to one person in a channel (chat.postEphemeral).
func (fd *FrontDoor) postEphemeral(ctx context.Context, channelID, userID string, rep *bot.Reply) error {
	text, blocks := Render(rep, fd.router.ButtonValue)
	_, err := fd.api.PostEphemeralContext(ctx, channelID, userID, slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...))
	if err != nil {
		return fmt.Errorf("slack chat.postEphemeral %s: %w", channelID, err)
	}
	return nil
}
