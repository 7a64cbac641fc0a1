package github

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idpbot/idpbot/integrations/check"
)

// userHook answers GET /user for the token want, with the classic-token
// scopes header when scopes is not nil.
func userHook(f *fakeGitHub, want string, scopes *string, next func(http.ResponseWriter, *http.Request) bool) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/user" {
			return next != nil && next(w, r)
		}
		if r.Header.Get("Authorization") != "Bearer "+want {
			f.error(w, http.StatusUnauthorized, "bad_credentials.json")
			return true
		}
		if scopes != nil {
			w.Header().Set("X-OAuth-Scopes", *scopes)
			w.Header().Set("X-Accepted-OAuth-Scopes", "")
		}
		v := fixture(f.t, "user.json")
		v["login"] = "platform-bot"
		b, _ := json.Marshal(v)
		_, _ = w.Write(b)
		return true
	}
}

func TestCheck(t *testing.T) {
	ptr := func(s string) *string { return &s }
	type want struct {
		ok  bool
		fix string // a part of the fix, when failing
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env, cfg *Config)
		want  map[string]want
	}{
		{"classic token without read:org", func(t *testing.T, e *env, cfg *Config) {
			e.fake.setHook(userHook(e.fake, cfg.Token, ptr("gist, repo"), nil))
		}, map[string]want{
			"token":                  {ok: true},
			"token scopes":           {ok: false, fix: "read:org"},
			"org northwind":          {ok: true},
			"repositories northwind": {ok: true},
			"catalog file northwind": {ok: true},
		}},
		{"classic token with its scopes", func(t *testing.T, e *env, cfg *Config) {
			e.fake.setHook(userHook(e.fake, cfg.Token, ptr("read:org, repo, workflow"), nil))
		}, map[string]want{"token": {ok: true}, "token scopes": {ok: true}, "org northwind": {ok: true},
			"repositories northwind": {ok: true}, "catalog file northwind": {ok: true}}},
		{"fine-grained token", func(t *testing.T, e *env, cfg *Config) {
			e.fake.setHook(userHook(e.fake, cfg.Token, nil, nil))
		}, map[string]want{"token": {ok: true}, "token scopes": {ok: true}, "org northwind": {ok: true},
			"repositories northwind": {ok: true}, "catalog file northwind": {ok: true}}},
		{"revoked token", func(t *testing.T, e *env, cfg *Config) {
			e.fake.setHook(userHook(e.fake, "ghp_anothertoken", nil, nil))
		}, map[string]want{"token": {ok: false, fix: "invalid, expired or revoked"}}},
		{"invisible organisation", func(t *testing.T, e *env, cfg *Config) {
			cfg.Orgs = append(cfg.Orgs, "ghost")
			e.fake.setHook(userHook(e.fake, cfg.Token, nil, nil))
		}, map[string]want{"org northwind": {ok: true}, "org ghost": {ok: false, fix: "github.orgs"}}},
		{"user account", func(t *testing.T, e *env, cfg *Config) {
			cfg.Orgs = []string{"octo-user"}
			e.fake.addUserRepo(&fakeRepo{owner: "octo-user", name: "dotfiles"})
			e.fake.setHook(userHook(e.fake, cfg.Token, nil, nil))
		}, map[string]want{"org octo-user": {ok: true}, "repositories octo-user": {ok: true}, "catalog file octo-user": {ok: true}}},
		{"contents not readable by a fine-grained token", func(t *testing.T, e *env, cfg *Config) {
			e.fake.setHook(userHook(e.fake, cfg.Token, nil, func(w http.ResponseWriter, r *http.Request) bool {
				if strings.Contains(r.URL.Path, "/contents/") {
					e.fake.error(w, http.StatusForbidden, "forbidden.json")
					return true
				}
				return false
			}))
		}, map[string]want{"repositories northwind": {ok: true}, "catalog file northwind": {ok: false, fix: "Contents: read"}}},
		{"no repository visible", func(t *testing.T, e *env, cfg *Config) {
			cfg.Orgs = []string{"empty"}
			e.fake.update(func() { e.fake.orgs["empty"] = nil })
			e.fake.setHook(userHook(e.fake, cfg.Token, ptr("read:org"), nil))
		}, map[string]want{"token scopes": {ok: false, fix: "repo"}, "repositories empty": {ok: false, fix: "repo and read:org"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			e.northwind()
			cfg := e.config()
			tc.setup(t, e, &cfg)
			got := map[string]check.Result{}
			for _, r := range e.source(cfg).Check(context.Background()) {
				if r.Integration != "github" {
					t.Errorf("integration %q", r.Integration)
				}
				if strings.Contains(r.Detail+r.Fix, cfg.Token) {
					t.Errorf("%s shows the token", r.Check)
				}
				got[r.Check] = r
			}
			for name, w := range tc.want {
				r, ok := got[name]
				switch {
				case !ok:
					t.Errorf("no check %q in %v", name, got)
				case r.OK != w.ok:
					t.Errorf("%s: ok=%v (%s), want %v", name, r.OK, r.Detail, w.ok)
				case !w.ok && !strings.Contains(r.Fix, w.fix):
					t.Errorf("%s: fix %q, want it to mention %q", name, r.Fix, w.fix)
				}
			}
		})
	}
}

func TestCheckApp(t *testing.T) {
	tests := []struct {
		name    string
		perms   map[string]string
		install int64
		check   string
		ok      bool
		fix     string
	}{
		{"installation with read access", nil, 7, "installation token", true, ""},
		{"installation without Contents", map[string]string{"metadata": "read", "issues": "write"}, 7, "installation token", false, "Contents: Read-only"},
		{"wrong installation", nil, 9, "installation token", false, "installation_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			e.northwind()
			app := &fakeApp{t: t, id: 42, installation: 7, clock: func() time.Time { return testNow }, perms: tc.perms}
			e.fake.setHook(app.hook(e.fake))
			rs := e.source(appConfig(t, e, tc.install)).Check(context.Background())
			var found bool
			for _, r := range rs {
				if r.Check == "app" && !r.OK {
					t.Errorf("app: %s", r.Detail)
				}
				if r.Check == tc.check {
					found = true
					if r.OK != tc.ok || (!tc.ok && !strings.Contains(r.Fix, tc.fix)) {
						t.Errorf("%+v, want ok=%v and a fix mentioning %q", r, tc.ok, tc.fix)
					}
				}
			}
			if !found {
				t.Errorf("no %q check in %+v", tc.check, rs)
			}
			if tc.ok && check.Failed(rs) != 0 {
				t.Errorf("failures: %+v", rs)
			}
		})
	}
}
