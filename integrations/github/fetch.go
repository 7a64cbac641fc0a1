package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"

	"github.com/idpbot/idpbot/catalog"
)

// maxFiles bounds the files fetched per repository: the catalog file and
// those it refers to.
const maxFiles = 50

var repoNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// fetched is one repository's catalog files, by path in the repository.
type fetched struct {
	repo  repoInfo
	files map[string][]byte // nil: no catalog file
	err   error
}

// fetchAll fetches the catalog files of repos, concurrency at a time.
func (s *Source) fetchAll(ctx context.Context, repos []repoInfo) []fetched {
	out := make([]fetched, len(repos))
	var g errgroup.Group
	g.SetLimit(concurrency)
	for i, r := range repos {
		g.Go(func() error {
			files, err := s.fetchRepo(ctx, r)
			out[i] = fetched{repo: r, files: files, err: err}
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// fileRef is a file a descriptor refers to.
type fileRef struct {
	path string
	// descriptor files (Location targets) are scanned for references in
	// turn; placeholder targets are not.
	descriptor bool
}

// fetchRepo fetches the catalog file of r and the files it refers to,
// confined to the repository and at most maxFiles. A referred file that is
// missing is left out (the ingest reports it); any other failure fails the
// repository.
func (s *Source) fetchRepo(ctx context.Context, r repoInfo) (map[string][]byte, error) {
	data, found, err := s.getFile(ctx, r, s.cfg.CatalogPath)
	if err != nil || !found {
		return nil, err
	}
	files := map[string][]byte{s.cfg.CatalogPath: data}
	queue := []string{s.cfg.CatalogPath}
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		refs, problems, refused := references(file, files[file])
		for _, p := range problems {
			s.log.Warn("catalog file reference not fetched", "repo", r.slug(), "file", file, "problem", p)
		}
		if len(refused) > 0 {
			return nil, fmt.Errorf("%s: %s (only files inside the repository are read)", file, strings.Join(refused, "; "))
		}
		refs, err := s.expandGlobs(ctx, r, refs)
		if err != nil {
			return nil, err
		}
		for _, ref := range refs {
			if _, ok := files[ref.path]; ok {
				continue
			}
			if len(files) >= maxFiles {
				s.log.Warn("too many files referred to; the rest is not fetched", "repo", r.slug(), "max", maxFiles, "file", ref.path)
				return files, nil
			}
			data, found, err := s.getFile(ctx, r, ref.path)
			if err != nil {
				return nil, err
			}
			if !found {
				continue
			}
			files[ref.path] = data
			if ref.descriptor {
				queue = append(queue, ref.path)
			}
		}
	}
	return files, nil
}

// getFile reads a file of r's default branch through the contents API.
func (s *Source) getFile(ctx context.Context, r repoInfo, p string) ([]byte, bool, error) {
	fc, _, _, err := s.client.Repositories.GetContents(ctx, r.Owner, r.Name, p, nil)
	if err != nil {
		if isNotFound(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("get %s: %w", p, describe(err))
	}
	if fc == nil {
		return nil, false, fmt.Errorf("get %s: it is a directory, not a file", p)
	}
	if t := fc.GetType(); t != "" && t != "file" {
		return nil, false, fmt.Errorf("get %s: it is a %s, not a file", p, t)
	}
	content, err := fc.GetContent()
	if err != nil {
		return nil, false, fmt.Errorf("decode %s: the contents API sent an undecodable body: %w", p, err)
	}
	if len(content) > catalog.MaxFileSize {
		return nil, false, fmt.Errorf("get %s: larger than %d MiB", p, catalog.MaxFileSize>>20)
	}
	return []byte(content), true, nil
}

// expandGlobs replaces Location targets with a pattern in their last path
// element (./apis/*.yaml) by the matching files of that directory.
func (s *Source) expandGlobs(ctx context.Context, r repoInfo, refs []fileRef) ([]fileRef, error) {
	var out []fileRef
	for _, ref := range refs {
		if !hasGlob(ref.path) {
			out = append(out, ref)
			continue
		}
		dir, pattern := path.Split(ref.path)
		dir = strings.TrimSuffix(dir, "/")
		if hasGlob(dir) {
			s.log.Warn("Location target with a pattern in a directory is not fetched", "repo", r.slug(), "target", ref.path)
			continue
		}
		_, entries, _, err := s.client.Repositories.GetContents(ctx, r.Owner, r.Name, dir, nil)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("list %s/: %w", dir, describe(err))
		}
		var names []string
		for _, e := range entries {
			if ok, _ := path.Match(pattern, e.GetName()); ok && e.GetType() == "file" {
				names = append(names, e.GetName())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, fileRef{path: path.Join(dir, n), descriptor: true})
		}
	}
	return out, nil
}

// references lists the files a descriptor file refers to relatively: the
// targets of its Location entities that start with '.', and its $text,
// $json and $yaml placeholders, resolved against the file's directory as
// the catalog's loader resolves them. URLs are not fetched.
//
// Placeholders that leave the repository or are absolute are skipped
// (problems say which): the loader refuses them too. A Location target the
// loader would read outside the repository (absolute, leaving it, or
// relative to the bot's working directory) is refused: the repository is
// not ingested. A file that is not valid YAML yields what precedes the
// error; the ingest reports the error and keeps the file's previous
// entities.
func references(file string, data []byte) (refs []fileRef, problems, refused []string) {
	dir := path.Dir(file)
	// resolve returns the path in the repository of a target, or why not.
	resolve := func(target string) (string, string) {
		if path.IsAbs(target) {
			return "", fmt.Sprintf("%s is an absolute path", target)
		}
		p := path.Join(dir, target)
		if p == "." || p == ".." || strings.HasPrefix(p, "../") {
			return "", fmt.Sprintf("%s leaves the repository", target)
		}
		return p, ""
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if !errors.Is(err, io.EOF) {
				problems = append(problems, "invalid YAML: "+err.Error())
			}
			return refs, problems, refused
		}
		if len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
			continue
		}
		root := n.Content[0]
		walkPlaceholders(root, func(target string) {
			if target == "" || strings.Contains(target, "://") {
				return
			}
			if p, why := resolve(target); why != "" {
				problems = append(problems, why)
			} else {
				refs = append(refs, fileRef{path: p})
			}
		})
		if !strings.EqualFold(scalar(child(root, "kind")), catalog.KindLocation) {
			continue
		}
		spec := child(root, "spec")
		if typ := scalar(child(spec, "type")); typ != "" && typ != "file" {
			continue // the loader does not follow other types
		}
		var targets []string
		if t := scalar(child(spec, "target")); t != "" {
			targets = append(targets, t)
		}
		if ts := child(spec, "targets"); ts != nil && ts.Kind == yaml.SequenceNode {
			for _, t := range ts.Content {
				targets = append(targets, scalar(t))
			}
		}
		for _, t := range targets {
			switch {
			case t == "" || strings.Contains(t, "://"):
				continue // not followed by the loader
			case !strings.HasPrefix(t, ".") && !path.IsAbs(t):
				refused = append(refused, fmt.Sprintf("Location target %s is resolved against the bot's working directory; write ./%s", t, t))
				continue
			}
			if p, why := resolve(t); why != "" {
				refused = append(refused, "Location target "+why)
			} else {
				refs = append(refs, fileRef{path: p, descriptor: true})
			}
		}
	}
}

// walkPlaceholders calls fn with the target of every $text, $json and
// $yaml placeholder under n.
func walkPlaceholders(n *yaml.Node, fn func(target string)) {
	if n == nil {
		return
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k, v := n.Content[0], n.Content[1]
		switch k.Value {
		case "$text", "$json", "$yaml":
			if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
				fn(v.Value)
			}
			return
		}
	}
	for _, c := range n.Content {
		walkPlaceholders(c, fn)
	}
}

// child returns the value of key in mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
