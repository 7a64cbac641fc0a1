package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpbot/idpbot/catalog"
)

func newBackupCmd(g *globals) *cobra.Command {
	var url, token string
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a backup of the data directory (catalog, runs, audit log, history, facts)",
		Long: `Backup writes a consistent, gzip-compressed snapshot of the store to FILE
("-" for standard output). While idpbot serve runs, it holds the data
directory: back it up online with --url (the serve address) and a token with
the admin:backup scope (--token or IDPBOT_API_TOKEN). Otherwise it reads
--data-dir directly. The search index is not in the backup: restore
rebuilds it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if url == "" {
				url = os.Getenv("IDPBOT_URL")
			}
			if token == "" {
				token = os.Getenv("IDPBOT_API_TOKEN")
			}
			out, closeOut, err := createOutput(args[0], g)
			if err != nil {
				return err
			}
			var n int64
			if url != "" {
				n, err = fetchBackup(cmd, url, token, out)
			} else {
				err = g.withStore(cmd.Context(), func(s *catalog.Store) error {
					var berr error
					n, berr = s.Backup(cmd.Context(), out)
					return berr
				})
				if err != nil && strings.Contains(err.Error(), "another idpbot") {
					err = fmt.Errorf("%w\n(idpbot serve holds the data directory: back it up online with --url and a token with the admin:backup scope)", err)
				}
			}
			if cerr := closeOut(err); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if args[0] != "-" {
				fmt.Fprintf(g.stdout, "backup written to %s (%d bytes)\n", args[0], n)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "back up a running idpbot serve at this address (env IDPBOT_URL)")
	cmd.Flags().StringVar(&token, "token", "", "API token with the admin:backup scope (env IDPBOT_API_TOKEN)")
	return cmd
}

// createOutput opens FILE for writing (a temporary name renamed into
// place on success, so that a failed backup never looks like a good one),
// or standard output for "-".
func createOutput(path string, g *globals) (io.Writer, func(error) error, error) {
	if path == "-" {
		return g.stdout, func(error) error { return nil }, nil
	}
	tmp := path + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("backup: %w", err)
	}
	return f, func(failed error) error {
		cerr := f.Close()
		if failed != nil || cerr != nil {
			os.Remove(tmp)
			return cerr
		}
		return os.Rename(tmp, path)
	}, nil
}

func fetchBackup(cmd *cobra.Command, url, token string, out io.Writer) (int64, error) {
	if token == "" {
		return 0, errors.New("--token (or IDPBOT_API_TOKEN) is required with --url: a token with the admin:backup scope")
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, strings.TrimRight(url, "/")+"/api/v1/backup", nil)
	if err != nil {
		return 0, fmt.Errorf("--url %q: %w", url, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 30 * time.Minute}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("backup: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return io.Copy(out, resp.Body)
}

func newRestoreCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "Load a backup into --data-dir, which must hold no store yet; the search index is rebuilt at the next start",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("restore: %w", err)
				}
				defer f.Close()
				in = f
			}
			if err := catalog.Restore(cmd.Context(), g.dataDir, in); err != nil {
				return err
			}
			// Open once: recovery checks and the index is rebuilt now
			// rather than at the first start.
			return g.withStore(cmd.Context(), func(s *catalog.Store) error {
				fmt.Fprintf(g.stdout, "restored %d catalog entities into %s\n", s.Count(), g.dataDir)
				return nil
			})
		},
	}
}
