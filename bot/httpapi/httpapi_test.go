package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpbot/idpbot/bot/bottest"
	"github.com/idpbot/idpbot/bot/httpapi"
	"github.com/idpbot/idpbot/scoring"
)

const (
	readToken  = "read-token-0123456789abcdef0123"
	factsToken = "facts-token-0123456789abcdef012"
)

func newAPI(t *testing.T) (*httptest.Server, *bytes.Buffer) {
	t.Helper()
	store := bottest.ExampleCatalog(t)
	cards, problems, err := scoring.Load([]string{filepath.Join(bottest.RepoRoot(t), "deploy", "examples", "scorecards")})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	st, err := store.State("facts")
	if err != nil {
		t.Fatal(err)
	}
	facts := scoring.NewFactStore(st)
	logs := &bytes.Buffer{}
	api, err := httpapi.New(httpapi.Config{Tokens: []httpapi.Token{
		{Name: "dashboard", Token: readToken, Scopes: []string{httpapi.ScopeRead}},
		{Name: "ci", Token: factsToken, Scopes: []string{httpapi.ScopeRead, httpapi.ScopeFactsWrite}},
	}}, httpapi.Deps{Catalog: store, Scorer: scoring.NewEvaluator(cards, store, facts), Facts: facts}, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv, logs
}

func call(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	return resp.StatusCode, out
}

func TestReadEndpoints(t *testing.T) {
	srv, _ := newAPI(t)
	tests := []struct {
		name, path string
		status     int
		want       string // a substring of the JSON body
	}{
		{"entity", "/api/v1/entities/by-name/component/default/payments-api", 200, `"name":"payments-api"`},
		{"entity, any case", "/api/v1/entities/by-name/Component/default/payments-api", 200, `"name":"payments-api"`},
		{"missing entity", "/api/v1/entities/by-name/component/default/nope", 404, "nothing in the catalog"},
		{"list", "/api/v1/entities?filter=kind=system&limit=10", 200, "system"},
		{"bad limit", "/api/v1/entities?limit=0", 400, "limit=0"},
		{"bad filter", "/api/v1/entities?filter==x", 400, "has no key"},
		{"search", "/api/v1/search?q=ledger&kind=api", 200, "ledger-grpc-api"},
		{"search without q", "/api/v1/search", 400, "q is required"},
		{"who-owns", "/api/v1/who-owns?q=payments-api", 200, `"ref":"group:default/payments"`},
		{"who-owns prefers the system of a shared name", "/api/v1/who-owns?q=payments", 200, `"kind":"System"`},
		{"who-owns typo", "/api/v1/who-owns?q=paymnts-api", 404, "component:default/payments-api"},
		{"scores", "/api/v1/scores/by-name/component/default/payments-gateway", 200, `"scorecard":"production-readiness"`},
		{"unknown endpoint", "/api/v1/nope", 404, "no such endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, srv, http.MethodGet, tt.path, readToken, "")
			raw, _ := json.Marshal(body)
			if status != tt.status || !strings.Contains(string(raw), tt.want) {
				t.Errorf("GET %s = %d %s; want %d with %q", tt.path, status, raw, tt.status, tt.want)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	srv, logs := newAPI(t)
	if status, body := call(t, srv, http.MethodGet, "/api/v1/search?q=x", "", ""); status != 401 || !strings.Contains(body["hint"].(string), "Bearer") {
		t.Errorf("no token: %d %v", status, body)
	}
	if status, _ := call(t, srv, http.MethodGet, "/api/v1/search?q=x", "wrong-token-0123456789abcdefgh", ""); status != 401 {
		t.Errorf("wrong token: %d", status)
	}
	status, body := call(t, srv, http.MethodPost, "/api/v1/facts", readToken, `{"entity":"ledger","facts":{"coverage":90}}`)
	if status != 403 || !strings.Contains(body["error"].(string), "facts:write") {
		t.Errorf("read token pushing facts: %d %v", status, body)
	}
	for _, secret := range []string{readToken, factsToken, "wrong-token"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a token appears in the logs")
		}
	}
}

func TestPushFactsChangesScores(t *testing.T) {
	srv, _ := newAPI(t)
	path := "/api/v1/scores/by-name/component/default/payments-gateway"
	level := func() string {
		_, body := call(t, srv, http.MethodGet, path, readToken, "")
		for _, r := range body["results"].([]any) {
			m := r.(map[string]any)
			if m["scorecard"] == "production-readiness" {
				return m["level"].(string)
			}
		}
		return ""
	}
	if got := level(); got != "Silver" {
		t.Fatalf("before facts: %s, want Silver", got)
	}
	status, body := call(t, srv, http.MethodPost, "/api/v1/facts", factsToken, `{"entity":"payments-gateway","facts":{"coverage":91.5}}`)
	if status != 200 || body["entity"] != "component:default/payments-gateway" {
		t.Fatalf("push: %d %v", status, body)
	}
	if got := level(); got != "Gold" {
		t.Errorf("after coverage 91.5: %s, want Gold", got)
	}
	bad := []struct {
		name, body string
		status     int
		want       string
	}{
		{"bad name", `{"entity":"ledger","facts":{"Coverage%":1}}`, 400, "fact name"},
		{"bad value", `{"entity":"ledger","facts":{"coverage":[1,2]}}`, 400, "not a number, string or boolean"},
		{"no facts", `{"entity":"ledger","facts":{}}`, 400, "no facts given"},
		{"unknown field", `{"entity":"ledger","fact":{"coverage":1}}`, 400, "invalid JSON"},
		{"malformed", `{"entity":`, 400, "invalid JSON"},
		{"unknown entity", `{"entity":"ledgr","facts":{"coverage":1}}`, 404, "component:default/ledger"},
		{"oversized", `{"entity":"ledger","facts":{"s":"` + strings.Repeat("x", 70<<10) + `"}}`, 413, "larger than"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			status, body := call(t, srv, http.MethodPost, "/api/v1/facts", factsToken, b.body)
			raw, _ := json.Marshal(body)
			if status != b.status || !strings.Contains(string(raw), b.want) {
				t.Errorf("%d %s; want %d with %q", status, raw, b.status, b.want)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/facts", strings.NewReader("coverage=1"))
	req.Header.Set("Authorization", "Bearer "+factsToken)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form body: %d, want 415", resp.StatusCode)
	}
}

func TestConfigValidate(t *testing.T) {
	err := httpapi.Config{Tokens: []httpapi.Token{{Name: "x", Token: "short", Scopes: []string{"admin"}}}}.Validate()
	if err == nil || !strings.Contains(err.Error(), "api.tokens[0].token: at least") || !strings.Contains(err.Error(), `unknown scope "admin"`) || strings.Contains(err.Error(), "short") {
		t.Errorf("Validate = %v", err)
	}
}

// TestBackupOutlastsTheWriteTimeout: a backup streams for as long as it
// takes (it may first wait for an ingest), past the server's write
// timeout, which here has passed before the handler runs.
func TestBackupOutlastsTheWriteTimeout(t *testing.T) {
	const backupToken = "backup-token-0123456789abcdef012"
	payload := bytes.Repeat([]byte("backup bytes "), 1<<16) // 832 KiB
	api, err := httpapi.New(httpapi.Config{Tokens: []httpapi.Token{
		{Name: "ops", Token: backupToken, Scopes: []string{httpapi.ScopeBackup}},
	}}, httpapi.Deps{Catalog: bottest.ExampleCatalog(t), Backup: func(_ context.Context, w io.Writer) (int64, error) {
		n, err := w.Write(payload)
		return int64(n), err
	}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(api.Handler())
	srv.Config.WriteTimeout = time.Nanosecond
	srv.Start()
	t.Cleanup(srv.Close)
	status, got, err := getBackup(t, srv, backupToken)
	if status != http.StatusOK || err != nil || !bytes.Equal(got, payload) {
		t.Errorf("backup download: status %d, %d of %d bytes, %v", status, len(got), len(payload), err)
	}
}

// TestStalledBackupClientIsCutOff: a client that stops reading a backup
// is cut off once a write has waited the idle timeout, so the backup ends
// (and with it the hold on ingests) while the connection stays open.
func TestStalledBackupClientIsCutOff(t *testing.T) {
	const backupToken = "backup-token-0123456789abcdef012"
	done := make(chan error, 1)
	api, err := httpapi.New(httpapi.Config{
		Tokens:            []httpapi.Token{{Name: "ops", Token: backupToken, Scopes: []string{httpapi.ScopeBackup}}},
		BackupIdleTimeout: 50 * time.Millisecond,
	}, httpapi.Deps{Catalog: bottest.ExampleCatalog(t), Backup: func(_ context.Context, w io.Writer) (int64, error) {
		chunk := make([]byte, 1<<20)
		var n int64
		for range 256 { // far more than the socket buffers take
			k, err := w.Write(chunk)
			n += int64(k)
			if err != nil {
				done <- err
				return n, err
			}
		}
		done <- nil
		return n, nil
	}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close() // open, and never read from
	fmt.Fprintf(conn, "GET /api/v1/backup HTTP/1.1\r\nHost: idpbot\r\nAuthorization: Bearer %s\r\n\r\n", backupToken)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the backup wrote 256 MiB to a client that reads nothing")
		}
	case <-ctx.Done():
		t.Fatal("the backup to a client that stopped reading did not end")
	}
}

// TestFailedBackupDoesNotLookComplete: a backup that fails before writing
// anything is an error status; one that fails part-way cuts the stream,
// which the client sees end early (idpbot backup --url then keeps no
// file).
func TestFailedBackupDoesNotLookComplete(t *testing.T) {
	const backupToken = "backup-token-0123456789abcdef012"
	for _, c := range []struct {
		name    string
		written int
	}{{"before writing", 0}, {"part-way", 100 << 10}} {
		t.Run(c.name, func(t *testing.T) {
			api, err := httpapi.New(httpapi.Config{Tokens: []httpapi.Token{{Name: "ops", Token: backupToken, Scopes: []string{httpapi.ScopeBackup}}}},
				httpapi.Deps{Catalog: bottest.ExampleCatalog(t), Backup: func(_ context.Context, w io.Writer) (int64, error) {
					n, _ := w.Write(make([]byte, c.written))
					return int64(n), errors.New("the store is closed")
				}}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(api.Handler())
			t.Cleanup(srv.Close)
			status, body, readErr := getBackup(t, srv, backupToken)
			if c.written == 0 {
				if status != http.StatusInternalServerError || !strings.Contains(string(body), "the store is closed") {
					t.Errorf("status %d, body %q; want 500 saying what failed", status, body)
				}
				return
			}
			if readErr == nil {
				t.Errorf("status %d, %d bytes read without error: the failed backup looks complete", status, len(body))
			}
		})
	}
}

// getBackup downloads a backup from srv: the status, the body and the
// error reading it.
func getBackup(t *testing.T, srv *httptest.Server, token string) (int, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/backup", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}
