package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// Display limits that keep replies readable on every platform.
const (
	maxMembersShown   = 12
	maxRelationsShown = 8
	maxOwnedShown     = 10
)

func builtinCommands(r *Router) []*Command {
	return []*Command{
		{
			Name: "who-owns", Aliases: []string{"owner", "whoowns"},
			Args:    []Arg{{Name: "entity", Help: "a service, API, resource… by name or ref", Required: true, Complete: CompleteEntity}},
			Summary: "who owns a service, API or resource, and how to reach them",
			Help: "Shows the owning team or person, their channel, members, the groups above them, " +
				"the on-call source, and the runbook, repo and docs links. <entity> is a name " +
				"(payments-api), a partial ref (component:payments-api) or a full ref.",
			Examples: []string{"who-owns payments-api", "who-owns component:default/ledger --public"},
			Run:      r.whoOwns,
		},
		{
			Name: "oncall", Aliases: []string{"on-call"},
			Args:     []Arg{{Name: "entity", Help: "a service or a team", Required: true, Complete: CompleteEntity}},
			Summary:  "who is on call for a service or team, and how to page them",
			Help:     "Finds the owner of <entity> (or the team itself) and shows who is on call now, from the configured on-call integrations, with the team channel and members to fall back on.",
			Examples: []string{"oncall payments-api", "oncall payments"},
			Run:      r.onCall,
		},
		{
			Name: "search", Aliases: []string{"find"},
			Args:    []Arg{{Name: "text", Help: "words to look for", Required: true, Rest: true}},
			Summary: "full-text search of the catalog",
			Help:    "Searches names, titles, descriptions, tags, owners and systems; prefixes and small typos match too.",
			Flags: []Flag{
				{Name: "kind", Value: "KIND", Help: "only this kind", Choices: catalogKinds},
				{Name: "limit", Value: "N", Help: "how many hits to show, 1 to 20 (default 5)", Int: true, Min: 1, Max: 20},
			},
			Examples: []string{"search ledger", "search payments --kind=api", `search "card tokenization"`},
			Run:      r.search,
		},
		{
			Name: "show", Aliases: []string{"get", "info"},
			Args:     []Arg{{Name: "entity", Help: "any catalog entity by name or ref", Required: true, Complete: CompleteEntity}},
			Summary:  "the catalog card of one entity with its relations",
			Examples: []string{"show payments-api", "show system:payments"},
			Run:      r.show,
		},
		{
			Name: "team", Aliases: []string{"group"},
			Args:     []Arg{{Name: "team", Help: "a team (yours if omitted)", Complete: CompleteTeam}},
			Summary:  "a team's members, channel and what it owns (yours if you name none)",
			Examples: []string{"team payments", "team"},
			Run:      r.team,
		},
		{
			Name:    "whoami",
			Summary: "which catalog user you are, and your teams",
			Run:     r.whoAmI,
		},
	}
}

// helpCommand is registered last, so that help lists it at the end.
func helpCommand(r *Router) *Command {
	return &Command{
		Name:     "help",
		Args:     []Arg{{Name: "command", Help: "a command to explain", Complete: CompleteCommand}},
		Summary:  "list the commands, or explain one",
		Examples: []string{"help", "help who-owns"},
		Run:      r.help,
	}
}

func (r *Router) whoOwns(ctx context.Context, c *Call) (*Reply, error) {
	o, err := r.cat.WhoOwns(ctx, c.Args.Words[0])
	if err != nil {
		return nil, err
	}
	oc, _ := r.lookupOnCall(ctx, o) // the card is useful without it
	return ownershipReply(o, oc), nil
}

func ownershipReply(o *catalog.Ownership, oc *catalog.OnCall) *Reply {
	e := o.Entity
	ref := e.Ref().String()
	rep := &Reply{}
	rep.Blocks = append(rep.Blocks, &Header{Text: e.DisplayName()})
	sec := &Section{}
	if d := oneLine(e.Metadata.Description, 500); d != "" {
		sec.Text = T(d)
	}
	var fields []Field
	if o.Owner.Ref == "" {
		fields = append(fields, Field{Label: "Owner", Value: T("none — add spec.owner to its catalog-info.yaml")})
		rep.Text = fmt.Sprintf("%s has no owner in the catalog.", ref)
	} else {
		v := Text{B(o.Owner.DisplayName)}
		if !o.Owner.Exists {
			v = append(v, P(" ("+o.Owner.Ref+", not in the catalog)"))
		}
		fields = append(fields, Field{Label: "Owner", Value: v})
		rep.Text = fmt.Sprintf("%s is owned by %s.", ref, o.Owner.DisplayName)
	}
	if ch := channelText(o); len(ch) > 0 {
		fields = append(fields, Field{Label: "Channel", Value: ch})
	}
	if o.OwnerEmail != "" {
		fields = append(fields, Field{Label: "Email", Value: Text{L(o.OwnerEmail, "mailto:"+o.OwnerEmail)}})
	}
	if m := membersText(o.Members, maxMembersShown); len(m) > 0 {
		fields = append(fields, Field{Label: "Members", Value: m})
	}
	switch {
	case oc != nil && len(oc.Now) > 0:
		var v Text
		for i, s := range oc.Now {
			if i > 0 {
				v = append(v, P(", "))
			}
			v = append(v, Mention(s.Person.DisplayName, personIDs(s.Person)))
			if !s.End.IsZero() && i == 0 {
				v = append(v, P(" until "), When(s.End))
			}
		}
		fields = append(fields, Field{Label: "On call", Value: v})
	case len(onCallAnnotations(o)) > 0:
		fields = append(fields, Field{Label: "On call", Value: onCallAnnotations(o)})
	}
	if len(o.Parents) > 0 {
		names := make([]string, len(o.Parents))
		for i, p := range o.Parents {
			names[i] = p.DisplayName
		}
		fields = append(fields, Field{Label: "Part of", Value: T(strings.Join(names, " › "))})
	}
	if o.System != nil {
		fields = append(fields, Field{Label: "System", Value: T(o.System.DisplayName)})
	}
	if o.Domain != nil {
		fields = append(fields, Field{Label: "Domain", Value: T(o.Domain.DisplayName)})
	}
	if links := linksText(o.Links); len(links) > 0 {
		fields = append(fields, Field{Label: "Links", Value: links})
	}
	sec.Fields = fields
	rep.Blocks = append(rep.Blocks, sec)
	rep.Blocks = append(rep.Blocks, &Context{Text: Text{C(ref)}})
	buttons := []Button{{Label: "On call", Command: "oncall " + ref, Style: Primary}}
	if o.Owner.Exists && strings.HasPrefix(o.Owner.Ref, catalog.KindGroup+":") {
		buttons = append(buttons, Button{Label: "Team", Command: "team " + o.Owner.Ref})
	}
	buttons = append(buttons, Button{Label: "Details", Command: "show " + ref})
	rep.Blocks = append(rep.Blocks, &Actions{Buttons: buttons})
	return rep
}

func (r *Router) onCall(ctx context.Context, c *Call) (*Reply, error) {
	o, err := r.cat.WhoOwns(ctx, c.Args.Words[0])
	if err != nil {
		return nil, err
	}
	e := o.Entity
	rep := &Reply{}
	owner := o.Owner.DisplayName
	if owner == "" {
		owner = e.DisplayName()
	}
	rep.Blocks = append(rep.Blocks, &Header{Text: "On call for " + e.DisplayName()})
	oc, sourceErr := r.lookupOnCall(ctx, o)
	switch {
	case oc != nil && len(oc.Now) > 0:
		sec := &Section{Fields: shiftFields(oc.Now, true)}
		if oc.Stale {
			sec.Text = T(fmt.Sprintf("The on-call provider is not answering; this is what it said %s ago.", age(r.now().Sub(oc.AsOf))))
		}
		rep.Blocks = append(rep.Blocks, sec)
		if len(oc.Next) > 0 {
			rep.Blocks = append(rep.Blocks, &Section{Text: Text{B("Next")}, Fields: shiftFields(oc.Next, false)})
		}
		rep.Text = fmt.Sprintf("On call for %s: %s.", e.Ref(), oc.Now[0].Person.DisplayName)
	default:
		msg := "No on-call schedule covers this owner"
		switch {
		case sourceErr != nil:
			msg = "The on-call provider did not answer (" + userSafe(sourceErr) + ")"
		case r.oncall == nil:
			msg = "No on-call source (rotations, PagerDuty, Opsgenie) is configured"
		}
		rep.Blocks = append(rep.Blocks, &Section{Text: T(msg + "; reach the owning team directly.")})
		rep.Text = fmt.Sprintf("On call for %s: unknown; owner %s.", e.Ref(), owner)
	}
	fallback := &Section{}
	if o.Owner.Ref != "" {
		fallback.Fields = append(fallback.Fields, Field{Label: "Owner", Value: Text{B(owner)}})
	}
	if ch := channelText(o); len(ch) > 0 {
		fallback.Fields = append(fallback.Fields, Field{Label: "Channel", Value: ch})
	}
	if oc := onCallAnnotations(o); len(oc) > 0 {
		fallback.Fields = append(fallback.Fields, Field{Label: "Paging", Value: oc})
	}
	if oc == nil || len(oc.Now) == 0 {
		if m := membersText(o.Members, maxMembersShown); len(m) > 0 {
			fallback.Fields = append(fallback.Fields, Field{Label: "Members", Value: m})
		}
	}
	if links := linksText(o.Links); len(links) > 0 {
		fallback.Fields = append(fallback.Fields, Field{Label: "Links", Value: links})
	}
	if len(fallback.Fields) > 0 {
		rep.Blocks = append(rep.Blocks, fallback)
	}
	rep.Blocks = append(rep.Blocks, &Context{Text: Text{C(e.Ref().String())}})
	return rep, nil
}

// lookupOnCall asks the on-call source, if any, within the router's on-call
// budget, so that a slow provider never holds up a reply.
func (r *Router) lookupOnCall(ctx context.Context, o *catalog.Ownership) (*catalog.OnCall, error) {
	if r.oncall == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.onCallBudget)
	defer cancel()
	oc, err := r.oncall.OnCall(ctx, o)
	if err != nil {
		r.log.WarnContext(ctx, "on-call lookup failed", "entity", o.Entity.Ref().String(), "error", err.Error())
		return nil, err
	}
	return oc, nil
}

// shiftFields shows shifts as "Level 1 · Schedule: @person until …" fields.
func shiftFields(shifts []catalog.Shift, now bool) []Field {
	var fields []Field
	for _, s := range shifts {
		v := Text{Mention(s.Person.DisplayName, personIDs(s.Person))}
		switch {
		case now && !s.End.IsZero():
			v = append(v, P(" until "), When(s.End))
		case !now && !s.Start.IsZero():
			v = append(v, P(" from "), When(s.Start))
			if !s.End.IsZero() {
				v = append(v, P(" to "), When(s.End))
			}
		}
		if s.PageURL != "" {
			v = append(v, P(" · "), L("page", s.PageURL))
		}
		label := s.Schedule
		if label == "" {
			label = s.Source
		}
		if s.Level > 1 {
			label = fmt.Sprintf("%s (level %d)", label, s.Level)
		}
		fields = append(fields, Field{Label: label, Value: v})
	}
	return fields
}

// age is a duration as people say it: "40 seconds", "3 minutes", "2 hours".
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return plural(int(d.Seconds()), "second")
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour")
	}
	return plural(int(d.Hours()/24), "day")
}

func (r *Router) search(ctx context.Context, c *Call) (*Reply, error) {
	limit, err := c.IntFlag("limit", 5)
	if err != nil {
		return nil, err
	}
	req := catalog.SearchRequest{Text: searchText(c), Limit: limit}
	if k, ok := c.Flag("kind"); ok {
		if !knownKind(k) {
			return nil, Errorf("--kind=%s is not a kind of the catalog.", k).WithHint("use one of %s", strings.Join(catalogKinds, ", "))
		}
		req.Kinds = []string{k}
	}
	res, err := r.cat.Search(ctx, req)
	if err != nil {
		return nil, err
	}
	rep := &Reply{}
	if len(res.Hits) == 0 {
		rep.Text = fmt.Sprintf("Nothing in the catalog matches %q.", req.Text)
		rep.Blocks = []Block{&Section{Text: T(rep.Text)}, &Context{Text: T("search matches names, titles, descriptions, tags, owners and systems; try fewer or other words")}}
		return rep, nil
	}
	rep.Text = fmt.Sprintf("%d of %d matches for %q.", len(res.Hits), res.Total, req.Text)
	var buttons []Button
	for _, h := range res.Hits {
		e := h.Entity
		t := Text{B(e.DisplayName()), P(" "), C(h.Ref)}
		var meta []string
		if typ := e.SpecString("type"); typ != "" {
			meta = append(meta, typ)
		}
		if owner := e.SpecString("owner"); owner != "" {
			meta = append(meta, "owner "+owner)
		}
		if len(meta) > 0 {
			t = append(t, P(" · "+strings.Join(meta, " · ")))
		}
		if d := oneLine(e.Metadata.Description, 150); d != "" {
			t = append(t, P("\n"+d))
		}
		rep.Blocks = append(rep.Blocks, &Section{Text: t})
		if len(buttons) < 5 {
			buttons = append(buttons, Button{Label: e.Metadata.Name, Command: "show " + h.Ref})
		}
	}
	rep.Blocks = append(rep.Blocks, &Context{Text: T(fmt.Sprintf("%d of %d matches", len(res.Hits), res.Total))})
	rep.Blocks = append(rep.Blocks, &Actions{Buttons: buttons})
	return rep, nil
}

// searchText is the query as typed: words and key=value pairs alike.
func searchText(c *Call) string {
	parts := append([]string(nil), c.Args.Words...)
	for _, k := range c.Args.ParamOrder {
		parts = append(parts, k+"="+c.Args.Params[k])
	}
	return strings.Join(parts, " ")
}

var catalogKinds = []string{"component", "api", "resource", "system", "domain", "group", "user", "location"}

func knownKind(k string) bool {
	for _, x := range catalogKinds {
		if strings.EqualFold(x, k) {
			return true
		}
	}
	return false
}

func (r *Router) show(ctx context.Context, c *Call) (*Reply, error) {
	e, err := r.cat.Resolve(ctx, c.Args.Words[0])
	if err != nil {
		return nil, err
	}
	rep := entityReply(e)
	if ov := r.overlayOf(ctx, c, e); ov != nil {
		// After the card's main section: what actions changed on it.
		rep.Blocks = append(rep.Blocks[:2], append([]Block{r.overlaySection(ctx, ov)}, rep.Blocks[2:]...)...)
	}
	return rep, nil
}

func entityReply(e *catalog.Entity) *Reply {
	ref := e.Ref().String()
	rep := &Reply{Text: fmt.Sprintf("%s: %s", ref, oneLine(e.Metadata.Description, 200))}
	rep.Blocks = append(rep.Blocks, &Header{Text: e.DisplayName()})
	sec := &Section{}
	if d := oneLine(e.Metadata.Description, 1000); d != "" {
		sec.Text = T(d)
	}
	sec.Fields = append(sec.Fields, Field{Label: "Kind", Value: T(e.Kind)})
	for _, k := range []string{"type", "lifecycle", "owner", "system", "domain", "parent"} {
		if v := e.SpecString(k); v != "" {
			sec.Fields = append(sec.Fields, Field{Label: strings.ToUpper(k[:1]) + k[1:], Value: T(v)})
		}
	}
	if len(e.Metadata.Tags) > 0 {
		sec.Fields = append(sec.Fields, Field{Label: "Tags", Value: T(strings.Join(e.Metadata.Tags, ", "))})
	}
	if links := linksText(e.Metadata.Links); len(links) > 0 {
		sec.Fields = append(sec.Fields, Field{Label: "Links", Value: links})
	}
	rep.Blocks = append(rep.Blocks, sec)
	if rels := relationsText(e); len(rels) > 0 {
		rep.Blocks = append(rep.Blocks, &Divider{}, &Section{Text: rels})
	}
	rep.Blocks = append(rep.Blocks, &Context{Text: Text{C(ref)}})
	rep.Blocks = append(rep.Blocks, &Actions{Buttons: []Button{
		{Label: "Who owns it", Command: "who-owns " + ref, Style: Primary},
		{Label: "On call", Command: "oncall " + ref},
	}})
	return rep
}

// relationsText lists relations grouped by type, each list cut at
// maxRelationsShown with "and N more"; targets not in the catalog are marked.
func relationsText(e *catalog.Entity) Text {
	byType := map[string][]catalog.Relation{}
	var types []string
	for _, rel := range e.Relations {
		if _, ok := byType[rel.Type]; !ok {
			types = append(types, rel.Type)
		}
		byType[rel.Type] = append(byType[rel.Type], rel)
	}
	sort.Strings(types)
	var t Text
	for i, typ := range types {
		if i > 0 {
			t = append(t, P("\n"))
		}
		rels := byType[typ]
		t = append(t, B(typ+":"), P(" "))
		t = append(t, capped(len(rels), maxRelationsShown, ", ", ", and %d more", func(j int) Text {
			if !rels[j].TargetExists {
				return Text{C(rels[j].TargetRef), P(" (not in the catalog)")}
			}
			return Text{C(rels[j].TargetRef)}
		})...)
	}
	return t
}

// capped joins item(0..n-1) with sep, showing at most max items and then
// more (a format with one %d: how many were left out).
func capped(n, max int, sep, more string, item func(i int) Text) Text {
	var t Text
	for i := range n {
		if i == max {
			t = append(t, P(fmt.Sprintf(more, n-i)))
			break
		}
		if i > 0 {
			t = append(t, P(sep))
		}
		t = append(t, item(i)...)
	}
	return t
}

func (r *Router) team(ctx context.Context, c *Call) (*Reply, error) {
	var g *catalog.Entity
	if len(c.Args.Words) == 0 {
		me, err := c.Caller(ctx)
		if err != nil {
			if ue, ok := AsUserError(err); ok {
				ue.Hint = "name a team: " + c.Usage() + "; or link your account: " + ue.Hint
			}
			return nil, err
		}
		groups := me.RelationTargets(catalog.RelMemberOf)
		if len(groups) == 0 {
			return nil, Errorf("You (%s) are not a member of any team in the catalog.", me.Ref()).WithHint("name a team: %s", c.Usage())
		}
		if g, err = r.cat.Get(ctx, groups[0]); err != nil {
			return nil, err
		}
	} else {
		var err error
		if g, err = r.cat.Resolve(ctx, c.Args.Words[0], catalog.KindGroup); err != nil {
			return nil, err
		}
	}
	if !strings.EqualFold(g.Kind, catalog.KindGroup) {
		return nil, Errorf("%s is a %s, not a team.", g.Ref(), strings.ToLower(g.Kind)).WithHint("try %s", cmdline(c.Request, "who-owns "+g.Metadata.Name))
	}
	o, err := r.cat.WhoOwns(ctx, g.Ref().String())
	if err != nil {
		return nil, err
	}
	ref := g.Ref().String()
	rep := &Reply{Text: fmt.Sprintf("%s: %s.", g.DisplayName(), plural(len(o.Members), "member"))}
	rep.Blocks = append(rep.Blocks, &Header{Text: g.DisplayName()})
	sec := &Section{}
	if d := oneLine(g.Metadata.Description, 500); d != "" {
		sec.Text = T(d)
	}
	if ch := channelText(o); len(ch) > 0 {
		sec.Fields = append(sec.Fields, Field{Label: "Channel", Value: ch})
	}
	if o.OwnerEmail != "" {
		sec.Fields = append(sec.Fields, Field{Label: "Email", Value: Text{L(o.OwnerEmail, "mailto:"+o.OwnerEmail)}})
	}
	if m := membersText(o.Members, maxMembersShown); len(m) > 0 {
		sec.Fields = append(sec.Fields, Field{Label: "Members", Value: m})
	}
	if len(o.Parents) > 0 {
		names := make([]string, len(o.Parents))
		for i, p := range o.Parents {
			names[i] = p.DisplayName
		}
		sec.Fields = append(sec.Fields, Field{Label: "Part of", Value: T(strings.Join(names, " › "))})
	}
	if children := g.RelationTargets(catalog.RelParentOf); len(children) > 0 {
		sec.Fields = append(sec.Fields, Field{Label: "Sub-teams", Value: refsText(children, maxOwnedShown)})
	}
	rep.Blocks = append(rep.Blocks, sec)
	owned := g.RelationTargets(catalog.RelOwnerOf)
	if len(owned) > 0 {
		byKind := map[string][]string{}
		var kinds []string
		for _, o := range owned {
			k, _, _ := strings.Cut(o, ":")
			if _, ok := byKind[k]; !ok {
				kinds = append(kinds, k)
			}
			byKind[k] = append(byKind[k], o)
		}
		sort.Strings(kinds)
		os := &Section{Text: Text{B(fmt.Sprintf("Owns %s", plural(len(owned), "entity")))}}
		for _, k := range kinds {
			os.Fields = append(os.Fields, Field{Label: kindLabel(k, len(byKind[k])), Value: refsText(byKind[k], maxOwnedShown)})
		}
		rep.Blocks = append(rep.Blocks, &Divider{}, os)
	}
	rep.Blocks = append(rep.Blocks, &Context{Text: Text{C(ref)}})
	rep.Blocks = append(rep.Blocks, &Actions{Buttons: []Button{{Label: "On call", Command: "oncall " + ref, Style: Primary}}})
	return rep, nil
}

func (r *Router) whoAmI(ctx context.Context, c *Call) (*Reply, error) {
	me, err := c.Caller(ctx)
	if err != nil {
		return nil, err
	}
	ref := me.Ref().String()
	rep := &Reply{Text: fmt.Sprintf("You are %s (%s).", me.DisplayName(), ref)}
	sec := &Section{Text: Text{P("You are "), B(me.DisplayName()), P(" "), C(ref), P(".")}}
	if teams := me.RelationTargets(catalog.RelMemberOf); len(teams) > 0 {
		sec.Fields = append(sec.Fields, Field{Label: "Teams", Value: refsText(teams, maxOwnedShown)})
	}
	if email := me.Email(); email != "" {
		sec.Fields = append(sec.Fields, Field{Label: "Email", Value: T(email)})
	}
	rep.Blocks = []Block{sec}
	return rep, nil
}

// Helpers shared by the cards.

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

func personIDs(p catalog.Person) map[Platform]string {
	ids := map[Platform]string{}
	if p.SlackID != "" {
		ids[Slack] = p.SlackID
	}
	if p.DiscordID != "" {
		ids[Discord] = p.DiscordID
	}
	return ids
}

func membersText(people []catalog.Person, max int) Text {
	return capped(len(people), max, ", ", ", and %d more", func(i int) Text {
		return Text{Mention(people[i].DisplayName, personIDs(people[i]))}
	})
}

// channelText mentions the chat channels of an ownership answer: one
// mention per entity that names channels, carrying both platforms' ids.
func channelText(o *catalog.Ownership) Text {
	type ch struct {
		from string
		ids  map[Platform]string
	}
	var order []*ch
	byFrom := map[string]*ch{}
	for _, c := range o.Channels {
		x, ok := byFrom[c.From]
		if !ok {
			x = &ch{from: c.From, ids: map[Platform]string{}}
			byFrom[c.From] = x
			order = append(order, x)
		}
		if _, have := x.ids[Platform(c.Platform)]; !have {
			x.ids[Platform(c.Platform)] = c.ID
		}
	}
	var t Text
	for i, x := range order {
		if i > 0 {
			t = append(t, P(", "))
		}
		name := catalog.MustParseRef(x.from).Name
		t = append(t, ChannelRef(name, x.ids))
	}
	return t
}

func onCallAnnotations(o *catalog.Ownership) Text {
	var parts []string
	if v := o.OnCall[catalog.AnnotationPagerDutyServiceID]; v != "" {
		parts = append(parts, "PagerDuty service "+v)
	}
	if v := o.OnCall[catalog.AnnotationOpsgenieTeam]; v != "" {
		parts = append(parts, "Opsgenie team "+v)
	}
	if v := o.OnCall[catalog.AnnotationOpsgenieSchedule]; v != "" {
		parts = append(parts, "Opsgenie schedule "+v)
	}
	if v := o.OnCall[catalog.AnnotationOpsgenieComponent]; v != "" {
		parts = append(parts, "Opsgenie component "+v)
	}
	if len(parts) == 0 {
		return nil
	}
	return T(strings.Join(parts, ", "))
}

func linksText(links []catalog.Link) Text {
	var t Text
	for i, l := range links {
		if i > 0 {
			t = append(t, P(" · "))
		}
		title := l.Title
		if title == "" {
			title = l.Type
		}
		if title == "" {
			title = l.URL
		}
		t = append(t, L(title, l.URL))
	}
	return t
}

func refsText(refs []string, max int) Text {
	return capped(len(refs), max, ", ", ", and %d more", func(i int) Text { return Text{C(refs[i])} })
}

func kindLabel(kind string, n int) string {
	labels := map[string]string{"component": "Components", "api": "APIs", "resource": "Resources", "system": "Systems", "domain": "Domains", "group": "Groups", "user": "Users", "rotation": "Rotations"}
	l, ok := labels[kind]
	if !ok {
		l = kind
	}
	return fmt.Sprintf("%s (%d)", l, n)
}

// userSafe is an error's message cut to one short line; integration errors
// never carry secrets (their packages make sure of it).
func userSafe(err error) string { return oneLine(err.Error(), 120) }
