package actions

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// APIVersion and Kind identify action documents.
const (
	APIVersion = "idpbot.dev/v1alpha1"
	Kind       = "Action"
)

// Action is a loaded action definition.
type Action struct {
	// ID is metadata.name: what `/idp run <id>` names.
	ID          string
	Title       string
	Description string
	File        string
	Line        int
	// Inputs in definition order.
	Inputs []*Input
	// Target names the entity input the action acts on ("" when none);
	// owners and on-call policies are about that entity.
	Target string
	// Runners may request a run.
	Runners Who
	// Approval is the approval policy.
	Approval Approval
	// Executor says what runs the action.
	Executor ExecutorSpec
}

// InputType is the type of an input.
type InputType string

// Input types.
const (
	TypeString   InputType = "string"
	TypeNumber   InputType = "number"
	TypeBoolean  InputType = "boolean"
	TypeEnum     InputType = "enum"
	TypeEntity   InputType = "entity"
	TypeDuration InputType = "duration"
)

var inputTypes = []InputType{TypeString, TypeNumber, TypeBoolean, TypeEnum, TypeEntity, TypeDuration}

// Input is one input of an action.
type Input struct {
	Name        string
	Type        InputType
	Description string
	Required    bool
	// Default is used when the input is not given (already normalised).
	Default string
	// Pattern, for strings: the whole value must match.
	Pattern string
	// Min and Max bound numbers (value), strings (length in characters) and
	// durations; nil is unbounded.
	Min, Max *float64
	// Values are the allowed values of an enum.
	Values []string
	// EntityKind is the kind an entity input must name (lower case).
	EntityKind string
	// Secret inputs are redacted everywhere but in the executor's request.
	Secret bool

	pattern *regexp.Regexp
}

// Who is a set of people, as policies name them. A person is in the set
// when any part matches: listed as a user; a member of a listed group or of
// any of its sub-groups (transitively, by the catalog's memberOf and childOf
// relations); a member of the target's owner (the owner user, or a member of
// the owner group or its sub-groups); on call now, at any escalation level,
// for the target's owner; or anyone at all.
type Who struct {
	Groups []string `json:"groups,omitempty"` // canonical group refs
	Users  []string `json:"users,omitempty"`  // canonical user refs
	Owners bool     `json:"owners,omitempty"` // owners of the target
	OnCall bool     `json:"onCall,omitempty"` // on call for the target's owner
	Anyone bool     `json:"anyone,omitempty"` // every catalog user
}

// Describe lists the parts of the set for people ("group:default/sre",
// "owners of the target", …).
func (w Who) Describe() []string {
	var out []string
	if w.Anyone {
		out = append(out, "anyone in the catalog")
	}
	if w.Owners {
		out = append(out, "owners of the target")
	}
	if w.OnCall {
		out = append(out, "on-call of the target")
	}
	out = append(out, w.Groups...)
	out = append(out, w.Users...)
	return out
}

func (w Who) String() string { return strings.Join(w.Describe(), ", ") }

// Approval is an approval policy.
type Approval struct {
	// None: the action runs as soon as it is requested.
	None bool `json:"none,omitempty"`
	// Required approvals from distinct approvers (N of the set).
	Required  int `json:"required,omitempty"`
	Approvers Who `json:"approvers"`
	// AllowSelfApproval lets the requester approve their own run.
	AllowSelfApproval bool `json:"allowSelfApproval,omitempty"`
	// ExpiresAfter is how long a run waits for approval.
	ExpiresAfter time.Duration `json:"expiresAfter,omitempty"`
}

// Describe says the policy in one line.
func (a Approval) Describe() string {
	if a.None {
		return "no approval required"
	}
	self := ", not the requester"
	if a.AllowSelfApproval {
		self = ", the requester included"
	}
	return fmt.Sprintf("%d approval(s) from: %s%s; expires after %s", a.Required, a.Approvers, self, formatDuration(a.ExpiresAfter))
}

// Default approval settings.
const (
	DefaultExpiresAfter = 4 * time.Hour
	MaxExpiresAfter     = 7 * 24 * time.Hour
	MaxRequired         = 10
)

// Input returns the input called name, or nil.
func (a *Action) Input(name string) *Input {
	for _, in := range a.Inputs {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// Usage shows how to call the action: "restart-service service=<component>
// [env=staging|prod] reason=<text>". The chat layer puts its own command in
// front ("/idp run ").
func (a *Action) Usage() string {
	parts := []string{a.ID}
	for _, in := range a.Inputs {
		p := in.Name + "=" + in.placeholder()
		if !in.Required || in.Default != "" {
			p = "[" + p + "]"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

func (in *Input) placeholder() string {
	switch in.Type {
	case TypeEnum:
		return strings.Join(in.Values, "|")
	case TypeBoolean:
		return "true|false"
	case TypeEntity:
		return "<" + in.EntityKind + ">"
	case TypeNumber:
		return "<number>"
	case TypeDuration:
		return "<duration, e.g. 2h>"
	}
	if in.Secret {
		return "<secret>"
	}
	return "<text>"
}

// Help describes the input in one line: type, bounds, default.
func (in *Input) Help() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", in.Name, in.Type)
	if in.Type == TypeEntity {
		fmt.Fprintf(&b, " (%s)", in.EntityKind)
	}
	if in.Type == TypeEnum {
		fmt.Fprintf(&b, " (one of %s)", strings.Join(in.Values, ", "))
	}
	if r := in.rangeText(); r != "" {
		fmt.Fprintf(&b, ", %s", r)
	}
	if in.Required && in.Default == "" {
		b.WriteString(", required")
	}
	if in.Default != "" && !in.Secret {
		fmt.Fprintf(&b, ", default %s", in.Default)
	}
	if in.Description != "" {
		fmt.Fprintf(&b, " — %s", in.Description)
	}
	return b.String()
}

// Bounds says the input's min and max for people: "5 to 200 characters",
// "15m to 8h", "at most 10"; "" when it has none. Chat forms show it.
func (in *Input) Bounds() string { return in.rangeText() }

func (in *Input) rangeText() string {
	f := func(v float64) string {
		if in.Type == TypeDuration {
			return formatDuration(time.Duration(v))
		}
		return formatNumber(v)
	}
	what := ""
	if in.Type == TypeString {
		what = " characters"
	}
	switch {
	case in.Min != nil && in.Max != nil:
		return fmt.Sprintf("%s to %s%s", f(*in.Min), f(*in.Max), what)
	case in.Min != nil:
		return fmt.Sprintf("at least %s%s", f(*in.Min), what)
	case in.Max != nil:
		return fmt.Sprintf("at most %s%s", f(*in.Max), what)
	}
	return ""
}

// formatDuration writes 4h, 90m, 1h30m, 2d rather than 4h0m0s.
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
