package slack

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/idpbot/idpbot/bot"
)

// FuzzPayload feeds the interactivity payload decoder arbitrary bytes: it
// must never panic, must refuse with ErrMalformed, and what it accepts must
// hold what the click handler relies on. The seeds (f.Add and
// testdata/fuzz/FuzzPayload) run as a normal test.
func FuzzPayload(f *testing.F) {
	f.Add([]byte(clickForm("idp-0", "b1.c2hvdyBwYXltZW50cw.AAAAAAAAAAAAAAAAAAAAAA", "https://hooks.slack.com/actions/T0/1/x").Get("payload")))
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"link-0","type":"button"}]}`))
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"response_url":"javascript:alert(1)","actions":[]}`))
	f.Add([]byte(`{"type":"view_submission","user":{"id":"U1"},"view":{"id":"V1"}}`))
	f.Add([]byte(`{"type":"block_actions","user":null,"team":null,"enterprise":null,"actions":null}`))
	f.Add([]byte(`{"type":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{`))
	f.Add([]byte(``))
	f.Add([]byte("{\"type\":\"block_actions\",\"user\":{\"id\":\"U\xff\"}}"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		in, err := decodeInteraction(payload)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			if len(payload) > 0 && strings.Contains(err.Error(), string(payload)) {
				t.Fatalf("error quotes the payload")
			}
			return
		}
		if in.Type == "" {
			t.Fatal("accepted a payload without type")
		}
		if in.Type != "block_actions" {
			return
		}
		if in.User.ID == "" || len(in.Actions) > maxActions {
			t.Fatalf("accepted block_actions: user %q, %d actions", in.User.ID, len(in.Actions))
		}
		if in.ResponseURL != "" && checkResponseURL(in.ResponseURL) != nil {
			t.Fatalf("accepted response_url %q", in.ResponseURL)
		}
		if a, ok := in.clicked(); ok && (a.Value == "" || !strings.HasPrefix(a.ActionID, actionPrefix)) {
			t.Fatalf("clicked %+v", a)
		}
		req := in.request()
		if req.Platform != bot.Slack || req.User.ID != in.User.ID || req.ID == "" {
			t.Fatalf("request %+v", req)
		}
		// What was accepted survives a round trip.
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeInteraction(b)
		if err != nil || again.User.ID != in.User.ID || len(again.Actions) != len(in.Actions) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzMrkdwn renders arbitrary text at arbitrary limits: never more than
// the limit, always valid UTF-8 with whole tokens and entities.
func FuzzMrkdwn(f *testing.F) {
	f.Add("ping <!channel> & <@U1>", "https://x.example/?a=1&b=2", "U01ALICE", 40)
	f.Add("ünï*cödé `x` 🚀", "javascript:alert(1)", "U1>|<!here>", 7)
	f.Add("", "mailto:a@b.example", "", 0)
	f.Fuzz(func(t *testing.T, s, u, id string, limit int) {
		limit = max(0, min(limit, 5000))
		text := bot.Text{bot.P(s), bot.B(s), bot.C(s), bot.L(s, u), bot.Mention(s, map[bot.Platform]string{bot.Slack: id}), bot.ChannelRef(s, map[bot.Platform]string{bot.Slack: id})}
		got, n, _ := mrkdwn(text, limit)
		if c := utf8.RuneCountInString(got); c > limit || c != n {
			t.Fatalf("limit %d: %d characters (n=%d)", limit, c, n)
		}
		if err := wellFormed(got); err != nil && utf8.ValidString(s) {
			// Bold/code marks inside s itself can unbalance * and `; only
			// check the security properties then.
			rest := tokenRE.ReplaceAllString(got, "")
			if strings.ContainsAny(rest, "<>") || strings.Contains(entityRE.ReplaceAllString(rest, ""), "&") || !utf8.ValidString(got) {
				t.Fatalf("limit %d: %v: %q", limit, err, got)
			}
		}
	})
}
