package bot_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/catalog/catalogtest"
)

// BenchmarkRouterWhoOwns answers "who-owns <component>" through the router
// (parse, dispatch, ownership resolution, reply building) on a synthetic
// catalog of IDPBOT_BENCH_N entities (default 10000), one call at a time,
// and reports p50 and p99. Target at 100k entities: p99 ≤ 1 ms.
//
//	IDPBOT_BENCH_N=100000 go test -run '^$' -bench RouterWhoOwns ./bot/
func BenchmarkRouterWhoOwns(b *testing.B) {
	n := 10000
	if v := os.Getenv("IDPBOT_BENCH_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("IDPBOT_BENCH_N=%q: %v", v, err)
		}
	}
	dir := b.TempDir()
	gen, err := catalogtest.Generate(filepath.Join(dir, "yaml"), n, 1)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := catalog.Open(ctx, filepath.Join(dir, "data"), catalog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Ingest(ctx, "synthetic", []string{gen.Root}); err != nil {
		b.Fatal(err)
	}
	r := bottest.Router(b, s, bot.Config{})
	rnd := rand.New(rand.NewPCG(1, 2))
	ask := func() time.Duration {
		req := &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U1"}, Text: "who-owns " + gen.Components[rnd.IntN(len(gen.Components))]}
		start := time.Now()
		rep := r.Handle(ctx, req)
		d := time.Since(start)
		if rep.IsError {
			b.Fatalf("%s: error reply %q", req.Text, rep.Text)
		}
		return d
	}
	for range 1000 { // warm caches
		ask()
	}
	var lat []time.Duration
	for b.Loop() {
		lat = append(lat, ask())
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
