// Package catalogtest writes synthetic Backstage catalogs for tests and
// benchmarks: deterministic (the same seed gives the same bytes), every
// reference resolving inside the set, and shaped like a company's catalog
// (an organisation of departments and teams, people in teams, domains and
// systems, and mostly components with their APIs and resources).
//
// It does not import the catalog package, so that package's own tests can
// use it.
package catalogtest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// PerFile is the number of entities per generated YAML file.
const PerFile = 1000

// Domain names used in e-mail addresses and URLs.
const (
	orgName    = "acme"
	mailDomain = "acme.example"
)

// Generated describes a catalog written by Generate.
type Generated struct {
	Root     string // absolute path of all.yaml, the Location naming every file
	Entities int    // entities in all files, the root Location included
	Files    int    // files written, all.yaml included
	Bytes    int64  // bytes written

	Components []string // component names
	Groups     []string // group names: the organisation, departments, teams
	Users      []string // user names

	// Queries are search queries for benchmarks, fixed by the seed: words as
	// typed, prefixes, words with one typo, and whole component names.
	// QueryClasses[i] is the class of Queries[i] (see QueryClassNames).
	Queries      []string
	QueryClasses []string
}

// Query classes.
const (
	QueryWords  = "words"  // one or two description or name words as typed
	QueryPrefix = "prefix" // the first letters of a word, e.g. "ledg"
	QueryTypo   = "typo"   // a word with one typo, e.g. "paymnet"
	QueryName   = "name"   // a whole component name
)

// QueryClassNames lists the query classes in report order.
var QueryClassNames = []string{QueryWords, QueryPrefix, QueryTypo, QueryName}

// Shares of the catalog by kind.
const (
	entitiesPerGroup  = 40
	entitiesPerUser   = 8
	entitiesPerSystem = 100
	entitiesPerDomain = 1000
	teamsPerDept      = 14
	apiPercent        = 12
	resourcePercent   = 8
)

type team struct {
	name string
	dept int
}

type compPlan struct {
	name   string
	system int // -1: none
	owner  string
	apis   []int // APIs it provides
}

type sysPlan struct {
	name   string
	domain int
	owner  int // team
}

type apiPlan struct {
	name     string
	typ      string
	provider int // component
}

type resPlan struct {
	name  string
	typ   string
	owner int
	sys   int
}

type generator struct {
	dir  string
	seed int64
	r    *rand.Rand
	used map[string]bool

	org       string
	depts     []string
	deptTeams [][]int
	deptHead  []int
	teams     []team
	users     []string
	userTeams [][]int
	domains   []string
	domOwner  []int // department
	systems   []sysPlan
	apis      []apiPlan
	resources []resPlan
	comps     []compPlan

	zipf    []float64 // cumulative weights of vocabulary
	targets []string
	files   int
	bytes   int64
}

// Generate writes a catalog of about n entities (n exactly, for n ≥ 100)
// under dir as multi-document YAML files of up to PerFile entities, plus
// dir/all.yaml, a Location whose targets name every file. The same n and
// seed give the same files, byte for byte.
func Generate(dir string, n int, seed int64) (*Generated, error) {
	if n < 1 {
		return nil, errors.New("generate catalog: n must be at least 1")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("generate catalog: %w", err)
	}
	g := &generator{dir: abs, seed: seed, used: map[string]bool{},
		r: rand.New(rand.NewPCG(uint64(seed), 0x1d9b07c47a105e1))}
	g.zipf = cumulative(len(vocabulary), 0.75)
	g.plan(n)

	steps := []struct {
		sub, base string
		count     int
		emit      func(*bytes.Buffer, int)
	}{
		{"org", "groups", 1 + len(g.depts) + len(g.teams), g.group},
		{"org", "users", len(g.users), g.user},
		{"systems", "domains", len(g.domains), g.domain},
		{"systems", "systems", len(g.systems), g.system},
		{"resources", "resources", len(g.resources), g.resource},
		{"apis", "apis", len(g.apis), g.api},
		{"components", "components", len(g.comps), g.component},
	}
	entities := 1
	for _, s := range steps {
		if err := g.writeKind(s.sub, s.base, s.count, s.emit); err != nil {
			return nil, err
		}
		entities += s.count
	}
	root, err := g.writeRoot(entities)
	if err != nil {
		return nil, err
	}

	out := &Generated{Root: root, Entities: entities, Files: g.files, Bytes: g.bytes}
	out.Groups = append([]string{g.org}, g.depts...)
	for _, t := range g.teams {
		out.Groups = append(out.Groups, t.name)
	}
	out.Users = append([]string(nil), g.users...)
	for _, c := range g.comps {
		out.Components = append(out.Components, c.name)
	}
	out.Queries, out.QueryClasses = g.queries(out.Components)
	return out, nil
}

// plan decides every entity's name and the structure between them, so that
// every reference written later resolves.
func (g *generator) plan(n int) {
	nGroups := max(3, n/entitiesPerGroup)
	nDepts := max(1, (nGroups-1)/(teamsPerDept+1))
	nTeams := max(1, nGroups-1-nDepts)
	nUsers := max(1, n/entitiesPerUser)
	nDomains := max(1, n/entitiesPerDomain)
	nSystems := max(1, n/entitiesPerSystem)
	nAPIs := max(1, n*apiPercent/100)
	nRes := max(1, n*resourcePercent/100)
	nComps := max(1, n-1-(1+nDepts+nTeams)-nUsers-nDomains-nSystems-nAPIs-nRes)

	g.org = orgName
	g.used[g.org] = true
	for i := 0; i < nDepts; i++ {
		g.depts = append(g.depts, g.uniqueName(g.pick(areaWords), "engineering"))
	}
	g.deptTeams = make([][]int, nDepts)
	for i := 0; i < nTeams; i++ {
		d := i % nDepts
		if i >= nDepts {
			d = g.r.IntN(nDepts)
		}
		g.teams = append(g.teams, team{name: g.uniqueName(g.pick(areaWords), g.pick(teamWords)), dept: d})
		g.deptTeams[d] = append(g.deptTeams[d], i)
	}
	g.userTeams = make([][]int, nUsers)
	for i := 0; i < nUsers; i++ {
		first, last := g.pick(firstNames), g.pick(lastNames)
		name := first + "." + last
		if g.used[name] {
			name = g.uniqueName(name)
		}
		g.used[name] = true
		g.users = append(g.users, name)
		t := i % nTeams // the first users give every team a member
		if i >= nTeams {
			t = g.r.IntN(nTeams)
		}
		g.userTeams[i] = []int{t}
		if g.r.IntN(10) < 3 && nTeams > 1 {
			t2 := g.r.IntN(nTeams - 1)
			if t2 >= t {
				t2++
			}
			g.userTeams[i] = append(g.userTeams[i], t2)
		}
	}
	g.deptHead = make([]int, nDepts)
	for d := range g.deptHead {
		g.deptHead[d] = g.r.IntN(nUsers)
	}
	for i := 0; i < nDomains; i++ {
		g.domains = append(g.domains, g.uniqueName(g.pick(areaWords)))
		g.domOwner = append(g.domOwner, g.r.IntN(nDepts))
	}
	for i := 0; i < nSystems; i++ {
		g.systems = append(g.systems, sysPlan{name: g.uniqueName(g.pick(areaWords), g.pick(systemWords)),
			domain: g.r.IntN(nDomains), owner: g.r.IntN(nTeams)})
	}
	for i := 0; i < nComps; i++ {
		c := compPlan{name: g.uniqueName(g.pick(areaWords), g.pick(roleWords)), system: -1}
		if g.r.IntN(100) < 85 {
			c.system = g.r.IntN(nSystems)
		}
		switch p := g.r.IntN(100); {
		case p < 10:
			c.owner = "user:" + g.users[g.r.IntN(nUsers)]
		case p < 70 && c.system >= 0:
			c.owner = g.teams[g.systems[c.system].owner].name
		case p < 80:
			c.owner = "group:" + g.teams[g.r.IntN(nTeams)].name
		default:
			c.owner = g.teams[g.r.IntN(nTeams)].name
		}
		g.comps = append(g.comps, c)
	}
	apiTypes := []string{"openapi", "openapi", "grpc", "asyncapi"}
	for i := 0; i < nAPIs; i++ {
		a := apiPlan{name: g.uniqueName(g.pick(areaWords), g.pick(apiWords)), typ: g.pick(apiTypes), provider: g.r.IntN(nComps)}
		g.comps[a.provider].apis = append(g.comps[a.provider].apis, i)
		g.apis = append(g.apis, a)
	}
	for i := 0; i < nRes; i++ {
		rt := resourceTypes[g.r.IntN(len(resourceTypes))]
		res := resPlan{name: g.uniqueName(g.pick(areaWords), g.pick(rt.Words)), typ: rt.Type,
			owner: g.r.IntN(nTeams), sys: -1}
		if g.r.IntN(100) < 80 {
			res.sys = g.r.IntN(nSystems)
		}
		g.resources = append(g.resources, res)
	}
}

// uniqueName joins parts with '-' and a four-digit number not used before
// (by any kind, so that bare names are unambiguous).
func (g *generator) uniqueName(parts ...string) string {
	base := strings.Join(parts, "-")
	for digits := 4; ; digits++ {
		limit := int(math.Pow10(digits))
		for try := 0; try < 20; try++ {
			name := fmt.Sprintf("%s-%0*d", base, digits, g.r.IntN(limit))
			if !g.used[name] {
				g.used[name] = true
				return name
			}
		}
	}
}

func (g *generator) pick(words []string) string { return words[g.r.IntN(len(words))] }

// word draws a description word, frequent words first (Zipf-like).
func (g *generator) word() string { return g.wordFrom(g.r) }

func (g *generator) wordFrom(r *rand.Rand) string {
	x := r.Float64() * g.zipf[len(g.zipf)-1]
	return vocabulary[sort.SearchFloat64s(g.zipf, x)]
}

// cumulative returns the running sums of the weights 1/(i+1)^s.
func cumulative(n int, s float64) []float64 {
	out := make([]float64, n)
	sum := 0.0
	for i := range out {
		sum += 1 / math.Pow(float64(i+1), s)
		out[i] = sum
	}
	return out
}

// description is 8–20 vocabulary words (short ones more often), sometimes
// with the entity's own area word among them.
func (g *generator) description(lead string) string {
	n := 8 + min(g.r.IntN(13), g.r.IntN(13))
	words := make([]string, n)
	for i := range words {
		words[i] = g.word()
	}
	if lead != "" && g.r.IntN(2) == 0 {
		words[g.r.IntN(n)] = lead
	}
	s := strings.Join(words, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func (g *generator) writeKind(sub, base string, count int, emit func(*bytes.Buffer, int)) error {
	for start, part := 0, 0; start < count; start, part = start+PerFile, part+1 {
		end := min(count, start+PerFile)
		var b bytes.Buffer
		fmt.Fprintf(&b, "# Synthetic catalog (catalogtest, seed %d): %s %d-%d.\n", g.seed, base, start, end-1)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString("---\n")
			}
			emit(&b, i)
		}
		rel := path.Join(sub, fmt.Sprintf("%s-%03d.yaml", base, part))
		if err := g.writeFile(rel, b.Bytes()); err != nil {
			return err
		}
		g.targets = append(g.targets, "./"+rel)
	}
	return nil
}

func (g *generator) writeRoot(entities int) (string, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `# Synthetic catalog written by catalogtest: %d entities, seed %d.
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: synthetic-catalog
  description: Every file of the synthetic catalog.
spec:
  targets:
`, entities, g.seed)
	for _, t := range g.targets {
		fmt.Fprintf(&b, "    - %s\n", t)
	}
	if err := g.writeFile("all.yaml", b.Bytes()); err != nil {
		return "", err
	}
	return filepath.Join(g.dir, "all.yaml"), nil
}

func (g *generator) writeFile(rel string, data []byte) error {
	p := filepath.Join(g.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("generate catalog: %w", err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return fmt.Errorf("generate catalog: %w", err)
	}
	g.files++
	g.bytes += int64(len(data))
	return nil
}

// title turns "payments-gateway-0412" into "Payments Gateway 0412".
func title(name string) string {
	parts := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '.' })
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, " ")
}

// areaOf returns the first word of a generated name.
func areaOf(name string) string {
	if i := strings.IndexByte(name, '-'); i > 0 {
		return name[:i]
	}
	return name
}

// flow renders a YAML flow sequence of plain scalars.
func flow(items []string) string { return "[" + strings.Join(items, ", ") + "]" }

// id renders i (bijectively scrambled) as an upper-case ID with prefix p.
func id(p string, i int, width int) string {
	v := uint32(i)*2654435761 + 0x9e3779b9
	return fmt.Sprintf("%s%0*X", p, width, v)
}

func header(b *bytes.Buffer, kind, name string) {
	fmt.Fprintf(b, "apiVersion: backstage.io/v1alpha1\nkind: %s\nmetadata:\n  name: %s\n", kind, name)
}
