package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2/document"
	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest descriptor or substituted file read (16 MiB).
const MaxFileSize = 16 << 20

// Doc is one document of a descriptor file after parsing and validation.
// Entity is nil when the document has errors.
type Doc struct {
	File     string // absolute path
	Index    int    // position of the document in its file, from 0
	Line     int
	Column   int
	Entity   *Entity
	Edges    []Edge   // relations the entity produces, both directions
	Targets  []Target // a Location's targets, with their positions
	Problems Problems
	// Body and Hash are the stored encoding of Entity and its hash, filled
	// by the ingest's worker (staging.prepare), with the entity's reference,
	// its journal entry and its search index document.
	Body     []byte
	Hash     uint64
	ref      string
	pointer  []byte
	indexDoc *document.Document
}

// fileResult is what parsing one file gives: its documents and the problems
// that concern the file as a whole. Failed means the file could not be read
// or parsed at all, so entities previously ingested from it are kept.
type fileResult struct {
	File     string
	Docs     []*Doc
	Problems Problems
	Failed   bool
}

// parser reads descriptor files. Substituted files ($text, $json, $yaml) must
// lie inside one of the allowed directories.
type parser struct {
	allowed []string
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// parseFile reads and parses the file at path (absolute). requireEntities
// makes a document that is not an entity at all an error; files found by
// walking a directory pass false and skip such documents silently.
func (p *parser) parseFile(path string, requireEntities bool) *fileResult {
	res := &fileResult{File: path}
	data, err := ReadFile(path)
	if err != nil {
		res.Failed = true
		res.Problems = append(res.Problems, Problem{Severity: SeverityError, File: path,
			Message: fmt.Sprintf("cannot read file: %v", err), Hint: "check the path and the file's permissions"})
		return res
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.Failed = true
			res.Docs = nil
			res.Problems = append(res.Problems, yamlProblem(path, err))
			return res
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue // empty document, e.g. a trailing '---'
		}
		doc := p.parseDoc(path, i, &n, requireEntities)
		if doc != nil {
			res.Docs = append(res.Docs, doc)
		}
	}
	return res
}

func yamlProblem(path string, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	pr := Problem{Severity: SeverityError, File: path, Message: "invalid YAML: " + msg,
		Hint: "fix the syntax; until then the entities this file held before are kept"}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		pr.Line, _ = strconv.Atoi(m[1])
		pr.Column = 1
	}
	return pr
}

func (p *parser) parseDoc(path string, index int, n *yaml.Node, requireEntities bool) *Doc {
	root := n.Content[0]
	doc := &Doc{File: path, Index: index, Line: root.Line, Column: root.Column}
	if root.Kind != yaml.MappingNode {
		if !requireEntities {
			return nil
		}
		doc.Problems = append(doc.Problems, Problem{Severity: SeverityError, File: path, Line: root.Line, Column: root.Column,
			Message: "document is not a mapping", Hint: "an entity is a mapping with apiVersion, kind, metadata and spec"})
		return doc
	}
	if !requireEntities && !looksLikeEntity(root) {
		return nil
	}
	var subProblems Problems
	raw, err := nodeValue(root, func(m *yaml.Node) (any, bool, error) {
		return p.substitute(path, m, &subProblems)
	})
	doc.Problems = append(doc.Problems, subProblems...)
	if err != nil {
		var ne *nodeError
		pr := Problem{Severity: SeverityError, File: path, Line: root.Line, Column: root.Column, Message: err.Error()}
		if errors.As(err, &ne) {
			pr.Line, pr.Column, pr.Message, pr.Hint = ne.node.Line, ne.node.Column, ne.msg, ne.hint
		}
		doc.Problems = append(doc.Problems, pr)
		return doc
	}
	v := validator{file: path, root: root}
	e := v.entity(raw.(map[string]any))
	doc.Problems = append(doc.Problems, v.problems...)
	if e != nil {
		ref := e.Ref().String()
		for i := range doc.Problems {
			doc.Problems[i].Entity = ref
		}
	}
	if doc.Problems.Errors() == 0 {
		doc.Entity = e
		doc.Edges = deriveEdges(e)
		if strings.EqualFold(e.Kind, KindLocation) {
			doc.Targets = locationTargetNodes(root, e)
		}
	}
	return doc
}

// looksLikeEntity tells a descriptor from other YAML found in a directory
// (OpenAPI documents, config files): it has at least two of apiVersion,
// kind and metadata.
func looksLikeEntity(m *yaml.Node) bool {
	n := 0
	for i := 0; i+1 < len(m.Content); i += 2 {
		switch m.Content[i].Value {
		case "apiVersion", "kind", "metadata":
			n++
		}
	}
	return n >= 2
}

// substitute resolves Backstage's placeholders: a mapping with the single key
// $text, $json or $yaml whose value names a file relative to the descriptor.
// Remote URLs are not fetched: the placeholder is kept and a warning says so.
func (p *parser) substitute(file string, m *yaml.Node, probs *Problems) (any, bool, error) {
	if len(m.Content) != 2 {
		return nil, false, nil
	}
	k, v := m.Content[0], m.Content[1]
	kind := k.Value
	if kind != "$text" && kind != "$json" && kind != "$yaml" {
		return nil, false, nil
	}
	if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
		return nil, false, nil
	}
	target := v.Value
	if strings.Contains(target, "://") {
		*probs = append(*probs, Problem{Severity: SeverityWarning, File: file, Line: k.Line, Column: k.Column,
			Message: fmt.Sprintf("%s %s was not fetched: idpbot reads placeholders from local files only", kind, target),
			Hint:    "keep the document beside the descriptor and write " + kind + ": ./file"})
		return nil, false, nil
	}
	abs := filepath.Clean(target) // checked and read as cleaned: see within
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(filepath.Dir(file), target)
	}
	if !p.inside(abs) {
		return nil, true, &nodeError{node: v, msg: fmt.Sprintf("%s %s points outside the catalog's directories", kind, target),
			hint: "placeholders may only read files under the ingested paths"}
	}
	data, err := ReadFile(abs)
	if err != nil {
		return nil, true, &nodeError{node: v, msg: fmt.Sprintf("%s %s: %v", kind, target, err),
			hint: "the path is relative to the file that holds the placeholder"}
	}
	switch kind {
	case "$text":
		return string(data), true, nil
	case "$json":
		var out any
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, true, &nodeError{node: v, msg: fmt.Sprintf("$json %s: invalid JSON: %v", target, err)}
		}
		return out, true, nil
	default:
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			return nil, true, &nodeError{node: v, msg: fmt.Sprintf("$yaml %s: invalid YAML: %v", target, err)}
		}
		out, err := nodeValue(&n, nil)
		if err != nil {
			return nil, true, &nodeError{node: v, msg: fmt.Sprintf("$yaml %s: %v", target, err)}
		}
		return out, true, nil
	}
}

func (p *parser) inside(path string) bool {
	return len(p.allowed) == 0 || within(path, p.allowed)
}

// locationTargetNodes lists spec.target and spec.targets with positions.
func locationTargetNodes(root *yaml.Node, e *Entity) []Target {
	var out []Target
	add := func(v string, path ...any) {
		n, _ := nodeAt(root, path...)
		t := Target{Value: v, Path: pathString(path...)}
		if n != nil {
			t.Line, t.Column = n.Line, n.Column
		}
		out = append(out, t)
	}
	if t, ok := e.Spec["target"].(string); ok && t != "" {
		add(t, "spec", "target")
	}
	if ts, ok := e.Spec["targets"].([]any); ok {
		for i, t := range ts {
			if s, ok := t.(string); ok && s != "" {
				add(s, "spec", "targets", i)
			}
		}
	}
	return out
}
