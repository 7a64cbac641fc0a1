package actions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/idpbot/idpbot/catalog"
)

var (
	inputNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
)

// maxInputs bounds one action (a chat modal has room for a few).
const maxInputs = 20

// maxRetries bounds executor retries.
const maxRetries = 10

// Load reads action documents from files, directories (every *.yaml and
// *.yml beneath) or globs, skipping documents of other kinds. It returns the
// actions that are valid and every problem found, each with file, line,
// action id and field; an action with an error is left out. Executor
// settings beyond type, timeout and retries are checked by Registry.Check.
func Load(paths []string) ([]*Action, catalog.Problems, error) {
	files, err := catalog.ExpandPaths("actions", paths)
	if err != nil {
		return nil, nil, err
	}
	var acts []*Action
	var problems catalog.Problems
	seen := map[string]string{}
	for _, f := range files {
		data, err := catalog.ReadFile(f)
		if err != nil {
			problems = append(problems, catalog.Problem{Severity: catalog.SeverityError, File: f, Message: err.Error()})
			continue
		}
		as, ps := Parse(f, data)
		problems = append(problems, ps...)
		for _, a := range as {
			if prev, dup := seen[a.ID]; dup {
				problems = append(problems, catalog.Problem{Severity: catalog.SeverityError, File: f, Line: a.Line, Entity: "action:" + a.ID,
					Path: "metadata.name", Message: fmt.Sprintf("action %q is also defined in %s", a.ID, prev), Hint: "give each action its own name"})
				continue
			}
			seen[a.ID] = fmt.Sprintf("%s:%d", f, a.Line)
			acts = append(acts, a)
		}
	}
	problems.Sort()
	sort.Slice(acts, func(i, j int) bool { return acts[i].ID < acts[j].ID })
	return acts, problems, nil
}

// Parse reads the action documents of one file's bytes; name is the file
// name problems carry.
func Parse(name string, data []byte) ([]*Action, catalog.Problems) {
	var acts []*Action
	var problems catalog.Problems
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, catalog.Problem{Severity: catalog.SeverityError, File: name, Message: "invalid YAML: " + err.Error(), Hint: "fix the YAML syntax"})
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode || catalog.YAMLScalar(root, "kind") != Kind {
			continue // not an action
		}
		a, ps := parseDoc(name, root)
		problems = append(problems, ps...)
		if a != nil {
			acts = append(acts, a)
		}
	}
	return acts, problems
}

// Allowed keys, so that a typo is an error, not a silent default.
var (
	docKeys      = []string{"apiVersion", "kind", "metadata", "spec"}
	metadataKeys = []string{"name", "title", "description", "labels", "annotations", "tags"}
	specKeys     = []string{"inputs", "target", "runners", "approval", "executor"}
	inputKeys    = []string{"name", "type", "description", "required", "default", "pattern", "min", "max", "values", "kind", "secret"}
	whoKeys      = []string{"groups", "users", "owners", "onCall", "anyone"}
	approvalKeys = []string{"required", "approvers", "allowSelfApproval", "expiresAfter"}
	execKeys     = []string{"type", "timeout", "retries"}
)

// docParser reads one Action document; the shared checks come from the
// catalog's DocChecker.
type docParser struct{ catalog.DocChecker }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (p *docParser) boolean(m *yaml.Node, key, path string) bool {
	v := catalog.YAMLChild(m, key)
	if v == nil {
		return false
	}
	var b bool
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
		p.Errorf(v, path, "write true or false", "%s must be true or false", path)
		return false
	}
	return b
}

func (p *docParser) list(m *yaml.Node, key, path string) ([]string, []*yaml.Node) {
	v := catalog.YAMLChild(m, key)
	if v == nil {
		return nil, nil
	}
	if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		return []string{strings.TrimSpace(v.Value)}, []*yaml.Node{v}
	}
	if v.Kind != yaml.SequenceNode {
		p.Errorf(v, path, "e.g. "+key+": [a, b]", "%s must be a list", path)
		return nil, nil
	}
	var out []string
	var nodes []*yaml.Node
	for i, it := range v.Content {
		if it.Kind != yaml.ScalarNode || strings.TrimSpace(it.Value) == "" {
			p.Errorf(it, fmt.Sprintf("%s[%d]", path, i), "", "list items must be non-empty strings")
			continue
		}
		out = append(out, strings.TrimSpace(it.Value))
		nodes = append(nodes, it)
	}
	return out, nodes
}

func parseDoc(file string, root *yaml.Node) (*Action, catalog.Problems) {
	p := &docParser{catalog.DocChecker{File: file}}
	env, ok := p.CheckEnvelope(root, "action", APIVersion, docKeys, metadataKeys, "with inputs, runners, approval and executor")
	a := &Action{File: file, Line: root.Line, ID: env.Name, Title: env.Title, Description: env.Description}
	if !ok {
		return nil, p.Problems
	}
	spec := env.Spec
	p.Keys(spec, "spec", specKeys)

	p.inputs(a, spec)
	a.Target = p.Str(spec, "target", "spec.target", false)
	if a.Target != "" {
		switch in := a.Input(a.Target); {
		case in == nil:
			p.Errorf(catalog.YAMLChild(spec, "target"), "spec.target", "name one of the inputs", "target %q is not an input", a.Target)
		case in.Type != TypeEntity:
			p.Errorf(catalog.YAMLChild(spec, "target"), "spec.target", "the target must be an input of type entity", "target %q is a %s input", a.Target, in.Type)
		}
	}

	if r := catalog.YAMLChild(spec, "runners"); r == nil {
		p.Errorf(spec, "spec.runners", "e.g. runners: {owners: true, groups: [sre]}, or runners: {anyone: true}", "spec.runners is required: say who may run the action")
	} else {
		a.Runners = p.who(r, "spec.runners", a.Target != "")
	}
	p.approval(a, spec)
	p.executor(a, spec)
	if p.Problems.Errors() > 0 {
		return nil, p.Problems
	}
	return a, p.Problems
}

func (p *docParser) inputs(a *Action, spec *yaml.Node) {
	ins := catalog.YAMLChild(spec, "inputs")
	if ins == nil {
		return
	}
	if ins.Kind != yaml.SequenceNode {
		p.Errorf(ins, "spec.inputs", "", "spec.inputs must be a list of inputs")
		return
	}
	if len(ins.Content) > maxInputs {
		p.Errorf(ins, "spec.inputs", "", "%d inputs; at most %d", len(ins.Content), maxInputs)
	}
	for i, n := range ins.Content {
		path := fmt.Sprintf("spec.inputs[%d]", i)
		if n.Kind != yaml.MappingNode {
			p.Errorf(n, path, "", "an input is a mapping with name and type")
			continue
		}
		p.Keys(n, path, inputKeys)
		in := &Input{}
		in.Name = p.Str(n, "name", path+".name", true)
		if in.Name != "" {
			path = fmt.Sprintf("spec.inputs[%s]", in.Name)
			if !inputNameRE.MatchString(in.Name) {
				p.Errorf(catalog.YAMLChild(n, "name"), path+".name", "use 1-32 lower-case letters, digits, '-' and '_', starting with a letter", "invalid input name %q", in.Name)
			}
			if a.Input(in.Name) != nil {
				p.Errorf(catalog.YAMLChild(n, "name"), path+".name", "", "input %q is defined twice", in.Name)
			}
		}
		in.Type = InputType(p.Str(n, "type", path+".type", false))
		if in.Type == "" {
			in.Type = TypeString
		}
		known := false
		for _, t := range inputTypes {
			known = known || t == in.Type
		}
		if !known {
			p.Errorf(catalog.YAMLChild(n, "type"), path+".type", "use one of string, number, boolean, enum, entity, duration", "unknown input type %q", in.Type)
			continue
		}
		in.Description = p.Str(n, "description", path+".description", false)
		in.Required = p.boolean(n, "required", path+".required")
		in.Secret = p.boolean(n, "secret", path+".secret")
		if in.Secret && in.Type != TypeString {
			p.Errorf(catalog.YAMLChild(n, "secret"), path+".secret", "only string inputs can be secret", "a %s input cannot be secret", in.Type)
		}
		in.Pattern = p.Str(n, "pattern", path+".pattern", false)
		if in.Pattern != "" {
			if in.Type != TypeString {
				p.Errorf(catalog.YAMLChild(n, "pattern"), path+".pattern", "", "pattern applies to string inputs only")
			} else if re, err := regexp.Compile(`^(?:` + in.Pattern + `)$`); err != nil {
				p.Errorf(catalog.YAMLChild(n, "pattern"), path+".pattern", "use Go regular expression syntax", "invalid pattern: %v", err)
			} else {
				in.pattern = re
			}
		}
		in.Min = p.bound(n, "min", path+".min", in.Type)
		in.Max = p.bound(n, "max", path+".max", in.Type)
		if in.Min != nil && in.Max != nil && *in.Min > *in.Max {
			p.Errorf(catalog.YAMLChild(n, "max"), path+".max", "", "max is below min")
		}
		vals, vnodes := p.list(n, "values", path+".values")
		if in.Type == TypeEnum {
			if len(vals) == 0 {
				p.Errorf(n, path+".values", "e.g. values: [staging, prod]", "an enum input needs values")
			}
			for i, v := range vals {
				for _, have := range in.Values {
					if strings.EqualFold(have, v) {
						p.Errorf(vnodes[i], path+".values", "", "value %q is listed twice", v)
					}
				}
				if strings.ContainsAny(v, " \t\n|") {
					p.Errorf(vnodes[i], path+".values", "use words without spaces or '|'", "invalid enum value %q", v)
				}
				in.Values = append(in.Values, v)
			}
		} else if vals != nil {
			p.Errorf(catalog.YAMLChild(n, "values"), path+".values", "use type: enum", "values apply to enum inputs only")
		}
		in.EntityKind = strings.ToLower(p.Str(n, "kind", path+".kind", false))
		switch {
		case in.Type == TypeEntity && in.EntityKind == "":
			p.Errorf(n, path+".kind", "e.g. kind: component", "an entity input needs the kind it names")
		case in.Type == TypeEntity && !catalog.IsValidKind(in.EntityKind):
			p.Errorf(catalog.YAMLChild(n, "kind"), path+".kind", "", "invalid kind %q", in.EntityKind)
		case in.Type != TypeEntity && in.EntityKind != "":
			p.Errorf(catalog.YAMLChild(n, "kind"), path+".kind", "use type: entity", "kind applies to entity inputs only")
		}
		if d := catalog.YAMLChild(n, "default"); d != nil {
			if d.Kind != yaml.ScalarNode {
				p.Errorf(d, path+".default", "", "default must be a single value")
			} else if v, prob := in.normalize(d.Value); prob != "" {
				p.Errorf(d, path+".default", "", "default %s", prob)
			} else {
				in.Default = v
			}
		}
		a.Inputs = append(a.Inputs, in)
	}
}

// bound reads min or max: a number, or for durations a duration.
func (p *docParser) bound(m *yaml.Node, key, path string, t InputType) *float64 {
	v := catalog.YAMLChild(m, key)
	if v == nil {
		return nil
	}
	switch t {
	case TypeNumber, TypeString:
		f, err := strconv.ParseFloat(v.Value, 64)
		if v.Kind != yaml.ScalarNode || err != nil || !finite(f) {
			p.Errorf(v, path, "", "%s must be a number", key)
			return nil
		}
		if t == TypeString && f < 0 {
			p.Errorf(v, path, "", "a length cannot be negative")
			return nil
		}
		return &f
	case TypeDuration:
		d, err := parseDuration(v.Value)
		if v.Kind != yaml.ScalarNode || err != nil {
			p.Errorf(v, path, "e.g. 15m, 4h, 1d", "%s must be a duration", key)
			return nil
		}
		f := float64(d)
		return &f
	}
	p.Errorf(v, path, "", "%s applies to number, string and duration inputs only", key)
	return nil
}

func (p *docParser) who(n *yaml.Node, path string, hasTarget bool) Who {
	var w Who
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, path, "e.g. {groups: [sre], owners: true}", "%s must be a mapping", path)
		return w
	}
	p.Keys(n, path, whoKeys)
	groups, gnodes := p.list(n, "groups", path+".groups")
	for i, g := range groups {
		r, err := catalog.ParseRef(g, catalog.RefDefaults{Kind: catalog.KindGroup})
		if err != nil || r.Kind != catalog.KindGroup {
			p.Errorf(gnodes[i], path+".groups", "name a group, e.g. sre or group:default/sre", "invalid group %q", g)
			continue
		}
		w.Groups = append(w.Groups, r.String())
	}
	users, unodes := p.list(n, "users", path+".users")
	for i, u := range users {
		r, err := catalog.ParseRef(u, catalog.RefDefaults{Kind: catalog.KindUser})
		if err != nil || r.Kind != catalog.KindUser {
			p.Errorf(unodes[i], path+".users", "name a user, e.g. alice.nguyen or user:default/alice.nguyen", "invalid user %q", u)
			continue
		}
		w.Users = append(w.Users, r.String())
	}
	w.Owners = p.boolean(n, "owners", path+".owners")
	w.OnCall = p.boolean(n, "onCall", path+".onCall")
	w.Anyone = p.boolean(n, "anyone", path+".anyone")
	if (w.Owners || w.OnCall) && !hasTarget {
		p.Errorf(n, path, "set spec.target to the entity input the action acts on", "owners and onCall need a target")
	}
	if len(w.Describe()) == 0 {
		p.Errorf(n, path, "list groups or users, or set owners, onCall or anyone: true", "%s names nobody", path)
	}
	return w
}

func (p *docParser) approval(a *Action, spec *yaml.Node) {
	n := catalog.YAMLChild(spec, "approval")
	switch {
	case n == nil:
		p.Errorf(spec, "spec.approval", "e.g. approval: {required: 1, approvers: {onCall: true}}, or approval: none", "spec.approval is required")
		return
	case n.Kind == yaml.ScalarNode && n.Value == "none":
		a.Approval = Approval{None: true}
		return
	case n.Kind != yaml.MappingNode:
		p.Errorf(n, "spec.approval", "write approval: none, or a mapping with required and approvers", "invalid approval policy")
		return
	}
	p.Keys(n, "spec.approval", approvalKeys)
	ap := Approval{Required: 1, ExpiresAfter: DefaultExpiresAfter}
	if r := catalog.YAMLChild(n, "required"); r != nil {
		v, err := strconv.Atoi(r.Value)
		if r.Kind != yaml.ScalarNode || err != nil || v < 1 || v > MaxRequired {
			p.Errorf(r, "spec.approval.required", fmt.Sprintf("a whole number from 1 to %d", MaxRequired), "invalid required count %q", r.Value)
		} else {
			ap.Required = v
		}
	}
	if ar := catalog.YAMLChild(n, "approvers"); ar == nil {
		p.Errorf(n, "spec.approval.approvers", "e.g. approvers: {onCall: true, groups: [sre]}", "spec.approval.approvers is required")
	} else {
		ap.Approvers = p.who(ar, "spec.approval.approvers", a.Target != "")
		if ap.Approvers.Anyone {
			p.Errorf(catalog.YAMLChild(ar, "anyone"), "spec.approval.approvers.anyone", "name the approvers, or use approval: none", "anyone cannot approve: an approval by anyone is no approval")
		}
		if len(ap.Approvers.Groups) == 0 && !ap.Approvers.Owners && !ap.Approvers.OnCall && ap.Required > len(ap.Approvers.Users) {
			p.Errorf(catalog.YAMLChild(n, "required"), "spec.approval.required", "list more users or lower required", "%d approvals required but only %d users may approve", ap.Required, len(ap.Approvers.Users))
		}
	}
	ap.AllowSelfApproval = p.boolean(n, "allowSelfApproval", "spec.approval.allowSelfApproval")
	if e := catalog.YAMLChild(n, "expiresAfter"); e != nil {
		d, err := parseDuration(e.Value)
		if e.Kind != yaml.ScalarNode || err != nil || d < time.Minute || d > MaxExpiresAfter {
			p.Errorf(e, "spec.approval.expiresAfter", "a duration from 1m to 7d, e.g. 4h", "invalid expiresAfter %q", e.Value)
		} else {
			ap.ExpiresAfter = d
		}
	}
	a.Approval = ap
}

func (p *docParser) executor(a *Action, spec *yaml.Node) {
	n := catalog.YAMLChild(spec, "executor")
	if n == nil || n.Kind != yaml.MappingNode {
		p.Errorf(spec, "spec.executor", "e.g. executor: {type: webhook, url: https://…, secret: ${SECRET}}", "spec.executor is required, a mapping with a type")
		return
	}
	ex := ExecutorSpec{Retries: -1, Settings: map[string]string{}, lines: map[string]int{}, line: n.Line}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := "spec.executor." + k.Value
		if v.Kind != yaml.ScalarNode {
			p.Errorf(v, path, "executor settings are single values", "%s must be a string", path)
			continue
		}
		ex.lines[k.Value] = k.Line
		switch k.Value {
		case "type":
			ex.Type = strings.TrimSpace(v.Value)
		case "timeout":
			d, err := parseDuration(v.Value)
			if err != nil || d <= 0 || d > time.Hour {
				p.Errorf(v, path, "a duration up to 1h, e.g. 30s", "invalid timeout %q", v.Value)
			}
			ex.Timeout = d
		case "retries":
			r, err := strconv.Atoi(v.Value)
			if err != nil || r < 0 || r > maxRetries {
				p.Errorf(v, path, fmt.Sprintf("a whole number from 0 to %d", maxRetries), "invalid retries %q", v.Value)
			}
			ex.Retries = r
		default:
			ex.Settings[k.Value] = v.Value
		}
	}
	if ex.Type == "" {
		p.Errorf(n, "spec.executor.type", "e.g. type: webhook", "spec.executor.type is required")
	}
	a.Executor = ex
}

// parseDuration reads Go durations (90s, 15m, 4h, 1h30m) and whole days
// or weeks (1d, 2w).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 || v > 3650 {
				return 0, fmt.Errorf("invalid duration %q", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return d, nil
}
