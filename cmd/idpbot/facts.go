package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newFactsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "facts", Short: "Report facts about entities to a running idpbot (for CI pipelines)"}
	var url, token, entity, source string
	push := &cobra.Command{
		Use:   "push NAME=VALUE...",
		Short: "Push facts (coverage=87.5 deploys_per_week=7 has_sbom=true) about one entity",
		Long: `Push sends facts to a running idpbot's API (POST /api/v1/facts), where
scorecard rules read them as facts.<name>. Values that parse as numbers or
booleans are sent as such, others as strings. The token needs the
facts:write scope (api.tokens in the configuration, or IDPBOT_API_TOKEN on
the server).

  idpbot facts push --url https://idpbot.example.com --entity payments-api coverage=87.5

--url defaults to $IDPBOT_URL, --token to $IDPBOT_API_TOKEN.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if url == "" {
				url = os.Getenv("IDPBOT_URL")
			}
			if token == "" {
				token = os.Getenv("IDPBOT_API_TOKEN")
			}
			switch {
			case url == "":
				return errors.New("--url (or IDPBOT_URL) is required: the address of idpbot serve")
			case token == "":
				return errors.New("--token (or IDPBOT_API_TOKEN) is required")
			case entity == "":
				return errors.New("--entity is required: a name or ref, e.g. payments-api")
			}
			facts := map[string]any{}
			for _, a := range args {
				name, v, ok := strings.Cut(a, "=")
				if !ok || name == "" {
					return fmt.Errorf("%q is not NAME=VALUE", a)
				}
				facts[name] = factValue(v)
			}
			body, _ := json.Marshal(map[string]any{"entity": entity, "source": source, "facts": facts})
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, strings.TrimRight(url, "/")+"/api/v1/facts", bytes.NewReader(body))
			if err != nil {
				return fmt.Errorf("--url %q: %w", url, err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
			if err != nil {
				return fmt.Errorf("push facts: %w", err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			var out struct {
				Entity string `json:"entity"`
				Facts  int    `json:"facts"`
				Error  string `json:"error"`
				Hint   string `json:"hint"`
			}
			_ = json.Unmarshal(raw, &out)
			if resp.StatusCode != http.StatusOK {
				msg := out.Error
				if msg == "" {
					msg = strings.TrimSpace(string(raw))
				}
				if out.Hint != "" {
					msg += " (" + out.Hint + ")"
				}
				return fmt.Errorf("push facts: %s: %s", resp.Status, msg)
			}
			fmt.Fprintf(g.stdout, "pushed %d facts about %s\n", out.Facts, out.Entity)
			return nil
		},
	}
	push.Flags().StringVar(&url, "url", "", "address of idpbot serve (env IDPBOT_URL)")
	push.Flags().StringVar(&token, "token", "", "API token with the facts:write scope (env IDPBOT_API_TOKEN)")
	push.Flags().StringVar(&entity, "entity", "", "the entity the facts are about (name or ref)")
	push.Flags().StringVar(&source, "source", "", "where the facts come from (default: the token's name)")
	cmd.AddCommand(push)
	return cmd
}

// factValue reads a command-line value as a number, a boolean or a string.
func factValue(v string) any {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f
	}
	if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
		return b
	}
	return v
}
