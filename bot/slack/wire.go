package slack

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"
)

// appendMessage appends msg as JSON: the same document encoding/json makes
// of it, in one pass. slack-go's block types marshal through nested
// MarshalJSON methods whose output encoding/json compacts again at every
// level; that was a quarter of the cost of answering a command. Blocks of
// types Render does not make fall back to encoding/json.
func appendMessage(dst []byte, msg *slackapi.WebhookMessage) ([]byte, error) {
	dst = append(dst, `{"text":`...)
	dst = appendString(dst, msg.Text)
	if msg.Blocks != nil && len(msg.Blocks.BlockSet) > 0 {
		dst = append(dst, `,"blocks":[`...)
		for i, b := range msg.Blocks.BlockSet {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendBlock(dst, b); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	}
	if msg.ResponseType != "" {
		dst = append(dst, `,"response_type":`...)
		dst = appendString(dst, msg.ResponseType)
	}
	dst = append(dst, `,"replace_original":`...)
	dst = strconv.AppendBool(dst, msg.ReplaceOriginal)
	dst = append(dst, `,"delete_original":`...)
	dst = strconv.AppendBool(dst, msg.DeleteOriginal)
	return append(dst, '}'), nil
}

func appendBlock(dst []byte, b slackapi.Block) ([]byte, error) {
	switch b := b.(type) {
	case *slackapi.HeaderBlock:
		if b.BlockID != "" || b.Level != 0 {
			break
		}
		dst = append(dst, `{"type":"header","text":`...)
		return append(appendText(dst, b.Text), '}'), nil
	case *slackapi.SectionBlock:
		if b.BlockID != "" || b.Accessory != nil || b.Expand {
			break
		}
		dst = append(dst, `{"type":"section"`...)
		if b.Text != nil {
			dst = append(dst, `,"text":`...)
			dst = appendText(dst, b.Text)
		}
		if len(b.Fields) > 0 {
			dst = append(dst, `,"fields":[`...)
			for i, f := range b.Fields {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendText(dst, f)
			}
			dst = append(dst, ']')
		}
		return append(dst, '}'), nil
	case *slackapi.ContextBlock:
		if b.BlockID != "" || !allText(b.ContextElements.Elements) {
			break
		}
		dst = append(dst, `{"type":"context","elements":[`...)
		for i, e := range b.ContextElements.Elements {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendText(dst, e.(*slackapi.TextBlockObject))
		}
		return append(dst, "]}"...), nil
	case *slackapi.DividerBlock:
		if b.BlockID != "" {
			break
		}
		return append(dst, `{"type":"divider"}`...), nil
	case *slackapi.ActionBlock:
		if b.BlockID != "" || b.Elements == nil || !allButtons(b.Elements.ElementSet) {
			break
		}
		dst = append(dst, `{"type":"actions","elements":[`...)
		for i, e := range b.Elements.ElementSet {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendButton(dst, e.(*slackapi.ButtonBlockElement))
		}
		return append(dst, "]}"...), nil
	case *slackapi.ImageBlock:
		if b.BlockID != "" || b.SlackFile != nil {
			break
		}
		dst = append(dst, `{"type":"image"`...)
		if b.ImageURL != "" {
			dst = append(dst, `,"image_url":`...)
			dst = appendString(dst, b.ImageURL)
		}
		dst = append(dst, `,"alt_text":`...)
		dst = appendString(dst, b.AltText)
		if b.Title != nil {
			dst = append(dst, `,"title":`...)
			dst = appendText(dst, b.Title)
		}
		return append(dst, '}'), nil
	}
	js, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	return append(dst, js...), nil
}

func allText(es []slackapi.MixedElement) bool {
	for _, e := range es {
		if t, ok := e.(*slackapi.TextBlockObject); !ok || t == nil {
			return false
		}
	}
	return true
}

func allButtons(es []slackapi.BlockElement) bool {
	for _, e := range es {
		b, ok := e.(*slackapi.ButtonBlockElement)
		if !ok || b == nil || b.Confirm != nil || b.AccessibilityLabel != "" || b.AgentPrompt != "" || b.AgentPromptDisplay != "" || len(b.VisibleToUserIDs) > 0 {
			return false
		}
	}
	return true
}

func appendText(dst []byte, t *slackapi.TextBlockObject) []byte {
	if t == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, t.Type)
	dst = append(dst, `,"text":`...)
	dst = appendString(dst, t.Text)
	if t.Emoji != nil {
		dst = append(dst, `,"emoji":`...)
		dst = strconv.AppendBool(dst, *t.Emoji)
	}
	if t.Verbatim {
		dst = append(dst, `,"verbatim":true`...)
	}
	return append(dst, '}')
}

func appendButton(dst []byte, b *slackapi.ButtonBlockElement) []byte {
	dst = append(dst, `{"type":"button","text":`...)
	dst = appendText(dst, b.Text)
	for _, kv := range [...]struct{ k, v string }{{"action_id", b.ActionID}, {"url", b.URL}, {"value", b.Value}, {"style", string(b.Style)}} {
		if kv.v != "" {
			dst = append(dst, ',', '"')
			dst = append(dst, kv.k...)
			dst = append(dst, '"', ':')
			dst = appendString(dst, kv.v)
		}
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// except for <, > and & (which need no escaping outside HTML).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
