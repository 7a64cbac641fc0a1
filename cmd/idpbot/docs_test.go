package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/commands.md")

// TestCommandReference keeps docs/commands.md equal to what the commands
// say about themselves.
func TestCommandReference(t *testing.T) {
	var buf bytes.Buffer
	root := newRootCmd(&globals{stdout: &buf, stderr: &buf})
	// The data directory default depends on the environment; document the
	// built-in one.
	root.PersistentFlags().Lookup("data-dir").DefValue = "idpbot-data"
	buf.Reset()
	writeCommandReference(&buf, root)
	path := filepath.Join("..", "..", "docs", "commands.md")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(have, buf.Bytes()) {
		t.Errorf("docs/commands.md is out of date (go test ./cmd/idpbot -run TestCommandReference -args -update rewrites it)")
	}
}

// TestConfigReference checks that docs/config.md documents every key of
// the configuration file.
func TestConfigReference(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range yamlKeys(reflect.TypeOf(config{}), "") {
		if !strings.Contains(string(doc), "`"+key+"`") {
			t.Errorf("docs/config.md does not document %s", key)
		}
	}
}

// yamlKeys lists the dotted YAML keys of a struct type.
func yamlKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		key := tag
		if prefix != "" {
			key = prefix + "." + tag
		}
		ft := f.Type
		if ft.Kind() == reflect.Struct && ft.String() != "time.Time" {
			out = append(out, yamlKeys(ft, key)...)
			continue
		}
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			out = append(out, yamlKeys(ft.Elem(), key+"[]")...)
			continue
		}
		out = append(out, key)
	}
	return out
}
