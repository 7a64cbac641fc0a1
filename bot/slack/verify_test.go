package slack

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
)

// TestSignatureAgainstSlackGo checks our signatures against slack-go's
// SecretsVerifier, and the example of Slack's documentation.
func TestSignatureAgainstSlackGo(t *testing.T) {
	body := []byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
	ts := "1531420618"
	const want = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	if got := Signature(testSecret, ts, body); got != want {
		t.Errorf("Signature = %s, want Slack's %s", got, want)
	}
	now := time.Now()
	ts = strconvTS(now)
	h := http.Header{}
	h.Set(headerTimestamp, ts)
	h.Set(headerSignature, Signature(testSecret, ts, body))
	sv, err := slackapi.NewSecretsVerifier(h, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = sv.Write(body)
	if err := sv.Ensure(); err != nil {
		t.Errorf("slack-go rejects our signature: %v", err)
	}
	v := verifier{secret: []byte(testSecret), now: func() time.Time { return now }}
	if err := v.verify(h, body); err != nil {
		t.Errorf("verify: %v", err)
	}
}

func TestVerifyErrors(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	v := verifier{secret: []byte(testSecret), now: func() time.Time { return now }}
	body := []byte("a=b")
	ts := strconvTS(now)
	cases := []struct {
		name    string
		ts, sig string
		want    error
	}{
		{"ok", ts, Signature(testSecret, ts, body), nil},
		{"missing", "", "", ErrMissingHeaders},
		{"not a number", "abc", Signature(testSecret, "abc", body), ErrBadTimestamp},
		{"negative overflow", "-9223372036854775808", "v0=00", ErrStaleTimestamp},
		{"stale", strconvTS(now.Add(-301 * time.Second)), Signature(testSecret, strconvTS(now.Add(-301*time.Second)), body), ErrStaleTimestamp},
		{"future", strconvTS(now.Add(301 * time.Second)), Signature(testSecret, strconvTS(now.Add(301*time.Second)), body), ErrStaleTimestamp},
		{"short", ts, "v0=abcd", ErrBadSignature},
		{"not hex", ts, "v0=" + strings.Repeat("zz", 32), ErrBadSignature},
		{"wrong", ts, Signature("other", ts, body), ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.ts != "" {
				h.Set(headerTimestamp, tc.ts)
			}
			if tc.sig != "" {
				h.Set(headerSignature, tc.sig)
			}
			err := v.verify(h, body)
			if !errors.Is(err, tc.want) {
				t.Errorf("verify = %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), testSecret) {
				t.Errorf("error carries the secret")
			}
		})
	}
}

func strconvTS(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
