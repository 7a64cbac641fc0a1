package main

import (
	"golang.org/x/term"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/console"
	"github.com/spf13/cobra"
)

func newChatCmd(g *globals) *cobra.Command {
	var o appOptions
	var as string
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "Talk to the bot in this terminal (the same commands as /idp in Slack)",
		Long: `Chat is a console REPL over the catalog in --data-dir: type who-owns
payments-api, search ledger, help... Buttons are shown as numbered choices;
type the number to pick one. /as <user> acts as another catalog user. Logs go
to --log-file (by default DATA_DIR/idpbot.log), not over the prompt.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadSettings(&o, cmd.Flags().Changed("data-dir"))
			if err != nil {
				return err
			}
			if cfg.Log.File == "" {
				cfg.Log.File = filepath.Join(cfg.DataDir, "idpbot.log")
			}
			a, err := newApp(cmd.Context(), g, cfg)
			if err != nil {
				return err
			}
			defer a.close()
			return console.Run(cmd.Context(), g.stdin, g.stdout, a.router, as, isTerminal(g.stdin))
		},
	}
	o.register(cmd.Flags())
	cmd.Flags().StringVar(&as, "as", "", "the catalog user to act as (name or ref)")
	return cmd
}

func newAskCmd(g *globals) *cobra.Command {
	var o appOptions
	var as string
	cmd := &cobra.Command{
		Use:   "ask COMMAND...",
		Short: `Run one bot command and print the answer, e.g. idpbot ask who-owns payments-api`,
		Long: `Ask runs one command as /idp would in chat and prints the answer as text.
It exits 1 when the answer is an error (unknown name, bad usage), so scripts
can rely on it. Logs go to stderr at --log-level (warn by default).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.loadSettings(&o, cmd.Flags().Changed("data-dir"))
			if err != nil {
				return err
			}
			a, err := newApp(cmd.Context(), g, cfg)
			if err != nil {
				return err
			}
			defer a.close()
			s := console.NewSession(a.router, as)
			text := strings.Join(args, " ")
			if len(args) > 1 {
				text = quoteArgs(args)
			}
			if rep := s.Ask(cmd.Context(), g.stdout, text); rep.IsError {
				return exitError{code: 1}
			}
			return nil
		},
	}
	o.register(cmd.Flags())
	cmd.Flags().StringVar(&as, "as", "", "the catalog user to act as (name or ref)")
	// Flags after the command's first word are the bot command's own
	// (ask leaderboard --team payments).
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// quoteArgs rebuilds a command line from shell arguments, quoting those that
// hold spaces so that `idpbot ask search "card tokens"` stays one word.
func quoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = bot.Quote(a)
	}
	return strings.Join(out, " ")
}

// isTerminal says whether r is a terminal (the REPL then shows a prompt).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
