package catalogtest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// listFiles returns the files under dir, relative, sorted.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, rel)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestGenerateDeterministic(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	ga, err := Generate(a, 3000, 42)
	if err != nil {
		t.Fatal(err)
	}
	gb, err := Generate(b, 3000, 42)
	if err != nil {
		t.Fatal(err)
	}
	fa, fb := listFiles(t, a), listFiles(t, b)
	if !slices.Equal(fa, fb) {
		t.Fatalf("same seed, different files:\n%v\n%v", fa, fb)
	}
	for _, f := range fa {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if !bytes.Equal(x, y) {
			t.Errorf("same seed, %s differs", f)
		}
	}
	if len(fa) != ga.Files {
		t.Errorf("Files = %d, %d files written", ga.Files, len(fa))
	}
	gb.Root = ga.Root
	if !equalGenerated(ga, gb) {
		t.Errorf("same seed, different Generated")
	}

	gc, err := Generate(c, 3000, 43)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(filepath.Join(a, "components", "components-000.yaml"))
	y, _ := os.ReadFile(filepath.Join(c, "components", "components-000.yaml"))
	if bytes.Equal(x, y) || slices.Equal(ga.Queries, gc.Queries) {
		t.Errorf("seeds 42 and 43 gave the same catalog")
	}
}

func equalGenerated(a, b *Generated) bool {
	return a.Root == b.Root && a.Entities == b.Entities && a.Files == b.Files && a.Bytes == b.Bytes &&
		slices.Equal(a.Components, b.Components) && slices.Equal(a.Groups, b.Groups) &&
		slices.Equal(a.Users, b.Users) && slices.Equal(a.Queries, b.Queries) &&
		slices.Equal(a.QueryClasses, b.QueryClasses)
}

// Backstage's rules for names and tags (catalog/names.go, restated so that
// this package need not import catalog).
var (
	nameRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	tagRE  = regexp.MustCompile(`^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`)
)

// TestGenerateShape reads the generated YAML back and checks what the
// generator promises; catalog's own test (catalogtest_integration_test.go)
// validates and ingests it.
func TestGenerateShape(t *testing.T) {
	dir := t.TempDir()
	g, err := Generate(dir, 2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if g.Root != filepath.Join(dir, "all.yaml") || !filepath.IsAbs(g.Root) {
		t.Errorf("Root = %q", g.Root)
	}
	kinds := map[string]int{}
	names := map[string]string{}
	var bytesRead int64
	teamsWithDiscord := 0
	for _, f := range listFiles(t, dir) {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		bytesRead += int64(len(raw))
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var e struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Metadata   struct {
					Name        string            `yaml:"name"`
					Description string            `yaml:"description"`
					Tags        []string          `yaml:"tags"`
					Annotations map[string]string `yaml:"annotations"`
				} `yaml:"metadata"`
			}
			err := dec.Decode(&e)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			kinds[e.Kind]++
			n := e.Metadata.Name
			if e.APIVersion != "backstage.io/v1alpha1" {
				t.Errorf("%s: %s: apiVersion %q", f, n, e.APIVersion)
			}
			if len(n) > 63 || !nameRE.MatchString(n) {
				t.Errorf("%s: invalid name %q", f, n)
			}
			if prev, dup := names[n]; dup {
				t.Errorf("%s: name %q also used by a %s", f, n, prev)
			}
			names[n] = e.Kind
			for _, tag := range e.Metadata.Tags {
				if len(tag) > 63 || !tagRE.MatchString(tag) {
					t.Errorf("%s: %s: invalid tag %q", f, n, tag)
				}
			}
			if e.Kind != "User" && e.Kind != "Location" {
				if words := len(strings.Fields(e.Metadata.Description)); words < 8 || words > 20 {
					t.Errorf("%s: %s: description has %d words", f, n, words)
				}
			}
			switch {
			case e.Kind == "Group" && n != orgName && e.Metadata.Annotations["slack.com/channel-id"] == "":
				t.Errorf("%s: group %s has no slack.com/channel-id", f, n)
			case e.Kind == "Group" && e.Metadata.Annotations["discord.com/channel-id"] != "":
				teamsWithDiscord++
			case e.Kind == "User" && e.Metadata.Annotations["slack.com/user-id"] == "":
				t.Errorf("%s: user %s has no slack.com/user-id", f, n)
			}
		}
	}
	total := 0
	for _, c := range kinds {
		total += c
	}
	if total != g.Entities || g.Entities != 2000 {
		t.Errorf("Entities = %d, files hold %d, want 2000", g.Entities, total)
	}
	if bytesRead != g.Bytes {
		t.Errorf("Bytes = %d, files hold %d", g.Bytes, bytesRead)
	}
	if kinds["Location"] != 1 || kinds["Group"] != len(g.Groups) || kinds["User"] != len(g.Users) ||
		kinds["Component"] != len(g.Components) {
		t.Errorf("kinds %v; Generated has %d groups, %d users, %d components",
			kinds, len(g.Groups), len(g.Users), len(g.Components))
	}
	if teamsWithDiscord < len(g.Groups)*3/4 {
		t.Errorf("%d of %d groups have a discord.com/channel-id", teamsWithDiscord, len(g.Groups))
	}
	for _, k := range []string{"Domain", "System", "API", "Resource"} {
		if kinds[k] == 0 {
			t.Errorf("no %s generated", k)
		}
	}
	if c := kinds["Component"]; c < total/2 {
		t.Errorf("only %d of %d entities are components", c, total)
	}

	perClass := map[string]int{}
	for i, q := range g.Queries {
		perClass[g.QueryClasses[i]]++
		if q == "" || q != strings.TrimSpace(q) {
			t.Errorf("query %q", q)
		}
		if g.QueryClasses[i] == QueryName && names[q] != "Component" {
			t.Errorf("name query %q is not a component", q)
		}
	}
	for _, c := range QueryClassNames {
		if perClass[c] != queriesPerClass {
			t.Errorf("%d %s queries, want %d", perClass[c], c, queriesPerClass)
		}
	}
}

func TestTypo(t *testing.T) {
	r := newTestRand()
	for _, w := range nameWords {
		if len(w) < 5 {
			continue
		}
		for i := 0; i < 20; i++ {
			got := typo(r, w)
			if got[0] != w[0] || abs(len(got)-len(w)) > 1 {
				t.Fatalf("typo(%q) = %q", w, got)
			}
		}
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestGenerateSizes(t *testing.T) {
	for _, n := range []int{1, 50, 100, 137, 1001} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			g, err := Generate(t.TempDir(), n, 3)
			if err != nil {
				t.Fatal(err)
			}
			if n >= 100 && g.Entities != n {
				t.Errorf("Entities = %d, want %d", g.Entities, n)
			}
			if len(g.Components) == 0 || len(g.Groups) < 3 || len(g.Users) == 0 {
				t.Errorf("%d components, %d groups, %d users", len(g.Components), len(g.Groups), len(g.Users))
			}
			if len(g.Queries) != len(QueryClassNames)*queriesPerClass || len(g.QueryClasses) != len(g.Queries) {
				t.Errorf("%d queries, %d classes", len(g.Queries), len(g.QueryClasses))
			}
		})
	}
}
