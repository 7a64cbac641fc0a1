package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Check configuration files"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a configuration file (keys, ${ENV} references, values); exit 1 on errors",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(args[0], os.Getenv)
			if err != nil {
				return err
			}
			cfg.applyEnv(os.Getenv)
			if err := cfg.validate(); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			fmt.Fprintf(g.stdout, "%s: ok (slack %s)\n", args[0], map[bool]string{true: "enabled", false: "disabled"}[cfg.slackEnabled()])
			return nil
		},
	})
	return cmd
}
