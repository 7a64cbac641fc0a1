package scoring

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"gopkg.in/yaml.v3"

	"github.com/idpbot/idpbot/catalog"
)

// APIVersion and Kind identify scorecard documents.
const (
	APIVersion = "idpbot.dev/v1alpha1"
	Kind       = "Scorecard"
)

// Scorecard is a compiled scorecard.
type Scorecard struct {
	ID          string
	Title       string
	Description string
	File        string
	Line        int
	// AppliesTo selects the entities it scores (empty: every component).
	AppliesTo catalog.Filter
	Levels    []string
	Rules     []*Rule

	// adapter converts entities and facts to CEL values (the rules' environment's).
	adapter types.Adapter
}

// Rule is one compiled check.
type Rule struct {
	ID          string
	Title       string
	Description string
	// Level is the index in the scorecard's Levels.
	Level  int
	Weight float64
	Expr   string
	Fix    string
	Link   string
	Line   int
	// Facts are the facts the expression reads (facts.<name>), for
	// explanations.
	Facts []string

	prg cel.Program
}

// LevelName is the name of level i, or "" for -1 (no level reached).
func (sc *Scorecard) LevelName(i int) string {
	if i < 0 || i >= len(sc.Levels) {
		return ""
	}
	return sc.Levels[i]
}

// maxRulesPerScorecard bounds one scorecard (chat answers list failing
// rules; hundreds would be unreadable).
const maxRulesPerScorecard = 200

// Load reads scorecard documents from files, directories (every *.yaml and
// *.yml beneath) or globs, skipping documents of other kinds. It returns the
// scorecards that compiled and every problem found, each with file, line
// and the rule id; a scorecard with an error is left out.
func Load(paths []string) ([]*Scorecard, catalog.Problems, error) {
	files, err := catalog.ExpandPaths("scorecards", paths)
	if err != nil {
		return nil, nil, err
	}
	env, err := newEnv()
	if err != nil {
		return nil, nil, fmt.Errorf("cel environment: %w", err)
	}
	var cards []*Scorecard
	var problems catalog.Problems
	seen := map[string]string{}
	for _, f := range files {
		data, err := catalog.ReadFile(f)
		if err != nil {
			problems = append(problems, catalog.Problem{Severity: catalog.SeverityError, File: f, Message: err.Error()})
			continue
		}
		cs, ps := parseFile(env, f, data)
		problems = append(problems, ps...)
		for _, c := range cs {
			if prev, dup := seen[c.ID]; dup {
				problems = append(problems, catalog.Problem{Severity: catalog.SeverityError, File: f, Line: c.Line, Entity: c.ID,
					Path: "metadata.name", Message: fmt.Sprintf("scorecard %q is also defined in %s", c.ID, prev), Hint: "give each scorecard its own name"})
				continue
			}
			seen[c.ID] = fmt.Sprintf("%s:%d", f, c.Line)
			cards = append(cards, c)
		}
	}
	problems.Sort()
	sort.Slice(cards, func(i, j int) bool { return cards[i].ID < cards[j].ID })
	return cards, problems, nil
}

// Allowed keys, so that a typo ("wieght") is an error, not a silent default.
var (
	docKeys      = []string{"apiVersion", "kind", "metadata", "spec"}
	metadataKeys = []string{"name", "title", "description", "namespace", "labels", "annotations", "tags", "links"}
	specKeys     = []string{"appliesTo", "levels", "rules"}
	ruleKeys     = []string{"id", "title", "description", "level", "weight", "expr", "fix", "link"}
)

func parseFile(env *cel.Env, file string, data []byte) ([]*Scorecard, catalog.Problems) {
	var cards []*Scorecard
	var problems catalog.Problems
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, catalog.Problem{Severity: catalog.SeverityError, File: file, Message: "invalid YAML: " + err.Error(), Hint: "fix the YAML syntax"})
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode || catalog.YAMLScalar(root, "kind") != Kind {
			continue // not a scorecard
		}
		c, ps := parseDoc(env, file, root)
		problems = append(problems, ps...)
		if c != nil {
			cards = append(cards, c)
		}
	}
	return cards, problems
}

func parseDoc(env *cel.Env, file string, root *yaml.Node) (*Scorecard, catalog.Problems) {
	p := &catalog.DocChecker{File: file}
	head, ok := p.CheckEnvelope(root, "scorecard", APIVersion, docKeys, metadataKeys, "with levels and rules")
	sc := &Scorecard{File: file, Line: root.Line, ID: head.Name, Title: head.Title, Description: head.Description, adapter: env.CELTypeAdapter()}
	if !ok {
		return nil, p.Problems
	}
	spec := head.Spec
	p.Keys(spec, "spec", specKeys)

	// appliesTo: a filter string or a list of them (alternatives).
	var exprs []string
	switch at := catalog.YAMLChild(spec, "appliesTo"); {
	case at == nil:
		exprs = []string{"kind=component"}
	case at.Kind == yaml.ScalarNode:
		exprs = []string{at.Value}
	case at.Kind == yaml.SequenceNode:
		for _, it := range at.Content {
			exprs = append(exprs, it.Value)
		}
	default:
		p.Errorf(at, "spec.appliesTo", "e.g. appliesTo: kind=component,spec.type=service", "spec.appliesTo must be a filter or a list of filters")
	}
	f, err := catalog.ParseFilter(exprs...)
	if err != nil {
		p.Errorf(catalog.YAMLChild(spec, "appliesTo"), "spec.appliesTo", "", "%v", err)
	}
	sc.AppliesTo = f

	levels := catalog.YAMLChild(spec, "levels")
	if levels == nil || levels.Kind != yaml.SequenceNode || len(levels.Content) == 0 {
		p.Errorf(spec, "spec.levels", "e.g. levels: [Bronze, Silver, Gold]", "spec.levels must list the levels, lowest first")
	} else {
		for i, l := range levels.Content {
			v := strings.TrimSpace(l.Value)
			if v == "" || l.Kind != yaml.ScalarNode {
				p.Errorf(l, fmt.Sprintf("spec.levels[%d]", i), "", "a level is a name")
				continue
			}
			for _, have := range sc.Levels {
				if strings.EqualFold(have, v) {
					p.Errorf(l, fmt.Sprintf("spec.levels[%d]", i), "", "level %q is listed twice", v)
				}
			}
			sc.Levels = append(sc.Levels, v)
		}
	}

	rules := catalog.YAMLChild(spec, "rules")
	if rules == nil || rules.Kind != yaml.SequenceNode || len(rules.Content) == 0 {
		p.Errorf(spec, "spec.rules", "", "spec.rules must list at least one rule")
		return nil, p.Problems
	}
	if len(rules.Content) > maxRulesPerScorecard {
		p.Errorf(rules, "spec.rules", "split it into several scorecards", "%d rules; at most %d", len(rules.Content), maxRulesPerScorecard)
	}
	ids := map[string]bool{}
	for i, rn := range rules.Content {
		path := fmt.Sprintf("spec.rules[%d]", i)
		if rn.Kind != yaml.MappingNode {
			p.Errorf(rn, path, "", "a rule is a mapping with id, level and expr")
			continue
		}
		p.Keys(rn, path, ruleKeys)
		r := &Rule{Line: rn.Line, Weight: 1, Level: -1}
		r.ID = p.Str(rn, "id", path+".id", true)
		if r.ID != "" {
			path = fmt.Sprintf("spec.rules[%s]", r.ID)
			if !catalog.DefinitionIDPattern.MatchString(r.ID) {
				p.Errorf(catalog.YAMLChild(rn, "id"), path+".id", "use lower-case letters, digits and '-'", "invalid rule id %q", r.ID)
			}
			if ids[r.ID] {
				p.Errorf(catalog.YAMLChild(rn, "id"), path+".id", "", "rule id %q is used twice", r.ID)
			}
			ids[r.ID] = true
		}
		r.Title = p.Str(rn, "title", path+".title", false)
		if r.Title == "" {
			r.Title = r.ID
		}
		r.Description = p.Str(rn, "description", path+".description", false)
		r.Fix = p.Str(rn, "fix", path+".fix", false)
		r.Link = p.Str(rn, "link", path+".link", false)
		lvl := p.Str(rn, "level", path+".level", true)
		for li, l := range sc.Levels {
			if strings.EqualFold(l, lvl) {
				r.Level = li
			}
		}
		if lvl != "" && r.Level < 0 {
			p.Errorf(catalog.YAMLChild(rn, "level"), path+".level", "use one of "+strings.Join(sc.Levels, ", "), "unknown level %q", lvl)
		}
		if w := catalog.YAMLChild(rn, "weight"); w != nil {
			var wf float64
			if err := w.Decode(&wf); err != nil || wf <= 0 || wf > 1000 {
				p.Errorf(w, path+".weight", "a number above 0, at most 1000 (default 1)", "invalid weight %q", w.Value)
			} else {
				r.Weight = wf
			}
		}
		r.Expr = p.Str(rn, "expr", path+".expr", true)
		if r.Expr != "" {
			prg, facts, err := compile(env, r.Expr)
			if err != nil {
				p.Errorf(catalog.YAMLChild(rn, "expr"), path+".expr", "see the CEL language definition; rules read entity and facts", "%v", err)
			} else {
				r.prg, r.Facts = prg, facts
			}
		}
		sc.Rules = append(sc.Rules, r)
	}
	if p.Problems.Errors() > 0 {
		return nil, p.Problems
	}
	return sc, p.Problems
}
