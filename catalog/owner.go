package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// Person is a user as ownership answers show them.
type Person struct {
	Ref         string `json:"ref"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email,omitempty"`
	SlackID     string `json:"slackId,omitempty"`
	DiscordID   string `json:"discordId,omitempty"`
}

// Channel is a chat channel found in annotations, with the entity it came
// from (the entity itself, its owner, or an ancestor group of the owner).
type Channel struct {
	Platform   string `json:"platform"` // slack or discord
	ID         string `json:"id"`
	Annotation string `json:"annotation"`
	From       string `json:"from"`
}

// Summary names an entity briefly.
type Summary struct {
	Ref         string `json:"ref"`
	DisplayName string `json:"displayName"`
	Exists      bool   `json:"exists"`
}

// Ownership answers "who owns X": the owner and its people, the groups above
// it, where to talk to them, and the links an incident needs.
type Ownership struct {
	Entity     *Entity   `json:"entity"`
	Owner      Summary   `json:"owner"`
	OwnerKind  string    `json:"ownerKind"` // group or user
	OwnerEmail string    `json:"ownerEmail,omitempty"`
	Members    []Person  `json:"members,omitempty"`
	Parents    []Summary `json:"parents,omitempty"` // nearest first, up to the root
	Channels   []Channel `json:"channels,omitempty"`
	Links      []Link    `json:"links,omitempty"` // runbook, repo, docs, … as found
	System     *Summary  `json:"system,omitempty"`
	Domain     *Summary  `json:"domain,omitempty"`
	// OnCall holds the on-call annotations of the entity or its owner
	// (pagerduty.com/service-id, opsgenie.com/team), for the on-call lookup.
	OnCall map[string]string `json:"onCall,omitempty"`
}

// maxMembers caps the members listed in an ownership answer.
const maxMembers = 50

// maxDepth bounds the walk up the group hierarchy (cycles are possible in
// bad data).
const maxDepth = 20

// WhoOwns resolves query (a ref or a name; see Resolve) and answers who owns
// it. A Group or User asked about is its own owner: the answer lists its
// people and channels.
func (s *Store) WhoOwns(ctx context.Context, query string) (*Ownership, error) {
	e, err := s.Resolve(ctx, query, KindComponent, KindAPI, KindResource, KindSystem, KindDomain)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ownership(ctx, e)
}

func (s *Store) ownership(ctx context.Context, e *Entity) (*Ownership, error) {
	o := &Ownership{Entity: e, OnCall: map[string]string{}}
	err := s.db.View(func(txn *badger.Txn) error {
		r := reader{txn: txn, cache: &s.summaries}
		return o.fill(ctx, r, e)
	})
	if err != nil {
		return nil, err
	}
	if len(o.OnCall) == 0 {
		o.OnCall = nil
	}
	return o, nil
}

// fill answers the ownership of e (read with its relations) reading only
// what the answer shows: the owner with its members and parents, bodies of
// people and groups, and the system and domain.
func (o *Ownership) fill(ctx context.Context, r reader, e *Entity) error {
	kind := strings.ToLower(e.Kind)
	var owner *Entity
	var ownerRels map[string][]string
	switch kind {
	case KindGroup, KindUser:
		owner = e
		ownerRels = relationMap(e)
		o.Owner = Summary{Ref: e.Ref().String(), DisplayName: e.DisplayName(), Exists: true}
	default:
		targets := e.RelationTargets(RelOwnedBy)
		if len(targets) == 0 {
			return nil // no owner: the answer says so
		}
		o.Owner = Summary{Ref: targets[0], DisplayName: MustParseRef(targets[0]).Name}
		oe, rels, err := r.summary(targets[0], RelHasMember, RelChildOf)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		default:
			owner, ownerRels = oe, rels
			o.Owner.DisplayName, o.Owner.Exists = oe.DisplayName(), true
		}
	}
	o.OwnerKind = MustParseRef(o.Owner.Ref).Kind
	o.addChannels(e)
	o.addOnCall(e)
	if owner != nil {
		o.OwnerEmail = owner.Email()
		if owner != e {
			o.addChannels(owner)
			o.addOnCall(owner)
		}
		switch o.OwnerKind {
		case KindUser:
			o.Members = []Person{person(owner)}
		case KindGroup:
			for i, m := range ownerRels[RelHasMember] {
				if i >= maxMembers {
					break
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				u, _, err := r.summary(m)
				if errors.Is(err, ErrNotFound) {
					o.Members = append(o.Members, Person{Ref: m, DisplayName: MustParseRef(m).Name})
					continue
				}
				if err != nil {
					return err
				}
				o.Members = append(o.Members, person(u))
			}
			if err := o.addParents(r, owner, ownerRels[RelChildOf]); err != nil {
				return err
			}
		}
	}
	o.Links = incidentLinks(e)
	sys := firstOf(e.RelationTargets(RelPartOf), KindSystem)
	domainOf := e.RelationTargets(RelPartOf)
	if sys != "" {
		se, rels, err := r.summary(sys, RelPartOf)
		o.System = summaryOf(sys, se, err)
		domainOf = rels[RelPartOf]
	}
	if sys != "" || kind == KindSystem {
		if dom := firstOf(domainOf, KindDomain); dom != "" {
			de, _, err := r.summary(dom)
			o.Domain = summaryOf(dom, de, err)
		}
	}
	return nil
}

func (o *Ownership) addParents(r reader, g *Entity, parents []string) error {
	seen := map[string]bool{g.Ref().String(): true}
	for depth := 0; depth < maxDepth; depth++ {
		if len(parents) == 0 || seen[parents[0]] {
			return nil
		}
		ref := parents[0]
		seen[ref] = true
		pe, rels, err := r.summary(ref, RelChildOf)
		if errors.Is(err, ErrNotFound) {
			o.Parents = append(o.Parents, Summary{Ref: ref, DisplayName: MustParseRef(ref).Name})
			return nil
		}
		if err != nil {
			return fmt.Errorf("read parent group %s: %w", ref, err)
		}
		o.Parents = append(o.Parents, Summary{Ref: ref, DisplayName: pe.DisplayName(), Exists: true})
		o.addChannels(pe)
		parents = rels[RelChildOf]
	}
	return nil
}

func summaryOf(ref string, e *Entity, err error) *Summary {
	sum := &Summary{Ref: ref, DisplayName: MustParseRef(ref).Name}
	if err == nil && e != nil {
		sum.DisplayName, sum.Exists = e.DisplayName(), true
	}
	return sum
}

func relationMap(e *Entity) map[string][]string {
	m := map[string][]string{}
	for _, r := range e.Relations {
		m[r.Type] = append(m[r.Type], r.TargetRef)
	}
	return m
}

// firstOf returns the first target of the given kind.
func firstOf(targets []string, kind string) string {
	for _, t := range targets {
		if strings.HasPrefix(t, kind+":") {
			return t
		}
	}
	return ""
}

func person(u *Entity) Person {
	return Person{Ref: u.Ref().String(), DisplayName: u.DisplayName(), Email: u.Email(),
		SlackID: u.Annotation(AnnotationSlackUserID), DiscordID: u.Annotation(AnnotationDiscordUserID)}
}

// addChannels appends e's chat channels; the first found for a platform is
// the nearest (the entity's own, then its owner's, then ancestors').
func (o *Ownership) addChannels(e *Entity) {
	for _, c := range []struct{ platform, key string }{
		{"slack", AnnotationSlackChannelID},
		{"slack", AnnotationSlackBotNotify},
		{"discord", AnnotationDiscordChannelID},
	} {
		v := strings.TrimSpace(e.Annotation(c.key))
		if v == "" {
			continue
		}
		dup := false
		for _, have := range o.Channels {
			if have.Platform == c.platform && have.ID == v {
				dup = true
			}
		}
		if !dup {
			o.Channels = append(o.Channels, Channel{Platform: c.platform, ID: v, Annotation: c.key, From: e.Ref().String()})
		}
	}
}

func (o *Ownership) addOnCall(e *Entity) {
	for _, k := range []string{AnnotationPagerDutyServiceID, AnnotationPagerDutyIntegrationKey, AnnotationOpsgenieTeam, AnnotationOpsgenieSchedule, AnnotationOpsgenieComponent} {
		if v := e.Annotation(k); v != "" {
			if _, ok := o.OnCall[k]; !ok && k != AnnotationPagerDutyIntegrationKey {
				o.OnCall[k] = v
			}
		}
	}
}

// incidentLinks lists the entity's links, runbooks first, then repository and
// docs, adding the repository from github.com/project-slug when no link has it.
func incidentLinks(e *Entity) []Link {
	rank := func(l Link) int {
		t := strings.ToLower(l.Type + " " + l.Title)
		switch {
		case strings.Contains(t, "runbook") || strings.Contains(t, "playbook"):
			return 0
		case strings.Contains(t, "dashboard"):
			return 1
		case strings.Contains(t, "repo") || strings.Contains(t, "source") || strings.Contains(l.URL, "github.com/"):
			return 2
		case strings.Contains(t, "doc"):
			return 3
		}
		return 4
	}
	links := append([]Link(nil), e.Metadata.Links...)
	hasRepo := false
	for _, l := range links {
		if rank(l) == 2 {
			hasRepo = true
		}
	}
	if slug := e.Annotation(AnnotationGitHubProjectSlug); slug != "" && !hasRepo {
		links = append(links, Link{URL: "https://github.com/" + slug, Title: "Repository", Type: "repo"})
	}
	// stable sort by rank
	for i := 1; i < len(links); i++ {
		for j := i; j > 0 && rank(links[j]) < rank(links[j-1]); j-- {
			links[j], links[j-1] = links[j-1], links[j]
		}
	}
	return links
}
