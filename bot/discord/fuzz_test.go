package discord

import (
	"slices"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
)

// FuzzDecodeInteraction feeds the interaction decoder and the building of
// command text arbitrary bodies: nothing may panic, a decoded interaction
// always has what the handlers rely on, and option values reach the
// router as positional words, never as flags.
func FuzzDecodeInteraction(f *testing.F) {
	for _, b := range [][]byte{
		commandInteraction(f, aliceID, "who-owns", false, opt{name: "entity", value: "payments-api"}),
		commandInteraction(f, aliceID, "search", false, opt{name: "text", value: `"card tok" --public x=y`}, opt{name: "limit", value: 3}, opt{name: "kind", value: "api"}),
		commandInteraction(f, aliceID, "who-owns", true, opt{name: "entity", value: "pay", focused: true}),
		clickInteraction(f, aliceID, "b1.x.y"),
		[]byte(`{"id":"1","application_id":"` + testAppID + `","type":1,"token":"x","version":1}`),
		[]byte(`{"type":2,"id":"1","application_id":"` + testAppID + `","token":"t","user":{"id":"5"},"data":{"options":[null,{"type":1,"name":"show","options":[null,{"name":"entity","value":null}]}]}}`),
		[]byte(`{"type":3,"id":"1","application_id":"` + testAppID + `","token":"t","user":{"id":"5"},"data":null}`),
		[]byte(`{"type":2,"data":{"options":[{"type":1,"options":[{"type":1,"options":[]}]}]}}`),
		[]byte(`null`), []byte(`[]`), []byte(`{`), []byte(`{"type":"2"}`), []byte(`{"type":99}`),
	} {
		f.Add(b)
	}
	router := bottest.Router(f, store, bot.Config{})
	fd, err := New(Config{BotToken: testBotToken, ApplicationID: testAppID, PublicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"}, router, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeInteraction(body, testAppID)
		if err != nil {
			return
		}
		if in.Type == discordgo.InteractionPing {
			return
		}
		if !safeToken(in.Token) || user(in) == nil || !isSnowflake(in.ID) {
			t.Fatalf("decoded an interaction without token, user or id: %+v", in)
		}
		switch in.Type {
		case discordgo.InteractionApplicationCommand:
			data := in.Data.(discordgo.ApplicationCommandInteractionData)
			text, _ := fd.commandText(data)
			args, err := bot.ParseArgs(text)
			if err != nil || len(args.Words) == 0 {
				return // the router answers with a usage error
			}
			cmd := fd.lookup(args.Words[0])
			if cmd == nil {
				return
			}
			// Every given argument option is a positional word.
			var want []string
			for _, a := range cmd.Args {
				for _, sub := range data.Options {
					if sub == nil || sub.Type != discordgo.ApplicationCommandOptionSubCommand || sub.Name != cmd.Name {
						continue
					}
					var last string
					for _, o := range sub.Options {
						if o != nil && o.Name == a.Name {
							last = optionString(o)
						}
					}
					if last != "" {
						want = append(want, last)
					}
					break
				}
			}
			if len(want) > 0 && !slices.Equal(args.Words[1:], want) {
				t.Fatalf("text %q gives words %q, want %q", text, args.Words[1:], want)
			}
		case discordgo.InteractionApplicationCommandAutocomplete:
			fd.focused(in.Data.(discordgo.ApplicationCommandInteractionData))
		}
	})
}
