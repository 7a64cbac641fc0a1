package discord

import (
	"bytes"
	"crypto/ed25519"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRejected: requests that are not Discord's, or not well formed, are
// refused before anything runs: no command, no REST call.
func TestRejected(t *testing.T) {
	h := newHarness(t)
	body := commandInteraction(t, aliceID, "who-owns", false, opt{name: "entity", value: "payments-api"})
	_, otherKey, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(testNow.Unix(), 10)
	good := Sign(h.priv, ts, body)
	post := func(method string, body []byte, hdr map[string]string) int {
		t.Helper()
		req, err := http.NewRequest(method, h.srv.URL+InteractionsPath, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	malformed := []byte(`{"type":2,"id":`)
	wrongApp := bytes.Replace(body, []byte(testAppID), []byte("1999999999999999999"), 1)
	badToken := bytes.Replace(body, []byte(`"token":"aW50`), []byte(`"token":"../../aW50`), 1)
	tests := []struct {
		name   string
		method string
		body   []byte
		hdr    map[string]string
		want   int
	}{
		{"unsigned", http.MethodPost, body, nil, http.StatusUnauthorized},
		{"no timestamp", http.MethodPost, body, map[string]string{HeaderSignature: good}, http.StatusUnauthorized},
		{"no signature", http.MethodPost, body, map[string]string{HeaderTimestamp: ts}, http.StatusUnauthorized},
		{"forged", http.MethodPost, body, map[string]string{HeaderTimestamp: ts, HeaderSignature: Sign(otherKey, ts, body)}, http.StatusUnauthorized},
		{"altered body", http.MethodPost, append(bytes.Clone(body[:len(body)-1]), []byte(`,"x":1}`)...), map[string]string{HeaderTimestamp: ts, HeaderSignature: good}, http.StatusUnauthorized},
		{"signature over another timestamp", http.MethodPost, body, map[string]string{HeaderTimestamp: strconv.FormatInt(testNow.Unix()+1, 10), HeaderSignature: good}, http.StatusUnauthorized},
		{"bad hex", http.MethodPost, body, map[string]string{HeaderTimestamp: ts, HeaderSignature: strings.Repeat("zz", 64)}, http.StatusUnauthorized},
		{"short signature", http.MethodPost, body, map[string]string{HeaderTimestamp: ts, HeaderSignature: good[:64]}, http.StatusUnauthorized},
		{"stale", http.MethodPost, body, signedAt(h.priv, testNow.Add(-6*time.Minute), body), http.StatusUnauthorized},
		{"future", http.MethodPost, body, signedAt(h.priv, testNow.Add(6*time.Minute), body), http.StatusUnauthorized},
		{"timestamp not a number", http.MethodPost, body, map[string]string{HeaderTimestamp: "yesterday", HeaderSignature: Sign(h.priv, "yesterday", body)}, http.StatusUnauthorized},
		{"huge timestamp", http.MethodPost, body, map[string]string{HeaderTimestamp: "9223372036854775807", HeaderSignature: Sign(h.priv, "9223372036854775807", body)}, http.StatusUnauthorized},
		{"malformed JSON", http.MethodPost, malformed, signedAt(h.priv, testNow, malformed), http.StatusBadRequest},
		{"other application", http.MethodPost, wrongApp, signedAt(h.priv, testNow, wrongApp), http.StatusBadRequest},
		{"token unsafe in a URL", http.MethodPost, badToken, signedAt(h.priv, testNow, badToken), http.StatusBadRequest},
		{"too large", http.MethodPost, bytes.Repeat([]byte(" "), DefaultMaxBodyBytes+1), signedAt(h.priv, testNow, bytes.Repeat([]byte(" "), DefaultMaxBodyBytes+1)), http.StatusRequestEntityTooLarge},
		{"GET", http.MethodGet, nil, nil, http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(tc.method, tc.body, tc.hdr); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
		})
	}
	if n := h.runs(); n != 0 {
		t.Errorf("the router ran %v commands for rejected requests", n)
	}
	if got := h.api.requests(); len(got) != 0 {
		t.Errorf("rejected requests made REST calls: %+v", got)
	}
	// The same request, properly signed, runs.
	if got := post(http.MethodPost, body, map[string]string{HeaderTimestamp: ts, HeaderSignature: good}); got != http.StatusOK {
		t.Fatalf("a good request got %d", got)
	}
	if n := h.runs(); n != 1 {
		t.Errorf("runs = %v after one good request", n)
	}
}

func signedAt(key ed25519.PrivateKey, at time.Time, body []byte) map[string]string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return map[string]string{HeaderTimestamp: ts, HeaderSignature: Sign(key, ts, body)}
}
