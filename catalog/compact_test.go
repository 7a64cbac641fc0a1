package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// level0Tables is the number of tables in the store's level 0.
func level0Tables(s *Store) int { return s.db.Levels()[0].NumTables }

// An ingest that flushed several level-0 tables ends by compacting them
// into the tree (Badger compacts nothing by itself), and says so in the log;
// every entity reads back afterwards.
func TestIngestCompactsLevel0(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	s, err := Open(ctx, t.TempDir(), Options{Logger: log, memTableSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	path := versionedCatalog(t, t.TempDir(), 3000, 1)
	rep, err := s.Ingest(ctx, "fixture", []string{path})
	if err != nil {
		t.Fatal(err)
	}
	var compacted struct {
		Tables int `json:"level0_tables"`
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"store compacted"`) {
			if err := json.Unmarshal([]byte(line), &compacted); err != nil {
				t.Fatal(err)
			}
		}
	}
	if compacted.Tables < compactL0Tables {
		t.Fatalf("no compaction logged after an ingest of %d entities with small memtables:\n%s", rep.Entities, logs.String())
	}
	if n := level0Tables(s); n != 0 {
		t.Errorf("level 0 holds %d tables after the ingest, want 0", n)
	}
	if s.Count() != rep.Entities || rep.Entities != 3004 {
		t.Errorf("count %d, report %d, want 3004", s.Count(), rep.Entities)
	}
	for _, i := range []int{0, 1234, 2999} {
		e, err := s.Get(ctx, fmt.Sprintf("component:default/svc-%04d", i))
		if err != nil {
			t.Fatalf("svc-%04d after compaction: %v", i, err)
		}
		if want := fmt.Sprintf("team-%c", 'a'+rune(i%4)); e.SpecString("owner") != want {
			t.Errorf("svc-%04d owner %q, want %q", i, e.SpecString("owner"), want)
		}
	}
	// A re-ingest that changes nothing writes no tables and compacts nothing.
	logs.Reset()
	if _, err := s.Ingest(ctx, "fixture", []string{path}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "store compacted") {
		t.Errorf("an unchanged re-ingest compacted the store:\n%s", logs.String())
	}
}

// State written between ingests (runs, audit, history) is compacted by
// CollectGarbage, which serve runs every hour.
func TestCollectGarbageCompactsLevel0(t *testing.T) {
	ctx := context.Background()
	s, st := openTestState(t, Options{memTableSize: 256 << 10}, "audit")
	// About 2 MB of state in 256 KiB memtables: Badger blocks a write
	// while both memtables are full, so by the end most have been flushed.
	value := strings.Repeat("x", 1000)
	for i := range 2000 {
		if err := st.Update(ctx, func(tx *StateTx) error { return tx.Put(fmt.Sprintf("e%05d", i), value) }); err != nil {
			t.Fatal(err)
		}
	}
	if n := level0Tables(s); n < compactL0Tables {
		t.Fatalf("level 0 holds %d tables after 2 MB of writes, want at least %d", n, compactL0Tables)
	}
	// The compaction lowers GOGC while it runs and puts it back after.
	prev := debug.SetGCPercent(150)
	defer debug.SetGCPercent(prev)
	if _, err := s.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	if n := level0Tables(s); n != 0 {
		t.Errorf("level 0 holds %d tables after CollectGarbage, want 0", n)
	}
	if got := debug.SetGCPercent(prev); got != 150 {
		t.Errorf("GOGC %d after the compaction, want 150 as before it", got)
	}
	var got string
	if err := st.View(ctx, func(tx *StateTx) error {
		_, err := tx.Get("e01999", &got)
		return err
	}); err != nil || got != value {
		t.Errorf("state after compaction: %q, %v", got, err)
	}
}

// Stores written before tables were compressed open and read as before, and
// their tables are rewritten compressed by the next compaction.
func TestUncompressedStoreStillReads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v1 := versionedCatalog(t, t.TempDir(), 200, 1)
	v2 := versionedCatalog(t, t.TempDir(), 200, 2)
	old, err := Open(ctx, dir, Options{uncompressed: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Ingest(ctx, "fixture", []string{v1}); err != nil {
		t.Fatal(err)
	}
	before, _ := dump(t, old)
	if err := old.Close(); err != nil { // flushes the memtables to level 0
		t.Fatal(err)
	}
	compressed := func(s *Store) (yes, no int) {
		for _, ti := range s.db.Tables() {
			if ti.OnDiskSize < ti.UncompressedSize*9/10 {
				yes++
			} else {
				no++
			}
		}
		return yes, no
	}
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := dump(t, s); after != before {
		t.Errorf("catalog read differently with compression on:\n%s\nwant\n%s", after, before)
	}
	if yes, no := compressed(s); yes != 0 || no == 0 {
		t.Fatalf("the old store has %d compressed and %d uncompressed tables, want only uncompressed", yes, no)
	}
	if _, err := s.Ingest(ctx, "fixture", []string{v2}); err != nil {
		t.Fatal(err)
	}
	want, _ := dump(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := compactLevel0(s.db, 1); err != nil || n < 2 {
		t.Fatalf("compaction of the old and the new level-0 tables: %d tables, %v", n, err)
	}
	if yes, no := compressed(s); yes == 0 || no != 0 {
		t.Errorf("after the compaction: %d compressed and %d uncompressed tables, want only compressed", yes, no)
	}
	if after, _ := dump(t, s); after != want {
		t.Errorf("catalog changed by the compaction")
	}
}

// Whatever writes, level 0 never reaches Badger's write stall (which, with
// no compactor, would last for good): the guard compacts it when it is full.
func TestGuardCompactsAFullLevel0(t *testing.T) {
	ctx := context.Background()
	s, st := openTestState(t, Options{memTableSize: 256 << 10, guardInterval: time.Hour}, "history")
	value := strings.Repeat("y", 4000)
	for i := 0; level0Tables(s) < maxL0Tables; i++ {
		if i == 10000 {
			t.Fatalf("level 0 holds %d tables after 40 MB of writes", level0Tables(s))
		}
		if err := st.Update(ctx, func(tx *StateTx) error { return tx.Put(fmt.Sprintf("h%05d", i), value) }); err != nil {
			t.Fatal(err)
		}
	}
	tick := make(chan time.Time)
	stop := guardL0(s.db, tick, slog.New(slog.DiscardHandler))
	tick <- time.Now() // received: the guard is looking
	stop()             // and has finished
	if n := level0Tables(s); n >= compactL0Tables {
		t.Errorf("level 0 holds %d tables after the guard, want fewer than %d", n, compactL0Tables)
	}
	var got string
	if err := st.View(ctx, func(tx *StateTx) error { _, err := tx.Get("h00000", &got); return err }); err != nil || got != value {
		t.Errorf("state after the guard's compaction: %d bytes, %v", len(got), err)
	}
}

// Journal scans resume after the last key of each chunk: with chunks of
// seven keys, an ingest and a re-ingest that updates, adds and removes
// leave the same catalog as with the default chunks, and no journal (the
// ingest drops the entries it wrote without reading them back).
func TestScansAcrossChunks(t *testing.T) {
	ctx := context.Background()
	v1 := versionedCatalog(t, t.TempDir(), 60, 1)
	v2 := versionedCatalog(t, t.TempDir(), 60, 2)
	run := func(chunk int) string {
		defer func(c int) { scanChunk = c }(scanChunk)
		scanChunk = chunk
		s, err := Open(ctx, t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, path := range []string{v1, v2} {
			if _, err := s.Ingest(ctx, "fixture", []string{path}); err != nil {
				t.Fatal(err)
			}
		}
		journal := 0
		if err := s.scan(pfxJournal, func(*badger.Txn, *badger.Item) error { journal++; return nil }); err != nil {
			t.Fatal(err)
		}
		if journal != 0 {
			t.Errorf("chunks of %d: %d journal keys left", chunk, journal)
		}
		entities, _ := dump(t, s)
		return entities
	}
	if small, whole := run(7), run(4096); small != whole {
		t.Errorf("chunks of 7 gave a different catalog:\n%s\nwant\n%s", small, whole)
	}
}

// A compaction puts back the GOGC it found, and leaves a lower one or a
// disabled collector as they are.
func TestCompactionKeepsTheOperatorsGOGC(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, gogc := range []int{150, 10, -1} {
		prev := debug.SetGCPercent(gogc)
		_, err := compactLevel0(s.db, 0)
		if got := debug.SetGCPercent(prev); got != gogc || err != nil {
			t.Errorf("GOGC %d before a compaction, %d after (%v)", gogc, got, err)
		}
	}
}
