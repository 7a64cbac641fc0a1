package bot

import (
	"crypto/rand"
	"encoding/hex"
)

// Request is one command typed in chat (the text after "/idp"), or one
// button click turned back into its command.
type Request struct {
	// ID identifies the request in logs; NewRequestID makes one.
	ID       string
	Platform Platform
	User     ChatUser
	// ChannelID is the platform's channel (or DM) the request came from.
	ChannelID string
	// TeamID is the Slack workspace or Discord guild.
	TeamID string
	Text   string
	// Forms says the front door can show a form in answer to this request
	// (Slack gave a trigger_id; a Discord command or click that has not
	// been answered yet). A command that lacks inputs then answers with
	// Reply.Form instead of refusing.
	Forms bool
	// SubmissionID is the platform's id of a submitted form (Slack's
	// view.id, Discord's interaction id): Router.Submit requests at most
	// one run per id within a few minutes, so that a form sent twice (a
	// second click on Submit, a redelivery) does not ask twice.
	SubmissionID string
}

// ChatUser is the person behind a request as the platform knows them.
type ChatUser struct {
	ID   string
	Name string
	// Email is set when the platform gave it with the request; otherwise
	// Identity asks the front door's ProfileLookup.
	Email string
	// CatalogRef, when set, names the catalog user directly (the console's
	// "/as alice").
	CatalogRef string
}

// NewRequestID returns a short random id for logs and error replies.
func NewRequestID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
