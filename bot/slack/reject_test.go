package slack

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRejections sends requests Slack did not sign, or could not have
// sent, and checks the status and that nothing ran: no command counted by
// the router's metrics, no catalog call, nothing posted anywhere.
func TestRejections(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) { c.MaxBodyBytes = 2048 }})
	okBody := slashForm("who-owns payments-api", e.sink.url("/rejected")).Encode()
	ts := strconv.FormatInt(testNow.Unix(), 10)
	withHeaders := func(method, path, body string, h map[string]string) *http.Request {
		req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range h {
			req.Header.Set(k, v)
		}
		return req
	}
	form := "application/x-www-form-urlencoded"
	signedAt := func(path string, at time.Time, body string) *http.Request { return signed(t, e.srv.URL+path, at, body) }
	big := okBody + "&padding=" + strings.Repeat("x", 4096)
	cases := []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"forged signature", withHeaders("POST", CommandsPath, okBody, map[string]string{
			"Content-Type": form, headerTimestamp: ts, headerSignature: Signature("another-secret", ts, []byte(okBody))}), 401},
		{"body altered after signing", withHeaders("POST", CommandsPath, strings.Replace(okBody, "who-owns", "whoowns", 1), map[string]string{
			"Content-Type": form, headerTimestamp: ts, headerSignature: Signature(testSecret, ts, []byte(okBody))}), 401},
		{"signature of another timestamp", withHeaders("POST", CommandsPath, okBody, map[string]string{
			"Content-Type": form, headerTimestamp: ts, headerSignature: Signature(testSecret, strconv.FormatInt(testNow.Unix()-1, 10), []byte(okBody))}), 401},
		{"stale timestamp", signedAt(CommandsPath, testNow.Add(-signatureWindow-time.Second), okBody), 401},
		{"future timestamp", signedAt(CommandsPath, testNow.Add(signatureWindow+time.Second), okBody), 401},
		{"missing signature", withHeaders("POST", CommandsPath, okBody, map[string]string{"Content-Type": form, headerTimestamp: ts}), 401},
		{"missing timestamp", withHeaders("POST", CommandsPath, okBody, map[string]string{
			"Content-Type": form, headerSignature: Signature(testSecret, ts, []byte(okBody))}), 401},
		{"non-numeric timestamp", withHeaders("POST", CommandsPath, okBody, map[string]string{
			"Content-Type": form, headerTimestamp: "1e9", headerSignature: Signature(testSecret, "1e9", []byte(okBody))}), 401},
		{"huge timestamp", withHeaders("POST", CommandsPath, okBody, map[string]string{
			"Content-Type": form, headerTimestamp: "9223372036854775807", headerSignature: Signature(testSecret, "9223372036854775807", []byte(okBody))}), 401},
		{"other signature version", withHeaders("POST", CommandsPath, okBody, map[string]string{
			"Content-Type": form, headerTimestamp: ts, headerSignature: "v1=" + strings.TrimPrefix(Signature(testSecret, ts, []byte(okBody)), "v0=")}), 401},
		{"oversize body", signedAt(CommandsPath, testNow, big), 413},
		{"oversize body without length", func() *http.Request {
			r := signedAt(CommandsPath, testNow, big)
			r.ContentLength = -1 // sent chunked
			return r
		}(), 413},
		{"wrong method", withHeaders("GET", CommandsPath, "", nil), 405},
		{"wrong method on interactivity", withHeaders("PUT", InteractivityPath, okBody, nil), 405},
		{"wrong content type", func() *http.Request {
			r := signedAt(CommandsPath, testNow, okBody)
			r.Header.Set("Content-Type", "application/json")
			return r
		}(), 400},
		{"slash command without user", signedAt(CommandsPath, testNow, "text=who-owns+x&response_url=https%3A%2F%2Fhooks.slack.com%2Fx"), 400},
		{"slash command with a bad response_url", signedAt(CommandsPath, testNow, "user_id=U01ALICE&text=help&response_url=ftp%3A%2F%2Fx"), 400},
		{"malformed payload JSON", signedAt(InteractivityPath, testNow, "payload=%7Bnot+json"), 400},
		{"payload without type", signedAt(InteractivityPath, testNow, "payload=%7B%7D"), 400},
		{"no payload field", signedAt(InteractivityPath, testNow, "foo=bar"), 400},
		{"block_actions without user", signedAt(InteractivityPath, testNow, "payload="+urlEscape(`{"type":"block_actions","actions":[{"action_id":"idp-0","value":"x"}]}`)), 400},
		{"forged click", withHeaders("POST", InteractivityPath, clickForm("idp-0", "b1.x.y", e.sink.url("/x")).Encode(), map[string]string{
			"Content-Type": form, headerTimestamp: ts, headerSignature: Signature("another-secret", ts, []byte(clickForm("idp-0", "b1.x.y", e.sink.url("/x")).Encode()))}), 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := e.srv.Client().Do(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 405 && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
		})
	}
	// Drain anything that might have started, then check nothing did.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.fd.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n, calls := e.commandsTotal(t), e.cat.calls.Load(); n != 0 || calls != 0 || len(e.sink.posts) != 0 {
		t.Errorf("after rejected requests: %v commands, %d catalog calls, %d posts", n, calls, len(e.sink.posts))
	}
}

// TestTimestampWindowEdges accepts requests exactly 5 minutes old or
// ahead.
func TestTimestampWindowEdges(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, at := range []time.Time{testNow.Add(-signatureWindow), testNow.Add(signatureWindow)} {
		resp, body := e.do(t, signed(t, e.srv.URL+CommandsPath, at, slashForm("help", "").Encode()))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("timestamp %s: status %d %s", at.Sub(testNow), resp.StatusCode, body)
		}
	}
	if n := e.commandsTotal(t); n != 2 {
		t.Errorf("%v commands ran, want 2", n)
	}
}

// TestNoSigningSecret: without a signing secret (Socket Mode only) the
// HTTP endpoints refuse everything.
func TestNoSigningSecret(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) { c.SigningSecret = "" }})
	resp, _ := e.slash(t, "help", "")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func urlEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", "=", "%3D", " ", "+", "{", "%7B", "}", "%7D", `"`, "%22")
	return r.Replace(s)
}
