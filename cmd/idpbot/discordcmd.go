package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/idpbot/idpbot/bot/discord"
	"github.com/spf13/cobra"
)

func newDiscordCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "discord", Short: "Manage the Discord application command"}
	var o appOptions
	register := &cobra.Command{
		Use:   "register",
		Short: "Create or update the /idp command (guild-scoped with DISCORD_GUILD_ID); writes nothing when unchanged",
		Long: `Register builds the /idp command from the bot's commands (with the same
--config and --scorecards as serve, so that it offers what serve answers)
and creates or updates it: in one guild when discord.guild_id or
DISCORD_GUILD_ID is set (instant, for trying it out), else globally. It
compares with what Discord has first and writes only on a difference:
Discord caps command creations per day.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadSettings(&o, cmd.Flags().Changed("data-dir"))
			if err != nil {
				return err
			}
			if !cfg.discordEnabled() {
				return errors.New("discord is not configured: set DISCORD_BOT_TOKEN, DISCORD_APPLICATION_ID and DISCORD_PUBLIC_KEY (or discord.* in --config); see docs/discord.md")
			}
			a, err := newApp(cmd.Context(), g, cfg)
			if err != nil {
				return err
			}
			defer a.close()
			fd, err := discord.New(cfg.Discord, a.router, a.log.With("component", "discord"), discord.WithHTTPClient(a.api.Client("discord", 30*time.Second)))
			if err != nil {
				return err
			}
			changed, err := fd.Register(cmd.Context())
			if err != nil {
				return err
			}
			scope := "globally (may take up to an hour to appear)"
			if cfg.Discord.GuildID != "" {
				scope = "in guild " + cfg.Discord.GuildID
			}
			if changed {
				fmt.Fprintf(g.stdout, "/idp registered %s\n", scope)
			} else {
				fmt.Fprintf(g.stdout, "/idp is up to date %s; nothing written\n", scope)
			}
			return nil
		},
	}
	o.register(register.Flags())
	cmd.AddCommand(register)
	return cmd
}
