package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

type journalTestEntry struct {
	op    byte
	ref   string
	value string
}

// readJournal returns the entries journalEntries hands over, and whether
// they ended in a torn one.
func readJournal(t *testing.T, s *Store, id string, complete bool) ([]journalTestEntry, bool, error) {
	t.Helper()
	var got []journalTestEntry
	torn, err := s.journalEntries(id, complete, func(_ *badger.Txn, op byte, ref string, value []byte) error {
		got = append(got, journalTestEntry{op, ref, string(value)})
		return nil
	})
	return got, torn, err
}

func TestJournalFileEntriesAndTornEnds(t *testing.T) {
	s := openTestStore(t)
	want := []journalTestEntry{
		{'p', "component:default/a", "pointer of a"},
		{'d', "component:default/b", ""},
		{'p', "component:default/c", strings.Repeat("x", 300)}, // lengths past one varint byte
	}
	var b []byte
	for _, e := range want {
		b = appendJournalEntry(b, e.op, e.ref, []byte(e.value))
	}
	entries := len(b)
	write := func(id string, end bool, mangle func(file []byte) []byte) {
		t.Helper()
		if err := s.putJournal(journal{ID: id, State: stateStaging, Entries: entriesInFile}); err != nil {
			t.Fatal(err)
		}
		f, err := s.createJournalFile(id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
		if end {
			err = endJournalFile(f)
		} else {
			err = f.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		if mangle != nil {
			data, err := os.ReadFile(s.journalPath(id))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.journalPath(id), mangle(data), 0o640); err != nil {
				t.Fatal(err)
			}
		}
	}
	header := len(journalFileMagic + "id\n")
	for _, c := range []struct {
		name       string
		end        bool
		mangle     func([]byte) []byte
		whole      int    // entries read while staging
		torn       bool   // and whether they ended in a torn one
		completeIs string // "" or what the error of a complete read says
	}{
		{"ended", true, nil, 3, false, ""},
		{"staging, not ended", false, nil, 3, false, "ends before its end entry"},
		{"torn in the last entry", false, func(d []byte) []byte { return d[:header+entries-5] }, 2, true, "torn entry"},
		{"torn in a length", true, func(d []byte) []byte { return append(d[:header+entries], 0x80) }, 3, true, "torn entry"},
		{"a bit flipped in the first entry", true, func(d []byte) []byte { d[header+4] ^= 1; return d }, 0, true, "torn entry"},
		{"zeros after the entries", false, func(d []byte) []byte { return append(d, make([]byte, 4096)...) }, 3, true, "torn entry"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := "id"
			write(id, c.end, c.mangle)
			defer os.Remove(s.journalPath(id))
			got, torn, err := readJournal(t, s, id, false)
			if err != nil || len(got) != c.whole || torn != c.torn || (c.whole > 0 && got[0] != want[0]) {
				t.Errorf("staging read: %v, torn %v, %v; want the first %d entries, torn %v", got, torn, err, c.whole, c.torn)
			}
			if c.whole == 3 && !equalEntries(got, want) {
				t.Errorf("entries %v, want %v", got, want)
			}
			got, _, err = readJournal(t, s, id, true)
			switch {
			case c.completeIs == "" && (err != nil || !equalEntries(got, want)):
				t.Errorf("complete read: %v, %v", got, err)
			case c.completeIs != "" && (err == nil || !strings.Contains(err.Error(), c.completeIs) || !strings.Contains(err.Error(), "damaged")):
				t.Errorf("complete read of a %s file: err %v, want one saying %q and damaged", c.name, err, c.completeIs)
			}
		})
	}

	// A file of another journal is refused, not read.
	write("other", true, nil)
	if err := os.Rename(s.journalPath("other"), s.journalPath("mine")); err != nil {
		t.Fatal(err)
	}
	if err := s.putJournal(journal{ID: "mine", State: stateStaging, Entries: entriesInFile}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readJournal(t, s, "mine", false); err == nil || !strings.Contains(err.Error(), "is not the journal file of ingest mine") {
		t.Errorf("read of another journal's file: %v", err)
	}
}

func equalEntries(a, b []journalTestEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestIngestLeavesNoJournal: a finished ingest leaves neither a journal file
// nor journal keys; a journal file without a header (a crash between the
// two removals) is removed at the next Open.
func TestIngestLeavesNoJournal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	root := versionedCatalog(t, t.TempDir(), 40, 1)
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, "fixture", []string{root}); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.journalFiles(); err != nil || len(ids) != 0 {
		t.Errorf("journal files after an ingest: %v, %v", ids, err)
	}
	keys := 0
	if err := s.scan(pfxJournal, func(*badger.Txn, *badger.Item) error { keys++; return nil }); err != nil || keys != 0 {
		t.Errorf("journal keys after an ingest: %d, %v", keys, err)
	}
	f, err := s.createJournalFile("0000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if err := endJournalFile(f); err != nil {
		t.Fatal(err)
	}
	before, _ := dump(t, s)
	s.Close()

	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, "journal", "0000000000000001.journal")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal file without a header after Open: %v", err)
	}
	if after, _ := dump(t, s); after != before {
		t.Errorf("the catalog changed:\n%s", firstDiff(after, before))
	}
}

// TestCommittedJournalOfAnEarlierVersionIsFinished: an ingest cut off after
// its commit by a version that kept the journal's entries in the store is
// finished from them.
func TestCommittedJournalOfAnEarlierVersionIsFinished(t *testing.T) {
	ctx := context.Background()
	s, dir, root := ingestedFixture(t, 60)
	copyFile(t, versionedCatalog(t, t.TempDir(), 60, 2), root)
	want := ingestedDump(t, root)

	// Stop the ingest of version 2 at its commit point, and move its
	// journal's entries into the store, where earlier versions kept them
	// (their headers did not say where the entries are).
	id := stopIngestAt(t, s, root, "committed")
	wb := s.db.NewWriteBatch()
	n := 0
	_, err := s.journalEntries(id, true, func(_ *badger.Txn, op byte, ref string, value []byte) error {
		n++
		return wb.Set(cat(string(pfxJournal), id, "\x00", string(op), "\x00", ref), bytes.Clone(value))
	})
	if err == nil {
		err = wb.Flush()
	}
	if err != nil || n == 0 {
		t.Fatalf("move %d entries: %v", n, err)
	}
	if err := os.Remove(s.journalPath(id)); err != nil {
		t.Fatal(err)
	}
	if err := s.putJournal(journal{ID: id, Source: "fixture", State: stateCommitted}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := dump(t, s); got != want {
		t.Errorf("after finishing the earlier version's journal the catalog is not version 2:\n%s", firstDiff(got, want))
	}
	keys := 0
	if err := s.scan(pfxJournal, func(*badger.Txn, *badger.Item) error { keys++; return nil }); err != nil || keys != 0 {
		t.Errorf("journal keys after finishing: %d, %v", keys, err)
	}
}

// TestBackupWaitsForAnIngest starts a backup at an ingest's commit point:
// it writes only while no ingest can run, and, restored, holds the
// ingest's catalog whole.
func TestBackupWaitsForAnIngest(t *testing.T) {
	ctx := context.Background()
	srcDir := t.TempDir()
	root := filepath.Join(srcDir, "catalog-info.yaml")
	copyFile(t, versionedCatalog(t, t.TempDir(), 300, 1), root)
	s := openTestStore(t)
	if _, err := s.Ingest(ctx, "fixture", []string{root}); err != nil {
		t.Fatal(err)
	}
	copyFile(t, versionedCatalog(t, t.TempDir(), 300, 2), root)

	var backup bytes.Buffer
	w := &lockCheckingWriter{t: t, s: s, w: &backup}
	done := make(chan error, 1)
	s.crash = func(step string) {
		if step == "committed" {
			go func() {
				_, err := s.Backup(ctx, w)
				done <- err
			}()
		}
	}
	if _, err := s.Ingest(ctx, "fixture", []string{root}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want, _ := dump(t, s)
	if got := restoredDump(t, &backup); got != want {
		t.Errorf("the backup started at the commit does not hold the ingest's catalog:\n%s", firstDiff(got, want))
	}
}

// lockCheckingWriter fails the test when written to while an ingest could
// start (the store's ingest lock is free).
type lockCheckingWriter struct {
	t *testing.T
	s *Store
	w io.Writer
}

func (l *lockCheckingWriter) Write(p []byte) (int, error) {
	if l.s.ingestMu.TryLock() {
		l.s.ingestMu.Unlock()
		l.t.Error("the backup writes while ingests can run")
	}
	return l.w.Write(p)
}

// ingestedDump is the dump of a new store that ingested root.
func ingestedDump(t *testing.T, root string) string {
	t.Helper()
	s := openTestStore(t)
	if _, err := s.Ingest(context.Background(), "fixture", []string{root}); err != nil {
		t.Fatal(err)
	}
	d, _ := dump(t, s)
	return d
}

// restoredDump restores backup into a new data directory and dumps it.
func restoredDump(t *testing.T, backup io.Reader) string {
	t.Helper()
	dir := t.TempDir()
	if err := Restore(context.Background(), dir, backup); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, _ := dump(t, s)
	return d
}

// ingestedFixture opens a store in a new data directory and ingests into it
// version 1 of the versioned catalog of n components, from root.
func ingestedFixture(t *testing.T, n int) (s *Store, dir, root string) {
	t.Helper()
	dir, root = t.TempDir(), filepath.Join(t.TempDir(), "catalog-info.yaml")
	copyFile(t, versionedCatalog(t, t.TempDir(), n, 1), root)
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(context.Background(), "fixture", []string{root}); err != nil {
		t.Fatal(err)
	}
	return s, dir, root
}

// stopIngestAt runs an ingest of root into s that stops (panics) at step,
// which must run on the ingest's own goroutine, and returns its journal id.
func stopIngestAt(t *testing.T, s *Store, root, step string) string {
	t.Helper()
	stop := errors.New("stop")
	s.crash = func(name string) {
		if name == step {
			panic(stop)
		}
	}
	defer func() { s.crash = nil }()
	func() {
		defer func() {
			if r := recover(); r != stop {
				t.Fatalf("ingest did not stop at %s: %v", step, r)
			}
		}()
		s.Ingest(context.Background(), "fixture", []string{root})
	}()
	ids, err := s.journalFiles()
	if err != nil || len(ids) != 1 {
		t.Fatalf("journal files at %s: %v, %v", step, ids, err)
	}
	return ids[0]
}

// TestDamagedJournalFiles: an interrupted ingest whose journal file cannot
// be read is undone with the search index rebuilt when it was not
// committed, and stops Open with what to do when it was.
func TestDamagedJournalFiles(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		step, damage string
		wantErr      []string
	}{
		{"staged", "header", nil},
		{"staged", "missing", nil},
		{"staged", "torn", nil}, // cut inside an entry in the middle: later entries' documents are indexed
		{"committed", "end", []string{"torn entry", "damaged", "restore a backup"}},
		{"committed", "missing", []string{"is missing", "must not be deleted", "restore a backup"}},
	} {
		t.Run(c.step+"/"+c.damage, func(t *testing.T) {
			s, dir, root := ingestedFixture(t, 300)
			old, _ := dump(t, s)
			// The same entities with new descriptions: an index left with
			// the staged documents counts as many as the store holds.
			v1, err := os.ReadFile(root)
			if err != nil {
				t.Fatal(err)
			}
			writeFiles(t, filepath.Dir(root), map[string]string{"catalog-info.yaml": strings.ReplaceAll(string(v1), "of the fixture", "of the zebra fixture")})
			id := stopIngestAt(t, s, root, c.step)
			s.Close()

			path := filepath.Join(dir, "journal", id+journalFileExt)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			switch c.damage {
			case "header":
				data[0] = 'X'
			case "end":
				data = data[:len(data)-3]
			case "torn":
				data = data[:len(data)*3/5]
			}
			if err := os.WriteFile(path, data, 0o640); err != nil {
				t.Fatal(err)
			}
			if c.damage == "missing" {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			}

			s, err = Open(ctx, dir, Options{})
			if c.wantErr != nil {
				for _, w := range c.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("Open with a damaged committed journal: %v; want an error saying %q", err, w)
					}
				}
				if err == nil {
					s.Close()
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got, _ := dump(t, s); got != old { // dump also checks the index against the store
				t.Errorf("after undoing the ingest the catalog is not the old one:\n%s", firstDiff(got, old))
			}
			res, err := s.Search(ctx, SearchRequest{Text: "zebra"})
			if err != nil || res.Total != 0 {
				t.Errorf("search zebra (only in the undone ingest): %v hits, %v", res.Total, err)
			}
			if ids, _ := s.journalFiles(); len(ids) != 0 {
				t.Errorf("journal files left: %v", ids)
			}
		})
	}
}

// TestUnfinishedIngestIsFinishedFirst: an ingest committed but not
// finished (its apply failed; its entries are in a file a backup does not
// hold) is finished before a backup, and before the next ingest, which
// the next start would otherwise undo by finishing the older one.
func TestUnfinishedIngestIsFinishedFirst(t *testing.T) {
	ctx := context.Background()
	t.Run("backup", func(t *testing.T) {
		s, _, root := ingestedFixture(t, 100)
		copyFile(t, versionedCatalog(t, t.TempDir(), 100, 2), root)
		v2 := ingestedDump(t, root)
		stopIngestAt(t, s, root, "committed")
		var b bytes.Buffer
		if _, err := s.Backup(ctx, &b); err != nil {
			t.Fatal(err)
		}
		if got := restoredDump(t, &b); got != v2 {
			t.Errorf("the restored backup is not the committed ingest's catalog:\n%s", firstDiff(got, v2))
		}
	})
	t.Run("ingest", func(t *testing.T) {
		s, dir, root := ingestedFixture(t, 100)
		copyFile(t, versionedCatalog(t, t.TempDir(), 100, 2), root)
		stopIngestAt(t, s, root, "committed")
		v1, err := os.ReadFile(versionedCatalog(t, t.TempDir(), 100, 1))
		if err != nil {
			t.Fatal(err)
		}
		writeFiles(t, filepath.Dir(root), map[string]string{"catalog-info.yaml": strings.ReplaceAll(string(v1), "of the fixture", "of the yak fixture")})
		v3 := ingestedDump(t, root)
		if _, err := s.Ingest(ctx, "fixture", []string{root}); err != nil {
			t.Fatal(err)
		}
		if got, _ := dump(t, s); got != v3 {
			t.Errorf("after the next ingest:\n%s", firstDiff(got, v3))
		}
		s.Close()
		s, err = Open(ctx, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got, _ := dump(t, s); got != v3 {
			t.Errorf("after a restart the catalog is not the last ingest's:\n%s", firstDiff(got, v3))
		}
	})
}

// TestBackupGivesUpWhenItsContextEnds: a backup waiting for an ingest
// returns when its request goes away.
func TestBackupGivesUpWhenItsContextEnds(t *testing.T) {
	s := openTestStore(t)
	s.ingestMu.Lock() // an ingest runs
	defer s.ingestMu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Backup(ctx, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("backup with its context ended while an ingest runs: %v", err)
	}
}

// TestFailedIngestLeavesNoBodies cancels an ingest before its first batch
// is written: the bodies staged so far (more than a Badger write batch
// holds) are not in the store, before or after the next Open.
func TestFailedIngestLeavesNoBodies(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := t.TempDir()
	desc := strings.Repeat("lorem ipsum dolor sit amet ", 150) // 4 KB a body
	for f := range 20 {
		var b strings.Builder
		for i := range 100 {
			fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-%02d-%03d\n  description: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n", f, i, desc)
		}
		writeFiles(t, src, map[string]string{fmt.Sprintf("f%02d.yaml", f): b.String()})
	}
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var docs atomic.Int64
	_, err = s.Ingest(ctx, "fixture", []string{src}, WithLocation(func(p string) string {
		if docs.Add(1) == indexBatchSize-100 { // before the first batch is full
			cancel()
		}
		return "file:" + p
	}))
	if err == nil {
		t.Fatal("the cancelled ingest succeeded")
	}
	bodies := func() (n int) {
		if err := s.scan(pfxBody, func(*badger.Txn, *badger.Item) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := bodies(); n != 0 {
		t.Errorf("after the cancelled ingest: %d bodies in the store, no entities", n)
	}
	s.Close()
	if s, err = Open(context.Background(), dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := bodies(); n != 0 {
		t.Errorf("after reopening: %d bodies in the store, no entities", n)
	}
}
