package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestCrashChild is the process TestIngestSurvivesSIGKILL kills: it ingests
// and sends itself SIGKILL at the given step of the ingest.
func TestCrashChild(t *testing.T) {
	if os.Getenv("IDPBOT_CRASH_DIR") == "" {
		t.Skip("run as a child process by TestIngestSurvivesSIGKILL")
	}
	step, nth := os.Getenv("IDPBOT_CRASH_STEP"), 1
	if v := os.Getenv("IDPBOT_CRASH_NTH"); v != "" {
		nth, _ = strconv.Atoi(v)
	}
	var opts Options
	if v := os.Getenv("IDPBOT_CRASH_MEMTABLE"); v != "" {
		opts.memTableSize, _ = strconv.ParseInt(v, 10, 64)
	}
	s, err := Open(context.Background(), os.Getenv("IDPBOT_CRASH_DIR"), opts)
	if err != nil {
		t.Fatal(err)
	}
	s.batchSize = 50
	var seen atomic.Int32
	s.crash = func(name string) { // called from the ingest and the indexer goroutines
		if name == step {
			if seen.Add(1) == int32(nth) {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal arrives; nothing more runs
			}
		}
	}
	_, err = s.Ingest(context.Background(), "fixture", []string{os.Getenv("IDPBOT_CRASH_ROOT")})
	t.Fatalf("ingest finished without reaching step %s #%d (err %v)", step, nth, err)
}

// TestIngestSurvivesSIGKILL kills an ingest process at every step — while
// staging (after some batches are in the journal file, after their bodies
// are staged, and after some are in the index), right before
// and right after the commit point, after the store is updated, after the
// index is — and checks that the next Open finds exactly the old catalog (if
// the commit point was not reached) or exactly the new one, with the index
// agreeing with the store, and that ingesting again works.
func TestIngestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := context.Background()
	const n = 300
	v1Dir, v2Dir := t.TempDir(), t.TempDir()
	root1 := versionedCatalog(t, v1Dir, n, 1)
	root2 := versionedCatalog(t, v2Dir, n, 2)
	// The same files at one path, as a real re-ingest sees them.
	want := func(root string) string { return ingestedDump(t, root) }
	cases := []struct {
		step     string
		nth      int
		newWins  bool
		memtable int64 // small: the ingest ends with level-0 tables to compact
	}{
		{"journal-written", 1, false, 0}, // entries in the journal file, bodies not staged yet
		{"journal-written", 3, false, 0},
		{"flushed", 1, false, 0},
		{"flushed", 3, false, 0},
		{"batch-indexed", 2, false, 0},
		{"staged", 1, false, 0},
		{"committed", 1, true, 0},
		{"applied", 1, true, 0},
		{"indexed", 1, true, 0},
		{"compacting", 1, true, 64 << 10},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s#%d", c.step, c.nth), func(t *testing.T) {
			srcDir := t.TempDir()
			dataDir := t.TempDir()
			root := filepath.Join(srcDir, "catalog-info.yaml")
			copyFile(t, root1, root)
			wantOld := want(root)
			s, err := Open(ctx, dataDir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Ingest(ctx, "fixture", []string{root}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			copyFile(t, root2, root)
			wantNew := want(root)

			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "IDPBOT_CRASH_DIR="+dataDir, "IDPBOT_CRASH_ROOT="+root,
				"IDPBOT_CRASH_STEP="+c.step, "IDPBOT_CRASH_NTH="+strconv.Itoa(c.nth),
				"IDPBOT_CRASH_MEMTABLE="+strconv.FormatInt(c.memtable, 10))
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed by SIGKILL: %v\n%s", err, out)
			}

			s, err = Open(ctx, dataDir, Options{})
			if err != nil {
				t.Fatalf("open after crash: %v", err)
			}
			if n := level0Tables(s); c.memtable > 0 && n < compactL0Tables {
				t.Errorf("killed before compacting, the store has %d level-0 tables; want at least %d", n, compactL0Tables)
			}
			got, _ := dump(t, s)
			wantState, name := wantOld, "old"
			if c.newWins {
				wantState, name = wantNew, "new"
			}
			if got != wantState {
				t.Errorf("after a crash at %s the catalog is neither exactly the %s one:\n%s", c.step, name, firstDiff(got, wantState))
			}
			zebras, err := s.Search(ctx, SearchRequest{Text: "zebra", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			wantZebras := 0
			if c.newWins {
				wantZebras = len(strings.Split(wantNew, "zebra")) - 1
			}
			if int(zebras.Total) != wantZebras {
				t.Errorf("search for a word of the new descriptions finds %d, want %d", zebras.Total, wantZebras)
			}
			// The catalog keeps working: ingest the new files again.
			if _, err := s.Ingest(ctx, "fixture", []string{root}); err != nil {
				t.Fatal(err)
			}
			if got, _ := dump(t, s); got != wantNew {
				t.Errorf("re-ingest after recovery:\n%s", firstDiff(got, wantNew))
			}
			s.Close()
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// firstDiff shows the first differing line of two dumps.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d (of %d got, %d want):\n got: %.300s\nwant: %.300s", i, len(g), len(w), a, b)
		}
	}
	return "equal"
}
