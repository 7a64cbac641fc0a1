package catalogtest

import (
	"math/rand/v2"
	"strings"
)

// queriesPerClass is the number of queries of each class.
const queriesPerClass = 50

// queries returns the benchmark queries with their classes, in a shuffled
// but fixed order. They use their own random stream, so that they depend on
// the seed and the component names only.
func (g *generator) queries(components []string) (qs, classes []string) {
	r := rand.New(rand.NewPCG(uint64(g.seed), 0x9e3779b97f4a7c15))
	word := func() string { return g.wordFrom(r) }
	known := map[string]bool{}
	for _, w := range vocabulary {
		known[w] = true
	}
	for _, w := range nameWords {
		known[w] = true
	}
	longWord := func(words []string) string {
		for {
			if w := words[r.IntN(len(words))]; len(w) >= 5 {
				return w
			}
		}
	}
	// Each class gets queriesPerClass queries, distinct while the catalog
	// is large enough to allow it.
	seen := map[string]bool{}
	fill := func(class string, next func() string) {
		for i := 0; i < queriesPerClass; i++ {
			q := next()
			for try := 0; seen[q] && try < 100; try++ {
				q = next()
			}
			seen[q] = true
			qs = append(qs, q)
			classes = append(classes, class)
		}
	}
	// Words as typed: mostly one word, sometimes two, frequent words more
	// often, as people search for what the catalog is about.
	fill(QueryWords, func() string {
		q := word()
		if r.IntN(5) < 2 {
			if w := word(); w != q {
				q += " " + w
			}
		}
		return q
	})
	// Prefixes: the first 3–5 letters of a name word or a frequent word, as
	// typed before finishing it.
	fill(QueryPrefix, func() string {
		var w string
		if r.IntN(2) == 0 {
			w = longWord(nameWords)
		} else {
			for w = word(); len(w) < 5; w = word() {
			}
		}
		return w[:3+r.IntN(min(3, len(w)-3))]
	})
	// One typo in a name word: swapped, dropped, doubled or wrong letter.
	fill(QueryTypo, func() string {
		for {
			w := longWord(nameWords)
			if t := typo(r, w); t != w && !known[t] {
				return t
			}
		}
	})
	fill(QueryName, func() string { return components[r.IntN(len(components))] })
	r.Shuffle(len(qs), func(i, j int) {
		qs[i], qs[j] = qs[j], qs[i]
		classes[i], classes[j] = classes[j], classes[i]
	})
	return qs, classes
}

// typo applies one edit to w, never to its first letter.
func typo(r *rand.Rand, w string) string {
	b := []byte(w)
	i := 1 + r.IntN(len(b)-2) // a letter inside the word
	switch r.IntN(4) {
	case 0: // transpose with the next letter: payment → paymnet
		b[i], b[i+1] = b[i+1], b[i]
	case 1: // drop
		b = append(b[:i], b[i+1:]...)
	case 2: // double
		b = []byte(w[:i+1] + w[i:])
	default: // a neighbouring key
		b[i] = neighbour(b[i], r)
	}
	return strings.ToLower(string(b))
}

// keyboard rows, for typing the key next to the intended one.
var keyboard = []string{"qwertyuiop", "asdfghjkl", "zxcvbnm"}

func neighbour(c byte, r *rand.Rand) byte {
	for _, row := range keyboard {
		if i := strings.IndexByte(row, c); i >= 0 {
			switch {
			case i == 0:
				return row[1]
			case i == len(row)-1:
				return row[i-1]
			case r.IntN(2) == 0:
				return row[i-1]
			default:
				return row[i+1]
			}
		}
	}
	return c
}
