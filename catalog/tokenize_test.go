package catalog

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
)

// tokenizeEdgeCases are texts where Unicode word boundaries are not just
// runs of letters and digits, and plain ones.
var tokenizeEdgeCases = []string{
	"", " ", "payments-gateway", "rewards-router-1863", "acme/rewards-router-1863",
	"Media deduplicates exposes handles serves computes refunds nightly.",
	"s3 3s abc123def 123abc", "edge_broker a.b 1.5 a:b don't 1,000 x;y a_1 1_a",
	"foo--bar  baz\tqux\n", "A.B. U.S.A x.", "a'b a''b 'a b'", "_a a_ __ a__b",
	"1.2.3 v1.2 1.a a.1", "hello@example.com", "a\"b 1%2 #tag +x", "end.", "end. Next",
	"x,", ",x", "1,", "a:", ":a", "a;b", "9;9", "it's", "ends'", "'quoted'",
	"a\x00b\x1fc", "tab\vff\fcr\rlf\n", "Ünïcödé wörds", "日本語のテキスト", "café-latte",
	"emoji 🙂 here", "a\u200db", "long " + strings.Repeat("word ", 300),
}

func tokensEqual(t *testing.T, text string, got, want analysis.TokenStream) {
	t.Helper()
	if msg := tokensDiffer(got, want); msg != "" {
		t.Fatalf("%q: %s", text, msg)
	}
}

// tokensDiffer says how got differs from want; "" when it does not.
func tokensDiffer(got, want analysis.TokenStream) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d tokens %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if string(g.Term) != string(w.Term) || g.Start != w.Start || g.End != w.End ||
			g.Position != w.Position || g.Type != w.Type || g.KeyWord != w.KeyWord {
			return fmt.Sprintf("token %d = %+v, want %+v", i, *g, *w)
		}
	}
	return ""
}

// exampleTexts are every whole file and every line of the example catalogs.
func exampleTexts(t *testing.T) []string {
	t.Helper()
	var texts []string
	for _, root := range []string{filepath.Join("..", "deploy", "examples", "catalog"), filepath.Join("testdata", "backstage")} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			texts = append(texts, string(b))
			texts = append(texts, strings.Split(string(b), "\n")...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(texts) < 1000 {
		t.Fatalf("only %d texts: the example catalogs were not found", len(texts))
	}
	return texts
}

// asciiWords makes exactly the Unicode tokenizer's tokens: on edge cases,
// and on every line and every whole file of the example catalogs.
func TestASCIIWordsMatchesUnicodeTokenizer(t *testing.T) {
	uni := unicode.NewUnicodeTokenizer()
	fast := asciiWords{unicode: uni}
	texts := append(exampleTexts(t), tokenizeEdgeCases...)
	fastPath := 0
	for _, text := range texts {
		tokensEqual(t, text, fast.Tokenize([]byte(text)), uni.Tokenize([]byte(text)))
		if asciiWordCount([]byte(text)) >= 0 {
			fastPath++
		}
	}
	if fastPath < len(texts)/2 {
		t.Errorf("only %d of %d texts are plain ASCII words: the comparison hardly covers the fast path", fastPath, len(texts))
	}
}

// Every text of up to four characters over the ASCII characters that decide
// word boundaries (about 70,000 texts).
func TestASCIIWordsMatchesUnicodeTokenizerOnShortTexts(t *testing.T) {
	uni := unicode.NewUnicodeTokenizer()
	fast := asciiWords{unicode: uni}
	const alphabet = "aZ09 ._,:;'\"-/\t\n\x00\x7f"
	var walk func(b []byte)
	walk = func(b []byte) {
		tokensEqual(t, string(b), fast.Tokenize(b), uni.Tokenize(b))
		if len(b) == 4 {
			return
		}
		for i := range len(alphabet) {
			walk(append(b, alphabet[i]))
		}
	}
	walk(make([]byte, 0, 4))
}

// The stem cache keeps short words only, never numbers, and starts again
// when full; what it gives is the stemmer's.
func TestStemCacheBounds(t *testing.T) {
	c := &stemCache{stemmer: porter.NewPorterStemmer(), stems: map[string][]byte{}}
	stem := func(word string, typ analysis.TokenType) string {
		tok := &analysis.Token{Term: []byte(word), Type: typ}
		c.Filter(analysis.TokenStream{tok})
		return string(tok.Term)
	}
	long := strings.Repeat("handles", 5) // 35 bytes
	if got := stem("handles", analysis.AlphaNumeric); got != "handl" {
		t.Errorf("handles → %q, want handl", got)
	}
	if got := stem("handles", analysis.AlphaNumeric); got != "handl" {
		t.Errorf("handles, cached → %q, want handl", got)
	}
	if got, want := stem(long, analysis.AlphaNumeric), "handleshandleshandleshandleshandl"; got != want {
		t.Errorf("a long word → %q, want %q", got, want)
	}
	stem("1863", analysis.Numeric)
	if _, ok := c.stems[long]; ok || len(c.stems) != 1 {
		t.Errorf("cached: %d words (long word cached: %v), want handles only", len(c.stems), ok)
	}
	for i := range maxCachedStems {
		c.stems[fmt.Sprint("w", i)] = nil
	}
	stem("caches", analysis.AlphaNumeric)
	if _, ok := c.stems["caches"]; !ok || len(c.stems) != 1 {
		t.Errorf("a full cache holds %d words after one more, want it emptied and holding the new one", len(c.stems))
	}
}

// testAnalyzers returns the index mapping and the analyzers the index uses.
func testAnalyzers(t *testing.T) (*mapping.IndexMappingImpl, *analyzers) {
	t.Helper()
	m, err := indexMapping()
	if err != nil {
		t.Fatal(err)
	}
	a, err := loadAnalyzers(m)
	if err != nil {
		t.Fatal(err)
	}
	return m, a
}

// The analyzers the index uses give what the mapping's give (queries use
// those): on the edge cases and the example catalogs, from several
// goroutines at once (the index analyses documents in parallel), each text
// twice (the second time from the stem cache).
func TestIndexAnalyzersMatchTheMapping(t *testing.T) {
	m, a := testAnalyzers(t)
	texts := append(exampleTexts(t), tokenizeEdgeCases...)
	for _, name := range []string{"standard", "en"} {
		idx, mapped := a.standard, m.AnalyzerNamed(name)
		if name == "en" {
			idx = a.english
		}
		d := idx.(*analysis.DefaultAnalyzer)
		if _, ok := d.Tokenizer.(asciiWords); !ok {
			t.Errorf("%s: the index's analyzer does not use asciiWords", name)
		}
		want := make([]analysis.TokenStream, len(texts))
		for i, text := range texts {
			want[i] = mapped.Analyze([]byte(text))
		}
		var wg sync.WaitGroup
		errs := make(chan string, 4)
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for pass := range 2 {
					for i := range texts {
						text := texts[(i+g*len(texts)/4)%len(texts)]
						got := idx.Analyze([]byte(text))
						if msg := tokensDiffer(got, want[(i+g*len(texts)/4)%len(texts)]); msg != "" {
							errs <- fmt.Sprintf("%s, pass %d: %q: %s", name, pass, text, msg)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for msg := range errs {
			t.Error(msg)
		}
		if name == "en" {
			var cache *stemCache
			for _, f := range d.TokenFilters {
				if c, ok := f.(*stemCache); ok {
					cache = c
				}
			}
			if cache == nil || len(cache.stems) == 0 {
				t.Errorf("en: the index's analyzer has no stem cache, or it stayed empty")
			}
		}
	}
}

func FuzzASCIIWordsMatchesUnicodeTokenizer(f *testing.F) {
	for _, text := range tokenizeEdgeCases {
		f.Add(text)
	}
	uni := unicode.NewUnicodeTokenizer()
	fast := asciiWords{unicode: uni}
	f.Fuzz(func(t *testing.T, text string) {
		tokensEqual(t, text, fast.Tokenize([]byte(text)), uni.Tokenize([]byte(text)))
	})
}
