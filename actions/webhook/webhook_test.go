package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/actions/webhook"
)

const secret = "0123456789abcdef-secret"

func executor(t *testing.T, url string, retries string) actions.Executor {
	t.Helper()
	doc := `apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata: {name: hook}
spec:
  inputs:
    - {name: n, type: number}
    - {name: b, type: boolean}
  runners: {anyone: true}
  approval: none
  executor:
    type: webhook
    url: ${HOOK_URL}?token=${HOOK_TOKEN}
    secret: ${HOOK_SECRET}
    timeout: 5s
    retries: ` + retries + "\n"
	acts, ps := actions.Parse("hook.yaml", []byte(doc))
	if len(acts) != 1 {
		t.Fatal(ps)
	}
	env := map[string]string{"HOOK_URL": url, "HOOK_TOKEN": "tok-very-private", "HOOK_SECRET": secret}
	f := webhook.NewFactory(webhook.Options{
		Getenv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Backoff: func(int) time.Duration { return 0 },
	})
	x, err := f.New(acts[0])
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func job() *actions.Job {
	acts, _ := actions.Parse("x.yaml", []byte(`apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata: {name: hook}
spec:
  inputs:
    - {name: n, type: number}
    - {name: b, type: boolean}
  runners: {anyone: true}
  approval: none
  executor: {type: webhook}
`))
	return &actions.Job{RunID: "20261126-110000-abcdef", Action: acts[0], Inputs: map[string]string{"n": "3", "b": "true"},
		Requester: "user:default/alice.nguyen", Attempt: 1}
}

func TestDeliveryRetriesAndSignature(t *testing.T) {
	var mu sync.Mutex
	var statuses = []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusOK}
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !webhook.Verify([]byte(secret), body, r.Header.Get(webhook.HeaderSignature)) {
			t.Errorf("bad signature %q", r.Header.Get(webhook.HeaderSignature))
		}
		if r.URL.Query().Get("token") != "tok-very-private" {
			t.Errorf("url not expanded: %s", r.URL)
		}
		if !strings.Contains(string(body), `"n":3`) || !strings.Contains(string(body), `"b":true`) {
			t.Errorf("inputs not typed: %s", body)
		}
		mu.Lock()
		seen = append(seen, r.Header.Get(webhook.HeaderRunID)+"#"+r.Header.Get(webhook.HeaderAttempt))
		st := statuses[0]
		statuses = statuses[1:]
		mu.Unlock()
		w.WriteHeader(st)
		_, _ = io.WriteString(w, "restarted 3 pods")
	}))
	defer srv.Close()
	out, err := executor(t, srv.URL, "3").Execute(context.Background(), job())
	if err != nil || out != "restarted 3 pods" {
		t.Fatalf("Execute = %q, %v", out, err)
	}
	want := "20261126-110000-abcdef#1 20261126-110000-abcdef#2 20261126-110000-abcdef#3"
	if got := strings.Join(seen, " "); got != want {
		t.Errorf("deliveries = %v, want %s", seen, want)
	}
}

func TestClientErrorIsNotRetried(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		http.Error(w, "unknown service", http.StatusUnprocessableEntity)
	}))
	defer srv.Close()
	out, err := executor(t, srv.URL, "3").Execute(context.Background(), job())
	if err == nil || n != 1 || !strings.Contains(out, "unknown service") || !strings.Contains(err.Error(), "422") {
		t.Errorf("Execute = %q, %v after %d deliveries", out, err, n)
	}
}

func TestBoundedRetriesAndNoURLInErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close() // connection refused from now on
	_, err := executor(t, url, "2").Execute(context.Background(), job())
	if err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("Execute = %v", err)
	}
	if strings.Contains(err.Error(), "tok-very-private") || strings.Contains(err.Error(), "token=") {
		t.Errorf("error leaks the url: %v", err)
	}
}
