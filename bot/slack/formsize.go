package slack

import (
	"encoding/json"
	"fmt"

	slackapi "github.com/slack-go/slack"
)

// maxSubmissionBytes is the largest body the interactivity endpoint
// accepts (whatever slack.max_body_bytes says, when that is smaller): a
// view_submission carries the whole view back, so it is much larger than
// a click. ModalView keeps the largest submission of every form it
// renders under it (submissionBytes); 2 MiB holds the largest form idpbot
// makes (20 inputs, each a text input of Slack's 3,000 characters filled
// with the costliest characters) with room for its view.
const maxSubmissionBytes = 2 << 20

// The parts of the bound submissionBytes computes.
const (
	// viewEscape is how much larger the view gets on the way back: Slack
	// escapes "/" as "\/" and non-ASCII characters as \uXXXX, and the
	// body is URL-encoded ("\/" becomes "%5C%2F": 6 bytes for 1).
	viewEscape = 6
	// viewItemBytes covers the fields Slack adds to each block, text and
	// option (block_id, "emoji":true, dispatch_action), URL-encoded.
	viewItemBytes = 128
	// typedCharBytes is the costliest typed character: an emoji sent as
	// an escaped surrogate pair (\ud83d\ude00), URL-encoded.
	typedCharBytes = 16
	// stateFieldBytes covers the keys of one input's state.
	stateFieldBytes = 768
	// selectedBytes is one selected option sent back: its label and
	// value at their longest, escaped and URL-encoded.
	selectedBytes = 3 * (12*(maxOptionTextChars+maxOptionValueChars) + 128)
	// numberChars bounds what a number input sends.
	numberChars = 64
	// envelopeBytes covers the rest of the payload: user, team, app,
	// hashes, ids, response URLs.
	envelopeBytes = 16 << 10
)

// submissionBytes bounds the URL-encoded body of a view_submission of v:
// the view as Slack sends it back, every input filled to its limit with
// the costliest characters, and the envelope.
func submissionBytes(v slackapi.ModalViewRequest) (int, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("slack: encode view: %w", err)
	}
	items, state := len(v.Blocks.BlockSet), 0
	for _, b := range v.Blocks.BlockSet {
		in, ok := b.(*slackapi.InputBlock)
		if !ok {
			continue
		}
		state += stateFieldBytes
		switch el := in.Element.(type) {
		case *slackapi.PlainTextInputBlockElement:
			n := el.MaxLength
			if n <= 0 || n > maxInputChars {
				n = maxInputChars
			}
			state += typedCharBytes * n
		case *slackapi.SelectBlockElement:
			items += len(el.Options)
			state += selectedBytes
		default:
			state += typedCharBytes * numberChars
		}
	}
	return viewEscape*len(js) + viewItemBytes*items + state + envelopeBytes, nil
}
