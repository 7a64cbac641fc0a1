package catalog

import (
	"os"
	"testing"
)

var (
	packageTempDirs []string
	atExit          []func()
)

// AtTestExit registers f to run when the test binary ends, before the
// temporary directories go (external tests close their stores with it).
func AtTestExit(f func()) { atExit = append(atExit, f) }

// tempDirForPackage makes a directory that lives for the whole test binary
// (shared fixtures), removed by TestMain.
func tempDirForPackage() (string, error) {
	d, err := os.MkdirTemp("", "idpbot-catalog-test-")
	if err == nil {
		packageTempDirs = append(packageTempDirs, d)
	}
	return d, err
}

// SharedTempDir is tempDirForPackage for the external tests (package
// catalog_test), which share this test binary and its TestMain.
func SharedTempDir() (string, error) { return tempDirForPackage() }

func TestMain(m *testing.M) {
	code := m.Run()
	if exampleStore != nil {
		exampleStore.Close()
	}
	for _, f := range atExit {
		f()
	}
	for _, d := range packageTempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}
