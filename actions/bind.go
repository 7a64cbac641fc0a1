package actions

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/idpbot/idpbot/catalog"
)

// Resolver finds the entities entity inputs name; *catalog.Store is one.
type Resolver interface {
	Get(ctx context.Context, ref string) (*catalog.Entity, error)
	Resolve(ctx context.Context, query string, preferKinds ...string) (*catalog.Entity, error)
	Complete(ctx context.Context, prefix string, n int) ([]catalog.Ref, error)
}

// Redacted replaces secret values wherever people could see them.
const Redacted = "[redacted]"

// maxValueLen bounds any input value (in bytes), whatever its max says.
const maxValueLen = 4000

// Inputs are the validated, normalised inputs of one action; only Bind
// makes them. Numbers are in shortest form, booleans "true" or "false",
// durations like "90m" or "2d", enum values as defined, entities as
// canonical refs ("component:default/checkout-service").
type Inputs struct {
	action string
	values map[string]string
}

// Action is the id of the action the inputs were bound for.
func (in Inputs) Action() string { return in.action }

// Value returns one input.
func (in Inputs) Value(name string) (string, bool) {
	v, ok := in.values[name]
	return v, ok
}

// Redacted returns the values with secret inputs replaced by Redacted.
func (a *Action) Redacted(in Inputs) map[string]string {
	out := make(map[string]string, len(in.values))
	for k, v := range in.values {
		if i := a.Input(k); i != nil && i.Secret {
			v = Redacted
		}
		out[k] = v
	}
	return out
}

// InputError says what is wrong with the inputs of a run, every problem at
// once, with the right usage. Its text is safe to show the person who
// typed it: secret values are never repeated.
type InputError struct {
	Action   string
	Problems []InputProblem
	// Usage is Action.Usage(); Help describes each input.
	Usage string
	Help  []string
}

// InputProblem is one thing wrong with one input.
type InputProblem struct {
	Input   string
	Message string
	// Suggestions are likely meant values (did you mean).
	Suggestions []string
}

func (e *InputError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", e.Action)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	fmt.Fprintf(&b, " (usage: %s)", e.Usage)
	return b.String()
}

func (p InputProblem) String() string {
	s := p.Input + ": " + p.Message
	if p.Input == "" {
		s = p.Message
	}
	if len(p.Suggestions) > 0 {
		s += " (did you mean " + strings.Join(p.Suggestions, ", ") + "?)"
	}
	return s
}

// Bind validates params (input name → value as typed) against the action's
// inputs: types, bounds, patterns, allowed values, entities resolved in the
// catalog, required inputs and unknown names. Every problem is reported at
// once in an *InputError; other errors are the catalog's.
func (a *Action) Bind(ctx context.Context, cat Resolver, params map[string]string) (Inputs, error) {
	ie := &InputError{Action: a.ID, Usage: a.Usage()}
	out := Inputs{action: a.ID, values: map[string]string{}}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if a.Input(k) == nil {
			var known []string
			for _, in := range a.Inputs {
				known = append(known, in.Name)
			}
			p := InputProblem{Input: clip(k, 40), Message: "unknown input", Suggestions: closest(k, known, 2)}
			if len(p.Suggestions) == 0 && len(known) > 0 {
				p.Message = "unknown input; inputs are " + strings.Join(known, ", ")
			} else if len(known) == 0 {
				p.Message = "unknown input; this action takes none"
			}
			ie.Problems = append(ie.Problems, p)
		}
	}
	for _, in := range a.Inputs {
		raw, given := params[in.Name]
		if !given || strings.TrimSpace(raw) == "" {
			switch {
			case in.Default != "":
				out.values[in.Name] = in.Default
			case in.Required:
				ie.Problems = append(ie.Problems, InputProblem{Input: in.Name, Message: "required, not given: " + in.Help()})
			}
			continue
		}
		var v, prob string
		var sugg []string
		if in.Type == TypeEntity {
			var err error
			v, prob, sugg, err = in.resolve(ctx, cat, raw)
			if err != nil {
				return Inputs{}, fmt.Errorf("resolve input %s: %w", in.Name, err)
			}
		} else {
			v, prob = in.normalize(raw)
			if prob != "" && in.Type == TypeEnum {
				sugg = closest(raw, in.Values, 2)
			}
		}
		if prob != "" {
			ie.Problems = append(ie.Problems, InputProblem{Input: in.Name, Message: prob, Suggestions: sugg})
			continue
		}
		out.values[in.Name] = v
	}
	if len(ie.Problems) > 0 {
		for _, in := range a.Inputs {
			ie.Help = append(ie.Help, in.Help())
		}
		return Inputs{}, ie
	}
	return out, nil
}

// show quotes a value for a message, unless it is secret.
func (in *Input) show(raw string) string {
	if in.Secret {
		return "the value"
	}
	return strconv.Quote(clip(raw, 60))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// normalize checks a value of any type but entity (for which it checks only
// the reference syntax) and returns it normalised, or a problem.
func (in *Input) normalize(raw string) (string, string) {
	if len(raw) > maxValueLen {
		return "", fmt.Sprintf("too long (%d bytes; at most %d)", len(raw), maxValueLen)
	}
	if !utf8.ValidString(raw) {
		return "", "is not valid UTF-8 text"
	}
	s := strings.TrimSpace(raw)
	switch in.Type {
	case TypeString:
		for _, r := range raw {
			if unicode.IsControl(r) && r != '\n' && r != '\t' {
				return "", "contains control characters"
			}
		}
		n := float64(utf8.RuneCountInString(s))
		if in.Min != nil && n < *in.Min {
			return "", fmt.Sprintf("too short: %g characters, at least %g", n, *in.Min)
		}
		if in.Max != nil && n > *in.Max {
			return "", fmt.Sprintf("too long: %g characters, at most %g", n, *in.Max)
		}
		if in.pattern != nil && !in.pattern.MatchString(s) {
			return "", fmt.Sprintf("%s does not match the pattern %s", in.show(s), in.Pattern)
		}
		return s, ""
	case TypeNumber:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || !finite(f) {
			return "", fmt.Sprintf("%s is not a number", in.show(s))
		}
		if (in.Min != nil && f < *in.Min) || (in.Max != nil && f > *in.Max) {
			return "", fmt.Sprintf("%s is out of range: %s", formatNumber(f), in.rangeText())
		}
		return formatNumber(f), ""
	case TypeBoolean:
		switch strings.ToLower(s) {
		case "true", "yes", "on", "1":
			return "true", ""
		case "false", "no", "off", "0":
			return "false", ""
		}
		return "", fmt.Sprintf("%s is not true or false", in.show(s))
	case TypeEnum:
		for _, v := range in.Values {
			if strings.EqualFold(v, s) {
				return v, ""
			}
		}
		return "", fmt.Sprintf("%s is not one of %s", in.show(s), strings.Join(in.Values, ", "))
	case TypeDuration:
		d, err := parseDuration(s)
		if err != nil || d <= 0 {
			return "", fmt.Sprintf("%s is not a duration (e.g. 30m, 4h, 1d)", in.show(s))
		}
		if (in.Min != nil && float64(d) < *in.Min) || (in.Max != nil && float64(d) > *in.Max) {
			return "", fmt.Sprintf("%s is out of range: %s", formatDuration(d), in.rangeText())
		}
		return formatDuration(d), ""
	case TypeEntity:
		r, err := catalog.ParseRef(s, catalog.RefDefaults{Kind: in.EntityKind})
		if err != nil || !strings.EqualFold(r.Kind, in.EntityKind) {
			return "", fmt.Sprintf("%s is not a %s reference", in.show(s), in.EntityKind)
		}
		return r.String(), ""
	}
	return "", "unknown type"
}

// resolve finds the entity an entity input names: a ref or a bare name of
// the input's kind.
func (in *Input) resolve(ctx context.Context, cat Resolver, raw string) (ref, problem string, sugg []string, err error) {
	q := strings.TrimSpace(raw)
	if len(q) > 256 || !utf8.ValidString(q) || q == "" {
		return "", fmt.Sprintf("%s is not a %s name", in.show(q), in.EntityKind), nil, nil
	}
	notFound := fmt.Sprintf("no %s named %s", in.EntityKind, in.show(q))
	if r, perr := catalog.ParseRef(q, catalog.RefDefaults{Kind: in.EntityKind}); perr == nil {
		if !strings.EqualFold(r.Kind, in.EntityKind) {
			return "", fmt.Sprintf("%s is a %s; a %s is needed", in.show(q), r.Kind, in.EntityKind), nil, nil
		}
		e, gerr := cat.Get(ctx, r.String())
		if gerr == nil {
			return e.Ref().String(), "", nil, nil
		}
		if !errors.Is(gerr, catalog.ErrNotFound) {
			return "", "", nil, gerr
		}
	}
	var cands []catalog.Ref
	e, rerr := cat.Resolve(ctx, q, in.EntityKind)
	var nf *catalog.NotFoundError
	var amb *catalog.AmbiguousError
	switch {
	case rerr == nil && strings.EqualFold(e.Kind, in.EntityKind):
		return e.Ref().String(), "", nil, nil
	case rerr == nil:
		// Another kind has that name: suggest ones of the right kind.
	case errors.As(rerr, &amb):
		var mine []catalog.Ref
		for _, c := range amb.Candidates {
			if strings.EqualFold(c.Kind, in.EntityKind) {
				mine = append(mine, c)
			}
		}
		if len(mine) == 1 {
			return mine[0].String(), "", nil, nil
		}
		if len(mine) > 1 {
			for _, c := range mine {
				sugg = append(sugg, c.String())
			}
			return "", fmt.Sprintf("%s matches several %ss", in.show(q), in.EntityKind), sugg, nil
		}
	case errors.As(rerr, &nf):
		cands = nf.Suggestions
	case errors.Is(rerr, catalog.ErrNotFound), errors.Is(rerr, catalog.ErrInvalidRef):
	default:
		return "", "", nil, rerr
	}
	if more, cerr := cat.Complete(ctx, q, 20); cerr == nil {
		cands = append(cands, more...)
	}
	seen := map[string]bool{}
	for _, c := range cands {
		if !strings.EqualFold(c.Kind, in.EntityKind) || seen[c.String()] || len(sugg) >= 5 {
			continue
		}
		seen[c.String()] = true
		sugg = append(sugg, c.Short(in.EntityKind))
	}
	return "", notFound, sugg, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// closest returns the candidates within maxDist edits of s (any case),
// nearest first.
func closest(s string, cands []string, maxDist int) []string {
	s = strings.ToLower(clip(s, 64))
	type scored struct {
		v string
		d int
	}
	var out []scored
	for _, c := range cands {
		lc := strings.ToLower(c)
		d := catalog.EditDistance(s, lc)
		if d <= maxDist || (len(s) >= 3 && strings.HasPrefix(lc, s)) {
			out = append(out, scored{c, d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].d < out[j].d })
	var res []string
	for _, o := range out {
		res = append(res, o.v)
	}
	return res
}
