package github

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/idpbot/idpbot/catalog"
)

// apply ingests a repository whose catalog files were fetched, when they
// differ from what was last ingested or the store has never seen its
// source.
func (s *Source) apply(ctx context.Context, f fetched, reports map[string]catalog.IngestReport, rep *SyncReport) {
	src := f.repo.source()
	dir := s.repoDir(f.repo.Owner, f.repo.Name)
	digest := digestOf(f.files)
	_, known := reports[src]
	if known && s.ingested[src] == digest {
		rep.Unchanged++
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			if err := writeMirror(dir, f.files); err != nil {
				s.log.Warn("restore the mirror", "repo", f.repo.slug(), "error", err)
			}
		}
		return
	}
	fail := func(stage string, err error) {
		rep.Failed = append(rep.Failed, RepoError{Repo: f.repo.slug(), Stage: stage, Err: err})
		s.log.Warn("github repository not ingested; its entities are kept", "repo", f.repo.slug(), "error", err)
	}
	if err := writeMirror(dir, f.files); err != nil {
		fail("ingest", fmt.Errorf("write the mirror: %w", err))
		return
	}
	roots := []string{dir}
	if !walked(s.cfg.CatalogPath) {
		roots = append(roots, filepath.Join(dir, filepath.FromSlash(s.cfg.CatalogPath)))
	}
	blob := strings.TrimSuffix(f.repo.HTMLURL, "/") + "/blob/" + f.repo.DefaultBranch + "/"
	location := func(p string) string {
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return "file:" + p
		}
		return "url:" + blob + filepath.ToSlash(rel)
	}
	// The loader refuses any Location target outside the mirror of this
	// repository, whatever fetchRepo's scan saw.
	ir, err := s.opts.Store.Ingest(ctx, src, roots, catalog.WithLocation(location),
		catalog.WithAnnotations(map[string]string{AnnotationProjectSlug: f.repo.slug()}), catalog.WithConfinedTargets())
	if err != nil {
		fail("ingest", err)
		return
	}
	rep.Ingested++
	if ir.Added+ir.Updated+ir.Removed > 0 {
		rep.Changed = true
	}
	if n := ir.Problems.Errors(); n > 0 {
		s.log.Warn("catalog file has problems", "repo", f.repo.slug(), "errors", n, "first", ir.Problems[0].Message)
	}
	s.ingested[src] = digest
}

func (s *Source) repoDir(owner, name string) string {
	return filepath.Join(s.mirror, owner, name)
}

// walked reports whether the catalog's directory walk finds p (a path in
// the repository): it skips directories starting with '.' and node_modules,
// and reads only .yaml, .yml and .json files.
func walked(p string) bool {
	parts := strings.Split(p, "/")
	for _, d := range parts[:len(parts)-1] {
		if strings.HasPrefix(d, ".") || d == "node_modules" {
			return false
		}
	}
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// digestOf identifies a set of files.
func digestOf(files map[string][]byte) string {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		h.Write([]byte(p + "\x00" + strconv.Itoa(len(files[p])) + "\x00"))
		h.Write(files[p])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeMirror makes dir hold exactly files, each written atomically.
func writeMirror(dir string, files map[string][]byte) error {
	for p, data := range files {
		if err := writeFileAtomic(filepath.Join(dir, filepath.FromSlash(p)), data); err != nil {
			return err
		}
	}
	var stale, dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir {
				dirs = append(dirs, p)
			}
			return nil
		}
		if _, ok := files[filepath.ToSlash(rel)]; !ok {
			stale = append(stale, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	// Deepest first; a directory still holding files stays.
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Remove(dirs[i])
	}
	return nil
}
