package catalog

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNameIndexPrefixes(t *testing.T) {
	n := &nameIndex{byName: map[string][]string{}}
	for _, r := range []string{
		"component:default/payments-api", "api:default/payments-api", "component:default/payments",
		"component:default/payments-gateway-v2", "group:default/payments", "component:default/ledger",
	} {
		n.add(r)
	}
	refs, count := n.withPrefix("payments-", 10)
	if count != 2 || !slices.Equal(refs, []string{"api:default/payments-api", "component:default/payments-api", "component:default/payments-gateway-v2"}) {
		t.Errorf("withPrefix(payments-) = %v, %d", refs, count)
	}
	if refs, count := n.withPrefix("pay", 2); refs != nil || count != 3 {
		t.Errorf("withPrefix over the limit = %v, %d; want no refs and the count 3", refs, count)
	}
	if refs, count := n.withPrefix("zzz", 2); refs != nil || count != 0 {
		t.Errorf("withPrefix(zzz) = %v, %d", refs, count)
	}
	got := n.shortestWithPrefix("pay", 3)
	want := []string{"component:default/payments", "group:default/payments", "api:default/payments-api"}
	if !slices.Equal(got, want) {
		t.Errorf("shortestWithPrefix = %v, want %v", got, want)
	}
	// The sorted names follow ingests.
	n.remove("component:default/payments")
	n.remove("group:default/payments")
	n.add("component:default/pay")
	got = n.shortestWithPrefix("pay", 2)
	want = []string{"component:default/pay", "api:default/payments-api"}
	if !slices.Equal(got, want) {
		t.Errorf("after changes: shortestWithPrefix = %v, want %v", got, want)
	}
	if !n.has("component:default/pay") || n.has("group:default/payments") {
		t.Error("has disagrees with the adds and removes")
	}
	// The words of the names follow them too: "gateway" goes with its only
	// name, "payments" stays while payments-api is there.
	for w, want := range map[string]bool{"payments": true, "gateway": true, "v2": true, "api": true, "pay": true, "payment": false} {
		if n.isWord(w) != want {
			t.Errorf("isWord(%q) = %v, want %v", w, !want, want)
		}
	}
	n.remove("component:default/payments-gateway-v2")
	n.remove("component:default/payments-api") // api:default/payments-api still has the name
	if n.isWord("gateway") || !n.isWord("payments") || !n.isWord("api") {
		t.Errorf("after removals: gateway %v, payments %v, api %v; want false, true, true", n.isWord("gateway"), n.isWord("payments"), n.isWord("api"))
	}
}

// A typed word that is a word of some name is taken as spelled: it does not
// also match the names one letter away; a word no name has still does.
func TestSearchTypoToleranceOnlyForUnknownWords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var b strings.Builder
	for _, name := range []string{"router-alpha", "routes-beta", "ledger-gamma", "edge_broker", "brokr-delta"} {
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n", name)
	}
	writeFiles(t, dir, map[string]string{"catalog-info.yaml": b.String()})
	data := t.TempDir()
	s, err := Open(ctx, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if _, err := s.Ingest(ctx, "fixture", []string{filepath.Join(dir, "catalog-info.yaml")}); err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string][]string{
		"router":      {"component:default/router-alpha"}, // not routes-beta, one letter away
		"routr alpha": {"component:default/router-alpha"}, // one typo, no name has "routr"
		"ledgr":       {"component:default/ledger-gamma"},
		// The index keeps "edge_broker" whole, so "broker" is no name's word.
		"broker": {"component:default/brokr-delta"},
		// Taken as spelled, "router" finds nothing with "beta": one typo
		// allowed then.
		"router beta": {"component:default/routes-beta"},
	} {
		if got := searchRefs(t, s, text); !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", text, got, want)
		}
	}
	// Opened again, the names' words come from the store.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, data, Options{}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Search(ctx, SearchRequest{Text: "router"})
	if err != nil || len(res.Hits) != 1 || res.Hits[0].Ref != "component:default/router-alpha" {
		t.Errorf("search router after reopening: %+v, %v; want router-alpha alone", res, err)
	}
}

func TestPointerAndSourceEntryEncodings(t *testing.T) {
	self := "component:default/a"
	p := pointer{Hash: 0xfeedface12345678, Source: "file:/x", File: "/x/catalog-info.yaml", Line: 12,
		Edges: []Edge{
			{From: self, Type: RelOwnedBy, To: "group:default/team"},
			{From: "group:default/team", Type: RelOwnerOf, To: self},
			{From: self, Type: RelDependsOn, To: self}, // an entity may name itself
		},
		Warnings: []Problem{{Severity: SeverityWarning, File: "/x/catalog-info.yaml", Line: 3, Message: "m"}}}
	b, err := p.encode(self)
	if err != nil {
		t.Fatal(err)
	}
	var got pointer
	if err := decodePointer(self, b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Hash != p.Hash || got.Source != p.Source || got.File != p.File || got.Line != p.Line ||
		!slices.Equal(got.Edges, p.Edges) || len(got.Warnings) != 1 || got.Warnings[0] != p.Warnings[0] {
		t.Errorf("pointer round trip: got %+v, want %+v", got, p)
	}
	var from []string
	hash, err := pointerEdgesFrom(b, func(typ []byte) bool { return string(typ) != RelOwnerOf }, func(typ, to []byte) {
		from = append(from, string(typ)+" "+string(to))
	})
	if err != nil || hash != p.Hash || !slices.Equal(from, []string{RelOwnedBy + " group:default/team", RelDependsOn + " " + self}) {
		t.Errorf("pointerEdgesFrom = %x, %v, %v", hash, from, err)
	}
	if _, err := (&pointer{Edges: []Edge{{From: "x", To: "y"}}}).encode(self); err == nil {
		t.Error("an edge not touching the entity was encoded")
	}
	for i := 0; i < len(b); i++ {
		if err := decodePointer(self, b[:i], &got); err == nil && i < len(b)-1 {
			t.Errorf("a pointer cut to %d of %d bytes decodes", i, len(b))
		}
	}
	e := srcEntry{Hash: 42, File: "/x/catalog-info.yaml", Line: 7}
	if d, err := decodeSrcEntry(e.encode()); err != nil || d != e {
		t.Errorf("source entry round trip: %+v, %v", d, err)
	}
}

// TestSearchPrefersNamesStartingWithTheText checks the whole-name prefix
// boost both when few names start with the text (the name index names them)
// and when more than maxPrefixNames do (the names' leading words are
// searched): a name starting with the typed prefix ranks above one that only
// has a later word starting with it.
func TestSearchPrefersNamesStartingWithTheText(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(component("api-ledgerx", "team", "api ledgerx"))
	b.WriteString(component("ledgerx-api", "team", "ledgerx api"))
	// Same number of words, so that only the boost tells them apart; the
	// names with a later "books" come first in the file.
	for i := 0; i < maxPrefixNames+20; i++ {
		b.WriteString(component(fmt.Sprintf("api-books-%03d", i), "team", "a book"))
	}
	for i := 0; i < maxPrefixNames+20; i++ {
		b.WriteString(component(fmt.Sprintf("books-api-%03d", i), "team", "a book"))
	}
	writeFiles(t, dir, map[string]string{"catalog-info.yaml": b.String()})
	s, err := Open(ctx, filepath.Join(dir, "data"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Ingest(ctx, "test", []string{filepath.Join(dir, "catalog-info.yaml")}); err != nil {
		t.Fatal(err)
	}
	// One name starts with "ledg": the name index names it.
	res, err := s.Search(ctx, SearchRequest{Text: "ledg", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 2 || res.Hits[0].Ref != "component:default/ledgerx-api" {
		t.Errorf("search ledg: %d hits, first %v; want 2, ledgerx-api first", res.Total, res.Hits)
	}
	// More than maxPrefixNames start with "boo": their leading words are
	// searched, and all of them rank above the names with a later "books".
	res, err = s.Search(ctx, SearchRequest{Text: "boo", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 2*(maxPrefixNames+20) || len(res.Hits) != 10 {
		t.Errorf("search boo: %d hits (%d shown), want %d", res.Total, len(res.Hits), 2*(maxPrefixNames+20))
	}
	for _, h := range res.Hits {
		if !strings.HasPrefix(h.Ref, "component:default/books-api-") {
			t.Errorf("search boo: %s among the top hits, want names starting with boo first", h.Ref)
		}
	}
}

// The names' words are the name field's terms, on the fast path (letters
// and digits between hyphens) and off it.
func TestNameWordsMatchTheAnalyzer(t *testing.T) {
	for _, name := range []string{"payments-api", "profile-router-5132", "edge_broker", "a.b-c", "the-ledger-of-things", "v2-api-3x", "about-us", "x", "a--b", "Payments-API"} {
		var want []string
		for _, tk := range nameAnalyzer().Analyze([]byte(name)) {
			want = append(want, string(tk.Term))
		}
		if got := nameWords(name); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Errorf("nameWords(%q) = %q, the analyzer gives %q", name, got, want)
		}
	}
}

// Titles, display names and the names of untitled entities are found by
// other forms of their words (English stemming): "policies" finds
// policy-engine although "policy" and "policies" are no typo apart and
// "routers" is a word of another name.
func TestSearchFindsStemmedTitlesAndNames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: policy-engine
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: router
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: edge-routers
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing-core
  title: Invoicing Engine
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: asmith
spec:
  profile: {displayName: Alice Smith}
  memberOf: [team-a]
`})
	s, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Ingest(ctx, "fixture", []string{filepath.Join(dir, "catalog-info.yaml")}); err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string][]string{
		"policies":  {"component:default/policy-engine"},
		"routers":   {"component:default/edge-routers", "component:default/router"},
		"invoices":  {"component:default/billing-core"}, // the title, stemmed
		"engines":   {"component:default/billing-core", "component:default/policy-engine"},
		"smith":     {"user:default/asmith"}, // a profile's display name
		"billing":   {"component:default/billing-core"},
		"asmith":    {"user:default/asmith"},
		"policy en": {"component:default/policy-engine"},
	} {
		got := searchRefs(t, s, text)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", text, got, want)
		}
	}
}

// searchRefs returns the refs of the hits of a search for text, best first.
func searchRefs(t *testing.T, s *Store, text string) []string {
	t.Helper()
	res, err := s.Search(context.Background(), SearchRequest{Text: text})
	if err != nil {
		t.Fatalf("search %q: %v", text, err)
	}
	var refs []string
	for _, h := range res.Hits {
		refs = append(refs, h.Ref)
	}
	return refs
}
