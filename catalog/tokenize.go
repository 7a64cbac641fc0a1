package catalog

import (
	"github.com/blevesearch/bleve/v2/analysis"
)

// asciiWords is the index-time word tokenizer of the text fields: the same
// tokens as Bleve's Unicode tokenizer (Unicode word boundaries, UAX #29),
// found without running the word-boundary automaton when the text makes
// that trivial — ASCII with no '_' and no '.', ',', ':', ';' or '\” between
// two letters or digits, where a word is a run of letters and digits.
// Anything else (most of a catalog is not) goes to the Unicode tokenizer.
// The automaton was a tenth of the index's analysis time on a 100k ingest;
// queries keep the mapping's analyzers, so a difference would show as a
// search miss: a test compares the two on catalogs and edge cases, and a
// fuzz test on anything.
type asciiWords struct {
	unicode analysis.Tokenizer
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// asciiWordCount is the number of words of input when they are runs of
// ASCII letters and digits (see asciiWords); -1 when they may not be.
func asciiWordCount(input []byte) int {
	words := 0
	in := false // inside a word
	for i, c := range input {
		switch {
		case isASCIIAlnum(c):
			if !in {
				words++
				in = true
			}
		case c >= 0x80 || c == '_':
			return -1
		case c == '.' || c == ',' || c == ':' || c == ';' || c == '\'':
			if in && i+1 < len(input) && isASCIIAlnum(input[i+1]) {
				return -1 // may join the words on either side
			}
			in = false
		default:
			in = false
		}
	}
	return words
}

func (t asciiWords) Tokenize(input []byte) analysis.TokenStream {
	words := asciiWordCount(input)
	if words < 0 {
		return t.unicode.Tokenize(input)
	}
	tokens := make([]analysis.Token, words)
	stream := make(analysis.TokenStream, words)
	n, start := 0, -1
	digits := true
	for i := 0; i <= len(input); i++ {
		if i < len(input) && isASCIIAlnum(input[i]) {
			if start < 0 {
				start, digits = i, true
			}
			if input[i] > '9' {
				digits = false
			}
			continue
		}
		if start < 0 {
			continue
		}
		tok := &tokens[n]
		tok.Term, tok.Start, tok.End, tok.Position = input[start:i], start, i, n+1
		tok.Type = analysis.AlphaNumeric
		if digits {
			tok.Type = analysis.Numeric
		}
		stream[n] = tok
		n++
		start = -1
	}
	return stream
}

// withASCIIWords returns an analyzer like a whose Unicode tokenizer goes
// through asciiWords; a itself when it is not made of a tokenizer and
// filters.
func withASCIIWords(a analysis.Analyzer) analysis.Analyzer {
	d, ok := a.(*analysis.DefaultAnalyzer)
	if !ok {
		return a
	}
	fast := *d
	fast.Tokenizer = asciiWords{unicode: d.Tokenizer}
	return &fast
}
