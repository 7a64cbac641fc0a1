package catalog

import (
	"reflect"

	"github.com/blevesearch/bleve/v2/analysis"
	index "github.com/blevesearch/bleve_index_api"
)

// indexField is a text field of an index document: what Bleve's
// document.TextField is for a field that is indexed, not stored, without
// term vectors, only cheaper to build and analyse. A document's fields are
// allocated together; a keyword field (no analyzer) is its own one term
// without going through a tokenizer; and a field's term frequencies are
// allocated together rather than one per term. At 100k entities the
// ingest analyses 1.3 million fields (TokenFrequency was 11% of what the
// ingest allocated).
type indexField struct {
	name     string
	value    []byte
	options  index.FieldIndexingOptions
	analyzer analysis.Analyzer // nil: value is the field's one term
	length   int
	freqs    index.TokenFrequencies
}

var indexFieldSize = int(reflect.TypeFor[indexField]().Size())

func (f *indexField) Name() string                        { return f.name }
func (f *indexField) ArrayPositions() []uint64            { return nil }
func (f *indexField) Options() index.FieldIndexingOptions { return f.options }
func (f *indexField) Value() []byte                       { return f.value }
func (f *indexField) NumPlainTextBytes() uint64           { return uint64(len(f.value)) }
func (f *indexField) EncodedFieldType() byte              { return 't' } // as a TextField
func (f *indexField) AnalyzedLength() int                 { return f.length }
func (f *indexField) AnalyzedTokenFrequencies() index.TokenFrequencies {
	return f.freqs
}

func (f *indexField) Size() int {
	n := indexFieldSize + len(f.name) + len(f.value)
	if f.freqs != nil {
		n += f.freqs.Size()
	}
	return n
}

// Analyze sets the field's terms and their frequencies, as TextField's
// Analyze does.
func (f *indexField) Analyze() {
	if f.analyzer == nil {
		tf := &index.TokenFreq{Term: f.value}
		tf.SetFrequency(1)
		f.length, f.freqs = 1, index.TokenFrequencies{string(f.value): tf}
		return
	}
	tokens := f.analyzer.Analyze(f.value)
	f.length = len(tokens)
	if f.options.IncludeTermVectors() || f.options.SkipFreqNorm() {
		f.freqs = analysis.TokenFrequency(tokens, nil, f.options)
		return
	}
	f.freqs = make(index.TokenFrequencies, len(tokens))
	terms := make([]index.TokenFreq, 0, len(tokens))
	for _, t := range tokens {
		if tf, ok := f.freqs[string(t.Term)]; ok {
			tf.SetFrequency(tf.Frequency() + 1)
			continue
		}
		terms = append(terms, index.TokenFreq{Term: t.Term})
		tf := &terms[len(terms)-1]
		tf.SetFrequency(1)
		f.freqs[string(t.Term)] = tf
	}
}

// asciiLower returns s lower-cased, and whether it is all ASCII (when it
// is not, s is returned as it is).
func asciiLower(s string) (string, bool) {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return s, false
		}
		upper = upper || 'A' <= c && c <= 'Z'
	}
	if !upper {
		return s, true
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b), true
}
