// Package discord is the Discord front door of idpbot: the /idp
// application command and its registration (Register), the HTTP
// interactions endpoint with Ed25519 request verification (Handler), the
// gateway connection (RunGateway), deferred replies finished through the
// interaction webhook, forms as modals (response type 9) and their
// MODAL_SUBMIT, and the rendering of bot.Reply as Discord content, embeds
// and buttons within Discord's limits (Render).
//
// It calls Discord's REST API itself, with net/http against the documented
// paths, and uses discordgo for the wire types and the gateway session.
package discord
