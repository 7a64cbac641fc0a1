// Package slack is idpbot's Slack front door. It owns everything that speaks
// Slack's wire format: the signed HTTP endpoints for slash commands and
// interactivity (/slack/commands, /slack/interactivity), the Socket Mode
// connection, the acknowledgement-within-3-seconds rule with deferred
// delivery through response_url, rendering of bot.Reply as Block Kit within
// Slack's limits, forms as modals (views.open, and their view_submission
// answered with inline errors or "clear"), and the Web API calls the bot
// makes with its token (users.info for identity, chat.postMessage,
// chat.postEphemeral and chat.update).
//
// It turns Slack input into a bot.Request, hands it to bot.Router, and
// renders the bot.Reply; it knows nothing of the catalog.
package slack
