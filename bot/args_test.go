package bot

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
		err  string
	}{
		{name: "words", in: "who-owns  payments-api ", want: []string{"who-owns", "payments-api"}},
		{name: "double quotes", in: `search "card tokens" x`, want: []string{"search", "card tokens", "x"}},
		{name: "single quotes keep backslash", in: `a 'b\c d'`, want: []string{"a", `b\c d`}},
		{name: "escape in double quotes", in: `"say \"hi\""`, want: []string{`say "hi"`}},
		{name: "escaped space", in: `a\ b c`, want: []string{"a b", "c"}},
		{name: "curly quotes", in: "search “card tokens” ‘x y’", want: []string{"search", "card tokens", "x y"}},
		{name: "empty quotes are a word", in: `a "" b`, want: []string{"a", "", "b"}},
		{name: "adjacent quoted parts join", in: `env="prod eu"`, want: []string{"env=prod eu"}},
		{name: "trailing backslash kept", in: `a\`, want: []string{`a\`}},
		{name: "unclosed", in: `search "card`, err: "quote at character 8 is not closed"},
		{name: "blank", in: "  \t ", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Split(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Split(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	a, err := ParseArgs(`run restart service=checkout ENV="prod eu" --public --limit=5 —kind=api -- --not-a-flag x=y`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"run", "restart", "--not-a-flag", "x=y"}; !reflect.DeepEqual(a.Words, want) {
		t.Errorf("words = %q, want %q", a.Words, want)
	}
	if want := map[string]string{"service": "checkout", "env": "prod eu"}; !reflect.DeepEqual(a.Params, want) {
		t.Errorf("params = %q, want %q", a.Params, want)
	}
	if want := map[string]string{"public": "", "limit": "5", "kind": "api"}; !reflect.DeepEqual(a.Flags, want) {
		t.Errorf("flags = %q, want %q", a.Flags, want)
	}
	if want := []string{"public", "limit", "kind"}; !reflect.DeepEqual(a.FlagOrder, want) {
		t.Errorf("flag order = %q, want %q", a.FlagOrder, want)
	}
	// A ref with '=' in no key position and a URL stay words.
	a, err = ParseArgs(`show component:default/a =b https://x.example/?q=1`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"show", "component:default/a", "=b", "https://x.example/?q=1"}; !reflect.DeepEqual(a.Words, want) {
		t.Errorf("words = %q, want %q", a.Words, want)
	}
	for _, bad := range []string{"--", "--1x", "--=v", "--a b"} {
		if bad == "--" || bad == "--a b" {
			continue // "--" ends flags; "--a b" is a flag and a word
		}
		if _, err := ParseArgs(bad); err == nil || !strings.Contains(err.Error(), "is not a flag") {
			t.Errorf("ParseArgs(%q) error = %v, want 'is not a flag'", bad, err)
		}
	}
	if _, err := ParseArgs(strings.Repeat("a", MaxCommandText+1)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized command: error = %v, want the limit", err)
	}
}

// quoteWord quotes w so that Split gives it back.
func quoteWord(w string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `"`
}

// FuzzSplit checks that Split never panics and that quoting its words and
// splitting again gives the same words.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"who-owns payments-api", `search "card tokens"`, `a 'b c' "d\"e"`, "“x y” ‘z’",
		`a\ b`, `"unclosed`, "--public --limit=3 k=v -- --x", "\\", "''", "\x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := Split(Quote(s)); err != nil || len(got) != 1 || got[0] != s {
			t.Fatalf("Split(Quote(%q)) = %q, %v", s, got, err)
		}
		words, err := Split(s)
		if err != nil {
			return
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = quoteWord(w)
		}
		again, err := Split(strings.Join(quoted, " "))
		if err != nil {
			t.Fatalf("re-split of %q: %v", quoted, err)
		}
		if len(words) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(words, again) {
			t.Fatalf("Split(%q) = %q; quoted and split again: %q", s, words, again)
		}
		if _, err := ParseArgs(s); err != nil && len(s) <= MaxCommandText && !strings.Contains(err.Error(), "is not a flag") {
			t.Fatalf("ParseArgs(%q) failed where Split did not: %v", s, err)
		}
	})
}

func TestBindValues(t *testing.T) {
	a, err := ParseArgs(`--team "Payments Team" --all x --limit 3 y --public`)
	if err != nil {
		t.Fatal(err)
	}
	a.BindValues(map[string]bool{"team": true, "limit": true})
	if want := []string{"x", "y"}; !reflect.DeepEqual(a.Words, want) {
		t.Errorf("words = %q, want %q", a.Words, want)
	}
	if want := map[string]string{"team": "Payments Team", "all": "", "limit": "3", "public": ""}; !reflect.DeepEqual(a.Flags, want) {
		t.Errorf("flags = %q, want %q", a.Flags, want)
	}
	// A flag that takes no value leaves the next word alone; "=" forms keep theirs.
	a, _ = ParseArgs(`--all x --team=a b`)
	a.BindValues(map[string]bool{"team": true})
	if !reflect.DeepEqual(a.Words, []string{"x", "b"}) || a.Flags["team"] != "a" {
		t.Errorf("words %q flags %q", a.Words, a.Flags)
	}
}
