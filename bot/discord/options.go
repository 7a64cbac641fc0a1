package discord

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/idpbot/idpbot/bot"
)

// commandText turns the subcommand and its options into the text the
// router parses: flags first, then "--" and the positional arguments
// quoted, so that no option value can pose as a flag or a parameter.
// public reports the public switch.
func (fd *FrontDoor) commandText(data discordgo.ApplicationCommandInteractionData) (text string, public bool) {
	var sub *discordgo.ApplicationCommandInteractionDataOption
	for _, o := range data.Options {
		if o != nil && o.Type == discordgo.ApplicationCommandOptionSubCommand {
			sub = o
			break
		}
	}
	if sub == nil {
		return "", false
	}
	opts := map[string]*discordgo.ApplicationCommandInteractionDataOption{}
	var order []string
	for _, o := range sub.Options {
		if o == nil {
			continue
		}
		if _, dup := opts[o.Name]; !dup {
			order = append(order, o.Name)
		}
		opts[o.Name] = o
	}
	cmd := fd.lookup(sub.Name)
	isArg := map[string]bool{}
	var b strings.Builder
	b.WriteString(bot.Quote(sub.Name))
	if cmd != nil {
		for _, a := range cmd.Args {
			isArg[a.Name] = true
		}
	}
	for _, name := range order {
		o := opts[name]
		if isArg[name] {
			continue
		}
		if name == PublicOption {
			public = optionBool(o)
			if public {
				b.WriteString(" --" + PublicOption)
			}
			continue
		}
		if !flagName(name) {
			continue // never reaches the router as text
		}
		switch v := o.Value.(type) {
		case bool:
			if v {
				b.WriteString(" --" + name)
			}
		case nil:
		default:
			b.WriteString(" --" + name + "=" + bot.Quote(optionString(o)))
		}
	}
	first := true
	if cmd != nil {
		for _, a := range cmd.Args {
			o, ok := opts[a.Name]
			if !ok {
				continue
			}
			v := optionString(o)
			if v == "" {
				continue
			}
			if first {
				b.WriteString(" --")
				first = false
			}
			b.WriteString(" " + bot.Quote(v))
		}
	}
	return b.String(), public
}

// lookup finds a router command by its name.
func (fd *FrontDoor) lookup(name string) *bot.Command {
	c, ok := fd.router.Command(name)
	if !ok || c.Name != name { // aliases are not registered with Discord
		return nil
	}
	return c
}

// flagName reports whether s can be written as --s in a command: the
// router's flag names are ASCII, a letter first.
var flagNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

func flagName(s string) bool { return flagNamePattern.MatchString(s) }

// optionString is an option's value as text: strings as they are, whole
// numbers without a decimal point.
func optionString(o *discordgo.ApplicationCommandInteractionDataOption) string {
	switch v := o.Value.(type) {
	case string:
		return v
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	}
	return fmt.Sprint(o.Value)
}

func optionBool(o *discordgo.ApplicationCommandInteractionDataOption) bool {
	b, _ := o.Value.(bool)
	return b
}

// focused finds the option being typed and what completes it.
func (fd *FrontDoor) focused(data discordgo.ApplicationCommandInteractionData) (bot.Completion, string, bool) {
	for _, sub := range data.Options {
		if sub == nil || sub.Type != discordgo.ApplicationCommandOptionSubCommand {
			continue
		}
		cmd := fd.lookup(sub.Name)
		if cmd == nil {
			return 0, "", false
		}
		for _, o := range sub.Options {
			if o == nil || !o.Focused {
				continue
			}
			for _, a := range cmd.Args {
				if a.Name == o.Name && a.Complete != bot.NoCompletion {
					return a.Complete, optionString(o), true
				}
			}
		}
	}
	return 0, "", false
}
