// Package bottest holds fixtures for tests of the bot and its front doors:
// the example catalog in a real Badger directory and a router over it.
package bottest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/catalog"
)

// TestKey is a fixed button signing key, so that rendered buttons are
// deterministic in golden files.
var TestKey = []byte("idpbot-test-key-0123456789abcdef-not-secret")

// RepoRoot finds the module root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// ExampleCatalog ingests deploy/examples/catalog into a store in a temporary
// directory, closed when the test ends.
func ExampleCatalog(t testing.TB) *catalog.Store {
	t.Helper()
	ctx := context.Background()
	s, err := catalog.Open(ctx, t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	path := filepath.Join(RepoRoot(t), "deploy", "examples", "catalog", "all.yaml")
	rep, err := s.Ingest(ctx, "file:examples", []string{path})
	if err != nil {
		t.Fatalf("ingest example catalog: %v", err)
	}
	if rep.Problems.Errors() > 0 {
		t.Fatalf("example catalog has errors: %v", rep.Problems)
	}
	return s
}

// Router returns a router over cat with the fixed test key; cfg's other
// fields are kept.
func Router(t testing.TB, cat bot.Catalog, cfg bot.Config) *bot.Router {
	t.Helper()
	signer, err := bot.NewSigner(TestKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Catalog, cfg.Signer = cat, signer
	r, err := bot.NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
