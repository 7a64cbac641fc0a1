package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/idpbot/idpbot/catalog"
)

// relProblem renders a problem with its file relative to the working
// directory when that is shorter.
func relProblem(p catalog.Problem) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, p.File); err == nil && !strings.HasPrefix(rel, "..") {
			p.File = rel
		}
	}
	return p.String()
}

// lookupError turns an ambiguous or unknown name into a message that says
// what to type instead.
func lookupError(err error) error {
	var amb *catalog.AmbiguousError
	var nf *catalog.NotFoundError
	switch {
	case errors.As(err, &amb):
		refs := make([]string, len(amb.Candidates))
		for i, c := range amb.Candidates {
			refs[i] = "  " + c.String()
		}
		return fmt.Errorf("%q matches several entities; name one:\n%s", amb.Query, strings.Join(refs, "\n"))
	case errors.As(err, &nf):
		msg := fmt.Sprintf("no entity named %q", nf.Query)
		if len(nf.Suggestions) > 0 {
			refs := make([]string, len(nf.Suggestions))
			for i, c := range nf.Suggestions {
				refs[i] = "  " + c.String()
			}
			msg += "; did you mean:\n" + strings.Join(refs, "\n")
		} else {
			msg += " (try: idpbot catalog search " + nf.Query + ")"
		}
		return errors.New(msg)
	}
	return err
}

func joinArgs(args []string) string { return strings.Join(args, " ") }

func named(displayName, ref string) string {
	if displayName == "" || strings.HasSuffix(ref, "/"+strings.ToLower(displayName)) {
		return ref
	}
	return fmt.Sprintf("%s (%s)", displayName, ref)
}

func renderOwnership(w io.Writer, o *catalog.Ownership) {
	e := o.Entity
	fmt.Fprintf(w, "%s\n", named(e.DisplayName(), e.Ref().String()))
	if d := e.Metadata.Description; d != "" {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(d))
	}
	row := func(label, value string) {
		if value != "" {
			fmt.Fprintf(w, "  %-9s %s\n", label+":", value)
		}
	}
	if o.Owner.Ref == "" {
		row("Owner", "none — add spec.owner to its catalog-info.yaml")
	} else {
		owner := named(o.Owner.DisplayName, o.Owner.Ref)
		if !o.Owner.Exists {
			owner += " (not in the catalog)"
		}
		row("Owner", owner)
	}
	row("Email", o.OwnerEmail)
	var members []string
	for _, m := range o.Members {
		s := m.DisplayName
		if m.Email != "" {
			s += " <" + m.Email + ">"
		}
		members = append(members, s)
	}
	row("Members", strings.Join(members, ", "))
	var parents []string
	for _, p := range o.Parents {
		parents = append(parents, p.DisplayName)
	}
	row("Parents", strings.Join(parents, " › "))
	for _, c := range o.Channels {
		label := "Slack"
		if c.Platform == "discord" {
			label = "Discord"
		}
		row(label, fmt.Sprintf("%s (%s on %s)", c.ID, c.Annotation, c.From))
	}
	for k, v := range o.OnCall {
		row("On call", k+"="+v)
	}
	for _, l := range o.Links {
		title := l.Title
		if title == "" {
			title = l.Type
		}
		row("Link", fmt.Sprintf("%s %s", title, l.URL))
	}
	if o.System != nil {
		row("System", named(o.System.DisplayName, o.System.Ref))
	}
	if o.Domain != nil {
		row("Domain", named(o.Domain.DisplayName, o.Domain.Ref))
	}
}

func renderSearch(w io.Writer, text string, res *catalog.SearchResult) {
	if len(res.Hits) == 0 {
		fmt.Fprintf(w, "nothing matches %q\n", text)
	}
	for _, h := range res.Hits {
		e := h.Entity
		owner := e.SpecString("owner")
		line := fmt.Sprintf("%-45s", h.Ref)
		if owner != "" {
			line += "  owner " + owner
		}
		fmt.Fprintln(w, line)
		if d := oneLine(e.Metadata.Description); d != "" {
			fmt.Fprintf(w, "    %s\n", d)
		}
	}
	fmt.Fprintf(w, "%d of %d hits in %s\n", len(res.Hits), res.Total, res.Took.Round(1000))
	for _, f := range catalog.FacetFields {
		counts := res.Facets[f]
		if len(counts) == 0 {
			continue
		}
		parts := make([]string, len(counts))
		for i, c := range counts {
			parts[i] = fmt.Sprintf("%s %d", c.Value, c.Count)
		}
		fmt.Fprintf(w, "  %-10s %s\n", f+":", strings.Join(parts, ", "))
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

func renderEntity(w io.Writer, e *catalog.Entity) {
	fmt.Fprintf(w, "%s\n", named(e.DisplayName(), e.Ref().String()))
	if d := e.Metadata.Description; d != "" {
		fmt.Fprintf(w, "  %s\n", oneLine(d))
	}
	for _, k := range []string{"type", "lifecycle", "owner", "system", "domain", "parent"} {
		if v := e.SpecString(k); v != "" {
			fmt.Fprintf(w, "  %-10s %s\n", k+":", v)
		}
	}
	if len(e.Metadata.Tags) > 0 {
		fmt.Fprintf(w, "  %-10s %s\n", "tags:", strings.Join(e.Metadata.Tags, ", "))
	}
	for _, l := range e.Metadata.Links {
		fmt.Fprintf(w, "  %-10s %s %s\n", "link:", l.Title, l.URL)
	}
	if len(e.Relations) > 0 {
		fmt.Fprintln(w, "  relations:")
		for _, r := range e.Relations {
			mark := ""
			if !r.TargetExists {
				mark = "  (not in the catalog)"
			}
			fmt.Fprintf(w, "    %-14s %s%s\n", r.Type, r.TargetRef, mark)
		}
	}
}

func renderList(w io.Writer, list []*catalog.Entity) {
	for _, e := range list {
		fmt.Fprintf(w, "%-45s %s\n", e.Ref().String(), oneLine(e.Metadata.Description))
	}
	fmt.Fprintf(w, "%d entities\n", len(list))
}

func renderCheck(w io.Writer, rep *catalog.CheckReport) {
	fmt.Fprintf(w, "%d entities\n", rep.Entities)
	if len(rep.Dangling) == 0 {
		fmt.Fprintln(w, "no dangling relations")
	} else {
		fmt.Fprintf(w, "%d dangling relations (their target is not in the catalog):\n", len(rep.Dangling))
		for _, d := range rep.Dangling {
			fmt.Fprintf(w, "  %s %s %s", d.From, d.Type, d.To)
			if d.File != "" {
				fmt.Fprintf(w, "  (from %s)", d.File)
			}
			fmt.Fprintln(w)
		}
	}
	for _, s := range rep.Sources {
		fmt.Fprintf(w, "source %s: %d entities, last ingest %s, %d errors, %d warnings\n", s.Source, s.Entities,
			s.Finished.Format("2006-01-02 15:04:05Z"), s.Problems.Errors(), len(s.Problems)-s.Problems.Errors())
		for _, p := range s.Problems {
			fmt.Fprintf(w, "  %s\n", relProblem(p))
		}
	}
}
