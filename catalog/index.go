package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
	"golang.org/x/sync/errgroup"
)

// The full-text index is derived from the store. Its mapping is static and
// lean (DESIGN.md's ingest budget): names are indexed twice, split into words
// and whole (lower-cased, for prefixes and typeahead); title and description
// with English stemming; the facet fields as keywords with doc values; nothing
// is stored, since hits are read back from Badger.
const (
	fName        = "name"
	fNameKW      = "name_kw"
	fNameFirst   = "name_first" // the name's leading run of letters and digits
	fTitle       = "title"
	fDescription = "description"
	fText        = "text" // annotation values, link titles, profile names
	fTags        = "tags"
	fKind        = "kind"
	fType        = "type"
	fOwner       = "owner"
	fSystem      = "system"
	fLifecycle   = "lifecycle"
	fNamespace   = "namespace"

	analyzerLowerKeyword = "lower_keyword"
	internalGen          = "idpbot_gen"
	internalFormat       = "idpbot_format"
)

// IndexFormat is the version of what the index holds for an entity: its
// fields, their analyzers and what goes into them. A change to any of
// those bumps it, and an index stamped with another format is rebuilt from
// the store when the store opens (an index from before the stamp existed
// counts as format 1).
const IndexFormat = 1

// FacetFields are the fields Search can count values of.
var FacetFields = []string{fKind, fType, fOwner, fSystem, fLifecycle, fTags, fNamespace}

// indexedAnnotations are the annotations whose values are indexed as
// searchable text (a PagerDuty service id finds its service). They are not
// indexed as key=value terms: nothing queries those, and a term unique to
// nearly every entity is among the dearest things to index.
var indexedAnnotations = []string{
	AnnotationGitHubProjectSlug, AnnotationPagerDutyServiceID, AnnotationOpsgenieTeam,
	AnnotationSlackChannelID, AnnotationDiscordChannelID, AnnotationSlackUserID, AnnotationDiscordUserID,
	"github.com/team-slug", "github.com/user-login", "backstage.io/techdocs-ref",
	"sonarqube.org/project-key", "sentry.io/project-slug", "jira/project-key",
}

type analyzers struct {
	standard, english, lowerKW, keyword analysis.Analyzer
}

func indexMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	if err := m.AddCustomAnalyzer(analyzerLowerKeyword, map[string]any{
		"type":          custom.Name,
		"tokenizer":     single.Name,
		"token_filters": []string{lowercase.Name},
	}); err != nil {
		return nil, fmt.Errorf("add analyzer: %w", err)
	}
	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store, f.IncludeTermVectors, f.IncludeInAll, f.DocValues = false, false, false, false
		return f
	}
	kw := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store, f.IncludeTermVectors, f.IncludeInAll, f.DocValues = false, false, false, docValues
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fName, text(standard.Name))
	dm.AddFieldMappingsAt(fNameKW, text(analyzerLowerKeyword))
	dm.AddFieldMappingsAt(fNameFirst, text(analyzerLowerKeyword))
	dm.AddFieldMappingsAt(fTitle, text(en.AnalyzerName))
	dm.AddFieldMappingsAt(fDescription, text(en.AnalyzerName))
	dm.AddFieldMappingsAt(fText, text(standard.Name))
	for _, f := range FacetFields {
		dm.AddFieldMappingsAt(f, kw(true))
	}
	m.DefaultMapping = dm
	m.DefaultAnalyzer = standard.Name
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	return m, nil
}

func loadAnalyzers(m *mapping.IndexMappingImpl) (*analyzers, error) {
	a := &analyzers{
		standard: m.AnalyzerNamed(standard.Name),
		english:  m.AnalyzerNamed(en.AnalyzerName),
		lowerKW:  m.AnalyzerNamed(analyzerLowerKeyword),
		keyword:  m.AnalyzerNamed(keyword.Name),
	}
	if a.standard == nil || a.english == nil || a.lowerKW == nil || a.keyword == nil {
		return nil, errors.New("index analyzers are missing")
	}
	a.standard, a.english = indexAnalyzer(a.standard), indexAnalyzer(a.english)
	return a, nil
}

// leadingWord is the run of letters and digits a name starts with: a name
// starts with a typed word (letters and digits only) exactly when this does.
func leadingWord(name string) string {
	if i := strings.IndexFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }); i >= 0 {
		return name[:i]
	}
	return name
}

// compactIndex merges the index's segments into one. Queries cost a
// dictionary lookup per term and segment, and prefix and fuzzy terms expand
// per segment, so a large ingest (which writes a segment per batch) ends
// with this merge; it runs while the store applies the ingest.
func compactIndex(ctx context.Context, ix *shardedIndex) error {
	var g errgroup.Group
	for _, idx := range ix.shards {
		g.Go(func() error {
			a, err := idx.Advanced()
			if err != nil {
				return err
			}
			sc, ok := a.(*scorch.Scorch)
			if !ok {
				return nil
			}
			mo := mergeplan.SingleSegmentMergePlanOptions
			mo.SegmentsPerMergeTask = 1000
			return sc.ForceMerge(ctx, &mo)
		})
	}
	return g.Wait()
}

// indexDocument builds the index document of e directly (no reflection), with
// the analyzers of the mapping.
func (a *analyzers) document(ref string, e *Entity) *document.Document {
	fields := make([]indexField, 0, 14+len(e.Metadata.Tags))
	add := func(field, value string, an analysis.Analyzer, opts index.FieldIndexingOptions) {
		if value == "" {
			return
		}
		fields = append(fields, indexField{name: field, value: []byte(value), options: opts, analyzer: an})
	}
	kw := func(field, value string) {
		add(field, strings.ToLower(value), nil, index.IndexField|index.DocValues) // the keyword analyzer's one term
	}
	lowerKW := func(field, value string) { // the lower-cased whole value: the lowerKW analyzer's one term
		if lower, ok := asciiLower(value); ok {
			add(field, lower, nil, index.IndexField)
		} else {
			add(field, value, a.lowerKW, index.IndexField)
		}
	}
	add(fName, e.Metadata.Name, a.standard, index.IndexField)
	lowerKW(fNameKW, e.Metadata.Name)
	lowerKW(fNameFirst, leadingWord(e.Metadata.Name))
	// An untitled entity's name goes into the title field too: stemmed
	// there, it is what finds "policy-engine" for "policies" (the name field
	// is not stemmed, and a typed word that is a word of some name gets no
	// typo alternative).
	add(fTitle, e.DisplayName(), a.english, index.IndexField)
	add(fDescription, e.Metadata.Description, a.english, index.IndexField)
	kw(fKind, e.Kind)
	kw(fNamespace, e.Metadata.Namespace)
	kw(fType, e.SpecString("type"))
	kw(fLifecycle, e.SpecString("lifecycle"))
	if r, err := ParseRef(e.SpecString("owner"), RefDefaults{Kind: KindGroup, Namespace: e.Metadata.Namespace}); err == nil {
		kw(fOwner, r.String())
	}
	if r, err := ParseRef(e.SpecString("system"), RefDefaults{Kind: KindSystem, Namespace: e.Metadata.Namespace}); err == nil {
		kw(fSystem, r.String())
	}
	for _, t := range e.Metadata.Tags {
		kw(fTags, t)
	}
	var text []string
	for _, k := range indexedAnnotations {
		if v := e.Metadata.Annotations[k]; v != "" {
			text = append(text, v)
		}
	}
	if email := e.Email(); email != "" {
		text = append(text, email)
	}
	for _, l := range e.Metadata.Links {
		if l.Title != "" {
			text = append(text, l.Title)
		}
	}
	add(fText, strings.Join(text, " "), a.standard, index.IndexField)
	d := document.NewDocument(ref)
	d.Fields = make([]document.Field, len(fields))
	for i := range fields {
		d.Fields[i] = &fields[i]
	}
	return d
}
