package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/idpbot/idpbot/bot"
)

// CommandName is the one application command idpbot registers; the
// router's commands are its subcommands.
const CommandName = "idp"

// PublicOption is the boolean option of every subcommand that posts the
// answer in the channel (the router's --public).
const PublicOption = "public"

// Discord's application command limits.
const (
	maxNameLen        = 32
	maxDescriptionLen = 100
	maxOptions        = 25
	maxChoices        = 25
	maxChoiceLen      = 100
	maxCommandChars   = 8000
)

// optionName is what Discord accepts as a command or option name.
var optionName = regexp.MustCompile(`^[-_\p{Ll}\p{N}]{1,32}$`)

// Command is the /idp application command built from the router's
// commands: one subcommand each, an option per argument and flag, and the
// public switch. Commands whose name Discord would refuse are left out.
func Command(cmds []*bot.Command) (*discordgo.ApplicationCommand, error) {
	ac := &discordgo.ApplicationCommand{
		Type:        discordgo.ChatApplicationCommand,
		Name:        CommandName,
		Description: "Ask the developer portal: owners, on-call, search, teams",
	}
	for _, c := range cmds {
		if len(ac.Options) == maxOptions {
			return nil, fmt.Errorf("discord: more than %d commands; Discord allows %d subcommands", maxOptions, maxOptions)
		}
		if !optionName.MatchString(c.Name) {
			return nil, fmt.Errorf("discord: command name %q is not a valid Discord name (1 to 32 lower-case letters, digits, - or _)", c.Name)
		}
		sub := &discordgo.ApplicationCommandOption{
			Type:        discordgo.ApplicationCommandOptionSubCommand,
			Name:        c.Name,
			Description: description(c.Summary, c.Name),
		}
		seen := map[string]bool{}
		add := func(o *discordgo.ApplicationCommandOption) error {
			if seen[o.Name] {
				return nil
			}
			if !optionName.MatchString(o.Name) {
				return fmt.Errorf("discord: option %q of %s is not a valid Discord name", o.Name, c.Name)
			}
			if len(sub.Options) == maxOptions {
				return fmt.Errorf("discord: %s has more than %d options", c.Name, maxOptions)
			}
			seen[o.Name] = true
			sub.Options = append(sub.Options, o)
			return nil
		}
		for _, a := range c.Args {
			if err := add(&discordgo.ApplicationCommandOption{
				Type:         discordgo.ApplicationCommandOptionString,
				Name:         a.Name,
				Description:  description(a.Help, a.Name),
				Required:     a.Required,
				Autocomplete: a.Complete != bot.NoCompletion,
			}); err != nil {
				return nil, err
			}
		}
		for _, f := range c.Flags {
			o := &discordgo.ApplicationCommandOption{Name: f.Name, Description: description(f.Help, f.Name)}
			switch {
			case f.Int:
				o.Type = discordgo.ApplicationCommandOptionInteger
				if f.Max > f.Min {
					lo := float64(f.Min)
					o.MinValue, o.MaxValue = &lo, float64(f.Max)
				}
			case len(f.Choices) > 0:
				o.Type = discordgo.ApplicationCommandOptionString
				for _, ch := range f.Choices {
					if len(o.Choices) == maxChoices || len(ch) > maxChoiceLen {
						return nil, fmt.Errorf("discord: --%s of %s has more than %d choices or one longer than %d characters", f.Name, c.Name, maxChoices, maxChoiceLen)
					}
					o.Choices = append(o.Choices, &discordgo.ApplicationCommandOptionChoice{Name: ch, Value: ch})
				}
			case f.Value == "":
				o.Type = discordgo.ApplicationCommandOptionBoolean
			default:
				o.Type = discordgo.ApplicationCommandOptionString
			}
			if err := add(o); err != nil {
				return nil, err
			}
		}
		if err := add(&discordgo.ApplicationCommandOption{
			Type:        discordgo.ApplicationCommandOptionBoolean,
			Name:        PublicOption,
			Description: "post the answer in the channel instead of only to you",
		}); err != nil {
			return nil, err
		}
		// Discord wants the required options first.
		slices.SortStableFunc(sub.Options, func(a, b *discordgo.ApplicationCommandOption) int {
			switch {
			case a.Required && !b.Required:
				return -1
			case !a.Required && b.Required:
				return 1
			}
			return 0
		})
		ac.Options = append(ac.Options, sub)
	}
	if n := commandChars(ac); n > maxCommandChars {
		return nil, fmt.Errorf("discord: the /%s command has %d characters of names and descriptions; Discord allows %d", CommandName, n, maxCommandChars)
	}
	return ac, nil
}

// description is text cut to Discord's 100 characters, or name when text
// is empty.
func description(text, name string) string {
	text = oneLine(text, maxDescriptionLen*2)
	if text == "" {
		text = name
	}
	return truncate(text, maxDescriptionLen)
}

// commandChars counts what Discord counts against the 8000-character
// limit: names, descriptions and choice names and values.
func commandChars(ac *discordgo.ApplicationCommand) int {
	n := len([]rune(ac.Name)) + len([]rune(ac.Description))
	var walk func(opts []*discordgo.ApplicationCommandOption)
	walk = func(opts []*discordgo.ApplicationCommandOption) {
		for _, o := range opts {
			n += len([]rune(o.Name)) + len([]rune(o.Description))
			for _, c := range o.Choices {
				n += len([]rune(c.Name)) + len([]rune(fmt.Sprint(c.Value)))
			}
			walk(o.Options)
		}
	}
	walk(ac.Options)
	return n
}

// commandsPath is the collection of the application's commands: the
// guild's when GuildID is set, else the global ones.
func (fd *FrontDoor) commandsPath() (path, route string) {
	if fd.cfg.GuildID != "" {
		return "/applications/" + fd.cfg.ApplicationID + "/guilds/" + fd.cfg.GuildID + "/commands",
			"/applications/{application.id}/guilds/{guild.id}/commands"
	}
	return "/applications/" + fd.cfg.ApplicationID + "/commands", "/applications/{application.id}/commands"
}

// Register creates the /idp command, or updates it when it differs from
// the router's commands; it writes nothing when Discord already has it
// (Discord allows 200 command creations a day). Commands are global
// unless Config.GuildID is set.
func (fd *FrontDoor) Register(ctx context.Context) (changed bool, err error) {
	want, err := Command(fd.router.Commands())
	if err != nil {
		return false, err
	}
	path, route := fd.commandsPath()
	var have []*discordgo.ApplicationCommand
	if err := fd.api.do(ctx, call{method: http.MethodGet, path: path, route: route, auth: true, retry: true}, &have); err != nil {
		return false, fmt.Errorf("list application commands: %w", err)
	}
	var existing *discordgo.ApplicationCommand
	for _, c := range have {
		if c != nil && c.Name == CommandName && (c.Type == 0 || c.Type == discordgo.ChatApplicationCommand) {
			existing = c
			break
		}
	}
	scope := "global"
	if fd.cfg.GuildID != "" {
		scope = "guild"
	}
	if existing == nil {
		if err := fd.api.do(ctx, call{method: http.MethodPost, path: path, route: route, body: want, auth: true, retry: true}, nil); err != nil {
			return false, fmt.Errorf("create the /%s command: %w", CommandName, err)
		}
		fd.log.InfoContext(ctx, "discord command created", "command", CommandName, "scope", scope, "subcommands", len(want.Options))
		return true, nil
	}
	same, err := sameCommand(existing, want)
	if err != nil {
		return false, err
	}
	if same {
		fd.log.DebugContext(ctx, "discord command up to date", "command", CommandName, "scope", scope)
		return false, nil
	}
	if !isSnowflake(existing.ID) {
		return false, fmt.Errorf("update the /%s command: Discord listed it without a valid id", CommandName)
	}
	if err := fd.api.do(ctx, call{method: http.MethodPatch, path: path + "/" + existing.ID, route: route + "/{command.id}", body: want, auth: true, retry: true}, nil); err != nil {
		return false, fmt.Errorf("update the /%s command: %w", CommandName, err)
	}
	fd.log.InfoContext(ctx, "discord command updated", "command", CommandName, "scope", scope, "subcommands", len(want.Options))
	return true, nil
}

// commandShape is what Register compares: the parts of a command we set,
// in a form where Discord's defaults and ours read the same.
type commandShape struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Options     []optionShape `json:"options"`
}

type optionShape struct {
	Type         int           `json:"type"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Required     bool          `json:"required"`
	Autocomplete bool          `json:"autocomplete"`
	Choices      []string      `json:"choices"`
	Options      []optionShape `json:"options"`
}

func shapeOf(ac *discordgo.ApplicationCommand) commandShape {
	var opts func(os []*discordgo.ApplicationCommandOption) []optionShape
	opts = func(os []*discordgo.ApplicationCommandOption) []optionShape {
		var out []optionShape
		for _, o := range os {
			if o == nil {
				continue
			}
			s := optionShape{Type: int(o.Type), Name: o.Name, Description: o.Description, Required: o.Required, Autocomplete: o.Autocomplete, Options: opts(o.Options)}
			for _, c := range o.Choices {
				if c != nil {
					s.Choices = append(s.Choices, c.Name+"\x00"+strings.TrimSpace(fmt.Sprint(c.Value)))
				}
			}
			out = append(out, s)
		}
		return out
	}
	return commandShape{Name: ac.Name, Description: ac.Description, Options: opts(ac.Options)}
}

func sameCommand(have, want *discordgo.ApplicationCommand) (bool, error) {
	a, err := json.Marshal(shapeOf(have))
	if err != nil {
		return false, fmt.Errorf("compare commands: %w", err)
	}
	b, err := json.Marshal(shapeOf(want))
	if err != nil {
		return false, fmt.Errorf("compare commands: %w", err)
	}
	return bytes.Equal(a, b), nil
}
