package catalog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestBackstageValidationVectors checks every case of Backstage's own
// validator and ref-parsing tests (testdata/backstage/README.md).
func TestBackstageValidationVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "backstage", "backstage-validation-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vectors map[string][]struct {
		Input            string  `json:"input"`
		Valid            bool    `json:"valid"`
		DefaultKind      *string `json:"defaultKind"`
		DefaultNamespace *string `json:"defaultNamespace"`
		Expect           *Ref    `json:"expect"`
		Error            bool    `json:"error"`
	}
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	validators := map[string]func(string) bool{
		"entityName":      IsValidObjectName,
		"namespace":       IsValidNamespace,
		"kind":            IsValidKind,
		"apiVersion":      IsValidAPIVersion,
		"labelKey":        IsValidLabelKey,
		"labelValue":      IsValidLabelValue,
		"annotationKey":   IsValidAnnotationKey,
		"annotationValue": IsValidAnnotationValue,
		"tag":             IsValidTag,
	}
	total := 0
	for key, cases := range vectors {
		if key == "entityRef" {
			for _, c := range cases {
				total++
				d := RefDefaults{}
				if c.DefaultKind != nil {
					d.Kind = *c.DefaultKind
				}
				if c.DefaultNamespace != nil {
					d.Namespace = *c.DefaultNamespace
				}
				got, err := ParseRef(c.Input, d)
				if c.Error {
					if err == nil {
						t.Errorf("ParseRef(%q, %+v) = %+v, want an error", c.Input, d, got)
					}
					continue
				}
				if err != nil || got != *c.Expect {
					t.Errorf("ParseRef(%q, %+v) = %+v, %v; want %+v", c.Input, d, got, err, *c.Expect)
				}
			}
			continue
		}
		valid, ok := validators[key]
		if !ok {
			t.Errorf("no validator for vector group %q", key)
			continue
		}
		for _, c := range cases {
			total++
			if got := valid(c.Input); got != c.Valid {
				t.Errorf("%s(%.40q) = %v, want %v", key, c.Input, got, c.Valid)
			}
		}
	}
	if total < 140 { // the file holds 143 cases
		t.Fatalf("checked only %d vectors; the file holds more", total)
	}
}

// The apiVersions IsValidAPIVersion accepts without the general check pass it.
func TestBackstageAPIVersionsAreValid(t *testing.T) {
	for _, v := range backstageV1 {
		if !isValidAPIVersion(v) {
			t.Errorf("%s fails the general apiVersion rule", v)
		}
	}
	if isValidAPIVersion("backstage.io/v1 alpha") || IsValidAPIVersion("backstage.io/") {
		t.Error("the general rule accepts an invalid apiVersion")
	}
}
