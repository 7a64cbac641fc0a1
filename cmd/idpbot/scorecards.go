package main

import (
	"fmt"

	"github.com/idpbot/idpbot/scoring"
	"github.com/spf13/cobra"
)

func newScorecardsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "scorecards", Short: "Check scorecard definitions"}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate PATH...",
		Short: "Compile scorecards (files, directories, globs); report every problem; exit 1 on errors (for CI)",
		Long: `Validate reads kind: Scorecard documents, compiles every rule's CEL
expression and checks levels, weights and keys. Each problem is reported with
file, line, the rule id and how to fix it; the exit code is 1 if any is an
error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cards, problems, err := scoring.Load(args)
			if err != nil {
				return err
			}
			if g.output == "json" {
				type card struct {
					ID     string   `json:"id"`
					Title  string   `json:"title"`
					File   string   `json:"file"`
					Levels []string `json:"levels"`
					Rules  int      `json:"rules"`
				}
				out := struct {
					Scorecards []card `json:"scorecards"`
					Problems   any    `json:"problems"`
				}{Problems: problems}
				for _, c := range cards {
					out.Scorecards = append(out.Scorecards, card{c.ID, c.Title, c.File, c.Levels, len(c.Rules)})
				}
				if err := g.json(out); err != nil {
					return err
				}
			} else {
				for _, p := range problems {
					fmt.Fprintln(g.stdout, relProblem(p))
				}
				rules := 0
				for _, c := range cards {
					rules += len(c.Rules)
				}
				fmt.Fprintf(g.stdout, "%d scorecards, %d rules, %d errors\n", len(cards), rules, problems.Errors())
			}
			if problems.Errors() > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	})
	return cmd
}
