// Package check is the shape of what `idpbot integrations check` reports:
// each integration tests its connectivity and permissions and says, for
// each thing it needs, whether it has it and how to fix it when not.
package check

import (
	"fmt"
	"io"
)

// Result is one checked need of an integration.
type Result struct {
	// Integration is the config section ("github", "pagerduty", …).
	Integration string `json:"integration"`
	// Check names what was tested ("token", "org northwind", …).
	Check string `json:"check"`
	OK    bool   `json:"ok"`
	// Detail says what was found (never a secret).
	Detail string `json:"detail,omitempty"`
	// Fix says what to do when OK is false.
	Fix string `json:"fix,omitempty"`
}

// Failed counts the results that are not OK.
func Failed(rs []Result) int {
	n := 0
	for _, r := range rs {
		if !r.OK {
			n++
		}
	}
	return n
}

// Print writes one line per result, and the fix under each failure.
func Print(w io.Writer, rs []Result) {
	for _, r := range rs {
		mark := "ok  "
		if !r.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %-10s %s", mark, r.Integration, r.Check)
		if r.Detail != "" {
			fmt.Fprintf(w, ": %s", r.Detail)
		}
		fmt.Fprintln(w)
		if !r.OK && r.Fix != "" {
			fmt.Fprintf(w, "     fix: %s\n", r.Fix)
		}
	}
}
