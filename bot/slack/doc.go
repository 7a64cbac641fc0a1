// Package slack is idpbot's Slack front door. It owns everything that speaks
// Slack's wire format: the signed HTTP endpoints for slash commands and
// interactivity (/slack/commands, /slack/interactivity), the Socket Mode
// connection, the acknowledgement-within-3-seconds rule with deferred
// delivery through response_url, rendering of bot.Reply as Block Kit within
// Slack's limits, and the Web API calls the bot makes with its token
// (users.info for identity, chat.postMessage and chat.update).
//
// It turns Slack input into a bot.Request, hands it to bot.Router, and
// renders the bot.Reply; it knows nothing of the catalog.
package slack
