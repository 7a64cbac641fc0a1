package catalog

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	src, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Ingest(ctx, "examples", []string{filepath.Join("..", "deploy", "examples", "catalog", "all.yaml")}); err != nil {
		t.Fatal(err)
	}
	st, _ := src.State("audit")
	if err := st.Update(ctx, func(tx *StateTx) error { return tx.Put("rec/1", map[string]string{"event": "requested"}) }); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := src.Backup(ctx, &buf) // while the store is open and in use
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup = %d, %v (buffer %d)", n, err, buf.Len())
	}
	backup := buf.Bytes()

	dir := t.TempDir()
	if err := Restore(ctx, dir, bytes.NewReader(backup)); err != nil {
		t.Fatal(err)
	}
	dst, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if dst.Count() != src.Count() {
		t.Errorf("restored %d entities, want %d", dst.Count(), src.Count())
	}
	o, err := dst.WhoOwns(ctx, "payments-api")
	if err != nil || o.Owner.Ref != "group:default/payments" {
		t.Errorf("who-owns after restore: %v, %v", o, err)
	}
	res, err := dst.Search(ctx, SearchRequest{Text: "ledger"})
	if err != nil || res.Total == 0 {
		t.Errorf("search after restore (index rebuilt): %v, %v", res, err)
	}
	var rec map[string]string
	st2, _ := dst.State("audit")
	if found, err := st2.Get(ctx, "rec/1", &rec); !found || err != nil || rec["event"] != "requested" {
		t.Errorf("state after restore: %v %v %v", rec, found, err)
	}

	// Into a directory that has a store: refused, nothing touched.
	if err := Restore(ctx, dir, bytes.NewReader(backup)); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("restore over a store: %v", err)
	}
	// A truncated backup: an error, and no half store left behind.
	bad := t.TempDir()
	if err := Restore(ctx, bad, bytes.NewReader(backup[:len(backup)/2])); err == nil {
		t.Error("a truncated backup was restored")
	}
	if _, err := os.Stat(filepath.Join(bad, "store")); !os.IsNotExist(err) {
		t.Errorf("a failed restore left a store behind (%v)", err)
	}
	// Not a backup at all, and a newer schema.
	if err := Restore(ctx, t.TempDir(), strings.NewReader("hello")); err == nil || !strings.Contains(err.Error(), "not an idpbot backup") {
		t.Errorf("restore of junk: %v", err)
	}
	var newer bytes.Buffer
	zw := gzip.NewWriter(&newer)
	zw.Write([]byte(backupMagic + "99\n"))
	zw.Close()
	if err := Restore(ctx, t.TempDir(), &newer); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("restore of a newer schema: %v", err)
	}
}

func TestCollectGarbage(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	path := filepath.Join("..", "deploy", "examples", "catalog", "all.yaml")
	for range 3 {
		if _, err := s.Ingest(ctx, "examples", []string{path}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Count() != 72 {
		t.Errorf("%d entities after GC, want 72", s.Count())
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.CollectGarbage(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("GC with a cancelled context: %v", err)
	}
}

func TestSharedFileHelpers(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	for _, f := range []string{"a.yaml", "sub/b.yml", "c.txt"} {
		os.WriteFile(filepath.Join(dir, f), []byte("x: 1\n"), 0o644)
	}
	got, err := ExpandPaths("things", []string{dir, filepath.Join(dir, "c.txt")})
	if err != nil || len(got) != 3 || !strings.HasSuffix(got[0], "a.yaml") || !strings.HasSuffix(got[2], "sub/b.yml") {
		t.Errorf("ExpandPaths = %v, %v", got, err)
	}
	if _, err := ExpandPaths("things", []string{filepath.Join(dir, "nope*")}); err == nil || !strings.Contains(err.Error(), "things:") {
		t.Errorf("ExpandPaths of nothing: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, make([]byte, MaxFileSize+1), 0o644)
	if _, err := ReadFile(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ReadFile of a big file: %v", err)
	}
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"ledger", "ledgr", 1}, {"paymnts", "payments", 1}, {"kitten", "sitting", 3}, {"ü", "u", 1}} {
		if d := EditDistance(c.a, c.b); d != c.d {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.a, c.b, d, c.d)
		}
	}
}

func TestIndexBytes(t *testing.T) {
	s := openTestStore(t)
	before := s.IndexBytes()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"c.yaml": component("checkout", "team-a", "takes orders")})
	if _, err := s.Ingest(context.Background(), "repo", []string{dir}); err != nil {
		t.Fatal(err)
	}
	if after := s.IndexBytes(); after <= 0 || after == before {
		t.Errorf("index bytes %d before, %d after an ingest", before, after)
	}
}
