package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

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

// keyMarker tags a keyed post in its last embed's footer.
const keyMarker = "ref "

// Attachment is a file posted with a message (a chart).
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// PostKeyed posts rep like PostMessage, its key in the footer of the last
// embed (small print), so that FindKeyed can tell after a crash whether
// the post went out. Leaderboards use it to post exactly once. An image
// attachment is shown in the first embed.
func (fd *FrontDoor) PostKeyed(ctx context.Context, channelID, key string, rep *bot.Reply, files ...Attachment) (string, error) {
	if !isSnowflake(channelID) {
		return "", fmt.Errorf("discord: %q is not a channel id", channelID)
	}
	m := Render(rep, fd.router.ButtonValue)
	if len(m.Embeds) == 0 {
		m.Embeds = append(m.Embeds, &discordgo.MessageEmbed{Description: m.Content})
		m.Content = ""
	}
	last := m.Embeds[len(m.Embeds)-1]
	if last.Footer == nil {
		last.Footer = &discordgo.MessageEmbedFooter{}
	}
	if last.Footer.Text != "" {
		last.Footer.Text += " · "
	}
	last.Footer.Text += keyMarker + key
	send := &discordgo.MessageSend{Content: m.Content, Embeds: m.Embeds, Components: m.Components, AllowedMentions: allowedMentions()}
	c := call{method: http.MethodPost, path: "/channels/" + channelID + "/messages", route: "/channels/{channel.id}/messages",
		body: send, auth: true, retry: true}
	if len(files) > 0 {
		if strings.HasPrefix(files[0].ContentType, "image/") && m.Embeds[0].Image == nil {
			m.Embeds[0].Image = &discordgo.MessageEmbedImage{URL: "attachment://" + files[0].Filename}
		}
		raw, ct, err := multipartMessage(send, files)
		if err != nil {
			return "", err
		}
		c.raw, c.contentType = raw, ct
	}
	var out struct {
		ID string `json:"id"`
	}
	err := fd.api.do(ctx, c, &out)
	return out.ID, err
}

// multipartMessage is a message with files as Discord takes them:
// payload_json and files[n] parts, the files listed in attachments.
func multipartMessage(send *discordgo.MessageSend, files []Attachment) ([]byte, string, error) {
	type attachment struct {
		ID       int    `json:"id"`
		Filename string `json:"filename"`
	}
	payload := struct {
		*discordgo.MessageSend
		Attachments []attachment `json:"attachments"`
	}{MessageSend: send}
	for i, f := range files {
		payload.Attachments = append(payload.Attachments, attachment{ID: i, Filename: f.Filename})
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	pj, err := json.Marshal(payload)
	if err != nil {
		return nil, "", err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="payload_json"`)
	h.Set("Content-Type", "application/json")
	pw, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	pw.Write(pj)
	for i, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files[%d]"; filename=%q`, i, f.Filename))
		h.Set("Content-Type", f.ContentType)
		fw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		fw.Write(f.Data)
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// discordEpoch is the start of Discord's snowflake clock.
const discordEpoch = 1420070400000

// maxHistoryPages bounds FindKeyed's walk through a busy channel.
const maxHistoryPages = 10

// FindKeyed says whether the channel has a message posted by PostKeyed
// with key since the given time (GET /channels/{id}/messages; the bot needs
// Read Message History in the channel).
func (fd *FrontDoor) FindKeyed(ctx context.Context, channelID, key string, since time.Time) (bool, error) {
	if !isSnowflake(channelID) {
		return false, fmt.Errorf("discord: %q is not a channel id", channelID)
	}
	after := strconv.FormatInt(max(since.UnixMilli()-discordEpoch, 0)<<22, 10)
	want := keyMarker + key
	for range maxHistoryPages {
		var msgs []struct {
			ID     string `json:"id"`
			Embeds []struct {
				Footer *struct {
					Text string `json:"text"`
				} `json:"footer"`
			} `json:"embeds"`
		}
		err := fd.api.do(ctx, call{
			method: http.MethodGet, path: "/channels/" + channelID + "/messages?limit=100&after=" + after,
			route: "/channels/{channel.id}/messages", auth: true, retry: true,
		}, &msgs)
		if err != nil {
			return false, err
		}
		for _, m := range msgs {
			for _, e := range m.Embeds {
				if e.Footer != nil && strings.HasSuffix(e.Footer.Text, want) {
					return true, nil
				}
			}
			if snowflakeAfter(m.ID, after) {
				after = m.ID
			}
		}
		if len(msgs) < 100 {
			return false, nil
		}
	}
	return false, fmt.Errorf("discord: more than %d pages of messages in %s since %s; cannot tell whether %s was posted", maxHistoryPages, channelID, since.Format(time.RFC3339), key)
}

// snowflakeAfter compares two snowflakes numerically.
func snowflakeAfter(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x > y
}
