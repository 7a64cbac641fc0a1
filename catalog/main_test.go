package catalog

import (
	"os"
	"testing"
)

var packageTempDirs []string

// tempDirForPackage makes a directory that lives for the whole test binary
// (shared fixtures), removed by TestMain.
func tempDirForPackage() (string, error) {
	d, err := os.MkdirTemp("", "idpbot-catalog-test-")
	if err == nil {
		packageTempDirs = append(packageTempDirs, d)
	}
	return d, err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if exampleStore != nil {
		exampleStore.Close()
	}
	for _, d := range packageTempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}
