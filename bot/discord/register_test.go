package discord

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestRegister(t *testing.T) {
	for _, guild := range []bool{false, true} {
		name := "global"
		base := "/api/v10/applications/" + testAppID + "/commands"
		var opts []harnessOpt
		if guild {
			name = "guild"
			base = "/api/v10/applications/" + testAppID + "/guilds/" + testGuildID + "/commands"
			opts = append(opts, withGuild())
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, opts...)
			ctx := t.Context()
			changed, err := h.fd.Register(ctx)
			if err != nil || !changed {
				t.Fatalf("first Register: changed %v, %v", changed, err)
			}
			reqs := h.api.requests()
			if len(reqs) != 2 || reqs[0].Method != http.MethodGet || reqs[1].Method != http.MethodPost || reqs[1].Path != base {
				t.Fatalf("first Register sent %s", describe(reqs))
			}
			if reqs[1].Auth != "Bot "+testBotToken {
				t.Errorf("Authorization %q", reqs[1].Auth)
			}
			golden(t, "register-"+name, reqs[1].Body)

			changed, err = h.fd.Register(ctx)
			if err != nil || changed {
				t.Fatalf("second Register: changed %v, %v", changed, err)
			}
			if reqs := h.api.requests()[2:]; len(reqs) != 1 || reqs[0].Method != http.MethodGet {
				t.Fatalf("second Register sent %s, want only the GET", describe(reqs))
			}

			// Someone edits the command on Discord's side: Register puts
			// it back with a PATCH (no new creation).
			h.api.mu.Lock()
			scope := "global"
			if guild {
				scope = testGuildID
			}
			c := h.api.commands[scope][0]
			h.api.commands[scope][0] = json.RawMessage(strings.Replace(string(c), "Ask the developer portal", "Ask something else", 1))
			h.api.mu.Unlock()
			changed, err = h.fd.Register(ctx)
			if err != nil || !changed {
				t.Fatalf("third Register: changed %v, %v", changed, err)
			}
			reqs = h.api.requests()[3:]
			if len(reqs) != 2 || reqs[1].Method != http.MethodPatch || !strings.HasPrefix(reqs[1].Path, base+"/") {
				t.Fatalf("third Register sent %s, want GET then PATCH", describe(reqs))
			}
			if changed, err := h.fd.Register(ctx); err != nil || changed {
				t.Fatalf("fourth Register: changed %v, %v", changed, err)
			}
		})
	}
}

func TestRegisterUnauthorized(t *testing.T) {
	h := newHarness(t)
	h.fd.api.token = "wrong-token"
	_, err := h.fd.Register(t.Context())
	var ae *APIError
	if !asAPIError(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401 APIError", err)
	}
	if strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("the error shows the token: %v", err)
	}
	if got := h.fd.api.invalidCounts()[http.StatusUnauthorized]; got != 1 {
		t.Errorf("counted %d 401s", got)
	}
}

// TestInvalidRequestAlarm: many 401/403/429 answers in the window are
// logged as an error once.
func TestInvalidRequestAlarm(t *testing.T) {
	h := newHarness(t)
	for range invalidThreshold + 5 {
		h.fd.api.countInvalid(t.Context(), http.StatusForbidden)
	}
	if n := strings.Count(h.logs.String(), "discord is refusing many requests"); n != 1 {
		t.Fatalf("alarm logged %d times, want once", n)
	}
}

func TestRegisterRateLimited(t *testing.T) {
	h := newHarness(t)
	h.api.fail("commands", http.StatusTooManyRequests)
	if changed, err := h.fd.Register(t.Context()); err != nil || !changed {
		t.Fatalf("Register after a 429: changed %v, %v", changed, err)
	}
}

func TestCommandSchema(t *testing.T) {
	h := newHarness(t)
	ac, err := Command(h.router.Commands())
	if err != nil {
		t.Fatal(err)
	}
	if ac.Name != "idp" || len(ac.Options) == 0 {
		t.Fatalf("command %+v", ac)
	}
	byName := map[string]*discordgo.ApplicationCommandOption{}
	for _, s := range ac.Options {
		if s.Type != discordgo.ApplicationCommandOptionSubCommand || len(s.Name) > 32 || len(s.Description) > 100 || s.Description == "" {
			t.Errorf("subcommand %q: type %d, description %q", s.Name, s.Type, s.Description)
		}
		byName[s.Name] = s
		required := true
		for _, o := range s.Options {
			if o.Required && !required {
				t.Errorf("%s: required option %s after an optional one", s.Name, o.Name)
			}
			required = o.Required
		}
	}
	search := byName["search"]
	want := map[string]discordgo.ApplicationCommandOptionType{
		"text": discordgo.ApplicationCommandOptionString, "kind": discordgo.ApplicationCommandOptionString,
		"limit": discordgo.ApplicationCommandOptionInteger, "public": discordgo.ApplicationCommandOptionBoolean,
	}
	for _, o := range search.Options {
		if want[o.Name] != o.Type {
			t.Errorf("search option %s has type %d", o.Name, o.Type)
		}
		if o.Name == "kind" && len(o.Choices) == 0 {
			t.Error("--kind has no choices")
		}
	}
	if o := byName["who-owns"].Options[0]; o.Name != "entity" || !o.Required || !o.Autocomplete {
		t.Errorf("who-owns entity option %+v", o)
	}
}

func describe(reqs []recorded) string {
	var s []string
	for _, r := range reqs {
		s = append(s, r.Method+" "+r.Path)
	}
	return "[" + strings.Join(s, ", ") + "]"
}
