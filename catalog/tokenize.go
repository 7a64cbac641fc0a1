package catalog

import (
	"slices"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
)

// asciiWords is the index-time word tokenizer of the text fields: the same
// tokens as Bleve's Unicode tokenizer (Unicode word boundaries, UAX #29),
// found without running the word-boundary automaton when the text makes
// that trivial: ASCII with no underscore, and no period, comma, colon,
// semicolon or apostrophe between two letters or digits, where a word is a
// run of letters and digits. Other text (a small part of a catalog) goes to
// the Unicode tokenizer. The automaton was about a third of the index's
// analysis time on a 100k ingest. Queries keep the mapping's analyzers, so
// a difference would show as a search miss: tests compare the two on the
// example catalogs, edge cases and every short text over the characters
// that matter, and a fuzz target on anything.
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

// indexAnalyzer returns an analyzer that gives what a gives, faster: its
// Unicode tokenizer goes through asciiWords and its Porter stemmer through
// a cache of stems. It returns a itself when a is not made of a tokenizer
// and filters.
func indexAnalyzer(a analysis.Analyzer) analysis.Analyzer {
	d, ok := a.(*analysis.DefaultAnalyzer)
	if !ok {
		return a
	}
	fast := *d
	if _, ok := d.Tokenizer.(*unicode.UnicodeTokenizer); ok {
		fast.Tokenizer = asciiWords{unicode: d.Tokenizer}
	}
	fast.TokenFilters = slices.Clone(d.TokenFilters)
	for i, f := range fast.TokenFilters {
		if _, ok := f.(*porter.PorterStemmer); ok {
			fast.TokenFilters[i] = &stemCache{stemmer: f, stems: map[string][]byte{}}
		}
	}
	return &fast
}

// A stemCache holds up to maxCachedStems words of up to maxCachedWord bytes
// (at most about 7 MB): catalog text draws on a vocabulary of a few
// thousand words. Longer words (ids, hashes) and numbers are stemmed each
// time; a full cache starts again empty, so that a vocabulary that moves on
// is cached too.
const (
	maxCachedStems = 1 << 16
	maxCachedWord  = 32
)

// stemCache is a stemming token filter that remembers the stems it made:
// the Porter stemmer converts each word to runes and back, and the same
// words recur across a catalog's descriptions and titles (on a 100k ingest
// it stemmed about 1.5 million words).
type stemCache struct {
	stemmer analysis.TokenFilter
	mu      sync.RWMutex
	stems   map[string][]byte // word → stem; never changed once stored
}

func (c *stemCache) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, tok := range input {
		if tok.KeyWord {
			continue
		}
		if len(tok.Term) > maxCachedWord || tok.Type == analysis.Numeric {
			c.stemmer.Filter(analysis.TokenStream{tok})
			continue
		}
		c.mu.RLock()
		stem, ok := c.stems[string(tok.Term)]
		c.mu.RUnlock()
		if ok {
			tok.Term = append([]byte(nil), stem...) // a token owns its term
			continue
		}
		word := string(tok.Term)
		c.stemmer.Filter(analysis.TokenStream{tok})
		c.mu.Lock()
		if len(c.stems) >= maxCachedStems {
			clear(c.stems)
		}
		c.stems[word] = append([]byte(nil), tok.Term...)
		c.mu.Unlock()
	}
	return input
}
