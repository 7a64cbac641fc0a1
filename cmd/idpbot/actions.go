package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/actions/catalogexec"
	"github.com/idpbot/idpbot/actions/githubwf"
	"github.com/idpbot/idpbot/actions/webhook"
	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/discord"
	"github.com/idpbot/idpbot/bot/slack"
	"github.com/idpbot/idpbot/catalog"
)

// actionsConfig names the action definitions.
type actionsConfig struct {
	// Paths are loaded at start (files, directories, globs).
	Paths []string `yaml:"paths"`
}

// executors is the table of executor types.
func executors(store *catalog.Store, log *slog.Logger) (actions.Registry, error) {
	cx, err := catalogexec.NewFactory(store)
	if err != nil {
		return nil, err
	}
	return actions.Registry{
		"webhook":     webhook.NewFactory(webhook.Options{Logger: log.With("component", "webhook")}),
		"catalog":     cx,
		githubwf.Type: githubwf.NewFactory(githubwf.Options{}),
	}, nil
}

// newActionEngine loads the actions and builds the engine; definitions
// with errors are left out (and logged), a missing secret fails the start.
func newActionEngine(paths []string, store *catalog.Store, oc actions.OnCall, n actions.Notifier, log *slog.Logger) (*actions.Engine, error) {
	acts, problems, err := actions.Load(paths)
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		log.Error("action problem; the action is left out", "problem", p.String())
	}
	reg, err := executors(store, log)
	if err != nil {
		return nil, err
	}
	var onChange func(string, actions.Status)
	if cn, ok := n.(*chatNotifier); ok && cn != nil {
		onChange = cn.count
	}
	eng, err := actions.New(actions.Config{Catalog: store, Actions: acts, Executors: reg, OnCall: oc, Notifier: n, OnChange: onChange,
		Logger: log.With("component", "actions")})
	if err != nil {
		return nil, err
	}
	log.Info("actions loaded", "actions", len(acts), "problems", len(problems))
	return eng, nil
}

// chatNotifier posts approval messages through the chat front doors and
// edits them with the bot token as runs progress. Front doors are set
// when serve starts them; before that (and in the console) runs are not
// announced in a channel.
type chatNotifier struct {
	mu      sync.Mutex
	slack   *slack.FrontDoor
	discord *discord.FrontDoor
	// runs counts the changes of runs, by action and status.
	runs *prometheus.CounterVec
}

// newChatNotifier registers the run metrics with reg.
func newChatNotifier(reg prometheus.Registerer) *chatNotifier {
	n := &chatNotifier{runs: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idpbot_action_run_changes_total",
		Help: "Action runs reaching each status, by action and status (awaiting_approval, approved, running, succeeded, failed, rejected, expired, cancelled, unknown); a run counts once per status it reaches.",
	}, []string{"action", "status"})}
	reg.MustRegister(n.runs)
	return n
}

var _ actions.Notifier = (*chatNotifier)(nil)

func (n *chatNotifier) set(s *slack.FrontDoor, d *discord.FrontDoor) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.slack, n.discord = s, d
}

func (n *chatNotifier) doors() (*slack.FrontDoor, *discord.FrontDoor) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.slack, n.discord
}

// count records a run reaching a status (the engine's OnChange:
// notifications may merge two quick changes into one, so they are not
// counted).
func (n *chatNotifier) count(action string, status actions.Status) {
	if n.runs != nil {
		n.runs.WithLabelValues(action, string(status)).Inc()
	}
}

// errNoChannel says a run has nowhere to be announced.
var errNoChannel = errors.New("no chat channel to announce the run in (a console request, or the target's owner names no channel on a connected platform)")

// Notify posts the run's message (ref "") or edits it (ref
// "platform:channel:message").
func (n *chatNotifier) Notify(ctx context.Context, m *actions.Message) (string, error) {
	s, d := n.doors()
	rep := bot.RunMessage(m)
	if m.Ref != "" {
		platform, rest, _ := strings.Cut(m.Ref, ":")
		channel, msg, _ := strings.Cut(rest, ":")
		switch {
		case platform == "slack" && s != nil:
			return m.Ref, s.UpdateMessage(ctx, channel, msg, rep)
		case platform == "discord" && d != nil:
			return m.Ref, d.EditMessage(ctx, channel, msg, rep)
		}
		return m.Ref, fmt.Errorf("notify run %s: %s is not connected", m.RunID, platform)
	}
	targets := []catalog.Channel{}
	if m.Origin.Channel != "" {
		targets = append(targets, catalog.Channel{Platform: m.Origin.Platform, ID: m.Origin.Channel})
	}
	targets = append(targets, m.Channels...)
	for _, ch := range targets {
		switch {
		case ch.Platform == "slack" && s != nil:
			ts, err := s.PostMessage(ctx, ch.ID, rep)
			if err != nil {
				return "", err
			}
			return "slack:" + ch.ID + ":" + ts, nil
		case ch.Platform == "discord" && d != nil:
			id, err := d.PostMessage(ctx, ch.ID, rep)
			if err != nil {
				return "", err
			}
			return "discord:" + ch.ID + ":" + id, nil
		}
	}
	return "", errNoChannel
}

func newActionsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "actions", Short: "Check self-service action definitions"}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate PATH...",
		Short: "Check kind: Action documents (inputs, policies, executors); exit 1 on errors (for CI)",
		Long: `Validate loads action definitions and checks every field, the policies and
the executor settings, without needing the executors' secrets (those are
read from the environment when serve starts). Each problem names file,
line, action and field.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			acts, problems, err := actions.Load(args)
			if err != nil {
				return err
			}
			// The executors check their settings; the catalog executor
			// needs a store, so a throwaway one is opened.
			tmp, err := os.MkdirTemp("", "idpbot-validate-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			store, err := catalog.Open(cmd.Context(), tmp, catalog.Options{})
			if err != nil {
				return err
			}
			defer store.Close()
			reg, err := executors(store, slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			problems = append(problems, reg.Check(acts)...)
			for _, p := range problems {
				fmt.Fprintln(g.stdout, relProblem(p))
			}
			fmt.Fprintf(g.stdout, "%d actions, %d errors\n", len(acts), problems.Errors())
			if problems.Errors() > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	})
	return cmd
}

func newAuditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read and verify the audit log of action runs"}
	cmd.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Check the hash chain of the audit log; exit 1 if a record was modified, deleted or moved",
		Long: `Verify walks the audit log in --data-dir and checks each record's hash of
the one before. It prints the head (sequence and hash of the last record):
keep it elsewhere to detect a rewrite of the whole chain too. Run it while
idpbot serve is stopped, or on a restored backup (one process opens a data
directory at a time).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStore(cmd.Context(), func(s *catalog.Store) error {
				st, err := s.State("audit")
				if err != nil {
					return err
				}
				a := actions.NewAudit(st)
				if err := a.Verify(cmd.Context()); err != nil {
					fmt.Fprintf(g.stdout, "audit log: BROKEN: %v\n", err)
					return exitError{code: 1}
				}
				seq, hash, err := a.Head(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "audit log: ok, %d records, head %s\n", seq, hash)
				return nil
			})
		},
	})
	var f actions.AuditFilter
	var since string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List audit records, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				d, err := time.ParseDuration(since)
				if err != nil {
					return fmt.Errorf("--since %q: a duration such as 24h", since)
				}
				f.Since = time.Now().Add(-d)
			}
			return g.withStore(cmd.Context(), func(s *catalog.Store) error {
				st, err := s.State("audit")
				if err != nil {
					return err
				}
				recs, err := actions.NewAudit(st).List(cmd.Context(), f, limit)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return g.json(recs)
				}
				for _, r := range recs {
					fmt.Fprintf(g.stdout, "%6d %s %-18s %-22s %-26s %s %s\n", r.Seq, r.Time.UTC().Format(time.RFC3339), r.Event, r.RunID, r.Actor, r.Action, r.Detail)
				}
				return nil
			})
		},
	}
	list.Flags().StringVar(&f.RunID, "run", "", "only this run")
	list.Flags().StringVar(&f.Actor, "actor", "", "only this actor (user ref)")
	list.Flags().StringVar(&f.Action, "action", "", "only this action")
	list.Flags().StringVar(&since, "since", "", "only records newer than this (e.g. 24h)")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many records")
	cmd.AddCommand(list)
	return cmd
}
