package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Well-known kinds. Kind names compare case-insensitively; these are the
// canonical lower-case forms.
const (
	KindComponent = "component"
	KindAPI       = "api"
	KindResource  = "resource"
	KindSystem    = "system"
	KindDomain    = "domain"
	KindGroup     = "group"
	KindUser      = "user"
	KindLocation  = "location"
	KindTemplate  = "template"
)

// Well-known annotations idpbot reads.
const (
	AnnotationManagedByLocation       = "backstage.io/managed-by-location"
	AnnotationManagedByOriginLocation = "backstage.io/managed-by-origin-location"
	AnnotationSlackChannelID          = "slack.com/channel-id"
	AnnotationSlackBotNotify          = "slack.com/bot-notify"
	AnnotationSlackUserID             = "slack.com/user-id"
	AnnotationDiscordChannelID        = "discord.com/channel-id"
	AnnotationDiscordUserID           = "discord.com/user-id"
	AnnotationPagerDutyServiceID      = "pagerduty.com/service-id"
	AnnotationPagerDutyIntegrationKey = "pagerduty.com/integration-key"
	AnnotationOpsgenieTeam            = "opsgenie.com/team"
	AnnotationOpsgenieComponent       = "opsgenie.com/component-selector"
	AnnotationOpsgenieSchedule        = "opsgenie.com/schedule"
	AnnotationGitHubProjectSlug       = "github.com/project-slug"
	AnnotationTechDocsRef             = "backstage.io/techdocs-ref"
)

// Entity is one catalog entity in the Backstage descriptor format.
type Entity struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   Metadata       `json:"metadata"`
	Spec       map[string]any `json:"spec,omitempty"`
	// Relations are derived by the catalog and filled in on read; descriptor
	// files never carry them.
	Relations []Relation `json:"relations,omitempty"`
}

// Metadata is the metadata block common to every kind.
type Metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Links       []Link            `json:"links,omitempty"`
}

// Link is an entry of metadata.links.
type Link struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
	Icon  string `json:"icon,omitempty"`
	Type  string `json:"type,omitempty"`
}

// Relation is a directed, typed edge from the entity that carries it to
// Target. TargetExists is false for a dangling relation: its target is not in
// the catalog (kept and flagged, as Backstage does).
type Relation struct {
	Type         string `json:"type"`
	TargetRef    string `json:"targetRef"`
	TargetExists bool   `json:"targetExists"`
}

// Ref returns the entity's reference (namespace defaulted).
func (e *Entity) Ref() Ref {
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return Ref{Kind: e.Kind, Namespace: ns, Name: e.Metadata.Name}
}

// DisplayName is the title, the profile's displayName, or the name.
func (e *Entity) DisplayName() string {
	if e.Metadata.Title != "" {
		return e.Metadata.Title
	}
	if p, ok := e.Spec["profile"].(map[string]any); ok {
		if d, ok := p["displayName"].(string); ok && d != "" {
			return d
		}
	}
	return e.Metadata.Name
}

// Email is spec.profile.email, for users and groups.
func (e *Entity) Email() string {
	if p, ok := e.Spec["profile"].(map[string]any); ok {
		if s, ok := p["email"].(string); ok {
			return s
		}
	}
	return ""
}

// SpecString returns spec.<key> when it is a string.
func (e *Entity) SpecString(key string) string {
	s, _ := e.Spec[key].(string)
	return s
}

// RelationTargets returns the targets of the entity's relations of type t,
// sorted.
func (e *Entity) RelationTargets(t string) []string {
	var out []string
	for _, r := range e.Relations {
		if r.Type == t {
			out = append(out, r.TargetRef)
		}
	}
	sort.Strings(out)
	return out
}

// Annotation returns metadata.annotations[key].
func (e *Entity) Annotation(key string) string { return e.Metadata.Annotations[key] }

// LinkOfType returns the first link whose type (or, failing that, title)
// matches t case-insensitively.
func (e *Entity) LinkOfType(t string) (Link, bool) {
	for _, l := range e.Metadata.Links {
		if strings.EqualFold(l.Type, t) {
			return l, true
		}
	}
	for _, l := range e.Metadata.Links {
		if strings.Contains(strings.ToLower(l.Title), t) {
			return l, true
		}
	}
	return Link{}, false
}

// String renders the entity's canonical reference.
func (e *Entity) String() string { return e.Ref().String() }

// Severity of a Problem.
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one thing wrong in a descriptor file: where it is (file, line,
// column and the field path), what is wrong, and how to fix it. An entity
// with an error is not accepted; warnings are kept with the entity.
type Problem struct {
	Severity Severity `json:"severity"`
	File     string   `json:"file"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	Entity   string   `json:"entity,omitempty"`
	Path     string   `json:"path,omitempty"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
}

// String renders the problem as "file:line:col: severity: [entity] path: message (hint)".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	fmt.Fprintf(&b, ": %s: ", p.Severity)
	if p.Entity != "" {
		fmt.Fprintf(&b, "%s: ", p.Entity)
	}
	if p.Path != "" {
		fmt.Fprintf(&b, "%s: ", p.Path)
	}
	b.WriteString(p.Message)
	if p.Hint != "" {
		fmt.Fprintf(&b, " (fix: %s)", p.Hint)
	}
	return b.String()
}

// Problems is a list of problems; it is an error when it holds an error.
type Problems []Problem

// Errors counts the problems of severity error.
func (ps Problems) Errors() int {
	n := 0
	for _, p := range ps {
		if p.Severity == SeverityError {
			n++
		}
	}
	return n
}

// Sort orders problems by file, line and column.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
