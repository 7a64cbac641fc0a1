package discord

import (
	"context"
	"fmt"
	"net/http"

	"github.com/bwmarrin/discordgo"

	"github.com/idpbot/idpbot/bot"
)

// PostMessage posts rep in a channel with the bot token (POST
// /channels/{id}/messages) and returns the message id, which EditMessage
// takes. Use it for messages that outlive an interaction token's 15
// minutes (approvals). 429s are waited out.
func (fd *FrontDoor) PostMessage(ctx context.Context, channelID string, rep *bot.Reply) (string, error) {
	if !isSnowflake(channelID) {
		return "", fmt.Errorf("discord: %q is not a channel id", channelID)
	}
	m := Render(rep, fd.router.ButtonValue)
	var out struct {
		ID string `json:"id"`
	}
	err := fd.api.do(ctx, call{
		method: http.MethodPost,
		path:   "/channels/" + channelID + "/messages",
		route:  "/channels/{channel.id}/messages",
		body: &discordgo.MessageSend{Content: m.Content, Embeds: m.Embeds, Components: m.Components,
			AllowedMentions: allowedMentions()},
		auth:  true,
		retry: true,
	}, &out)
	if err != nil {
		return "", err
	}
	return out.ID, nil
}

// EditMessage replaces a message the bot posted (PATCH
// /channels/{id}/messages/{id}).
func (fd *FrontDoor) EditMessage(ctx context.Context, channelID, messageID string, rep *bot.Reply) error {
	if !isSnowflake(channelID) || !isSnowflake(messageID) {
		return fmt.Errorf("discord: %q/%q is not a channel and message id", channelID, messageID)
	}
	m := Render(rep, fd.router.ButtonValue)
	content, embeds, components := m.Content, m.Embeds, m.Components
	return fd.api.do(ctx, call{
		method: http.MethodPatch,
		path:   "/channels/" + channelID + "/messages/" + messageID,
		route:  "/channels/{channel.id}/messages/{message.id}",
		body:   &discordgo.MessageEdit{Content: &content, Embeds: &embeds, Components: &components, AllowedMentions: allowedMentions()},
		auth:   true,
		retry:  true,
	}, nil)
}
