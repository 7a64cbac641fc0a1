package githubwf_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/actions/githubwf"
)

func action(t *testing.T, executor string) *actions.Action {
	t.Helper()
	doc := `apiVersion: idpbot.dev/v1alpha1
kind: Action
metadata: {name: scaffold-repo, title: Scaffold a repository}
spec:
  inputs:
    - {name: name, type: string, required: true}
    - {name: template, type: enum, values: [go-service, web-app], default: go-service}
    - {name: ticket, type: string, secret: true}
  runners: {anyone: true}
  approval: none
  executor:
` + executor
	acts, problems := actions.Parse("scaffold.yaml", []byte(doc))
	if len(acts) != 1 {
		t.Fatalf("parse: %v", problems)
	}
	return acts[0]
}

// fakeGitHub speaks the workflow_dispatch endpoint of the REST API, on
// github.com's paths or an Enterprise /api/v3 prefix.
type fakeGitHub struct {
	mu     sync.Mutex
	status int
	got    []map[string]any
	auth   []string
	paths  []string
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var m map[string]any
	json.Unmarshal(body, &m)
	f.mu.Lock()
	f.got = append(f.got, m)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	status := f.status
	f.mu.Unlock()
	if status == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":"Unexpected inputs provided: [\"name\"]","documentation_url":"https://docs.github.com/rest"}`)
}

func TestDispatch(t *testing.T) {
	gh := &fakeGitHub{}
	srv := httptest.NewServer(gh)
	defer srv.Close()
	env := map[string]string{"GH_TOKEN": "ghp_test_token_0123456789", "GH_API": srv.URL + "/api/v3/"}
	f := githubwf.NewFactory(githubwf.Options{Client: srv.Client(), Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	a := action(t, `    type: github-workflow
    repo: northwind/service-template
    workflow: scaffold.yml
    token: ${GH_TOKEN}
    baseURL: ${GH_API}
`)
	if err := f.Check(a); err != nil {
		t.Fatal(err)
	}
	x, err := f.New(a)
	if err != nil {
		t.Fatal(err)
	}
	if x.Idempotent() {
		t.Error("a workflow dispatch claims to be idempotent")
	}
	out, err := x.Execute(context.Background(), &actions.Job{RunID: "r1", Action: a, Inputs: map[string]string{"name": "ledger-v2", "template": "go-service", "ticket": "SEC-1"}})
	if err != nil || !strings.Contains(out, "dispatched scaffold.yml on northwind/service-template@main") {
		t.Fatalf("Execute = %q, %v", out, err)
	}
	gh.mu.Lock()
	if gh.paths[0] != "POST /api/v3/repos/northwind/service-template/actions/workflows/scaffold.yml/dispatches" {
		t.Errorf("request %s", gh.paths[0])
	}
	if gh.auth[0] != "Bearer ghp_test_token_0123456789" {
		t.Errorf("auth %q", gh.auth[0])
	}
	inputs, _ := gh.got[0]["inputs"].(map[string]any)
	if gh.got[0]["ref"] != "main" || inputs["name"] != "ledger-v2" || inputs["template"] != "go-service" {
		t.Errorf("dispatch body %v", gh.got[0])
	}
	if _, sent := inputs["ticket"]; sent {
		t.Error("a secret input was sent to the workflow")
	}
	gh.status = http.StatusUnprocessableEntity
	gh.mu.Unlock()
	_, err = x.Execute(context.Background(), &actions.Job{RunID: "r2", Action: a, Inputs: map[string]string{"name": "x"}})
	if err == nil || !strings.Contains(err.Error(), "422") || !strings.Contains(err.Error(), "workflow_dispatch") || strings.Contains(err.Error(), "ghp_") {
		t.Errorf("422: %v", err)
	}
	gh.mu.Lock()
	gh.status = http.StatusNotFound
	gh.mu.Unlock()
	if _, err := x.Execute(context.Background(), &actions.Job{RunID: "r3", Action: a}); err == nil || !strings.Contains(err.Error(), "was not found, or the token cannot see it") {
		t.Errorf("404: %v", err)
	}
}

func TestSettings(t *testing.T) {
	f := githubwf.NewFactory(githubwf.Options{Getenv: func(string) (string, bool) { return "", false }})
	tests := []struct {
		name, executor, key string
	}{
		{"bad repo", "    type: github-workflow\n    repo: not a repo\n    workflow: a.yml\n    token: ${T}\n", "repo"},
		{"no workflow", "    type: github-workflow\n    repo: a/b\n    token: ${T}\n", "workflow"},
		{"token in the file", "    type: github-workflow\n    repo: a/b\n    workflow: a.yml\n    token: ghp_literal\n", "token"},
		{"unknown input", "    type: github-workflow\n    repo: a/b\n    workflow: a.yml\n    token: ${T}\n    inputs: name,nope\n", "inputs"},
		{"bad base URL", "    type: github-workflow\n    repo: a/b\n    workflow: a.yml\n    token: ${T}\n    baseURL: ftp://x\n", "baseURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.Check(action(t, tt.executor))
			var se *actions.SettingError
			if !errors.As(err, &se) || se.Key != tt.key {
				t.Errorf("Check = %v; want a SettingError on %s", err, tt.key)
			}
		})
	}
	a := action(t, "    type: github-workflow\n    repo: a/b\n    workflow: a.yml\n    token: ${UNSET_TOKEN}\n")
	_, err := f.New(a)
	var se *actions.SettingError
	if !errors.As(err, &se) || se.Key != "token" || !strings.Contains(err.Error(), "UNSET_TOKEN is not set") {
		t.Errorf("New without the token: %v", err)
	}
}
