package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/idpbot/idpbot/catalog"
	"github.com/spf13/cobra"
)

func newCatalogCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Validate, ingest and query the software catalog",
	}
	cmd.AddCommand(
		newValidateCmd(g), newIngestCmd(g), newWhoOwnsCmd(g), newSearchCmd(g),
		newShowCmd(g), newListCmd(g), newCheckCmd(g), newReindexCmd(g),
	)
	return cmd
}

// openStore opens the catalog in --data-dir.
func (g *globals) openStore(ctx context.Context) (*catalog.Store, error) {
	return catalog.Open(ctx, g.dataDir, catalog.Options{Logger: g.logger()})
}

// withStore runs fn with the store open and closes it after.
func (g *globals) withStore(ctx context.Context, fn func(*catalog.Store) error) error {
	s, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	err = fn(s)
	if cerr := s.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close catalog: %w", cerr)
	}
	return err
}

func (g *globals) json(v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newValidateCmd(g *globals) *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check descriptor files as Backstage would; exit 1 on any error (for CI)",
		Long: `Validate reads catalog-info.yaml files (files, directories or glob patterns;
Location targets are followed) and reports every problem with file, line,
column, field and how to fix it. It exits 1 when there is an error (with
--strict, also on a warning), so it can lint catalog files in CI.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := catalog.Validate(cmd.Context(), args)
			if err != nil {
				return err
			}
			if g.output == "json" {
				if err := g.json(rep); err != nil {
					return err
				}
			} else {
				for _, p := range rep.Problems {
					fmt.Fprintln(g.stdout, relProblem(p))
				}
				fmt.Fprintf(g.stdout, "%d files, %d entities, %d errors, %d warnings\n",
					rep.Files, rep.Entities, rep.Problems.Errors(), len(rep.Problems)-rep.Problems.Errors())
			}
			if rep.Problems.Errors() > 0 || (strict && len(rep.Problems) > 0) {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "fail on warnings too")
	return cmd
}

func newIngestCmd(g *globals) *cobra.Command {
	var source string
	cmd := &cobra.Command{
		Use:   "ingest PATH...",
		Short: "Load descriptor files into the catalog, replacing the source's previous entities",
		Long: `Ingest reads catalog-info.yaml files (files, directories or glob patterns;
Location targets are followed) and makes them the entities of one source,
atomically: entities the source no longer lists are removed. Entities with
errors are reported and not stored; when a file or entity fails, its previous
version stays. Exits 1 when there were errors.

The source is named by --source; by default it is "file:" and the absolute
paths, so ingesting the same paths again replaces what they gave before.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if source == "" {
				abs := make([]string, len(args))
				for i, a := range args {
					p, err := filepath.Abs(a)
					if err != nil {
						return err
					}
					abs[i] = p
				}
				source = catalog.DefaultSource(abs)
			}
			return g.withStore(cmd.Context(), func(s *catalog.Store) error {
				rep, err := s.Ingest(cmd.Context(), source, args)
				if rep == nil {
					return err
				}
				if g.output == "json" {
					if jerr := g.json(rep); jerr != nil {
						return jerr
					}
				} else {
					for _, p := range rep.Problems {
						fmt.Fprintln(g.stdout, relProblem(p))
					}
					if err == nil {
						fmt.Fprintf(g.stdout, "ingested %s: %d entities (%d added, %d updated, %d unchanged, %d removed, %d kept from before) from %d files in %s; %d errors, %d warnings\n",
							rep.Source, rep.Entities, rep.Added, rep.Updated, rep.Unchanged, rep.Removed, rep.Kept, rep.Files,
							rep.Duration.Round(1e6), rep.Problems.Errors(), len(rep.Problems)-rep.Problems.Errors())
					}
				}
				if err != nil {
					return err
				}
				if rep.Problems.Errors() > 0 {
					return exitError{1}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "name of the source these files make up (default: file:<paths>)")
	return cmd
}

func newWhoOwnsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "who-owns NAME|REF",
		Short: "Show the owner of an entity: team, people, channels, runbook and repository",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withStore(cmd.Context(), func(s *catalog.Store) error {
				o, err := s.WhoOwns(cmd.Context(), args[0])
				if err != nil {
					return lookupError(err)
				}
				if g.output == "json" {
					return g.json(o)
				}
				renderOwnership(g.stdout, o)
				return nil
			})
		},
	}
}

func newSearchCmd(g *globals) *cobra.Command {
	var limit int
	var kinds []string
	var facets bool
	cmd := &cobra.Command{
		Use:   "search TEXT...",
		Short: "Full-text search: names, prefixes, typos, titles, descriptions, tags",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := catalog.SearchRequest{Text: joinArgs(args), Limit: limit, Kinds: kinds}
			if facets {
				req.Facets = catalog.FacetFields
			}
			return g.withStore(cmd.Context(), func(s *catalog.Store) error {
				res, err := s.Search(cmd.Context(), req)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return g.json(res)
				}
				renderSearch(g.stdout, req.Text, res)
				return nil
			})
		},
	}
	cmd.Flags().IntVarP(&limit, "limit", "n", 10, "number of hits")
	cmd.Flags().StringSliceVar(&kinds, "kind", nil, "only these kinds (repeatable)")
	cmd.Flags().BoolVar(&facets, "facets", false, "count hits per kind, type, owner, system, lifecycle, tag")
	return cmd
}

func newShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME|REF",
		Short: "Show an entity with its relations",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withStore(cmd.Context(), func(s *catalog.Store) error {
				e, err := s.Resolve(cmd.Context(), args[0])
				if err != nil {
					return lookupError(err)
				}
				if g.output == "json" {
					return g.json(e)
				}
				renderEntity(g.stdout, e)
				return nil
			})
		},
	}
}

func newListCmd(g *globals) *cobra.Command {
	var filters []string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List entities matching Backstage filters",
		Example: `  idpbot catalog list --filter kind=component,spec.type=service
  idpbot catalog list --filter relations.ownedby=group:default/payments
  idpbot catalog list --filter kind=api --filter kind=resource   # OR`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := catalog.ParseFilter(filters...)
			if err != nil {
				return err
			}
			return g.withStore(cmd.Context(), func(s *catalog.Store) error {
				list, err := s.List(cmd.Context(), f, limit)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return g.json(list)
				}
				renderList(g.stdout, list)
				return nil
			})
		},
	}
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "filter set key=value[,key=value…]; repeat for OR")
	cmd.Flags().IntVarP(&limit, "limit", "n", 0, "at most this many (0: all)")
	return cmd
}

func newCheckCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "List dangling relations and the problems of each source's last ingest; exit 1 if any",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStore(cmd.Context(), func(s *catalog.Store) error {
				rep, err := s.Check(cmd.Context())
				if err != nil {
					return err
				}
				if g.output == "json" {
					if err := g.json(rep); err != nil {
						return err
					}
				} else {
					renderCheck(g.stdout, rep)
				}
				problems := len(rep.Dangling)
				for _, src := range rep.Sources {
					problems += src.Problems.Errors()
				}
				if problems > 0 {
					return exitError{1}
				}
				return nil
			})
		},
	}
}

func newReindexCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search index from the store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStore(cmd.Context(), func(s *catalog.Store) error {
				if err := s.Reindex(cmd.Context()); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "reindexed %d entities\n", s.Count())
				return nil
			})
		},
	}
}
