package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/idpbot/idpbot/bot"
)

// maxWebhookRetries bounds the retries of a response_url post that Slack
// answered with 429.
const maxWebhookRetries = 3

// deliver renders rep and posts it to the response_url of the request it
// answers. It runs off the acknowledgement path.
func (fd *FrontDoor) deliver(ctx context.Context, req *bot.Request, responseURL string, rep *bot.Reply) {
	fd.deliverMessage(ctx, req, responseURL, Message(rep, fd.router.ButtonValue))
}

func (fd *FrontDoor) deliverMessage(ctx context.Context, req *bot.Request, responseURL string, msg *slackapi.WebhookMessage) {
	if responseURL == "" {
		fd.log.WarnContext(ctx, "reply dropped: the request had no response_url", "request_id", req.ID, "user_id", req.User.ID)
		return
	}
	if err := fd.respond(ctx, responseURL, msg); err != nil {
		fd.log.ErrorContext(ctx, "post reply to response_url", "request_id", req.ID, "user_id", req.User.ID, "error", err.Error())
	}
}

// respond posts msg to a response_url, waiting out HTTP 429 (Retry-After)
// up to maxWebhookRetries times.
func (fd *FrontDoor) respond(ctx context.Context, responseURL string, msg *slackapi.WebhookMessage) error {
	for attempt := 0; ; attempt++ {
		err := slackapi.PostWebhookCustomHTTPContext(ctx, responseURL, fd.hc, msg)
		var rl *slackapi.RateLimitedError
		if err == nil || !errors.As(err, &rl) || attempt == maxWebhookRetries {
			return redactURL(err)
		}
		t := time.NewTimer(max(rl.RetryAfter, time.Second))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("response_url rate limited: %w", ctx.Err())
		}
	}
}

// redactURL drops the URL from a transport error: a response_url lets
// anyone post into the conversation for 30 minutes.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("post to response_url: %s: %w", ue.Op, ue.Err)
	}
	return err
}

// PostMessage posts rep in a channel with the bot token (chat.postMessage)
// and returns the message's timestamp, which UpdateMessage takes. Use it
// for messages that outlive a response_url (approvals, leaderboards).
// Rate limits (429) are waited out.
func (fd *FrontDoor) PostMessage(ctx context.Context, channelID string, rep *bot.Reply) (string, error) {
	text, blocks := Render(rep, fd.router.ButtonValue)
	_, ts, err := fd.api.PostMessageContext(ctx, channelID, slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...))
	if err != nil {
		return "", fmt.Errorf("slack chat.postMessage %s: %w", channelID, err)
	}
	return ts, nil
}

// UpdateMessage replaces a message the bot posted (chat.update).
func (fd *FrontDoor) UpdateMessage(ctx context.Context, channelID, ts string, rep *bot.Reply) error {
	text, blocks := Render(rep, fd.router.ButtonValue)
	_, _, _, err := fd.api.UpdateMessageContext(ctx, channelID, ts, slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...))
	if err != nil {
		return fmt.Errorf("slack chat.update %s %s: %w", channelID, ts, err)
	}
	return nil
}

// keyedEvent is the message-metadata event type of keyed posts.
const keyedEvent = "idpbot_post"

// PostKeyed posts rep in a channel like PostMessage, carrying key in the
// message's metadata so that FindKeyed can tell, after a crash, whether the
// post went out. Leaderboards use it to post exactly once.
func (fd *FrontDoor) PostKeyed(ctx context.Context, channelID, key string, rep *bot.Reply) (string, error) {
	text, blocks := Render(rep, fd.router.ButtonValue)
	md := slackapi.SlackMetadata{EventType: keyedEvent, EventPayload: map[string]any{"key": key}}
	_, ts, err := fd.api.PostMessageContext(ctx, channelID, slackapi.MsgOptionText(text, false),
		slackapi.MsgOptionBlocks(blocks...), slackapi.MsgOptionMetadata(md))
	if err != nil {
		return "", fmt.Errorf("slack chat.postMessage %s: %w", channelID, err)
	}
	return ts, nil
}

// maxHistoryPages bounds FindKeyed's walk through a busy channel.
const maxHistoryPages = 10

// FindKeyed says whether the channel has a message posted by PostKeyed
// with key since the given time (conversations.history with metadata;
// scopes channels:history, groups:history for private channels).
func (fd *FrontDoor) FindKeyed(ctx context.Context, channelID, key string, since time.Time) (bool, error) {
	params := &slackapi.GetConversationHistoryParameters{
		ChannelID: channelID, Oldest: fmt.Sprintf("%d.000000", since.Unix()), Limit: 200, IncludeAllMetadata: true,
	}
	for range maxHistoryPages {
		resp, err := fd.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return false, fmt.Errorf("slack conversations.history %s: %w", channelID, err)
		}
		for _, m := range resp.Messages {
			if m.Metadata.EventType == keyedEvent && m.Metadata.EventPayload["key"] == key {
				return true, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			return false, nil
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return false, fmt.Errorf("slack conversations.history %s: more than %d pages since %s; cannot tell whether %s was posted", channelID, maxHistoryPages, since.Format(time.RFC3339), key)
}

// UploadFile shares a file in a channel, in the thread of threadTS when it
// is set (Slack's external upload flow: files.getUploadURLExternal, the
// upload, files.completeUploadExternal; scope files:write). Uploads are not
// retried on 429.
func (fd *FrontDoor) UploadFile(ctx context.Context, channelID, threadTS, filename, title, altText string, data []byte) error {
	_, err := fd.api.UploadFileContext(ctx, slackapi.UploadFileParameters{
		Reader: bytes.NewReader(data), FileSize: len(data), Filename: filename, Title: title, AltTxt: altText,
		Channel: channelID, ThreadTimestamp: threadTS,
	})
	if err != nil {
		return fmt.Errorf("slack file upload to %s: %w", channelID, err)
	}
	return nil
}
