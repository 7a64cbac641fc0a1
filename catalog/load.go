package catalog

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// Target is one target of a Location entity, with its place in the file.
type Target struct {
	Value  string
	Path   string // spec.target or spec.targets[i]
	Line   int
	Column int
}

type loadItem struct {
	path     string
	origin   string // the root the chain of Locations started from
	explicit bool   // named by the user or a Location (not found by walking)
	optional bool   // presence: optional
	// referrer and target point at the Location target that named the file.
	referrer *Doc
	target   Target
}

// loadResult is a parsed file plus the entities' encodings, computed on the
// worker that parsed it.
type loadResult struct {
	*fileResult
	item loadItem
}

// loadOptions configure a load.
type loadOptions struct {
	Workers int
	// Prepare, when set, runs on the worker for each accepted document
	// (encoding, hashing), so that the single consumer does less.
	Prepare func(*Doc)
	// Origin, when set, overrides how entities are annotated with where
	// they came from (see WithOrigin).
	Origin *ingestOrigin
}

// load reads the descriptor files named by roots (files, directories or glob
// patterns), follows Location targets, and calls fn for each file from a
// single goroutine, as files finish. Parsing runs on opts.Workers goroutines.
// Targets are resolved as Backstage resolves them: relative to the referring
// file when they start with '.', as given otherwise.
func load(ctx context.Context, roots []string, opts loadOptions, fn func(*loadResult) error) error {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	var queue []loadItem
	var allowed []string
	seen := map[string]bool{}
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", r, err)
		}
		st, err := os.Stat(abs)
		switch {
		case err != nil && hasGlob(r):
			matches, gerr := expandGlob(abs)
			if gerr != nil || len(matches) == 0 {
				return fmt.Errorf("catalog path %s matches no file", r)
			}
			allowed = append(allowed, globBase(abs))
			for _, m := range matches {
				queue = append(queue, loadItem{path: m, origin: m, explicit: true})
			}
		case err != nil:
			return fmt.Errorf("catalog path %s: %w", r, err)
		case st.IsDir():
			allowed = append(allowed, abs)
			files, werr := walkDescriptors(abs)
			if werr != nil {
				return fmt.Errorf("walk %s: %w", r, werr)
			}
			for _, f := range files {
				queue = append(queue, loadItem{path: f, origin: f})
			}
		default:
			allowed = append(allowed, filepath.Dir(abs))
			queue = append(queue, loadItem{path: abs, origin: abs, explicit: true})
		}
	}
	p := &parser{allowed: allowed}
	var confine []string // nil: targets are followed wherever they point
	if opts.Origin != nil && opts.Origin.confine {
		confine = allowed
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan loadItem)
	results := make(chan *loadResult)
	for i := 0; i < opts.Workers; i++ {
		go func() {
			for it := range work {
				var fr *fileResult
				if confine != nil && !within(it.path, confine) {
					// A symbolic link in a confined directory leading out.
					fr = &fileResult{File: it.path, Problems: Problems{{Severity: SeverityError, File: it.path,
						Message: "the file leads outside the ingested directories (a symbolic link) and is not read",
						Hint:    "replace the link with the file itself"}}}
				} else {
					fr = p.parseFile(it.path, it.explicit)
				}
				for _, d := range fr.Docs {
					if d.Entity != nil {
						opts.Origin.annotate(d.Entity, it.path, it.origin)
						if opts.Prepare != nil {
							opts.Prepare(d)
						}
					}
				}
				select {
				case results <- &loadResult{fileResult: fr, item: it}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	defer close(work)

	pending := 0
	for _, it := range queue {
		seen[it.path] = true
	}
	for len(queue) > 0 || pending > 0 {
		var send chan loadItem
		var next loadItem
		if len(queue) > 0 {
			send, next = work, queue[0]
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case send <- next:
			queue = queue[1:]
			pending++
		case res := <-results:
			pending--
			for _, d := range res.Docs {
				if d.Entity == nil || !strings.EqualFold(d.Entity.Kind, KindLocation) {
					continue
				}
				items, missing := locationTargets(d, res.item.origin, confine)
				for _, it := range items {
					if !seen[it.path] {
						seen[it.path] = true
						queue = append(queue, it)
					}
				}
				// A missing required target counts as a failed file: what it
				// held before is kept, not removed.
				for _, m := range missing {
					if !seen[m] {
						seen[m] = true
						if err := fn(&loadResult{fileResult: &fileResult{File: m, Failed: true}}); err != nil {
							return err
						}
					}
				}
			}
			if err := fn(res); err != nil {
				return err
			}
		}
	}
	return nil
}

// ingestOrigin is how an ingest names the places its files came from.
type ingestOrigin struct {
	location    func(file string) string
	annotations map[string]string
	// confine refuses Location targets outside the ingest's roots.
	confine bool
}

// annotate records where an entity came from, as Backstage does: the
// location of its file and of the file the chain of Locations started from
// ("file:<path>" unless o maps them), plus o's annotations; annotations the
// entity sets itself win.
func (o *ingestOrigin) annotate(e *Entity, file, origin string) {
	if e.Metadata.Annotations == nil {
		e.Metadata.Annotations = map[string]string{}
	}
	loc := func(path string) string { return "file:" + path }
	if o != nil && o.location != nil {
		loc = o.location
	}
	if _, ok := e.Metadata.Annotations[AnnotationManagedByLocation]; !ok {
		e.Metadata.Annotations[AnnotationManagedByLocation] = loc(file)
	}
	if _, ok := e.Metadata.Annotations[AnnotationManagedByOriginLocation]; !ok {
		e.Metadata.Annotations[AnnotationManagedByOriginLocation] = loc(origin)
	}
	if o == nil {
		return
	}
	for k, v := range o.annotations {
		if _, ok := e.Metadata.Annotations[k]; !ok {
			e.Metadata.Annotations[k] = v
		}
	}
}

// locationTargets resolves the targets of a Location document to files,
// adding a problem to the document for each target that cannot be followed.
// With confine set, a target (or glob match) outside those directories is
// refused.
func locationTargets(d *Doc, origin string, confine []string) (out []loadItem, missing []string) {
	e := d.Entity
	typ, _ := e.Spec["type"].(string)
	optional := e.Spec["presence"] == "optional"
	for _, t := range d.Targets {
		warn := func(sev Severity, msg, hint string) {
			d.Problems = append(d.Problems, Problem{Severity: sev, File: d.File, Line: t.Line, Column: t.Column,
				Entity: e.Ref().String(), Path: t.Path, Message: msg, Hint: hint})
		}
		if (typ != "" && typ != "file") || strings.Contains(t.Value, "://") {
			warn(SeverityWarning, fmt.Sprintf("target %s (type %s) was not followed: only file locations are read", t.Value, orDefault(typ, "url")),
				"point the Location at a local file, or ingest the repository through the GitHub integration")
			continue
		}
		path := t.Value
		switch {
		case filepath.IsAbs(path):
		case strings.HasPrefix(path, "."):
			path = filepath.Join(filepath.Dir(d.File), path)
		default:
			abs, _ := filepath.Abs(path)
			if _, err := os.Stat(abs); err != nil && !hasGlob(path) {
				near := filepath.Join(filepath.Dir(d.File), path)
				if _, err := os.Stat(near); err == nil {
					warn(SeverityError, fmt.Sprintf("target %s is resolved against the working directory, as Backstage does, and is not there", t.Value),
						"write ./"+t.Value+" to resolve it against this file")
					continue
				}
			}
			path = abs
		}
		// The path checked is the path read: ".." is resolved lexically
		// first, so that a symbolic link before it cannot lead elsewhere.
		path = filepath.Clean(path)
		refuse := func(p string) bool {
			if confine == nil || within(p, confine) {
				return false
			}
			warn(SeverityError, fmt.Sprintf("target %s is outside the ingested directories and is not followed", t.Value),
				"point Location targets at files of the same repository, with a path starting with ./")
			return true
		}
		if refuse(path) {
			continue
		}
		if hasGlob(path) {
			matches, err := expandGlob(path)
			if err != nil || len(matches) == 0 {
				if !optional {
					warn(SeverityWarning, fmt.Sprintf("target %s matches no file", t.Value), "check the pattern")
				}
				continue
			}
			for _, m := range matches {
				if refuse(m) {
					break
				}
				out = append(out, loadItem{path: m, origin: origin, explicit: true, optional: optional, referrer: d, target: t})
			}
			continue
		}
		if _, err := os.Stat(path); err != nil {
			if !optional {
				warn(SeverityError, fmt.Sprintf("target %s does not exist (%s)", t.Value, path),
					"fix the path, or set spec.presence: optional if the file may be missing")
				missing = append(missing, path)
			}
			continue
		}
		out = append(out, loadItem{path: path, origin: origin, explicit: true, optional: optional, referrer: d, target: t})
	}
	return out, missing
}

// within reports whether path, with symbolic links resolved when it exists,
// is one of roots or beneath one.
//
// Callers read the cleaned path they checked (filepath.Clean), never the
// raw one: "root/link/../x" is checked and read as "root/x".
func within(path string, roots []string) bool {
	path = filepath.Clean(path)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	for _, r := range roots {
		if real, err := filepath.EvalSymlinks(r); err == nil {
			r = real
		}
		rel, err := filepath.Rel(r, path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func hasGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// globBase is the directory part of a pattern before its first wildcard.
func globBase(pattern string) string {
	i := strings.IndexAny(pattern, "*?[")
	if i < 0 {
		return filepath.Dir(pattern)
	}
	return filepath.Dir(pattern[:i] + "x")
}

// expandGlob expands a pattern with '*', '?', '[…]' and '**' (any number of
// directories), returning matching regular files in lexical order.
func expandGlob(pattern string) ([]string, error) {
	if !strings.Contains(pattern, "**") {
		return filepath.Glob(pattern)
	}
	re, err := globRegexp(pattern)
	if err != nil {
		return nil, err
	}
	var out []string
	err = filepath.WalkDir(globBase(pattern), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() && re.MatchString(p) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case strings.HasPrefix(pattern[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			j := strings.IndexByte(pattern[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed '[' in %s", pattern)
			}
			b.WriteString(pattern[i : i+j+1])
			i += j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// walkDescriptors lists the YAML and JSON files under dir, skipping hidden
// directories and node_modules.
func walkDescriptors(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			out = append(out, p)
		}
		return nil
	})
	return out, err
}
