// Package bot is the platform-neutral command core of idpbot: a chat request
// (Request), the message model every front door renders (Reply), the Router
// that parses "/idp ..." text and dispatches it to commands, the commands
// themselves, the mapping of chat users to catalog users (Identity), the
// forms that ask for missing inputs (Form, Router.Submit) and the signing of
// button values and form states.
//
// Front doors (bot/slack, bot/console, and later bot/discord and
// bot/httpapi) turn their platform's input into a Request, call
// Router.Handle or Router.Click, and render the Reply. They never import the
// catalog; the bot reads it through the small Catalog interface declared
// here.
package bot
