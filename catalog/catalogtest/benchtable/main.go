//go:build unix

// Command benchtable measures the catalog on synthetic catalogs of several
// sizes and prints the figures as Markdown tables, next to the performance
// targets (which apply at 100k entities). `make bench` runs it.
//
// For each size it generates a catalog (catalogtest.Generate), ingests it
// with the idpbot binary in a child process, each time into a fresh data
// directory (the median wall time of the runs is judged, with the slowest and
// fastest beside it, and the highest peak RSS), then opens the last data
// directory in this process and times point reads, who-owns answers and
// searches one call at a time.
//
//	go run ./catalog/catalogtest/benchtable [-sizes 10000,100000] [-runs 3]
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/catalog/catalogtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

type config struct {
	sizes  []int
	seed   int64
	calls  int // point reads and who-owns calls per size
	passes int // timed passes over the search queries
	runs   int // ingests per size
	keep   bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fl.SetOutput(stderr)
	sizes := fl.String("sizes", "10000,100000", "comma-separated catalog sizes (entities)")
	var cfg config
	fl.Int64Var(&cfg.seed, "seed", 1, "generator seed")
	fl.IntVar(&cfg.calls, "calls", 20000, "timed Get and WhoOwns calls per size")
	fl.IntVar(&cfg.passes, "passes", 5, "timed passes over the search queries")
	fl.IntVar(&cfg.runs, "runs", 3, "ingests per size, each into a fresh data directory; the median run is judged (an odd number)")
	fl.BoolVar(&cfg.keep, "keep", false, "keep the generated catalogs and data directories")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if cfg.runs < 1 || cfg.runs%2 == 0 {
		return fmt.Errorf("-runs: %d is not an odd number of ingests (1, 3, 5…), which has a median run", cfg.runs)
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 100 {
			return fmt.Errorf("-sizes: %q is not a size of at least 100 entities", s)
		}
		cfg.sizes = append(cfg.sizes, n)
	}

	tmp, err := os.MkdirTemp("", "idpbot-benchtable-")
	if err != nil {
		return err
	}
	if cfg.keep {
		fmt.Fprintln(stderr, "keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	bin := filepath.Join(tmp, "idpbot")
	if err := buildBinary(ctx, bin, stderr); err != nil {
		return err
	}
	var results []*result
	for _, n := range cfg.sizes {
		r, err := measure(ctx, cfg, bin, filepath.Join(tmp, fmt.Sprintf("n%d", n)), n, stderr)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		results = append(results, r)
	}
	printTables(stdout, cfg, results)
	return nil
}

// buildBinary builds cmd/idpbot of the module benchtable runs in.
func buildBinary(ctx context.Context, bin string, stderr io.Writer) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("find module: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return errors.New("run benchtable inside the idpbot module")
	}
	fmt.Fprintln(stderr, "building idpbot")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/idpbot")
	cmd.Dir = filepath.Dir(gomod)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build idpbot: %w", err)
	}
	return nil
}

// result holds the measurements at one size.
type result struct {
	n        int
	gen      *catalogtest.Generated
	genTime  time.Duration
	ingests  []ingestRun   // sorted by wall time
	ingest   time.Duration // median wall time of the runs
	ingestIn time.Duration // the store's own ingest report, median run
	cpu      time.Duration // child process, user+sys, median run
	rssKiB   int64         // the highest peak RSS of the runs
	problems int
	store    int64
	index    int64
	open     time.Duration
	get      []time.Duration
	whoOwns  []time.Duration
	search   map[string][]time.Duration // by query class; "" is all
	hits     map[string]float64         // mean total hits by class
	nameTop  int                        // name queries whose top hit is the named component
}

func measure(ctx context.Context, cfg config, bin, dir string, n int, stderr io.Writer) (*result, error) {
	r := &result{n: n, search: map[string][]time.Duration{}, hits: map[string]float64{}}
	fmt.Fprintf(stderr, "N=%d: generating\n", n)
	start := time.Now()
	g, err := catalogtest.Generate(filepath.Join(dir, "yaml"), n, cfg.seed)
	if err != nil {
		return nil, err
	}
	r.gen, r.genTime = g, time.Since(start)

	var data string
	for i := range cfg.runs {
		if data != "" && !cfg.keep {
			if err := os.RemoveAll(data); err != nil {
				return nil, err
			}
		}
		data = filepath.Join(dir, fmt.Sprintf("data-%d", i+1))
		fmt.Fprintf(stderr, "N=%d: ingesting %d entities, %.1f MB of YAML (child process, run %d of %d)\n",
			n, g.Entities, float64(g.Bytes)/1e6, i+1, cfg.runs)
		run, err := ingestOnce(ctx, bin, data, g)
		if err != nil {
			return nil, err
		}
		r.ingests = append(r.ingests, run)
		r.rssKiB = max(r.rssKiB, run.rssKiB)
	}
	slices.SortFunc(r.ingests, func(a, b ingestRun) int { return cmp.Compare(a.wall, b.wall) })
	median := r.ingests[len(r.ingests)/2]
	r.ingest, r.ingestIn, r.cpu = median.wall, median.report, median.cpu
	if r.store, err = dirSize(filepath.Join(data, "store")); err != nil {
		return nil, err
	}
	if r.index, err = dirSize(filepath.Join(data, "index")); err != nil {
		return nil, err
	}

	fmt.Fprintf(stderr, "N=%d: queries (in process)\n", n)
	start = time.Now()
	s, err := catalog.Open(ctx, data, catalog.Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r.open = time.Since(start)
	if s.Count() != g.Entities {
		return nil, fmt.Errorf("store holds %d entities, want %d", s.Count(), g.Entities)
	}
	if err := r.queries(ctx, cfg, s); err != nil {
		return nil, err
	}
	return r, nil
}

// ingestRun is one ingest of a generated catalog by a child process.
type ingestRun struct {
	wall, cpu time.Duration // start to exit; user+sys
	report    time.Duration // the store's own ingest report
	rssKiB    int64         // peak
}

// ingestOnce ingests g into the fresh data directory data with the idpbot
// binary and checks that every entity was stored.
func ingestOnce(ctx context.Context, bin, data string, g *catalogtest.Generated) (ingestRun, error) {
	var run ingestRun
	var stdout, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--data-dir", data, "--output", "json", "catalog", "ingest", "--source", "synthetic", g.Root)
	cmd.Stdout, cmd.Stderr = &stdout, &errOut
	start := time.Now()
	err := cmd.Run()
	run.wall = time.Since(start)
	if err != nil {
		return run, fmt.Errorf("ingest: %w\n%s%s", err, errOut.Bytes(), tail(stdout.String(), 2000))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		run.rssKiB = ru.Maxrss
		if runtime.GOOS == "darwin" { // bytes there, KiB on Linux
			run.rssKiB /= 1024
		}
	}
	run.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	var rep catalog.IngestReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return run, fmt.Errorf("read ingest report: %w", err)
	}
	run.report = rep.Duration
	if rep.Entities != g.Entities || len(rep.Problems) > 0 {
		return run, fmt.Errorf("ingest stored %d of %d entities with %d problems", rep.Entities, g.Entities, len(rep.Problems))
	}
	return run, nil
}

// warmup is the number of untimed calls before each timed series.
const warmup = 1000

func (r *result) queries(ctx context.Context, cfg config, s *catalog.Store) error {
	g := r.gen
	rnd := rand.New(rand.NewPCG(uint64(cfg.seed), 7))
	component := func() string { return g.Components[rnd.IntN(len(g.Components))] }
	var err error
	r.get, err = timeCalls(cfg.calls, func() error {
		_, err := s.Get(ctx, "component:default/"+component())
		return err
	})
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	r.whoOwns, err = timeCalls(cfg.calls, func() error {
		_, err := s.WhoOwns(ctx, component())
		return err
	})
	if err != nil {
		return fmt.Errorf("who-owns: %w", err)
	}

	// One untimed pass (which also counts hits), then the timed passes.
	counts := map[string]int{}
	for i, q := range g.Queries {
		res, err := s.Search(ctx, catalog.SearchRequest{Text: q, Limit: 10})
		if err != nil {
			return fmt.Errorf("search %q: %w", q, err)
		}
		class := g.QueryClasses[i]
		counts[class]++
		r.hits[class] += float64(res.Total)
		if class == catalogtest.QueryName && len(res.Hits) > 0 && res.Hits[0].Ref == "component:default/"+q {
			r.nameTop++
		}
	}
	for c, k := range counts {
		r.hits[c] /= float64(k)
	}
	for p := 0; p < cfg.passes; p++ {
		for i, q := range g.Queries {
			start := time.Now()
			_, err := s.Search(ctx, catalog.SearchRequest{Text: q, Limit: 10})
			d := time.Since(start)
			if err != nil {
				return fmt.Errorf("search %q: %w", q, err)
			}
			r.search[g.QueryClasses[i]] = append(r.search[g.QueryClasses[i]], d)
			r.search[""] = append(r.search[""], d)
		}
	}
	for _, ds := range r.search {
		slices.Sort(ds)
	}
	return ctx.Err()
}

// timeCalls calls fn warmup times untimed, then n times, timing each call;
// it returns the durations sorted.
func timeCalls(n int, fn func() error) ([]time.Duration, error) {
	for i := 0; i < warmup; i++ {
		if err := fn(); err != nil {
			return nil, err
		}
	}
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		err := fn()
		ds[i] = time.Since(start)
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(ds)
	return ds, nil
}

// pct returns the q-th quantile (0 < q ≤ 1) of sorted durations.
func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	return total, err
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// row is one metric of the main table: its value at each size, and the
// target with the check against it.
type row struct {
	name   string
	value  func(*result) string
	target string
	ok     func(*result) bool // nil: no target
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }
func us(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/1e3) }
func mb(b int64) string         { return fmt.Sprintf("%.1f", float64(b)/1e6) }

// targetN is the size the targets are stated for.
const targetN = 100000

func printTables(w io.Writer, cfg config, results []*result) {
	rows := []row{
		{name: "entities", value: func(r *result) string { return strconv.Itoa(r.gen.Entities) }},
		{name: "YAML files / size (MB)", value: func(r *result) string { return fmt.Sprintf("%d / %s", r.gen.Files, mb(r.gen.Bytes)) }},
		{name: "ingest, wall (s): `idpbot catalog ingest`, a fresh data dir, median run", value: func(r *result) string { return fmt.Sprintf("%.2f", r.ingest.Seconds()) },
			target: "≤ 15 s", ok: func(r *result) bool { return r.ingest <= 15*time.Second }},
		{name: "ingest, wall (s): fastest – slowest run", value: func(r *result) string {
			return fmt.Sprintf("%.2f – %.2f", r.ingests[0].wall.Seconds(), r.ingests[len(r.ingests)-1].wall.Seconds())
		}},
		{name: "ingest, Store.Ingest alone (s), median run", value: func(r *result) string { return fmt.Sprintf("%.2f", r.ingestIn.Seconds()) }},
		{name: "ingest rate (entities/s)", value: func(r *result) string { return fmt.Sprintf("%.0f", float64(r.gen.Entities)/r.ingest.Seconds()) }},
		{name: "ingest CPU, user+sys (s), median run", value: func(r *result) string { return fmt.Sprintf("%.2f", r.cpu.Seconds()) }},
		{name: "ingest peak RSS (MB), highest run", value: func(r *result) string { return mb(r.rssKiB * 1024) },
			target: "≤ 400 MB", ok: func(r *result) bool { return r.rssKiB*1024 <= 400e6 }},
		{name: "on disk: store/ (MB)", value: func(r *result) string { return mb(r.store) }},
		{name: "on disk: index/ (MB)", value: func(r *result) string { return mb(r.index) }},
		{name: "open data dir (ms)", value: func(r *result) string { return ms(r.open) }},
		{name: "Get p50 / p99 (µs)", value: func(r *result) string { return us(pct(r.get, .5)) + " / " + us(pct(r.get, .99)) }},
		{name: "who-owns p50 (ms)", value: func(r *result) string { return ms(pct(r.whoOwns, .5)) }},
		{name: "who-owns p99 (ms)", value: func(r *result) string { return ms(pct(r.whoOwns, .99)) },
			target: "≤ 1 ms", ok: func(r *result) bool { return pct(r.whoOwns, .99) <= time.Millisecond }},
		{name: "search p50 (ms)", value: func(r *result) string { return ms(pct(r.search[""], .5)) },
			target: "≤ 2 ms", ok: func(r *result) bool { return pct(r.search[""], .5) <= 2*time.Millisecond }},
		{name: "search p99 (ms)", value: func(r *result) string { return ms(pct(r.search[""], .99)) },
			target: "≤ 10 ms", ok: func(r *result) bool { return pct(r.search[""], .99) <= 10*time.Millisecond }},
	}

	// The targets are checked at 100k, or at the largest size measured.
	judged := results[len(results)-1]
	for _, r := range results {
		if r.n == targetN {
			judged = r
		}
	}
	status := fmt.Sprintf("N=%d", judged.n)
	if judged.n != targetN {
		status += " (targets are for 100k)"
	}

	fmt.Fprintf(w, "Catalog benchmarks, %s/%s, %d CPUs, %s, seed %d.\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), cfg.seed)
	fmt.Fprint(w, "| metric |")
	for _, r := range results {
		fmt.Fprintf(w, " N=%d |", r.n)
	}
	fmt.Fprintf(w, " target | %s |\n|---|", status)
	for range results {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w, "---|---|")
	for _, rw := range rows {
		fmt.Fprintf(w, "| %s |", rw.name)
		for _, r := range results {
			fmt.Fprintf(w, " %s |", rw.value(r))
		}
		mark := ""
		if rw.ok != nil {
			mark = "MISS"
			if rw.ok(judged) {
				mark = "PASS"
			}
		}
		fmt.Fprintf(w, " %s | %s |\n", rw.target, mark)
	}

	fmt.Fprintf(w, "\nSearch by query class: p50 / p99 in ms over %d timed passes (one untimed pass first), top 10; mean total hits.\n\n", cfg.passes)
	fmt.Fprint(w, "| query class | queries |")
	for _, r := range results {
		fmt.Fprintf(w, " N=%d p50 / p99 | N=%d mean hits |", r.n, r.n)
	}
	fmt.Fprint(w, "\n|---|---:|")
	for range results {
		fmt.Fprint(w, "---:|---:|")
	}
	fmt.Fprintln(w)
	for _, c := range append(slices.Clone(catalogtest.QueryClassNames), "") {
		name := c
		if c == "" {
			name = "all"
		}
		fmt.Fprintf(w, "| %s | %d |", name, len(results[0].search[c])/cfg.passes)
		for _, r := range results {
			hits := "—"
			if c != "" {
				hits = fmt.Sprintf("%.0f", r.hits[c])
			}
			fmt.Fprintf(w, " %s / %s | %s |", ms(pct(r.search[c], .5)), ms(pct(r.search[c], .99)), hits)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	for _, r := range results {
		names := len(r.search[catalogtest.QueryName]) / cfg.passes
		fmt.Fprintf(w, "N=%d: %d of %d whole-name queries rank the named component first; catalog generated in %s.\n",
			r.n, r.nameTop, names, r.genTime.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "\nIngest runs `idpbot --data-dir DIR catalog ingest --source synthetic all.yaml` in a child process, "+
		"%d times per size, each into a fresh data directory (wall time from start to exit, peak RSS from its rusage; "+
		"MB = 10^6 bytes). Get, who-owns (bare component names) and search run in this process on the last run's "+
		"data, one call at a time: %d timed calls each after %d untimed.\n", cfg.runs, cfg.calls, warmup)
}
