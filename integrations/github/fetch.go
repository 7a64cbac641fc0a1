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
	// descriptor files (Location targets) are parsed by the catalog's
	// loader whatever their name, so they are scanned for references in
	// turn; placeholder targets are scanned when the loader's directory
	// walk parses them too (see walked).
	descriptor bool
}

// fetchRepo fetches the catalog file of r and the files it refers to,
// confined to the repository and at most maxFiles. A referred file that is
// missing is left out (the ingest reports it). A problem of the files
// themselves is a *contentError; any other failure fails the repository.
func (s *Source) fetchRepo(ctx context.Context, r repoInfo) (map[string][]byte, error) {
	data, found, err := s.getFile(ctx, r, s.cfg.CatalogPath)
	if err != nil || !found {
		return nil, err
	}
	files := map[string][]byte{s.cfg.CatalogPath: data}
	queue := []string{s.cfg.CatalogPath}
	queued := map[string]bool{s.cfg.CatalogPath: true}
	full := false // maxFiles reached: the queue is still scanned, nothing more is fetched
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		refs, problems, refused := references(file, files[file])
		for _, p := range problems {
			s.log.Warn("catalog file reference not fetched", "repo", r.slug(), "file", file, "problem", p)
		}
		if len(refused) > 0 {
			return nil, contentErrorf("%s: %s (only files inside the repository are read)", file, strings.Join(refused, "; "))
		}
		if !full {
			if refs, err = s.expandGlobs(ctx, r, refs); err != nil {
				return nil, err
			}
		}
		for _, ref := range refs {
			if _, ok := files[ref.path]; !ok {
				if full || hasGlob(ref.path) {
					continue
				}
				if len(files) >= maxFiles {
					s.log.Warn("too many files referred to; the rest is not fetched", "repo", r.slug(), "max", maxFiles, "file", ref.path)
					full = true
					continue
				}
				data, found, err := s.getFile(ctx, r, ref.path)
				if err != nil {
					return nil, err
				}
				if !found {
					continue
				}
				files[ref.path] = data
			}
			if (ref.descriptor || walked(ref.path)) && !queued[ref.path] {
				queued[ref.path] = true
				queue = append(queue, ref.path)
			}
		}
	}
	return files, nil
}

// maxContentsSize is the largest file the contents API sends: a larger one
// comes with encoding "none" and no content.
const maxContentsSize = 1 << 20

// getFile reads a file of r's default branch through the contents API.
func (s *Source) getFile(ctx context.Context, r repoInfo, p string) ([]byte, bool, error) {
	if strings.Contains(p, "..") {
		// go-github refuses such a path before asking.
		return nil, false, contentErrorf("%s: a file name containing \"..\" cannot be read through GitHub's contents API; rename it", p)
	}
	fc, _, _, err := s.client.Repositories.GetContents(ctx, r.Owner, r.Name, p, nil)
	if err != nil {
		if isNotFound(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("get %s: %w", p, describe(err))
	}
	if fc == nil {
		return nil, false, contentErrorf("%s is a directory, not a file", p)
	}
	if t := fc.GetType(); t != "" && t != "file" {
		return nil, false, contentErrorf("%s is a %s, not a file", p, t)
	}
	if fc.GetEncoding() == "none" && fc.GetSize() > maxContentsSize {
		return nil, false, contentErrorf("%s is larger than 1 MB (%d bytes), which GitHub's contents API does not send", p, fc.GetSize())
	}
	content, err := fc.GetContent()
	if err != nil {
		return nil, false, fmt.Errorf("decode %s: the contents API sent an undecodable body: %w", p, err)
	}
	if len(content) > catalog.MaxFileSize {
		return nil, false, contentErrorf("%s is larger than %d MiB", p, catalog.MaxFileSize>>20)
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
		if strings.Contains(dir, "..") {
			return nil, contentErrorf("%s/: a directory name containing \"..\" cannot be listed through GitHub's contents API; rename it", dir)
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
// The document is read as the loader reads it: aliases and merge keys
// resolved, the last of a key written twice. It serves fetching, and an
// early, clear refusal; what keeps the ingest inside the repository is the
// loader's confinement to the mirror (catalog.WithConfinedTargets), which
// also covers what this scan cannot see (a target computed by a
// placeholder).
//
// Placeholders that leave the repository or are absolute are skipped
// (problems say which): the loader refuses them too. A Location target the
// loader would read outside the repository (absolute, leaving it, or
// relative to the bot's working directory) is refused: the repository has a
// content problem and is not ingested. A file that is not valid YAML yields
// what precedes the error; the ingest reports the error and keeps the
// file's previous entities.
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
// $yaml placeholder under n, following aliases (each node once, so that an
// alias bomb costs no more than the document's size).
func walkPlaceholders(n *yaml.Node, fn func(target string)) {
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		n = deref(n)
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
			k, v := n.Content[0], n.Content[1]
			switch k.Value {
			case "$text", "$json", "$yaml":
				// As the catalog's loader: the target is a string written
				// in place, not an alias.
				if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
					fn(v.Value)
				}
				return
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
}

// maxAliasDepth bounds the aliases followed from one node.
const maxAliasDepth = 100

// deref follows n's aliases to the anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == maxAliasDepth {
			return nil
		}
		n = n.Alias
	}
	return n
}

// child returns the value of key in mapping n, or nil, resolving aliases
// and merge keys (<<) as the catalog's loader reads the document: of keys
// written twice the last wins, and a key written in the mapping wins over
// one merged into it.
func child(n *yaml.Node, key string) *yaml.Node {
	return childDepth(n, key, 0)
}

func childDepth(n *yaml.Node, key string, depth int) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > maxAliasDepth {
		return nil
	}
	var found, merged *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Tag == "!!merge":
			if merged != nil {
				continue // the first merged mapping holding key wins
			}
			v = deref(v)
			srcs := []*yaml.Node{v}
			if v != nil && v.Kind == yaml.SequenceNode {
				srcs = v.Content
			}
			for _, src := range srcs {
				if merged = childDepth(src, key, depth+1); merged != nil {
					break
				}
			}
		case k.Value == key:
			found = v
		}
	}
	if found != nil {
		return deref(found)
	}
	return merged
}

// scalar is the string n (or the node it aliases) holds, or "".
func scalar(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return ""
	}
	return n.Value
}
