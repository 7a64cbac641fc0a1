// Package deploy holds the deploy artefacts (Dockerfile, Helm chart, plain
// manifests, systemd unit, Grafana dashboard). This test checks them with
// nothing but Go, so that `go test ./...` and `make lint` catch a broken
// artefact on a machine without Docker, Helm or Node; deploy/lint.sh adds
// helm lint/template and the sync check of the rendered manifests.
package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"gopkg.in/yaml.v3"
)

// The repository root, from this package's directory.
const root = ".."

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case
	args string
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue // comments (and parser directives) and blank lines
		}
		if cur.Len() == 0 {
			start = n
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(cont)
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur.Len() > 0 {
		t.Fatalf("%s: line %d: continuation at end of file", path, start)
	}
	return out
}

var knownInstructions = []string{"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM",
	"HEALTHCHECK", "LABEL", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}

// TestDockerfile checks the image's policy: multi-stage, pinned base
// images, a static non-root runtime, exec-form entrypoint, the data volume
// and port, and that what it copies is in the build context.
func TestDockerfile(t *testing.T) {
	path := filepath.Join(root, "deploy", "docker", "Dockerfile")
	ins := parseDockerfile(t, path)
	ignored := dockerignore(t)

	globalArgs := map[string]string{}
	type stage struct {
		name, image string
		user        string
		ins         []instruction
	}
	var stages []*stage
	for _, in := range ins {
		at := func(format string, args ...any) {
			t.Helper()
			t.Errorf("%s:%d: %s: "+format, append([]any{path, in.line, in.cmd}, args...)...)
		}
		if !slices.Contains(knownInstructions, in.cmd) {
			at("unknown instruction")
			continue
		}
		if in.cmd == "ARG" && len(stages) == 0 {
			k, v, _ := strings.Cut(in.args, "=")
			globalArgs[k] = v
			continue
		}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--platform") })
			s := &stage{image: os.Expand(f[0], func(k string) string { return globalArgs[k] })}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			ref := s.image
			if _, digest, ok := strings.Cut(ref, "@"); ok {
				if !strings.HasPrefix(digest, "sha256:") {
					at("bad digest in %q", ref)
				}
				continue
			}
			if i := strings.LastIndex(ref, "/"); i >= 0 {
				ref = ref[i+1:]
			}
			if _, tag, ok := strings.Cut(ref, ":"); s.image != "scratch" && (!ok || tag == "" || tag == "latest") {
				at("base image %q is not pinned to a tag or digest", s.image)
			}
			continue
		}
		if len(stages) == 0 {
			at("before the first FROM")
			continue
		}
		cur := stages[len(stages)-1]
		cur.ins = append(cur.ins, in)
		switch in.cmd {
		case "USER":
			cur.user = in.args
		case "ADD":
			if regexp.MustCompile(`(?i)\b(https?|git)://|git@`).MatchString(in.args) {
				at("ADD of a URL: download in a RUN step with a checksum, or COPY")
			} else {
				at("use COPY (ADD also unpacks archives)")
			}
		case "COPY":
			f := strings.Fields(in.args)
			var from string
			var srcs []string
			for _, a := range f[:len(f)-1] {
				if v, ok := strings.CutPrefix(a, "--from="); ok {
					from = v
				} else if !strings.HasPrefix(a, "--") {
					srcs = append(srcs, a)
				}
			}
			if from != "" {
				if !slices.ContainsFunc(stages[:len(stages)-1], func(s *stage) bool { return s.name == from }) {
					at("--from=%s is not an earlier stage", from)
				}
				break
			}
			for _, src := range srcs {
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					at("%s is not in the build context: %v", src, err)
				} else if ignored(src) {
					at("%s is excluded by .dockerignore", src)
				}
			}
		case "ENTRYPOINT", "CMD":
			var v []string
			if err := json.Unmarshal([]byte(in.args), &v); err != nil {
				at("use the exec (JSON array) form so signals reach idpbot: %v", err)
			}
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%s: want a multi-stage build (build, runtime), got %d stage(s)", path, len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if !strings.HasPrefix(build.image, "golang:") {
		t.Errorf("build stage image = %q, want golang:<version>", build.image)
	}
	hasRun := func(s *stage, substr string) bool {
		return slices.ContainsFunc(s.ins, func(in instruction) bool { return in.cmd == "RUN" && strings.Contains(in.args, substr) })
	}
	if !hasRun(build, "CGO_ENABLED=0") || !hasRun(build, "-trimpath") || !hasRun(build, "./cmd/idpbot") {
		t.Errorf("build stage must build ./cmd/idpbot statically: CGO_ENABLED=0 go build -trimpath …")
	}
	if !strings.HasPrefix(final.image, "gcr.io/distroless/static") && final.image != "scratch" {
		t.Errorf("runtime image = %q, want distroless static or scratch", final.image)
	}
	if u, _, _ := strings.Cut(final.user, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("runtime stage USER = %q, want a non-root user", final.user)
	}
	want := map[string]string{
		"VOLUME":     "/var/lib/idpbot",
		"EXPOSE":     "8080",
		"ENTRYPOINT": `"/usr/bin/idpbot"`,
		"CMD":        `"serve"`,
	}
	for cmd, arg := range want {
		if !slices.ContainsFunc(final.ins, func(in instruction) bool { return in.cmd == cmd && strings.Contains(in.args, arg) }) {
			t.Errorf("runtime stage: no %s with %s", cmd, arg)
		}
	}
}

// dockerignore returns whether .dockerignore excludes a path (the subset of
// the syntax the file uses: paths, prefixes, * and ** patterns, no !).
func dockerignore(t *testing.T) func(string) bool {
	data, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var pats []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "!") {
			t.Fatalf(".dockerignore: exceptions (%s) are not supported by this check", l)
		}
		pats = append(pats, strings.TrimSuffix(strings.TrimPrefix(l, "/"), "/"))
	}
	return func(p string) bool {
		p = strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(filepath.Clean(p)), "./"), "/")
		if p == "." {
			return false
		}
		for _, pat := range pats {
			re := regexp.QuoteMeta(pat)
			re = strings.ReplaceAll(re, `\*\*/`, `(.*/)?`)
			re = strings.ReplaceAll(re, `\*`, `[^/]*`)
			// A pattern matching a directory excludes what is beneath it.
			if regexp.MustCompile(`^` + re + `(/.*)?$`).MatchString(p) {
				return true
			}
		}
		return false
	}
}

func TestDockerignoreKeepsSources(t *testing.T) {
	ignored := dockerignore(t)
	for _, p := range []string{"go.mod", "go.sum", "cmd/idpbot/main.go", "catalog", "bot", "deploy/examples/config.yaml"} {
		if ignored(p) {
			t.Errorf(".dockerignore excludes %s, which the image build needs", p)
		}
	}
	for _, p := range []string{".git", "bin/idpbot", "data/store", "deploy/helm/idpbot/Chart.yaml"} {
		if !ignored(p) {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}
}

// yamlDocs decodes every document of a YAML file.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	return docs
}

// dig walks maps and lists ("0" indexes a list).
func dig(v any, keys ...string) any {
	for _, k := range keys {
		switch m := v.(type) {
		case map[string]any:
			v = m[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(m) {
				return nil
			}
			v = m[i]
		default:
			return nil
		}
	}
	return v
}

// TestKubernetesManifests checks the manifests rendered from the chart
// (deploy/lint.sh checks they equal a fresh `helm template`): one replica,
// Recreate, the hardened security context, probes and secret references.
func TestKubernetesManifests(t *testing.T) {
	path := filepath.Join(root, "deploy", "kubernetes", "idpbot.yaml")
	docs := yamlDocs(t, path)
	kinds := map[string]map[string]any{}
	for _, d := range docs {
		if d["apiVersion"] == nil || d["kind"] == nil || dig(d, "metadata", "name") == nil {
			t.Errorf("%s: a document without apiVersion, kind or metadata.name: %v", path, d)
			continue
		}
		kinds[d["kind"].(string)] = d
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "PersistentVolumeClaim", "ServiceAccount"} {
		if kinds[k] == nil {
			t.Errorf("%s: no %s", path, k)
		}
	}
	dep := kinds["Deployment"]
	if dep == nil {
		return
	}
	checks := []struct {
		keys []string
		want any
	}{
		{[]string{"spec", "replicas"}, 1},
		{[]string{"spec", "strategy", "type"}, "Recreate"},
		{[]string{"spec", "template", "spec", "securityContext", "runAsNonRoot"}, true},
		{[]string{"spec", "template", "spec", "securityContext", "seccompProfile", "type"}, "RuntimeDefault"},
		{[]string{"spec", "template", "spec", "automountServiceAccountToken"}, false},
		{[]string{"spec", "template", "spec", "containers", "0", "securityContext", "readOnlyRootFilesystem"}, true},
		{[]string{"spec", "template", "spec", "containers", "0", "securityContext", "allowPrivilegeEscalation"}, false},
		{[]string{"spec", "template", "spec", "containers", "0", "securityContext", "capabilities", "drop", "0"}, "ALL"},
		{[]string{"spec", "template", "spec", "containers", "0", "livenessProbe", "httpGet", "path"}, "/healthz"},
		{[]string{"spec", "template", "spec", "containers", "0", "readinessProbe", "httpGet", "path"}, "/readyz"},
	}
	for _, c := range checks {
		if got := dig(dep, c.keys...); got != c.want {
			t.Errorf("Deployment %s = %v, want %v", strings.Join(c.keys, "."), got, c.want)
		}
	}
	// The secrets in the default values are only references; the manifests
	// carry no Secret object and no literal token.
	if kinds["Secret"] != nil {
		t.Errorf("%s: has a Secret object; secrets come from an existing Secret", path)
	}
	data, _ := os.ReadFile(path)
	if m := regexp.MustCompile(`xox[abpr]-|xapp-`).Find(data); m != nil {
		t.Errorf("%s: contains what looks like a Slack token (%s…)", path, m)
	}
}

// TestHelmValuesSecretEnv checks the chart reads every secret the bot takes
// from the environment, and that values.yaml has no secret values.
func TestHelmValuesSecretEnv(t *testing.T) {
	path := filepath.Join(root, "deploy", "helm", "idpbot", "values.yaml")
	docs := yamlDocs(t, path)
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents", path, len(docs))
	}
	v := docs[0]
	var env []string
	for _, e := range v["secretEnv"].([]any) {
		env = append(env, e.(string))
	}
	for _, want := range []string{"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "DISCORD_BOT_TOKEN",
		"DISCORD_APPLICATION_ID", "DISCORD_PUBLIC_KEY", "PAGERDUTY_TOKEN", "OPSGENIE_API_KEY", "IDPBOT_BUTTON_KEY", "IDPBOT_API_TOKEN"} {
		if !slices.Contains(env, want) {
			t.Errorf("%s: secretEnv lacks %s", path, want)
		}
	}
	if v["replicaCount"] != 1 {
		t.Errorf("%s: replicaCount = %v, want 1", path, v["replicaCount"])
	}
	cfg, _ := v["config"].(map[string]any)
	for _, k := range []string{"slack", "discord", "pagerduty", "opsgenie", "buttons", "api"} {
		if cfg[k] != nil {
			t.Errorf("%s: config.%s is set; secrets belong in existingSecret", path, k)
		}
	}
}

func TestComposeFile(t *testing.T) {
	path := filepath.Join(root, "deploy", "docker", "compose.yaml")
	docs := yamlDocs(t, path)
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents", path, len(docs))
	}
	svc := dig(docs[0], "services", "idpbot")
	if svc == nil {
		t.Fatalf("%s: no services.idpbot", path)
	}
	if got := dig(svc, "build", "dockerfile"); got != "deploy/docker/Dockerfile" {
		t.Errorf("build.dockerfile = %v", got)
	}
	vols, _ := dig(svc, "volumes").([]any)
	if len(vols) == 0 || !strings.HasSuffix(vols[0].(string), ":/var/lib/idpbot") {
		t.Errorf("volumes = %v, want a named volume on /var/lib/idpbot", vols)
	}
	env, _ := dig(svc, "environment").(map[string]any)
	for k, v := range env {
		// Passed through from the caller's environment, never a value.
		if s, _ := v.(string); s != "${"+k+":-}" {
			t.Errorf("environment %s = %q, want ${%s:-}", k, s, k)
		}
	}
}

func TestSystemdUnit(t *testing.T) {
	path := filepath.Join(root, "deploy", "systemd", "idpbot.service")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	section := ""
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "["):
			section = strings.Trim(l, "[]")
		case strings.Contains(l, "="):
			k, v, _ := strings.Cut(l, "=")
			set[section+"."+k+"="+v] = true
			set[section+"."+k] = true
		default:
			t.Errorf("%s:%d: not key=value: %q", path, i+1, l)
		}
	}
	for _, want := range []string{"Service.ExecStart", "Service.EnvironmentFile", "Service.StateDirectory=idpbot",
		"Service.ProtectSystem=strict", "Service.NoNewPrivileges=yes", "Service.ProtectHome=yes",
		"Service.PrivateTmp=yes", "Service.CapabilityBoundingSet=", "Install.WantedBy=multi-user.target"} {
		if !set[want] {
			t.Errorf("%s: missing %s", path, want)
		}
	}
	if !set["Service.DynamicUser=yes"] && !set["Service.User"] {
		t.Errorf("%s: runs as root: set DynamicUser=yes or User=", path)
	}
}

// TestGrafanaDashboard checks the dashboard is valid JSON, takes its
// datasource from a variable, and queries only metrics idpbot exports: the
// idpbot_* names declared in the Go code, and the Go and process
// collectors' names, which cmd/idpbot registers.
func TestGrafanaDashboard(t *testing.T) {
	path := filepath.Join(root, "deploy", "grafana", "idpbot.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name, Type string
			} `json:"list"`
		} `json:"templating"`
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("%s: want a title, a uid and panels", path)
	}
	if !slices.ContainsFunc(dash.Templating.List, func(v struct{ Name, Type string }) bool { return v.Type == "datasource" }) {
		t.Errorf("%s: no datasource variable", path)
	}

	known := declaredMetrics(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		known[mf.GetName()] = true
	}
	wiring, err := os.ReadFile(filepath.Join(root, "cmd", "idpbot", "app.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"collectors.NewGoCollector(", "collectors.NewProcessCollector("} {
		if !bytes.Contains(wiring, []byte(c)) {
			t.Errorf("cmd/idpbot/app.go no longer registers %s…): the dashboard's go_/process_ panels depend on it", c)
		}
	}

	exprs := regexp.MustCompile(`"(?:expr|query|definition)":\s*"((?:[^"\\]|\\.)*)"`).FindAllSubmatch(data, -1)
	if len(exprs) == 0 {
		t.Fatalf("%s: no queries", path)
	}
	name := regexp.MustCompile(`\b(idpbot|go|process)_[a-zA-Z0-9_]+`)
	seen := 0
	for _, e := range exprs {
		for _, m := range name.FindAllString(string(e[1]), -1) {
			seen++
			base := m
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(m, suf); ok && known[b] {
					base = b
				}
			}
			if !known[base] {
				if strings.HasPrefix(m, "process_") && runtime.GOOS != "linux" {
					continue // the process collector exports these on Linux only
				}
				t.Errorf("%s: queries %s, which idpbot does not export", path, m)
			}
		}
	}
	if seen == 0 {
		t.Errorf("%s: no idpbot metric is queried", path)
	}
}

// declaredMetrics finds the metric names declared in the Go code
// (Name: "idpbot_…").
func declaredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	re := regexp.MustCompile(`Name:\s*"(idpbot_[a-z0-9_]+)"`)
	known := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != root || d.Name() == "testdata" || d.Name() == "bin" || d.Name() == "data") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllSubmatch(src, -1) {
			known[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(known) == 0 {
		t.Fatal("no idpbot_ metric found in the Go code")
	}
	return known
}
