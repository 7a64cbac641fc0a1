package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// writeCommandReference writes the command reference (docs/commands.md)
// from the cobra tree: every command's usage, description and flags.
func writeCommandReference(w io.Writer, root *cobra.Command) {
	fmt.Fprintln(w, "# Command reference")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generated from the commands themselves (`go test ./cmd/idpbot -run TestCommandReference -args -update` rewrites it; a test fails when it is out of date).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Flags of every command:")
	fmt.Fprintln(w)
	writeFlags(w, root.PersistentFlags())
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c != root && !c.Hidden && c.Name() != "help" && c.Name() != "completion" {
			fmt.Fprintf(w, "\n## %s\n\n%s\n\n```\n%s\n```\n", c.CommandPath(), c.Short, c.UseLine())
			if c.Long != "" {
				fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Long))
			}
			if c.HasLocalFlags() {
				fmt.Fprintln(w)
				writeFlags(w, c.LocalNonPersistentFlags())
			}
		}
		subs := c.Commands()
		sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
		for _, s := range subs {
			walk(s)
		}
	}
	walk(root)
}

func writeFlags(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprintln(w, "| flag | default | meaning |")
	fmt.Fprintln(w, "|---|---|---|")
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		name := "--" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + ", " + name
		}
		def := f.DefValue
		if def == "[]" {
			def = ""
		}
		fmt.Fprintf(w, "| `%s` | %s | %s |\n", name, mdEscape(def), mdEscape(f.Usage))
	})
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
