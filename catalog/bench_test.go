package catalog_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/catalog/catalogtest"
)

// The benchmarks share one synthetic catalog of benchN() entities, generated
// and ingested once per test binary, the first time a benchmark needs it.
// `make bench` prints the same measurements as a table at 10k and 100k
// entities, with the targets (catalog/catalogtest/benchtable).
// The fixture directory is removed when the test binary ends (TestMain in
// main_test.go).

const (
	benchDefaultN = 10000
)

var bench struct {
	once  sync.Once
	dir   string
	gen   *catalogtest.Generated
	store *catalog.Store
	err   error
}

// benchN is IDPBOT_BENCH_N, or 10000.
func benchN(b *testing.B) int {
	b.Helper()
	v := os.Getenv("IDPBOT_BENCH_N")
	if v == "" {
		return benchDefaultN
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 100 {
		b.Fatalf("IDPBOT_BENCH_N=%q: want a number of entities, at least 100", v)
	}
	return n
}

// benchCatalog returns the generated catalog, and with ingested set the
// store holding it.
func benchCatalog(b *testing.B, ingested bool) (*catalogtest.Generated, *catalog.Store) {
	b.Helper()
	n := benchN(b)
	bench.once.Do(func() {
		bench.dir, bench.err = catalog.SharedTempDir()
		if bench.err != nil {
			return
		}
		bench.gen, bench.err = catalogtest.Generate(filepath.Join(bench.dir, "yaml"), n, 1)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	if ingested && bench.store == nil {
		ctx := context.Background()
		s, err := catalog.Open(ctx, filepath.Join(bench.dir, "data"), catalog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := s.Ingest(ctx, "synthetic", []string{bench.gen.Root})
		if err != nil {
			s.Close()
			b.Fatal(err)
		}
		if len(rep.Problems) > 0 || s.Count() != bench.gen.Entities {
			s.Close()
			b.Fatalf("ingest: %d entities of %d, %d problems", s.Count(), bench.gen.Entities, len(rep.Problems))
		}
		bench.store = s
		catalog.AtTestExit(func() { s.Close() })
	}
	return bench.gen, bench.store
}

// BenchmarkIngest ingests the catalog into a fresh data directory, as
// `idpbot catalog ingest` does: open, ingest, close.
func BenchmarkIngest(b *testing.B) {
	g, _ := benchCatalog(b, false)
	ctx := context.Background()
	var took time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		dir := filepath.Join(bench.dir, fmt.Sprintf("ingest-%d", i))
		i++
		b.StartTimer()
		start := time.Now()
		s, err := catalog.Open(ctx, dir, catalog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Ingest(ctx, "synthetic", []string{g.Root}); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(g.Entities)*float64(i)/took.Seconds(), "entities/s")
	b.ReportMetric(float64(g.Bytes)/1e6, "MB-yaml")
}

// BenchmarkGet reads random components by ref.
func BenchmarkGet(b *testing.B) {
	g, s := benchCatalog(b, true)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		ref := "component:default/" + g.Components[r.IntN(len(g.Components))]
		if _, err := s.Get(ctx, ref); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWhoOwns asks who owns random components by bare name, as people
// do in chat.
func BenchmarkWhoOwns(b *testing.B) {
	g, s := benchCatalog(b, true)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		if _, err := s.WhoOwns(ctx, g.Components[r.IntN(len(g.Components))]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch runs the generator's query list (words, prefixes, typos,
// whole names) round-robin, top 10.
func BenchmarkSearch(b *testing.B) {
	g, s := benchCatalog(b, true)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		q := g.Queries[i%len(g.Queries)]
		i++
		if _, err := s.Search(ctx, catalog.SearchRequest{Text: q, Limit: 10}); err != nil {
			b.Fatalf("search %q: %v", q, err)
		}
	}
}
