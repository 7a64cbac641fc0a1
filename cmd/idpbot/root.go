package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// globals are the flags every command shares.
type globals struct {
	dataDir  string
	output   string
	logLevel string
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	// onListen, when set, is told the HTTP address serve listens on (tests).
	onListen func(addr string)
}

// exitError carries an exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, &globals{stdin: os.Stdin, stdout: stdout, stderr: stderr}, args)
}

// runWith runs the command line with g's streams.
func runWith(ctx context.Context, g *globals, args []string) int {
	stdout, stderr := g.stdout, g.stderr
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetIn(g.stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintf(stderr, "idpbot: %v\n", err)
		return 1
	}
}

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "idpbot",
		Short: "An internal developer portal that lives in chat",
		Long: `idpbot keeps a software catalog (services, APIs, resources, systems, teams,
people) loaded from Backstage catalog-info.yaml files, and answers questions
about it: who owns a service, who is on call, where its runbook is.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch g.output {
			case "text", "json":
			default:
				return fmt.Errorf("--output %q: use text or json", g.output)
			}
			return nil
		},
	}
	def := os.Getenv("IDPBOT_DATA_DIR")
	if def == "" {
		def = "idpbot-data"
	}
	root.PersistentFlags().StringVar(&g.dataDir, "data-dir", def, "directory of the catalog store and index (env IDPBOT_DATA_DIR)")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.AddCommand(newCatalogCmd(g), newServeCmd(g), newChatCmd(g), newAskCmd(g), newConfigCmd(g), newScorecardsCmd(g), newDiscordCmd(g), newFactsCmd(g), newActionsCmd(g), newAuditCmd(g), newBackupCmd(g), newRestoreCmd(g), newIntegrationsCmd(g))
	return root
}

// logger returns the JSON logger on stderr at the chosen level.
func (g *globals) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToLower(g.logLevel))); err != nil {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewJSONHandler(g.stderr, &slog.HandlerOptions{Level: level}))
}
