package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/spf13/cobra"

	"github.com/idpbot/idpbot/bot/discord"
	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/check"
	"github.com/idpbot/idpbot/integrations/opsgenie"
	"github.com/idpbot/idpbot/integrations/pagerduty"
)

// slackScopes are the bot scopes of deploy/slack/manifest.yaml, with what
// each is for.
var slackScopes = [][2]string{
	{"commands", "the /idp slash command"},
	{"chat:write", "posting and updating messages (approvals, leaderboards)"},
	{"users:read", "users.info, to know who asks"},
	{"users:read.email", "matching Slack users to catalog users by e-mail"},
	{"channels:history", "finding a leaderboard already posted before a restart"},
	{"groups:history", "the same in private channels"},
	{"files:write", "the weekly leaderboard chart"},
}

func newIntegrationsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "integrations", Short: "Test the configured integrations"}
	var o appOptions
	var timeout time.Duration
	checkCmd := &cobra.Command{
		Use:   "check",
		Short: "Test connectivity and permissions of every configured integration and say what is missing",
		Long: `Check reads the same configuration as serve and, for each configured
integration, tests what the bot needs: Slack (the token, its scopes),
Discord (the token, the /idp command registered), PagerDuty and Opsgenie
(the key, each service, team or schedule the catalog's annotations name,
and whether the people on call are catalog users, so that replies can
mention them) and GitHub (the credentials, each organisation, reading
repositories and catalog files). Each failure says how to fix it; the exit
status is 1 when anything failed. Secrets are never printed. It can run
beside a running serve: when the data directory is in use, it checks
against a temporary catalog built from catalog.paths.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadSettings(&o, cmd.Flags().Changed("data-dir"))
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			a, err := newApp(ctx, g, cfg)
			if err != nil && strings.Contains(err.Error(), "another idpbot") {
				// serve holds the data directory: check against a
				// temporary catalog of catalog.paths instead (entities
				// that only GitHub discovery brings are then not seen).
				tmp, terr := os.MkdirTemp("", "idpbot-check-")
				if terr != nil {
					return terr
				}
				defer os.RemoveAll(tmp)
				fmt.Fprintf(g.stderr, "idpbot: %s is in use (a running serve); checking against a temporary catalog of catalog.paths\n", cfg.DataDir)
				cfg.DataDir = tmp
				a, err = newApp(ctx, g, cfg)
			}
			if err != nil {
				return err
			}
			defer a.close()
			rs, err := a.checkIntegrations(ctx, http.DefaultClient)
			if err != nil {
				return err
			}
			if g.output == "json" {
				if err := g.json(rs); err != nil {
					return err
				}
			} else if len(rs) == 0 {
				fmt.Fprintln(g.stdout, "no integration is configured (slack, discord, pagerduty, opsgenie, github); see docs/config.md")
			} else {
				check.Print(g.stdout, rs)
				fmt.Fprintf(g.stdout, "%d checks, %d failed\n", len(rs), check.Failed(rs))
			}
			if check.Failed(rs) > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	o.register(checkCmd.Flags())
	checkCmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "give up on the whole check after this long")
	cmd.AddCommand(checkCmd)
	return cmd
}

// checkIntegrations runs the checks of every configured integration.
func (a *app) checkIntegrations(ctx context.Context, client *http.Client) ([]check.Result, error) {
	var out []check.Result
	if a.cfg.slackEnabled() {
		out = append(out, checkSlack(ctx, client, a.cfg.Slack.APIURL, a.cfg.Slack.BotToken)...)
	}
	if a.cfg.discordEnabled() {
		out = append(out, checkDiscord(ctx, client, a.cfg.Discord)...)
	}
	if a.cfg.PagerDuty.Token != "" {
		services, err := annotationUses(ctx, a.store, catalog.AnnotationPagerDutyServiceID)
		if err != nil {
			return nil, err
		}
		pd, err := pagerduty.New(a.cfg.PagerDuty, a.store, a.log.With("component", "pagerduty"))
		if err != nil {
			return nil, err
		}
		out = append(out, pd.Check(ctx, services)...)
	}
	if a.cfg.Opsgenie.APIKey != "" {
		teams, err := annotationUses(ctx, a.store, catalog.AnnotationOpsgenieTeam)
		if err != nil {
			return nil, err
		}
		schedules, err := annotationUses(ctx, a.store, catalog.AnnotationOpsgenieSchedule)
		if err != nil {
			return nil, err
		}
		og, err := opsgenie.New(a.cfg.Opsgenie, a.store, a.log.With("component", "opsgenie"))
		if err != nil {
			return nil, err
		}
		out = append(out, og.Check(ctx, teams, schedules)...)
	}
	gh, err := a.checkGitHub(ctx)
	if err != nil {
		return nil, err
	}
	return append(out, gh...), nil
}

// annotationUses maps each value of an annotation in the catalog to the
// entities that carry it.
func annotationUses(ctx context.Context, store *catalog.Store, key string) (map[string][]string, error) {
	ents, err := store.List(ctx, catalog.Filter{Sets: [][]catalog.Condition{{{Key: "metadata.annotations." + key}}}}, 0)
	if err != nil {
		return nil, fmt.Errorf("list entities with %s: %w", key, err)
	}
	out := map[string][]string{}
	for _, e := range ents {
		if v := strings.TrimSpace(e.Metadata.Annotations[key]); v != "" {
			out[v] = append(out[v], e.Ref().String())
		}
	}
	return out, nil
}

// checkSlack calls auth.test with the bot token and compares the token's
// scopes (Slack sends them in the X-OAuth-Scopes header) with the
// manifest's.
func checkSlack(ctx context.Context, client *http.Client, apiURL, token string) []check.Result {
	const name = "slack"
	if apiURL == "" {
		apiURL = slackapi.APIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL+"auth.test", strings.NewReader(url.Values{}.Encode()))
	if err != nil {
		return []check.Result{{Integration: name, Check: "bot token", Detail: err.Error(), Fix: "check slack.api_url"}}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return []check.Result{{Integration: name, Check: "bot token", Detail: "Slack did not answer: " + safeErr(err, token),
			Fix: "check the network path to " + apiURL + " (proxy, firewall) and slack.api_url"}}
	}
	defer resp.Body.Close()
	var body struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
		Team  string `json:"team"`
		User  string `json:"user"`
		BotID string `json:"bot_id"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return []check.Result{{Integration: name, Check: "bot token", Detail: fmt.Sprintf("HTTP %d, not Slack's JSON", resp.StatusCode), Fix: "check slack.api_url"}}
	}
	if !body.OK {
		return []check.Result{{Integration: name, Check: "bot token", Detail: "auth.test: " + body.Error,
			Fix: "the token is refused: copy the Bot User OAuth Token (xoxb-…) of the installed app into slack.bot_token or SLACK_BOT_TOKEN"}}
	}
	out := []check.Result{{Integration: name, Check: "bot token", OK: true, Detail: fmt.Sprintf("bot %s in workspace %s", body.User, body.Team)}}
	have := map[string]bool{}
	for _, s := range strings.Split(resp.Header.Get("X-OAuth-Scopes"), ",") {
		have[strings.TrimSpace(s)] = true
	}
	var missing []string
	for _, s := range slackScopes {
		if !have[s[0]] {
			missing = append(missing, s[0]+" ("+s[1]+")")
		}
	}
	r := check.Result{Integration: name, Check: "scopes", OK: len(missing) == 0, Detail: "all the manifest's bot scopes"}
	if len(missing) > 0 {
		r.Detail = "missing: " + strings.Join(missing, ", ")
		r.Fix = "add the scopes under OAuth & Permissions (or apply deploy/slack/manifest.yaml) and reinstall the app"
	}
	return append(out, r)
}

// checkDiscord reads the bot's own user with the token and looks for the
// registered /idp command.
func checkDiscord(ctx context.Context, client *http.Client, cfg discord.Config) []check.Result {
	const name = "discord"
	base := strings.TrimRight(cfg.APIURL, "/")
	if base == "" {
		base = discord.DefaultAPIURL
	}
	get := func(path string, v any) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bot "+cfg.BotToken)
		resp, err := client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("Discord did not answer: %s", safeErr(err, cfg.BotToken))
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v); err != nil {
			return resp.StatusCode, fmt.Errorf("HTTP %d, not Discord's JSON", resp.StatusCode)
		}
		return resp.StatusCode, nil
	}
	var me struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Bot      bool   `json:"bot"`
	}
	if code, err := get("/users/@me", &me); err != nil {
		fix := "check the network path and discord.api_url"
		if code == http.StatusUnauthorized || code == http.StatusForbidden {
			fix = "the token is refused: copy the bot token (Developer Portal → Bot → Reset Token) into discord.bot_token or DISCORD_BOT_TOKEN"
		}
		return []check.Result{{Integration: name, Check: "bot token", Detail: err.Error(), Fix: fix}}
	}
	out := []check.Result{{Integration: name, Check: "bot token", OK: true, Detail: "bot user " + me.Username}}
	path, where := "/applications/"+cfg.ApplicationID+"/commands", "globally"
	if cfg.GuildID != "" {
		path, where = "/applications/"+cfg.ApplicationID+"/guilds/"+cfg.GuildID+"/commands", "in guild "+cfg.GuildID
	}
	var cmds []struct {
		Name string `json:"name"`
	}
	if code, err := get(path, &cmds); err != nil {
		fix := "check discord.application_id (the application the token belongs to)"
		if code == http.StatusForbidden && cfg.GuildID != "" {
			fix = "the bot is not in guild " + cfg.GuildID + ": invite it with the applications.commands and bot scopes"
		}
		return append(out, check.Result{Integration: name, Check: "/idp command", Detail: err.Error(), Fix: fix})
	}
	names := make([]string, 0, len(cmds))
	found := false
	for _, c := range cmds {
		names = append(names, c.Name)
		found = found || c.Name == "idp"
	}
	sort.Strings(names)
	r := check.Result{Integration: name, Check: "/idp command", OK: found, Detail: "registered " + where}
	if !found {
		r.Detail = "not registered " + where
		r.Fix = "run `idpbot discord register` with the same configuration"
	}
	out = append(out, r)
	if cfg.PublicKey == "" && !cfg.Gateway {
		out = append(out, check.Result{Integration: name, Check: "interactions", Detail: "no public key and no gateway: interactions cannot arrive",
			Fix: "set discord.public_key (Developer Portal → General Information) for /discord/interactions, or discord.gateway: true"})
	}
	return out
}

// safeErr is err's message with the secret taken out, should a client
// library have put it there.
func safeErr(err error, secret string) string {
	msg := err.Error()
	if secret != "" {
		msg = strings.ReplaceAll(msg, secret, "[redacted]")
	}
	return msg
}
