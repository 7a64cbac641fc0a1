package catalogtest

import (
	"bytes"
	"fmt"
	"strings"
)

// The emitters below write one entity each. They draw from g.r in a fixed
// order, so output depends only on the seed.

// group writes group i: 0 is the organisation, then departments, then teams.
func (g *generator) group(b *bytes.Buffer, i int) {
	switch {
	case i == 0:
		header(b, "Group", g.org)
		fmt.Fprintf(b, "  title: Acme Corporation\n  description: %s\n", g.description(""))
		fmt.Fprintf(b, "  links:\n    - url: https://handbook.%s/\n      title: Engineering handbook\n      type: docs\n", mailDomain)
		fmt.Fprintf(b, "spec:\n  type: organization\n  profile:\n    displayName: Acme Corporation\n    email: engineering@%s\n", mailDomain)
		fmt.Fprintf(b, "  children: %s\n", flow(g.depts))
	case i <= len(g.depts):
		d := i - 1
		name := g.depts[d]
		header(b, "Group", name)
		fmt.Fprintf(b, "  title: %s\n  description: %s\n", title(name), g.description(areaOf(name)))
		fmt.Fprintf(b, "  annotations:\n    slack.com/channel-id: %s\n", id("C", i, 8))
		fmt.Fprintf(b, "spec:\n  type: department\n  profile:\n    displayName: %s\n    email: %s@%s\n", title(name), name, mailDomain)
		fmt.Fprintf(b, "  parent: %s\n", g.org)
		children := make([]string, len(g.deptTeams[d]))
		for k, t := range g.deptTeams[d] {
			children[k] = g.teams[t].name
		}
		fmt.Fprintf(b, "  children: %s\n  members: [%s]\n", flow(children), g.users[g.deptHead[d]])
	default:
		t := g.teams[i-1-len(g.depts)]
		header(b, "Group", t.name)
		fmt.Fprintf(b, "  title: %s\n  description: %s\n", title(t.name), g.description(areaOf(t.name)))
		fmt.Fprintf(b, "  annotations:\n    slack.com/channel-id: %s\n    discord.com/channel-id: \"%d\"\n",
			id("C", i, 8), 1180000000000000000+uint64(i)*7919)
		if g.r.IntN(4) == 0 {
			fmt.Fprintf(b, "    opsgenie.com/team: %s\n", t.name)
		}
		fmt.Fprintf(b, "spec:\n  type: team\n  profile:\n    displayName: %s\n    email: %s@%s\n", title(t.name), t.name, mailDomain)
		fmt.Fprintf(b, "  parent: %s\n  children: []\n", g.depts[t.dept])
	}
}

func (g *generator) user(b *bytes.Buffer, i int) {
	name := g.users[i]
	header(b, "User", name)
	fmt.Fprintf(b, "  annotations:\n    slack.com/user-id: %s\n", id("U", i, 8))
	if g.r.IntN(2) == 0 {
		fmt.Fprintf(b, "    discord.com/user-id: \"%d\"\n", 1190000000000000000+uint64(i)*104729)
	}
	first, last, _ := strings.Cut(strings.SplitN(name, "-", 2)[0], ".")
	display := title(first) + " " + title(last)
	fmt.Fprintf(b, "spec:\n  profile:\n    displayName: %s\n    email: %s@%s\n", display, name, mailDomain)
	teams := make([]string, len(g.userTeams[i]))
	for k, t := range g.userTeams[i] {
		teams[k] = g.teams[t].name
	}
	fmt.Fprintf(b, "  memberOf: %s\n", flow(teams))
}

func (g *generator) domain(b *bytes.Buffer, i int) {
	name := g.domains[i]
	header(b, "Domain", name)
	fmt.Fprintf(b, "  title: %s\n  description: %s\n", title(name), g.description(areaOf(name)))
	fmt.Fprintf(b, "spec:\n  owner: %s\n", g.depts[g.domOwner[i]])
}

func (g *generator) system(b *bytes.Buffer, i int) {
	s := g.systems[i]
	header(b, "System", s.name)
	fmt.Fprintf(b, "  title: %s\n  description: %s\n", title(s.name), g.description(areaOf(s.name)))
	fmt.Fprintf(b, "spec:\n  owner: %s\n  domain: %s\n", g.teams[s.owner].name, g.domains[s.domain])
}

func (g *generator) resource(b *bytes.Buffer, i int) {
	res := g.resources[i]
	header(b, "Resource", res.name)
	fmt.Fprintf(b, "  description: %s\n", g.description(areaOf(res.name)))
	fmt.Fprintf(b, "  tags: %s\n", flow(g.tags(1+g.r.IntN(2), "")))
	fmt.Fprintf(b, "spec:\n  type: %s\n  owner: %s\n", res.typ, g.teams[res.owner].name)
	if res.sys >= 0 {
		fmt.Fprintf(b, "  system: %s\n", g.systems[res.sys].name)
	}
}

func (g *generator) api(b *bytes.Buffer, i int) {
	a := g.apis[i]
	c := g.comps[a.provider]
	header(b, "API", a.name)
	fmt.Fprintf(b, "  description: %s\n", g.description(areaOf(a.name)))
	fmt.Fprintf(b, "  tags: %s\n", flow(g.tags(1+g.r.IntN(2), "")))
	fmt.Fprintf(b, "spec:\n  type: %s\n  lifecycle: %s\n  owner: %s\n", a.typ, g.pick(lifecycles), c.owner)
	if c.system >= 0 {
		fmt.Fprintf(b, "  system: %s\n", g.systems[c.system].name)
	}
	area := areaOf(a.name)
	typeName := strings.ReplaceAll(title(a.name), " ", "")
	b.WriteString("  definition: |\n")
	switch a.typ {
	case "grpc":
		fmt.Fprintf(b, "    syntax = \"proto3\";\n    package %s.v1;\n    service %s {\n      rpc Get%s (GetRequest) returns (GetResponse);\n    }\n",
			area, typeName, title(area))
	case "asyncapi":
		fmt.Fprintf(b, "    asyncapi: 2.6.0\n    info: {title: %s, version: 1.%d.0}\n    channels:\n      %s.v1: {subscribe: {message: {name: %sEvent}}}\n",
			title(a.name), g.r.IntN(10), area, title(area))
	default:
		fmt.Fprintf(b, "    openapi: 3.0.3\n    info: {title: %s, version: 1.%d.0}\n    paths:\n      /v1/%s: {get: {summary: List %s}}\n",
			title(a.name), g.r.IntN(10), area, area)
	}
}

func (g *generator) component(b *bytes.Buffer, i int) {
	c := g.comps[i]
	area := areaOf(c.name)
	header(b, "Component", c.name)
	if g.r.IntN(4) == 0 {
		fmt.Fprintf(b, "  title: %s\n", title(c.name))
	}
	fmt.Fprintf(b, "  description: %s\n", g.description(area))

	types := []string{"service", "service", "service", "website", "library"}
	typ := g.pick(types)
	tier := 2 + g.r.IntN(2)
	if typ == "service" && g.r.IntN(10) == 0 {
		tier = 1
	}
	fmt.Fprintf(b, "  tags: %s\n", flow(g.tags(1+g.r.IntN(3), fmt.Sprintf("tier-%d", tier))))
	if tier == 1 {
		b.WriteString("  labels:\n    tier: \"1\"\n")
	}
	repo := g.r.IntN(10) < 6
	if repo || tier == 1 {
		b.WriteString("  annotations:\n")
		if repo {
			fmt.Fprintf(b, "    github.com/project-slug: %s/%s\n", orgName, c.name)
		}
		if tier == 1 {
			fmt.Fprintf(b, "    pagerduty.com/service-id: %s\n", id("P", i, 6)[:7])
		}
	}
	if tier == 1 || g.r.IntN(10) < 2 {
		fmt.Fprintf(b, "  links:\n    - url: https://runbooks.%s/%s\n      title: Runbook\n      type: runbook\n", mailDomain, c.name)
		if repo {
			fmt.Fprintf(b, "    - url: https://github.com/%s/%s\n      title: Repository\n      type: repo\n", orgName, c.name)
		}
	}
	fmt.Fprintf(b, "spec:\n  type: %s\n  lifecycle: %s\n  owner: %s\n", typ, g.pick(lifecycles), c.owner)
	if c.system >= 0 {
		fmt.Fprintf(b, "  system: %s\n", g.systems[c.system].name)
	}
	if len(c.apis) > 0 {
		names := make([]string, len(c.apis))
		for k, a := range c.apis {
			names[k] = g.apis[a].name
		}
		fmt.Fprintf(b, "  providesApis: %s\n", flow(names))
	}
	if n := max(0, g.r.IntN(5)-2); n > 0 {
		var names []string
		seen := map[int]bool{}
		for _, a := range c.apis {
			seen[a] = true
		}
		for k := 0; k < n; k++ {
			a := g.r.IntN(len(g.apis))
			if !seen[a] {
				seen[a] = true
				names = append(names, g.apis[a].name)
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(b, "  consumesApis: %s\n", flow(names))
		}
	}
	if n := max(0, g.r.IntN(4)-1); n > 0 {
		var deps []string
		seen := map[string]bool{}
		for k := 0; k < n; k++ {
			var d string
			if g.r.IntN(2) == 0 {
				d = "resource:" + g.resources[g.r.IntN(len(g.resources))].name
			} else if j := g.r.IntN(len(g.comps)); j != i {
				d = "component:" + g.comps[j].name
			}
			if d != "" && !seen[d] {
				seen[d] = true
				deps = append(deps, d)
			}
		}
		if len(deps) > 0 {
			fmt.Fprintf(b, "  dependsOn: %s\n", flow(deps))
		}
	}
}

// tags draws n distinct tags, plus extra when not empty.
func (g *generator) tags(n int, extra string) []string {
	var out []string
	seen := map[string]bool{}
	for len(out) < n {
		t := g.pick(tags)
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if extra != "" {
		out = append(out, extra)
	}
	return out
}
