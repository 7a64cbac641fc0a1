package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/idpbot/idpbot/bot"
)

// ErrMalformed says an interactivity payload or a slash command form is
// not what Slack sends.
var ErrMalformed = errors.New("slack: malformed payload")

// interaction is the part of an interactivity payload the bot reads. Slack
// sends much more (the whole message, the view, state); decoding only this
// keeps a click cheap and the decoder small enough to fuzz.
type interaction struct {
	Type string `json:"type"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
		TeamID   string `json:"team_id"`
	} `json:"user"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	Enterprise struct {
		ID string `json:"id"`
	} `json:"enterprise"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		Type      string `json:"type"`
		ChannelID string `json:"channel_id"`
		MessageTs string `json:"message_ts"`
	} `json:"container"`
	ResponseURL string   `json:"response_url"`
	TriggerID   string   `json:"trigger_id"`
	Actions     []action `json:"actions"`
	// View is the submitted modal of a view_submission.
	View view `json:"view"`
}

// view is the part of a submitted modal the bot reads: which form it is,
// its signed state, its input blocks and their values.
type view struct {
	// ID is Slack's id of the view, the same for every submission of one
	// modal.
	ID              string      `json:"id"`
	CallbackID      string      `json:"callback_id"`
	PrivateMetadata string      `json:"private_metadata"`
	Blocks          []viewBlock `json:"blocks"`
	State           struct {
		// Values holds block_id → action_id → value.
		Values map[string]map[string]viewValue `json:"values"`
	} `json:"state"`
}

type viewBlock struct {
	Type    string `json:"type"`
	BlockID string `json:"block_id"`
}

// viewValue is the state of one input: value for text and number inputs,
// selected_option for a select.
type viewValue struct {
	Type           string `json:"type"`
	Value          string `json:"value"`
	SelectedOption *struct {
		Value string `json:"value"`
	} `json:"selected_option"`
}

// values are the submitted values of a form, by field name (block_id).
func (v *view) values() map[string]string {
	out := map[string]string{}
	for blockID, actions := range v.State.Values {
		val, ok := actions[formActionID]
		if !ok {
			continue
		}
		if val.SelectedOption != nil {
			out[blockID] = val.SelectedOption.Value
		} else {
			out[blockID] = val.Value
		}
	}
	return out
}

// firstInput is the block_id of the first input block ("" when none).
func (v *view) firstInput() string {
	for _, b := range v.Blocks {
		if b.Type == "input" && b.BlockID != "" {
			return b.BlockID
		}
	}
	return ""
}

// hasInput reports whether the view has an input block with this id.
func (v *view) hasInput(blockID string) bool {
	for _, b := range v.Blocks {
		if b.Type == "input" && b.BlockID == blockID {
			return true
		}
	}
	return false
}

// action is one element of a block_actions payload.
type action struct {
	ActionID string `json:"action_id"`
	BlockID  string `json:"block_id"`
	Type     string `json:"type"`
	Value    string `json:"value"`
}

// maxActions bounds the actions read from one payload (Slack sends one per
// click).
const maxActions = 25

// decodeInteraction decodes the JSON of an interactivity payload. A
// block_actions payload must name its user and carry a usable response_url.
func decodeInteraction(payload []byte) (*interaction, error) {
	var in interaction
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, jsonProblem(err))
	}
	if in.Type == "" {
		return nil, fmt.Errorf("%w: no type", ErrMalformed)
	}
	if in.Type == string(slackapi.InteractionTypeViewSubmission) {
		if in.User.ID == "" {
			return nil, fmt.Errorf("%w: view_submission without user.id", ErrMalformed)
		}
		if len(in.View.Blocks) > maxModalBlocks || len(in.View.State.Values) > maxModalBlocks {
			return nil, fmt.Errorf("%w: view of %d blocks", ErrMalformed, len(in.View.Blocks))
		}
		return &in, nil
	}
	if in.Type != string(slackapi.InteractionTypeBlockActions) {
		return &in, nil
	}
	if in.User.ID == "" {
		return nil, fmt.Errorf("%w: block_actions without user.id", ErrMalformed)
	}
	if len(in.Actions) > maxActions {
		return nil, fmt.Errorf("%w: %d actions", ErrMalformed, len(in.Actions))
	}
	if in.ResponseURL != "" {
		if err := checkResponseURL(in.ResponseURL); err != nil {
			return nil, err
		}
	}
	return &in, nil
}

// jsonProblem describes a JSON error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s has the wrong type", te.Field)
	}
	return "invalid JSON"
}

// checkResponseURL accepts an absolute http(s) URL. The URL comes from a
// request whose signature has been checked (or from the Socket Mode
// connection), so it is Slack's.
func checkResponseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%w: response_url is not an http(s) URL", ErrMalformed)
	}
	return nil
}

// clicked returns the first action that carries a value: the signed
// command of one of the bot's buttons. Link buttons carry none.
func (in *interaction) clicked() (action, bool) {
	for _, a := range in.Actions {
		if a.Value != "" && strings.HasPrefix(a.ActionID, actionPrefix) {
			return a, true
		}
	}
	return action{}, false
}

// request is the bot.Request of a click (Text is filled by Router.Click).
func (in *interaction) request() *bot.Request {
	team := in.Team.ID
	if team == "" {
		team = in.User.TeamID
	}
	if team == "" {
		team = in.Enterprise.ID
	}
	ch := in.Channel.ID
	if ch == "" {
		ch = in.Container.ChannelID
	}
	name := in.User.Username
	if name == "" {
		name = in.User.Name
	}
	return &bot.Request{
		ID:        bot.NewRequestID(),
		Platform:  bot.Slack,
		User:      bot.ChatUser{ID: in.User.ID, Name: name},
		ChannelID: ch,
		TeamID:    team,
	}
}

// slashRequest is the bot.Request of a slash command.
func slashRequest(cmd slackapi.SlashCommand) *bot.Request {
	team := cmd.TeamID
	if team == "" {
		team = cmd.EnterpriseID
	}
	return &bot.Request{
		ID:        bot.NewRequestID(),
		Platform:  bot.Slack,
		User:      bot.ChatUser{ID: cmd.UserID, Name: cmd.UserName},
		ChannelID: cmd.ChannelID,
		TeamID:    team,
		Text:      cmd.Text,
		Forms:     cmd.TriggerID != "",
	}
}

// parseSlash reads a slash command from its form-encoded body.
func parseSlash(body []byte) (slackapi.SlashCommand, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return slackapi.SlashCommand{}, fmt.Errorf("%w: form: not URL-encoded", ErrMalformed)
	}
	cmd := slackapi.SlashCommand{
		TeamID:         v.Get("team_id"),
		TeamDomain:     v.Get("team_domain"),
		EnterpriseID:   v.Get("enterprise_id"),
		EnterpriseName: v.Get("enterprise_name"),
		ChannelID:      v.Get("channel_id"),
		ChannelName:    v.Get("channel_name"),
		UserID:         v.Get("user_id"),
		UserName:       v.Get("user_name"),
		Command:        v.Get("command"),
		Text:           v.Get("text"),
		ResponseURL:    v.Get("response_url"),
		TriggerID:      v.Get("trigger_id"),
		APIAppID:       v.Get("api_app_id"),
	}
	return cmd, checkSlash(cmd)
}

// checkSlash checks the fields the bot relies on.
func checkSlash(cmd slackapi.SlashCommand) error {
	if cmd.UserID == "" {
		return fmt.Errorf("%w: slash command without user_id", ErrMalformed)
	}
	if cmd.ResponseURL != "" {
		return checkResponseURL(cmd.ResponseURL)
	}
	return nil
}
