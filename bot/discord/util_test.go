package discord

import (
	"errors"

	"github.com/idpbot/idpbot/bot"
)

func botButton(command string) bot.Button { return bot.Button{Label: command, Command: command} }

func asAPIError(err error, target **APIError) bool { return errors.As(err, target) }
