package catalog

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"
)

// bleveDocument is the index document of e as built with Bleve's own text
// fields and analyzers (what document builds with indexField): the oracle
// of TestIndexFieldsAnalyseAsBleves.
func (a *analyzers) bleveDocument(ref string, e *Entity) *document.Document {
	d := document.NewDocument(ref)
	for _, f := range a.document(ref, e).Fields {
		f := f.(*indexField)
		an, value := f.analyzer, string(f.value)
		switch {
		case f.name == fNameKW:
			an, value = a.lowerKW, e.Metadata.Name
		case f.name == fNameFirst:
			an, value = a.lowerKW, leadingWord(e.Metadata.Name)
		case an == nil:
			an = a.keyword
		}
		if an == a.standard || an == a.english {
			an = nil // below: the mapping's own, not the index-time fast paths
		}
		d.AddField(document.NewTextFieldCustom(f.name, nil, []byte(value), f.options, an))
	}
	return d
}

// TestIndexFieldsAnalyseAsBleves builds the index document of every entity
// of the example and a synthetic catalog, and of names with capitals and
// non-ASCII letters, with indexField and with Bleve's TextField: the same
// fields, options, lengths, terms and frequencies.
func TestIndexFieldsAnalyseAsBleves(t *testing.T) {
	ctx := context.Background()
	s, _ := syntheticStore(t, 1000)
	if _, err := s.Ingest(ctx, "example", []string{filepath.Join("..", "deploy", "examples", "catalog", "all.yaml")}); err != nil {
		t.Fatal(err)
	}
	entities, err := s.List(ctx, Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Payments-API", "ÄRGER-dienst", "σοφία-ΣΟΦΟΣ", "Ⱥpi-gateway"} {
		e := *entities[0]
		e.Metadata.Name = name
		e.Metadata.Tags = []string{"Tier-1", "ÜBER"}
		entities = append(entities, &e)
	}
	m, a := testAnalyzers(t)
	mapped := map[string]analysis.Analyzer{standard.Name: m.AnalyzerNamed(standard.Name), en.AnalyzerName: m.AnalyzerNamed(en.AnalyzerName)}
	fields := 0
	for _, e := range entities {
		ref := e.Ref().String()
		got, want := a.document(ref, e), a.bleveDocument(ref, e)
		if len(got.Fields) != len(want.Fields) {
			t.Fatalf("%s: %d fields, Bleve's %d", ref, len(got.Fields), len(want.Fields))
		}
		for i, g := range got.Fields {
			w := want.Fields[i].(*document.TextField)
			if w.Analyzer() == nil { // the mapping's analyzer of the field
				an := mapped[en.AnalyzerName]
				if g.(*indexField).analyzer == a.standard {
					an = mapped[standard.Name]
				}
				w = document.NewTextFieldCustom(w.Name(), nil, w.Value(), w.Options(), an)
			}
			g.Analyze()
			w.Analyze()
			fields++
			if g.Name() != w.Name() || g.Options() != w.Options() || g.AnalyzedLength() != w.AnalyzedLength() ||
				g.NumPlainTextBytes() != w.NumPlainTextBytes() || !bytes.Equal(g.Value(), w.Value()) ||
				!sameFrequencies(g.AnalyzedTokenFrequencies(), w.AnalyzedTokenFrequencies()) {
				t.Errorf("%s field %s: %s; Bleve's: %s", ref, g.Name(), fieldDump(g), fieldDump(w))
			}
		}
	}
	if fields < 10000 {
		t.Fatalf("only %d fields compared", fields)
	}
}

func sameFrequencies(a, b index.TokenFrequencies) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || !bytes.Equal(x.Term, y.Term) || x.Frequency() != y.Frequency() || len(x.Locations) != len(y.Locations) {
			return false
		}
	}
	return true
}

func fieldDump(f document.Field) string {
	var terms []string
	for k, tf := range f.AnalyzedTokenFrequencies() {
		terms = append(terms, k+"×"+strings.Repeat("|", tf.Frequency()))
	}
	return string(f.Value()) + " → " + strings.Join(terms, " ")
}
