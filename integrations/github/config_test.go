package github

import (
	"reflect"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v75/github"
	"gopkg.in/yaml.v3"
)

func TestConfigValidate(t *testing.T) {
	base := func() Config {
		return Config{Token: "ghp_abc", Orgs: []string{"northwind"}}
	}
	tests := []struct {
		name   string
		adjust func(*Config)
		want   []string // parts of the error; none: valid
	}{
		{"token", func(*Config) {}, nil},
		{"nothing configured is off", func(c *Config) { *c = Config{} }, nil},
		{"enterprise", func(c *Config) { c.BaseURL = "https://github.example.com/api/v3/" }, nil},
		{"app with inline key", func(c *Config) {
			c.Token = ""
			c.App = AppConfig{ID: 1, InstallationID: 2, PrivateKey: testKeyPEM()}
		}, nil},
		{"no orgs", func(c *Config) { c.Orgs = nil }, []string{"github.orgs: required"}},
		{"bad org", func(c *Config) { c.Orgs = []string{"north wind", "ok", "OK"} }, []string{"github.orgs[0]", "github.orgs[2]: \"OK\" is listed twice"}},
		{"no credentials", func(c *Config) { c.Token = "" }, []string{"github.token: required"}},
		{"token and app", func(c *Config) { c.App.ID = 1 }, []string{"github.token: set either"}},
		{"app incomplete", func(c *Config) { c.Token = ""; c.App.PrivateKeyFile = "/k.pem" },
			[]string{"github.app.id: required", "github.app.installation_id: required"}},
		{"app without key", func(c *Config) { c.Token = ""; c.App = AppConfig{ID: 1, InstallationID: 2} }, []string{"github.app.private_key_file: required"}},
		{"app with a bad key", func(c *Config) {
			c.Token = ""
			c.App = AppConfig{ID: 1, InstallationID: 2, PrivateKey: "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0\n-----END RSA PRIVATE KEY-----\n"}
		}, []string{"github.app.private_key: not an RSA private key"}},
		{"bad globs", func(c *Config) { c.Include = []string{"svc-["}; c.Exclude = []string{"ok-*", "["} },
			[]string{"github.include[0]", "github.exclude[1]"}},
		{"base_url not a URL", func(c *Config) { c.BaseURL = "github.example.com" }, []string{"github.base_url"}},
		{"base_url plain http", func(c *Config) { c.BaseURL = "http://github.example.com/api/v3/" }, []string{"github.base_url", "https"}},
		{"base_url with credentials", func(c *Config) { c.BaseURL = "https://user:pw@github.example.com/api/v3/" }, []string{"github.base_url"}},
		{"catalog_path escapes", func(c *Config) { c.CatalogPath = "../catalog-info.yaml" }, []string{"github.catalog_path"}},
		{"interval too short", func(c *Config) { c.Interval = 10 * time.Second }, []string{"github.interval"}},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, []string{"github.timeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.adjust(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "ghp_abc") || strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

func TestConfigYAMLAndDefaults(t *testing.T) {
	src := `
base_url: https://github.example.com/api/v3
token: ghp_abc
orgs: [northwind, tailspin]
include: ["svc-*"]
exclude: ["*-archive"]
forks: true
catalog_path: .backstage/catalog-info.yaml
interval: 15m
facts: false
timeout: 5s
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := c.WithDefaults()
	if d.BaseURL != "https://github.example.com/api/v3/" || d.SyncInterval() != 15*time.Minute || d.FactsEnabled() || d.Timeout != 5*time.Second || !d.Forks {
		t.Errorf("decoded: %+v", d)
	}
	if !c.match("svc-pay") || c.match("svc-old-archive") || c.match("tools") || !c.match("SVC-Upper") {
		t.Error("include/exclude")
	}
	var zero Config
	if zero.Enabled() || zero.SyncInterval() != DefaultInterval || !zero.FactsEnabled() || zero.Forks {
		t.Error("zero config defaults")
	}
	z := Config{Orgs: []string{"x"}}.WithDefaults()
	if z.BaseURL != DefaultBaseURL || z.CatalogPath != DefaultCatalogPath || z.Timeout != DefaultTimeout {
		t.Errorf("defaults: %+v", z)
	}
}

func TestReferences(t *testing.T) {
	const doc = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: x
spec:
  targets:
    - ./apis/a.yaml
    - ../escape.yaml
    - https://example.com/catalog.yaml
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: a
spec:
  definition:
    $text: ./openapi.yaml
  nested:
    - {$json: schema.json}
    - {$yaml: /etc/hosts}
    - {$text: ../../secret.txt}
    - {$text: https://example.com/x}
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: remote
spec:
  type: url
  target: ./not-followed.yaml
`
	refs, problems, refused := references("docs/catalog-info.yaml", []byte(doc))
	want := []fileRef{
		{path: "docs/apis/a.yaml", descriptor: true}, {path: "escape.yaml", descriptor: true},
		{path: "docs/openapi.yaml"}, {path: "docs/schema.json"},
	}
	if !reflect.DeepEqual(refs, want) {
		t.Errorf("refs %+v, want %+v", refs, want)
	}
	if len(problems) != 2 || len(refused) != 0 {
		t.Errorf("problems %q, refused %q", problems, refused)
	}

	tests := []struct {
		name, target, want string
	}{
		{"leaves the repository", "../x.yaml", "leaves the repository"},
		{"leaves through a directory", "./a/../../x.yaml", "leaves the repository"},
		{"absolute", "/etc/passwd", "absolute path"},
		{"relative to the working directory", "config.yaml", "working directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			refs, _, refused := references("catalog-info.yaml", []byte("kind: Location\nspec:\n  target: "+tc.target+"\n"))
			if len(refs) != 0 || len(refused) != 1 || !strings.Contains(refused[0], tc.want) {
				t.Errorf("refs %v, refused %q; want refused for %q", refs, refused, tc.want)
			}
		})
	}
	if _, problems, _ := references("catalog-info.yaml", []byte("kind: [")); len(problems) != 1 {
		t.Errorf("invalid YAML: problems %v", problems)
	}
}

func TestConfigKeeps(t *testing.T) {
	repo := func(name string, fork, archived, disabled bool) *gh.Repository {
		return &gh.Repository{Name: &name, Fork: &fork, Archived: &archived, Disabled: &disabled}
	}
	tests := []struct {
		name  string
		cfg   Config
		repo  *gh.Repository
		wants bool
	}{
		{"plain", Config{}, repo("svc", false, false, false), true},
		{"fork skipped by default", Config{}, repo("svc", true, false, false), false},
		{"fork with github.forks", Config{Forks: true}, repo("svc", true, false, false), true},
		{"archived fork with github.forks", Config{Forks: true}, repo("svc", true, true, false), false},
		{"disabled", Config{}, repo("svc", false, false, true), false},
		{"excluded", Config{Exclude: []string{"s*"}}, repo("svc", false, false, false), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.keeps(tc.repo); got != tc.wants {
				t.Errorf("keeps = %v, want %v", got, tc.wants)
			}
		})
	}
}
